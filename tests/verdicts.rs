//! Who killed it: every verdict cause from a real scenario, in JSON and in text; senders and dispositions.
mod common;
use common::*;
use nix::sys::signal::Signal::{SIGKILL, SIGTERM, SIGUSR2};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

fn verdicts(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["event"] == "verdict").collect()
}

/// Runs `sigtrace --json -o FILE ARGS...`; returns the exit code and the JSON events.
fn json_run(args: &[&str]) -> (i32, Vec<Value>) {
    let dir = tempdir("json");
    let file = dir.join("t.json");
    let out = run(sigtrace()
        .arg("--json")
        .arg("-o")
        .arg(&file)
        .args(args)
        .current_dir(&dir));
    (
        out.code(),
        json_lines(&std::fs::read_to_string(&file).unwrap()),
    )
}

/// Runs the same with text output to stderr; returns the `sigtrace: PID (comm) ...` verdict lines.
fn text_verdicts(args: &[&str]) -> Vec<String> {
    let out = run(sigtrace().args(["-e", "trace=none"]).args(args));
    let re = regex::Regex::new(r"^sigtrace: \d+ \(").unwrap();
    out.stderr
        .lines()
        .filter(|l| re.is_match(l) && !l.contains("): parent "))
        .map(str::to_string)
        .collect()
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

// The verdicts that need no syscall line, under ptrace and in the record mode.
both_modes!(
    self_exit,
    self_signal,
    crash,
    sigpipe_is_the_kernel_not_a_self_signal,
    graceful_exit_143_after_external_sigterm_names_the_sender,
    shell_reraise_is_external,
    follow_summary_table,
    process_context_line,
    oom_in_a_small_memory_cgroup,
);

fn self_exit() {
    let (code, ev) = json_run(&["sh", "-c", "exit 7"]);
    assert_eq!(code, 7);
    let v = verdicts(&ev);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["cause"], "self-exit");
    assert_eq!(v[0]["outcome"], "exited");
    assert_eq!(v[0]["code"], 7);
    assert_eq!(v[0]["by"], Value::Null);
    let t = text_verdicts(&["sh", "-c", "exit 7"]);
    assert!(t[0].ends_with("(sh) exited with 7: self exit"), "{t:?}");
}

fn self_signal() {
    let p = prog("abort");
    let (code, ev) = json_run(&[&path(&p)]);
    assert_eq!(code, 134);
    let v = verdicts(&ev);
    assert_eq!(v[0]["cause"], "self-signal");
    assert_eq!(v[0]["signal"], "SIGABRT");
    assert_eq!(v[0]["trigger"]["code"], "SI_TKILL");
    let t = text_verdicts(&[&path(&p)]);
    assert!(
        t[0].contains("killed by SIGABRT after SIGABRT it sent itself: self signal"),
        "{t:?}"
    );
}

fn crash() {
    let p = prog("segv");
    let (code, ev) = json_run(&[&path(&p)]);
    assert_eq!(code, 139);
    assert_eq!(verdicts(&ev)[0]["cause"], "crash");
    let t = text_verdicts(&[&path(&p)]);
    // The kernel's record has no fault address.
    let want = if recording() {
        "killed by SIGSEGV after SIGSEGV (SEGV_MAPERR): crash"
    } else {
        "killed by SIGSEGV after SIGSEGV (SEGV_MAPERR at 0x10): crash"
    };
    assert!(t[0].contains(want), "{t:?}");
}

fn sigpipe_is_the_kernel_not_a_self_signal() {
    let p = prog("sigpipe");
    let (code, ev) = json_run(&[&path(&p)]);
    assert_eq!(code, 141);
    let v = verdicts(&ev);
    assert_eq!(v[0]["cause"], "kernel");
    // The siginfo names the process itself as the sender, as strace shows.
    assert_eq!(v[0]["trigger"]["sender"]["pid"], v[0]["pid"]);
    let t = text_verdicts(&[&path(&p)]);
    assert!(
        t[0].contains("(it wrote to a pipe or socket with no reader): kernel"),
        "{t:?}"
    );
}

fn graceful_exit_143_after_external_sigterm_names_the_sender() {
    for json in [true, false] {
        let flags: &[&str] = if json { &["--json"] } else { &[] };
        let (child, target, file) =
            launch_ready(flags, &prog("handled"), &[], |p| catches(p, libc::SIGTERM));
        signal(target, SIGTERM);
        assert_eq!(finish(child, "sigtrace").code(), 143);
        let out = std::fs::read_to_string(&file).unwrap();
        let me = std::process::id();
        if json {
            let ev = json_lines(&out);
            let v = verdicts(&ev);
            assert_eq!(v[0]["cause"], "external-signal");
            assert_eq!(v[0]["code"], 143);
            assert_eq!(v[0]["by"]["pid"], me);
            assert_eq!(v[0]["by"]["uid"], nix::unistd::getuid().as_raw());
            assert_eq!(v[0]["trigger"]["disposition"], "caught");
            let sig = ev.iter().find(|e| e["event"] == "signal").unwrap();
            // The parent chain: the test's parent first, up to pid 1.
            let ancestry = sig["sender"]["ancestry"].as_array().unwrap();
            assert_eq!(ancestry[0]["pid"], nix::unistd::getppid().as_raw());
            assert_eq!(ancestry.last().unwrap()["pid"], 1);
        } else {
            let line = out
                .lines()
                .find(|l| l.contains(") exited with 143"))
                .unwrap();
            assert!(
                line.contains(&format!("after SIGTERM from {me} (")),
                "{line}"
            );
            assert!(line.ends_with(": external signal, handled"), "{line}");
            assert!(
                out.contains("sigtrace: SIGTERM caught by a handler; from "),
                "{out}"
            );
        }
    }
}

fn shell_reraise_is_external() {
    // The shell traps SIGTERM, then re-raises it on itself: the root cause is the sender.
    let script = "trap 'kill $!; trap - TERM; kill -TERM $$' TERM; sleep 100 & wait";
    // Ready once the trap is set, the shell waits (rt_sigsuspend) and its background job runs
    // sleep: between fork and exec the job still has the shell's trap, which would take the
    // trap's SIGTERM and leave sleep running (and holding sigtrace's output) for 100 s.
    let (child, target, file) =
        launch_ready(&["--json"], Path::new("/bin/sh"), &["-c", script], |p| {
            catches(p, libc::SIGTERM)
                && in_syscall(p, 130)
                && descendants(p).into_iter().any(|c| comm(c) == "sleep")
        });
    signal(target, SIGTERM);
    assert_eq!(finish(child, "sigtrace").code(), 143);
    let ev = json_lines(&std::fs::read_to_string(&file).unwrap());
    // The record mode follows the background sleep too (-f is implied): its verdict (the
    // trap's `kill $!`, from the shell) may come first, as its end may be read first.
    let v: Vec<&Value> = verdicts(&ev)
        .into_iter()
        .filter(|v| v["pid"] == target)
        .collect();
    assert_eq!(v.len(), 1, "{ev:#?}");
    assert_eq!(v[0]["cause"], "external-signal", "{:#}", v[0]);
    assert_eq!(v[0]["by"]["pid"], std::process::id(), "{ev:#?}");
    assert_eq!(v[0]["outcome"], "killed");
    if recording() {
        let sleep = ev
            .iter()
            .find(|e| e["event"] == "verdict" && e["pid"] != target)
            .unwrap_or_else(|| panic!("{ev:#?}"));
        assert_eq!(sleep["comm"], "sleep", "{sleep:#}");
        assert_eq!(sleep["by"]["pid"], target, "{sleep:#}");
    }
}

#[test]
fn sigkill_from_another_process() {
    // Without the kernel's record (tests/kernel_record.rs has it name the sender).
    let flags = ["--json", "--no-kernel-record"];
    let (child, target, file) =
        launch_ready(&flags, &prog("waiter"), &[], |p| catches(p, libc::SIGUSR2));
    signal(target, SIGKILL);
    assert_eq!(finish(child, "sigtrace").code(), 137);
    let ev = json_lines(&std::fs::read_to_string(&file).unwrap());
    let v = verdicts(&ev);
    assert_eq!(v[0]["cause"], "sigkill");
    assert_eq!(v[0]["by"], Value::Null);
    let s = v[0]["summary"].as_str().unwrap();
    assert!(s.contains("ptrace never sees SIGKILL's siginfo"), "{s}");
    assert!(s.contains("(--no-kernel-record)"), "{s}");
    assert!(s.contains("kernel log"), "{s}");
}

#[test]
fn external_from_a_traced_sender_links_its_kill_call() {
    let (code, ev) = json_run(&["-f", &path(&prog("childkill"))]);
    assert_eq!(code, 143);
    let v = verdicts(&ev);
    let parent = v
        .iter()
        .find(|v| v["outcome"] == "killed")
        .expect("the parent's verdict");
    assert_eq!(parent["cause"], "external-signal");
    let child = v
        .iter()
        .find(|v| v["outcome"] == "exited")
        .expect("the child's verdict");
    assert_eq!(parent["by"]["pid"], child["pid"]);
    let call = parent["call"]["text"].as_str().unwrap();
    assert_eq!(call, format!("kill({}, SIGTERM)", parent["pid"]));
    assert!(
        parent["summary"].as_str().unwrap().contains(" ms before"),
        "{}",
        parent["summary"]
    );
}

fn follow_summary_table() {
    let out = run(sigtrace()
        .args(["-f", "-e", "trace=none"])
        .arg(prog("forkexec")));
    assert_eq!(out.code(), 0);
    let table: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("sigtrace: summary of"))
        .collect();
    assert_eq!(
        table[0], "sigtrace: summary of 3 processes",
        "{}",
        out.stderr
    );
    assert!(table[1].contains("PID") && table[1].contains("CAUSE"));
    assert_eq!(table.len(), 5);
    assert!(
        table
            .iter()
            .any(|r| r.contains("killed by SIGUSR2") && r.contains("self-signal")),
        "{table:#?}"
    );
    assert!(
        table
            .iter()
            .any(|r| r.contains("exited 4") && r.contains("self-exit")),
        "{table:#?}"
    );
}

#[test]
fn ignored_since_exec_in_a_background_job() {
    // A non-interactive shell starts background jobs with SIGINT ignored; sigtrace says so.
    let dir = tempdir("bg");
    let file = dir.join("t.json");
    let script = format!(
        "{} --json -o {} {} & wait",
        env!("CARGO_BIN_EXE_sigtrace"),
        file.display(),
        prog("waiter").display()
    );
    let shell = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let waiter = prog("waiter");
    let mut target = 0;
    wait_for("the traced waiter", || {
        target = find_process(shell.id(), &waiter);
        target != 0 && catches(target, libc::SIGUSR2) && tracer_of(target) != 0
    });
    signal(target, nix::sys::signal::SIGINT);
    wait_for("the SIGINT event", || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("SIGINT")
    });
    signal(target, SIGUSR2);
    assert_eq!(finish(shell, "sh").code(), 0);
    let ev = json_lines(&std::fs::read_to_string(&file).unwrap());
    let int = ev.iter().find(|e| e["signal"] == "SIGINT").unwrap();
    assert_eq!(int["disposition"], "ignored");
    assert_eq!(int["ignored_since_exec"], true);
    // The waiter ends on its own after it caught SIGUSR2 from the test: SIGUSR2 is no
    // termination request, so it is context (DESIGN §2), not the cause.
    let v = verdicts(&ev);
    assert_eq!(v[0]["cause"], "self-exit");
    let summary = v[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("(last handled signal: SIGUSR2 from "),
        "{summary}"
    );
}

#[test]
fn sender_names_with_escape_bytes_are_escaped() {
    // A sender whose name holds an escape sequence and a newline, and whose command line holds
    // invalid UTF-8 and 100,000 more bytes.
    use std::os::unix::ffi::OsStrExt;
    let invalid = std::ffi::OsStr::from_bytes(b"\xff\xfe\x07");
    let huge = "y".repeat(100_000);
    let dir = tempdir("evil");
    let evil = dir.join("ev\x1b[31mil\nx");
    std::fs::copy(prog("sendsig"), &evil).unwrap();
    for json in [false, true] {
        let flags: &[&str] = if json { &["--json"] } else { &[] };
        let (child, target, file) =
            launch_ready(flags, &prog("handled"), &[], |p| catches(p, libc::SIGTERM));
        let mut sender = Command::new(&evil)
            .args(["15", &target.to_string(), "stay"])
            .arg(invalid)
            .arg(&huge)
            .spawn()
            .unwrap();
        assert_eq!(finish(child, "sigtrace").code(), 143);
        sender.kill().unwrap();
        sender.wait().unwrap();
        let out = std::fs::read_to_string(&file).unwrap();
        assert!(
            !out.contains('\x1b'),
            "raw escape byte in the trace: {out:?}"
        );
        assert!(!out.contains('\x07'), "raw bell byte in the trace");
        if json {
            let ev = json_lines(&out);
            let comm =
                ev.iter().find(|e| e["event"] == "signal").unwrap()["sender"]["comm"].clone();
            assert_eq!(comm, "ev\x1b[31mil\nx");
        } else {
            // Quoted as a shell takes it back (the name has a newline), escaped.
            assert!(out.contains("/ev\\33[31mil\\nx' 15 "), "{out}");
            let line = out.lines().find(|l| l.contains("/ev\\33")).unwrap();
            assert!(line.len() < 1000, "{} bytes", line.len());
            assert!(line.contains("y..., uid "), "{line}");
        }
    }
}

fn process_context_line() {
    let out = run(sigtrace().args(["-e", "trace=none", "true"]));
    let re = regex::Regex::new(
        r"(?m)^sigtrace: \d+ \(true\): parent \d+ \(sigtrace\), process group \d+, session \d+, (terminal \S+|no controlling terminal)$",
    )
    .unwrap();
    assert!(re.is_match(&out.stderr), "{}", out.stderr);
}

fn oom_in_a_small_memory_cgroup() {
    let root = Path::new("/sys/fs/cgroup/memory");
    if !nix::unistd::geteuid().is_root() || !root.join("memory.limit_in_bytes").exists() {
        skip(&format!(
            "needs root and a cgroup v1 memory controller at {}",
            root.display()
        ));
        return;
    }
    // One per mode: the two run at once in this process.
    let cg = root.join(format!(
        "sigtrace-test-{}-{}",
        std::process::id(),
        if recording() { "record" } else { "ptrace" }
    ));
    let _ = std::fs::create_dir(&cg);
    std::fs::write(cg.join("memory.limit_in_bytes"), "64M").unwrap();
    let _ = std::fs::write(cg.join("memory.swappiness"), "0");
    let dir = tempdir("oom");
    let file = dir.join("t.json");
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec {} {} --json -o {} {}",
        cg.display(),
        env!("CARGO_BIN_EXE_sigtrace"),
        if recording() { "--no-ptrace" } else { "" },
        file.display(),
        prog("hog").display()
    );
    let out = run(Command::new("sh").args(["-c", &script]));
    // The OOM-killed process is released a moment after its parent saw it end: only an
    // empty cgroup can be removed.
    wait_for("the test's memory cgroup to be removed", || {
        std::fs::remove_dir(&cg).is_ok() || !cg.exists()
    });
    assert_eq!(out.code(), 137, "{}", out.stderr);
    let ev = json_lines(&std::fs::read_to_string(&file).unwrap());
    let v = verdicts(&ev);
    assert_eq!(v[0]["cause"], "oom", "{:#}", v[0]);
    assert!(
        v[0]["summary"].as_str().unwrap().contains("oom_kill"),
        "{}",
        v[0]["summary"]
    );
}

#[test]
fn every_json_line_has_the_common_fields() {
    let p = prog("sigcalls");
    let (code, ev) = json_run(&[&path(&p)]);
    assert_eq!(code, 0);
    for e in &ev {
        for field in ["event", "time", "pid", "tid"] {
            assert!(!e[field].is_null(), "{field} missing in {e}");
        }
    }
    let kinds: std::collections::HashSet<&str> =
        ev.iter().filter_map(|e| e["event"].as_str()).collect();
    for kind in ["context", "syscall", "signal", "exited", "verdict"] {
        assert!(kinds.contains(kind), "no {kind} event");
    }
    let kill = ev
        .iter()
        .find(|e| e["name"] == "kill" && e["ret"] == -1)
        .unwrap();
    assert_eq!(kill["errno"], "ESRCH");
    assert_eq!(kill["args"][1], "SIGTERM");
    assert!(
        kill["text"]
            .as_str()
            .unwrap()
            .starts_with("kill(999999, SIGTERM) = -1 ESRCH")
    );
    let sigaction = ev.iter().find(|e| e["name"] == "rt_sigaction").unwrap();
    assert_eq!(
        sigaction["args"].as_array().unwrap().len(),
        4,
        "{sigaction}"
    );
}

#[test]
fn json_syscalls_carry_their_own_entry() {
    // A non-leader thread execs while the leader sleeps in pause(): the exec takes over the
    // leader's tid, so the execve's exit comes from the leader's tid. It must read as the
    // execve, and no line may be anything but an event object.
    let (code, ev) = json_run(&["-f", &path(&prog("thread_exec"))]);
    assert_eq!(code, 6);
    for e in &ev {
        assert!(e.is_object(), "a line that is not an event: {e}");
    }
    let calls: Vec<&Value> = ev.iter().filter(|e| e["event"] == "syscall").collect();
    for c in &calls {
        let (name, text) = (c["name"].as_str().unwrap(), c["text"].as_str().unwrap());
        assert!(text.starts_with(&format!("{name}(")), "{c}");
    }
    let execs: Vec<&str> = calls
        .iter()
        .filter(|c| c["name"] == "execve" && c["ret"] == 0)
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert_eq!(execs.len(), 2, "{execs:?}");
    assert!(
        execs[1].starts_with(r#"execve("/bin/sh", ["sh", "-c", "exit 6"], "#)
            && execs[1].ends_with(") = 0"),
        "{}",
        execs[1]
    );
    assert!(!calls.iter().any(|c| c["text"] == "pause() = 0"));
}
