#!/usr/bin/env bash
# Creates the throwaway Python venv of the OPE cross-check (obp 0.4.1 and its pins) at ${VENV:-/tmp/venv-obp}.
#   benchmarks/ope-obp/setup-venv.sh            # then: /tmp/venv-obp/bin/python benchmarks/ope-obp/crosscheck.py ...
# PYTHON (default python3.11, else python3) makes the venv; TORCH overrides the torch requirement.
# Reuses an existing venv in which `import obp` already works (and reports obp 0.4.1); set FRESH=1 to rebuild.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${VENV:-/tmp/venv-obp}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
TORCH="${TORCH:-}"

if [ "${FRESH:-0}" != 1 ] && [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c 'import obp, sys; sys.exit(obp.__version__ != "0.4.1")' 2>/dev/null; then
    echo "setup-venv: $VENV already has obp 0.4.1" >&2
    exit 0
fi

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)

# torch first: the CPU-only wheel where pip can find it, else PyPI's default wheel of the same version.
if [ -n "$TORCH" ]; then
    "${pip[@]}" install "$TORCH" -r "$here/requirements.txt"
elif ! "${pip[@]}" install "torch==2.13.0+cpu" -r "$here/requirements.txt"; then
    echo "setup-venv: torch==2.13.0+cpu is not available here; installing torch==2.13.0 (with its CUDA libraries)" >&2
    "${pip[@]}" install "torch==2.13.0" -r "$here/requirements.txt"
fi

"$VENV/bin/python" - <<'PY'
import warnings
warnings.simplefilter("ignore")
import numpy, obp, pandas, sklearn, torch
assert obp.__version__ == "0.4.1", obp.__version__
print(f"setup-venv: obp {obp.__version__}, numpy {numpy.__version__}, pandas {pandas.__version__}, "
      f"scikit-learn {sklearn.__version__}, torch {torch.__version__}")
PY
echo "setup-venv: ready: $VENV/bin/python" >&2
