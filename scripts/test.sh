#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, the whole test suite, and a short bounded
# fuzz run. This is the README's test command and what .ci/run calls. It ends with one line
# `tests: N passed, N failed, N skipped` summing every cargo test binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export CARGO_TERM_COLOR=never
export PARTICLE_MIRROR="${PARTICLE_MIRROR:-$(cd .. && pwd)/shared/debian-mirror}"
jobs="${CARGO_BUILD_JOBS:-2}"
cargo fmt --all -- --check
cargo clippy -j"$jobs" --workspace --all-targets -- -D warnings
# Dependency policy (deny.toml): these three need no network and fail on any violation.
cargo deny --log-level error check licenses bans sources
# Advisories need the RustSec database, fetched from GitHub. Where it cannot be fetched (this
# machine reaches only crates.io, PyPI and Debian), say so instead of reporting a pass.
if cargo deny --log-level error fetch db >/dev/null 2>&1; then
  cargo deny --log-level error check advisories
  echo "cargo deny: advisories checked against the RustSec database"
else
  echo "cargo deny: ADVISORIES NOT CHECKED: the RustSec advisory database could not be fetched (see docs/security.md)"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test -j"$jobs" --workspace --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(awk '/^test result:/ {
    for (i = 2; i <= NF; i++) {
      if ($i == "passed;") p += $(i-1); if ($i == "failed;") f += $(i-1); if ($i == "ignored;") s += $(i-1)
    }
  } END { printf "%d passed, %d failed, %d skipped", p, f, s }' "$log")
if [ "$status" -ne 0 ]; then
  echo "tests: $summary"
  exit "$status"
fi
if [ -x fuzz/run.sh ]; then
  bash fuzz/run.sh "${PARTICLE_FUZZ_SECONDS:-20}"
fi
echo "tests: $summary"
