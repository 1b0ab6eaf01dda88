#!/usr/bin/env bash
# Installs what the HTMX lanes need and nothing else, only when it is missing:
#   - a Chromium for browser:: (Debian's `chromium`; never a browser download of its own)
#   - the htmx library the simulated deployment serves (npm package `htmx.org`) into the
#     per-user cache folder OA_SETUP_HTMX_PREFIX (oa-validate passes
#     $XDG_CACHE_HOME/oa-validate/htmx, else ~/.cache/oa-validate/htmx)
# Idempotent and quiet when everything is present. The binary carries this script and runs it
# (`oa-validate setup`, and `--sim`/`sim` when something is missing); it needs no checkout.
set -euo pipefail

: "${OA_SETUP_HTMX_PREFIX:?OA_SETUP_HTMX_PREFIX must name the htmx install folder (run oa-validate setup)}"
HTMX_VERSION="${OA_HTMX_VERSION:-2.0.8}"  # the version upstream pins (web-shell/vendor/htmx-2.0.8.min.js)

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
APT_UPDATED=
apt_install() {
    if [ -z "$APT_UPDATED" ]; then
        $SUDO apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "$@" >/dev/null
}

have_chromium() {
    if [ -n "${OA_CHROMIUM:-}" ]; then
        [ -x "$OA_CHROMIUM" ] || command -v "$OA_CHROMIUM" >/dev/null 2>&1
        return
    fi
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
        command -v google-chrome >/dev/null 2>&1
}

if ! have_chromium; then
    echo "setup: installing Debian's chromium (apt-get)" >&2
    apt_install chromium
fi

if [ ! -f "$OA_SETUP_HTMX_PREFIX/node_modules/htmx.org/dist/htmx.min.js" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "setup: installing Debian's npm (apt-get)" >&2
        apt_install npm
    fi
    echo "setup: installing htmx.org@${HTMX_VERSION} from the npm registry into $OA_SETUP_HTMX_PREFIX" >&2
    mkdir -p "$OA_SETUP_HTMX_PREFIX"
    npm install --prefix "$OA_SETUP_HTMX_PREFIX" --no-save --no-audit --no-fund --loglevel=error \
        "htmx.org@${HTMX_VERSION}" >&2
fi
