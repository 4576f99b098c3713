//! Without -f the command's children are left as they would be without sigtrace; with -f they
//! are traced, shown and waited for, as strace -f does.
mod common;
use common::*;
use nix::sys::signal::Signal;
use std::process::{Command, Stdio};

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_debugger_or_tracer_run_by_the_command_works_without_f() {
    if !have("strace") || !have("gdb") {
        eprintln!("skipped: needs strace and gdb");
        return;
    }
    // Run by a child of the command, and as the command itself (its own children stay untraced).
    let script = "strace -f -qq -e trace=none -o /dev/null true; echo strace $?; \
                  gdb -batch -ex run --args /bin/true 2>&1 | grep -c 'exited normally'";
    let out = run(sigtrace().args(["-q", "-o", "/dev/null", "sh", "-c", script]));
    assert_eq!(out.stdout, "strace 0\n1\n", "{}", out.stderr);
    assert_eq!(out.code(), 0);
    let out = run(sigtrace()
        .args(["-q", "-o", "/dev/null", "strace", "-f", "-qq"])
        .args(["-e", "trace=none", "true"]));
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let out = run(sigtrace()
        .args(["-q", "-o", "/dev/null", "gdb", "-batch", "-ex", "run"])
        .args(["--args", "/bin/true"]));
    assert!(
        out.stdout.contains("exited normally"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(out.code(), 0);
}

#[test]
fn a_child_of_the_command_may_ask_to_be_traced_without_f() {
    let out = run(sigtrace()
        .args(["-q", "-o", "/dev/null"])
        .arg(prog("traceme")));
    assert_eq!(out.stdout, "traced\n", "{}", out.stderr);
    assert_eq!(out.code(), 0);
}

#[test]
fn children_that_outlive_the_command_are_left_alone_without_f_and_waited_for_with_f() {
    // Orphans come to the test process instead of init: they stay its descendants.
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let waiter = prog("waiter");
    let dir = tempdir("outlive");
    let printed = dir.join("count.txt");
    let script = format!("{} > {} 2>&1 & exit 5", waiter.display(), printed.display());
    let gone = |p: u32| matches!(state(p), 'Z' | '?');

    // Without -f: the command's status at once (the child waits for SIGUSR2 until after
    // sigtrace has returned), and the child is not traced.
    let out = run(sigtrace().args(["-q", "-o", "/dev/null", "sh", "-c", &script]));
    assert_eq!(out.code(), 5, "{}", out.stderr);
    let child = background_waiter(&waiter);
    assert_eq!(tracer_of(child), 0, "the background child is traced");
    signal(child, Signal::SIGUSR1);
    signal(child, Signal::SIGUSR2);
    wait_for("the untraced child to end", || gone(child));
    assert_eq!(std::fs::read_to_string(&printed).unwrap(), "1\n");

    // With -f: the child is traced and shown, and sigtrace ends when it does.
    let trace = dir.join("trace.txt");
    let mut tracer = sigtrace()
        .args(["-f", "-o"])
        .arg(&trace)
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let child = background_waiter(&waiter);
    assert_eq!(tracer_of(child), tracer.id());
    assert_eq!(
        tracer.try_wait().unwrap(),
        None,
        "sigtrace returned before the child ended"
    );
    signal(child, Signal::SIGUSR2);
    assert_eq!(finish(tracer, "sigtrace -f").code(), 5);
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{child} ")) && l.ends_with(" +++ exited with 0 +++")),
        "{text}"
    );
}

/// The waiter a shell started in the background, once its handlers are set up (the shell may
/// have exited before it even ran).
fn background_waiter(waiter: &std::path::Path) -> u32 {
    let mut child = 0;
    wait_for("the background waiter", || {
        child = find_process(std::process::id(), waiter);
        child != 0 && catches(child, libc::SIGUSR2)
    });
    child
}
