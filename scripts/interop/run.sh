#!/usr/bin/env bash
# Interop harness: oa-validate's whole gate against upstream's real services.
#
#   scripts/interop/run.sh UPSTREAM_GIT_DIR [COMMIT[:PHASE]...]
#
# For each commit (default: 6b173e913a d29e2a788f) it checks upstream out into scratch space
# (prepare.sh: workspace trimmed to the control service and the runtime, no git dependencies),
# builds both services with a cheap release profile (build.sh, nice 19), prebuilds the runtime's
# tests for the local lanes, then starts SEPARATE staging and prod instances on 127.0.0.1
# (control service with mock auth, an admin user, upstream's static layout with the htmx
# asset from the npm package htmx.org; runtime with in-memory stores), Google-shaped fakes
# (google_fake.py: OAuth token + Gmail; `oa-validate sim`: Cloud Run Admin v2 + Cloud Logging),
# signs in through upstream's mock-auth API (/api/auth/email + /api/auth/verify), connects
# Gmail through the OAuth callback, and runs `oa-validate --gate` for the commit's phase.
# For the app-surface era it also runs the HTMX browser smoke without a token and the
# negative controls. Results: INTEROP_OUT/results.tsv and INTEROP_OUT/interop.md (the table
# docs/interop.md carries); each run's evidence folder beside them.
#
# Idempotent: checkouts, builds and test builds are reused (cargo decides what is stale); each
# invocation writes a new INTEROP_OUT. Every wait has a timeout; everything started is killed on
# exit. Only 127.0.0.1 traffic. Not part of .ci/run: it needs upstream's source.
#
# Environment (defaults):
#   INTEROP_WORK=/work/upstream-build   scratch: src-<commit>, bin-<commit>, target/ (shared)
#   INTEROP_OUT=$INTEROP_WORK/evidence/<UTC timestamp>
#   INTEROP_PORT_BASE=18700             ports base+1..base+20 must be free
#   OA_VALIDATE                         the oa-validate binary (default: on PATH, else this
#                                       repository's target/debug/oa-validate, built when missing)
#   INTEROP_TARGET_DIR=$INTEROP_WORK/target  cargo's target dir for every upstream build
#   INTEROP_TARGET_SEED                 copy this target dir first when INTEROP_TARGET_DIR is missing
#   CARGO_BUILD_JOBS=2                  upstream builds, always at nice 19
#   INTEROP_NEGATIVE=1                  0: skip the negative controls
#   INTEROP_TEST_RELEASE=1              0: the local lanes' cargo test in the debug profile
#   INTEROP_DOC                         also write the tables into this file's generated block
#                                       (docs/interop.md), between its BEGIN/END markers
#   INTEROP_MERGE                       earlier INTEROP_OUT folders (space-separated) whose runs
#                                       the tables include too
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit 2
}
[[ $# -ge 1 && $1 != -h && $1 != --help ]] || usage
git_dir=$(cd "$1" && pwd); shift
commits=("$@")
[[ ${#commits[@]} -gt 0 ]] || commits=(6b173e913a d29e2a788f)

WORK=${INTEROP_WORK:-/work/upstream-build}
PORT_BASE=${INTEROP_PORT_BASE:-18700}
OUT=${INTEROP_OUT:-$WORK/evidence/$(date -u +%Y%m%dT%H%M%SZ)}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
export INTEROP_TARGET_DIR=${INTEROP_TARGET_DIR:-$WORK/target}
# The cheap release profile, for build.sh, the test prebuild and the lanes' cargo test alike.
export CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_INCREMENTAL=false
mkdir -p "$WORK" "$OUT"
# A second target dir seeded from a built one (INTEROP_TARGET_SEED, copied once): lets two
# invocations build and run side by side without waiting on each other's cargo lock.
if [[ -n ${INTEROP_TARGET_SEED:-} && ! -d $INTEROP_TARGET_DIR ]]; then
  cp -a "$INTEROP_TARGET_SEED" "$INTEROP_TARGET_DIR.tmp" && mv "$INTEROP_TARGET_DIR.tmp" "$INTEROP_TARGET_DIR"
fi
log() { printf '[interop %s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/harness.log" >&2; }

# --- processes: every one started is recorded and killed on exit -----------------------------
PIDS=()
stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_bg() { # start_bg VAR LOGFILE CMD...: runs CMD in the background, its pid in VAR
  local __var=$1 __logf=$2; shift 2
  "$@" >"$__logf" 2>&1 &
  local __pid=$!
  PIDS+=("$__pid")
  printf -v "$__var" '%s' "$__pid"
}

wait_http() { # wait_http URL SECONDS [PID]: until URL answers 2xx
  local url=$1 secs=$2 pid=${3:-} deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then log "process $pid exited while waiting for $url"; return 1; fi
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.5
  done
  log "timeout after ${secs}s waiting for $url"; return 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- oa-validate ---------------------------------------------------------------------------
if [[ -z ${OA_VALIDATE:-} ]]; then
  if command -v oa-validate >/dev/null; then OA_VALIDATE=$(command -v oa-validate)
  else
    [[ -x $repo/target/debug/oa-validate ]] || (cd "$repo" && timeout 3600 nice -n 19 cargo build --bin oa-validate)
    OA_VALIDATE=$repo/target/debug/oa-validate
  fi
fi
log "oa-validate: $OA_VALIDATE ($("$OA_VALIDATE" --version)), sha256 $(sha256sum "$OA_VALIDATE" | cut -c1-16)"
log "evidence: $OUT"

# The real interpreter, not a shim (a pyenv shim may fork: its pid would not be the server's).
PYTHON=$(python3 -c 'import sys; print(sys.executable)')

# htmx: the npm package htmx.org as scripts/setup.sh installs it into the per-user cache.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/oa-validate
htmx_js=$cache/htmx/node_modules/htmx.org/dist/htmx.min.js
[[ -f $htmx_js ]] || "$OA_VALIDATE" setup
[[ -f $htmx_js ]] || { log "htmx.org not installed at $htmx_js"; exit 1; }

read -r -a INTEROP_MERGE <<<"${INTEROP_MERGE:-}"
RESULTS=$OUT/results.tsv
RUNS=$OUT/runs.tsv
printf 'commit\trun\tcheck\tlevel\tstatus\treason\n' >"$RESULTS"
printf 'commit\tphase\trun\tkind\texit\tverdict\tfolder\texpect_check\texpect_reason\n' >"$RUNS"

# --- per-commit state ----------------------------------------------------------------------
P_SC=$((PORT_BASE + 1)) P_SR=$((PORT_BASE + 2)) P_PC=$((PORT_BASE + 11)) P_PR=$((PORT_BASE + 12)) P_G=$((PORT_BASE + 20))
# The Spacetime HTTP API the d29e runtime publishes every run event to (required at start,
# spacetime_publisher.rs; a failed publish fails the request with 500): the fake's
# POST /v1/database/{db}/call/{reducer}.
P_SPACETIME=$P_G
ADMIN_EMAIL=interop-admin@openagents.com
MEMBER_EMAIL=interop-member@openagents.com
GMAIL_ACCOUNT=interop-inbox@openagents.com
declare -A PID_OF=()

static_dir() { # static_dir SRC DEST: upstream's static layout (web-shell/build-dist.sh) without the wasm build
  local src=$1 dest=$2 shell
  rm -rf "$dest"; mkdir -p "$dest/assets"
  shell=$src/apps/openagents.com/web-shell
  python3 "$here/static_dir.py" "$shell" "$dest" "$htmx_js"
}

start_runtime() { # start_runtime NAME PORT [WRITE_MODE]
  local name=$1 port=$2 mode=${3:-rust_active} pid
  port_free "$port" || { log "port $port is taken"; return 1; }
  start_bg pid "$CUR_OUT/services/runtime-$name.log" env -i PATH="$PATH" HOME="$HOME" \
    RUNTIME_BIND_ADDR="127.0.0.1:$port" RUNTIME_SERVICE_NAME=runtime RUNTIME_BUILD_SHA="$CUR_COMMIT" \
    RUNTIME_AUTHORITY_WRITE_MODE="$mode" RUST_LOG=info \
    RUNTIME_SPACETIME_HTTP_BASE_URL="http://127.0.0.1:$P_SPACETIME" RUNTIME_SPACETIME_DATABASE=interop \
    RUNTIME_SPACETIME_OUTBOX_PATH="$CUR_OUT/services/spacetime-outbox-$name.jsonl" \
    "$CUR_BIN/openagents-runtime-service"
  PID_OF[runtime-$name]=$pid
  wait_http "http://127.0.0.1:$port/healthz" 60 "$pid"
}

start_control() { # start_control NAME PORT RUNTIME_PORT STATIC_DIR
  local name=$1 port=$2 rport=$3 static=$4 pid
  port_free "$port" || { log "port $port is taken"; return 1; }
  start_bg pid "$CUR_OUT/services/control-$name.log" env -i PATH="$PATH" HOME="$HOME" \
    OA_CONTROL_BIND_ADDR="127.0.0.1:$port" OA_CONTROL_STATIC_DIR="$static" \
    OA_AUTH_PROVIDER_MODE=mock OA_AUTH_MOCK_MAGIC_CODE=123456 \
    OA_ADMIN_EMAILS="$ADMIN_EMAIL" \
    OA_SYNC_TOKEN_SIGNING_KEY="interop-sync-signing-key-$name-0123456789abcdef" \
    OA_RUNTIME_BASE_URL="http://127.0.0.1:$rport" OA_RUNTIME_ELIXIR_BASE_URL="http://127.0.0.1:$rport" \
    GOOGLE_OAUTH_CLIENT_ID=interop-client.apps.googleusercontent.com \
    GOOGLE_OAUTH_CLIENT_SECRET="interop-client-secret-$name" \
    GOOGLE_OAUTH_REDIRECT_URI="http://127.0.0.1:$port/settings/integrations/google/callback" \
    GOOGLE_OAUTH_TOKEN_URL="http://127.0.0.1:$P_G/token" \
    GOOGLE_GMAIL_API_BASE_URL="http://127.0.0.1:$P_G" \
    "$CUR_BIN/openagents-control-service"
  PID_OF[control-$name]=$pid
  wait_http "http://127.0.0.1:$port/healthz" 60 "$pid"
}

stop_named() { local n=$1; [[ -n ${PID_OF[$n]:-} ]] && stop_pid "${PID_OF[$n]}"; unset "PID_OF[$n]"; }

sign_in() { # sign_in PORT EMAIL -> prints the access token (upstream's mock-auth API)
  python3 "$here/sign_in.py" "http://127.0.0.1:$1" "$2"
}

connect_gmail() { # connect_gmail PORT TOKEN: OAuth redirect + callback against the fake token endpoint
  python3 "$here/connect_gmail.py" "http://127.0.0.1:$1" "$2"
}

# run_oav RUN_NAME KIND EXPECT_CHECK EXPECT_REASON_REGEX -- oa-validate args...
run_oav() {
  local name=$1 kind=$2 expect_check=$3 expect_reason=$4; shift 5
  local folder=$CUR_OUT/$name rc=0
  log "run $name: oa-validate $*"
  (
    cd "$CUR_OUT"
    timeout "${INTEROP_RUN_TIMEOUT:-3600}" env "${GATE_ENV[@]}" \
      "$OA_VALIDATE" "$@" --out "$folder" >"$CUR_OUT/$name.out" 2>&1
  ) || rc=$?
  local verdict
  verdict=$(python3 "$here/collect.py" "$folder" "$CUR_COMMIT" "$name" >>"$RESULTS" && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"]["decision"])' "$folder/summary.json" 2>/dev/null || echo "none")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$CUR_COMMIT" "$CUR_PHASE" "$name" "$kind" "$rc" "$verdict" "$name" "$expect_check" "$expect_reason" >>"$RUNS"
  log "run $name: exit $rc, verdict $verdict"
}

# --- negative controls: each must be NO-GO, failing the named check for the named reason ------
negative_controls() {
  local sel=(--phase "$CUR_PHASE" --allow-prod-mutations)
  GATE_ENV=(-i "${BASE_ENV[@]}" STAGING_CONTROL_ACCESS_TOKEN="$STAGING_TOKEN" PROD_CONTROL_ACCESS_TOKEN="$PROD_TOKEN")

  log "== $short: negative control: staging runtime down"
  stop_named runtime-staging
  run_oav neg-runtime-down negative runtime-staging-smoke 'Connection refused|connect|unreachable' -- \
    "${sel[@]}" --check runtime-staging-smoke
  if [[ $CUR_PHASE == app-surface ]]; then
    log "== $short: negative control: /stats with the staging runtime down"
    run_oav neg-stats-runtime-down negative public-stats-staging 'unavailable|-' -- \
      "${sel[@]}" --check public-stats-staging
  fi

  log "== $short: negative control: read-only staging runtime (RUNTIME_AUTHORITY_WRITE_MODE=read_only)"
  start_runtime staging "$P_SR" read_only
  run_oav neg-runtime-read-only negative runtime-staging-smoke '503' -- \
    "${sel[@]}" --check runtime-staging-smoke
  stop_named runtime-staging
  start_runtime staging "$P_SR"

  if [[ $CUR_PHASE != app-surface ]]; then
    log "== $short: negative control: Spacetime reducer calls answer 503"
    curl -fsS --max-time 5 "http://127.0.0.1:$P_G/__fault?spacetime=503" >/dev/null
    run_oav neg-spacetime-503 negative runtime-staging-smoke '500' -- \
      "${sel[@]}" --check runtime-staging-smoke
    curl -fsS --max-time 5 "http://127.0.0.1:$P_G/__fault?spacetime=off" >/dev/null
  fi

  log "== $short: negative control: the Gmail fake answers 500"
  curl -fsS --max-time 5 "http://127.0.0.1:$P_G/__fault?gmail=500" >/dev/null
  run_oav neg-gmail-500 negative gmail-staging-inbox-threads '503' -- \
    "${sel[@]}" --check gmail-staging-inbox-threads
  curl -fsS --max-time 5 "http://127.0.0.1:$P_G/__fault?gmail=off" >/dev/null

  if [[ $CUR_PHASE == app-surface ]]; then
    log "== $short: negative control: a non-admin token for the route-group canary"
    local member
    member=$(sign_in "$P_SC" "$MEMBER_EMAIL")
    GATE_ENV=(-i "${BASE_ENV[@]}" STAGING_CONTROL_ACCESS_TOKEN="$member" PROD_CONTROL_ACCESS_TOKEN="$PROD_TOKEN")
    run_oav neg-canary-non-admin negative control-staging-htmx-route-group-canary '403' -- \
      "${sel[@]}" --check control-staging-htmx-route-group-canary

    log "== $short: negative control: htmx asset missing from the staging static dir"
    local asset=$CUR_OUT/static-staging/assets/htmx-2_0_8-22283ef6.js
    mv "$asset" "$asset.removed"
    GATE_ENV=(-i "${BASE_ENV[@]}" OA_SMOKE_LOGIN_CODE=123456 OA_SMOKE_EMAIL="$ADMIN_EMAIL")
    run_oav neg-htmx-missing negative control-staging-htmx-browser-smoke 'htmx' -- \
      "${sel[@]}" --check control-staging-htmx-browser-smoke
    mv "$asset.removed" "$asset"
  fi
}

select_commit() { # select_commit SPEC: the per-commit variables
  local spec=$1
  CUR_COMMIT=$(git --git-dir="$git_dir" rev-parse --verify "${spec%%:*}^{commit}")
  short=${CUR_COMMIT:0:10}
  src=$WORK/src-${CUR_COMMIT:0:4}
  CUR_BIN=$WORK/bin-${CUR_COMMIT:0:4}
  CUR_OUT=$OUT/$short
  mkdir -p "$CUR_OUT/services"
}

# Stage 1: every commit is checked out and built (services and the runtime's tests) before any
# run, so no build holds cargo's target-dir lock while a local lane's cargo test waits for it.
for spec in "${commits[@]}"; do
  select_commit "$spec"
  log "== $short: prepare"
  "$here/prepare.sh" "$git_dir" "$CUR_COMMIT" "$src"
  log "== $short: build"
  t0=$SECONDS
  "$here/build.sh" "$src" "$CUR_BIN" >"$CUR_OUT/build.log" 2>&1 || { tail -n 20 "$CUR_OUT/build.log" >&2; log "build failed"; exit 1; }
  log "build step: $((SECONDS - t0))s (cold build time in $CUR_BIN/.build-seconds: $(cat "$CUR_BIN/.build-seconds" 2>/dev/null || echo ?)s)"
  log "== $short: prebuild the runtime's tests (what the local lanes run)"
  t0=$SECONDS
  release=(); [[ ${INTEROP_TEST_RELEASE:-1} == 1 ]] && release=(--release)
  (cd "$src" && CARGO_TARGET_DIR=$INTEROP_TARGET_DIR nice -n 19 timeout "${INTEROP_BUILD_TIMEOUT:-5400}" \
    cargo test "${release[@]}" --manifest-path apps/runtime/Cargo.toml --no-run) >"$CUR_OUT/test-prebuild.log" 2>&1 \
    || { log "test prebuild failed (see $CUR_OUT/test-prebuild.log); the local lanes will report it"; }
  log "test prebuild: $((SECONDS - t0))s"
done

# Stage 2: per commit, the services, the gate, the extra runs and the negative controls.
for spec in "${commits[@]}"; do
  select_commit "$spec"
  if [[ $spec == *:* ]]; then CUR_PHASE=${spec#*:}
  elif [[ $(cat "$src/.interop-control-path") == apps/openagents.com/service ]]; then CUR_PHASE=app-surface
  else CUR_PHASE=spacetime-convergence; fi
  log "== $short: start fakes and services (phase $CUR_PHASE)"
  for p in $P_SC $P_SR $P_PC $P_PR $P_G; do port_free "$p" || { log "port $p is taken: set INTEROP_PORT_BASE"; exit 1; }; done
  start_bg gpid "$CUR_OUT/services/google-fake.log" "$PYTHON" "$here/google_fake.py" "$P_G"
  PID_OF[google]=$gpid
  wait_http "http://127.0.0.1:$P_G/__requests" 20 "$gpid"
  start_bg spid "$CUR_OUT/services/oa-validate-sim.log" "$OA_VALIDATE" sim --phase "$CUR_PHASE"
  PID_OF[sim]=$spid
  deadline=$((SECONDS + 60))
  until grep -q '^export OA_TEST_AGENT_ID=' "$CUR_OUT/services/oa-validate-sim.log" 2>/dev/null; do
    ((SECONDS < deadline)) && kill -0 "$spid" 2>/dev/null || { log "oa-validate sim did not start"; exit 1; }
    sleep 0.5
  done
  simvar() { sed -n "s/^export $1=//p" "$CUR_OUT/services/oa-validate-sim.log" | head -n 1; }
  static_dir "$src" "$CUR_OUT/static-staging"
  static_dir "$src" "$CUR_OUT/static-prod"
  start_runtime staging "$P_SR"
  start_runtime prod "$P_PR"
  start_control staging "$P_SC" "$P_SR" "$CUR_OUT/static-staging"
  start_control prod "$P_PC" "$P_PR" "$CUR_OUT/static-prod"
  wait_http "http://127.0.0.1:$P_SC/readyz" 30
  wait_http "http://127.0.0.1:$P_PC/readyz" 30

  log "== $short: sign in (mock auth) and connect Gmail (fake OAuth)"
  STAGING_TOKEN=$(sign_in "$P_SC" "$ADMIN_EMAIL")
  PROD_TOKEN=$(sign_in "$P_PC" "$ADMIN_EMAIL")
  connect_gmail "$P_SC" "$STAGING_TOKEN" | tee -a "$OUT/harness.log" >&2
  connect_gmail "$P_PC" "$PROD_TOKEN" | tee -a "$OUT/harness.log" >&2

  BASE_ENV=(
    PATH="$PATH" HOME="$HOME" NO_COLOR=1 CI=1
    STAGING_CONTROL_BASE_URL="http://127.0.0.1:$P_SC" PROD_CONTROL_BASE_URL="http://127.0.0.1:$P_PC"
    STAGING_RUNTIME_BASE_URL="http://127.0.0.1:$P_SR" PROD_RUNTIME_BASE_URL="http://127.0.0.1:$P_PR"
    OA_CLOUD_RUN_ENDPOINT="$(simvar OA_CLOUD_RUN_ENDPOINT)" OA_LOGGING_ENDPOINT="$(simvar OA_LOGGING_ENDPOINT)"
    OA_GOOGLE_ACCESS_TOKEN="$(simvar OA_GOOGLE_ACCESS_TOKEN)" OA_TEST_AGENT_ID="$(simvar OA_TEST_AGENT_ID)"
    OA_REPO_ROOT="$src" OA_GMAIL_TEST_ACCOUNT="$GMAIL_ACCOUNT"
    CARGO="$here/nice-cargo.sh" CARGO_TARGET_DIR="$INTEROP_TARGET_DIR" CARGO_BUILD_JOBS="$CARGO_BUILD_JOBS"
    CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_INCREMENTAL=false
    INTEROP_TEST_RELEASE="${INTEROP_TEST_RELEASE:-1}"
  )
  [[ -n ${XDG_CACHE_HOME:-} ]] && BASE_ENV+=(XDG_CACHE_HOME="$XDG_CACHE_HOME")
  GATE_ENV=(-i "${BASE_ENV[@]}" STAGING_CONTROL_ACCESS_TOKEN="$STAGING_TOKEN" PROD_CONTROL_ACCESS_TOKEN="$PROD_TOKEN")

  log "== $short: the gate"
  run_oav gate gate - - -- --gate --phase "$CUR_PHASE" --allow-prod-mutations

  if [[ $CUR_PHASE == app-surface ]]; then
    log "== $short: HTMX browser smoke without a token (login flow, mock magic code)"
    GATE_ENV=(-i "${BASE_ENV[@]}" OA_SMOKE_LOGIN_CODE=123456 OA_SMOKE_EMAIL=interop-smoke@openagents.com)
    run_oav browser-smoke-no-token run - - -- --phase app-surface --allow-prod-mutations \
      --check control-staging-htmx-browser-smoke --check control-prod-htmx-browser-smoke
  fi

  if [[ ${INTEROP_NEGATIVE:-1} == 1 ]]; then
    negative_controls
  fi

  for n in "${!PID_OF[@]}"; do stop_named "$n"; done
done

python3 "$here/render.py" "${INTEROP_MERGE[@]}" "$OUT" >"$OUT/interop.md"
log "results: $OUT/interop.md"
if [[ -n ${INTEROP_DOC:-} ]]; then
  # Replace the generated block of the results document (docs/interop.md) with these tables.
  python3 - "$INTEROP_DOC" "$OUT/interop.md" <<'PY'
import re, sys
doc, tables = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
new = re.sub(r"(<!-- BEGIN GENERATED RESULTS -->\n).*?(<!-- END GENERATED RESULTS -->)",
             lambda m: m.group(1) + tables + m.group(2), text, flags=re.S)
assert new != text or tables in text, "no generated block in " + doc
open(doc, "w").write(new)
PY
  log "updated $INTEROP_DOC"
fi
