//! Bad input: one clear line on stderr naming what was wrong, a non-zero exit, nothing left traced.
mod common;
use common::*;
use std::process::Stdio;

/// Asserts a single `sigtrace: ...` line mentioning every `needle`, and the exit status.
fn assert_error(out: &Output, code: i32, needles: &[&str]) {
    assert_eq!(out.code(), code, "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {:?}", out.stderr);
    assert!(lines[0].starts_with("sigtrace: "), "{}", lines[0]);
    for n in needles {
        assert!(lines[0].contains(n), "{:?} lacks {n:?}", lines[0]);
    }
}

#[test]
fn no_arguments() {
    assert_error(&run(&mut sigtrace()), 1, &["COMMAND", "-p"]);
}

#[test]
fn missing_pid() {
    assert_error(
        &run(sigtrace().args(["-p", "2147483647"])),
        1,
        &["2147483647", "no such process"],
    );
}

#[test]
fn malformed_pid() {
    assert_error(&run(sigtrace().args(["-p", "12ab"])), 1, &["12ab"]);
}

#[test]
fn self_attach() {
    // `sh -c 'exec sigtrace -p $$'`: the pid is sigtrace's own.
    let script = format!("exec {} -p $$", env!("CARGO_BIN_EXE_sigtrace"));
    assert_error(
        &run(std::process::Command::new("sh").args(["-c", &script])),
        1,
        &["sigtrace itself"],
    );
}

#[test]
fn unknown_signal_name() {
    assert_error(
        &run(sigtrace().args(["-e", "signal=SIGFOO", "true"])),
        1,
        &["SIGFOO"],
    );
    assert_error(
        &run(sigtrace().args(["--signal=TERM,BAR", "true"])),
        1,
        &["BAR"],
    );
}

#[test]
fn unknown_option() {
    assert_error(
        &run(sigtrace().args(["--frobnicate", "true"])),
        1,
        &["--frobnicate"],
    );
}

#[test]
fn command_not_found() {
    assert_error(
        &run(sigtrace().arg("no-such-command-xyz")),
        127,
        &["no-such-command-xyz", "not found"],
    );
    assert_error(
        &run(sigtrace().arg("./no/such/path")),
        127,
        &["./no/such/path", "No such file"],
    );
}

#[test]
fn command_not_executable() {
    let dir = tempdir("noexec");
    let f = dir.join("data.txt");
    std::fs::write(&f, "not a program").unwrap();
    let shown = f.display().to_string();
    assert_error(
        &run(sigtrace().arg(&f)),
        126,
        &[&shown, "Permission denied"],
    );
}

#[test]
fn unwritable_output_file() {
    assert_error(
        &run(sigtrace().args(["-o", "/no/such/dir/t.txt", "true"])),
        1,
        &["/no/such/dir/t.txt"],
    );
}

#[test]
fn already_traced() {
    // A program traced by one sigtrace cannot be attached by another; the first goes on.
    let (first, target, _) = launch_ready(&[], &prog("waiter"), &[], |p| catches(p, libc::SIGUSR2));
    // The tracer is sigtrace itself or a sigtrace process of its own.
    let tp = tracer_of(target);
    assert!(tp == first.id() || descendants(first.id()).contains(&tp));
    let out = run(sigtrace().args(["-p", &target.to_string()]));
    assert_error(
        &out,
        1,
        &[&target.to_string(), "already traced by", &tp.to_string()],
    );
    assert_eq!(tracer_of(target), tp);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(target as i32),
        nix::sys::signal::SIGUSR2,
    )
    .unwrap();
    assert_eq!(finish(first, "first sigtrace").code(), 0);
}

#[test]
fn failed_attach_leaves_nothing_attached() {
    // The first pid is attached, the second does not exist: sigtrace must let the first go.
    let mut good = std::process::Command::new(prog("waiter"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = good.id();
    wait_for("the waiter's handlers", || catches(pid, libc::SIGUSR2));
    let out = run(sigtrace().args(["-p", &format!("{pid},2147483647")]));
    assert_error(&out, 1, &["2147483647"]);
    assert_eq!(tracer_of(pid), 0);
    assert!(matches!(state(pid), 'S' | 'R'), "state {}", state(pid));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::SIGUSR2,
    )
    .unwrap();
    let st = good.wait().unwrap();
    assert!(st.success());
}

#[test]
fn huge_arguments_give_short_errors() {
    // 100,000-byte arguments (the kernel takes up to 128 KiB each): the error quotes only the
    // start of what was given, escaped, on one readable line.
    let huge = |c: &str| c.repeat(100_000);
    let cases = [
        vec!["-e".to_string(), format!("trace={}", huge("x"))],
        vec!["-e".to_string(), format!("signal={}", huge("\u{1b}"))],
        vec!["-p".to_string(), huge("7")],
        vec![format!("--{}", huge("y"))],
    ];
    for args in cases {
        let out = run(sigtrace().args(&args).arg("true"));
        assert_error(&out, 1, &["(100"]);
        assert!(out.stderr.len() < 400, "{} bytes", out.stderr.len());
        assert!(!out.stderr.contains('\u{1b}'), "raw escape byte");
    }
}

#[test]
fn many_pids_and_many_syscall_names() {
    // 12,000 pids (96 KB), none of them alive: one error naming the first that is not there.
    let pids: Vec<String> = (4_000_000..4_012_000).map(|p| p.to_string()).collect();
    let out = run(sigtrace().args(["-p", &pids.join(",")]));
    assert_error(&out, 1, &["4000000", "no such process"]);
    // 15,000 syscall names: the set is what they name.
    let names = ["getpid", "kill", "rt_sigaction"].repeat(5000).join(",");
    let (out, text) = trace(&["-e", &format!("trace={names}")], &prog("selfkill"), &[]);
    assert_eq!(out.code(), 143, "{}", out.stderr);
    assert!(text.contains("kill("), "{text}");
    assert!(!text.contains("exit_group("), "{text}");
}

#[test]
fn a_huge_command_name_or_output_path_gives_a_short_line() {
    // A 120 KB name is quoted as -e quotes what it rejects: 64 characters, then its length.
    let huge = "x".repeat(120_000);
    let out = run(sigtrace().arg(&huge));
    assert_error(&out, 127, &["command not found", "...(120000 bytes)"]);
    assert!(out.stderr.len() < 200, "{} bytes", out.stderr.len());
    let out = run(sigtrace().args(["-o", &format!("/nonexistent/{huge}"), "true"]));
    assert_error(&out, 1, &["...(120013 bytes)"]);
    assert!(out.stderr.len() < 200, "{} bytes", out.stderr.len());
    let path = std::env::temp_dir().join(&huge[..250]);
    let out = run(sigtrace().arg(&path));
    assert_error(&out, 127, &["cannot execute", "...(", " bytes)"]);
    assert!(out.stderr.len() < 250, "{} bytes", out.stderr.len());
}

#[test]
fn signed_pids_are_rejected_as_strace_rejects_them() {
    for pid in ["+5", "-1"] {
        let out = run(sigtrace().args(["-p", pid]));
        assert_error(&out, 1, &[&format!("invalid process id: '{pid}'")]);
    }
}

#[test]
fn an_empty_command_name_is_quoted() {
    let out = run(sigtrace().args(["--", ""]));
    assert_error(&out, 127, &["sigtrace: '': command not found"]);
}

/// SIGTRACE_RINGS takes perf or instance; anything else is refused before the command runs.
#[test]
fn an_unknown_rings_setting_is_refused() {
    let marker = tempdir("rings").join("ran");
    let out = run(sigtrace()
        .env("SIGTRACE_RINGS", "bogus")
        .args(["--no-ptrace", "touch"])
        .arg(&marker));
    assert_error(&out, 1, &["SIGTRACE_RINGS=bogus", "perf or instance"]);
    assert!(!marker.exists(), "the command ran");
}
