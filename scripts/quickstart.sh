#!/usr/bin/env bash
# The quickstart: builds particle, then walks a fresh state directory from nothing to verified,
# journaled OSTree commits of a real Debian system.
#
#   MIRROR   archive to use (default: ../shared/debian-mirror; set MIRROR=host to use the host's
#            own apt sources via `particle repo import-apt`)
#   KEYRING  keyring for MIRROR (default: its keyring/debian-archive-keyring.gpg)
#   STATE    state directory (default: a fresh temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
# particle, particle-full, and the GRUB generator its package carries (a `machine` program).
cargo build -j2 --release -p particle-cli -p machine
particle="$PWD/target/release/particle"
MIRROR="${MIRROR:-$(cd .. && pwd)/shared/debian-mirror}"
STATE="${STATE:-$(mktemp -d /tmp/particle-quickstart.XXXXXX)}"
export PARTICLE_ROOT="$STATE"
run() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }

run "$particle" init
if [ "$MIRROR" = host ]; then
  run "$particle" repo import-apt
else
  KEYRING="${KEYRING:-$MIRROR/keyring/debian-archive-keyring.gpg}"
  # Every component: the server and gaming variants' hardware rules install CPU microcode and
  # firmware from non-free-firmware, and a definition naming a package no source has is refused.
  run "$particle" repo add debian --uri "file://$MIRROR" --suite bookworm --component main \
    --component contrib --component non-free --component non-free-firmware --arch amd64 \
    --keyring "$KEYRING"
fi
run "$particle" repo update
run "$particle" repo list
run "$particle" txn install --reason "quickstart: a first system" hello
run "$particle" txn install --reason "quickstart: add jq" jq
run "$particle" status
run "$particle" txn log
run "$particle" why libjq1
run "$particle" txn rollback --reason "quickstart: back to before jq"
run "$particle" txn diff 2 3
run "$particle" txn log
run "$particle" txn verify
run "$particle" replay --into "$STATE-replayed" --verify
# Variants as code: the server variant, defined in variants/bosom.toml, built on base's head.
run "$particle" variant apply --reason "quickstart: a server variant" variants/bosom.toml
run "$particle" variant list
run ostree --repo="$STATE/ostree/repo" log particle-os/base
# A machine: base as variants/base.toml defines it (kernel, initramfs-tools with particle's
# OSTree hook, GRUB), written to a disk that boots with BIOS or UEFI, booted under qemu to the
# login prompt on its serial console (docs/boot.md). root's password in this image: particle.
run "$particle" variant apply --reason "quickstart: a bootable base" variants/base.toml
IMAGE="${IMAGE:-$STATE-base.raw}"
rm -f "$IMAGE"
run "$particle" image --variant base --karg console=ttyS0,115200 \
  --root-password-hash "$(openssl passwd -6 -salt quickstart particle)" "$IMAGE"
run bash scripts/boot-image.sh "$IMAGE" bios
echo >&2
echo "quickstart done: state directory $STATE (replayed copy in $STATE-replayed)" >&2
echo "disk image $IMAGE (root password: particle); log in on its console with" >&2
echo "  bash scripts/boot-image.sh $IMAGE bios --interactive" >&2
