#!/bin/sh
# Written by particle (materializer/src/boot): puts ostree-prepare-root into the initramfs, so
# that the local-bottom script of the same name can mount the OSTree deployment. Debian ships
# this step for dracut only (ostree-boot's 98ostree); this is its initramfs-tools counterpart.
PREREQ=""
prereqs() { echo "$PREREQ"; }
case "$1" in
prereqs)
	prereqs
	exit 0
	;;
esac
. /usr/share/initramfs-tools/hook-functions
if [ ! -x /usr/lib/ostree/ostree-prepare-root ]; then
	echo "particle-ostree: /usr/lib/ostree/ostree-prepare-root is missing (package ostree-boot)" >&2
	exit 1
fi
copy_exec /usr/lib/ostree/ostree-prepare-root
