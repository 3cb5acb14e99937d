#!/usr/bin/env bash
# Checks that every Swift file is formatted as .swift-format says (swift-format ships with the toolchain as
# `swift format`); prints the files that are not and exits 1. `scripts/check-format.sh --fix` formats them in place.
# Generated protobuf code (Sources/Cluster/Causa.pb.swift) is left as protoc-gen-swift writes it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files '*.swift' ':!Sources/Cluster/Causa.pb.swift')
if [ "${1:-}" = "--fix" ]; then
    swift format --configuration .swift-format --in-place --parallel "${files[@]}"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "${files[@]}"; do
    mkdir -p "$tmp/$(dirname "$f")"
    cp "$f" "$tmp/$f"
done
(cd "$tmp" && swift format --configuration "$OLDPWD/.swift-format" --in-place --parallel "${files[@]}")
bad=0
for f in "${files[@]}"; do
    if ! cmp -s "$f" "$tmp/$f"; then
        echo "check-format: $f is not formatted (run scripts/check-format.sh --fix)" >&2
        bad=1
    fi
done
[ "$bad" -eq 0 ] && echo "check-format: ${#files[@]} files formatted as .swift-format says"
exit "$bad"
