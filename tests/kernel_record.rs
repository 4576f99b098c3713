//! The kernel's record of signals and the OOM counter: senders ptrace cannot see, named (as root); OOM kills recognised (any user).
mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

const NOBODY: [&str; 3] = ["--reuid=65534", "--regid=65534", "--clear-groups"];

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// A directory anyone may write in, for a trace written by an unprivileged sigtrace.
fn open_dir(name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let d = tempdir(name);
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

/// A v1 memory cgroup made for one test, removed when dropped.
struct MemCgroup(PathBuf);

impl MemCgroup {
    /// None (with the reason printed) where memory cgroups cannot be made.
    fn new(limit: u64) -> Option<MemCgroup> {
        let root = Path::new("/sys/fs/cgroup/memory");
        if !is_root() || !root.join("memory.limit_in_bytes").exists() {
            skip(&format!(
                "needs root and a cgroup v1 memory controller at {root:?}"
            ));
            return None;
        }
        let dir = root.join(format!("sigtrace-oom-nobody-{}", std::process::id()));
        if let Err(e) = std::fs::create_dir(&dir) {
            skip(&format!("cannot make {dir:?}: {e}"));
            return None;
        }
        let cg = MemCgroup(dir);
        std::fs::write(cg.0.join("memory.limit_in_bytes"), limit.to_string()).ok()?;
        // No swap for this cgroup: the limit is hit at once.
        let _ = std::fs::write(cg.0.join("memory.swappiness"), "0");
        Some(cg)
    }
}

impl Drop for MemCgroup {
    fn drop(&mut self) {
        // Its processes have ended: an empty cgroup can be removed.
        for _ in 0..100 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        eprintln!("could not remove {:?}", self.0);
    }
}

#[test]
fn oom_kill_in_a_memory_cgroup_as_nobody_is_oom() {
    let Some(cg) = MemCgroup::new(64 << 20) else {
        return;
    };
    let hog = prog("hog");
    let dir = open_dir("oom");
    let file = dir.join("t.json");
    // The shell moves itself into the cgroup, then becomes an unprivileged sigtrace.
    let script = r#"echo $$ > "$1/cgroup.procs" && shift && exec setpriv "$@""#;
    let out = run(Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(&cg.0)
        .args(NOBODY)
        .arg(env!("CARGO_BIN_EXE_sigtrace"))
        .args(["--json", "-o"])
        .arg(&file)
        .arg("--")
        .arg(&hog));
    assert_eq!(out.code(), 137, "{}", out.stderr);
    let events = json_lines(&std::fs::read_to_string(&file).unwrap());
    let v = events
        .iter()
        .find(|e| e["event"] == "verdict")
        .expect("a verdict");
    assert_eq!(v["cause"], "oom", "{v:#}");
    assert_eq!(v["signal"], "SIGKILL");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains("memory cgroup oom_kill 0 -> 1"),
        "{summary}"
    );
    drop(cg);
}

/// Root, where the kernel's record can be read; otherwise the test is skipped.
fn kernel_record_allowed() -> bool {
    if !is_root() {
        skip("the kernel's record needs root");
        return false;
    }
    if !Path::new("/sys/kernel/tracing").exists() {
        skip("no tracefs in this kernel");
        return false;
    }
    true
}

const SLEEP: &str = "/usr/bin/sleep";

/// `kill -9 PID` from a process of its own, not traced; returned unreaped, so that it is
/// still a zombie in /proc whatever the reader's delay.
fn kill9(pid: u32) -> Child {
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .spawn()
        .unwrap()
}

/// Ends a JSON sigtrace run, checks that `target` was killed by `killer`, named from the
/// kernel's record, and returns its verdict.
fn assert_named(tracer: Child, file: &Path, target: u32, mut killer: Child) -> Value {
    let out = finish(tracer, "sigtrace");
    let killer_pid = killer.id();
    let events = json_lines(&std::fs::read_to_string(file).unwrap());
    killer.wait().unwrap();
    let v = events
        .iter()
        .find(|e| e["event"] == "verdict" && e["pid"] == target)
        .unwrap_or_else(|| panic!("no verdict for {target}: {}", out.stderr))
        .clone();
    assert_eq!(v["cause"], "external-signal", "{v:#}");
    assert_eq!(v["by"]["pid"], killer_pid, "{v:#}");
    assert_eq!(v["by"]["source"], "kernel-record", "{v:#}");
    assert_eq!(v["by"]["comm"], "kill", "{v:#}");
    assert_eq!(v["by"]["uid"], 0, "{v:#}");
    let summary = v["summary"].as_str().unwrap();
    let want = format!("killed by SIGKILL after SIGKILL from {killer_pid} (");
    assert!(summary.starts_with(&want), "{summary}");
    assert!(
        summary.contains(&format!("<- {} (", std::process::id())),
        "{summary}"
    );
    v
}

fn launched_sleep_killed_from_outside(flags: &[&str]) {
    if !kernel_record_allowed() {
        return;
    }
    let mut all = vec!["--json"];
    all.extend(flags);
    let (tracer, sleep, file) =
        launch_ready(&all, Path::new(SLEEP), &["30"], |p| tracer_of(p) != 0);
    let _guard = KillOnDrop(tracer.id());
    assert_named(tracer, &file, sleep, kill9(sleep));
}

#[test]
fn sigkill_from_outside_is_named_launched() {
    launched_sleep_killed_from_outside(&[]);
}

#[test]
fn sigkill_from_outside_is_named_launched_with_f() {
    launched_sleep_killed_from_outside(&["-f"]);
}

fn attached_sleep_killed_from_outside(flags: &[&str]) {
    if !kernel_record_allowed() {
        return;
    }
    let mut sleep = Command::new(SLEEP).arg("30").spawn().unwrap();
    let pid = sleep.id();
    let _guard = KillOnDrop(pid);
    let file = tempdir("attach").join("t.json");
    let tracer = sigtrace()
        .args(["--json", "-o"])
        .arg(&file)
        .args(flags)
        .args(["-p", &pid.to_string()])
        .spawn()
        .unwrap();
    wait_for("the attach", || tracer_of(pid) != 0);
    assert_named(tracer, &file, pid, kill9(pid));
    sleep.wait().unwrap();
}

#[test]
fn sigkill_from_outside_is_named_attached() {
    attached_sleep_killed_from_outside(&[]);
}

#[test]
fn sigkill_from_outside_is_named_attached_with_f() {
    attached_sleep_killed_from_outside(&["-f"]);
}

/// `docker stop`, systemd, Kubernetes: SIGTERM, then SIGKILL, from outside the trace.
#[test]
fn term_then_kill_shows_both() {
    if !kernel_record_allowed() {
        return;
    }
    let sh = Path::new("/bin/sh");
    let script = "trap '' TERM; sleep 30";
    let (tracer, target, file) = launch_ready(&["--json"], sh, &["-c", script], |p| {
        tracer_of(p) != 0 && descendants(p).into_iter().any(|c| comm(c) == "sleep")
    });
    let _guard = KillOnDrop(tracer.id());
    let mut term = Command::new("kill")
        .args(["-TERM", &target.to_string()])
        .spawn()
        .unwrap();
    let term_pid = term.id();
    term.wait().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sleep = descendants(target)
        .into_iter()
        .find(|&c| comm(c) == "sleep")
        .unwrap();
    let killer = kill9(target);
    // Its orphaned `sleep` would hold sigtrace's output pipes for 30 s.
    wait_for("sh to die", || matches!(state(target), 'Z' | '?'));
    signal(sleep, nix::sys::signal::SIGKILL);
    let v = assert_named(tracer, &file, target, killer);
    let earlier = v["earlier"].as_array().unwrap();
    assert_eq!(earlier.len(), 1, "{v:#}");
    assert_eq!(earlier[0]["signal"], "SIGTERM", "{v:#}");
    assert_eq!(earlier[0]["by"]["pid"], term_pid, "{v:#}");
    let summary = v["summary"].as_str().unwrap();
    let re =
        regex::Regex::new(r"\(the kernel's record\), \d+(\.\d)? m?s after SIGTERM from \d+ \(")
            .unwrap();
    assert!(re.is_match(summary), "{summary}");
}

#[test]
fn unprivileged_sigkill_says_what_would_name_it() {
    if !is_root() {
        skip("needs root to become nobody");
        return;
    }
    let dir = open_dir("nobody");
    let file = dir.join("t.json");
    let tracer = Command::new("setpriv")
        .args(NOBODY)
        .arg(env!("CARGO_BIN_EXE_sigtrace"))
        .args(["--json", "-o"])
        .arg(&file)
        .args([SLEEP, "30"])
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(tracer.id());
    let mut sleep = 0;
    wait_for("the traced sleep", || {
        sleep = find_process(tracer.id(), Path::new(SLEEP));
        sleep != 0 && tracer_of(sleep) != 0
    });
    let mut killer = kill9(sleep);
    finish(tracer, "sigtrace as nobody");
    killer.wait().unwrap();
    let events = json_lines(&std::fs::read_to_string(&file).unwrap());
    let v = events.iter().find(|e| e["event"] == "verdict").unwrap();
    assert_eq!(v["cause"], "sigkill", "{v:#}");
    assert_eq!(v["by"], Value::Null);
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains(
            "the kernel's record of signals would name it: run as root, or grant CAP_PERFMON"
        ),
        "{summary}"
    );
}

/// The processes of `root`'s tree (itself included) that hold a perf event descriptor.
fn perf_holders(root: u32) -> Vec<u32> {
    let mut all = descendants(root);
    all.push(root);
    all.into_iter()
        .filter(|p| {
            std::fs::read_dir(format!("/proc/{p}/fd")).is_ok_and(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path())
                        .is_ok_and(|l| l.to_string_lossy() == "anon_inode:[perf_event]")
                })
            })
        })
        .collect()
}

fn tracefs_instances() -> Vec<String> {
    std::fs::read_dir("/sys/kernel/tracing/instances")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sigkill_of_sigtrace_leaves_nothing_and_disturbs_no_one() {
    if !kernel_record_allowed() {
        return;
    }
    let instances = tracefs_instances();
    // Another tool counting the same tracepoint system-wide, all along.
    let perf = Command::new("perf")
        .args([
            "stat",
            "-x,",
            "-e",
            "signal:signal_generate",
            "-a",
            "sleep",
            "2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(perf) = perf else {
        skip("perf is not installed");
        return;
    };
    let (doomed, doomed_sleep, _) = launch_ready(&["--json"], Path::new(SLEEP), &["30"], |p| {
        tracer_of(p) != 0
    });
    let _g1 = KillOnDrop(doomed.id());
    let _g2 = KillOnDrop(doomed_sleep);
    let (other, other_sleep, other_file) =
        launch_ready(&["--json"], Path::new(SLEEP), &["30"], |p| {
            tracer_of(p) != 0
        });
    let _g3 = KillOnDrop(other.id());
    let holders = perf_holders(doomed.id());
    assert!(!holders.is_empty(), "the kernel's record is not open");
    for &p in &holders {
        signal(p, nix::sys::signal::SIGKILL);
    }
    signal(doomed.id(), nix::sys::signal::SIGKILL);
    // Untraced now (without -f there is no filter and no PTRACE_O_EXITKILL), it would hold
    // sigtrace's output pipes for its 30 s.
    wait_for("the tracer to let go", || tracer_of(doomed_sleep) == 0);
    signal(doomed_sleep, nix::sys::signal::SIGKILL);
    let out = finish(doomed, "the killed sigtrace");
    assert_eq!(out.code(), 137);
    for p in holders {
        wait_for("the killed tracer to go", || {
            !Path::new(&format!("/proc/{p}/fd")).exists() || perf_holders(p).is_empty()
        });
    }
    assert_eq!(
        tracefs_instances(),
        instances,
        "a tracefs instance was left"
    );
    // The other sigtrace still reads the record; perf still counts.
    assert_named(other, &other_file, other_sleep, kill9(other_sleep));
    let perf = finish(perf, "perf stat");
    assert_eq!(perf.code(), 0, "{}", perf.stderr);
    let count: u64 = perf
        .stderr
        .lines()
        .find(|l| l.contains("signal:signal_generate"))
        .and_then(|l| l.split(',').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no count: {}", perf.stderr));
    assert!(count > 0, "{}", perf.stderr);
}

#[test]
fn the_events_outlive_sigtrace_briefly_and_hold_nothing_else() {
    use std::os::unix::process::CommandExt;
    if !kernel_record_allowed() {
        return;
    }
    // The child that closes the perf events after sigtrace exits comes here when orphaned.
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let me = std::process::id();
    // Output to files, so that any pipe left is the holder's own.
    let dir = tempdir("holder");
    let file = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
    let mut tracer = sigtrace()
        .args(["-q", "-f", "-o"])
        .arg(dir.join("trace.txt"))
        .arg("/bin/true")
        .stdin(std::process::Stdio::null())
        .stdout(file("stdout.txt"))
        .stderr(file("stderr.txt"))
        .process_group(0)
        .spawn()
        .unwrap();
    let group = tracer.id();
    let _guard = KillOnDrop(tracer.id());
    let mut status = None;
    wait_for("sigtrace to exit", || {
        status = tracer.try_wait().unwrap();
        status.is_some()
    });
    assert_eq!(status.unwrap().code(), Some(0));
    // Whatever sigtrace left behind: only perf events (and its pipe to sigtrace, gone with
    // it), never a descriptor of the caller's (stdout, stderr, the trace file).
    let pgrp = |p: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(2)?
            .parse()
            .ok()
    };
    // sigtrace's process group is its own: what is left in it, alive, it left.
    let left = || -> Vec<u32> {
        descendants(me)
            .into_iter()
            .filter(|&p| pgrp(p) == Some(group) && state(p) != 'Z')
            .collect()
    };
    for p in left() {
        for fd in std::fs::read_dir(format!("/proc/{p}/fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy().into_owned();
            assert!(
                target == "anon_inode:[perf_event]" || target.starts_with("pipe:"),
                "pid {p} holds {target}"
            );
        }
    }
    wait_for("the holder of the perf events to exit", || {
        left().is_empty()
    });
}

#[test]
fn a_thread_directed_sigkill_from_outside_is_named() {
    // The kernel keeps no sample of a thread-directed signal (SI_TKILL: raise() storms) but
    // of SIGKILL and the termination requests: this one is still named.
    if !kernel_record_allowed() {
        return;
    }
    let (tracer, sleep, file) = launch_ready(&["--json"], Path::new(SLEEP), &["30"], |p| {
        tracer_of(p) != 0
    });
    let _guard = KillOnDrop(tracer.id());
    let script = "import ctypes, sys; p = int(sys.argv[1]); \
                  sys.exit(ctypes.CDLL(None).syscall(234, p, p, 9))";
    let mut killer = Command::new("python3")
        .args(["-c", script, &sleep.to_string()])
        .spawn()
        .unwrap();
    let out = finish(tracer, "sigtrace");
    let killer_pid = killer.id();
    // Reaped only now: still in /proc (a zombie) whatever the reader's delay.
    assert!(killer.wait().unwrap().success());
    let events = json_lines(&std::fs::read_to_string(&file).unwrap());
    let v = events
        .iter()
        .find(|e| e["event"] == "verdict" && e["pid"] == sleep)
        .unwrap_or_else(|| panic!("no verdict for {sleep}: {}", out.stderr));
    assert_eq!(v["cause"], "external-signal", "{v:#}");
    assert_eq!(v["by"]["pid"], killer_pid, "{v:#}");
    assert_eq!(v["by"]["source"], "kernel-record", "{v:#}");
    assert_eq!(v["by"]["comm"], "python3", "{v:#}");
}
