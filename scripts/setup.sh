#!/usr/bin/env bash
# Installs what particle needs to build and test on Debian 12: system packages with apt-get, and a
# Rust toolchain with rustup if none is on PATH (Debian 12's own rustc is too old for the workspace).
set -euo pipefail
packages=(
  build-essential pkg-config ca-certificates curl git
  libostree-dev ostree libglib2.0-dev libssl-dev liblzma-dev
  gpgv gnupg xz-utils zstd bc util-linux
  bubblewrap dpkg-dev
  dose-distcheck libsolv-tools python3-solv mmdebstrap apt-utils time
  systemd procps skopeo python3-fusepy
  # particle image: file systems written into the image file, GRUB's mkimage (the modules come
  # from the commit), the partition table read back in tests; booting images in tests.
  e2fsprogs dosfstools mtools grub-common fdisk openssl ovmf
  # lsinitramfs: tests list what a variant's initramfs holds.
  initramfs-tools-core
  # push: a registry on 127.0.0.1 (the CNCF distribution registry) and an independent reader
  # of the sigstore key format (libsodium's secretbox) in tests/it/registry.rs.
  docker-registry python3-nacl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# qemu-system-x86 from bookworm. Some images carry a newer qemu-utils (from backports) that
# Breaks bookworm's qemu-system-common: both then come from bookworm, at one version.
if ! dpkg-query -W -f='${Status}' qemu-system-x86 2>/dev/null | grep -q "install ok installed"; then
  export DEBIAN_FRONTEND=noninteractive
  [ "${#missing[@]}" -gt 0 ] || apt-get update -qq
  qemu_version=$(apt-cache policy qemu-system-x86 | awk '/Candidate:/ {print $2}')
  echo "setup: installing qemu-system-x86 $qemu_version" >&2
  apt-get install -y -qq --no-install-recommends --allow-downgrades \
    "qemu-system-x86=$qemu_version" "qemu-utils=$qemu_version" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
# cargo-deny (licenses, bans, sources, advisories; see deny.toml). Built once into ~/.cargo/bin
# (several minutes); later runs on the same machine find it on PATH.
if ! command -v cargo-deny >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo-deny" ]; then
  echo "setup: installing cargo-deny (cargo install --locked, once)" >&2
  build=$(mktemp -d)
  CARGO_TARGET_DIR="$build" cargo install --locked --quiet cargo-deny
  rm -rf "$build"
fi
