#!/usr/bin/env bash
# Installs what the HTMX lanes need and nothing else, only when it is missing:
#   - a Chromium for browser:: (Debian's `chromium`; never a browser download of its own)
#   - the htmx library the simulated deployment serves (npm package `htmx.org`, into
#     vendor/node_modules, which is git-ignored: installed, never committed)
# Idempotent and quiet when everything is present. Called by `cargo test` (once, from the
# test helper) and by `oa-validate --sim` when something is missing; safe to run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

HTMX_VERSION="${OA_HTMX_VERSION:-2.0.8}"  # the version upstream pins (web-shell/vendor/htmx-2.0.8.min.js)

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
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 chromium >/dev/null
fi

if [ ! -f vendor/node_modules/htmx.org/dist/htmx.min.js ]; then
    echo "setup: installing htmx.org@${HTMX_VERSION} from the npm registry into vendor/" >&2
    mkdir -p vendor
    npm install --prefix vendor --no-save --no-audit --no-fund --loglevel=error \
        "htmx.org@${HTMX_VERSION}" >&2
fi
