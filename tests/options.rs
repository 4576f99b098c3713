//! Output options: -e signal=, -q, -t/-tt/-ttt/-r, pid prefixes on stderr, Ctrl-C through a terminal.
mod common;
use common::*;
use regex::Regex;
use std::process::Command;

#[test]
fn signal_filter_matches_strace() {
    for set in ["signal=!SIGUSR1", "signal=none", "signal=SIGCHLD,12"] {
        let (s, t, sc, tc) = compare(&["-f", "-e", set], &prog("forkexec"), &[]);
        assert_eq!(normalize(&t), normalize(&s), "{set}");
        assert_eq!(tc, sc);
    }
}

#[test]
fn signal_filter_hides_kill_line() {
    let out = run(sigtrace().args(["--signal=!TERM", "sh", "-c", "kill -TERM $$"]));
    assert_eq!(out.code(), 143);
    assert!(trace_lines(&out.stderr).is_empty(), "{}", out.stderr);
}

/// Runs both tools writing to stderr, as a user at a terminal would see them.
fn both_on_stderr(flags: &[&str], prog: &std::path::Path) -> (Output, Output) {
    let s = run(Command::new("strace")
        .args(["-e", "trace=none"])
        .args(flags)
        .arg(prog));
    let t = run(sigtrace().args(flags).arg(prog));
    (s, t)
}

#[test]
fn pid_prefixes_on_stderr_match_strace() {
    let (s, t) = both_on_stderr(&["-f"], &prog("forkexec"));
    let (sl, tl) = (trace_lines(&s.stderr), trace_lines(&t.stderr));
    assert_eq!(normalize(&tl), normalize(&sl));
    let prefixed = Regex::new(r"^\[pid +\d+\] ").unwrap();
    assert_eq!(
        tl.iter().filter(|l| prefixed.is_match(l)).count(),
        sl.iter().filter(|l| prefixed.is_match(l)).count()
    );
    // strace's width: "[pid %5u] ".
    let width = Regex::new(r"^\[pid [ \d]{5,}\] ").unwrap();
    assert!(
        tl.iter()
            .filter(|l| l.starts_with("[pid"))
            .all(|l| width.is_match(l))
    );
}

#[test]
fn attach_chatter_and_quiet() {
    let out = run(sigtrace().arg("-f").arg(prog("forkexec")));
    let chatter = Regex::new(r"(?m)^sigtrace: Process \d+ attached$").unwrap();
    assert_eq!(chatter.find_iter(&out.stderr).count(), 2, "{}", out.stderr);
    let quiet = run(sigtrace().args(["-q", "-f"]).arg(prog("forkexec")));
    assert!(
        !quiet.stderr.contains("sigtrace: Process"),
        "{}",
        quiet.stderr
    );
    assert_eq!(
        trace_lines(&quiet.stderr).len(),
        trace_lines(&out.stderr).len()
    );
}

#[test]
fn timestamps_have_strace_shape() {
    let cases = [
        ("-t", r"^\d\d:\d\d:\d\d "),
        ("-tt", r"^\d\d:\d\d:\d\d\.\d{6} "),
        ("-ttt", r"^\d{10}\.\d{6} "),
        ("-r", r"^ {0,5}\d+\.\d{6} "),
    ];
    for (flag, shape) in cases {
        let re = Regex::new(shape).unwrap();
        let (s, t) = both_on_stderr(&[flag], &prog("selfkill"));
        let (sl, tl) = (trace_lines_any(&s.stderr), trace_lines_any(&t.stderr));
        assert_eq!(tl.len(), sl.len(), "{flag}");
        for (a, b) in tl.iter().zip(&sl) {
            assert!(re.is_match(a), "{flag}: {a:?}");
            assert!(re.is_match(b), "strace {flag}: {b:?}");
            assert_eq!(
                re.replace(a, "").replace(|c: char| c.is_ascii_digit(), "N"),
                re.replace(b, "").replace(|c: char| c.is_ascii_digit(), "N")
            );
        }
    }
    // -t with -r: "HH:MM:SS (+     0.000012) ".
    let out = run(sigtrace().args(["-t", "-r"]).arg(prog("selfkill")));
    let re = Regex::new(r"^\d\d:\d\d:\d\d \(\+ {0,5}\d+\.\d{6}\) --- SIGTERM").unwrap();
    assert!(
        re.is_match(&trace_lines_any(&out.stderr)[0]),
        "{}",
        out.stderr
    );
}

/// Lines that hold a trace marker anywhere (timestamps come first).
fn trace_lines_any(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("--- ") || l.contains("+++ "))
        .map(str::to_string)
        .collect()
}

#[test]
fn ctrl_c_at_a_terminal_reaches_the_command() {
    // `script` gives sigtrace and the command a pseudo-terminal; a ^C byte written to it makes
    // the terminal send SIGINT (SI_KERNEL) to the foreground process group.
    if Command::new("script").arg("--version").output().is_err() {
        skip("script(1) from util-linux is not installed");
        return;
    }
    let dir = tempdir("ctrlc");
    let file = dir.join("t.txt");
    let waiter = prog("waiter");
    // The tests may run with SIGINT ignored (a background job of a non-interactive shell), and
    // an ignored disposition survives exec: reset it so that the command has the default one.
    let cmd = format!(
        "exec env --default-signal=INT {} -o {} {}",
        env!("CARGO_BIN_EXE_sigtrace"),
        file.display(),
        waiter.display()
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut target = 0;
    wait_for("the traced waiter", || {
        target = find_process(child.id(), &waiter);
        target != 0 && catches(target, libc::SIGUSR2) && tracer_of(target) != 0
    });
    let tracer = tracer_of(target);
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    wait_for("sigtrace to exit", || {
        !std::path::Path::new(&format!("/proc/{tracer}")).exists() || state(tracer) == 'Z'
    });
    drop(stdin);
    let out = finish(child, "script");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        trace_lines(&text),
        vec![
            "--- SIGINT {si_signo=SIGINT, si_code=SI_KERNEL} ---",
            "+++ killed by SIGINT +++"
        ]
    );
    assert!(
        text.contains("sigtrace: SIGINT default action: terminate; from the terminal"),
        "{text}"
    );
    assert!(
        text.contains("killed by SIGINT after SIGINT from the terminal: terminal"),
        "{text}"
    );
    assert_eq!(
        out.code(),
        130,
        "script -e passes sigtrace's status through"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let esc = |o: &Output| o.stderr.contains('\x1b');
    let always =
        run(sigtrace().args(["--color=always", "-e", "trace=none", "sh", "-c", "kill $$"]));
    assert!(esc(&always), "{}", always.stderr);
    // auto: stderr is a pipe here, so no colour; NO_COLOR and never turn it off too.
    let auto = run(sigtrace().args(["-e", "trace=none", "sh", "-c", "kill $$"]));
    assert!(!esc(&auto));
    let never = run(sigtrace().args(["--color=never", "sh", "-c", "kill $$"]));
    assert!(!esc(&never));
    // A file never gets colour from auto.
    let dir = tempdir("colour");
    let out = run(sigtrace()
        .arg("-o")
        .arg(dir.join("t.txt"))
        .args(["sh", "-c", "kill $$"])
        .env("NO_COLOR", ""));
    assert_eq!(out.code(), 143);
    assert!(
        !std::fs::read_to_string(dir.join("t.txt"))
            .unwrap()
            .contains('\x1b')
    );
    let bad = run(sigtrace().args(["--color=purple", "true"]));
    assert_eq!(bad.code(), 1);
    assert_eq!(bad.stderr.lines().count(), 1);
}
