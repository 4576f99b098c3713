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

/// Runs `sigtrace OPTION DIR/FILE -- PROG ARG` with an 8 KiB file system at DIR (a mount
/// namespace of its own): sigtrace fails with status 1, says `OPTION DIR/FILE: No space left
/// on device`, and leaves nothing in DIR.
fn assert_nothing_left_on_a_full_fs(option: &str, file: &str, prog: &str, arg: &str) {
    if !nix::unistd::geteuid().is_root() || !have("unshare") {
        return skip("needs root and unshare(1) to mount a small file system");
    }
    let dir = tempdir("fullfs");
    let (d, path) = (dir.display(), common::prog(prog));
    let script = format!(
        "mount -t tmpfs -o size=8k tmpfs {d} || exit 99; {} -q {option} {d}/{file} -- {} {arg} \
         >/dev/null; echo status=$?; ls -A {d}",
        env!("CARGO_BIN_EXE_sigtrace"),
        path.display()
    );
    let out = run(Command::new("unshare").args(["-m", "sh", "-c", &script]));
    if out.code() == 99 {
        return skip("cannot mount a tmpfs here");
    }
    assert_eq!(out.stdout, "status=1\n", "{}", out.stderr);
    let said = format!("sigtrace: {option} {d}/{file}: No space left on device");
    assert!(out.stderr.contains(&said), "{}", out.stderr);
}

#[test]
fn a_report_that_does_not_fit_is_an_error_and_no_file() {
    assert_nothing_left_on_a_full_fs("--report", "r.html", "chatty", "");
}

#[test]
fn a_trace_file_that_does_not_fit_is_an_error_and_removed() {
    assert_nothing_left_on_a_full_fs("-o", "t.out", "storm", "3000");
}

#[test]
fn a_full_device_fails_the_run_and_names_the_option() {
    for (option, flags) in [
        ("-o", vec!["-o", "/dev/full"]),
        ("--report", vec!["-o", "/dev/null", "--report", "/dev/full"]),
        (
            "--perfetto",
            vec!["-o", "/dev/null", "--perfetto", "/dev/full"],
        ),
    ] {
        let out = run(sigtrace().args(&flags).arg("true"));
        assert_eq!(out.code(), 1, "{option}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "sigtrace: {option} /dev/full: No space left on device"
            )),
            "{}",
            out.stderr
        );
    }
    // The command's own failure stands.
    let out = run(sigtrace().args(["-o", "/dev/full", "sh", "-c", "exit 3"]));
    assert_eq!(out.code(), 3, "{}", out.stderr);
}

#[test]
fn one_file_for_two_outputs_is_refused_before_anything_is_written() {
    let dir = tempdir("samefile");
    let ran = dir.join("ran");
    let same = dir.join("same.out");
    // The same file by another path.
    let also = format!("../{}/same.out", dir.file_name().unwrap().to_string_lossy());
    for (a, b) in [
        ("-o", "--report"),
        ("--report", "--perfetto"),
        ("-o", "--perfetto"),
    ] {
        let out = run(sigtrace()
            .current_dir(&dir)
            .args([a, "same.out", b, &also, "touch"])
            .arg(&ran));
        assert_eq!(out.code(), 1, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            format!(
                "sigtrace: {a} same.out and {b} {also}: the same file; give each output its own\n"
            )
        );
        assert!(
            !ran.exists() && !same.exists(),
            "something ran or was written"
        );
    }
    // An existing file is known by its inode, whatever the path; a device may be shared.
    std::fs::write(&same, "").unwrap();
    let out = run(sigtrace()
        .current_dir(&dir)
        .args(["-o", "same.out", "--report", &also, "true"]));
    assert_eq!(out.code(), 1, "{}", out.stderr);
    let out = run(sigtrace().args(["-o", "/dev/null", "--report", "/dev/null", "true"]));
    assert_eq!(out.code(), 0, "{}", out.stderr);
}

#[test]
fn a_sigcont_to_a_stopped_child_is_seen_as_strace_sees_it() {
    // The child, in pause(), is stopped, continued, then sent SIGTERM by its parent: it must
    // take its SIGCONT before the SIGTERM comes (a traced task queues SIGCONT, and SIGTERM,
    // the lower number, is dequeued first when both are pending).
    // The SIGCHLDs are left out: whether CLD_STOPPED and CLD_CONTINUED merge into one pending
    // SIGCHLD depends on timing.
    let flags = ["-f", "-q", "-e", "trace=none", "-e", "signal=!SIGCHLD"];
    let cont = |lines: &[String]| lines.iter().any(|l| l.contains("--- SIGCONT {"));
    let mut strace_saw = 0;
    for _ in 0..50 {
        let (s, t, s_code, t_code) = compare(&flags, &prog("pausecont"), &[]);
        assert!(cont(&t), "no SIGCONT line: {t:#?}");
        assert_eq!((t_code, s_code), (0, 0));
        if cont(&s) {
            strace_saw += 1;
            assert_eq!(normalize(&t), normalize(&s));
        }
    }
    eprintln!("strace showed the SIGCONT line in {strace_saw} of 50 runs");
}

#[test]
fn qq_also_drops_the_exited_lines_as_strace_does() {
    // Two children's SIGCHLDs at once may be one (signal(7)): not compared.
    let t = assert_same_as_strace(
        &["-qq", "-f", "-e", "signal=!SIGCHLD"],
        &prog("chatty"),
        &["2"],
    );
    assert!(!t.iter().any(|l| l.contains("+++ exited")), "{t:#?}");
    let t = assert_same_as_strace(&["-qq"], &prog("selfkill"), &[]);
    assert_eq!(t.last().unwrap(), "+++ killed by SIGTERM +++");
}

#[test]
fn a_senders_command_line_is_shown_once() {
    let (_, text) = trace(&[], &prog("chatty"), &["x"]);
    let notes: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("sigtrace: SIGUSR1 caught"))
        .collect();
    assert_eq!(notes.len(), 3, "{text}");
    let whole = format!("{} x, uid", prog("chatty").display());
    assert!(notes[0].contains(&whole), "{text}");
    assert!(
        notes[1..]
            .iter()
            .all(|l| !l.contains(&whole) && l.contains("(chatty-")),
        "{text}"
    );
}

#[test]
fn env_changes_the_commands_environment_as_strace_does() {
    // The execve line counts the variables; the command prints what it got.
    same_addresses();
    let flags = [
        "-E",
        "SIGTRACE_TEST_SET=1",
        "-E",
        "HOME",
        "-E",
        "PATH=/bin:/usr/bin",
    ];
    let script = "echo \"${SIGTRACE_TEST_SET-unset} ${HOME-unset} $PATH\"";
    let t = assert_same_as_strace(&flags, std::path::Path::new("/bin/sh"), &["-c", script]);
    assert!(t[0].starts_with("execve(\"/bin/sh\""), "{t:#?}");
    let out = run(sigtrace().args(flags).args(["-q", "/bin/sh", "-c", script]));
    assert_eq!(out.stdout, "1 unset /bin:/usr/bin\n");
    let out = run(sigtrace().args(["-E", "=1", "true"]));
    assert_eq!(
        (out.code(), out.stderr.as_str()),
        (1, "sigtrace: -E =1: no variable name\n")
    );
}

#[test]
fn string_limit_cuts_strings_and_argv_as_strace_does() {
    same_addresses();
    let script =
        "exec /bin/true aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b c d e f g";
    for n in ["5", "32", "100"] {
        let flags = ["-s", n, "-e", "trace=execve"];
        let t = assert_same_as_strace(&flags, std::path::Path::new("/bin/sh"), &["-c", script]);
        let cut = t.iter().any(|l| l.contains(", ...]"));
        assert_eq!(cut, n == "5", "-s {n}: {t:#?}");
    }
}

#[test]
fn the_man_page_says_more_than_the_options() {
    if !have("man") {
        return skip("man is not installed");
    }
    let dir = tempdir("man");
    let page = dir.join("sigtrace.1");
    let out = run(sigtrace().args(["--generate", "man"]));
    std::fs::write(&page, out.stdout).unwrap();
    let shown = run(Command::new("man")
        .env("MANWIDTH", "200")
        .arg("-l")
        .arg(&page));
    assert!(shown.status.success(), "{}", shown.stderr);
    let text = Regex::new(".\x08").unwrap().replace_all(&shown.stdout, "");
    for heading in [
        "CAUSES",
        "SENDERS",
        "JSON EVENTS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "EXAMPLES",
    ] {
        assert!(
            text.contains(&format!("\n{heading}\n")),
            "{heading} missing:\n{text}"
        );
    }
    for said in [
        "traced-call",
        "kernel-record",
        "NO_COLOR",
        "sigtrace -p 4242",
        "re-raises S",
    ] {
        assert!(text.contains(said), "{said} missing:\n{text}");
    }
}

#[test]
fn bash_completes_commands_and_pids() {
    if Command::new("bash").arg("--version").output().is_err() {
        return skip("bash is not installed");
    }
    let dir = tempdir("bash-cmd");
    let script = dir.join("sigtrace.bash");
    std::fs::write(&script, run(sigtrace().args(["--generate", "bash"])).stdout).unwrap();
    let complete = |words: &str| bash_complete(&script, words);
    assert_completes_commands(complete);
    // -p: the running processes' pids (bash shows no names beside them).
    let me = std::process::id().to_string();
    assert!(complete("sigtrace -p ''").contains(&me));
    assert!(complete("sigtrace -f -p ''").contains(&me));
}

/// `-ff -o PREFIX` under strace and sigtrace with the same flags: each tool's files, as lines
/// prefixed `PID ` (the pid from the file's name) for `normalize`, and how many files.
fn split_files(flags: &[&str], prog: &std::path::Path, args: &[&str]) -> [(Vec<String>, usize); 2] {
    let dir = tempdir("ff");
    let set = format!("trace={DEFAULT_SET}");
    for (tool, mut cmd) in [("s", Command::new("strace")), ("t", sigtrace())] {
        run(cmd
            .args(["-ff", "-o", tool, "-e", &set])
            .args(flags)
            .arg(prog)
            .args(args)
            .current_dir(&dir));
    }
    ["s", "t"].map(|tool| {
        let mut lines = Vec::new();
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let Some(pid) = name.strip_prefix(&format!("{tool}.")) else {
                continue;
            };
            assert!(pid.parse::<u32>().is_ok(), "{name}");
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            lines.extend(all_lines(&text).iter().map(|l| format!("{pid} {l}")));
        }
        (lines, files)
    })
}

#[test]
fn ff_writes_a_file_per_task_as_strace_does() {
    // Processes (chatty's two children) and threads (interleave's, whose lines would split).
    // Two SIGCHLDs at once may be one: not compared.
    for (name, args) in [("chatty", &["2"][..]), ("interleave", &[][..])] {
        let [(s, s_files), (t, t_files)] =
            split_files(&["-e", "signal=!SIGCHLD"], &prog(name), args);
        assert!(s_files > 1, "{name}: strace wrote {s_files} files");
        assert_eq!(t_files, s_files, "{name}: files\n{t:#?}\n{s:#?}");
        assert_eq!(normalize(&t), normalize(&s), "{name}");
        // A file is one task's: no line in it is cut for another's.
        assert!(!t.iter().any(|l| l.contains("<unfinished")), "{t:#?}");
    }
    // No file for -c (strace refuses the pair too), and a prefix that cannot be made is said
    // before the command runs.
    let out = run(sigtrace().args(["-ff", "-c", "true"]));
    assert_eq!(out.code(), 1);
    assert!(
        out.stderr.starts_with("sigtrace: -c and -ff:"),
        "{}",
        out.stderr
    );
    let out = run(sigtrace().args(["-ff", "-o", "/nonexistent/t", "sh", "-c", "echo ran"]));
    assert_eq!((out.code(), out.stdout.as_str()), (1, ""));
    assert!(
        out.stderr
            .starts_with("sigtrace: -ff -o /nonexistent/t: cannot create /nonexistent/t."),
        "{}",
        out.stderr
    );
}

#[test]
fn u_runs_the_command_as_the_user_as_strace_does() {
    if !nix::unistd::geteuid().is_root() || !have("id") {
        return skip("-u needs root, and id(1)");
    }
    // nobody, and a user with supplementary groups where there is one.
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let grouped = passwd
        .lines()
        .filter_map(|l| l.split(':').next())
        .find(|u| {
            let g = run(Command::new("id").args(["-G", u])).stdout;
            g.split_whitespace().count() > 1 && !g.starts_with("0 ")
        });
    let id = std::path::Path::new("/usr/bin/id");
    // getgroups is not decoded by sigtrace: the groups are compared in id's own output.
    let calls = "trace=getuid,geteuid,getgid,getegid";
    for user in std::iter::once("nobody").chain(grouped) {
        let t = assert_same_as_strace(&["-u", user, "-e", calls], id, &[]);
        assert!(t.iter().any(|l| l.starts_with("getuid()")), "{t:#?}");
        let s = run(Command::new("strace").args(["-q", "-o", "/dev/null", "-u", user, "id"]));
        let me = run(sigtrace().args(["-q", "-o", "/dev/null", "-u", user, "id"]));
        assert_eq!(me.stdout, s.stdout, "{user}");
        assert!(!me.stdout.starts_with("uid=0("), "{}", me.stdout);
    }
    let out = run(sigtrace().args(["-u", "no-such-user-here", "true"]));
    assert_eq!(
        (out.code(), out.stderr.as_str()),
        (1, "sigtrace: -u no-such-user-here: no such user\n")
    );
}

#[test]
fn b_execve_lets_a_task_go_at_its_exec_as_strace_does() {
    same_addresses();
    let sh = std::path::Path::new("/bin/sh");
    let set = ["-e", "trace=execve,kill,exit_group"];
    // Children let go at their exec (the command's own first exec is kept), untraced after:
    // the second child's kill works (no seccomp filter left behind answering ENOSYS).
    let script = "/bin/true; sh -c 'kill -USR1 $$; exit 3'; exit 4";
    let flags = [&["-f", "-b", "execve"][..], &set].concat();
    let t = assert_same_as_strace(&flags, sh, &["-c", script]);
    let let_go: Vec<&String> = t
        .iter()
        .filter(|l| l.ends_with(" <detached ...>"))
        .collect();
    assert_eq!(let_go.len(), 2, "{t:#?}");
    assert!(!t.iter().any(|l| l.contains("kill(")), "{t:#?}");
    let out = run(sigtrace().args(&flags).args(["-q", "sh", "-c", script]));
    assert_eq!(out.code(), 4);
    assert!(!out.stderr.contains("not implemented"), "{}", out.stderr);
    // The command itself let go at its second exec: status 0, as strace.
    let flags = [&["-b", "execve"][..], &set].concat();
    let t = assert_same_as_strace(&flags, sh, &["-c", "exec sh -c 'exit 5'"]);
    assert!(t.last().unwrap().ends_with(" <detached ...>"), "{t:#?}");
}

#[test]
fn y_names_each_pid_as_strace_does() {
    // With -ff each task's lines are in a file of their own, with no pid prefix to tell apart.
    // childkill's child signals its parent, which never reaps it: both are there to be named
    // at every line (a SIGCHLD's sender may be reaped before its line: not compared).
    let name = prog("childkill");
    let comm: String = name
        .file_name()
        .unwrap()
        .to_string_lossy()
        .chars()
        .take(15)
        .collect();
    for flags in [&["-Y"][..], &["--decode-pids=comm"]] {
        let flags = [
            flags,
            &["-e", "trace=kill,clone,exit_group", "-e", "signal=!SIGCHLD"],
        ]
        .concat();
        let [(s, _), (t, _)] = split_files(&flags, &name, &[]);
        assert_eq!(normalize(&t), normalize(&s), "{flags:?}");
        assert!(
            t.iter().any(|l| l.contains(&format!("<{comm}>, SIGTERM)"))),
            "{t:#?}"
        );
        assert!(
            t.iter().any(|l| l.contains(&format!("<{comm}>, si_uid="))),
            "{t:#?}"
        );
    }
    // The prefix names the task too.
    let (_, text) = trace(&["-Y", "-f", "-e", "trace=kill"], &name, &[]);
    let prefix = Regex::new(&format!(r"^\d+<{comm}> +kill\(")).unwrap();
    assert!(text.lines().any(|l| prefix.is_match(l)), "{text}");
}

#[test]
fn decode_pids_pidns_translates_as_strace_does() {
    if !nix::unistd::geteuid().is_root() || !have("unshare") {
        return skip("needs root and unshare(1) for a pid namespace");
    }
    // A SIGCHLD's sender may be reaped before its line, a fork's child exec'd before the
    // fork's line: neither is compared.
    let script = ["-pf", "sh", "-c", "/bin/true & wait; kill -USR1 $$"];
    let flags = [
        "--decode-pids=comm,pidns",
        "-e",
        "trace=kill",
        "-e",
        "signal=!SIGCHLD",
    ];
    let [(s, _), (t, _)] = split_files(&flags, std::path::Path::new("/usr/bin/unshare"), &script);
    assert_eq!(normalize(&t), normalize(&s));
    let ns = Regex::new(r"^\d+ kill\(1<sh> /\* \d+ in strace's PID NS \*/, SIGUSR1\)").unwrap();
    assert!(t.iter().any(|l| ns.is_match(l)), "{t:#?}");
}

#[test]
fn a_senders_command_line_is_quoted_as_the_table_quotes_it() {
    let script = "sleep 9 & kill $!; wait";
    let (out, text) = trace(&["-f"], std::path::Path::new("/bin/sh"), &["-c", script]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let quoted = format!("/bin/sh -c '{script}'");
    // The table's row for sh, and the sleep's verdict naming sh as its sender: the same words.
    assert!(
        text.lines()
            .any(|l| l.starts_with("sigtrace:   ") && l.contains(&quoted)),
        "{text}"
    );
    let verdict = text
        .lines()
        .find(|l| l.contains(") killed by SIGTERM after SIGTERM from"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(verdict.contains(&format!("({quoted}, uid ")), "{verdict}");
    // JSON: the list as read, and the same quoted line.
    let out = run(sigtrace().args(["-f", "--json", "sh", "-c", script]));
    let signal: serde_json::Value = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "signal" && e["signal"] == "SIGTERM")
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert_eq!(
        signal["sender"]["argv"],
        serde_json::json!(["sh", "-c", script])
    );
    assert_eq!(
        signal["sender"]["cmdline"],
        format!("sh -c '{script}'").as_str()
    );
}

#[test]
fn a_sigpipe_names_no_sender_where_the_kernel_sent_it() {
    let (out, text) = trace(&[], &prog("sigpipe"), &[]);
    assert_eq!(out.code(), 128 + 13);
    let line = text
        .lines()
        .find(|l| l.starts_with("sigtrace: SIGPIPE default action"))
        .unwrap_or_else(|| panic!("{text}"));
    let pid = text
        .lines()
        .find_map(|l| l.split("si_pid=").nth(1)?.split(',').next())
        .unwrap();
    assert_eq!(
        line,
        format!(
            "sigtrace: SIGPIPE default action: terminate; from the kernel: it wrote to a pipe or socket with no reader (si_pid {pid} is the writer itself, {})",
            prog("sigpipe").file_name().unwrap().to_string_lossy()
        )
    );
}

/// COMMAND's name completed after `--`, as the first word, and after options with values; not
/// among the command's own arguments.
fn assert_completes_commands(complete: impl Fn(&str) -> Vec<String>) {
    for words in [
        "sigtrace -- slee",
        "sigtrace slee",
        "sigtrace -f -o out.txt slee",
    ] {
        assert!(complete(words).contains(&"sleep".into()), "{words}");
    }
    assert!(!complete("sigtrace sleep slee").contains(&"sleep".into()));
}

/// This test's pid, which completion after -p offers among the running processes'.
fn my_pid() -> String {
    std::process::id().to_string()
}

#[test]
fn zsh_completes_commands_and_pids() {
    if !have("zsh") {
        return skip("zsh is not installed (scripts/test.sh installs it)");
    }
    let dir = tempdir("zsh-cmd");
    std::fs::write(
        dir.join("_sigtrace"),
        run(sigtrace().args(["--generate", "zsh"])).stdout,
    )
    .unwrap();
    let complete = |words: &str| zsh_complete(&dir, words);
    assert_completes_commands(complete);
    assert!(complete("sigtrace -p ").contains(&my_pid()));
    assert!(complete("sigtrace -f --attach ").contains(&my_pid()));
}

#[test]
fn fish_completes_commands_and_pids() {
    if !have("fish") {
        return skip("fish is not installed (scripts/test.sh installs it)");
    }
    let dir = tempdir("fish-cmd");
    let script = dir.join("sigtrace.fish");
    std::fs::write(&script, run(sigtrace().args(["--generate", "fish"])).stdout).unwrap();
    let complete = |line: &str| -> Vec<String> {
        let code = format!("source {}; complete -C '{line}'", script.display());
        run(Command::new("fish").args(["--no-config", "-c", &code]))
            .stdout
            .lines()
            .map(String::from)
            .collect()
    };
    let names = |line: &str| -> Vec<String> {
        complete(line)
            .iter()
            .map(|c| c.split('\t').next().unwrap().to_string())
            .collect()
    };
    assert_completes_commands(names);
    // -p: pids, with their names beside them.
    let me = format!("{}\t{}", my_pid(), comm(std::process::id()));
    assert!(complete("sigtrace -p ").contains(&me), "{me}");
    assert!(
        complete("sigtrace -f --attach=")
            .iter()
            .any(|c| c.contains(&my_pid()))
    );
}
