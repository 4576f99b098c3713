//! Fuzz target: checks::syscall on every input.
#![no_main]
#[path = "../checks.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::syscall(data));
