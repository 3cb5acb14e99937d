#!/usr/bin/env bash
# Fetch the Open Bandit Dataset sample (ZOZOTOWN; Saito, Aihara, Matsutani & Narita, NeurIPS 2021
# Datasets and Benchmarks; licence CC BY 4.0) from the PyPI package obp==0.4.1 into data/obd/.
# Idempotent: does nothing if data/obd/random/all/all.csv is already present and verified.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

DEST=data/obd
TARGET="$DEST/random/all/all.csv"
EXPECTED_SHA256=7168295b6e0a9eabcf3392320a5dd434e542b68e705d5cd9491499af589812f1

sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
}

if [ ! -f "$TARGET" ]; then
    ensure_pip
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    echo "fetch-data: downloading obp==0.4.1 from PyPI" >&2
    python3 -m pip download --quiet --no-deps --disable-pip-version-check "obp==0.4.1" -d "$tmp/dl"
    python3 - "$tmp/dl" "$tmp/stage" <<'PY'
import os, shutil, sys, tarfile, zipfile

dl, stage = sys.argv[1], sys.argv[2]
files = [os.path.join(dl, f) for f in os.listdir(dl)]
if len(files) != 1:
    sys.exit(f"fetch-data: expected one downloaded file, got {files}")
archive = files[0]
marker = "obp/dataset/obd/"

def safe_rel(name):
    # path of the member below obp/dataset/obd/, or None
    name = name.replace("\\", "/")
    i = name.find(marker)
    if i < 0 or name.endswith("/"):
        return None
    rel = name[i + len(marker):]
    parts = rel.split("/")
    if not rel or any(p in ("", ".", "..") for p in parts) or parts[-1] == ".DS_Store":
        return None
    return rel

count = 0
if archive.endswith(".whl") or zipfile.is_zipfile(archive):
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            rel = safe_rel(info.filename)
            if rel is None:
                continue
            out = os.path.join(stage, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            count += 1
elif tarfile.is_tarfile(archive):
    with tarfile.open(archive) as t:
        for m in t.getmembers():
            if not m.isfile():
                continue
            rel = safe_rel(m.name)
            if rel is None:
                continue
            out = os.path.join(stage, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with t.extractfile(m) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            count += 1
else:
    sys.exit(f"fetch-data: unrecognised archive {archive}")
if count == 0:
    sys.exit(f"fetch-data: no {marker} files in {archive}")
print(f"fetch-data: extracted {count} files", file=sys.stderr)
PY
    for f in random/all/all.csv random/all/item_context.csv bts/all/all.csv bts/all/item_context.csv; do
        if [ ! -f "$tmp/stage/$f" ]; then
            echo "fetch-data: ERROR: $f missing from the obp==0.4.1 package" >&2
            exit 1
        fi
    done
    mkdir -p "$DEST"
    cp -R "$tmp/stage/." "$DEST/"
fi

got="$(sha256_of "$TARGET")"
if [ "$got" != "$EXPECTED_SHA256" ]; then
    echo "fetch-data: ERROR: sha256 of $TARGET is $got, expected $EXPECTED_SHA256" >&2
    echo "fetch-data: delete data/obd and run again" >&2
    exit 1
fi
