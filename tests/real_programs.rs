//! Verdicts and the wrapper's transparency on the programs people run: python3, timeout, make, unshare, bash, setsid, kill.
mod common;
use common::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

fn read_json(file: &Path) -> Vec<Value> {
    json_lines(&std::fs::read_to_string(file).unwrap_or_default())
}

/// The verdicts of processes named `comm`.
fn verdicts_of<'a>(events: &'a [Value], comm: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["event"] == "verdict" && e["comm"] == comm)
        .collect()
}

/// The verdict of process `pid`.
fn verdict_for(events: &[Value], pid: u32) -> &Value {
    events
        .iter()
        .find(|e| e["event"] == "verdict" && e["pid"] == pid)
        .unwrap_or_else(|| panic!("no verdict for {pid}: {events:#?}"))
}

/// The one verdict of the process named `comm`.
fn verdict_of<'a>(events: &'a [Value], comm: &str) -> &'a Value {
    let v = verdicts_of(events, comm);
    assert_eq!(v.len(), 1, "one verdict for {comm}: {events:#?}");
    v[0]
}

/// Runs `sigtrace --json -o FILE FLAGS -- ARGS` to its end: its exit code and the events.
fn json_trace(flags: &[&str], args: &[&str]) -> (Output, Vec<Value>) {
    let dir = tempdir("real");
    let file = dir.join("t.json");
    let out = run(sigtrace()
        .args(["--json", "-o"])
        .arg(&file)
        .args(flags)
        .arg("--")
        .args(args)
        .current_dir(&dir));
    (out, read_json(&file))
}

/// Debian's python3 itself, not a version manager's shell shim in front of it.
fn python() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/python3");
    if p.exists() {
        return Some(std::fs::canonicalize(p).unwrap());
    }
    skip("python3 is not installed at /usr/bin/python3");
    None
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn a_sigkill_a_shell_sends_itself_is_self_signal() {
    let (out, ev) = json_trace(&[], &["sh", "-c", "kill -9 $$"]);
    assert_eq!(out.code(), 137);
    let v = verdict_of(&ev, "sh");
    assert_eq!(v["signal"], "SIGKILL");
    assert_eq!(v["cause"], "self-signal", "{v:#}");
}

#[test]
fn timeout_s_kill_names_timeout_for_both_processes() {
    if !have("timeout") {
        return;
    }
    // timeout sends the signal to its whole process group, itself included: it is SIGKILLed
    // by its own kill(0, SIGKILL), and sleep by timeout's.
    let (out, ev) = json_trace(&["-f"], &["timeout", "-s", "KILL", "1", "sleep", "5"]);
    assert_eq!(out.code(), 137);
    let t = verdict_of(&ev, "timeout");
    assert_eq!(t["cause"], "self-signal", "{t:#}");
    let s = verdict_of(&ev, "sleep");
    assert_eq!(s["signal"], "SIGKILL");
    assert_eq!(s["cause"], "external-signal", "{s:#}");
    assert_eq!(s["by"]["pid"], t["pid"], "{s:#}");
    assert_eq!(s["by"]["comm"], "timeout", "{s:#}");
    assert!(
        s["call"]["text"].as_str().unwrap().contains("SIGKILL"),
        "{s:#}"
    );
    // The sentence names timeout once: "after SIGKILL from N (timeout ...), kill(0, SIGKILL)
    // 0.1 ms before", not again after the call.
    let summary = s["summary"].as_str().unwrap();
    let named = format!("{} (timeout", t["pid"]);
    assert_eq!(summary.matches(&named).count(), 1, "{summary}");
}

#[test]
fn with_f_and_no_syscall_shown_the_killer_is_still_named() {
    if !have("timeout") {
        return;
    }
    let args = ["timeout", "-s", "KILL", "1", "sleep", "5"];
    let (out, ev) = json_trace(&["-f", "-e", "trace=none"], &args);
    assert_eq!(out.code(), 137);
    let s = verdict_of(&ev, "sleep");
    assert_eq!(s["cause"], "external-signal", "{s:#}");
    assert_eq!(s["by"]["comm"], "timeout", "{s:#}");
    assert_eq!(s["by"]["source"], "traced-call", "{s:#}");
}

#[test]
fn timeout_escalation_shows_the_ignored_sigterm_then_the_sigkill() {
    if !have("timeout") {
        return;
    }
    let script = "trap '' TERM; sleep 5";
    let (out, ev) = json_trace(&["-f"], &["timeout", "-k", "1", "1", "sh", "-c", script]);
    assert_eq!(out.code(), 137);
    let t = verdict_of(&ev, "timeout")["pid"].clone();
    for comm in ["sh", "sleep"] {
        for v in verdicts_of(&ev, comm) {
            assert_eq!(v["signal"], "SIGKILL", "{v:#}");
            assert_eq!(v["cause"], "external-signal", "{v:#}");
            assert_eq!(v["by"]["pid"], t, "{v:#}");
            let earlier = v["earlier"].as_array().unwrap();
            assert!(
                earlier.iter().any(|e| e["signal"] == "SIGTERM"),
                "the ignored SIGTERM comes first: {v:#}"
            );
            // The sentence names timeout once, then the SIGTERM "from the same sender".
            let summary = v["summary"].as_str().unwrap();
            assert_eq!(
                summary.matches(&format!("{t} (timeout")).count(),
                1,
                "{summary}"
            );
            assert!(
                summary.contains("after SIGTERM from the same sender"),
                "{summary}"
            );
        }
    }
}

#[test]
fn python_subprocess_timeout_names_python_and_its_call() {
    let Some(py) = python() else { return };
    let code = "import subprocess\ntry:\n    subprocess.run(['sleep', '5'], timeout=1)\nexcept subprocess.TimeoutExpired:\n    print('timed out')\n";
    let (out, ev) = json_trace(&["-f"], &[py.to_str().unwrap(), "-c", code]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "timed out");
    let s = verdict_of(&ev, "sleep");
    assert_eq!(s["signal"], "SIGKILL");
    assert_eq!(s["cause"], "external-signal", "{s:#}");
    let python = ev
        .iter()
        .find(|e| e["event"] == "verdict" && e["comm"].as_str().unwrap().starts_with("python"))
        .unwrap();
    assert_eq!(s["by"]["pid"], python["pid"], "{s:#}");
    let call = s["call"]["text"].as_str().unwrap();
    assert_eq!(call, format!("kill({}, SIGKILL)", s["pid"]), "{s:#}");
}

#[test]
fn make_cites_each_childs_own_kill() {
    if !have("make") {
        return;
    }
    let dir = tempdir("make");
    std::fs::write(
        dir.join("Makefile"),
        "all: a b\na:\n\tsleep 31\nb:\n\tsleep 32\n",
    )
    .unwrap();
    let file = dir.join("t.json");
    let child = sigtrace()
        .args(["-f", "--json", "-o"])
        .arg(&file)
        .args(["make", "-s", "-j2"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(child.id());
    let sleep = std::fs::canonicalize("/bin/sleep").unwrap();
    let mut make = 0;
    wait_for("make's two sleeps", || {
        let d = descendants(child.id());
        make = d.iter().copied().find(|&p| comm(p) == "make").unwrap_or(0);
        let sleeps = d
            .iter()
            .filter(|&&p| std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|e| e == sleep))
            .count();
        make != 0 && sleeps == 2
    });
    signal(make, nix::sys::signal::SIGTERM);
    let out = finish(child, "sigtrace make");
    assert_eq!(out.code(), 143, "{}", out.stderr);
    let ev = read_json(&file);
    let sleeps = verdicts_of(&ev, "sleep");
    assert_eq!(sleeps.len(), 2, "{ev:#?}");
    for s in sleeps {
        assert_eq!(s["cause"], "external-signal", "{s:#}");
        assert_eq!(s["by"]["pid"], make, "{s:#}");
        let call = s["call"]["text"].as_str().unwrap();
        assert_eq!(call, format!("kill({}, SIGTERM)", s["pid"]), "{s:#}");
    }
    let m = verdict_of(&ev, "make");
    assert_eq!(m["cause"], "external-signal", "{m:#}");
    assert_eq!(m["by"]["pid"], std::process::id(), "{m:#}");
}

#[test]
fn a_pid_namespace_sender_is_translated_not_looked_up_on_the_host() {
    if !is_root() || !have("unshare") {
        if !is_root() {
            skip("unshare --pid needs root");
        }
        return;
    }
    let script = "sleep 30 & sleep .3; kill $!; wait";
    let args = [
        "unshare",
        "--pid",
        "--fork",
        "--mount-proc",
        "sh",
        "-c",
        script,
    ];
    let (out, ev) = json_trace(&["-f"], &args);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let sh = verdict_of(&ev, "sh")["pid"].as_i64().unwrap();
    let killed: Vec<_> = ev
        .iter()
        .filter(|e| e["event"] == "verdict" && e["outcome"] == "killed")
        .collect();
    assert_eq!(killed.len(), 1, "{ev:#?}");
    let v = killed[0];
    assert_eq!(v["signal"], "SIGTERM");
    assert_eq!(v["cause"], "external-signal", "{v:#}");
    assert_eq!(v["by"]["pid"], sh, "the inner sh, by its host pid: {v:#}");
    assert_eq!(v["by"]["comm"], "sh", "{v:#}");
    // The SIGCHLDs the inner sh gets come from its children, not from the host's pid 2 or 3.
    for e in ev
        .iter()
        .filter(|e| e["event"] == "signal" && e["signal"] == "SIGCHLD" && e["pid"] == sh)
    {
        let c = e["sender"]["comm"].as_str().unwrap_or("");
        assert!(c == "sleep" || c == "sh", "{e:#}");
    }
}

#[test]
fn a_sender_that_exits_at_once_is_named_by_uid_and_pid() {
    let (child, target, file) = launch_ready(&["--json"], &prog("waiter"), &["sleep"], |p| {
        catches(p, libc::SIGUSR2)
    });
    let _guard = KillOnDrop(child.id());
    // sigtrace is held stopped while kill runs and is reaped: when it reads the sender's /proc,
    // the sender is gone.
    let tracer = tracer_of(target);
    signal(tracer, nix::sys::signal::SIGSTOP);
    wait_for("sigtrace to stop", || state(tracer) == 'T');
    let kill = Command::new("/bin/kill")
        .args(["-TERM", &target.to_string()])
        .spawn()
        .unwrap();
    let killer = kill.id();
    assert!(finish(kill, "kill").status.success());
    wait_for("the delivery to wait for the tracer", || {
        state(target) == 't'
    });
    signal(tracer, nix::sys::signal::SIGCONT);
    let out = finish(child, "sigtrace");
    assert_eq!(out.code(), 143);
    let ev = read_json(&file);
    let v = verdict_for(&ev, target);
    assert_eq!(v["cause"], "external-signal", "{v:#}");
    assert_eq!(v["by"]["pid"], killer, "{v:#}");
    assert_eq!(v["by"]["uid"], nix::unistd::getuid().as_raw(), "{v:#}");
}

#[test]
fn a_reload_on_sighup_then_an_exit_of_its_own_is_self_exit() {
    let Some(py) = python() else { return };
    // A service that reloads on SIGHUP, then fails on its own 0.6 s later.
    let code = "import signal, sys, time\nhup = []\nsignal.signal(signal.SIGHUP, lambda *a: hup.append(1))\nwhile not hup:\n    time.sleep(0.01)\ntime.sleep(0.6)\nsys.exit(1)\n";
    let (child, target, file) = launch_ready(&["--json"], &py, &["-c", code], |p| {
        catches(p, libc::SIGHUP)
    });
    let _guard = KillOnDrop(child.id());
    signal(target, nix::sys::signal::SIGHUP);
    let out = finish(child, "sigtrace python");
    assert_eq!(out.code(), 1);
    let ev = read_json(&file);
    let v = ev.iter().find(|e| e["event"] == "verdict").unwrap();
    assert_eq!(v["cause"], "self-exit", "{v:#}");
    assert_eq!(v["by"], Value::Null, "{v:#}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains("SIGHUP"),
        "the reload is context: {summary}"
    );
}

#[test]
fn python_reraising_a_terminal_sigint_is_terminal() {
    let Some(py) = python() else { return };
    if !have("script") {
        return;
    }
    let dir = tempdir("pyctrlc");
    let file = dir.join("t.json");
    // Python turns a SIGINT during its start-up into exit 1: wait until the loop runs.
    let ready = dir.join("ready");
    let code = format!(
        "import pathlib, time\npathlib.Path('{}').touch()\nwhile True:\n    time.sleep(0.01)\n",
        ready.display()
    );
    std::fs::write(dir.join("loop.py"), code).unwrap();
    let cmd = format!(
        "exec env --default-signal=INT {} --json -o {} {} loop.py",
        env!("CARGO_BIN_EXE_sigtrace"),
        file.display(),
        py.display(),
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(child.id());
    let mut target = 0;
    wait_for("python's SIGINT handler", || {
        target = find_process(child.id(), &py);
        target != 0 && ready.exists() && tracer_of(target) != 0
    });
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    wait_for("python to end", || {
        read_json(&file).iter().any(|e| e["event"] == "verdict")
    });
    drop(stdin);
    let out = finish(child, "script");
    assert_eq!(out.code(), 130);
    let ev = read_json(&file);
    let v = ev.iter().find(|e| e["event"] == "verdict").unwrap();
    assert_eq!(v["signal"], "SIGINT", "{v:#}");
    assert_eq!(v["cause"], "terminal", "{v:#}");
}

#[test]
fn a_signal_sent_to_sigtrace_names_its_real_sender() {
    let (child, target, file) = launch_ready(&["--json"], &prog("waiter"), &["sleep"], |p| {
        catches(p, libc::SIGUSR2)
    });
    let _guard = KillOnDrop(child.id());
    signal(child.id(), nix::sys::signal::SIGTERM);
    let out = finish(child, "sigtrace");
    assert_eq!(out.code(), 143);
    let ev = read_json(&file);
    let v = verdict_for(&ev, target);
    assert_eq!(v["cause"], "external-signal", "{v:#}");
    assert_eq!(v["by"]["pid"], std::process::id(), "{v:#}");
    assert_eq!(v["by"]["source"], "passed-on", "{v:#}");
}

#[test]
fn a_scripts_group_kill_reaches_it_once_and_its_status_is_the_signal() {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    if !have("bash") {
        return;
    }
    // sigtrace leads its own process group, as under `setsid -w`: the script's `kill 0`
    // reaches sigtrace too, and must not be passed on as a second SIGTERM.
    let dir = tempdir("kill0");
    let file = dir.join("t.json");
    // The script exits once its background child runs sleep (read from /proc, no timing): a
    // child killed before its exec would be a second bash.
    let script = "trap 'kill 0' EXIT; sleep 30 & until read -r c < /proc/$!/comm && [ \"$c\" = sleep ]; do :; done; exit 0";
    let child = sigtrace()
        .args(["-f", "--json", "-o"])
        .arg(&file)
        .args(["bash", "-c", script])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = finish(child, "sigtrace bash");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGTERM),
        "as untraced, the parent sees a death by SIGTERM: {:?} {}",
        out.status,
        out.stderr
    );
    let ev = read_json(&file);
    let bash = verdict_of(&ev, "bash");
    assert_eq!(bash["cause"], "self-signal", "{bash:#}");
    let bash_pid = bash["pid"].clone();
    let terms: Vec<_> = ev
        .iter()
        .filter(|e| e["event"] == "signal" && e["signal"] == "SIGTERM" && e["pid"] == bash_pid)
        .collect();
    // bash catches its own SIGTERM, then raises it again with the default action: every
    // SIGTERM it gets is its own, none a copy passed on by sigtrace.
    assert!(!terms.is_empty());
    for t in &terms {
        assert_eq!(t["sender"]["pid"], bash_pid, "{terms:#?}");
    }
    let relayed: Vec<_> = ev.iter().filter(|e| e["event"] == "relayed").collect();
    assert_eq!(relayed.len(), 1, "{ev:#?}");
    assert_eq!(relayed[0]["passed_on"], false, "{relayed:#?}");
    let killed: Vec<_> = verdicts_of(&ev, "sleep")
        .into_iter()
        .filter(|v| v["outcome"] == "killed")
        .collect();
    assert_eq!(killed.len(), 1, "{ev:#?}");
    let sleep = killed[0];
    assert_eq!(sleep["cause"], "external-signal", "{sleep:#}");
    assert_eq!(sleep["by"]["pid"], bash_pid, "{sleep:#}");
}

#[test]
fn a_parent_sees_the_commands_death_by_signal_as_without_sigtrace() {
    let Some(py) = python() else { return };
    let code = format!(
        "import subprocess\nprint(subprocess.run(['{}', '-o', '/dev/null', '--', 'sh', '-c', 'kill -TERM $$']).returncode)\n",
        env!("CARGO_BIN_EXE_sigtrace")
    );
    let out = run(Command::new(&py).args(["-c", &code]));
    assert_eq!(out.stdout.trim(), "-15", "{}", out.stderr);
}

#[test]
fn setsid_updates_the_context() {
    if !have("setsid") {
        return;
    }
    let (out, text) = trace(
        &[],
        Path::new("/usr/bin/setsid"),
        &["sh", "-c", "kill -TERM $$"],
    );
    assert_eq!(out.code(), 143, "{}", out.stderr);
    let ctx: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("sigtrace: ") && l.contains(", session "))
        .collect();
    assert_eq!(
        ctx.len(),
        2,
        "a context line, then one for the new session: {text}"
    );
    let pid = text
        .lines()
        .find_map(|l| l.strip_prefix("sigtrace: ")?.split(' ').next())
        .unwrap();
    assert!(
        ctx[1].contains(&format!("session {pid}")) && ctx[1].contains("no controlling terminal"),
        "{}",
        ctx[1]
    );
}

#[test]
fn sigchld_from_a_child_that_execd_names_the_childs_program() {
    let (out, text) = trace(&[], Path::new("/bin/sh"), &["-c", "/bin/sleep 0.1; true"]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("SIGCHLD") && l.starts_with("sigtrace: "))
        .unwrap_or_else(|| panic!("{text}"));
    // Without -f the child is not traced: sh reaps it in wait4 before the SIGCHLD is
    // delivered; the kernel's record (as root) still names it, else its pid and uid are
    // all there is; never sh's name.
    assert!(
        line.contains("(sleep") || line.contains("exited before it could be read"),
        "{line}"
    );
    if nix::unistd::geteuid().is_root() {
        assert!(line.contains("(sleep"), "{line}");
    }
    assert!(!line.contains("(sh"), "{line}");
}

#[test]
fn a_hangup_the_shell_passes_on_does_not_reach_a_command_that_left_the_session() {
    if !have("script") || !have("bash") || !have("setsid") {
        return;
    }
    // Orphans (sigtrace, once the shell is gone) come to the test process: still descendants.
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let dir = tempdir("hangup");
    let file = dir.join("t.txt");
    // script runs its command with $SHELL -c (sh when unset): exec makes bash the session
    // leader either way, the one the terminal's hangup reaches.
    let mut term = Command::new("script")
        .args(["-q", "-c", "exec bash --norc --noprofile -i", "/dev/null"])
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(term.id());
    let line = format!(
        "{} -o {} -- setsid sleep 100\n",
        env!("CARGO_BIN_EXE_sigtrace"),
        file.display()
    );
    let mut stdin = term.stdin.take().unwrap();
    stdin.write_all(line.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let sleep_exe = std::fs::canonicalize("/bin/sleep").unwrap();
    let mut sleep = 0;
    wait_for("the traced sleep", || {
        sleep = find_process(term.id(), &sleep_exe);
        sleep != 0 && tracer_of(sleep) != 0 && in_syscall(sleep, libc::SYS_clock_nanosleep as u32)
    });
    let tracer = tracer_of(sleep);
    // The terminal closes: the kernel sends SIGHUP to bash, which sends it on to its jobs.
    signal(term.id(), nix::sys::signal::SIGKILL);
    let _ = term.wait();
    wait_for("sigtrace's word on the hangup", || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("sigtrace: SIGHUP from ")
    });
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("to sigtrace: not passed on: the shell passes a hangup on to its jobs"),
        "{text}"
    );
    assert!(!text.contains("--- SIGHUP"), "{text}");
    let st = state(sleep);
    assert!(
        !matches!(st, 'Z' | '?'),
        "sleep survives, as untraced: state {st}: {text}"
    );
    signal(sleep, nix::sys::signal::SIGTERM);
    wait_for("sigtrace to end", || matches!(state(tracer), 'Z' | '?'));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("+++ killed by SIGTERM +++"), "{text}");
}

#[test]
fn a_child_forked_after_setsid_sits_in_the_new_session() {
    // With -f a forked child's context comes from what sigtrace keeps of its parent: that
    // must be where the parent is now (python moves itself, and forks without an exec), not
    // where it was first seen.
    let script =
        "import os; os.setsid(); p = os.fork(); os._exit(0) if p == 0 else os.waitpid(p, 0)";
    let (out, text) = trace(
        &["-f", "-e", "trace=none"],
        Path::new("/usr/bin/python3"),
        &["-c", script],
    );
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let ctx: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("sigtrace: ") && l.contains(", session "))
        .collect();
    // python's line, its line in the new session, the child's line.
    assert_eq!(ctx.len(), 3, "{text}");
    let leader = ctx[0]
        .strip_prefix("sigtrace: ")
        .and_then(|l| l.split(' ').next())
        .unwrap();
    let child = ctx[2];
    assert!(
        child.contains(&format!("parent {leader} (python3)"))
            && child.contains(&format!("process group {leader}, session {leader}, ")),
        "{child}"
    );
}
