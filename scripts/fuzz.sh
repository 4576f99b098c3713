#!/usr/bin/env bash
# Short fuzz run of every target in tests/fuzz (cargo-fuzz, libFuzzer, nightly): SECONDS per
# target (default 60). New inputs that reach new code are added to tests/fuzz/corpus, which
# is then minimised; `cargo test --test fuzz_corpus` replays it on stable.
set -euo pipefail
secs=${1:-60}
cd "$(dirname "$0")/.."
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
for target in expr siginfo syscall; do
    cargo +nightly fuzz run --fuzz-dir tests/fuzz "$target" -- \
        -max_total_time="$secs" -max_len=2048 -print_final_stats=1 2>&1 |
        grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done|==[0-9]+==|SUMMARY)' |
        sed "s/^/$target: /"
    cargo +nightly fuzz cmin --fuzz-dir tests/fuzz "$target" >/dev/null 2>&1
    echo "$target: corpus $(ls tests/fuzz/corpus/"$target" | wc -l) inputs"
done
