//! The record mode (`--no-ptrace`): what only it sees (signals the kernel ignored at generation), that nothing of the run is ever traced, and what it refuses.
mod common;
use common::*;
use nix::sys::signal::Signal::{SIGCONT, SIGINT, SIGKILL, SIGSTOP, SIGTERM, SIGUSR2};
use serde_json::Value;
use std::path::Path;

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// The record mode, where it can run (else the test is counted as skipped).
fn recorder() -> Option<std::process::Command> {
    record_mode().then(sigtrace)
}

#[test]
fn pid_1_of_a_namespace_ignores_sigterm_and_the_record_says_so() {
    let Some(mut tracer) = recorder() else {
        return;
    };
    tracer.arg("--json");
    let sleep = std::fs::canonicalize("/bin/sleep").unwrap();
    let args = ["--pid", "--fork", sleep.to_str().unwrap(), "100"];
    let (child, target, file) =
        launch_ready_with(tracer, Path::new("/usr/bin/unshare"), &args, |_| true);
    // The sleep, pid 1 of its namespace, in a nanosleep.
    let sleeper = sleeping_below(target);
    signal(sleeper, SIGTERM);
    wait_for("the ignored SIGTERM in the trace", || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("\"SIGTERM\"")
    });
    signal(sleeper, SIGKILL);
    let _ = finish(child, "sigtrace");
    let ev = json_lines(&std::fs::read_to_string(&file).unwrap());
    let term = ev
        .iter()
        .find(|e| e["event"] == "signal" && e["signal"] == "SIGTERM")
        .expect("the SIGTERM's signal event");
    assert_eq!(term["pid"], sleeper);
    assert_eq!(term["disposition"], "ignored", "{term}");
    assert_eq!(term["sender"]["pid"], std::process::id());
    let v = ev
        .iter()
        .find(|e| e["event"] == "verdict" && e["pid"] == sleeper)
        .expect("the sleep's verdict");
    assert_eq!(v["cause"], "external-signal", "{v}");
    assert_eq!(v["signal"], "SIGKILL");
    assert_eq!(v["by"]["pid"], std::process::id());
    assert_eq!(
        term["kernel_reason"]["name"], "pidns-init-discard",
        "{term}"
    );
    let s = v["summary"].as_str().unwrap();
    assert!(s.contains("SIGTERM from the same sender"), "{s}");
    assert!(s.contains("pid 1 of its pid namespace"), "{s}");
}

#[test]
fn a_background_jobs_ignored_sigint_is_shown_ignored_and_nothing_is_ever_traced() {
    let Some(mut tracer) = recorder() else {
        return;
    };
    tracer.arg("--json");
    let waiter = prog("waiter");
    // A non-interactive shell starts its background job with SIGINT ignored.
    let script = format!("{} & wait", waiter.display());
    let (child, shell, file) =
        launch_ready_with(tracer, Path::new("/bin/sh"), &["-c", &script], |_| true);
    let mut job = 0;
    wait_for("the background job", || {
        job = descendants(shell)
            .into_iter()
            .find(|&p| comm(p).starts_with("waiter"))
            .unwrap_or(0);
        job != 0 && catches(job, libc::SIGUSR2)
    });
    // Nothing of the run is traced: the record mode makes no ptrace stop.
    for p in [shell, job] {
        assert_eq!(tracer_of(p), 0, "pid {p} is traced");
    }
    signal(job, SIGINT);
    wait_for("the SIGINT in the trace", || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("\"SIGINT\"")
    });
    signal(job, SIGUSR2);
    assert_eq!(finish(child, "sigtrace").code(), 0);
    let ev = json_lines(&std::fs::read_to_string(&file).unwrap());
    let int = ev
        .iter()
        .find(|e| e["event"] == "signal" && e["signal"] == "SIGINT")
        .unwrap();
    assert_eq!(int["disposition"], "ignored", "{int}");
    assert_eq!(int["pid"], job);
    let usr2 = ev
        .iter()
        .find(|e| e["event"] == "signal" && e["signal"] == "SIGUSR2")
        .unwrap();
    assert_eq!(usr2["disposition"], "caught", "{usr2}");
    let end = ev.last().unwrap();
    assert_eq!(
        (&end["event"], &end["processes"]),
        (&"end".into(), &2.into())
    );
}

#[test]
fn what_needs_a_stop_is_refused_with_the_reason() {
    for (args, says) in [
        (&["-k"][..], "-k reads each stack at a ptrace stop"),
        (
            &["-e", "trace=kill"][..],
            "syscall lines (-e trace=) need a ptrace stop",
        ),
        (
            &["--trace=%signal"][..],
            "syscall lines (-e trace=) need a ptrace stop",
        ),
        (&["--no-kernel-record"][..], "made of the kernel's record"),
    ] {
        let out = run(sigtrace().arg("--no-ptrace").args(args).arg("true"));
        assert_eq!(out.code(), 1, "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(
            out.stderr.starts_with("sigtrace: --no-ptrace: ") && out.stderr.contains(says),
            "{}",
            out.stderr
        );
    }
    // -e trace=none asks for no syscall line: allowed.
    let out = run(sigtrace().args(["--no-ptrace", "-q", "-e", "trace=none", "true"]));
    assert!(!out.stderr.contains("--no-ptrace:"), "{}", out.stderr);
}

#[test]
fn a_command_that_cannot_run_fails_as_under_ptrace() {
    if !record_mode() {
        return;
    }
    let out = run(sigtrace().arg("no-such-command-here"));
    assert_eq!(out.code(), 127);
    assert!(
        out.stderr
            .contains("no-such-command-here: command not found"),
        "{}",
        out.stderr
    );
    let out = run(sigtrace().arg("/etc/passwd"));
    assert_eq!(out.code(), 126);
    assert!(
        out.stderr.contains("cannot execute /etc/passwd"),
        "{}",
        out.stderr
    );
}

/// A storm the reader cannot keep up with (sigtrace stopped while it runs) overflows the
/// kernel's rings: the `end` event and the text's end say how many records were lost, and
/// with no loss the text says nothing of it.
#[test]
fn records_lost_to_a_full_ring_are_said_at_the_end() {
    for json in [true, false] {
        let Some(mut tracer) = recorder() else {
            return;
        };
        if json {
            tracer.arg("--json");
        }
        let fifo = tempdir("lost").join("go");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        // 100,000 signals, two records each: many times a 1 MiB ring.
        let script = format!(
            "read go < {}; exec {} 100000",
            fifo.display(),
            prog("storm").display()
        );
        let (child, shell, file) =
            launch_ready_with(tracer, Path::new("/bin/sh"), &["-c", &script], |p| {
                in_syscall(p, libc::SYS_openat as u32)
            });
        signal(child.id(), SIGSTOP);
        wait_for("sigtrace stopped", || state(child.id()) == 'T');
        std::fs::write(&fifo, "go\n").unwrap();
        // Its parent, sigtrace, is stopped: the storm stays a zombie once it has ended.
        wait_for("the storm's end", || state(shell) == 'Z');
        signal(child.id(), SIGCONT);
        assert_eq!(finish(child, "sigtrace").code(), 0);
        let out = std::fs::read_to_string(&file).unwrap();
        if json {
            let ev = json_lines(&out);
            let end = ev.last().unwrap();
            assert_eq!(end["event"], "end", "{end}");
            let lost = end["lost"]["kernel_records"].as_u64().unwrap();
            assert!(lost > 0, "{end}");
            assert_eq!(end["lost"]["connector_messages"], 0, "{end}");
        } else {
            let line = out
                .lines()
                .find(|l| l.starts_with("sigtrace: lost "))
                .unwrap_or_else(|| panic!("{out}"));
            let n: u64 = line["sigtrace: lost ".len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(n > 0, "{line}");
            assert!(
                line.ends_with("(a full buffer): the trace has gaps there"),
                "{line}"
            );
        }
    }
    let out = run(sigtrace().args(["-o", "/dev/stdout", "true"]));
    assert!(!out.stdout.contains("sigtrace: lost"), "{}", out.stdout);
}

/// The tracefs instance the record mode reads (where it makes one) is removed once sigtrace
/// has ended, also when it was killed: by a child it left waiting for its end.
#[test]
fn its_tracefs_instance_is_removed_however_sigtrace_ends() {
    let Some(mut tracer) = recorder() else {
        return;
    };
    let instances = Path::new("/sys/kernel/tracing/instances");
    if !instances.is_dir() {
        skip("tracefs is not mounted at /sys/kernel/tracing");
        return;
    }
    let child = spawn(tracer.args(["-o", "/dev/null", "sleep", "100"]));
    let mine = instances.join(format!("sigtrace-{}", child.id()));
    wait_for("sigtrace's instance", || mine.is_dir());
    let mut sleeper = 0;
    wait_for("the sleep", || {
        sleeper = child_of(child.id());
        sleeper != 0 && comm(sleeper) == "sleep"
    });
    signal(child.id(), SIGKILL);
    // The sleep holds sigtrace's output open.
    signal(sleeper, SIGKILL);
    let _ = finish(child, "sigtrace");
    wait_for("the killed sigtrace's instance removed", || !mine.exists());
    // Ended by itself: the instance is there until it ends, and then removed.
    let fifo = tempdir("instance").join("go");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let script = format!("read go < {}", fifo.display());
    let mut tracer = recorder().unwrap();
    let child = spawn(tracer.args(["-o", "/dev/null", "/bin/sh", "-c", &script]));
    let mine = instances.join(format!("sigtrace-{}", child.id()));
    wait_for("sigtrace's instance", || mine.is_dir());
    std::fs::write(&fifo, "go\n").unwrap();
    let out = finish(child, "sigtrace");
    assert_eq!(out.code(), 0);
    wait_for("the instance removed", || !mine.exists());
}

/// On perf's rings (SIGTRACE_RINGS=perf, as where no instance can be made) the record mode
/// comes to the same verdict as on its instance: a script's `kill` names the shell.
#[test]
fn perfs_rings_and_an_instance_give_the_same_verdict() {
    let mut seen = Vec::new();
    for rings in ["instance", "perf"] {
        let Some(mut tracer) = recorder() else {
            return;
        };
        tracer.env("SIGTRACE_RINGS", rings).args([
            "--json",
            "-o",
            "/dev/stdout",
            "/bin/sh",
            "-c",
            "sleep 100 & kill -TERM $!; wait $!",
        ]);
        let out = run(&mut tracer);
        assert_eq!(out.code(), 143, "{}", out.stderr);
        let ev = json_lines(&out.stdout);
        let verdict = |pid: &Value| {
            ev.iter()
                .find(|e| e["event"] == "verdict" && &e["pid"] == pid)
                .cloned()
                .unwrap_or_else(|| panic!("no verdict of {pid}: {}", out.stdout))
        };
        let shell = ev.last().unwrap()["pid"].clone();
        let killed = ev
            .iter()
            .find(|e| e["event"] == "verdict" && e["pid"] != shell)
            .unwrap_or_else(|| panic!("{}", out.stdout))
            .clone();
        assert_eq!(killed["by"]["pid"], shell, "{rings}: {killed}");
        assert_eq!(verdict(&shell)["cause"], "self-exit");
        seen.push((
            killed["cause"].clone(),
            killed["signal"].clone(),
            killed["by"]["comm"].clone(),
            killed["by"]["source"].clone(),
        ));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].0, "external-signal");
    assert_eq!(seen[0].2, "sh");
}

/// A sender thread older than sigtrace that exits right after its kill() (gone before the
/// record is read) is named by its process, as in the ptrace mode: an ftrace record names
/// only the thread, and /proc no longer has it by then.
#[test]
fn an_old_sender_thread_gone_at_once_is_named_by_its_process() {
    let Some(mut tracer) = recorder() else {
        return;
    };
    let mut victim = spawn(std::process::Command::new("sleep").arg("100"));
    let mut killer = std::process::Command::new(prog("latekill"))
        .arg(victim.id().to_string())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let threads = format!("/proc/{}/task", killer.id());
    wait_for("the sender thread", || {
        std::fs::read_dir(&threads).map_or(0, |d| d.count()) == 2
    });
    let file = tempdir("oldthread").join("trace.jsonl");
    let child = spawn(
        tracer
            .args(["--json", "-o"])
            .arg(&file)
            .args(["-p", &victim.id().to_string()]),
    );
    wait_for("sigtrace following the sleep", || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("\"context\"")
    });
    std::io::Write::write_all(killer.stdin.as_mut().unwrap(), b"go\n").unwrap();
    let out = finish(child, "sigtrace -p");
    let _ = victim.wait();
    signal(killer.id(), SIGKILL);
    let _ = killer.wait();
    assert_eq!(out.code(), 143, "{}", out.stderr);
    let ev = json_lines(&std::fs::read_to_string(&file).unwrap());
    let v = ev
        .iter()
        .find(|e| e["event"] == "verdict" && e["pid"] == victim.id())
        .unwrap_or_else(|| panic!("no verdict: {ev:?}"));
    assert_eq!(v["cause"], "external-signal", "{v}");
    assert_eq!(v["by"]["pid"], killer.id(), "{v}");
    assert!(
        v["by"]["comm"].as_str().unwrap().starts_with("latekill"),
        "{v}"
    );
}

/// `timeout` sends SIGTERM to its child, then to its whole group: the second reaches a sleep
/// already dying of the first, and the kernel's record calls it "ignored". The verdict says
/// it was discarded for that, never that the sleep ignored a SIGTERM.
#[test]
fn a_sigterm_sent_to_a_dying_process_is_not_called_ignored() {
    let Some(mut tracer) = recorder() else {
        return;
    };
    if !have("timeout") {
        skip("timeout (coreutils) is not installed");
        return;
    }
    let out = run(tracer.args(["-o", "/dev/stdout", "timeout", "0.2", "sleep", "30"]));
    assert_eq!(out.code(), 124, "{}", out.stderr);
    let verdict = out
        .stdout
        .lines()
        .find(|l| l.contains("(sleep) killed by SIGTERM"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(verdict.contains("external signal"), "{verdict}");
    assert!(!verdict.contains("SIGTERM ignored"), "{verdict}");
    if verdict.contains("; the kernel's record:") {
        assert!(
            verdict.contains("1 SIGTERM discarded (sent while it was already dying)"),
            "{verdict}"
        );
    }
    // The sleep's lines in the order the signals were sent: the fatal SIGTERM's first.
    let sleep = verdict["sigtrace: ".len()..].split(' ').next().unwrap();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let said = |what: &str| {
        lines
            .windows(2)
            // The pid column is padded to a width, as strace's.
            .position(|w| {
                w[0].split_whitespace()
                    .take(3)
                    .eq([sleep, "---", "SIGTERM"])
                    && w[1].contains(what)
            })
    };
    let Some(fatal) = said("SIGTERM default action: terminate") else {
        // Every instance records every signal on the host: a storm of another test may fill
        // this one's buffer, and the trace then says it has gaps.
        assert!(
            out.stdout.contains("sigtrace: lost "),
            "no line of the fatal SIGTERM, and no loss said:\n{}",
            out.stdout
        );
        return;
    };
    if let Some(dropped) = said("SIGTERM ignored") {
        assert!(fatal < dropped, "{}", out.stdout);
    }
}

/// The record mode follows the whole tree, as -f does: its text ends with -f's summary table,
/// a row per process.
#[test]
fn the_text_ends_with_the_summary_table_as_with_f() {
    let Some(mut tracer) = recorder() else {
        return;
    };
    let out = run(tracer.args(["-o", "/dev/stdout", "/bin/sh", "-c", "sleep 0.1 & wait"]));
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "sigtrace: summary of 2 processes")
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert_eq!(lines.len(), at + 4, "{}", out.stdout);
    assert!(
        lines[at + 2].contains("sh -c 'sleep 0.1 & wait'"),
        "{}",
        out.stdout
    );
    assert!(lines[at + 3].contains("sleep 0.1"), "{}", out.stdout);
}
