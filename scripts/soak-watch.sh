#!/usr/bin/env bash
# Soak of the watch mode (not in the test suite; as root): `sigtrace --watch` runs while the host
# makes PROCS short processes (fork+exec+exit, in batches) and SIGNALS handled signals (storms of
# self-sent SIGUSR1, every one a record the watch reads); the watch's RSS and CPU time are
# sampled every second and printed as a table, with the verdicts it wrote and what it lost.
# Usage: scripts/soak-watch.sh [PROCS] [SIGNALS] (default 100000 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
procs=${1:-100000}
signals=${2:-1000000}
[ "$(id -u)" = 0 ] || { echo "the watch needs root (or CAP_PERFMON)" >&2; exit 1; }
cargo build --release -q
sig=${CARGO_TARGET_DIR:-target}/release/sigtrace
bin=target/soak
mkdir -p "$bin"
cc -O2 -o "$bin/storm" tests/c/storm.c
cc -O2 -o "$bin/forkexec" benches/c/forkexec.c
out=$(mktemp -d)
trap 'kill "$watch" 2>/dev/null || true; rm -rf "$out"' EXIT

"$sig" --watch --json -o "$out/watch.jsonl" 2>"$out/watch.err" &
watch=$!
until grep -q watching "$out/watch.err" 2>/dev/null; do
  kill -0 "$watch" 2>/dev/null || { cat "$out/watch.err" >&2; exit 1; }
  sleep 0.1
done
tck=$(getconf CLK_TCK)

# One line a second: elapsed, RSS, CPU time used, CPU share of one core in that second.
sample() {
  local t0 last=0 now cpu rss
  t0=$(date +%s)
  printf '%8s %10s %10s %8s\n' seconds rss_kib cpu_s cpu_pct
  while kill -0 "$watch" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$watch/status" 2>/dev/null) || break
    cpu=$(awk '{print $14 + $15}' "/proc/$watch/stat" 2>/dev/null) || break
    now=$(date +%s)
    awk -v s=$((now - t0)) -v r="$rss" -v c="$cpu" -v l="$last" -v t="$tck" \
      'BEGIN { printf "%8d %10d %10.2f %7.0f%%\n", s, r, c / t, (c - l) * 100 / t }'
    last=$cpu
    sleep 1
  done
}
sample >"$out/samples" &
sampler=$!

started=$(date +%s)
# The processes: forkexec makes N children that each exec /bin/true, in batches of 1000.
done_procs=0
while [ "$done_procs" -lt "$procs" ]; do
  "$bin/forkexec" 1000 >/dev/null
  done_procs=$((done_procs + 1000))
done
procs_s=$(( $(date +%s) - started ))
# The signals: storms of 100,000 handled self-sent signals each.
started=$(date +%s)
left=$signals
while [ "$left" -gt 0 ]; do
  n=$(( left < 100000 ? left : 100000 ))
  "$bin/storm" "$n" >/dev/null
  left=$((left - n))
done
signals_s=$(( $(date +%s) - started ))
# A last while of a quiet host: memory must come back down, not keep what the storm held.
sleep 5
kill -TERM "$watch"
wait "$watch" || true
wait "$sampler" || true

cat "$out/samples"
echo
echo "processes: $procs in ${procs_s} s; signals: $signals in ${signals_s} s"
echo "verdicts written: $(grep -c '"event":"verdict"' "$out/watch.jsonl")"
echo "end event: $(tail -n1 "$out/watch.jsonl" | cut -c1-200)"
grep -v watching "$out/watch.err" || true
