//! Promises under faults and hostile conditions: broken output, permissions.
mod common;
use common::*;
use std::process::{Command, Stdio};

#[test]
fn full_output_file_does_not_disturb_the_command() {
    // Every write of the trace fails (ENOSPC); the command still runs to its end, its status is
    // passed through, and sigtrace says once what went wrong.
    let out = run(sigtrace()
        .args(["-o", "/dev/full"])
        .arg(prog("storm"))
        .arg("2000"));
    assert_eq!(out.stdout.trim(), "2000");
    assert_eq!(out.code(), 0);
    let complaints: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("/dev/full"))
        .collect();
    assert_eq!(complaints.len(), 1, "{}", out.stderr);
    assert!(
        complaints[0].contains("No space left on device"),
        "{}",
        complaints[0]
    );
}

#[test]
fn closed_output_pipe_does_not_disturb_the_command() {
    // `sigtrace ... 2>&1 | head -1`: the reader goes away after one line.
    let script = format!(
        "{} {} 3000 2>&1 >/dev/null | head -1 >/dev/null; exit ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_sigtrace"),
        prog("storm").display()
    );
    let out = run(Command::new("bash").args(["-c", &script]));
    assert_eq!(
        out.code(),
        0,
        "the command's status passes through: {}",
        out.stderr
    );
}

#[test]
fn attaching_to_another_users_process_says_why() {
    let me = nix::unistd::geteuid();
    if !me.is_root() || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: needs root (to run as nobody) and setpriv(1)");
        return;
    }
    let mut target = Command::new(prog("waiter"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = target.id();
    wait_for("the waiter", || catches(pid, libc::SIGUSR2));
    let out = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_sigtrace"))
        .args(["-p", &pid.to_string()]));
    target.kill().unwrap();
    target.wait().unwrap();
    assert_eq!(out.code(), 1);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(
        lines[0].contains(&format!("attach: pid {pid}: Operation not permitted")),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("owned by uid 0") && lines[0].contains("CAP_SYS_PTRACE"),
        "{}",
        lines[0]
    );
}
