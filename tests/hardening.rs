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

#[test]
fn attach_and_detach_a_signal_storm_many_times_loses_nothing() {
    // A process signalling itself as fast as it can; sigtrace attaches, sees signals, detaches
    // (SIGINT), thirty times. The process must never stay stopped or traced, and at the end its
    // handler must have counted every signal it sent.
    let storm = Command::new(prog("selfstorm"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = storm.id();
    wait_for("the handlers", || catches(pid, libc::SIGUSR2));
    let dir = tempdir("cycles");
    for cycle in 0..30 {
        let file = dir.join(format!("t{cycle}.txt"));
        let tracer = sigtrace()
            .args(["-q", "-e", "trace=none", "-o"])
            .arg(&file)
            .args(["-p", &pid.to_string()])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let tp = tracer.id();
        wait_for("signals while attached", || {
            std::fs::read_to_string(&file).is_ok_and(|t| t.matches("--- SIGUSR1").count() >= 20)
        });
        signal(tp, nix::sys::signal::SIGINT);
        let out = finish(tracer, "sigtrace");
        assert_eq!(out.code(), 0, "cycle {cycle}: {}", out.stderr);
        wait_for("the detach", || tracer_of(pid) == 0);
        assert!(
            matches!(state(pid), 'R' | 'S'),
            "cycle {cycle}: state {}",
            state(pid)
        );
    }
    signal(pid, nix::sys::signal::SIGUSR2);
    let out = finish(storm, "selfstorm");
    let counts: Vec<u64> = out
        .stdout
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(
        counts[0], counts[1],
        "sent and handled differ: {}",
        out.stdout
    );
    assert_eq!(out.code(), 0);
}

#[test]
fn thread_churn_and_a_leader_that_exits_first() {
    let dir = tempdir("churn");
    let file = dir.join("t.txt");
    let out = run(sigtrace()
        .args(["-e", "trace=none", "-o"])
        .arg(&file)
        .arg(prog("churn"))
        .arg("2000"));
    assert_eq!(out.code(), 3, "{}", out.stderr);
    let lines = trace_lines(&std::fs::read_to_string(&file).unwrap());
    // 2000 threads, the last one, and the leader: every one ends with a line.
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with("+++ exited with 0 +++"))
            .count(),
        2000
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with("+++ exited with 3 +++"))
            .count(),
        2
    );
}

#[test]
fn attaching_to_a_zombie_says_so() {
    // `sh -c 'true & exec sleep 60'`: the exited `true` stays a zombie of the sleep.
    let mut parent = Command::new("sh")
        .args(["-c", "true & exec sleep 60"])
        .spawn()
        .unwrap();
    let ppid = parent.id();
    let mut zombie = 0;
    wait_for("a zombie child", || {
        zombie = child_of(ppid);
        zombie != 0 && state(zombie) == 'Z'
    });
    let out = run(sigtrace().args(["-p", &zombie.to_string()]));
    parent.kill().unwrap();
    parent.wait().unwrap();
    assert_eq!(out.code(), 1);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("zombie"), "{}", out.stderr);
}
