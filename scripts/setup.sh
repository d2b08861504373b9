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
