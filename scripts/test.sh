#!/usr/bin/env bash
# All tests, from a fresh machine: system packages, a debug build, `swift test`.
# The tests use only committed fixtures (Tests/Fixtures), no network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing "$@"
