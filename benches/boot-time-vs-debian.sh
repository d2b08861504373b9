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
cargo build -j2 -q -p particle-cli
particle="$here/target/debug/particle"
keyring="$mirror/keyring/debian-archive-keyring.gpg"

# particle's image.
export PARTICLE_ROOT="$work/state"
"$particle" -q init
"$particle" -q repo add debian --uri "file://$mirror" --suite bookworm --component main --arch amd64 --keyring "$keyring"
"$particle" -q repo update
"$particle" -q variant apply --reason "boot benchmark" variants/base.toml
"$particle" -q image --variant base --firmware bios --karg console=ttyS0,115200 "$work/particle.raw"

# The plain image: the same packages (the base variant's list, the essential/required set with
# it, as particle solves it), the same kernel, root on ext4 written with mkfs.ext4 -d.
pkgs=$(sed -n '/^install = \[/,/^\]/p' variants/base.toml | grep -o '"[^"]*"' | tr -d '"' | paste -sd, -)
mkdir -p "$work/apt/parts"
printf 'Dir::Etc::Parts "%s";\nAcquire::Languages "none";\n' "$work/apt/parts" >"$work/apt/apt.conf"
APT_CONFIG="$work/apt/apt.conf" mmdebstrap --quiet --variant=required --mode=root \
  --include="$pkgs" bookworm "$work/tree" \
  "deb [signed-by=$keyring] copy://$mirror bookworm main" >/dev/null
kver=$(basename "$(ls -d "$work"/tree/lib/modules/*)")
uuid=6a3b1f43-0d6e-4b52-9f0c-2a4b5d9e7c11
echo "UUID=$uuid / ext4 defaults 0 1" >"$work/tree/etc/fstab"
echo particle-bench >"$work/tree/etc/hostname"
mkdir -p "$work/tree/boot/grub"
cat >"$work/tree/boot/grub/grub.cfg" <<CFG
set timeout=1
set default=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
insmod part_msdos
insmod ext2
insmod gzio
search --no-floppy --fs-uuid --set=root $uuid
menuentry 'Debian GNU/Linux (plain)' {
	linux /boot/vmlinuz-$kver root=UUID=$uuid rw console=ttyS0,115200
	initrd /boot/initrd.img-$kver
}
CFG
size_mib=$(( $(du -sm "$work/tree" | cut -f1) * 2 + 512 ))
truncate -s "$((size_mib + 1))M" "$work/plain.raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$work/plain.raw"
mkfs.ext4 -q -F -U "$uuid" -E offset=1048576 -d "$work/tree" "$work/plain.raw" "${size_mib}M"
printf 'search --no-floppy --fs-uuid --set=root %s\nset prefix=($root)/boot/grub\n' "$uuid" >"$work/early.cfg"
grub-mkimage -d "$work/tree/usr/lib/grub/i386-pc" -O i386-pc -p /boot/grub -c "$work/early.cfg" \
  -o "$work/core.img" biosdisk part_msdos ext2 normal linux serial terminal configfile echo test \
  search search_fs_uuid gzio ls cat boot
dd if="$work/tree/usr/lib/grub/i386-pc/boot.img" of="$work/plain.raw" bs=440 count=1 conv=notrunc status=none
dd if="$work/core.img" of="$work/plain.raw" bs=512 seek=1 conv=notrunc status=none

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
