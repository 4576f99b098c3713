//! The kernel's record of signals and the OOM counter: senders ptrace cannot see, named (as root); OOM kills recognised (any user).
mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

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
            eprintln!("skipped: needs root and a cgroup v1 memory controller at {root:?}");
            return None;
        }
        let dir = root.join(format!("sigtrace-test-{}", std::process::id()));
        if let Err(e) = std::fs::create_dir(&dir) {
            eprintln!("skipped: cannot make {dir:?}: {e}");
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
