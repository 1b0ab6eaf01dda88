#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after another, at low priority.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]. Findings are saved under fuzz/crashes/ and make
# the script exit 1; every one found so far has a regression test (docs/reliability.md).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(json_pointer redact har plan html_rows)
fi
cargo build --release --example fuzz || exit 2
status=0
for t in "${targets[@]}"; do
    nice -n 10 target/release/examples/fuzz "$t" "$seconds" || status=1
done
exit $status
