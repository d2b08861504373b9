#!/usr/bin/env bash
# Seconds from power-on to the login prompt: the particle base image (particle image of
# variants/base.toml: GRUB, initramfs-tools with particle's OSTree hook, an OSTree deployment)
# against a plain Debian image of the same packages (mmdebstrap into the ext4 of a disk laid
# out the same way, the same kernel, GRUB built the same way, no OSTree), booted with the same
# qemu flags by scripts/boot-image.sh, alternating particle/plain RUNS times. Prints every run,
# the medians and the ratio particle/plain (goal: at most 1.1).
# Usage: benches/boot-time-vs-debian.sh [RUNS] [MIRROR]   (defaults: 3, ../shared/debian-mirror)
# Needs root, mmdebstrap, qemu-system-x86 (scripts/setup.sh installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-3}"
mirror="$(cd "${2:-$here/../shared/debian-mirror}" && pwd)"
work="$(mktemp -d "${WORK_BASE:-/var/tmp}/boot-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$here"
cargo build -j2 -q -p particle-cli -p machine
particle="$here/target/debug/particle"
keyring="$mirror/keyring/debian-archive-keyring.gpg"

# particle's image.
export PARTICLE_ROOT="$work/state"
"$particle" -q init
"$particle" -q repo add debian --uri "file://$mirror" --suite bookworm --component main --arch amd64 --keyring "$keyring"
"$particle" -q repo update
"$particle" -q variant apply --reason "boot benchmark" variants/base.toml
"$particle" -q image --variant base --firmware bios --karg console=ttyS0,115200 "$work/particle.raw"

bash benches/plain-image.sh "$work" "$mirror"

boot() { bash scripts/boot-image.sh "$1" bios 2>/dev/null | sed -n 's/^login prompt after \([0-9.]*\)s.*/\1/p'; }
ours=() plain=()
for i in $(seq "$runs"); do
  o=$(boot "$work/particle.raw"); p=$(boot "$work/plain.raw")
  [ -n "$o" ] && [ -n "$p" ] || { echo "run $i: an image did not reach its login prompt" >&2; exit 1; }
  echo "run $i: particle ${o} s, plain ${p} s"
  ours+=("$o"); plain+=("$p")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mo=$(median "${ours[@]}"); mp=$(median "${plain[@]}")
echo "packages: particle $("$particle" --json status | grep -o '"packages": *[0-9]*' | head -1 | grep -o '[0-9]*$'), plain $(chroot "$work/tree" dpkg-query -W | wc -l)"
echo "median seconds to the login prompt: particle $mo, plain $mp"
echo "ratio particle/plain: $(echo "scale=3; $mo / $mp" | bc)"
