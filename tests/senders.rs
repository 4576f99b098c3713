//! Senders named from the kernel's record of forks, execs and exits (root): a `kill` gone before its signal lands, 20 of 20, launched, attached, relayed, SIGKILL, from a child pid namespace; text and JSON name them alike.
mod common;
use common::*;
use nix::sys::signal::Signal::{SIGCONT, SIGSTOP};
use regex::Regex;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const SLEEP: &str = "/usr/bin/sleep";
const RUNS: usize = 20;

/// Root with tracefs: the kernel's record can be read; otherwise the test is skipped.
fn allowed() -> bool {
    if !nix::unistd::geteuid().is_root() {
        skip("the kernel's record needs root");
        return false;
    }
    if !Path::new("/sys/kernel/tracing").exists() {
        skip("no tracefs in this kernel");
        return false;
    }
    true
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// `/bin/kill SIG PID` run to its end and reaped: its pid.
fn kill(sig: &str, pid: u32) -> u32 {
    let k = Command::new("/bin/kill")
        .args([sig, &pid.to_string()])
        .spawn()
        .unwrap();
    let id = k.id();
    assert!(finish(k, "kill").status.success());
    id
}

fn me() -> u32 {
    std::process::id()
}

/// The JSON sender names `kill` (pid `k`) with the test process in its parent chain.
fn assert_json_names(s: &Value, k: u32, what: &str) {
    assert_eq!(s["pid"], k, "{what}: {s:#}");
    assert_eq!(s["comm"], "kill", "{what}: {s:#}");
    let chain = s["ancestry"].as_array().expect("ancestry");
    assert!(chain.iter().any(|a| a["pid"] == me()), "{what}: {s:#}");
}

/// The text names `kill` (pid `k`) with the test process in its parent chain.
fn assert_text_names(line: &str, k: u32, what: &str) {
    let from = format!("from {k} (");
    let at = line
        .find(&from)
        .unwrap_or_else(|| panic!("{what}: {k} not named: {line}"));
    let rest = &line[at + from.len()..];
    assert!(
        rest.starts_with("kill, ") || rest.starts_with("/bin/kill "),
        "{what}: {line}"
    );
    assert!(rest.contains(&format!("<- {} (", me())), "{what}: {line}");
}

/// A handler process sent SIGTERM 20 times by `/bin/kill`, launched or attached: every
/// signal names that kill.
fn handler_sent_twenty_kills(json: bool, attach: bool) {
    if !allowed() {
        return;
    }
    let dir = tempdir("senders");
    let count = dir.join("count");
    let count_arg = count.to_str().unwrap();
    let n = RUNS.to_string();
    let format: &[&str] = if json { &["--json"] } else { &[] };
    let (tracer, target, file, _guard, _own) = if attach {
        let own = spawn(
            Command::new(prog("termcount"))
                .args([count_arg, &n])
                .stdout(Stdio::null()),
        );
        let target = own.id();
        wait_for("the handler", || catches(target, libc::SIGTERM));
        let file = dir.join("t.out");
        let tracer = spawn(
            sigtrace()
                .args(format)
                .arg("-o")
                .arg(&file)
                .args(["-p", &target.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
        );
        wait_for("the attach", || tracer_of(target) != 0);
        let guard = KillOnDrop(tracer.id());
        (tracer, target, file, guard, Some(own))
    } else {
        let (tracer, target, file) =
            launch_ready(format, &prog("termcount"), &[count_arg, &n], |p| {
                catches(p, libc::SIGTERM)
            });
        let guard = KillOnDrop(tracer.id());
        (tracer, target, file, guard, None)
    };
    let mut kills = Vec::new();
    for i in 1..=RUNS {
        kills.push(kill("-TERM", target));
        wait_for("the handler to count it", || {
            std::fs::read_to_string(&count).is_ok_and(|c| c.trim() == i.to_string())
        });
    }
    let out = finish(tracer, "sigtrace");
    if let Some(own) = _own {
        finish(own, "termcount");
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(out.status.success() || attach, "{}", out.stderr);
    if json {
        let events = json_lines(&text);
        let senders: Vec<&Value> = events
            .iter()
            .filter(|e| e["event"] == "signal" && e["signal"] == "SIGTERM")
            .map(|e| &e["sender"])
            .collect();
        assert_eq!(senders.len(), RUNS, "{text}");
        for (s, &k) in senders.iter().zip(&kills) {
            assert_json_names(s, k, "signal event");
        }
    } else {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("sigtrace: SIGTERM caught by a handler; from "))
            .collect();
        assert_eq!(lines.len(), RUNS, "{text}");
        for (l, &k) in lines.iter().zip(&kills) {
            assert_text_names(l, k, "annotation");
        }
    }
}

#[test]
fn twenty_kills_named_launched_text() {
    handler_sent_twenty_kills(false, false);
}

#[test]
fn twenty_kills_named_launched_json() {
    handler_sent_twenty_kills(true, false);
}

#[test]
fn twenty_kills_named_attached_text() {
    handler_sent_twenty_kills(false, true);
}

#[test]
fn twenty_kills_named_attached_json() {
    handler_sent_twenty_kills(true, true);
}

/// `sigtrace -- sleep 30` ended by `/bin/kill SIG` sent to `to` (sigtrace itself, or the
/// sleep), one run; the killer's pid, sigtrace's, and the verdict (JSON) or the whole text.
fn one_kill(json: bool, sig: &str, to_sigtrace: bool) -> (u32, u32, String) {
    let format: &[&str] = if json { &["--json"] } else { &[] };
    let (tracer, target, file) = launch_ready(format, Path::new(SLEEP), &["30"], |_| true);
    let st = tracer.id();
    let _guard = KillOnDrop(st);
    let k = kill(sig, if to_sigtrace { st } else { target });
    finish(tracer, "sigtrace");
    (k, st, std::fs::read_to_string(&file).unwrap())
}

fn verdict(text: &str) -> Value {
    json_lines(text)
        .into_iter()
        .find(|e| e["event"] == "verdict")
        .unwrap_or_else(|| panic!("no verdict: {text}"))
}

fn verdict_line(text: &str) -> &str {
    text.lines()
        .rfind(|l| l.starts_with("sigtrace: ") && l.contains(" after "))
        .unwrap_or_else(|| panic!("no verdict line: {text}"))
}

/// A SIGTERM from `/bin/kill` to sigtrace, passed on to the command, names that kill, 20 of
/// 20, and never sigtrace.
#[test]
fn a_relayed_sigterm_names_the_kill_never_sigtrace() {
    if allowed() {
        relayed_sigterm_named();
    }
}

/// The same in the record mode: the kill, gone by then, is named from the kernel's record.
#[test]
fn a_relayed_sigterm_names_the_kill_in_the_record_mode() {
    if allowed() && record_mode() {
        relayed_sigterm_named();
    }
}

fn relayed_sigterm_named() {
    for run in 0..RUNS {
        let json = run % 2 == 0;
        let (k, st, text) = one_kill(json, "-TERM", true);
        if json {
            let v = verdict(&text);
            assert_eq!(v["cause"], "external-signal", "{v:#}");
            assert_eq!(v["by"]["source"], "passed-on", "{v:#}");
            assert_json_names(&v["by"], k, "run {run}");
            assert!(
                !v.to_string().contains(&format!("\"pid\":{st},\"")),
                "{v:#}"
            );
        } else {
            let line = verdict_line(&text);
            assert_text_names(line, k, &format!("run {run}"));
            assert!(line.contains("which passed it on"), "{line}");
            assert!(!line.contains(&format!("from {st} (")), "{line}");
        }
    }
}

/// A SIGKILL from a `kill -9` that exits at once is named, 20 of 20.
#[test]
fn a_sigkill_from_a_kill_that_exits_at_once_is_named() {
    if !allowed() {
        return;
    }
    for run in 0..RUNS {
        let json = run % 2 == 0;
        let (k, _, text) = one_kill(json, "-9", false);
        if json {
            let v = verdict(&text);
            assert_eq!(v["cause"], "external-signal", "{v:#}");
            assert_eq!(v["by"]["source"], "kernel-record", "{v:#}");
            assert_json_names(&v["by"], k, "run {run}");
        } else {
            assert_text_names(verdict_line(&text), k, &format!("run {run}"));
        }
    }
}

/// A `kill` in a child pid namespace, which exits at once, is named for the handler it
/// signalled in that namespace (attached from outside).
#[test]
fn a_sender_in_a_child_pid_namespace_is_named() {
    if !allowed() {
        return;
    }
    let dir = tempdir("pidns");
    let count = dir.join("count");
    // The namespace's shell starts the handler, then sends it SIGTERM once told to.
    let script = r#""$0" "$1" 1 & read go; /bin/kill -TERM $!; wait"#;
    let mut ns = Command::new("unshare")
        .args(["--pid", "--fork", "sh", "-c", script])
        .arg(prog("termcount"))
        .arg(&count)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(ns.id());
    let mut target = 0;
    wait_for("the handler in the namespace", || {
        target = find_process(ns.id(), &prog("termcount"));
        target != 0 && catches(target, libc::SIGTERM)
    });
    let file = dir.join("t.txt");
    let tracer = spawn(
        sigtrace()
            .arg("-o")
            .arg(&file)
            .args(["-p", &target.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    wait_for("the attach", || tracer_of(target) != 0);
    {
        ns.stdin.take().unwrap().write_all(b"go\n").unwrap();
        finish(tracer, "sigtrace");
        let text = std::fs::read_to_string(&file).unwrap();
        let line = verdict_line(&text);
        assert!(line.contains("external signal"), "{text}");
        let at = line.find("SIGTERM from ").expect(line) + "SIGTERM from ".len();
        let named = &line[at..];
        assert!(
            Regex::new(r"^\d+ \((kill, |/bin/kill )")
                .unwrap()
                .is_match(named),
            "{line}"
        );
        assert!(named.contains(&format!("<- {} (", ns.id())), "{line}");
        // The delivery's line too: the siginfo's pid is the namespace's, the record's is ours.
        let caught = text
            .lines()
            .find(|l| l.starts_with("sigtrace: SIGTERM caught by a handler; from "))
            .expect(&text);
        assert!(
            caught.ends_with(named.rsplit_once(": ").unwrap().0),
            "{caught}\n{line}"
        );
    }
    finish(ns, "unshare");
}

/// Digits as `N`, and a sender's end as `exited after sending` whatever the delay.
fn norm(s: &str) -> String {
    let s = Regex::new(r"exited [^;)]* after sending")
        .unwrap()
        .replace_all(s, "exited after sending");
    Regex::new(r"\d+")
        .unwrap()
        .replace_all(&s, "N")
        .into_owned()
}

/// The words the text uses for a JSON sender object, built from its fields.
fn words(s: &Value) -> String {
    let field = |k: &str| s[k].as_str().unwrap_or("").to_string();
    let (cmdline, comm, exe) = (field("cmdline"), field("comm"), field("exe"));
    let mut parts = Vec::new();
    if !cmdline.is_empty() {
        parts.push(cmdline.clone());
    } else if !comm.is_empty() {
        parts.push(comm.clone());
        if !exe.is_empty() {
            parts.push(exe);
        }
    }
    if let Some(uid) = s["uid"].as_u64() {
        parts.push(format!("uid {uid}"));
    }
    let mut d = format!("{} ({}", s["pid"], parts.join(", "));
    if s["gone"] == true {
        let when = if s["exited_after_sending"].is_number() {
            "exited after sending"
        } else if cmdline.is_empty() && comm.is_empty() {
            "exited before it could be read"
        } else {
            "exited"
        };
        d += if parts.is_empty() { "" } else { "; " };
        d += when;
    }
    d.push(')');
    for a in s["ancestry"].as_array().unwrap() {
        d += &format!(" <- {} ({})", a["pid"], a["comm"].as_str().unwrap());
    }
    d
}

/// One scenario, with sigtrace held stopped while the kill runs and is reaped (its sender is
/// gone whenever sigtrace looks): the trace.
fn held_scenario(json: bool, scenario: &str) -> String {
    let format: &[&str] = if json { &["--json"] } else { &[] };
    let dir = tempdir("agree");
    let count = dir.join("count");
    let (tracer, target, file) = match scenario {
        "handled" => launch_ready(
            format,
            &prog("termcount"),
            &[count.to_str().unwrap(), "1"],
            |p| catches(p, libc::SIGTERM),
        ),
        _ => launch_ready(format, Path::new(SLEEP), &["30"], |_| true),
    };
    let _guard = KillOnDrop(tracer.id());
    let st = tracer_of(target);
    signal(st, SIGSTOP);
    wait_for("sigtrace to stop", || state(st) == 'T');
    match scenario {
        "handled" => {
            kill("-TERM", target);
            wait_for("the delivery to wait", || state(target) == 't');
        }
        "sigkill" => {
            kill("-9", target);
        }
        _ => {
            kill("-TERM", tracer.id());
        }
    }
    signal(st, SIGCONT);
    finish(tracer, "sigtrace");
    std::fs::read_to_string(&file).unwrap()
}

/// The text and the JSON of the same scenarios name every sender alike: the verdict
/// sentence is the JSON summary, the JSON `by` and `sender` read as the text's words.
#[test]
fn text_and_json_name_senders_alike() {
    if !allowed() {
        return;
    }
    for scenario in ["handled", "sigkill", "relayed"] {
        let text = held_scenario(false, scenario);
        let events = json_lines(&held_scenario(true, scenario));
        let v = events.iter().find(|e| e["event"] == "verdict").unwrap();
        let summary = v["summary"].as_str().unwrap();
        // `sigtrace: PID (comm) ` then the sentence.
        let line = verdict_line(&text);
        let sentence = line
            .splitn(3, ' ')
            .nth(2)
            .unwrap()
            .split_once(") ")
            .unwrap()
            .1;
        assert_eq!(norm(sentence), norm(summary), "{scenario}");
        let by = words(&v["by"]);
        assert!(
            norm(summary).contains(&norm(&by)),
            "{scenario}: {by:?} in {summary:?}"
        );
        assert!(by.contains("; exited"), "{scenario}: gone, named: {by}");
        for e in events
            .iter()
            .filter(|e| e["event"] == "signal" && e["sender"].is_object())
        {
            let from = format!("; from {}", norm(&words(&e["sender"])));
            assert!(
                text.lines().any(|l| norm(l).contains(&from)),
                "{scenario}: {from:?} in {text}"
            );
        }
    }
}

/// Without the kernel's record (sigtrace as nobody), a `kill` gone before sigtrace could read
/// it is named by its pid and uid, and the verdict says once what would have named it.
#[test]
fn unprivileged_a_gone_sender_says_once_what_would_name_it() {
    use std::os::unix::fs::PermissionsExt;
    if !nix::unistd::geteuid().is_root() {
        skip("needs root to become nobody");
        return;
    }
    let dir = tempdir("nobody");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (file, count) = (dir.join("t.txt"), dir.join("count"));
    let tracer = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_sigtrace"))
        .arg("-o")
        .arg(&file)
        .arg(prog("termcount"))
        .args([count.to_str().unwrap(), "2"])
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(tracer.id());
    let mut target = 0;
    wait_for("the traced handler", || {
        target = find_process(tracer.id(), &prog("termcount"));
        target != 0 && tracer_of(target) != 0 && catches(target, libc::SIGTERM)
    });
    let st = tracer_of(target);
    let mut kills = Vec::new();
    for i in 1..=2 {
        // sigtrace is held stopped while the kill runs and is reaped: it is gone when read.
        signal(st, SIGSTOP);
        wait_for("sigtrace to stop", || state(st) == 'T');
        kills.push(kill("-TERM", target));
        wait_for("the delivery to wait", || state(target) == 't');
        signal(st, SIGCONT);
        wait_for("the handler to count it", || {
            std::fs::read_to_string(&count).is_ok_and(|c| c.trim() == i.to_string())
        });
    }
    finish(tracer, "sigtrace as nobody");
    let text = std::fs::read_to_string(&file).unwrap();
    let line = verdict_line(&text);
    assert!(
        line.contains(&format!(
            "from {} (uid 0; exited before it could be read)",
            kills[1]
        )),
        "{line}"
    );
    assert_eq!(line.matches("would name it").count(), 1, "{line}");
}
