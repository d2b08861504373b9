#!/bin/sh
# Written by particle (materializer/src/boot): after initramfs-tools mounted the physical root
# on ${rootmnt}, turn it into the OSTree deployment that `ostree=` on the kernel command line
# names: ostree-prepare-root bind-mounts the deployment, makes its /usr read-only and moves the
# physical root to /sysroot inside it. Without `ostree=` this is not an OSTree boot: nothing
# happens.
PREREQ=""
prereqs() { echo "$PREREQ"; }
case "$1" in
prereqs)
	prereqs
	exit 0
	;;
esac
. /scripts/functions
# No grep in an initramfs without busybox: the shell's own read and case.
read -r cmdline </proc/cmdline
case " $cmdline " in
*" ostree="*) ;;
*) exit 0 ;;
esac
# The physical root holds /ostree/deploy/*/var and the boot loader's files: it must be
# writable, whatever `ro`/`rw` the command line said.
if ! mount -o remount,rw "${rootmnt}"; then
	panic "particle-ostree: cannot remount ${rootmnt} read-write"
fi
log_begin_msg "Mounting the OSTree deployment"
if ! /usr/lib/ostree/ostree-prepare-root "${rootmnt}"; then
	panic "particle-ostree: ostree-prepare-root ${rootmnt} failed"
fi
log_end_msg
