#!/usr/bin/env bash
# Times workloads untraced, under the floor tracer (benches/c/floor_tracer.c: the same stops,
# nothing done at them), under sigtrace and under strace, alternating runs; prints medians and
# ratios in one table. Usage: scripts/bench.sh [RUNS] (default 5).
# scripts/bench.sh RUNS kernel: only (g), the cost of the kernel's record of signals (as root).
# scripts/bench.sh RUNS record: only (r), the record mode (--no-ptrace) against untraced (as root).
# BASE=older/sigtrace scripts/bench.sh RUNS table: only (t), the cost of its process table.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
# SIGTRACE=path compares another build (an older commit's) on the same workloads.
sig=${SIGTRACE:-target/release/sigtrace}
[ -n "${SIGTRACE:-}" ] || cargo build --release -q
bin=target/bench
mkdir -p "$bin"
cc -O2 -o "$bin/getppid" benches/c/getppid.c
cc -O2 -o "$bin/forkexec" benches/c/forkexec.c
cc -O2 -o "$bin/storm" tests/c/storm.c
cc -O2 -o "$bin/rtqueue" tests/c/rtqueue.c
cc -O2 -o "$bin/seccomp_floor" benches/c/seccomp_floor.c
cc -O2 -pthread -o "$bin/threads" tests/c/threads.c
cc -O2 -o "$bin/children" benches/c/children.c
cc -O2 -pthread -o "$bin/threadsig" benches/c/threadsig.c
cc -O2 -o "$bin/floor_tracer" benches/c/floor_tracer.c
command -v strace >/dev/null || { echo "strace is needed: apt-get install strace" >&2; exit 1; }

# name | flags for both tracers | command
workloads=(
  "a 2M getppid||$bin/getppid 2000000"
  "b 10k SIGUSR1||$bin/storm 10000"
  "c 5k RT queued||$bin/rtqueue 5000"
  "d 300 fork+exec||$bin/forkexec 300"
)

# shellcheck source=scripts/bench_common.sh
. scripts/bench_common.sh

# (g) b and c under sigtrace with the kernel's record and with --no-kernel-record, in
# alternating pairs: medians of wall time and of CPU time (user+sys of sigtrace and the
# command: steadier than wall time on a shared machine), their ratios, and the range of the
# wall ratio over the pairs.
kernel_record() {
  [ "$(id -u)" = 0 ] || echo "(g) not root: the kernel's record stays off in both columns" >&2
  printf '\n%-16s %9s %9s %8s %14s %8s %s\n' "kernel record" off on on/off "cpu off/on" on/off "wall per pair"
  for w in "b 100k SIGUSR1|$bin/storm 100000" "c 10k RT queued|$bin/rtqueue 10000"; do
    IFS='|' read -r name cmd <<<"$w"
    : >"$bin/k0"; : >"$bin/k1"; : >"$bin/kr"; : >"$bin/c0"; : >"$bin/c1"
    for _ in $(seq "$runs"); do
      /usr/bin/time -f "%e %U %S" -o "$bin/t" $sig -q --no-kernel-record -o /dev/null $cmd >/dev/null
      read -r a u k <"$bin/t"; echo "$a" >>"$bin/k0"; echo "$u $k" | awk '{print $1+$2}' >>"$bin/c0"
      /usr/bin/time -f "%e %U %S" -o "$bin/t" $sig -q -o /dev/null $cmd >/dev/null
      read -r b u k <"$bin/t"; echo "$b" >>"$bin/k1"; echo "$u $k" | awk '{print $1+$2}' >>"$bin/c1"
      awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f\n", b/a }' >>"$bin/kr"
    done
    awk -v n="$name" -v a="$(median <"$bin/k0")" -v b="$(median <"$bin/k1")" \
      -v ca="$(median <"$bin/c0")" -v cb="$(median <"$bin/c1")" \
      -v lo="$(sort -n "$bin/kr" | head -1)" -v hi="$(sort -n "$bin/kr" | tail -1)" 'BEGIN {
      printf "%-16s %8.2fs %8.2fs %7.3fx %6.2fs/%.2fs %7.3fx %s-%s\n", n, a, b, b/a, ca, cb, cb/ca, lo, hi }'
  done
}
# (r) the record mode (--no-ptrace: no stop at all) against the untraced program, the ptrace
# tracers, the record mode on perf's rings (SIGTRACE_RINGS=perf: where no tracefs instance
# can be made), and its floors: perf merely counting signal_generate and signal_deliver, the
# kernel writing one or two raw perf samples per signal with nothing read, and the two events
# in a tracefs instance whose pages are read and dropped (benches/c/sample_floor.c). Each is
# the program's own time (benches/c/workload_time.h: its loop, without a tracer's start and
# exit, which the row `true` and the last column, the record mode's whole run, show). As root.
record_mode() {
  [ "$(id -u)" = 0 ] || { echo "(r) not root: the record mode needs the kernel's record" >&2; return; }
  cc -O2 -pthread -o "$bin/sample_floor" benches/c/sample_floor.c
  # A copy with a name of its own: the last run's perf events are closed (and its tracefs
  # instance removed) by a child of it after it exits (an RCU grace period per tracepoint,
  # 100-250 ms here, which any next opener waits for), which the next run waits for, by name.
  local rec="$bin/sigtrace-rec"
  cp "$sig" "$rec"
  local floor=()
  command -v perf >/dev/null && floor=(perf stat -a -e signal:signal_generate,signal:signal_deliver -o /dev/null --)
  local strace_args=(-qq --seccomp-bpf -f -e trace=%signal,exit,exit_group,execve,execveat,setsid,setpgid -o /dev/null)
  settle() { while ps -C sigtrace-rec -o stat= | grep -qv '^Z'; do sleep 0.01; done; }
  # own FILE COMMAND...: appends the program's own time to FILE (its report; else, from
  # sample_floor, the time it printed; else the wall time), in microseconds.
  own() {
    local f=$1 s e; shift
    : >"$bin/wt"
    s=$(now); WORKLOAD_TIME_FILE="$bin/wt" "$@" >/dev/null 2>"$bin/err"; e=$(now)
    if [ -s "$bin/wt" ]; then tail -1 "$bin/wt" >>"$f"
    elif [ "$1" = "$bin/sample_floor" ]; then tail -1 "$bin/err" >>"$f"
    else echo $(( (e - s) / 1000 )) >>"$f"; fi
    echo $(( (e - s) / 1000 )) >>"$f.wall"
  }
  printf '\n%-18s %8s %8s %8s %8s %8s %8s %8s %8s %8s | %6s %6s %6s %6s %6s %6s %6s %6s | %6s\n' "record mode" untraced strace ptrace record "rec perf" "perf st" "1 sampl" "2 sampl" instance str/u ptr/u rec/u rp/u perf/u 1s/u 2s/u in/u "whole"
  for w in "a 2M getppid|$bin/getppid 2000000" "b 200k SIGUSR1|$bin/storm 200000" \
           "d 300 fork+exec|$bin/forkexec 300" "s true (start, exit)|true"; do
    IFS='|' read -r name cmd <<<"$w"
    for f in r0 r1 r2 r3 r4 r5 r6 r7 r8; do : >"$bin/$f"; : >"$bin/$f.wall"; done
    # The ptrace tracers run once: at 20-30x on the storm, the noise does not matter.
    # shellcheck disable=SC2086
    own "$bin/r5" strace "${strace_args[@]}" $cmd
    # shellcheck disable=SC2086
    own "$bin/r6" $sig -q -f -o /dev/null $cmd
    for _ in $(seq "$runs"); do
      settle
      # shellcheck disable=SC2086
      own "$bin/r0" $cmd
      # shellcheck disable=SC2086
      own "$bin/r1" $rec -q --no-ptrace -o /dev/null $cmd
      settle
      # shellcheck disable=SC2086
      own "$bin/r7" env SIGTRACE_RINGS=perf $rec -q --no-ptrace -o /dev/null $cmd
      settle
      if [ ${#floor[@]} -gt 0 ]; then
        # shellcheck disable=SC2086
        own "$bin/r2" "${floor[@]}" $cmd
      else echo 0 >>"$bin/r2"; fi
      # shellcheck disable=SC2086
      own "$bin/r3" "$bin/sample_floor" gen $cmd
      # shellcheck disable=SC2086
      own "$bin/r4" "$bin/sample_floor" both $cmd
      # shellcheck disable=SC2086
      own "$bin/r8" "$bin/sample_floor" instance $cmd
    done
    awk -v n="$name" -v a="$(median <"$bin/r0")" -v b="$(median <"$bin/r1")" -v c="$(median <"$bin/r2")" \
      -v g="$(median <"$bin/r3")" -v h="$(median <"$bin/r4")" -v st="$(median <"$bin/r5")" -v pt="$(median <"$bin/r6")" \
      -v rp="$(median <"$bin/r7")" -v ins="$(median <"$bin/r8")" \
      -v aw="$(median <"$bin/r0.wall")" -v bw="$(median <"$bin/r1.wall")" 'BEGIN {
      printf "%-18s %7.3fs %7.3fs %7.3fs %7.3fs %7.3fs %7.3fs %7.3fs %7.3fs %7.3fs | %5.2fx %5.2fx %5.2fx %5.2fx %5.2fx %5.2fx %5.2fx %5.2fx | %5.2fx\n", n, a/1e6, st/1e6, pt/1e6, b/1e6, rp/1e6, c/1e6, g/1e6, h/1e6, ins/1e6, st/a, pt/a, b/a, rp/a, c/a, g/a, h/a, ins/a, bw/aw }'
  done
}
if [ "${2:-}" = kernel ]; then kernel_record; exit; fi
if [ "${2:-}" = record ]; then record_mode; exit; fi

# Wall time of each run, and CPU time (user + system, the traced command's included).
timed() { # wall-file cpu-file command...
  local w=$1 c=$2 s e; shift 2
  s=$(now); /usr/bin/time -f "%U %S" -o "$bin/cpu" "$@" >/dev/null; e=$(now)
  echo $(( (e - s) / 1000 )) >>"$w"
  awk '{ printf "%d\n", ($1 + $2) * 1e6 }' "$bin/cpu" >>"$c"
}

# (t) d under sigtrace -f with the kernel's record and its process table, against BASE (a build
# whose kernel record has no process table: an older commit's), and with --no-kernel-record,
# in alternating triples: medians of wall and CPU time and the table's ratio (this build over
# BASE). scripts/bench.sh RUNS table (as root; BASE=path/to/sigtrace).
process_table() {
  [ "$(id -u)" = 0 ] || { echo "(t) needs root: the kernel's record is off otherwise" >&2; exit 1; }
  local base=${BASE:?BASE=path to a sigtrace build without the process table}
  local cmd="$bin/forkexec 300"
  : >"$bin/p0"; : >"$bin/p1"; : >"$bin/p2"; : >"$bin/q0"; : >"$bin/q1"; : >"$bin/q2"
  for _ in $(seq "$runs"); do
    # shellcheck disable=SC2086
    timed "$bin/p0" "$bin/q0" $sig -q -f --no-kernel-record -o /dev/null $cmd
    # shellcheck disable=SC2086
    timed "$bin/p1" "$bin/q1" $base -q -f -o /dev/null $cmd
    # shellcheck disable=SC2086
    timed "$bin/p2" "$bin/q2" $sig -q -f -o /dev/null $cmd
  done
  printf '%-18s %9s %9s %9s %11s %11s\n' "process table" "no record" "no table" table "table/none" "cpu t/none"
  awk -v a="$(median <"$bin/p0")" -v b="$(median <"$bin/p1")" -v c="$(median <"$bin/p2")" \
    -v qb="$(median <"$bin/q1")" -v qc="$(median <"$bin/q2")" 'BEGIN {
    printf "%-18s %8.3fs %8.3fs %8.3fs %10.3fx %10.3fx\n", "d 300 fork+exec -f", a/1e6, b/1e6, c/1e6, c/b, qc/qb }'
}
if [ "${2:-}" = table ]; then process_table; exit; fi

# The floor any seccomp filter costs on this kernel: a one-instruction RET_ALLOW filter, untraced.
: >"$bin/f0"; : >"$bin/f1"
for _ in $(seq "$runs"); do
  s=$(now); "$bin/seccomp_floor" 2000000 none; e=$(now); echo $(( (e - s) / 1000 )) >>"$bin/f0"
  s=$(now); "$bin/seccomp_floor" 2000000; e=$(now); echo $(( (e - s) / 1000 )) >>"$bin/f1"
done
awk -v a="$(median <"$bin/f0")" -v b="$(median <"$bin/f1")" 'BEGIN {
  printf "seccomp floor: 2M getppid %.3fs without a filter, %.3fs with a 1-instruction filter: %.2fx\n\n", a/1e6, b/1e6, b/a }'

printf '%-18s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n' workload untraced floor sigtrace strace sig/untr sig/floor floor/str sig/strace cpu:s/s
for w in "${workloads[@]}"; do
  IFS='|' read -r name flags cmd <<<"$w"
  for f in t0 t1 t2 t3 c0 c1 c2 c3; do : >"$bin/$f"; done
  for _ in $(seq "$runs"); do
    # shellcheck disable=SC2086
    timed "$bin/t0" "$bin/c0" $cmd
    # shellcheck disable=SC2086
    timed "$bin/t3" "$bin/c3" "$bin/floor_tracer" $cmd
    # shellcheck disable=SC2086
    timed "$bin/t1" "$bin/c1" $sig -q -f $flags -o /dev/null $cmd
    # shellcheck disable=SC2086
    timed "$bin/t2" "$bin/c2" strace -qq $flags --seccomp-bpf -f -e trace=%signal,exit,exit_group,execve,execveat,setsid,setpgid -o /dev/null $cmd
  done
  m0=$(median <"$bin/t0"); m1=$(median <"$bin/t1"); m2=$(median <"$bin/t2"); m3=$(median <"$bin/t3")
  k1=$(median <"$bin/c1"); k2=$(median <"$bin/c2")
  awk -v n="$name" -v a="$m0" -v b="$m1" -v c="$m2" -v f="$m3" -v k1="$k1" -v k2="$k2" 'BEGIN {
    printf "%-18s %8.3fs %8.3fs %8.3fs %8.3fs %8.2fx %8.2fx %8.2fx %8.2fx %8.2fx\n", n, a/1e6, f/1e6, b/1e6, c/1e6, b/a, b/f, f/c, b/c, (k2 > 0 ? k1/k2 : 0) }'
done

# (b) again with the trace on stderr, a pipe the command shares (`2>&1 | cat`): there sigtrace
# writes each stop's lines before the task runs on, as strace does, instead of in batches.
: >"$bin/p1"; : >"$bin/p2"; : >"$bin/q1"; : >"$bin/q2"
for _ in $(seq "$runs"); do
  timed "$bin/p1" "$bin/q1" sh -c "$sig -q -f $bin/storm 10000 2>&1 | cat >/dev/null"
  timed "$bin/p2" "$bin/q2" sh -c "strace -qq --seccomp-bpf -f -e trace=%signal,exit,exit_group,execve,execveat,setsid,setpgid $bin/storm 10000 2>&1 | cat >/dev/null"
done
awk -v b="$(median <"$bin/p1")" -v c="$(median <"$bin/p2")" 'BEGIN {
  printf "%-18s %8s  %8s  %8.3fs %8.3fs %8s  %8s  %8s  %8.2fx\n", "b on a shared pipe", "-", "-", b/1e6, c/1e6, "-", "-", "-", b/c }'

# (e) attach to a process with 64 threads: time until every thread is traced (the tracer's
# "attached with 65 threads" line), and the detach (SIGINT until the tracer has exited).
ms() { echo $(( ($(now) - $1) / 1000000 )); }
attach_run() { # tracer command...
  # The last run's kernel record may still be closing (sigtrace leaves that to a child): a
  # new one would wait for it to open its own.
  while pgrep -x sigtrace >/dev/null; do sleep 0.01; done
  "$bin/threads" wait 64 & local target=$!
  while [ "$(ls /proc/$target/task | wc -l)" -lt 65 ]; do :; done
  local log="$bin/attach.log"; : >"$log"
  local s; s=$(now)
  "$@" -p "$target" 2>"$log" >/dev/null & local tracer=$!
  until grep -q "attached with 65 threads" "$log"; do :; done
  local a; a=$(ms "$s")
  s=$(now); kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
  local d; d=$(ms "$s")
  kill -KILL "$target"; wait "$target" 2>/dev/null || true
  echo "$a $d"
}
: >"$bin/e1"; : >"$bin/e2"
for _ in $(seq "$runs"); do
  attach_run "$sig" -e trace=none -o /dev/null >>"$bin/e1"
  attach_run strace -f -e trace=none -o /dev/null >>"$bin/e2"
done
a1=$(cut -d' ' -f1 "$bin/e1" | median); d1=$(cut -d' ' -f2 "$bin/e1" | median)
a2=$(cut -d' ' -f1 "$bin/e2" | median); d2=$(cut -d' ' -f2 "$bin/e2" | median)
printf '%-18s attach %5s ms, detach %5s ms (strace: %s ms, %s ms)\n' "e 64 threads" "$a1" "$d1" "$a2" "$d2"

# (f) sigtrace's peak RSS (-f): on (b); over 2,000 and 20,000 short-lived children (what is kept
# of an ended process); a process with 2,000 threads, each signalled once and five times.
peak() { /usr/bin/time -f %M "$sig" -q -f -o /dev/null "$@" 2>&1 >/dev/null | tail -1; }
rss=$(peak "$bin/storm" 10000)
printf '%-18s peak RSS %s KiB (sigtrace -f on b)\n' "f memory" "$rss"
c1=$(peak "$bin/children" 2000); c2=$(peak "$bin/children" 20000)
awk -v a="$c1" -v b="$c2" 'BEGIN { printf "%-18s peak RSS %d KiB over 2,000 children, %d KiB over 20,000: %+.1f MiB\n", "g children", a, b, (b-a)/1024 }'
t1=$(peak "$bin/threadsig" 2000 1); t2=$(peak "$bin/threadsig" 2000 5)
awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%-18s peak RSS %d KiB with 2,000 threads signalled once, %d KiB five times: %+.1f MiB\n", "h threads", a, b, (b-a)/1024 }'

# (i) sigtrace's open file descriptors, sampled through a run over 20,000 children.
"$sig" -q -f -o /dev/null "$bin/children" 20000 >/dev/null & tracer=$!
fds=()
while kill -0 "$tracer" 2>/dev/null; do
  n=$(ls "/proc/$tracer/fd" 2>/dev/null | wc -l) && [ "$n" -gt 0 ] && fds+=("$n")
  sleep 0.2
done
wait "$tracer" || true
# The first sample may come before the kernel's record opened its descriptors (a few per CPU).
printf '%s\n' "${fds[@]:1}" | sort -n | awk -v first="${fds[0]:-?}" '{a[NR]=$1} END {
  printf "%-18s open fds: %s to %s over %d samples after the first (%s; 20,000 children)\n", "i fds", a[1], a[NR], NR, first }'

kernel_record
record_mode
