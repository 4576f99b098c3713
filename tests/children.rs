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
        skip("needs strace and gdb");
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

#[test]
fn a_clone_untraced_child_can_block_signal_and_exit() {
    // A filter's RET_TRACE with no tracer fails the syscall with ENOSYS: a CLONE_UNTRACED
    // child (LeakSanitizer's helper) under sigtrace's filter (-f) could not even exit.
    let end = regex::Regex::new(r"^(\d+) +\+\+\+ exited with 42 \+\+\+$").unwrap();
    for how in ["clone", "clone3"] {
        for flags in [&["-f"][..], &[][..]] {
            let (out, text) = trace(flags, &prog("untraced"), &[how]);
            assert_eq!(out.stdout.trim(), "exited 42", "{how} {flags:?}: {text}");
            assert_eq!(out.code(), 0, "{how} {flags:?}: {}", out.stderr);
            // With -f the child is traced, and shown, as any other.
            let shown = text.lines().any(|l| end.is_match(l));
            assert_eq!(shown, !flags.is_empty(), "{how} {flags:?}: {text}");
        }
    }
}

#[test]
fn an_asan_program_with_a_leak_ends_as_under_strace() {
    let dir = tempdir("asan");
    let exe = dir.join("leak");
    let built = Command::new("cc")
        .args(["-fsanitize=address", "-g", "-o"])
        .arg(&exe)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/c/leak.c"))
        .output();
    if !built.is_ok_and(|o| o.status.success()) {
        skip("cc -fsanitize=address cannot build here");
        return;
    }
    let untraced = run(&mut Command::new(&exe));
    if !untraced
        .stderr
        .contains("LeakSanitizer: detected memory leaks")
    {
        skip("LeakSanitizer reports nothing here, even untraced");
        return;
    }
    // LeakSanitizer's helper ptrace-attaches to the program, which no traced program allows:
    // under strace it gives up with a note and the status it gives a leak. It must end so
    // under sigtrace too, with and without -f, not hang.
    let asan_lines = |text: &str| -> Vec<String> {
        let pid = regex::Regex::new(r"==\d+==").unwrap();
        text.lines()
            .filter(|l| !l.starts_with("sigtrace: ") && !l.starts_with("strace: "))
            .map(|l| pid.replace_all(l, "==P==").to_string())
            .collect()
    };
    let strace = run(Command::new("strace")
        .args(["-f", "-o", "/dev/null"])
        .arg(&exe));
    assert_eq!(strace.code(), untraced.code(), "{}", strace.stderr);
    for flags in [&["-f"][..], &[][..]] {
        let (out, _) = trace(flags, &exe, &[]);
        assert_eq!(out.code(), untraced.code(), "{flags:?}: {}", out.stderr);
        assert_eq!(out.stdout, untraced.stdout);
        assert_eq!(
            asan_lines(&out.stderr),
            asan_lines(&strace.stderr),
            "{flags:?}"
        );
    }
}
