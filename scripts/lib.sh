# Helpers shared by the set-up scripts (source this file; it defines functions only).

# Makes `python3 -m pip` available (Debian's python3-pip) for downloading packages from PyPI.
# pip is only a download client here; the product never runs Python.
ensure_pip() {
    python3 -m pip --version >/dev/null 2>&1 && return 0
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-pip
}
