#!/usr/bin/env bash
# Start-up and control-lane wall times of the release binary, as medians (hyperfine).
# Installs hyperfine from Debian's packages when missing. Usage: benches/run.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"

if ! command -v hyperfine >/dev/null; then
    apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null
fi
cargo build --release --quiet
bin=target/release/oa-validate
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

hyperfine --warmup 3 --runs "$runs" -N --export-json "$out/startup.json" \
    "$bin --version" \
    "$bin list" \
    "$bin check" \
    "$bin --sim lanes/control.rhai --out $out/ev --no-progress"
{
    echo "# Start-up and control lane ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))"
    echo
    echo "| command | median ms | min ms | max ms | runs |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    python3 - "$out/startup.json" "$out" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    cmd = r["command"].replace(sys.argv[2], "$TMP")
    print(f"| `{cmd}` | {r['median']*1000:.1f} | {r['min']*1000:.1f} | {r['max']*1000:.1f} | {len(r['times'])} |")
PY
} | tee benches/RESULTS.md
