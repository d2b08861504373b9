#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS seconds (default 30), one after the other.
# Exits non-zero if any target crashes, hangs, leaks past the RSS limit or fails to build; the
# failing input is left in fuzz/artifacts/<target>/ (see README.md to turn it into a test).
#
#   fuzz/run.sh 30        # CI
#   fuzz/run.sh 3600      # a long local run
set -euo pipefail

secs="${1:-30}"
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
cd "$(dirname "$0")"

# cargo-fuzz passes nightly-only -Z flags (-Zsanitizer=address, ...). The stable toolchain accepts
# them when RUSTC_BOOTSTRAP=1; its AddressSanitizer runtime ships with every rustup toolchain.
export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --locked --version '^0.13'
fi

# FUZZ_TARGET_DIR: where to build (default fuzz/target); CI points it at a cache that outlives
# the clone, so the instrumented build is incremental across runs on one machine.
target_dir=()
[[ -n "${FUZZ_TARGET_DIR:-}" ]] && target_dir=(--target-dir "$FUZZ_TARGET_DIR")
cargo fuzz build -O "${target_dir[@]}"
failed=()
for target in $(cargo fuzz list); do
    corpus="corpus/$target"
    mkdir -p "$corpus" "artifacts/$target"
    seeds=()
    [[ -d "seeds/$target" ]] && seeds=("seeds/$target")
    echo "== fuzz $target for ${secs}s"
    # -rss_limit_mb: the .deb target's limits keep it far below this; -timeout: a single input
    # taking 10 s is a hang.
    if ! cargo fuzz run -O "${target_dir[@]}" "$target" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/"; then
        failed+=("$target")
    fi
done
if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: every target ran ${secs}s without a crash"
