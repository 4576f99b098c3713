//! The kernel's own rules in verdicts: signals taken without a handler, dropped by a namespace's init, ending requests, limits, orphaned groups, a session leader's end.
mod common;
use common::*;
use nix::sys::signal::Signal::{SIGABRT, SIGKILL, SIGTERM, SIGUSR1};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn read_json(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

fn verdict_for(events: &[Value], pid: u32) -> &Value {
    events
        .iter()
        .find(|e| e["event"] == "verdict" && e["pid"] == pid)
        .unwrap_or_else(|| panic!("no verdict for {pid}: {events:#?}"))
}

/// The kernel's record is read as root: it names senders the siginfo cannot.
fn record_on() -> bool {
    nix::unistd::geteuid().is_root()
}

fn me() -> u32 {
    std::process::id()
}

/// Whether this machine lets `unshare --pid --fork` make a pid namespace (root, no seccomp
/// policy against it); the test is skipped when not.
fn pid_namespaces() -> bool {
    if !have("unshare") {
        return false;
    }
    let ok = run(Command::new("unshare").args(["--pid", "--fork", "true"])).code() == 0;
    if !ok {
        skip("unshare --pid --fork is not allowed here");
    }
    ok
}

/// pid 1 of a pid namespace among `root`'s descendants running `exe`, or 0.
fn ns_init(root: u32, exe: &Path) -> u32 {
    let want = std::fs::canonicalize(exe).unwrap();
    descendants(root)
        .into_iter()
        .find(|&p| {
            std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|e| e == want)
                && status_field(p, "NSpid")
                    .is_some_and(|n| n.split_whitespace().last() == Some("1"))
        })
        .unwrap_or(0)
}

/// Starts `sigtrace --json -o FILE ARGS`.
fn start(args: &[&str]) -> (Child, std::path::PathBuf) {
    let file = tempdir("rules").join("t.json");
    let child = spawn(
        sigtrace()
            .arg("--json")
            .arg("-o")
            .arg(&file)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    (child, file)
}

// The kernel's reasons that need no syscall line, under ptrace and in the record mode.
both_modes!(
    the_hard_cpu_limit_names_the_limit_and_the_time_used,
    the_soft_cpu_limit_names_sigxcpu_reason,
    the_file_size_limit_is_named,
    an_orphaned_stopped_group_is_named_and_no_terminal_is_blamed,
    a_session_leader_killed_hangs_up_its_foreground_job,
    a_sigwaitinfo_supervisor_names_its_sender,
    a_signalfd_reader_takes_sigterm,
    an_attached_signalfd_reader_takes_sigterm,
);

/// Whether `said` names the signalfd read that took a blocked signal, in the words of this
/// mode: the record mode sees no syscall, and names a signalfd when it saw one open that
/// takes the signal (`seen`: surely, its fd was open before sigtrace came; else if it looked
/// in time), else says it was one of the two calls.
fn signalfd_named(said: &str, seen: bool) -> bool {
    said == "a signalfd read"
        || (recording() && !seen && said == "rt_sigtimedwait or a signalfd read")
}

// Under ptrace only: the record mode tells a taken signal from /proc once the record is
// read, and this init's parent (unshare) has reaped it by then.
#[test]
fn an_init_in_a_pid_namespace_takes_sigterm_with_sigtimedwait() {
    if !pid_namespaces() {
        return;
    }
    let init = prog("initwait");
    let (child, file) = start(&[
        "-f",
        "unshare",
        "--pid",
        "--fork",
        init.to_str().unwrap(),
        "timed",
    ]);
    let _guard = KillOnDrop(child.id());
    let mut pid = 0;
    wait_for("the init in sigtimedwait", || {
        pid = ns_init(child.id(), &init);
        pid != 0 && watched(pid) && in_syscall(pid, libc::SYS_rt_sigtimedwait as u32)
    });
    signal(pid, SIGTERM);
    let out = finish(child, "sigtrace unshare initwait");
    assert_eq!(out.code(), 143, "{}", out.stderr);
    let ev = read_json(&file);
    let v = verdict_for(&ev, pid);
    assert_eq!(v["cause"], "external-signal", "{v:#}");
    assert_eq!(v["trigger"]["disposition"], "taken", "{v:#}");
    assert_eq!(v["trigger"]["taken_by"], "rt_sigtimedwait", "{v:#}");
    // Sent from outside its namespace: si_pid is 0, and only the kernel's record names it.
    assert_eq!(v["trigger"]["code"], "SI_USER", "{v:#}");
    if record_on() {
        assert_eq!(v["by"]["pid"], me(), "{v:#}");
    }
    let summary = v["summary"].as_str().unwrap();
    assert!(summary.contains("taken by rt_sigtimedwait"), "{summary}");
}

fn a_sigwaitinfo_supervisor_names_its_sender() {
    let init = prog("initwait");
    let (child, target, file) = launch_ready(&["--json"], &init, &["info"], |p| {
        in_syscall(p, libc::SYS_rt_sigtimedwait as u32)
    });
    let _guard = KillOnDrop(child.id());
    // A SIGUSR1 it takes and lives on: shown while it runs.
    signal(target, SIGUSR1);
    let taken_usr1 = |ev: &[Value]| {
        ev.iter()
            .filter(|e| e["disposition"] == "taken" && e["signal"] == "SIGUSR1")
            .count()
    };
    wait_for("the SIGUSR1 taken", || taken_usr1(&read_json(&file)) == 1);
    assert_eq!(state(target), 'S');
    signal(target, SIGTERM);
    let out = finish(child, "sigtrace initwait");
    assert_eq!(out.code(), 143, "{}", out.stderr);
    let ev = read_json(&file);
    assert_eq!(taken_usr1(&ev), 1, "{ev:#?}");
    let taken: Vec<&Value> = ev
        .iter()
        .filter(|e| e["disposition"] == "taken" && e["signal"] == "SIGTERM")
        .collect();
    assert_eq!(taken.len(), 1, "{ev:#?}");
    assert_eq!(taken[0]["sender"]["pid"], me(), "{:#}", taken[0]);
    let v = verdict_for(&ev, target);
    assert_eq!(v["cause"], "external-signal", "{v:#}");
    assert_eq!(v["by"]["pid"], me(), "{v:#}");
}

/// A signalfd reader blocked in read under `sigtrace ARGS` (started by `start`) gets SIGTERM.
/// `attached`: its signalfd was open before sigtrace came.
fn signalfd_reader(
    tracer: Child,
    reader: u32,
    file: &Path,
    attached: bool,
    ready: impl Fn() -> bool,
) -> String {
    let _guard = KillOnDrop(tracer.id());
    wait_for("the reader in read, traced", || {
        watched(reader) && in_syscall(reader, libc::SYS_read as u32) && ready()
    });
    signal(reader, SIGTERM);
    let out = finish(tracer, "sigtrace sigfdread");
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let text = std::fs::read_to_string(file).unwrap();
    let from = format!(" (blocked, not delivered); from {} (", me());
    let line = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("sigtrace: SIGTERM taken by ")?
                .split_once(&from)
        })
        .unwrap_or_else(|| panic!("{text}"));
    assert!(signalfd_named(line.0, attached), "{text}");
    let verdict = text
        .lines()
        .find(|l| l.starts_with(&format!("sigtrace: {reader} (")) && l.contains(") exited with 0"))
        .unwrap_or_else(|| panic!("{text}"));
    let (_, by) = verdict
        .split_once("external signal, taken by ")
        .unwrap_or_else(|| panic!("{verdict}"));
    assert!(
        verdict.contains(&format!("after SIGTERM from {} (", me())) && signalfd_named(by, attached),
        "{verdict}"
    );
    text
}

fn a_signalfd_reader_takes_sigterm() {
    let reader = prog("sigfdread");
    let file = tempdir("sigfd").join("t.txt");
    let child = spawn(sigtrace().arg("-o").arg(&file).arg(&reader));
    let mut target = 0;
    wait_for("the reader", || {
        target = find_process(child.id(), &reader);
        target != 0
    });
    signalfd_reader(child, target, &file, false, || true);
}

fn an_attached_signalfd_reader_takes_sigterm() {
    let reader = prog("sigfdread");
    let mut untraced = spawn(&mut Command::new(&reader));
    let _guard = KillOnDrop(untraced.id());
    let pid = untraced.id();
    wait_for("the reader in read", || {
        in_syscall(pid, libc::SYS_read as u32)
    });
    let file = tempdir("sigfd").join("t.txt");
    let child = spawn(
        sigtrace()
            .args(["-o"])
            .arg(&file)
            .args(["-p", &pid.to_string()]),
    );
    // Its context line is written once sigtrace knows the process.
    let attached = || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains(&format!("sigtrace: {pid} ("))
    };
    let text = signalfd_reader(child, pid, &file, true, attached);
    assert!(
        !text.contains("signalfd4("),
        "made before the attach: {text}"
    );
    let _ = untraced.wait();
}

/// pid 1 of a namespace (sleep, no handler) gets SIGTERM, which the kernel drops; then SIGKILL.
fn check_init_discard(sleep: u32, file: &Path, tracer: Child) {
    signal(sleep, SIGTERM);
    wait_for("the SIGTERM's line", || {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .contains("pidns-init-discard")
    });
    let st = state(sleep);
    assert!(!matches!(st, 'Z' | '?'), "the SIGTERM did nothing: {st}");
    signal(sleep, SIGKILL);
    let out = finish(tracer, "sigtrace sleep");
    let ev = read_json(file);
    let s = ev
        .iter()
        .find(|e| e["event"] == "signal" && e["signal"] == "SIGTERM")
        .unwrap_or_else(|| panic!("{}: {ev:#?}", out.stderr));
    assert_eq!(s["disposition"], "ignored", "{s:#}");
    assert_eq!(s["kernel_reason"]["name"], "pidns-init-discard", "{s:#}");
    let v = verdict_for(&ev, sleep);
    assert_eq!(v["signal"], "SIGKILL", "{v:#}");
    let first = &v["earlier"][0];
    assert_eq!(
        first["kernel_reason"]["name"], "pidns-init-discard",
        "{v:#}"
    );
    if record_on() {
        assert_eq!(first["by"]["pid"], me(), "{v:#}");
    }
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains("(ignored: pid 1 of its pid namespace has no handler for SIGTERM"),
        "{summary}"
    );
}

#[test]
fn pid_1_of_a_namespace_without_a_handler_ignores_sigterm_launched() {
    if !pid_namespaces() {
        return;
    }
    let sleep_exe = Path::new("/bin/sleep");
    let (child, file) = start(&["-f", "unshare", "--pid", "--fork", "sleep", "100"]);
    let _guard = KillOnDrop(child.id());
    let mut sleep = 0;
    wait_for("sleep as pid 1", || {
        sleep = ns_init(child.id(), sleep_exe);
        sleep != 0 && tracer_of(sleep) != 0 && in_syscall(sleep, libc::SYS_clock_nanosleep as u32)
    });
    check_init_discard(sleep, &file, child);
}

#[test]
fn pid_1_of_a_namespace_without_a_handler_ignores_sigterm_attached() {
    if !pid_namespaces() {
        return;
    }
    let sleep_exe = Path::new("/bin/sleep");
    let mut ns = spawn(Command::new("unshare").args(["--pid", "--fork", "sleep", "100"]));
    let _ns_guard = KillOnDrop(ns.id());
    let mut sleep = 0;
    wait_for("sleep as pid 1", || {
        sleep = ns_init(ns.id(), sleep_exe);
        sleep != 0 && in_syscall(sleep, libc::SYS_clock_nanosleep as u32)
    });
    let (child, file) = start(&["-p", &sleep.to_string()]);
    let _guard = KillOnDrop(child.id());
    // Attached, sleep restarts its sleep (restart_syscall).
    wait_for("sigtrace attached", || {
        tracer_of(sleep) != 0
            && std::fs::read_to_string(&file)
                .unwrap_or_default()
                .contains("\"attached\"")
    });
    check_init_discard(sleep, &file, child);
    let _ = ns.wait();
}

/// Runs `inhandler MODE`, sends it `sig` once its handler is in place; returns its verdict.
fn handled_then_exit(mode: &str, sig: nix::sys::signal::Signal, status: i32) -> Value {
    let (child, target, file) = launch_ready(&["--json"], &prog("inhandler"), &[mode], |p| {
        catches(p, sig as i32)
    });
    let _guard = KillOnDrop(child.id());
    signal(target, sig);
    let out = finish(child, "sigtrace inhandler");
    assert_eq!(out.code(), status, "{}", out.stderr);
    let v = verdict_for(&read_json(&file), target).clone();
    assert_eq!(v["cause"], "external-signal", "{v:#}");
    assert_eq!(v["by"]["pid"], me(), "{v:#}");
    v
}

#[test]
fn a_handled_sigabrt_from_another_process_then_exit_is_external() {
    let v = handled_then_exit("abrt", SIGABRT, 1);
    assert!(v.get("exit_in_handler").is_none(), "{v:#}");
}

#[test]
fn an_exit_inside_a_sigusr1_handler_is_caused_by_it() {
    let v = handled_then_exit("usr1", SIGUSR1, 3);
    assert_eq!(v["exit_in_handler"], true, "{v:#}");
    assert_eq!(v["trigger"]["signal"], "SIGUSR1", "{v:#}");
    let summary = v["summary"].as_str().unwrap();
    assert!(summary.contains("exited inside the handler"), "{summary}");
}

/// Runs `sigtrace --json rlimit MODE ...` to its end; returns the program's verdict.
fn limit_verdict(args: &[&str], status: i32) -> (Vec<Value>, Value) {
    let (child, file) = start(&[&[prog("rlimit").to_str().unwrap()], args].concat());
    let out = finish(child, "sigtrace rlimit");
    assert_eq!(out.code(), status, "{}", out.stderr);
    let ev = read_json(&file);
    let v = ev
        .iter()
        .find(|e| e["event"] == "verdict")
        .cloned()
        .unwrap_or_else(|| panic!("{ev:#?}"));
    (ev, v)
}

fn the_hard_cpu_limit_names_the_limit_and_the_time_used() {
    let (_, v) = limit_verdict(&["cpu-hard"], 137);
    assert_eq!(v["cause"], "kernel", "{v:#}");
    let r = &v["kernel_reason"];
    assert_eq!(r["name"], "rlimit-cpu", "{v:#}");
    assert_eq!(
        (&r["hard"], &r["limit_s"]),
        (&Value::from(true), &Value::from(1))
    );
    assert!(r["cpu_s"].as_f64().unwrap() >= 0.5, "{v:#}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary
            .starts_with("killed by SIGKILL: CPU time limit (ulimit -t 1 s, hard) reached after "),
        "{summary}"
    );
}

fn the_soft_cpu_limit_names_sigxcpu_reason() {
    let (ev, v) = limit_verdict(&["cpu-soft"], 128 + libc::SIGXCPU);
    assert_eq!(v["cause"], "kernel", "{v:#}");
    assert_eq!(v["kernel_reason"]["name"], "rlimit-cpu", "{v:#}");
    assert_eq!(v["kernel_reason"]["hard"], false, "{v:#}");
    assert_eq!(v["kernel_reason"]["limit_s"], 1, "{v:#}");
    let s = ev
        .iter()
        .find(|e| e["event"] == "signal" && e["signal"] == "SIGXCPU")
        .unwrap();
    assert_eq!(s["kernel_reason"]["name"], "rlimit-cpu", "{s:#}");
}

fn the_file_size_limit_is_named() {
    let dir = tempdir("fsize");
    let big = dir.join("big");
    let (_, v) = limit_verdict(&["fsize", big.to_str().unwrap()], 128 + libc::SIGXFSZ);
    assert_eq!(v["cause"], "kernel", "{v:#}");
    assert_eq!(v["kernel_reason"]["name"], "rlimit-fsize", "{v:#}");
    assert_eq!(v["kernel_reason"]["limit_bytes"], 4096, "{v:#}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains("file size limit (ulimit -f: 4096 bytes)"),
        "{summary}"
    );
}

fn an_orphaned_stopped_group_is_named_and_no_terminal_is_blamed() {
    if !have("setsid") {
        return;
    }
    let dir = tempdir("orphan");
    let file = dir.join("t.json");
    // A session of its own: the group's new parent (init or a subreaper) is outside it.
    let mut setsid = Command::new("setsid");
    setsid.arg(env!("CARGO_BIN_EXE_sigtrace"));
    if recording() {
        setsid.arg("--no-ptrace");
    }
    let out = run(setsid
        .args(["-f", "--json", "-o"])
        .arg(&file)
        .arg(prog("orphan")));
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let ev = read_json(&file);
    let v = ev
        .iter()
        .find(|e| e["event"] == "verdict" && e["signal"] == "SIGHUP")
        .unwrap_or_else(|| panic!("{ev:#?}"));
    let parent = ev
        .iter()
        .find(|e| e["event"] == "verdict" && e["outcome"] == "exited")
        .unwrap();
    assert_eq!(v["cause"], "kernel", "{v:#}");
    let r = &v["kernel_reason"];
    assert_eq!(r["name"], "orphaned-pgrp", "{v:#}");
    assert_eq!(r["pgrp"], v["pid"], "{v:#}");
    assert_eq!(r["parent"]["pid"], parent["pid"], "{v:#}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "its process group {} was orphaned (parent {} (",
            v["pid"], parent["pid"]
        )) && summary.ends_with(") exited) while it was stopped")
            && !summary.contains("terminal"),
        "{summary}"
    );
}

fn a_session_leader_killed_hangs_up_its_foreground_job() {
    if !have("script") {
        return;
    }
    let sleep_exe = std::fs::canonicalize("/bin/sleep").unwrap();
    let file = tempdir("leader").join("t.json");
    // script makes its child a session leader on a new pty, running $SHELL -c: sh then runs
    // sleep in its own group, the terminal's foreground group.
    let child = spawn(
        sigtrace()
            .args(["-f", "--json", "-o"])
            .arg(&file)
            .args(["script", "-q", "-c", "sleep 100; true", "/dev/null"])
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let _guard = KillOnDrop(child.id());
    let mut sleep = 0;
    wait_for("sleep on the pty", || {
        sleep = find_process(child.id(), &sleep_exe);
        sleep != 0 && watched(sleep) && in_syscall(sleep, libc::SYS_clock_nanosleep as u32)
    });
    let leader: u32 = stat_field(sleep, 6).parse().unwrap();
    assert_ne!(leader, sleep);
    signal(leader, SIGKILL);
    let out = finish(child, "sigtrace script");
    let ev = read_json(&file);
    let v = verdict_for(&ev, sleep);
    assert_eq!(v["signal"], "SIGHUP", "{}: {v:#}", out.stderr);
    assert_eq!(v["cause"], "terminal", "{v:#}");
    let r = &v["kernel_reason"];
    assert_eq!(r["name"], "session-leader-exit", "{v:#}");
    assert_eq!(r["leader"]["pid"], leader, "{v:#}");
    assert_eq!(r["leader_signal"], "SIGKILL", "{v:#}");
    if record_on() {
        assert_eq!(r["leader_by"]["pid"], me(), "{v:#}");
    }
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "its session leader {leader} (sh) was killed by SIGKILL"
        )),
        "{summary}"
    );
}
