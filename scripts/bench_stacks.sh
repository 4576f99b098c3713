#!/usr/bin/env bash
# The cost of -k: the signal storm and fork+exec workloads untraced, under sigtrace and strace,
# each without and with -k, runs alternating; medians, ratios in one table, and the spread
# (max/min over the runs) as the noise. Usage: scripts/bench_stacks.sh [RUNS] (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cargo build --release -q
sig=target/release/sigtrace
bin=target/bench
mkdir -p "$bin"
cc -O2 -o "$bin/storm" tests/c/storm.c
cc -O2 -o "$bin/forkexec" benches/c/forkexec.c
command -v strace >/dev/null || { echo "strace is needed: apt-get install strace" >&2; exit 1; }
strace -V | grep -q stack-trace || { echo "this strace has no -k" >&2; exit 1; }

set_=trace=%signal,exit,exit_group,execve,execveat,setsid,setpgid
# name | flags for both tracers | command
workloads=(
  "b 5k SIGUSR1||$bin/storm 5000"
  "d 300 fork+exec|-f|$bin/forkexec 300"
)
# column | command prefix (the workload's flags and command follow)
tracers=(
  "untraced|"
  "sigtrace|$sig -q -o /dev/null"
  "sigtrace -k|$sig -q -k -o /dev/null"
  "strace|strace -qq --seccomp-bpf -f -e $set_ -o /dev/null"
  "strace -k|strace -qq -k --seccomp-bpf -f -e $set_ -o /dev/null"
)

# shellcheck source=scripts/bench_common.sh
. scripts/bench_common.sh
spread() { sort -n | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.2f", hi/lo}'; }

printf '%-18s' workload
for t in "${tracers[@]}"; do printf ' %12s' "${t%%|*}"; done
printf ' %9s %9s %9s\n' "k/no-k" "sig/strc" "sig-k/strc-k"
for w in "${workloads[@]}"; do
  IFS='|' read -r name flags cmd <<<"$w"
  for i in "${!tracers[@]}"; do : >"$bin/k$i"; done
  for _ in $(seq "$runs"); do
    for i in "${!tracers[@]}"; do
      prefix=${tracers[$i]#*|}
      f=$flags; [ -n "$prefix" ] || f=""
      # shellcheck disable=SC2086
      s=$(now); $prefix $f $cmd >/dev/null; e=$(now)
      echo $(( (e - s) / 1000 )) >>"$bin/k$i"
    done
  done
  m=(); sp=()
  for i in "${!tracers[@]}"; do m+=("$(median <"$bin/k$i")"); sp+=("$(spread <"$bin/k$i")"); done
  printf '%-18s' "$name"
  for i in "${!tracers[@]}"; do printf ' %11.3fs' "$(awk -v a="${m[$i]}" 'BEGIN {print a/1e6}')"; done
  awk -v u="${m[1]}" -v k="${m[2]}" -v s="${m[3]}" -v sk="${m[4]}" 'BEGIN {
    printf " %8.2fx %8.2fx %11.2fx\n", k/u, u/s, k/sk }'
  printf '%-18s' "  spread max/min"
  for i in "${!tracers[@]}"; do printf ' %11sx' "${sp[$i]}"; done
  echo
done
