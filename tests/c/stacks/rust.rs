// A Rust program whose process::exit(7) is two calls deep.
use std::io::Read;

#[inline(never)]
fn quit(code: i32) -> ! {
    std::process::exit(code)
}

#[inline(never)]
fn run(code: i32) {
    quit(code + std::hint::black_box(0));
}

fn main() {
    let _ = std::io::stdin().read(&mut [0u8]);
    run(7);
}
