#!/usr/bin/env bash
# The plain Debian image the machine benchmarks compare particle's with: the base variant's
# packages (with the essential/required set, as particle solves it), the same kernel, root on
# ext4 written with mkfs.ext4 -d into a disk laid out like particle's, GRUB built the same way,
# no OSTree. Writes WORK/plain.raw (and leaves its tree in WORK/tree). With PLAIN_ROOT_HASH set,
# root gets that crypt(3) password; with PLAIN_APT_SOURCE, /etc/apt/sources.list is that line.
# Usage: benches/plain-image.sh WORK MIRROR
set -euo pipefail
work=$1 mirror=$2
keyring="$mirror/keyring/debian-archive-keyring.gpg"
# particle itself is not a Debian package.
pkgs=$(sed -n '/^install = \[/,/^\]/p' variants/base.toml | grep -o '"[^"]*"' | tr -d '"' |
  grep -vx particle | paste -sd, -)
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
if [ -n "${PLAIN_ROOT_HASH:-}" ]; then
  chroot "$work/tree" usermod -p "$PLAIN_ROOT_HASH" root
fi
if [ -n "${PLAIN_APT_SOURCE:-}" ]; then
  echo "$PLAIN_APT_SOURCE" >"$work/tree/etc/apt/sources.list"
  # The mirror has no translations.
  echo 'Acquire::Languages "none";' >"$work/tree/etc/apt/apt.conf.d/99no-translations"
fi
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
