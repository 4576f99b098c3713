#!/usr/bin/env bash
# The cost of the kernel's record of signals (root only): bench.sh's workloads b (signal storm)
# and c (RT queue) under sigtrace with and without --no-kernel-record, alternating runs; prints
# medians and the ratio. Usage: scripts/bench_kernel_record.sh [RUNS] (default 7).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
cargo build --release -q
sig=target/release/sigtrace
bin=target/bench
mkdir -p "$bin"
cc -O2 -o "$bin/storm" tests/c/storm.c
cc -O2 -o "$bin/rtqueue" tests/c/rtqueue.c
[ "$(id -u)" = 0 ] || echo "not root: the kernel's record stays off, both columns measure the same" >&2

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-18s %10s %10s %8s %s\n' workload off on on/off "range of on/off per pair"
for w in "b 100k SIGUSR1|$bin/storm 100000" "c 10k RT queued|$bin/rtqueue 10000"; do
  IFS='|' read -r name cmd <<<"$w"
  : >"$bin/k0"; : >"$bin/k1"; : >"$bin/kr"
  for _ in $(seq "$runs"); do
    s=$(now); $sig -q --no-kernel-record -o /dev/null $cmd >/dev/null; e=$(now); a=$(( (e - s) / 1000 ))
    s=$(now); $sig -q -o /dev/null $cmd >/dev/null; e=$(now); b=$(( (e - s) / 1000 ))
    echo "$a" >>"$bin/k0"; echo "$b" >>"$bin/k1"
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f\n", b/a }' >>"$bin/kr"
  done
  m0=$(median <"$bin/k0"); m1=$(median <"$bin/k1")
  lo=$(sort -n "$bin/kr" | head -1); hi=$(sort -n "$bin/kr" | tail -1)
  awk -v n="$name" -v a="$m0" -v b="$m1" -v lo="$lo" -v hi="$hi" 'BEGIN {
    printf "%-18s %9.3fs %9.3fs %7.3fx %s-%s\n", n, a/1e6, b/1e6, b/a, lo, hi }'
done
