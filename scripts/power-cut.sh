#!/usr/bin/env bash
# The long run of the power-cut test (tests/it/powercut.rs): N points (default 10), alternately
# inside a staged `particle txn install jq` on a booted image and inside its finalization at
# shutdown, qemu killed each time and the machine booted again and checked. CI runs 2 of them.
#
#   bash scripts/power-cut.sh [N] [SEED]
#
# The seed is printed at the start; pass it back to replay the same cut times. Each point costs
# two boots: about 3 minutes under TCG on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export PARTICLE_MIRROR="${PARTICLE_MIRROR:-$(cd .. && pwd)/shared/debian-mirror}"
export PARTICLE_POWER_CUTS="${1:-10}"
if [ -n "${2:-}" ]; then
  export PARTICLE_POWER_CUT_SEED="$2"
fi
exec cargo test -j"${CARGO_BUILD_JOBS:-2}" -p particle-cli --test it -- \
  powercut:: --nocapture
