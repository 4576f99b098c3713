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
        skip("needs root (to run as nobody) and setpriv(1)");
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
    const CYCLES: usize = 100;
    // A process signalling itself as fast as it can (SIGUSR1, and queued SIGRTMIN+4 eight at a
    // time); sigtrace attaches, sees signals, detaches (SIGINT), a hundred times. Most detaches
    // find a task in a signal-delivery-stop, whose signal must be handed back. The process must
    // never stay stopped or traced, and at the end its handlers must have counted every signal.
    let storm = Command::new(prog("selfstorm"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = storm.id();
    wait_for("the handlers", || catches(pid, libc::SIGUSR2));
    let dir = tempdir("cycles");
    for cycle in 0..CYCLES {
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
        assert_let_go(pid, &format!("cycle {cycle}"));
    }
    signal(pid, nix::sys::signal::SIGUSR2);
    let out = finish(storm, "selfstorm");
    let counts: Vec<u64> = out
        .stdout
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 4, "{}", out.stdout);
    assert!(counts[2] > 0, "no real-time signal sent: {}", out.stdout);
    assert_eq!(
        counts[0], counts[1],
        "SIGUSR1 sent, handled: {}",
        out.stdout
    );
    assert_eq!(
        counts[2], counts[3],
        "SIGRTMIN+4 sent, handled: {}",
        out.stdout
    );
    assert_eq!(out.code(), 0);
    eprintln!("{CYCLES} cycles; sent and handled: {}", out.stdout.trim());
}

#[test]
fn thread_churn_and_a_leader_that_exits_first() {
    let (out, text) = trace(&["-e", "trace=none"], &prog("churn"), &["2000"]);
    assert_eq!(out.code(), 3, "{}", out.stderr);
    let lines = trace_lines(&text);
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

/// The pids of lines in a `-f` trace (strace's "PID " prefix) that end with `suffix`.
fn pids_ending(text: &str, suffix: &str) -> Vec<u32> {
    text.lines()
        .filter(|l| l.ends_with(suffix))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// Asserts that `pids` holds `n` pids, all different.
fn assert_once_each(pids: &[u32], n: usize, what: &str) {
    let distinct: std::collections::HashSet<&u32> = pids.iter().collect();
    assert_eq!(pids.len(), n, "{what}");
    assert_eq!(distinct.len(), n, "{what}: some twice");
}

#[test]
fn a_bounded_fork_bomb_is_followed_to_its_end() {
    // Every process forks as fast as it can until 1,500 forks are spent. A child's first stop
    // often comes before its parent's fork event, and the child may have ended by then: each
    // process must still be announced once, placed once and end once.
    let (out, text) = trace(&["-f"], &prog("bomb"), &["1500"]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let forks: usize = out.stdout.trim().parse().unwrap();
    assert_eq!(forks, 1500);
    assert_once_each(
        &pids_ending(&text, "+++ exited with 0 +++"),
        forks + 1,
        "end lines",
    );
    let contexts: Vec<u32> = text
        .lines()
        .filter(|l| l.contains(": parent "))
        .filter_map(|l| {
            l.strip_prefix("sigtrace: ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_once_each(&contexts, forks + 1, "context lines");
    let attached: Vec<u32> = out
        .stderr
        .lines()
        .filter_map(|l| {
            l.strip_prefix("sigtrace: Process ")?
                .strip_suffix(" attached")
        })
        .map(|p| p.parse().unwrap())
        .collect();
    assert_once_each(&attached, forks, "\"Process N attached\" lines");
}

#[test]
fn a_bounded_fork_bomb_without_f_ends_once() {
    // Without -f the forks are not traced: one end line, no hang.
    let (out, text) = trace(&[], &prog("bomb"), &["1500"]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "1500");
    let ends: Vec<String> = trace_lines(&text)
        .into_iter()
        .filter(|l| l.starts_with("+++"))
        .collect();
    assert_eq!(ends, ["+++ exited with 0 +++"]);
}

#[test]
fn a_reused_pid_is_a_new_process() {
    // Two children with the same pid, one after the other (clone3's set_tid): the first sends
    // SIGUSR1 and exits 1, the second, another program, sends SIGUSR2 and exits 2. The lines
    // are strace's, and what sigtrace says of the second is not what it knew of the first.
    let (out, text) = trace(&["-f"], &prog("pidreuse"), &[]);
    if out.stdout.trim() == "unsupported" {
        skip("clone3 set_tid needs CAP_SYS_ADMIN");
        return;
    }
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let pid: u32 = out.stdout.trim().parse().unwrap();
    let ends: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{pid} ")))
        .map(str::trim_start)
        .filter(|l| l.starts_with("+++"))
        .collect();
    assert_eq!(ends, ["+++ exited with 1 +++", "+++ exited with 2 +++"]);
    let usr2 = text
        .lines()
        .find(|l| l.starts_with("sigtrace: SIGUSR2"))
        .unwrap();
    // Its command line, or only its name when it has already exited (a zombie has no argv).
    assert!(
        usr2.contains(&format!("from {pid} (pidreuse second, "))
            || usr2.contains(&format!("from {pid} (exe, ")),
        "{usr2}"
    );
    let contexts = text
        .lines()
        .filter(|l| l.starts_with(&format!("sigtrace: {pid} (")) && l.contains(": parent "))
        .count();
    assert_eq!(contexts, 2, "{text}");
    let (s, t, s_code, t_code) = compare(&["-f"], &prog("pidreuse"), &[]);
    assert_eq!(t_code, s_code);
    assert_eq!(normalize(&t), normalize(&s));
}

#[test]
fn sigtrace_killed_in_launch_mode_does_what_the_readme_says() {
    // With the seccomp filter (-f, even with nothing shown: it stops at the kill family) the
    // command dies with sigtrace (PTRACE_O_EXITKILL: its filter would fail every traced syscall
    // with ENOSYS once no tracer is there). Without a filter (no -f, --no-seccomp) it runs on
    // untraced and handles its signals.
    let gone = |p: u32| matches!(state(p), 'Z' | '?');
    for (flags, runs_on) in [
        (&["-f"][..], false),
        (&["-f", "-e", "trace=none"][..], false),
        (&[][..], true),
        (&["-e", "trace=none"][..], true),
        (&["-f", "--no-seccomp"][..], true),
    ] {
        let (mut tracer, target, _file) = launch_ready(flags, &prog("waiter"), &["sleep"], |p| {
            catches(p, libc::SIGUSR2)
        });
        // The command shares sigtrace's stdout and stderr, and may outlive it.
        drop((tracer.stdout.take(), tracer.stderr.take()));
        signal(tracer.id(), nix::sys::signal::SIGKILL);
        assert_eq!(finish(tracer, "sigtrace").code(), 128 + libc::SIGKILL);
        if runs_on {
            assert_let_go(target, &format!("{flags:?}"));
            signal(target, nix::sys::signal::SIGUSR2);
        }
        wait_for("the command to end", || gone(target));
    }
}
