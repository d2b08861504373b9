#!/usr/bin/env bash
# The quickstart: builds particle, then walks a state directory from nothing to a verified,
# pinned snapshot of a Debian archive. MIRROR (default ../shared/debian-mirror) and KEYRING may be
# overridden; STATE (default a fresh temp dir) is where particle keeps everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cargo build -j2 --release -p particle-cli
particle="$PWD/target/release/particle"
MIRROR="${MIRROR:-$(cd .. && pwd)/shared/debian-mirror}"
KEYRING="${KEYRING:-$MIRROR/keyring/debian-archive-keyring.gpg}"
STATE="${STATE:-$(mktemp -d /tmp/particle-quickstart.XXXXXX)}"
export PARTICLE_ROOT="$STATE"
run() { printf '\n$ %s\n' "$*" >&2; "$@"; }
run "$particle" init
run "$particle" repo add debian --uri "file://$MIRROR" --suite bookworm --component main --arch amd64 --keyring "$KEYRING"
run "$particle" repo update
run "$particle" repo list
run "$particle" store verify
echo "quickstart: state directory is $STATE" >&2
