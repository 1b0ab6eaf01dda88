#!/usr/bin/env bash
# The `CARGO` the interop harness hands to oa-validate for the local lanes (cargo::test honours
# CARGO): cargo at the lowest priority, and `cargo test` with the harness's cheap release
# profile (--release; the CARGO_PROFILE_RELEASE_* variables run.sh exports), so the lanes reuse
# what prebuild compiled instead of a cold debug build of the runtime inside the check's timeout.
# INTEROP_TEST_RELEASE=0 runs the lanes' commands unchanged (a debug build).
set -euo pipefail
real=${INTEROP_REAL_CARGO:-cargo}
if [[ ${1:-} == test && ${INTEROP_TEST_RELEASE:-1} == 1 ]]; then
  shift
  exec nice -n 19 "$real" test --release "$@"
fi
exec nice -n 19 "$real" "$@"
