//! JSON streams (--json) hold nothing but event objects and close with `end`; -c prints the table alone.
mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command};

/// Every line of `text` as a JSON object; panics at anything else, or when the last is not `end`.
fn stream(text: &str, what: &str) -> Vec<Value> {
    let events: Vec<Value> = text
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {l:?}"))
        })
        .collect();
    for e in &events {
        assert!(e.is_object() && e["event"].is_string(), "{what}: {e}");
    }
    let last = events
        .last()
        .unwrap_or_else(|| panic!("{what}: empty stream"));
    assert_eq!(
        last["event"], "end",
        "{what}: the last line is not `end`: {last}"
    );
    assert_eq!(
        events.iter().filter(|e| e["event"] == "end").count(),
        1,
        "{what}: one `end`"
    );
    events
}

/// `sigtrace --json ARGS -- sh -c SCRIPT`, with the stream on stderr and then in a file (-o),
/// both checked, their ends alike. The script writes nothing to stderr. Returns the exit code
/// and the events of the file.
fn both_ways(args: &[&str], script: &str) -> (i32, Vec<Value>) {
    let on_stderr = run(sigtrace()
        .arg("--json")
        .args(args)
        .args(["--", "sh", "-c", script]));
    let ev = stream(&on_stderr.stderr, "stream on stderr");
    let dir = tempdir("json-stream");
    let file = dir.join("t.json");
    let to_file = run(sigtrace()
        .arg("--json")
        .arg("-o")
        .arg(&file)
        .args(args)
        .args(["--", "sh", "-c", script]));
    assert_eq!(
        to_file.stderr, "",
        "nothing but the stream, and it is in the file"
    );
    let in_file = stream(&std::fs::read_to_string(&file).unwrap(), "stream in a file");
    assert_eq!(on_stderr.code(), to_file.code());
    let (a, b) = (ev.last().unwrap(), in_file.last().unwrap());
    for field in ["status", "processes"] {
        assert_eq!(a[field], b[field], "{field}: {a} / {b}");
    }
    assert_eq!(a["status"], on_stderr.code(), "{a}");
    (on_stderr.code(), in_file)
}

#[test]
fn end_after_an_exit() {
    let (code, ev) = both_ways(&["-f"], "sleep 0.1 & wait; exit 7");
    assert_eq!(code, 7);
    let end = ev.last().unwrap();
    assert_eq!(end["processes"], 2, "{end}");
    let v = &end["verdict"];
    assert_eq!(v["event"], "verdict");
    assert_eq!(v["pid"], end["pid"]);
    assert_eq!(v["status"], 7);
    assert_eq!(v["cause"], "self-exit");
    assert_eq!(v["argv"][0], "sh");
    assert_eq!(v["argv"][2], "sleep 0.1 & wait; exit 7");
    assert!(v["ppid"].as_i64().unwrap() > 1, "{v}");
}

#[test]
fn end_after_a_death_by_signal() {
    let (code, ev) = both_ways(&[], "kill -TERM $$");
    assert_eq!(code, 143);
    let end = ev.last().unwrap();
    let v = &end["verdict"];
    assert_eq!(v["status"], 143);
    assert_eq!(v["signal"], "SIGTERM");
    assert_eq!(end["processes"], 1);
}

#[test]
fn verdicts_name_parent_command_and_sender() {
    let (code, ev) = both_ways(&["-f"], "sleep 5 & sleep .2; kill $!; wait; exit 4");
    assert_eq!(code, 4);
    let sleep = ev
        .iter()
        .find(|e| e["event"] == "verdict" && e["argv"][1] == "5")
        .expect("the verdict of sleep 5");
    let sh = ev.last().unwrap()["pid"].clone();
    assert_eq!(sleep["argv"][0], "sleep");
    assert_eq!(sleep["ppid"], sh);
    assert_eq!(sleep["status"], 143);
    assert_eq!(sleep["cause"], "external-signal");
    let by = &sleep["by"];
    assert_eq!(by["pid"], sh);
    assert_eq!(by["source"], "siginfo");
    assert!(by["cmdline"].as_str().unwrap().starts_with("sh -c"), "{by}");
}

#[test]
fn end_when_the_command_cannot_start() {
    let dir = tempdir("json-noexec");
    let script = dir.join("not-executable");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let not_found = std::path::PathBuf::from("no-such-command-xyz");
    for (cmd, status, said) in [
        (&script, 126, "cannot execute "),
        (&not_found, 127, "no-such-command-xyz: command not found"),
    ] {
        let out = run(sigtrace().arg("--json").arg(cmd));
        assert_eq!(out.code(), status);
        let end = stream(&out.stderr, "stream on stderr").pop().unwrap();
        assert!(end["verdict"].is_null(), "{end}");
        assert_eq!(end["status"], status);
        let error = end["error"].as_str().unwrap();
        assert!(error.starts_with(said), "{error}");
        // With -o, stderr is free for the line that says it.
        let file = dir.join("t.json");
        let out = run(sigtrace().arg("--json").arg("-o").arg(&file).arg(cmd));
        assert_eq!(out.code(), status);
        assert_eq!(out.stderr, format!("sigtrace: {error}\n"));
        let end = stream(&std::fs::read_to_string(&file).unwrap(), "in a file").pop();
        assert_eq!(end.unwrap()["error"], error);
    }
}

/// `sigtrace --json EXTRA -p PID`, then SIGINT once it traces PID.
fn detach(pid: u32, extra: &[&str]) -> Output {
    let child = spawn(
        sigtrace()
            .arg("--json")
            .args(extra)
            .arg("-p")
            .arg(pid.to_string()),
    );
    let _guard = KillOnDrop(child.id());
    let tracer = child.id();
    wait_for("sigtrace to trace the target", || tracer_of(pid) == tracer);
    signal(tracer, nix::sys::signal::Signal::SIGINT);
    finish(child, "sigtrace -p")
}

fn waiter() -> (Child, KillOnDrop) {
    let child = spawn(&mut Command::new(prog("waiter")));
    let guard = KillOnDrop(child.id());
    (child, guard)
}

#[test]
fn end_after_a_detach() {
    let (_target, guard) = waiter();
    let pid = guard.0;
    let out = detach(pid, &[]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let ev = stream(&out.stderr, "stream on stderr");
    let end = ev.last().unwrap();
    assert_eq!(end["pid"], pid);
    assert_eq!(end["status"], 0);
    assert!(end["verdict"].is_null(), "{end}");
    // The chatter is in the stream, as notes.
    let notes: Vec<&Value> = ev.iter().filter(|e| e["event"] == "note").collect();
    assert_eq!(notes[0]["note"], "attached", "{notes:?}");
    assert!(notes.iter().any(|n| n["note"] == "detached"), "{notes:?}");
    assert_let_go(pid, "after the detach");

    let dir = tempdir("json-detach");
    let file = dir.join("t.json");
    let out = detach(pid, &["-q", "-o", file.to_str().unwrap()]);
    assert_eq!(out.code(), 0);
    assert_eq!(out.stderr, "");
    let ev = stream(&std::fs::read_to_string(&file).unwrap(), "stream in a file");
    assert!(ev.iter().all(|e| e["event"] != "note"), "-q drops notes");
    assert_eq!(ev.last().unwrap()["status"], 0);
}

/// The table rows of -c output: `sigtrace:   PID ...` lines after the header.
fn rows(text: &str) -> Vec<&str> {
    text.lines().skip(2).collect()
}

#[test]
fn summary_only_prints_the_table_alone() {
    let out = run(sigtrace()
        .args(["-c", "-f", "--", "sh", "-c"])
        .arg("sleep 5 & sleep .2; kill $!; wait; exit 4"));
    assert_eq!(out.code(), 4, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("sigtrace: summary of "),
        "{}",
        out.stderr
    );
    assert!(lines[1].contains("PID") && lines[1].contains("COMMAND"));
    let rows = rows(&out.stderr);
    assert!(
        rows[0].contains("sh -c 'sleep 5 & sleep .2;")
            && rows[0].contains("exited 4")
            && rows[0].contains("self-exit"),
        "the command first: {}",
        out.stderr
    );
    let sh: u32 = rows[0].split_whitespace().nth(1).unwrap().parse().unwrap();
    let sleep = rows[1..]
        .iter()
        .find(|r| r.contains("sleep 5"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(
        sleep.contains("killed by SIGTERM")
            && sleep.contains("external-signal")
            && sleep.ends_with(&format!("{sh} (sh)")),
        "{sleep}"
    );
    assert_eq!(lines.len(), 2 + rows.len());
    assert!(out.stdout.is_empty());
}

#[test]
fn summary_only_without_f_and_to_a_file() {
    let dir = tempdir("summary-only");
    let file = dir.join("t.txt");
    let out = run(sigtrace().args(["-c", "-o"]).arg(&file).arg(prog("abort")));
    assert_eq!(out.code(), 134);
    assert_eq!(out.stderr, "");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "sigtrace: summary of 1 process", "{text}");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[2].contains("killed by SIGABRT") && lines[2].contains("self-signal"),
        "{text}"
    );
    let name = Path::new(&prog("abort")).display().to_string();
    assert!(lines[2].contains(&name[..name.len().min(20)]), "{text}");
}

#[test]
fn summary_only_json_has_verdicts_and_end() {
    let out = run(sigtrace().args(["-c", "-f", "--json", "--", "sh", "-c", "sleep 0.1 & wait"]));
    assert_eq!(out.code(), 0);
    let ev = stream(&out.stderr, "-c --json");
    let kinds: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["verdict", "verdict", "end"], "{}", out.stderr);
}
