#!/usr/bin/env bash
# Boots a disk image under qemu (a throw-away snapshot: the image is not changed) and waits for
# the login prompt on the serial console; prints the seconds it took and exits 0, or prints the
# console's last lines and exits 1.
#
#   scripts/boot-image.sh IMAGE [bios|uefi] [--interactive]
#
# KVM is used when /dev/kvm really runs a guest (probed: the kernel's first line within 60 s),
# TCG otherwise; the time limit follows (180 s under KVM, 900 s under TCG). With --interactive
# the console is yours once the prompt is there (quit with Ctrl-a x).
set -euo pipefail
image=${1:?usage: boot-image.sh IMAGE [bios|uefi] [--interactive]}
firmware=${2:-bios}
interactive=${3:-}
work=$(mktemp -d)
trap 'kill "$qemu_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
qemu_pid=

start() { # ACCEL LOG
  local fw=()
  if [ "$firmware" = uefi ]; then
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
    fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
        -drive "if=pflash,format=raw,unit=1,file=$work/vars.fd")
  fi
  local format=raw
  case "$image" in *.qcow2) format=qcow2 ;; esac
  qemu-system-x86_64 -accel "$1" -m 1536 -smp 2 -nographic -nodefaults -monitor none \
    -serial "file:$2" -snapshot -drive "file=$image,format=$format,if=virtio" "${fw[@]}" \
    </dev/null >/dev/null 2>&1 &
  qemu_pid=$!
}

now() { date +%s.%N; }

wait_for() { # LOG TEXT SECONDS
  local deadline=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$deadline" ]; do
    grep -aq "$2" "$1" 2>/dev/null && return 0
    kill -0 "$qemu_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

accel=tcg limit=900
if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
  start kvm "$work/probe.log"
  if wait_for "$work/probe.log" "Linux version" 60; then accel=kvm limit=180; fi
  kill "$qemu_pid" 2>/dev/null || true
  wait "$qemu_pid" 2>/dev/null || true
fi
echo "booting $image ($firmware firmware, $accel)" >&2
begin=$(now)
start "$accel" "$work/console.log"
if ! wait_for "$work/console.log" "login:" "$limit"; then
  echo "no login prompt within ${limit}s; the console's last lines:" >&2
  tail -n 40 "$work/console.log" >&2
  exit 1
fi
took=$(echo "$(now) - $begin" | bc)
grep -a "login:" "$work/console.log" | tail -n 1 >&2
echo "login prompt after ${took}s ($accel, $firmware)"
if [ "$interactive" = --interactive ]; then
  kill "$qemu_pid" 2>/dev/null || true
  wait "$qemu_pid" 2>/dev/null || true
  exec qemu-system-x86_64 -accel "$accel" -m 1536 -smp 2 -nographic -snapshot \
    -drive "file=$image,if=virtio"
fi
