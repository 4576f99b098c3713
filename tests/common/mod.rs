//! Test harness: builds the C programs, runs sigtrace and strace with timeouts, normalises their lines.
#![allow(dead_code)]

use regex::Regex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// Every process a test starts must end within this.
pub const TIMEOUT: Duration = Duration::from_secs(60);

pub fn sigtrace() -> Command {
    same_addresses();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigtrace"));
    if RECORD.get() {
        cmd.arg("--no-ptrace");
    }
    cmd
}

thread_local! {
    /// The calling test runs sigtrace in the record mode (`--no-ptrace`).
    static RECORD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes every sigtrace the calling test starts run in the record mode; false (and the test
/// counted as skipped) where that mode cannot read the kernel's record (not root).
pub fn record_mode() -> bool {
    if !nix::unistd::geteuid().is_root() {
        skip("the record mode needs the kernel's record: root or CAP_PERFMON");
        return false;
    }
    RECORD.set(true);
    true
}

/// Whether the calling test runs sigtrace in the record mode.
pub fn recording() -> bool {
    RECORD.get()
}

/// Runs each named test (a `fn()` in scope) twice, under ptrace and in the record mode: the
/// same scenario must come to the same verdict however it is watched.
#[macro_export]
macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {
        mod ptrace {
            $(#[test]
            fn $name() {
                super::$name()
            })*
        }
        mod record {
            $(#[test]
            fn $name() {
                if super::common::record_mode() {
                    super::$name()
                }
            })*
        }
    };
}

/// Turns address-space randomisation off for every process the calling test thread starts
/// from now on (the personality is a thread's, inherited through fork and exec): a program
/// then has the same addresses under strace and under sigtrace, so lines are compared with
/// no address masked.
pub fn same_addresses() {
    use nix::sys::personality::{self, Persona};
    let now = personality::get().expect("personality");
    if !now.contains(Persona::ADDR_NO_RANDOMIZE) {
        personality::set(now | Persona::ADDR_NO_RANDOMIZE).expect("personality");
    }
}

fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A fresh directory for one test's files.
pub fn tempdir(name: &str) -> PathBuf {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = scratch().join(format!("t-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles tests/c/NAME.c with the system C compiler (once per test binary) and returns its path.
pub fn prog(name: &str) -> PathBuf {
    same_addresses();
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap();
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/c/{name}.c"));
    let dir = scratch().join("c");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}-{}", std::process::id()));
    let status = Command::new("cc")
        .args(["-O1", "-pthread", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("a C compiler (cc) is needed for the tests");
    assert!(status.success(), "compiling {}", src.display());
    built.insert(name.to_string(), out.clone());
    out
}

pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn code(&self) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        self.status
            .code()
            .unwrap_or_else(|| 128 + self.status.signal().unwrap_or(0))
    }
}

/// Waits for a child with TIMEOUT; kills it and panics if it does not end.
pub fn finish(mut child: Child, what: &str) -> Output {
    use std::io::Read;
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    // Readers report through channels: a grandchild that keeps the pipes open must not hang
    // the test past its limit.
    let (tx_out, rx_out) = std::sync::mpsc::channel();
    let (tx_err, rx_err) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        let _ = tx_out.send(s);
    });
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        let _ = tx_err.send(s);
    });
    let status = match child.wait_timeout(TIMEOUT).unwrap() {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {TIMEOUT:?}");
        }
    };
    let read = |rx: std::sync::mpsc::Receiver<String>| {
        rx.recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("{what}: its output stayed open {TIMEOUT:?} after it ended"))
    };
    Output {
        status,
        stdout: read(rx_out),
        stderr: read(rx_err),
    }
}

pub fn run(cmd: &mut Command) -> Output {
    let what = format!("{cmd:?}");
    finish(spawn(cmd), &what)
}

/// Starts `cmd` with no input and its output piped (for `finish`).
pub fn spawn(cmd: &mut Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"))
}

/// Polls `cond` until it holds; panics with `what` after TIMEOUT.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < TIMEOUT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn status_field(pid: u32, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == name).then(|| v.trim().to_string())
    })
}

pub fn tracer_of(pid: u32) -> u32 {
    status_field(pid, "TracerPid")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Whether sigtrace watches `pid` already: traced, or in the record mode (which follows a
/// launched command's tree from its start, with nothing to see in /proc).
pub fn watched(pid: u32) -> bool {
    recording() || tracer_of(pid) != 0
}

/// Waits until nothing traces `pid`, then asserts that it runs (neither stopped nor dead).
pub fn assert_let_go(pid: u32, what: &str) {
    wait_for("the detach", || tracer_of(pid) == 0);
    let s = state(pid);
    assert!(matches!(s, 'R' | 'S'), "{what}: state {s}");
}

/// /proc/PID/comm, without the newline; "" if gone.
pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

/// /proc/PID/stat's state letter.
pub fn state(pid: u32) -> char {
    stat_field(pid, 3).chars().next().unwrap_or('?')
}

/// Field `n` of /proc/PID/stat, numbered as in proc(5) (3 = state, 6 = session); "" if gone.
pub fn stat_field(pid: u32, n: usize) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .and_then(|(_, r)| r.split_whitespace().nth(n - 3))
        .unwrap_or_default()
        .to_string()
}

/// Whether the test process ignores `sig` (as a background job of a non-interactive shell
/// ignores SIGINT and SIGQUIT); its commands inherit that through exec.
pub fn ignored_here(sig: i32) -> bool {
    in_mask(std::process::id(), "SigIgn", sig)
}

/// Whether `sig` has a handler installed in `pid` (SigCgt).
pub fn catches(pid: u32, sig: i32) -> bool {
    in_mask(pid, "SigCgt", sig)
}

/// Whether `sig` is in the signal mask `field` of /proc/PID/status.
fn in_mask(pid: u32, field: &str, sig: i32) -> bool {
    status_field(pid, field)
        .and_then(|m| u64::from_str_radix(&m, 16).ok())
        .is_some_and(|m| m & (1 << (sig - 1)) != 0)
}

/// Sends `sig` from the test process itself (so si_pid is ours).
pub fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).unwrap();
}

/// The first child of `pid` (from /proc/PID/task/PID/children), or 0.
pub fn child_of(pid: u32) -> u32 {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Every descendant of `pid` (children of all its threads, theirs, and so on).
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut next = vec![pid];
    while let Some(p) = next.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in children.split_whitespace().filter_map(|s| s.parse().ok()) {
                found.push(c);
                next.push(c);
            }
        }
    }
    found
}

/// The line strace prints for a signal the test process sent.
pub fn from_test(sig: &str) -> String {
    format!(
        "--- {sig} {{si_signo={sig}, si_code=SI_USER, si_pid={}, si_uid={}}} ---",
        std::process::id(),
        nix::unistd::getuid()
    )
}

/// sigtrace's default syscall set, spelled for strace.
pub const DEFAULT_SET: &str = "%signal,exit,exit_group,execve,execveat,setsid,setpgid";

/// Every line but tracer chatter ("strace: ...", "sigtrace: ...").
pub fn all_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with("strace: ") && !l.starts_with("sigtrace: "))
        .map(str::to_string)
        .collect()
}

/// Signal and end lines only (`--- ... ---`, `+++ ... +++`): no syscalls, no program output.
pub fn trace_lines(text: &str) -> Vec<String> {
    let re = Regex::new(r"^(\[pid +\d+\] |\d+ +)?(---|\+\+\+) ").unwrap();
    text.lines()
        .filter(|l| re.is_match(l))
        .map(str::to_string)
        .collect()
}

/// Normalises what differs between two runs: pids (P1, P2... by first appearance in line bodies)
/// and CPU times; addresses are the same in both (`same_addresses`). Returns per-task groups of lines, keyed by the line prefix pid
/// (or "-" when lines carry none), as a sorted list so task order does not matter.
pub fn normalize(lines: &[String]) -> Vec<Vec<String>> {
    let prefix = Regex::new(r"^(?:\[pid +(\d+)\] |(\d+) +)").unwrap();
    let pid_re = Regex::new(r"(?:si_pid=|in pid |^\[pid +|^)(\d{2,})\b").unwrap();
    let number = Regex::new(r"\b\d{2,}\b").unwrap();
    let result = Regex::new(r"^(.*?\)) +(= .*)$").unwrap();
    let resumed = Regex::new(r"^<\.\.\. [a-z0-9_]+ resumed>").unwrap();
    let times = Regex::new(r"(si_[us]time)=\d+( /\* [0-9.]+ s \*/)?").unwrap();
    let rusage = Regex::new(r"(ru_[us]time)=\{tv_sec=\d+, tv_usec=\d+\}").unwrap();
    // The first execve's envp lies in the launching tracer's own stack, which differs.
    let envp = Regex::new(r"\], 0x[0-9a-f]+ (/\* \d+ vars? \*/\))").unwrap();
    let new_pid = Regex::new(r"^(?:\S+ +)?(?:clone3?|fork|vfork)\(.*\) += (\d+)$").unwrap();
    // Every number that is a pid somewhere in this output (si_pid, prefixes, what a fork
    // returned) is a pid everywhere.
    let pids: std::collections::HashSet<String> = lines
        .iter()
        .flat_map(|l| {
            pid_re
                .captures_iter(l)
                .chain(new_pid.captures(l))
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    // Where another task's line split a syscall line ("<unfinished ...>", then
    // "<... NAME resumed>") depends on timing: join the halves, per task.
    let mut held: HashMap<String, String> = HashMap::new();
    for line in lines {
        let (key, body) = match prefix.captures(line) {
            Some(c) => (
                c.get(1).or(c.get(2)).unwrap().as_str().to_string(),
                line[c.get(0).unwrap().end()..].to_string(),
            ),
            None => ("-".to_string(), line.clone()),
        };
        if let Some(head) = body.strip_suffix(" <unfinished ...>") {
            // strace prints "???(" for a thread that exec or exit_group kills before it knew
            // which syscall the thread was in; sigtrace prints nothing there.
            if head != "???(" {
                held.insert(key, head.to_string());
            }
            continue;
        }
        let body = match (held.remove(&key), resumed.find(&body)) {
            (Some(head), Some(m)) => format!("{head}{}", &body[m.end()..]),
            (Some(head), None) => format!("{head} <unfinished ...>\n{body}"),
            (None, _) => body,
        };
        // The padding before "= result" depends on the width of pids (and on where a split
        // line was joined); tests check strace's column 40 on raw lines instead.
        let body = match result.captures(&body) {
            Some(c) => format!("{} {}", &c[1], &c[2]),
            None => body,
        };
        let body = times.replace_all(&body, "$1=T").to_string();
        let body = rusage.replace_all(&body, "$1=T").to_string();
        let body = envp.replace_all(&body, "], ENVP $1").to_string();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(body),
            None => groups.push((key, vec![body])),
        }
    }
    for (key, head) in held {
        let g = groups.iter_mut().find(|(k, _)| *k == key);
        let line = format!("{head} <unfinished ...>");
        match g {
            Some((_, g)) => g.push(line),
            None => groups.push((key, vec![line])),
        }
    }
    // Pids are named P1, P2... in order of first appearance, in the groups sorted by their
    // lines with every pid alike: the names do not depend on how tasks' lines interleaved.
    let erase = |line: &String| {
        number
            .replace_all(line, |c: &regex::Captures| {
                if pids.contains(&c[0]) {
                    "P".to_string()
                } else {
                    c[0].to_string()
                }
            })
            .to_string()
    };
    let mut groups: Vec<Vec<String>> = groups.into_iter().map(|(_, g)| g).collect();
    groups.sort_by_cached_key(|g| g.iter().map(erase).collect::<Vec<_>>());
    let mut names: HashMap<String, String> = HashMap::new();
    let mut out: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|line| {
                    number
                        .replace_all(line, |c: &regex::Captures| {
                            if !pids.contains(&c[0]) {
                                return c[0].to_string();
                            }
                            let n = names.len() + 1;
                            names
                                .entry(c[0].to_string())
                                .or_insert_with(|| format!("P{n}"))
                                .clone()
                        })
                        .to_string()
                })
                .collect()
        })
        .collect();
    out.sort();
    out
}

/// Runs `prog args` under strace (the oracle) and under sigtrace, both writing to files with
/// the same flags; returns (strace lines, sigtrace lines, strace exit, sigtrace exit).
pub fn compare(flags: &[&str], prog: &Path, args: &[&str]) -> (Vec<String>, Vec<String>, i32, i32) {
    compare_with(flags, &[], prog, args)
}

/// As `compare`, with `own` flags given to sigtrace alone.
pub fn compare_with(
    flags: &[&str],
    own: &[&str],
    prog: &Path,
    args: &[&str],
) -> (Vec<String>, Vec<String>, i32, i32) {
    let mut name = format!(
        "cmp-{}-{}",
        prog.file_name().unwrap().to_string_lossy(),
        args.join("_").replace('/', "")
    );
    name.truncate(name.floor_char_boundary(64));
    let dir = tempdir(&name);
    let s_out = dir.join("strace.txt");
    let t_out = dir.join("sigtrace.txt");
    // sigtrace's default syscall set unless the flags choose one.
    let set = if flags.iter().any(|f| f.starts_with("trace=")) {
        vec![]
    } else {
        vec!["-e".to_string(), format!("trace={DEFAULT_SET}")]
    };
    let s = run(Command::new("strace")
        .args(&set)
        .arg("-o")
        .arg(&s_out)
        .args(flags)
        .arg(prog)
        .args(args)
        .current_dir(&dir));
    let t = run(sigtrace()
        .arg("-o")
        .arg(&t_out)
        .args(own)
        .args(flags)
        .arg(prog)
        .args(args)
        .current_dir(&dir));
    let read = |p: &Path| all_lines(&std::fs::read_to_string(p).unwrap_or_default());
    (read(&s_out), read(&t_out), s.code(), t.code())
}

/// Asserts sigtrace's lines equal strace's for the same program, and its exit status too.
pub fn assert_same_as_strace(flags: &[&str], prog: &Path, args: &[&str]) -> Vec<String> {
    let (s, t, s_code, t_code) = compare(flags, prog, args);
    assert!(!s.is_empty(), "strace printed no trace lines");
    let (nt, ns) = (normalize(&t), normalize(&s));
    assert!(
        nt == ns,
        "\nsigtrace:\n{nt:#?}\nstrace:\n{ns:#?}\nraw sigtrace:\n{t:#?}"
    );
    assert_eq!(t_code, s_code, "exit status");
    t
}

/// Runs `sigtrace FLAGS -o FILE PROG ARGS` to its end: its output, and the trace file's text.
pub fn trace(flags: &[&str], prog: &Path, args: &[&str]) -> (Output, String) {
    let dir = tempdir(&prog.file_name().unwrap().to_string_lossy());
    let file = dir.join("t.txt");
    let out = run(sigtrace()
        .args(flags)
        .arg("-o")
        .arg(&file)
        .arg(prog)
        .args(args));
    (out, std::fs::read_to_string(&file).unwrap_or_default())
}

/// Starts `sigtrace FLAGS -o FILE PROG ARGS`, and returns it with the traced program's pid
/// once `ready` holds for it.
pub fn launch_ready(
    flags: &[&str],
    prog: &Path,
    args: &[&str],
    ready: impl Fn(u32) -> bool,
) -> (Child, u32, PathBuf) {
    let mut tracer = sigtrace();
    tracer.args(flags);
    launch_ready_with(tracer, prog, args, ready)
}

/// As `launch_ready`, with any tracer command (sigtrace or strace and their flags).
pub fn launch_ready_with(
    mut tracer: Command,
    prog: &Path,
    args: &[&str],
    ready: impl Fn(u32) -> bool,
) -> (Child, u32, PathBuf) {
    let dir = tempdir("launch");
    let file = dir.join("t.txt");
    let child = tracer
        .arg("-o")
        .arg(&file)
        .arg(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let tp = child.id();
    // The program may not run yet (before exec), and it is not always the tracer's child:
    // sigtrace may trace from a child process of its own, and strace forks short-lived probe
    // children that stop themselves.
    let want = std::fs::canonicalize(prog).unwrap();
    let mut target = 0;
    wait_for("the traced program to be ready", || {
        target = descendants(tp)
            .into_iter()
            .find(|&p| runs(p, &want))
            .unwrap_or(0);
        target != 0 && ready(target)
    });
    (child, target, file)
}

/// Waits until a `sleep` below `root` sleeps in clock_nanosleep (pid 1 of a namespace that
/// `unshare --pid --fork` made, in the tests that use it); its pid.
pub fn sleeping_below(root: u32) -> u32 {
    let mut sleeper = 0;
    wait_for("a sleep below it, in its nanosleep", || {
        sleeper = descendants(root)
            .into_iter()
            .find(|&p| comm(p) == "sleep")
            .unwrap_or(0);
        sleeper != 0 && in_syscall(sleeper, libc::SYS_clock_nanosleep as u32)
    });
    sleeper
}

/// The pid of a descendant of `root` (never another test's process) running `path`, or 0.
pub fn find_process(root: u32, path: &Path) -> u32 {
    let want = std::fs::canonicalize(path).unwrap();
    descendants(root)
        .into_iter()
        .find(|&p| runs(p, &want))
        .unwrap_or(0)
}

/// Kills `root` and every descendant it still has when dropped, so that a failing test
/// leaves nothing of its own running (and never touches another test's processes).
pub struct KillOnDrop(pub u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let mut all = descendants(self.0);
        all.push(self.0);
        for p in all {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p as i32),
                nix::sys::signal::SIGKILL,
            );
        }
    }
}

/// Whether `tool` is on PATH; the calling test is marked skipped when not (it must return).
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        skip(&format!("{tool} is not installed"));
    }
    found
}

/// Marks the calling test as skipped, with the reason on stderr: `scripts/test.sh` counts it
/// as skipped, not passed. The test must return right after.
pub fn skip(reason: &str) {
    let name = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .replace("::", "-");
    eprintln!("skipped: {reason}");
    let dir = scratch().join("skipped");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join(format!("{}-{name}", env!("CARGO_CRATE_NAME"))),
        reason,
    );
}

/// Whether `pid` runs the executable at `exe` (a canonical path).
fn runs(pid: u32, exe: &Path) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == exe)
}

/// Whether `pid` is blocked in syscall `nr` (first field of /proc/PID/syscall).
pub fn in_syscall(pid: u32, nr: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .is_ok_and(|s| s.split_whitespace().next() == Some(&nr.to_string()))
}

/// Calls the function bash's `complete` registered for sigtrace, with these words.
pub fn bash_complete(script: &Path, words: &str) -> Vec<String> {
    let code = format!(
        r#"source {}; f=$(complete -p sigtrace | sed 's/.*-F \([^ ]*\).*/\1/')
COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
"$f" sigtrace "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script.display()
    );
    let out = run(Command::new("bash").args(["--norc", "-c", &code]));
    assert!(out.status.success(), "{}", out.stderr);
    out.stdout.lines().map(String::from).collect()
}

/// The candidates zsh's completion offers for `words` (the cursor at their end), with `_sigtrace`
/// from directory `fpath`: an interactive zsh on a pty (zsh/zpty) whose compadd also writes
/// each candidate to a file. `sigtrace` is a function there, so the line is not run.
pub fn zsh_complete(fpath: &Path, words: &str) -> Vec<String> {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let hits = fpath.join(format!("hits-{n}"));
    std::fs::write(&hits, "").unwrap();
    let code = r#"zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd() { local -a h; builtin compadd -O h "$@"; (( $#h )) && print -rl -- "${^h}" >> '"$3"'; builtin compadd "$@" }'
zpty -w z "sigtrace() { print '<<'end'>>' }"
zpty -w z "$2"$'\t'
zpty -r z out '*<<end>>*'
zpty -d z"#;
    let out = run(Command::new("zsh")
        .args(["-f", "-c", code, "zsh"])
        .arg(fpath)
        .arg(words)
        .arg(&hits));
    assert!(out.status.success(), "{}", out.stderr);
    let text = std::fs::read_to_string(&hits).unwrap();
    let mut found: Vec<String> = text.lines().map(String::from).collect();
    found.sort();
    found.dedup();
    found
}
