#!/usr/bin/env bash
# Regenerates Sources/Cluster/Causa.pb.swift from Sources/Cluster/causa.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from the swift-protobuf version in Package.swift:
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0 \
#     && swift build -c release --product protoc-gen-swift
#   PROTOC_GEN_SWIFT=/path/to/swift-protobuf/.build/release/protoc-gen-swift scripts/generate-proto.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
[ -x "$plugin" ] || { echo "protoc-gen-swift not found; set PROTOC_GEN_SWIFT" >&2; exit 1; }
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal \
  --swift_out=Sources/Cluster -I Sources/Cluster Sources/Cluster/causa.proto
mv Sources/Cluster/causa.pb.swift Sources/Cluster/Causa.pb.swift
echo "wrote Sources/Cluster/Causa.pb.swift"
