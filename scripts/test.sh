#!/usr/bin/env bash
# Runs the whole test suite; installs what a fresh machine lacks (a C compiler, strace, script,
# the real programs the tests trace: python3, make, gdb, kill, timeout, unshare, setsid; chromium
# for the report page, man for the man page, zsh and fish for their completions).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v strace >/dev/null || need+=(strace)
command -v script >/dev/null || need+=(bsdutils)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v make >/dev/null || need+=(make)
command -v gdb >/dev/null || need+=(gdb)
[ -x /bin/kill ] || need+=(procps)
command -v unshare >/dev/null && command -v setsid >/dev/null || need+=(util-linux)
command -v timeout >/dev/null || need+=(coreutils)
# The report page is tested in a real browser; the man page with man.
command -v chromium >/dev/null || need+=(chromium)
command -v man >/dev/null || need+=(man-db)
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Tests that cannot run here leave a file in this directory (tests/common: skip()): they are
# counted as skipped, not as passed.
skipped_dir="${CARGO_TARGET_DIR:-target}/tmp/skipped"
rm -rf "$skipped_dir"
status=0
cargo test --release --no-fail-fast --lib --bins --tests "$@" 2>&1 | tee "$log" || status=$?
skipped=0
if [ -d "$skipped_dir" ]; then
  for f in "$skipped_dir"/*; do
    [ -e "$f" ] || continue
    echo "skipped: $(basename "$f"): $(cat "$f")"
    skipped=$((skipped + 1))
  done
fi
# One plain closing line over every test binary.
awk -v k="$skipped" '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p - k, f, s + k }' "$log"
exit "$status"
