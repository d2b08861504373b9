#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, the whole test suite, and a short bounded
# fuzz run. This is the README's test command and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export CARGO_TERM_COLOR=never
export PARTICLE_MIRROR="${PARTICLE_MIRROR:-$(cd .. && pwd)/shared/debian-mirror}"
jobs="${CARGO_BUILD_JOBS:-2}"
cargo fmt --all -- --check
cargo clippy -j"$jobs" --workspace --all-targets -- -D warnings
cargo test -j"$jobs" --workspace --no-fail-fast
if [ -x fuzz/run.sh ]; then
  bash fuzz/run.sh "${PARTICLE_FUZZ_SECONDS:-20}"
fi
