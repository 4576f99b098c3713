//! Signal syscalls decoded as strace decodes them, on the seccomp path and the fallback path.
mod common;
use common::*;
use std::path::Path;
use std::process::Stdio;

#[test]
fn every_signal_syscall_matches_strace() {
    let t = assert_same_as_strace(&[], &prog("sigcalls"), &[]);
    // Spot checks that the comparison really covered the decoders.
    assert_some_line_has(
        &t,
        &[
            "rt_sigaction(SIGUSR1, {sa_handler=",
            "rt_sigprocmask(0x7 /* SIG_??? */, [], NULL, 8) = -1 EINVAL (Invalid argument)",
            "rt_sigpending([USR1], 4)",
            "= 10 (SIGUSR1)",
            "rt_sigsuspend([CHLD], 8)                = ? ERESTARTNOHAND (To be restarted if no handler)",
            "rt_sigreturn({mask=[USR1 CHLD]})        = -1 EINTR (Interrupted system call)",
            "signalfd4(-1, [USR1], 8, SFD_CLOEXEC|SFD_NONBLOCK) = ",
            "execve(\"/nonexistent/prog\\n\\\"q\\\"\", NULL, NULL) = -1 ENOENT (No such file or directory)",
            "exit_group(0)                           = ?",
        ],
    );
}

fn assert_some_line_has(lines: &[String], needles: &[&str]) {
    for needle in needles {
        assert!(
            lines.iter().any(|l| l.contains(needle)),
            "no line has {needle:?}"
        );
    }
}

#[test]
fn process_calls_match_strace() {
    // clone, clone3, fork, vfork, wait4 and waitid with statuses of each kind and bad arguments.
    let t = assert_same_as_strace(&["-e", "trace=%process"], &prog("procs"), &[]);
    assert_some_line_has(
        &t,
        &[
            "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x",
            "wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGTERM}], __WALL, {ru_utime={tv_sec=",
            "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED, NULL) = ",
            "waitid(P_PID, ",
            ", {}, WNOHANG|WEXITED, NULL) = 0",
            "clone(child_stack=NULL, flags=CLONE_PARENT_SETTID|SIGCHLD, parent_tid=[",
            "clone3({flags=CLONE_PARENT_SETTID, parent_tid=0x",
            ", exit_signal=SIGCHLD, stack=NULL, stack_size=0} => {parent_tid=[",
            "clone3({flags=0, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88) = ",
            "clone3(0x1, 88)                         = -1 EFAULT (Bad address)",
            "vfork()",
            "fork()",
            "wait4(12345678, 0x1, 0, 0x1)            = -1 ECHILD (No child processes)",
            "waitid(0x7 /* P_??? */, 0, 0x",
        ],
    );
}

#[test]
fn flags_with_no_known_flag_match_strace() {
    let t = assert_same_as_strace(
        &[
            "-e",
            "trace=rt_sigaction,signalfd4,wait4,execveat,sigaltstack",
        ],
        &prog("oddflags"),
        &[],
    );
    assert_some_line_has(
        &t,
        &[
            "sa_flags=0x400 /* SA_??? */}",
            "signalfd4(-1, [], 8, 0x1 /* SFD_??? */)",
            "wait4(-1, NULL, 0x10 /* W??? */, NULL)",
            "execveat(-1, \"\", NULL, NULL, 0x4 /* AT_??? */)",
            "ss_flags=0x10 /* SS_??? */",
        ],
    );
}

#[test]
fn fallback_without_seccomp_matches_strace() {
    // --no-seccomp: PTRACE_SYSCALL at every syscall, same lines.
    let (s, t, sc, tc) = compare_with(&["-f"], &["--no-seccomp"], &prog("sigcalls"), &[]);
    assert_eq!(normalize(&t), normalize(&s));
    assert_eq!(tc, sc);
}

#[test]
fn the_seccomp_path_matches_strace() {
    // -f: the seccomp filter stops the command (and its child) at the traced syscalls only.
    let (s, t, sc, tc) = compare(&["-f"], &prog("sigcalls"), &[]);
    assert_eq!(normalize(&t), normalize(&s));
    assert_eq!(tc, sc);
}

#[test]
fn selected_syscalls() {
    for set in [
        "trace=kill,tgkill",
        "trace=none",
        "trace=%signal",
        "trace=rt_sigaction,exit_group",
    ] {
        let (s, t, sc, tc) = compare(&["-e", set], &prog("sigcalls"), &[]);
        assert_eq!(normalize(&t), normalize(&s), "{set}");
        assert_eq!(tc, sc);
    }
}

#[test]
fn bad_trace_sets_are_one_line_errors() {
    for (arg, needle) in [
        ("trace=frobnicate", "frobnicate"),
        ("trace=kill,", "empty"),
        ("trace=%bogus", "%bogus"),
    ] {
        let out = run(sigtrace().args(["-e", arg, "true"]));
        assert_eq!(out.code(), 1);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains(needle), "{}", out.stderr);
    }
}

#[test]
fn unfinished_and_resumed_lines_match_strace() {
    let (s, t, sc, tc) = compare(&["-f"], &prog("interleave"), &[]);
    assert_eq!(tc, 0);
    assert_eq!(tc, sc);
    assert_eq!(normalize(&t), normalize(&s));
    // The split itself, as strace writes it.
    let split = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.contains("<unfinished ...>") || l.contains(" resumed>"))
            .map(|l| {
                regex::Regex::new(r"^\d+ +|\d{3,}")
                    .unwrap()
                    .replace_all(l, "N")
                    .to_string()
            })
            .filter(|l| l.contains("rt_sigtimedwait"))
            .collect()
    };
    assert_eq!(split(&t), split(&s));
    assert_eq!(split(&t).len(), 2, "{t:#?}");
    assert!(
        split(&t)[0].ends_with("rt_sigtimedwait([USR1],  <unfinished ...>"),
        "{:?}",
        split(&t)
    );
}

/// The `Seccomp:` mode of a process (0 none, 2 filter).
fn seccomp_mode(pid: u32) -> String {
    status_field(pid, "Seccomp").unwrap_or_default()
}

#[test]
fn launch_uses_a_seccomp_filter_with_f_only_and_falls_back_on_request() {
    // Without -f no filter: every child would inherit it (as strace allows --seccomp-bpf only
    // with -f). With -f and `-e trace=none` the filter still stops at the kill family, which
    // names a SIGKILL's sender.
    for (flags, mode) in [
        (&["-f"][..], "2"),
        (&[][..], "0"),
        (&["-f", "--no-seccomp"][..], "0"),
        (&["-f", "-e", "trace=none"][..], "2"),
        (&["-e", "trace=none"][..], "0"),
    ] {
        let (child, target, _) =
            launch_ready(flags, &prog("waiter"), &[], |p| catches(p, libc::SIGUSR2));
        assert_eq!(seccomp_mode(target), mode, "{flags:?}");
        signal(target, nix::sys::signal::SIGUSR2);
        assert_eq!(finish(child, "sigtrace").code(), 0);
    }
}

#[test]
fn attach_shows_syscalls_too() {
    // A process blocked in pause(): the signal interrupts it, the handler returns.
    let mut waiter = std::process::Command::new(prog("waiter"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = waiter.id();
    wait_for("pause()", || {
        catches(pid, libc::SIGUSR2) && in_syscall(pid, 34)
    });
    let dir = tempdir("attach-sys");
    let file = dir.join("t.txt");
    let tracer = sigtrace()
        .arg("-o")
        .arg(&file)
        .args(["-p", &pid.to_string()])
        .spawn()
        .unwrap();
    let tp = tracer.id();
    // As strace -p: the thread is interrupted right after the attach, and its pause() is
    // restarted under PTRACE_SYSCALL, so its entry is shown before any signal.
    wait_for("the restarted pause(", || {
        tracer_of(pid) == tp && std::fs::read_to_string(&file).is_ok_and(|t| t.contains("pause("))
    });
    signal(pid, nix::sys::signal::SIGUSR1);
    wait_for("the signal lines", || {
        all_lines(&std::fs::read_to_string(&file).unwrap_or_default()).len() >= 4
    });
    signal(pid, nix::sys::signal::SIGUSR2);
    assert!(waiter.wait().unwrap().success());
    assert_eq!(finish(tracer, "sigtrace").code(), 0);
    let lines = all_lines(&std::fs::read_to_string(&file).unwrap());
    // As strace -p: the pause() it was attached in ends when the signal comes.
    assert_eq!(
        lines[0],
        "pause()                                 = ? ERESTARTNOHAND (To be restarted if no handler)"
    );
    assert_eq!(lines[1], from_test("SIGUSR1"));
    assert_eq!(
        lines[2],
        "rt_sigreturn({mask=[]})                 = -1 EINTR (Interrupted system call)"
    );
    assert!(
        lines.contains(&"exit_group(0)                           = ?".to_string()),
        "{lines:#?}"
    );
}

#[test]
fn huge_argument_list_is_cut_as_strace_cuts_it() {
    // 100,000 arguments, some long, some with control bytes: execve shows 32 of them and "...",
    // each string cut at 32 bytes and escaped, exactly as strace does.
    let mut args: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    args[1] = "\u{1b}[31mred\n".into();
    args[2] = "z".repeat(5000);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let t = assert_same_as_strace(&["-e", "trace=execve"], Path::new("/bin/true"), &args);
    assert!(t[0].contains(r#""\33[31mred\n""#), "{}", t[0]);
    assert!(t[0].contains("...], "), "{}", t[0]);
}
