//! The watch mode (`--watch`): every process on the host, the verdicts its filter selects, as text and JSON lines, a clean stop and a reopened log.
mod common;
use common::*;
use nix::sys::signal::Signal::{SIGHUP, SIGKILL, SIGTERM};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// A running `sigtrace --watch`, writing to its own file; killed if the test fails.
struct Watch {
    child: Option<Child>,
    out: PathBuf,
    err: PathBuf,
}

impl Watch {
    /// Starts it with `args` and waits until it watches (its opening line on stderr).
    fn start(name: &str, args: &[&str]) -> Watch {
        let dir = tempdir(name);
        let (out, err) = (dir.join("watch.out"), dir.join("watch.err"));
        let child = sigtrace()
            .arg("--watch")
            .args(args)
            .arg("-o")
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        let w = Watch {
            child: Some(child),
            out,
            err,
        };
        wait_for("the watch to start", || w.stderr().contains("watching"));
        w
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Stops it as a service manager does (SIGTERM) and returns its exit status.
    fn stop(mut self) -> i32 {
        let child = self.child.take().unwrap();
        signal(child.id(), SIGTERM);
        let out = finish(child, "sigtrace --watch");
        out.code()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A v1 or v2 cgroup made for one test (with a memory limit where asked), removed when dropped.
struct Cgroup {
    dir: PathBuf,
    /// Its path as /proc/PID/cgroup shows it.
    path: String,
}

impl Cgroup {
    /// None (the test counted as skipped) where no cgroup can be made.
    fn new(name: &str) -> Option<Cgroup> {
        let name = format!("{name}-{}", std::process::id());
        let v1 = Path::new("/sys/fs/cgroup/memory");
        let root = if v1.join("memory.limit_in_bytes").exists() {
            v1.to_path_buf()
        } else {
            PathBuf::from("/sys/fs/cgroup")
        };
        let dir = root.join(&name);
        if let Err(e) = std::fs::create_dir(&dir) {
            skip(&format!("cannot make the cgroup {dir:?}: {e}"));
            return None;
        }
        Some(Cgroup {
            dir,
            path: format!("/{name}"),
        })
    }

    /// A child cgroup whose processes the OOM killer ends past `limit` bytes.
    fn limited(&self, name: &str, limit: u64) -> Cgroup {
        let dir = self.dir.join(name);
        std::fs::create_dir(&dir).unwrap();
        let v1 = dir.join("memory.limit_in_bytes");
        if v1.exists() {
            std::fs::write(&v1, limit.to_string()).unwrap();
            let _ = std::fs::write(dir.join("memory.swappiness"), "0");
        } else {
            std::fs::write(dir.join("memory.max"), limit.to_string()).unwrap();
            let _ = std::fs::write(dir.join("memory.swap.max"), "0");
        }
        Cgroup {
            dir,
            path: format!("{}/{name}", self.path),
        }
    }

    /// `cmd` run inside this cgroup: a shell moves itself in, then execs it (same pid).
    fn command(&self, cmd: &[&str]) -> Command {
        let mut c = Command::new("/bin/sh");
        c.args(["-c", r#"echo $$ > "$0/cgroup.procs" && exec "$@""#])
            .arg(&self.dir)
            .args(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }
}

/// A shell inside a cgroup that starts each scenario as its own child, as a service's main
/// process does: it moves itself in, then execs (as a service manager's child does).
struct Runner {
    child: Child,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl Runner {
    fn new(cg: &Cgroup) -> Runner {
        let mut child = Command::new("/bin/sh")
            .args(["-c", r#"echo $$ > "$0/cgroup.procs" && exec /bin/sh -s"#])
            .arg(&cg.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        Runner { child, out }
    }

    /// Runs `line` (a shell command line) and returns its answer.
    fn ask(&mut self, line: &str) -> String {
        use std::io::{BufRead, Write};
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut answer = String::new();
        self.out.read_line(&mut answer).unwrap();
        answer.trim().to_string()
    }

    /// Starts `cmd` in the background; its pid.
    fn start(&mut self, cmd: &str) -> u32 {
        self.ask(&format!("{cmd} & echo $!")).parse().unwrap()
    }

    /// Runs `cmd` to its end; its pid.
    fn run(&mut self, cmd: &str) -> u32 {
        let pid = self.start(cmd);
        self.wait(pid);
        pid
    }

    fn wait(&mut self, pid: u32) {
        assert_eq!(self.ask(&format!("wait {pid}; echo done")), "done");
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        for _ in 0..200 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        eprintln!("could not remove {:?}", self.dir);
    }
}

fn watchable() -> bool {
    if !nix::unistd::geteuid().is_root() {
        skip("the watch mode needs the kernel's record: root or CAP_PERFMON");
        return false;
    }
    true
}

/// Waits for `pid` to block in a nanosleep (its program running, past its exec).
fn sleeping(pid: u32) {
    wait_for("a sleep in nanosleep", || {
        in_syscall(pid, libc::SYS_clock_nanosleep as u32)
    });
}

/// Waits until `watch` has written a verdict for each of `pids` (`has`); says which it lacks.
fn all_written(watch: &Watch, pids: &[u32], has: impl Fn(&str, u32) -> bool) {
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let out = watch.output();
        let missing: Vec<u32> = pids.iter().copied().filter(|&p| !has(&out, p)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no verdict for {missing:?} of {pids:?}:\n{out}\n{}",
            watch.stderr()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn wait_status(mut c: Child) {
    let _ = c.wait();
}

#[test]
fn every_way_a_process_ends_has_its_verdict_and_only_the_filtered_ones_are_written() {
    if !watchable() {
        return;
    }
    let Some(cg) = Cgroup::new("sigtrace-watch") else {
        return;
    };
    let filter = ["--cgroup", cg.path.as_str()];
    let text = Watch::start("watch-text", &filter);
    let json = Watch::start("watch-json", &[&filter[..], &["--json"]].concat());
    let me = std::process::id();

    // Outside the filter: the same kind of process in no cgroup of the test's.
    let mut decoy = Command::new("/bin/sh");
    let decoy = decoy.args(["-c", "exit 9"]).spawn().unwrap();
    let decoy_pid = decoy.id();
    wait_status(decoy);

    let mut run = Runner::new(&cg);
    let runner_pid = run.child.id();
    // Exit.
    let exit_pid = run.run("/bin/sh -c 'exit 7'");

    // An external SIGTERM from a short-lived kill(1).
    let termed_pid = run.start("/bin/sleep 100");
    sleeping(termed_pid);
    let kill = Command::new("/bin/kill")
        .args(["-TERM", &termed_pid.to_string()])
        .spawn()
        .unwrap();
    let kill_pid = kill.id();
    wait_status(kill);
    run.wait(termed_pid);

    // SIGKILL from this test.
    let killed_pid = run.start("/bin/sleep 100");
    sleeping(killed_pid);
    signal(killed_pid, SIGKILL);
    run.wait(killed_pid);

    // A crash, and a signal it sends itself.
    let segv_pid = run.run(&prog("segv").display().to_string());
    let selfkill_pid = run.run(&format!("{} 15", prog("selfkill").display()));

    // The OOM killer in a small memory cgroup.
    let small = cg.limited("small", 64 << 20);
    let hog = small
        .command(&[prog("hog").to_str().unwrap()])
        .spawn()
        .unwrap();
    let hog_pid = hog.id();
    wait_status(hog);

    // pid 1 of a pid namespace ignores SIGTERM (no handler), then SIGKILL ends it.
    let unshare_pid = run.start("/usr/bin/unshare --pid --fork /bin/sleep 100");
    let init = sleeping_below(unshare_pid);
    signal(init, SIGTERM);
    wait_for("the ignored SIGTERM to be dropped", || {
        status_field(init, "SigPnd").is_some_and(|p| p.trim_start_matches('0').is_empty())
            && status_field(init, "ShdPnd").is_some_and(|p| p.trim_start_matches('0').is_empty())
    });
    // A barrier: once both watches have written the verdict of a process that ended after
    // the SIGTERM, they have read the SIGTERM's record while its target lived.
    let barrier_pid = run.run("/bin/sh -c 'exit 42'");
    all_written(&json, &[barrier_pid], |out, pid| {
        out.contains(&format!("\"pid\":{pid},"))
    });
    all_written(&text, &[barrier_pid], |out, pid| {
        out.contains(&format!(" {pid} ("))
    });
    signal(init, SIGKILL);
    run.wait(unshare_pid);
    drop(run);
    drop(small);

    let ours = [
        runner_pid,
        exit_pid,
        termed_pid,
        killed_pid,
        segv_pid,
        selfkill_pid,
        hog_pid,
        init,
        unshare_pid,
        barrier_pid,
    ];
    let verdict_of = |ev: &[Value], pid: u32| -> Option<Value> {
        ev.iter()
            .find(|e| e["event"] == "verdict" && e["pid"] == pid)
            .cloned()
    };
    all_written(&json, &ours, |out, pid| {
        verdict_of(&json_lines(out), pid).is_some()
    });
    all_written(&text, &ours, |out, pid| {
        out.lines()
            .any(|l| l.split(' ').nth(1) == Some(&pid.to_string()))
    });
    let ev = json_lines(&json.output());
    let v = |pid| verdict_of(&ev, pid).unwrap();
    let summary = |pid| v(pid)["summary"].as_str().unwrap().to_string();

    assert_eq!(
        (v(exit_pid)["cause"].clone(), v(exit_pid)["code"].clone()),
        ("self-exit".into(), 7.into())
    );

    let t = v(termed_pid);
    assert_eq!(t["cause"], "external-signal", "{t}");
    assert_eq!(t["signal"], "SIGTERM");
    assert_eq!(t["by"]["pid"], kill_pid, "{t}");
    assert_eq!(t["by"]["comm"], "kill", "{t}");
    // No ptrace: the sender is known from the kernel's record, and both outputs say so.
    assert_eq!(t["by"]["source"], "kernel-record", "{t}");

    let k = v(killed_pid);
    assert_eq!(
        (k["cause"].as_str(), k["signal"].as_str()),
        (Some("external-signal"), Some("SIGKILL")),
        "{k}"
    );
    assert_eq!(k["by"]["pid"], me, "{k}");

    assert_eq!(v(segv_pid)["cause"], "crash", "{}", v(segv_pid));
    let s = v(selfkill_pid);
    assert_eq!(
        (s["cause"].as_str(), s["signal"].as_str()),
        (Some("self-signal"), Some("SIGTERM")),
        "{s}"
    );

    let h = v(hog_pid);
    assert_eq!(
        (h["cause"].as_str(), h["signal"].as_str()),
        (Some("oom"), Some("SIGKILL")),
        "{h}"
    );
    assert!(h["cgroup"].as_str().unwrap().ends_with("/small"), "{h}");

    let i = v(init);
    assert_eq!(i["cause"], "external-signal", "{i}");
    assert_eq!(i["signal"], "SIGKILL");
    assert_eq!(i["by"]["pid"], me, "{i}");
    let words = summary(init);
    assert!(words.contains("SIGTERM from the same sender"), "{words}");
    assert!(
        words.contains("pid 1 of its pid namespace"),
        "{words}\n{}",
        json.stderr()
    );

    // Nothing outside the filter: every verdict is of a process in the test's cgroup.
    for e in ev.iter().filter(|e| e["event"] == "verdict") {
        let g = e["cgroup"].as_str().unwrap_or("");
        assert!(
            g == cg.path || g.starts_with(&format!("{}/", cg.path)),
            "outside the filter: {e}"
        );
        assert_ne!(e["pid"], decoy_pid, "{e}");
        assert_eq!(e["uid"], 0, "{e}");
    }

    // The text says the same, a line each, with the time of day and the cgroup first.
    let out = text.output();
    let line = |pid: u32| {
        out.lines()
            .find(|l| l.split(' ').nth(1) == Some(&pid.to_string()))
            .unwrap()
            .to_string()
    };
    let stamp = regex::Regex::new(r"^\d\d:\d\d:\d\d \d+ \(").unwrap();
    for l in out.lines() {
        assert!(stamp.is_match(l), "{l}");
        assert!(
            l.contains(&format!(", cgroup {}", cg.path)),
            "outside the filter: {l}"
        );
    }
    // Each line is the JSON verdict's sentence: its outcome, and its cause's words.
    for &pid in &ours {
        let (l, words) = (line(pid), summary(pid));
        let outcome = words
            .split(" after ")
            .next()
            .unwrap()
            .split(':')
            .next()
            .unwrap();
        let cause = words.rsplit(": ").next().unwrap();
        assert!(
            l.contains(&format!(") {outcome}")) && l.ends_with(cause),
            "text and JSON differ:\n{l}\n{words}"
        );
    }
    assert!(
        line(termed_pid).contains(&format!("after SIGTERM from {kill_pid} (")),
        "{}",
        line(termed_pid)
    );
    assert!(
        line(termed_pid).contains("(the kernel's record): external signal"),
        "{}",
        line(termed_pid)
    );
    assert!(
        line(exit_pid).contains("(sh, uid 0, cgroup "),
        "{}",
        line(exit_pid)
    );

    // A clean stop: status 0, and the JSON stream ends with its `end` event.
    assert_eq!(text.stop(), 0);
    assert_eq!(json.stop(), 0);
}

#[test]
fn the_end_event_closes_the_stream_and_a_sighup_reopens_the_log() {
    if !watchable() {
        return;
    }
    let w = Watch::start("watch-rotate", &["--json", "--comm", "sigtrace-rot"]);
    let rotated = w.out.with_extension("1");
    // A shell named as the filter asks: the kernel names a process after the file it execs.
    let named = w.out.with_file_name("sigtrace-rot");
    std::os::unix::fs::symlink("/bin/sh", &named).unwrap();
    let ended = |path: &Path, code: i64| {
        json_lines(&std::fs::read_to_string(path).unwrap_or_default())
            .iter()
            .any(|e| e["event"] == "verdict" && e["code"] == code)
    };
    let renamed = |code: &str| {
        let mut c = Command::new(&named)
            .args(["-c", &format!("exit {code}")])
            .spawn()
            .unwrap();
        let _ = c.wait();
    };
    renamed("3");
    wait_for("the first verdict", || ended(&w.out, 3));
    std::fs::rename(&w.out, &rotated).unwrap();
    signal(w.pid(), SIGHUP);
    wait_for("the log opened again", || w.out.exists());
    renamed("4");
    wait_for("the verdict after the rotation", || ended(&w.out, 4));
    let out = w.out.clone();
    assert_eq!(w.stop(), 0);
    assert!(!ended(&rotated, 4), "written to the old file after SIGHUP");
    let ev = json_lines(&std::fs::read_to_string(&out).unwrap());
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "end", "{last}");
    assert_eq!(last["status"], 0, "{last}");
    // Only the processes the filter names.
    for e in ev.iter().filter(|e| e["event"] == "verdict") {
        assert_eq!(e["comm"], "sigtrace-rot", "{e}");
    }
}

#[test]
fn what_a_watch_refuses_is_said_in_one_line() {
    for (args, words) in [
        (&["--watch", "true"][..], "--watch takes no COMMAND"),
        (&["--watch", "-c"][..], "-c"),
        (&["--watch", "--report", "r.html"][..], "--report"),
        (&["--watch", "-k"][..], "-k"),
        (&["--watch", "-e", "trace=kill"][..], "syscall lines"),
        (
            &["--watch", "--uid", "no-such-user-here"][..],
            "no such user",
        ),
        (&["--comm", "x", "true"][..], "--watch"),
        (&["--watch", "-u", "nobody"][..], "--uid USER"),
        (&["--watch", "-E", "X=1"][..], "-E"),
        (&["--watch", "-b", "execve"][..], "--watch: -b execve"),
        (&["--watch", "-p", "999999999"][..], "no such process"),
    ] {
        let out = run(sigtrace().args(args));
        assert_ne!(out.code(), 0, "{args:?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {}", out.stderr);
        assert!(
            lines[0].starts_with("sigtrace: ") && lines[0].contains(words),
            "{args:?}: {}",
            out.stderr
        );
    }
}
