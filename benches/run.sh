#!/usr/bin/env bash
# The performance harness: every figure of benches/RESULTS.md, measured in one run on this
# machine, as medians (hyperfine) and ratios. Installs what it needs from Debian's packages
# and crates.io when missing. Usage: benches/run.sh [RUNS]   (default 15)
# Environment: ROUNDS (per-request rounds, default 5), SECTIONS (a subset), BASELINE (another
# oa-validate binary to measure beside this one, e.g. main's).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUNS="${1:-15}"

need_apt=()
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v curl >/dev/null || need_apt+=(curl)
command -v jq >/dev/null || need_apt+=(jq)
if ! command -v hurl >/dev/null && ! [ -x "$HOME/.cargo/bin/hurl" ]; then
    need_apt+=(libcurl4-openssl-dev libclang-dev pkg-config)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v hurl >/dev/null && ! [ -x "$HOME/.cargo/bin/hurl" ]; then
    cargo install hurl@8.0.1 --locked
fi
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --release --quiet --bin oa-validate --example breakdown
exec python3 benches/bench.py
