#!/usr/bin/env bash
# prepare.sh UPSTREAM_GIT_DIR COMMIT SRC_DIR
# Checks upstream COMMIT out into SRC_DIR (once) and trims its workspace in that scratch copy so
# the control service and the runtime resolve with crates.io only (no git dependencies):
#   - workspace members: the control service and apps/runtime only (path deps join by themselves)
#   - nostr-client's dev-dependency on openagents-spark (-> breez-sdk-spark, a git dependency)
#     is dropped: dev-dependencies of path members are resolved too.
#   - nostr (core): its optional openagents-spark dependency and the feature enabling it.
#   - protobuf-src: our stand-in using the system protoc (INTEROP_PROTOC=system, default).
# Nothing here is committed: SRC_DIR is scratch space outside the repository.
set -euo pipefail
git_dir=$1 commit=$2 src=$3
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
stamp="checkout-v2 ${INTEROP_PROTOC:-system} $commit"
if [[ -f $src/.interop-prepared && $(cat "$src/.interop-prepared") == "$stamp" ]]; then
  exit 0
fi
rm -rf "$src"
# A standalone checkout sharing the mirror's objects (nothing is written to the mirror), so the
# local lanes record upstream's commit (`git rev-parse HEAD` of apps/runtime, untouched here).
git clone -q --shared --no-checkout "$git_dir" "$src"
git -C "$src" -c advice.detachedHead=false checkout -q --detach "$commit"
cd "$src"
if [[ -f apps/openagents.com/service/Cargo.toml ]]; then control=apps/openagents.com/service; else control=apps/openagents.com; fi
python3 - "$control" <<'PY'
import re, sys
control = sys.argv[1]
text = open("Cargo.toml").read()
new = re.sub(r'members = \[.*?\]', 'members = [\n    "%s",\n    "apps/runtime",\n]' % control, text, count=1, flags=re.S)
assert new != text, "workspace members not found"
open("Cargo.toml", "w").write(new)
PY
# nostr (core): the optional `spark` dependency (openagents-spark -> breez-sdk-spark, git) and the
# feature enabling it: optional dependencies are resolved even when off.
f=crates/nostr/core/Cargo.toml
if [[ -f $f ]]; then
  python3 - "$f" <<'PY'
import re, sys
p = sys.argv[1]
t = open(p).read()
t = re.sub(r'^spark-integration *=.*\n', '', t, flags=re.M)
t = re.sub(r'^\[dependencies\.spark\]\n(?:[^\[\n].*\n|\n)*', '', t, flags=re.M)
open(p, "w").write(t)
PY
fi
f=crates/nostr/client/Cargo.toml
if [[ -f $f ]]; then
  python3 - "$f" <<'PY'
import re, sys
p = sys.argv[1]
t = open(p).read()
head, sep, rest = t.partition("[dev-dependencies]")
if sep:
    rest = re.sub(r'^openagents-spark *=.*\n', '', rest, flags=re.M)
open(p, "w").write(head + sep + rest)
PY
fi
# protobuf-src (build dependency of crates/openagents-proto) builds protoc from C++ source with
# cmake; INTEROP_PROTOC=system (default) patches in our stand-in that hands over the system
# protoc (Debian protobuf-compiler) instead; INTEROP_PROTOC=vendored keeps upstream's (needs cmake).
if [[ ${INTEROP_PROTOC:-system} == system ]] && grep -q '^name = "protobuf-src"' Cargo.lock 2>/dev/null; then
  command -v protoc >/dev/null || { echo "prepare: protoc not found (apt-get install protobuf-compiler, or INTEROP_PROTOC=vendored with cmake)" >&2; exit 2; }
  shim=$script_dir/shims/protobuf-src
  grep -q '^\[patch.crates-io\]' Cargo.toml && { echo "prepare: upstream already has [patch.crates-io]" >&2; exit 2; }
  printf '\n[patch.crates-io]\nprotobuf-src = { path = "%s" }\n' "$shim" >> Cargo.toml
fi
echo "$control" > .interop-control-path
echo "$stamp" > .interop-prepared
