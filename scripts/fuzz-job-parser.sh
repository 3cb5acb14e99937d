#!/usr/bin/env bash
# A longer run of the job-file parser fuzz test (JobParserFuzzTests): mutated job files are parsed out of process
# by `causa parse-job --batch`, so an abort in the TOML library shows as a failed test naming the input.
#
#   scripts/fuzz-job-parser.sh [SECONDS_PER_SEED] [SEED...]
#
# Defaults: 600 s for each of the seeds 1, 2 and 3. The suite runs the same test for 40 s with seed 20261130.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-600}"
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
swift build --build-tests
for seed in "${seeds[@]}"; do
    echo "seed $seed, $seconds s"
    CAUSA_FUZZ_SEED="$seed" CAUSA_FUZZ_SECONDS="$seconds" \
        swift test --skip-build --disable-swift-testing --filter 'JobParserFuzzTests/testJobParserSurvivesMutatedJobFilesOutOfProcess' 2>&1 \
        | grep -E "fuzz:|error|passed|failed"
done
