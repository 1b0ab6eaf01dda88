#!/usr/bin/env bash
# build.sh SRC_DIR BIN_DIR
# Builds upstream's control service and runtime from a prepared scratch copy (prepare.sh) with a
# cheap release profile, at the lowest priority, and copies the two binaries to BIN_DIR.
# Idempotent: cargo reuses the target folder (INTEROP_TARGET_DIR, shared by every commit so the
# dependencies compile once); a BIN_DIR with both binaries newer than the sources is kept as is.
set -euo pipefail
src=$1 bin=$2
control=$(cat "$src/.interop-control-path")
if [[ -x $bin/openagents-control-service && -x $bin/openagents-runtime-service && $bin/.built -nt $src/.interop-prepared ]]; then
  echo "build: reusing $bin"; exit 0
fi
mkdir -p "$bin"
export CARGO_TARGET_DIR=${INTEROP_TARGET_DIR:-$src/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
export CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_INCREMENTAL=false
start=$(date +%s)
(cd "$src" && nice -n 19 timeout "${INTEROP_BUILD_TIMEOUT:-5400}" cargo build --release \
  -p openagents-control-service --bin openagents-control-service \
  -p openagents-runtime-service --bin openagents-runtime-service)
cp "$CARGO_TARGET_DIR/release/openagents-control-service" "$CARGO_TARGET_DIR/release/openagents-runtime-service" "$bin/"
echo "$(( $(date +%s) - start ))" > "$bin/.build-seconds"
touch "$bin/.built"
echo "build: $src -> $bin in $(cat "$bin/.build-seconds")s"
