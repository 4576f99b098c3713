//! The output surface: whole lines on a terminal shared with the traced program, write failures, one file per output.
mod common;
use common::*;
use regex::Regex;
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

/// sigtrace on a pty (script(1)), its lines and the program's on the same terminal.
fn on_a_terminal(flags: &str, args: &str) -> Vec<String> {
    let cmd = format!(
        "{} --color=never {flags} -- {} {args}",
        env!("CARGO_BIN_EXE_sigtrace"),
        prog("chatty").display()
    );
    let out = run(Command::new("script").args(["-q", "-e", "-c", &cmd, "/dev/null"]));
    assert_eq!(out.code(), 0, "{}", out.stdout);
    out.stdout.lines().map(|l| l.replace('\r', "")).collect()
}

/// Every line is whole: the program's own (`<<X>>`) alone on its line, chatter alone on its
/// line; and the n-th handler line comes after the n-th signal line.
fn assert_whole(lines: &[String], signals: usize) {
    let text = lines.join("\n");
    let own = Regex::new(r"^<<[A-Z]>>$").unwrap();
    let chatter = Regex::new(r"^sigtrace: Process \d+ attached$").unwrap();
    let syscall = Regex::new(r"(\) += .*|<unfinished \.\.\.>)$").unwrap();
    let (mut delivered, mut handled) = (0, 0);
    for l in lines {
        assert!(
            !l.contains("<<") || own.is_match(l),
            "the program's output inside a line: {l:?}\n{text}"
        );
        assert!(
            !l.contains("Process ") || chatter.is_match(l),
            "chatter inside a line: {l:?}\n{text}"
        );
        if l.contains("kill(") || l.contains("rt_sigreturn(") {
            assert!(syscall.is_match(l), "a cut syscall line: {l:?}\n{text}");
        }
        delivered += l.contains("--- SIGUSR1 {") as usize;
        if l == "<<H>>" {
            handled += 1;
            assert!(
                handled <= delivered,
                "a handler's output before its signal's line\n{text}"
            );
        }
    }
    assert_eq!((delivered, handled), (signals, signals), "{text}");
}

/// Whether script(1) is there; else the test is skipped.
fn have_script() -> bool {
    let there = have("script");
    if !there {
        skip("script(1) from util-linux is not installed");
    }
    there
}

#[test]
fn lines_are_whole_and_before_the_programs_output_on_a_terminal() {
    if !have_script() {
        return;
    }
    for _ in 0..50 {
        assert_whole(&on_a_terminal("", ""), 3);
    }
}

#[test]
fn chatter_never_lands_inside_a_line_with_f() {
    if !have_script() {
        return;
    }
    for _ in 0..50 {
        let lines = on_a_terminal("-f -e trace=%signal,%process", "2");
        assert_eq!(
            lines.iter().filter(|l| l.ends_with(" attached")).count(),
            2,
            "{lines:?}"
        );
        assert_whole(&lines, 9);
    }
}
