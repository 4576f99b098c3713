//! Launch mode: each program's signals and end, line for line as strace prints them, and its exit status.
mod common;
use common::*;
use nix::sys::signal::Signal;

#[test]
fn self_kill() {
    let t = assert_same_as_strace(&[], &prog("selfkill"), &[]);
    assert_eq!(t.last().unwrap(), "+++ killed by SIGTERM +++");
}

#[test]
fn shell_kill_prints_sender_and_exits_143() {
    let out = run(sigtrace().args(["sh", "-c", "kill -TERM $$"]));
    let lines = trace_lines(&out.stderr);
    let re = regex::Regex::new(
        r"^--- SIGTERM \{si_signo=SIGTERM, si_code=SI_USER, si_pid=\d+, si_uid=\d+\} ---$",
    )
    .unwrap();
    assert!(re.is_match(&lines[0]), "{lines:?}");
    assert_eq!(lines[1], "+++ killed by SIGTERM +++");
    assert_eq!(out.code(), 143);
}

#[test]
fn exit_code_passes_through() {
    for code in ["0", "7", "255"] {
        let out = run(sigtrace().args(["sh", "-c", &format!("exit {code}")]));
        assert_eq!(out.code().to_string(), code);
        assert_eq!(
            trace_lines(&out.stderr),
            vec![format!("+++ exited with {code} +++")]
        );
    }
}

#[test]
fn handled_term_then_exit_143() {
    // The program waits for SIGTERM from outside; send it once its handler is installed.
    let (child, target, out_file) =
        launch_ready(&[], &prog("handled"), &[], |p| catches(p, libc::SIGTERM));
    signal(target, nix::sys::signal::SIGTERM);
    let out = finish(child, "sigtrace handled");
    assert_eq!(out.code(), 143);
    let lines = trace_lines(&std::fs::read_to_string(&out_file).unwrap());
    assert_eq!(
        lines,
        vec![from_test("SIGTERM"), "+++ exited with 143 +++".to_string()]
    );
}

#[test]
fn a_signal_sent_to_sigtrace_is_passed_on_to_the_command() {
    // Whoever signals sigtrace's pid (`kill PID`, a CI runner cancelling a step) means the
    // command: it gets the signal from sigtrace (from its tracing process without -f).
    for flags in [&[][..], &["-f"][..]] {
        for sig in [
            Signal::SIGINT,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGQUIT,
        ] {
            if ignored_here(sig as i32) {
                eprintln!(
                    "skipped {sig}: the tests run with it ignored, and the command would be too"
                );
                continue;
            }
            let (child, target, file) = launch_ready(flags, &prog("waiter"), &["sleep"], |p| {
                catches(p, libc::SIGUSR2)
            });
            let sender = tracer_of(target);
            signal(child.id(), sig);
            let out = finish(child, "sigtrace");
            assert_eq!(out.code(), 128 + sig as i32, "{flags:?} {sig}");
            let lines = trace_lines(&std::fs::read_to_string(&file).unwrap());
            let name = sig.as_str();
            // With -f the lines carry a pid column.
            let line = format!(
                "--- {name} {{si_signo={name}, si_code=SI_USER, si_pid={sender}, si_uid={}}} ---",
                nix::unistd::getuid()
            );
            assert!(lines[0].ends_with(&line), "{lines:?}");
            assert!(
                lines[1].contains(&format!("+++ killed by {name}")),
                "{lines:?}"
            );
        }
    }
}

#[test]
fn ignored_signal() {
    assert_same_as_strace(&[], &prog("ignored"), &[]);
}

#[test]
fn abort_without_core() {
    let t = assert_same_as_strace(&[], &prog("abort"), &[]);
    assert_eq!(t.last().unwrap(), "+++ killed by SIGABRT +++");
}

#[test]
fn abort_with_core() {
    // Core dumps on (RLIMIT_CORE unlimited, inherited by the tracee); core files land in the temp dir.
    let dir = tempdir("core");
    let p = prog("abort");
    let script = format!(
        "ulimit -c unlimited && exec {} -o {}/t.txt {}",
        env!("CARGO_BIN_EXE_sigtrace"),
        dir.display(),
        p.display()
    );
    let out = run(std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(&dir));
    let lines = trace_lines(&std::fs::read_to_string(dir.join("t.txt")).unwrap());
    let script = format!(
        "ulimit -c unlimited && exec strace -e trace=none -o {}/s.txt {}",
        dir.display(),
        p.display()
    );
    let s = run(std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(&dir));
    let oracle = trace_lines(&std::fs::read_to_string(dir.join("s.txt")).unwrap());
    assert_eq!(normalize(&lines), normalize(&oracle));
    assert_eq!(out.code(), s.code());
    let core_pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    if !core_pattern.starts_with('|') {
        assert_eq!(
            lines.last().unwrap(),
            "+++ killed by SIGABRT (core dumped) +++"
        );
    }
}

#[test]
fn segv() {
    let t = assert_same_as_strace(&[], &prog("segv"), &[]);
    let line = "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---";
    assert!(t.iter().any(|l| l == line), "{t:?}");
}

#[test]
fn sigpipe() {
    let t = assert_same_as_strace(&[], &prog("sigpipe"), &[]);
    assert_eq!(t.last().unwrap(), "+++ killed by SIGPIPE +++");
}

#[test]
fn realtime_queue_loses_nothing() {
    // 10,000 queued SIGRT_4: the program counts them (exit 0 only if all arrived) and every
    // one is in the trace, with its value.
    let (out, text) = trace(&[], &prog("rtqueue"), &["10000"]);
    assert_eq!(out.code(), 0, "the program counted {}", out.stdout.trim());
    assert_eq!(out.stdout.trim(), "10000");
    let lines = trace_lines(&text);
    let rt: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("--- SIGRT_4 "))
        .collect();
    assert_eq!(rt.len(), 10000);
    assert!(
        rt[9999].contains("si_int=9999, si_ptr=0x270f}"),
        "{}",
        rt[9999]
    );
}

#[test]
fn realtime_queue_matches_strace() {
    assert_same_as_strace(&[], &prog("rtqueue"), &["50"]);
}

#[test]
fn signal_storm_loses_nothing() {
    let (out, text) = trace(&[], &prog("storm"), &["20000"]);
    assert_eq!(out.stdout.trim(), "20000");
    assert_eq!(out.code(), 0);
    let lines = trace_lines(&text);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("--- SIGUSR1 "))
            .count(),
        20000
    );
}

#[test]
fn command_output_stays_clean() {
    let out = run(sigtrace().args(["sh", "-c", "echo hello; kill -USR1 $$"]));
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.code(), 128 + libc::SIGUSR1);
}
