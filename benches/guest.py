#!/usr/bin/env python3
"""Boots a disk image under qemu (a throw-away snapshot), logs in as root on the serial console
and runs shell commands in the guest, one after the other. A command written `TIME cmd` is
timed (from sending it to its end, as seen on the console) and reported as
`time<TAB>SECONDS<TAB>cmd`; a command written `SHOW cmd` has its output printed, each line as
`out<TAB>LINE`; every command must exit 0.

  benches/guest.py IMAGE --password PW [--share DIR] [--uefi] CMD...

The accelerator is KVM when /dev/kvm really runs a guest here (as scripts/boot-image.sh probes
it), else TCG; the same flags as the boot test (-m 1536 -smp 2, virtio disk). `--share DIR`
gives the guest DIR read-only as the 9p file system tagged `mirror`.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time


def kvm_works():
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return os.access("/dev/kvm", os.R_OK | os.W_OK) and re.search(r"\b(vmx|svm)\b", flags)


class Guest:
    def __init__(self, image, share, uefi, work):
        sock = os.path.join(work, "console.sock")
        fmt = "qcow2" if image.endswith(".qcow2") else "raw"
        cmd = ["qemu-system-x86_64", "-accel", "kvm" if kvm_works() else "tcg",
               "-m", "1536", "-smp", "2", "-nographic", "-nodefaults", "-monitor", "none",
               "-chardev", f"socket,id=c,path={sock},server=on,wait=on",
               "-serial", "chardev:c", "-snapshot",
               "-drive", f"file={image},format={fmt},if=virtio"]
        if share:
            cmd += ["-virtfs", f"local,path={share},mount_tag=mirror,security_model=none,readonly=on"]
        if uefi:
            subprocess.run(["cp", "/usr/share/OVMF/OVMF_VARS_4M.fd", f"{work}/vars.fd"], check=True)
            cmd += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                    "-drive", f"if=pflash,format=raw,unit=1,file={work}/vars.fd"]
        self.qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        for _ in range(300):
            try:
                self.console = socket.socket(socket.AF_UNIX)
                self.console.connect(sock)
                break
            except OSError:
                time.sleep(0.1)
        self.console.settimeout(0.5)
        self.seen = ""
        self.marker = 0

    def expect(self, needle, timeout):
        deadline = time.monotonic() + timeout
        while needle not in self.seen:
            if time.monotonic() > deadline:
                sys.exit(f"no {needle!r} within {timeout}s; the console's last output:\n{self.seen[-3000:]}")
            try:
                data = self.console.recv(4096)
            except socket.timeout:
                continue
            text = data.decode("utf-8", "replace").replace("\r", "")
            if os.environ.get("GUEST_CONSOLE"):
                sys.stderr.write(text)
            self.seen += text
        before, _, self.seen = self.seen.partition(needle)
        return before

    def send(self, text):
        self.console.sendall(text.encode())

    def login(self, password):
        self.expect("login: ", 900)
        self.send("root\n")
        self.expect("Password: ", 60)
        self.send(password + "\n")
        for _ in range(60):
            self.send("stty -echo; echo ready-$((6*7))\n")
            try:
                self.expect("ready-42\n", 5)
                return
            except SystemExit:
                continue
        sys.exit("the shell never answered")

    def run(self, cmd, timeout=3600):
        self.marker += 1
        m = self.marker
        started = time.monotonic()
        self.send(f"echo '<'{m}'<'; {cmd}; echo '>'{m}'>' $?\n")
        self.expect(f"<{m}<\n", 300)
        out = self.expect(f">{m}> ", timeout)
        elapsed = time.monotonic() - started
        status = self.expect("\n", 30).strip()
        if status != "0":
            sys.exit(f"{cmd!r} exited {status} in the guest:\n{out}")
        return elapsed, out

    def poweroff(self):
        self.send("systemctl poweroff\n")
        # Keep reading: qemu stops the guest while nobody drains its console.
        deadline = time.monotonic() + 600
        while self.qemu.poll() is None and time.monotonic() < deadline:
            try:
                if not self.console.recv(4096):
                    time.sleep(0.1)
            except OSError:
                time.sleep(0.1)
        if self.qemu.poll() is None:
            self.qemu.kill()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("image")
    p.add_argument("--password", required=True)
    p.add_argument("--share")
    p.add_argument("--uefi", action="store_true")
    p.add_argument("commands", nargs="*")
    a = p.parse_intermixed_args()
    with tempfile.TemporaryDirectory() as work:
        g = Guest(a.image, a.share, a.uefi, work)
        try:
            g.login(a.password)
            for c in a.commands:
                timed, show = c.startswith("TIME "), c.startswith("SHOW ")
                cmd = c[5:] if timed or show else c
                elapsed, out = g.run(cmd)
                if timed:
                    print(f"time\t{elapsed:.2f}\t{cmd}", flush=True)
                if show:
                    for line in out.splitlines():
                        print(f"out\t{line.rstrip()}", flush=True)
            g.poweroff()
        finally:
            if g.qemu.poll() is None:
                g.qemu.kill()


if __name__ == "__main__":
    main()
