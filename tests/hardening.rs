//! Promises under faults and hostile conditions: broken output, permissions.
mod common;
use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn full_output_file_does_not_disturb_the_command() {
    // Every write of the trace fails (ENOSPC); the command still runs to its end, sigtrace says
    // once what went wrong, and its status says it failed (the command's was 0).
    let out = run(sigtrace()
        .args(["-o", "/dev/full"])
        .arg(prog("storm"))
        .arg("2000"));
    assert_eq!(out.stdout.trim(), "2000");
    assert_eq!(out.code(), 1);
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
        // --kill-on-exit: the command dies with sigtrace whatever the mode, as strace 6.x's.
        (&["--kill-on-exit"][..], false),
        (&["-f", "--no-seccomp", "--kill-on-exit"][..], false),
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

/// `sleepers N`: N children sleeping in pause(), all descendants of the returned process.
fn sleepers(n: usize) -> (Child, Vec<u32>) {
    use std::io::BufRead;
    let mut parent = Command::new(prog("sleepers"))
        .arg(n.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(parent.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    let pids = descendants(parent.id());
    assert_eq!(pids.len(), n);
    wait_for("every sleeper asleep", || {
        pids.iter().all(|&p| state(p) == 'S')
    });
    (parent, pids)
}

/// Starts `tracer -p PIDS` (stderr piped), killed with its descendants when the guard drops.
fn attach_all(mut tracer: Command, pids: &[u32]) -> (Child, KillOnDrop) {
    let child = tracer
        .args(["-p", &pid_list(pids)])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(child.id());
    (child, guard)
}

/// The thread ids of `pid`, from /proc/PID/task; none once it is gone.
fn tasks_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn pid_list(pids: &[u32]) -> String {
    pids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn thousands_of_pids_are_attached_and_let_go_on_sigint() {
    const N: usize = 2500;
    // Attaching queues events for the renderer, whose channel is bounded: every pid must be
    // attached, and SIGINT must let every one go, neither traced nor stopped.
    let (parent, pids) = sleepers(N);
    let _sleepers = KillOnDrop(parent.id());
    let (tracer, _tracer) = attach_all(sigtrace(), &pids);
    let tp = tracer.id();
    let start = Instant::now();
    wait_for("every pid attached", || {
        pids.iter().all(|&p| tracer_of(p) == tp)
    });
    let attached = start.elapsed();
    signal(tp, nix::sys::signal::SIGINT);
    let out = finish(tracer, "sigtrace");
    let let_go = start.elapsed() - attached;
    assert_eq!(out.code(), 0, "{}", out.stderr.lines().last().unwrap_or(""));
    for &p in &pids {
        assert_let_go(p, &format!("sleeper {p}"));
    }
    let count = |what: &str| out.stderr.lines().filter(|l| l.ends_with(what)).count();
    assert_eq!(count(" attached"), N);
    assert_eq!(count(" detached"), N);
    eprintln!("{N} pids attached in {attached:?}, let go in {let_go:?}");
}

#[test]
fn a_failed_attach_after_many_good_ones_says_so_and_lets_all_go() {
    const N: usize = 1500;
    let (parent, pids) = sleepers(N);
    let _sleepers = KillOnDrop(parent.id());
    // A pid that does not exist, and one that another tracer holds (PTRACE_SEIZE: EPERM).
    let mut strace = Command::new("strace")
        .args(["-o", "/dev/null", "-e", "trace=none", "sleep", "600"])
        .spawn()
        .unwrap();
    let _strace = KillOnDrop(strace.id());
    let mut held = 0;
    wait_for("strace's sleep", || {
        held = descendants(strace.id()).into_iter().next().unwrap_or(0);
        held != 0 && tracer_of(held) == strace.id() && comm(held) == "sleep"
    });
    let _held = KillOnDrop(held);
    for (bad, why) in [
        (99_999_999, "no such process".to_string()),
        (held, format!("already traced by {}", strace.id())),
    ] {
        let start = Instant::now();
        let mut cmd = sigtrace();
        cmd.arg("-q");
        let (tracer, _tracer) = attach_all(cmd, &[&pids[..], &[bad]].concat());
        let out = finish_within(tracer, Duration::from_secs(30));
        assert_eq!(out.code(), 1, "{}", out.stderr);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", out.stderr);
        assert!(
            lines[0].starts_with(&format!("sigtrace: attach: pid {bad}: "))
                && lines[0].contains(&why),
            "{}",
            lines[0]
        );
        for &p in &pids {
            assert_let_go(p, &format!("sleeper {p}"));
        }
        eprintln!(
            "{N} pids, then {bad}: one line, all let go in {:?}",
            start.elapsed()
        );
    }
    // strace killed would leave its sleep running, untraced: the sleep goes first.
    signal(held, nix::sys::signal::SIGKILL);
    strace.kill().unwrap();
    strace.wait().unwrap();
}

/// As `finish`, with a shorter limit.
fn finish_within(mut child: Child, limit: Duration) -> Output {
    use wait_timeout::ChildExt;
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            use std::io::Read;
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let Some(status) = child.wait_timeout(limit).unwrap() else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("sigtrace did not end within {limit:?}");
    };
    Output {
        status,
        stdout: String::new(),
        stderr: reader.join().unwrap(),
    }
}

/// Attaches `tracer` (sigtrace or strace, writing to the returned file) to `late_handler`,
/// which installs its handlers only after the attach; then SIGUSR1 (ignored) and SIGTERM
/// (caught, it then exits 0). Returns the trace file's text.
fn trace_late_handler(tracer: &mut Command, name: &str) -> String {
    let dir = tempdir(name);
    let go = dir.join("go");
    let file = dir.join("trace.txt");
    let chatter = dir.join("stderr.txt");
    let target = Command::new(prog("late_handler"))
        .arg(&go)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = target.id();
    let _target = KillOnDrop(pid);
    let tracer = tracer
        .arg("-o")
        .arg(&file)
        .args(["-p", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&chatter).unwrap())
        .spawn()
        .unwrap();
    let _tracer = KillOnDrop(tracer.id());
    // Both print this once every thread is seized (and, if the tracer does so, interrupted).
    wait_for("the attach", || {
        std::fs::read_to_string(&chatter)
            .is_ok_and(|t| t.contains(&format!("Process {pid} attached")))
    });
    std::fs::write(&go, "").unwrap();
    wait_for("the handlers", || {
        catches(pid, libc::SIGTERM) && in_ignored(pid, libc::SIGUSR1)
    });
    signal(pid, nix::sys::signal::SIGUSR1);
    // The ignored SIGUSR1 ends pause() and the kernel restarts it: the SIGTERM comes once it is
    // back in pause(), or whether the second pause() shows would depend on timing.
    wait_for("the SIGUSR1 line", || {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains("--- SIGUSR1 "))
    });
    wait_for("pause() again", || {
        std::fs::read_to_string(&file).is_ok_and(|t| t.matches("pause(").count() >= 2)
    });
    signal(pid, nix::sys::signal::SIGTERM);
    let out = finish(target, "late_handler");
    assert_eq!(out.code(), 0);
    let t = finish(tracer, name);
    assert_eq!(
        t.code(),
        0,
        "{}",
        std::fs::read_to_string(&chatter).unwrap()
    );
    std::fs::read_to_string(&file).unwrap()
}

fn in_ignored(pid: u32, sig: i32) -> bool {
    status_field(pid, "SigIgn")
        .and_then(|m| u64::from_str_radix(&m, 16).ok())
        .is_some_and(|m| m & (1 << (sig - 1)) != 0)
}

#[test]
fn attach_sees_handlers_installed_right_after_it() {
    let text = trace_late_handler(&mut sigtrace(), "sigtrace");
    let usr1 = text
        .lines()
        .find(|l| l.starts_with("sigtrace: SIGUSR1 "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(usr1.starts_with("sigtrace: SIGUSR1 ignored;"), "{usr1}");
    let term = text
        .lines()
        .find(|l| l.starts_with("sigtrace: SIGTERM "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        term.starts_with("sigtrace: SIGTERM caught by a handler;"),
        "{term}"
    );
    for call in [
        "rt_sigaction(SIGTERM, {sa_handler=0x",
        "rt_sigaction(SIGUSR1, {sa_handler=SIG_IGN",
    ] {
        assert!(text.lines().any(|l| l.starts_with(call)), "{call}: {text}");
    }
    // strace -p, which interrupts each thread right after seizing it, prints the same lines.
    let s = trace_late_handler(
        Command::new("strace").args(["-e", &format!("trace={DEFAULT_SET}")]),
        "strace",
    );
    // Whether pause() restarts between the two signals depends on when each arrives.
    let lines = |t: &str| -> Vec<String> {
        all_lines(t)
            .into_iter()
            .filter(|l| !l.starts_with("pause("))
            .collect()
    };
    assert_eq!(normalize(&lines(&text)), normalize(&lines(&s)));
}

#[test]
fn a_non_blocking_stderr_read_late_gets_the_whole_trace() {
    use std::io::Read;
    const N: usize = 3000;
    // Some CI runners hand their steps a pipe set O_NONBLOCK: a full pipe must be waited for
    // (as strace polls), never give up the trace or cut a line.
    // O_CLOEXEC: no other test's child may hold the write end open.
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    let flags = nix::fcntl::fcntl(&w, nix::fcntl::FcntlArg::F_GETFL).unwrap();
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&w, nix::fcntl::FcntlArg::F_SETFL(flags)).unwrap();
    let mut cmd = sigtrace();
    cmd.arg(prog("storm"))
        .arg(N.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(w));
    let tracer = cmd.spawn().unwrap();
    drop(cmd);
    let tp = tracer.id();
    let _tracer = KillOnDrop(tp);
    // The reader starts late: once sigtrace waits for the full pipe (poll or ppoll), or ended.
    let waits =
        |t: u32| in_syscall(t, libc::SYS_poll as u32) || in_syscall(t, libc::SYS_ppoll as u32);
    wait_for("sigtrace to wait for the full pipe", || {
        matches!(state(tp), 'Z' | '?') || tasks_of(tp).into_iter().any(waits)
    });
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        std::fs::File::from(r).read_to_end(&mut text).unwrap();
        text
    });
    let out = finish(tracer, "sigtrace");
    assert_eq!(out.code(), 0);
    let text = String::from_utf8(reader.join().unwrap()).unwrap();
    assert!(text.len() > 200_000, "{} bytes", text.len());
    assert!(text.ends_with('\n'), "the last line is cut");
    assert!(
        !text.contains("temporarily unavailable"),
        "{}",
        &text[text.len() - 300..]
    );
    let shape = regex::Regex::new(r"^(--- SIG|\+\+\+ |sigtrace: |[a-z_0-9]+\()").unwrap();
    for line in text.lines() {
        assert!(shape.is_match(line), "a cut or glued line: {line:?}");
    }
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("--- SIGUSR1 "))
            .count(),
        N
    );
    assert!(text.lines().any(|l| l == "+++ exited with 0 +++"));
}

#[test]
fn threads_traced_into_a_file_carry_their_pid() {
    // Without -f, threads are traced (any may take a process signal); with -o their lines need
    // the pid column that strace -f -o gives them, or two `+++ exited` lines look the same.
    let dir = tempdir("threads-o");
    let (s_file, t_file) = (dir.join("strace.txt"), dir.join("sigtrace.txt"));
    let s = run(Command::new("strace")
        .args(["-f", "-e", &format!("trace={DEFAULT_SET}"), "-o"])
        .arg(&s_file)
        .arg(prog("threads"))
        .args(["exit", "4"]));
    let t = run(sigtrace()
        .arg("-o")
        .arg(&t_file)
        .arg(prog("threads"))
        .args(["exit", "4"]));
    assert_eq!((t.code(), s.code()), (5, 5), "{}", t.stderr);
    let read = |p: &std::path::Path| all_lines(&std::fs::read_to_string(p).unwrap());
    let (s_lines, t_lines) = (read(&s_file), read(&t_file));
    let column = regex::Regex::new(r"^(\d+) +(\S.*)$").unwrap();
    // From the first line that needs it on, every line has the column, as strace's -f lines.
    let first = t_lines
        .iter()
        .position(|l| column.is_match(l))
        .expect("no pid column");
    for l in &t_lines[first..] {
        assert!(column.is_match(l), "no pid column: {l:?}");
    }
    let ends = |lines: &[String]| {
        let mut v: Vec<(String, String)> = lines
            .iter()
            .filter_map(|l| column.captures(l))
            .filter(|c| c[2].starts_with("+++ "))
            .map(|c| (c[1].to_string(), c[2].to_string()))
            .collect();
        let pids: std::collections::HashSet<String> = v.iter().map(|(p, _)| p.clone()).collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        (
            pids.len(),
            v.into_iter().map(|(_, l)| l).collect::<Vec<_>>(),
        )
    };
    let (t_ends, s_ends) = (ends(&t_lines), ends(&s_lines));
    assert_eq!(t_ends.0, 5, "{t_lines:#?}");
    assert_eq!(t_ends, s_ends, "sigtrace {t_lines:#?}\nstrace {s_lines:#?}");
}

#[test]
fn threads_of_one_process_given_to_p_attach_it_once() {
    let mut target = Command::new(prog("threads"))
        .args(["wait", "3"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = target.id();
    let _target = KillOnDrop(pid);
    let mut tids = Vec::new();
    wait_for("four threads", || {
        tids = tasks_of(pid);
        tids.len() == 4
    });
    tids.sort_unstable_by_key(|&t: &u32| std::cmp::Reverse(t));
    let dir = tempdir("tids");
    let file = dir.join("t.txt");
    let mut cmd = sigtrace();
    cmd.arg("-o").arg(&file);
    let (tracer, _tracer) = attach_all(cmd, &tids);
    let tp = tracer.id();
    wait_for("the attach", || tids.iter().all(|&t| tracer_of(t) == tp));
    signal(tp, nix::sys::signal::SIGINT);
    let out = finish(tracer, "sigtrace");
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let attached: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains(" attached"))
        .collect();
    assert_eq!(
        attached,
        [format!("sigtrace: Process {pid} attached with 4 threads")]
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let contexts = text.lines().filter(|l| l.contains(": parent ")).count();
    assert_eq!(contexts, 1, "{text}");
    target.kill().unwrap();
    target.wait().unwrap();
}

#[test]
fn without_a_seccomp_filter_the_execve_line_is_still_there() {
    // In a sandbox that forbids installing a filter, -f falls back to PTRACE_SYSCALL; the
    // command's execve is shown as it is with the filter.
    let dir = tempdir("noseccomp");
    let file = dir.join("t.txt");
    let out = run(Command::new(prog("noseccomp"))
        .arg(env!("CARGO_BIN_EXE_sigtrace"))
        .args(["-f", "-o"])
        .arg(&file)
        .arg(prog("selfkill")));
    assert_eq!(out.code(), 143, "{}", out.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines = all_lines(&text);
    assert!(
        lines
            .first()
            .is_some_and(|l| l.contains(" execve(\"") && l.ends_with(" = 0")),
        "{text}"
    );
    let (s, t, s_code, t_code) = compare(&["-f"], &prog("selfkill"), &[]);
    assert_eq!(t_code, s_code);
    let sandboxed: Vec<String> = lines
        .into_iter()
        .filter(|l| !l.contains("execve("))
        .collect();
    let plain: Vec<String> = t.into_iter().filter(|l| !l.contains("execve(")).collect();
    assert_eq!(normalize(&sandboxed), normalize(&plain));
    assert!(!s.is_empty());
}
