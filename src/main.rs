//! The sigtrace binary: a thin shell around the library.
fn main() {
    std::process::exit(sigtrace::main_with_args(std::env::args_os().collect()));
}
