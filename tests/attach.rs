//! Attach mode: -p on running, sleeping, stopped and multi-threaded processes; clean detach; no lost signal.
mod common;
use common::*;
use nix::sys::signal::Signal;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A program started by the test, killed if the test fails before it ends.
struct Target(Option<Child>);

impl Target {
    fn start(name: &str, args: &[&str]) -> Target {
        let child = Command::new(prog(name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Target(Some(child))
    }
    fn pid(&self) -> u32 {
        self.0.as_ref().unwrap().id()
    }
    fn finish(mut self) -> Output {
        finish(self.0.take().unwrap(), "target program")
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `sigtrace -o FILE -p PID` and waits until every thread of PID is traced by it.
fn attach(pid: u32, extra: &[&str]) -> (Child, PathBuf) {
    let dir = tempdir(&format!("attach-{pid}"));
    let file = dir.join("trace.txt");
    let child = sigtrace()
        .args(extra)
        .arg("-o")
        .arg(&file)
        .arg("-p")
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let tracer = child.id();
    wait_for("sigtrace to trace every thread", || {
        let tids = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
        tids.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .all(|t| tracer_of(t) == tracer)
    });
    (child, file)
}

fn lines_of(file: &PathBuf) -> Vec<String> {
    trace_lines(&std::fs::read_to_string(file).unwrap_or_default())
}

fn wait_lines(file: &PathBuf, what: &str, pred: impl Fn(&[String]) -> bool) {
    wait_for(what, || pred(&lines_of(file)));
}

fn ready_waiter(mode: &str) -> Target {
    let t = Target::start("waiter", &[mode]);
    let pid = t.pid();
    wait_for("the waiter's handlers", || {
        catches(pid, libc::SIGUSR1) && catches(pid, libc::SIGUSR2)
    });
    t
}

/// Attach, deliver three handled signals one at a time, let the program end: every signal is
/// shown, the program counts all three, and sigtrace exits with the program's status.
fn attach_and_count(mode: &str) {
    let target = ready_waiter(mode);
    let pid = target.pid();
    let (tracer, file) = attach(pid, &[]);
    for n in 1..=3 {
        signal(pid, Signal::SIGUSR1);
        wait_lines(&file, "the SIGUSR1 line", |l| l.len() == n);
    }
    signal(pid, Signal::SIGUSR2);
    let out = target.finish();
    assert_eq!(out.stdout.trim(), "3");
    let t = finish(tracer, "sigtrace");
    assert_eq!(t.code(), 0);
    let lines = lines_of(&file);
    assert_eq!(
        &lines[..3],
        &[
            from_test("SIGUSR1"),
            from_test("SIGUSR1"),
            from_test("SIGUSR1")
        ]
    );
    assert_eq!(lines[4], "+++ exited with 0 +++");
    assert!(
        t.stderr
            .contains(&format!("sigtrace: Process {pid} attached\n")),
        "{}",
        t.stderr
    );
}

#[test]
fn attach_sleeping() {
    attach_and_count("sleep");
}

#[test]
fn attach_running() {
    attach_and_count("spin");
}

#[test]
fn exit_status_of_attached_process() {
    let target = ready_waiter("sleep");
    let (tracer, file) = attach(target.pid(), &[]);
    signal(target.pid(), Signal::SIGTERM);
    let _ = target.finish();
    assert_eq!(finish(tracer, "sigtrace").code(), 143);
    assert_eq!(lines_of(&file).last().unwrap(), "+++ killed by SIGTERM +++");
}

/// Sends `sig` to sigtrace: it detaches, the program runs on untraced and counts its signals.
fn detach_on(sig: Signal) {
    let target = ready_waiter("sleep");
    let pid = target.pid();
    let (tracer, file) = attach(pid, &[]);
    signal(pid, Signal::SIGUSR1);
    wait_lines(&file, "the SIGUSR1 line", |l| l.len() == 1);
    signal(tracer.id(), sig);
    let t = finish(tracer, "sigtrace");
    assert_eq!(t.code(), 0, "{}", t.stderr);
    assert!(
        t.stderr
            .contains(&format!("sigtrace: Process {pid} detached")),
        "{}",
        t.stderr
    );
    // Which signal from whom made it let go.
    let why = format!("sigtrace: {} from {} (", sig.as_str(), std::process::id());
    assert!(
        t.stderr.contains(&why)
            && t.stderr
                .contains(" to sigtrace: detaching from every traced process\n"),
        "{}",
        t.stderr
    );
    assert_eq!(tracer_of(pid), 0);
    assert!(matches!(state(pid), 'S' | 'R'), "state {}", state(pid));
    signal(pid, Signal::SIGUSR1);
    signal(pid, Signal::SIGUSR2);
    assert_eq!(target.finish().stdout.trim(), "2");
}

#[test]
fn detach_on_sigint() {
    detach_on(Signal::SIGINT);
}

#[test]
fn detach_on_sigterm() {
    detach_on(Signal::SIGTERM);
}

#[test]
fn detach_on_sighup() {
    detach_on(Signal::SIGHUP);
}

#[test]
fn detach_leaves_stopped_process_stopped() {
    let target = ready_waiter("sleep");
    let pid = target.pid();
    signal(pid, Signal::SIGSTOP);
    wait_for("the program to stop", || state(pid) == 'T');
    let (tracer, file) = attach(pid, &[]);
    wait_lines(&file, "the stop line", |l| !l.is_empty());
    signal(tracer.id(), Signal::SIGTERM);
    let t = finish(tracer, "sigtrace");
    assert_eq!(t.code(), 0);
    assert_eq!(lines_of(&file), vec!["--- stopped by SIGSTOP ---"]);
    assert_eq!(tracer_of(pid), 0);
    stays_stopped(pid);
    signal(pid, Signal::SIGCONT);
    signal(pid, Signal::SIGUSR2);
    assert_eq!(target.finish().code(), 0);
}

/// After PTRACE_DETACH from a stopped task the kernel wakes it to re-enter the group-stop
/// (ptrace.c, __ptrace_unlink), so it may show 'R' for a moment: wait for 'T'. A task that ran on
/// would sleep in the waiter ('S') and never get there.
fn stays_stopped(pid: u32) {
    wait_for("the detached program to be stopped", || state(pid) == 'T');
}

/// A sleeping waiter, attached, then stopped by SIGSTOP: its SIGSTOP and stop lines are out and
/// it sits in the group-stop (a listening tracee shows as 't').
fn stopped_while_attached() -> (Target, u32, Child, PathBuf) {
    let target = ready_waiter("sleep");
    let pid = target.pid();
    let (tracer, file) = attach(pid, &[]);
    signal(pid, Signal::SIGSTOP);
    wait_lines(&file, "the stop line", |l| l.len() == 2);
    wait_for("the group-stop", || matches!(state(pid), 'T' | 't'));
    (target, pid, tracer, file)
}

#[test]
fn detach_during_a_group_stop_leaves_it_stopped() {
    // Stopped while traced, then sigtrace goes: the process must stay stopped (not run on, not
    // die), untraced, and continue normally on SIGCONT.
    let (target, pid, tracer, _file) = stopped_while_attached();
    signal(tracer.id(), Signal::SIGINT);
    assert_eq!(finish(tracer, "sigtrace").code(), 0);
    assert_eq!(tracer_of(pid), 0);
    stays_stopped(pid);
    signal(pid, Signal::SIGCONT);
    wait_for("the program to run again", || state(pid) == 'S');
    signal(pid, Signal::SIGUSR2);
    assert_eq!(target.finish().code(), 0);
}

#[test]
fn group_stop_and_continue_while_attached() {
    let (target, pid, tracer, file) = stopped_while_attached();
    signal(pid, Signal::SIGCONT);
    wait_lines(&file, "the SIGCONT line", |l| l.len() == 3);
    wait_for("the program to run again", || state(pid) == 'S');
    signal(pid, Signal::SIGUSR2);
    assert_eq!(target.finish().code(), 0);
    assert_eq!(finish(tracer, "sigtrace").code(), 0);
    let me = std::process::id();
    let uid = nix::unistd::getuid();
    assert_eq!(
        lines_of(&file)[..3],
        [
            format!(
                "--- SIGSTOP {{si_signo=SIGSTOP, si_code=SI_USER, si_pid={me}, si_uid={uid}}} ---"
            ),
            "--- stopped by SIGSTOP ---".to_string(),
            format!(
                "--- SIGCONT {{si_signo=SIGCONT, si_code=SI_USER, si_pid={me}, si_uid={uid}}} ---"
            ),
        ]
    );
}

#[test]
fn stop_and_continue_match_strace() {
    // stopcont raises SIGSTOP on itself; the test continues it. Same lines as strace.
    let mut outs = Vec::new();
    for tool in ["strace", "sigtrace"] {
        let mut cmd = if tool == "strace" {
            Command::new("strace")
        } else {
            sigtrace()
        };
        cmd.args(["-e", "trace=none"]);
        let (child, target, file) = launch_ready_with(cmd, &prog("stopcont"), &[], |p| {
            matches!(state(p), 'T' | 't')
        });
        wait_for("the stop lines", || lines_of(&file).len() == 2);
        signal(target, Signal::SIGCONT);
        let out = finish(child, tool);
        assert_eq!(out.code(), 0);
        outs.push(lines_of(&file));
    }
    assert_eq!(normalize(&outs[1]), normalize(&outs[0]));
    assert_eq!(outs[1].len(), 4, "{:?}", outs[1]);
}

#[test]
fn attach_all_threads_and_kill() {
    let target = Target::start("threads", &["wait"]);
    let pid = target.pid();
    wait_for("5 threads", || {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 5
    });
    let (tracer, file) = attach(pid, &[]);
    signal(pid, Signal::SIGTERM);
    let _ = target.finish();
    let t = finish(tracer, "sigtrace");
    assert_eq!(t.code(), 143);
    assert!(
        t.stderr
            .contains(&format!("Process {pid} attached with 5 threads")),
        "{}",
        t.stderr
    );
    let lines = lines_of(&file);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with("+++ killed by SIGTERM +++"))
            .count(),
        5,
        "{lines:?}"
    );
}

#[test]
fn several_pids() {
    let a = ready_waiter("sleep");
    let b = ready_waiter("sleep");
    let list = format!("{},{}", a.pid(), b.pid());
    let dir = tempdir("several");
    let file = dir.join("t.txt");
    let tracer = sigtrace()
        .arg("-o")
        .arg(&file)
        .args(["-p", &list])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let tp = tracer.id();
    wait_for("both traced", || {
        tracer_of(a.pid()) == tp && tracer_of(b.pid()) == tp
    });
    signal(b.pid(), Signal::SIGUSR2);
    signal(a.pid(), Signal::SIGUSR2);
    let (pa, pb) = (a.pid(), b.pid());
    assert_eq!(a.finish().code(), 0);
    assert_eq!(b.finish().code(), 0);
    assert_eq!(finish(tracer, "sigtrace").code(), 0);
    let lines = lines_of(&file);
    // With -o and several processes, lines carry strace's `PID   ` column.
    assert!(
        lines.contains(&format!("{pa:<5} +++ exited with 0 +++")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&format!("{pb:<5} +++ exited with 0 +++")),
        "{lines:?}"
    );
}

#[test]
fn sigkill_of_sigtrace_leaves_process_running() {
    let target = ready_waiter("sleep");
    let pid = target.pid();
    let (mut tracer, _file) = attach(pid, &[]);
    tracer.kill().unwrap();
    tracer.wait().unwrap();
    wait_for("the kernel to detach", || tracer_of(pid) == 0);
    assert!(matches!(state(pid), 'S' | 'R'));
    signal(pid, Signal::SIGUSR1);
    signal(pid, Signal::SIGUSR2);
    assert_eq!(target.finish().stdout.trim(), "1");
}

#[test]
fn detach_during_signal_storm_loses_nothing() {
    // The program sends itself 20,000 handled SIGUSR1 once traced; sigtrace detaches in the
    // middle (most likely while the program sits in a signal-delivery-stop). The program
    // exits 0 only if it counted all of them.
    let target = Target::start("storm", &["20000", "traced"]);
    let pid = target.pid();
    wait_for("the handler", || catches(pid, libc::SIGUSR1));
    let (tracer, file) = attach(pid, &[]);
    wait_lines(&file, "a hundred signals", |l| l.len() >= 100);
    signal(tracer.id(), Signal::SIGINT);
    assert_eq!(finish(tracer, "sigtrace").code(), 0);
    let out = target.finish();
    assert_eq!(out.stdout.trim(), "20000");
    assert_eq!(out.code(), 0);
}
