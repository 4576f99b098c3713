# Sourced by the benchmark scripts: a clock in nanoseconds and the median of numbers on stdin.
now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
