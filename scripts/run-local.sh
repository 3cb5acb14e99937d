#!/usr/bin/env bash
# The main job, from a fresh machine: system packages, the OBD sample from PyPI, a release build, then
# `causa local` with a coordinator and two worker processes on this machine. Extra arguments go to `causa local`
# (e.g. --workers 5). Set JOB to run another job file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
JOB="${JOB:-config/jobs/obd-logit.toml}"
OUT="${OUT:-out/$(basename "$JOB" .toml)}"
scripts/install-deps.sh
scripts/fetch-data.sh
swift build -c release --product causa
exec .build/release/causa local --job "$JOB" --workers 2 --out "$OUT" "$@"
