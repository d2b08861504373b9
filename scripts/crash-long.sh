#!/usr/bin/env bash
# The long run of the crash harness (tests/it/crash.rs): N kill -9s (default 200) of real
# transactions on the shared mirror, every recovery checked. CI runs 20 of them as part of the
# normal test suite. A fresh state directory is used every 20 kills.
#
#   bash scripts/crash-long.sh [N] [SEED]
#
# The seed (hex) is printed at the start; pass it back to replay the same kills after a failure.
# Takes roughly N × 20–40 s on this machine (a kill late in a transaction costs a whole compose).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export PARTICLE_MIRROR="${PARTICLE_MIRROR:-$(cd .. && pwd)/shared/debian-mirror}"
export PARTICLE_CRASH_KILLS="${1:-200}"
if [ -n "${2:-}" ]; then
  export PARTICLE_CRASH_SEED="$2"
fi
exec cargo test -j"${CARGO_BUILD_JOBS:-2}" -p particle-cli --test it -- \
  crash::kill9_at_every_phase_recovers_to_before_or_after --exact --nocapture
