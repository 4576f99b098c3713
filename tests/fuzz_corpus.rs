//! Replays the fuzz corpus (tests/fuzz/corpus) through the fuzz checks on the stable toolchain.
#[path = "fuzz/checks.rs"]
mod checks;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        check(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n >= 10, "{}: only {n} inputs", dir.display());
    eprintln!("{target}: {n} inputs");
}

#[test]
fn expr_corpus() {
    replay("expr", checks::expr);
}

#[test]
fn siginfo_corpus() {
    replay("siginfo", checks::siginfo);
}

#[test]
fn syscall_corpus() {
    replay("syscall", checks::syscall);
}
