//! Stacks (-k): the frames sigtrace's unwinder finds against strace -k's for the same programs.

mod common;

use common::{TIMEOUT, skip};
use sigtrace::event::Frame;
use sigtrace::stack::Stacks;
use sigtrace::sys;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

/// The tracer below waits for any child: no other child of this test binary may run meanwhile.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn strace_has_k() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("stack-trace"))
}

/// Builds tests/c/stacks/FILE with `cmd` (cc, c++, rustc) and `flags` into a fresh directory.
fn build(file: &str, cmd: &str, flags: &[&str]) -> Option<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c/stacks")
        .join(file);
    let out = common::tempdir("stk").join(file.split('.').next().unwrap());
    let mut c = Command::new(cmd);
    c.args(flags).arg("-o").arg(&out).arg(&src);
    if cmd == "cc" || cmd == "c++" {
        c.arg("-pthread");
    }
    let ok = common::run(&mut c).status.success();
    ok.then_some(out)
}

/// One shown event: its first word ("kill", "exit_group", "SIGTERM") and its stack.
#[derive(Debug)]
struct Shown {
    what: String,
    frames: Vec<Frame>,
}

/// strace -k's events for `prog`, parsed back into frames.
fn strace_k(prog: &Path, trace: &str) -> Vec<Shown> {
    let out = common::run(
        Command::new("strace")
            .args(["-f", "-k", "-qq", "-e", &format!("trace={trace}")])
            .arg(prog),
    );
    parse_strace(&out.stderr)
}

fn parse_strace(text: &str) -> Vec<Shown> {
    let mut shown: Vec<Shown> = Vec::new();
    for line in text.lines() {
        let line = strip_pid(line);
        if let Some(note) = line.strip_prefix("sigtrace: ") {
            // sigtrace's own lines: a verdict's stack follows it, not the event before.
            let what = if note.contains(" exited with ") || note.contains(" killed by ") {
                "verdict"
            } else {
                "sigtrace"
            };
            shown.push(Shown {
                what: what.into(),
                frames: vec![],
            });
        } else if let Some(f) = line.strip_prefix(" > ") {
            if let Some(last) = shown.last_mut() {
                last.frames.push(parse_frame(f));
            }
        } else if let Some(sig) = line.strip_prefix("--- ") {
            let name = sig.split(' ').next().unwrap_or("");
            shown.push(Shown {
                what: name.into(),
                frames: vec![],
            });
        } else if line.starts_with("+++") {
            continue;
        } else if let Some((name, _)) = line.split_once('(') {
            shown.push(Shown {
                what: name.into(),
                frames: vec![],
            });
        }
    }
    shown
}

fn strip_pid(line: &str) -> &str {
    match line.strip_prefix("[pid ") {
        Some(rest) => rest.split_once("] ").map_or(line, |(_, l)| l),
        None => line,
    }
}

/// `module(symbol+0xoff) [0xaddr]` back into a Frame (strace leaves the symbol empty when it
/// has none but still prints `+0x0`).
fn parse_frame(f: &str) -> Frame {
    let (head, addr) = f.rsplit_once(" [0x").unwrap_or((f, "0]"));
    let address = u64::from_str_radix(addr.trim_end_matches(']'), 16).unwrap_or(0);
    let Some((module, sym)) = head.strip_suffix(')').and_then(split_module) else {
        return Frame {
            module: String::new(),
            symbol: Some(head.into()),
            offset: 0,
            address,
        };
    };
    let (name, off) = sym.rsplit_once("+0x").unwrap_or((sym, "0"));
    Frame {
        module: module.into(),
        symbol: (!name.is_empty()).then(|| name.to_string()),
        offset: u64::from_str_radix(off, 16).unwrap_or(0),
        address,
    }
}

/// `module(symbol` at the first parenthesis that is not the kernel's " (deleted)".
fn split_module(head: &str) -> Option<(&str, &str)> {
    let skip = head
        .find(" (deleted)(")
        .map_or(0, |i| i + " (deleted)".len());
    let i = skip + head[skip..].find('(')?;
    Some((&head[..i], &head[i + 1..]))
}

/// A tiny tracer over the library's unwinder: runs `prog`, seizes it while it waits on stdin,
/// and takes the stack at the entry of each syscall in `nrs` and at each signal delivery.
fn ours(prog: &Path, nrs: &[u64]) -> Vec<Shown> {
    let mut child = Command::new(prog)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let opts = sys::opt::TRACESYSGOOD | sys::opt::TRACECLONE | sys::opt::EXITKILL;
    sys::seize(pid, opts).unwrap();
    sys::interrupt(pid).unwrap();
    let mut stdin = child.stdin.take();
    let mut stacks = Stacks::new();
    let mut shown = Vec::new();
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < TIMEOUT, "{} did not end", prog.display());
        let (tid, status, _) = sys::wait_any().unwrap();
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            if tid == pid {
                break;
            }
            continue;
        }
        let sig = libc::WSTOPSIG(status);
        let inject = if sig == libc::SIGTRAP | 0x80 {
            let info = sys::syscall_info(tid).unwrap();
            if info.op == sys::SYSCALL_INFO_ENTRY && nrs.contains(&info.nr) {
                let what = syscall_name(info.nr).to_string();
                shown.push(Shown {
                    what,
                    frames: stacks.capture(pid, tid).to_vec(),
                });
            }
            0
        } else if status >> 16 != 0 || sig == libc::SIGTRAP {
            0
        } else {
            let what = format!("SIG{}", signal_name(sig));
            shown.push(Shown {
                what,
                frames: stacks.capture(pid, tid).to_vec(),
            });
            sig
        };
        let _ = sys::syscall(tid, inject);
        if let Some(mut s) = stdin.take() {
            s.write_all(b"g").unwrap();
        }
    }
    let _ = child.wait();
    shown
}

fn syscall_name(nr: u64) -> &'static str {
    match nr {
        60 => "exit",
        62 => "kill",
        231 => "exit_group",
        234 => "tgkill",
        _ => "?",
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "SEGV",
        libc::SIGTERM => "TERM",
        libc::SIGUSR1 => "USR1",
        libc::SIGUSR2 => "USR2",
        libc::SIGALRM => "ALRM",
        _ => "?",
    }
}

/// Every frame strace names appears in ours, in order, with the same module and symbol; where
/// the symbol is the same, the offsets are too.
fn assert_covers(ours: &[Shown], strace: &[Shown], prog: &Path) {
    let show = |s: &Shown| {
        let lines: Vec<String> = s.frames.iter().map(sigtrace::stack::format_frame).collect();
        format!("{}\n{}", s.what, lines.join("\n"))
    };
    let name = prog.display().to_string();
    let ours: Vec<&Shown> = ours.iter().collect();
    assert_eq!(
        ours.iter().map(|s| &s.what).collect::<Vec<_>>(),
        strace.iter().map(|s| &s.what).collect::<Vec<_>>(),
        "events of {name}"
    );
    for (o, s) in ours.iter().zip(strace) {
        let mut rest = o.frames.iter();
        // strace's error lines (a garbage address after a bad frame-pointer step) name nothing.
        for want in s.frames.iter().filter(|f| !f.module.is_empty()) {
            let found = rest.find(|f| same_place(f, want));
            assert!(
                found.is_some(),
                "{name}: {} frame {want:?} missing\nours: {}\nstrace: {}",
                s.what,
                show(o),
                show(s)
            );
            let f = found.unwrap();
            // A marker's address is absolute: it moves with the address-space layout.
            if f.symbol == want.symbol && !f.is_marker() {
                assert_eq!(
                    (f.offset, f.address),
                    (want.offset, want.address),
                    "{name}: {want:?}"
                );
            }
        }
    }
}

/// Same module (strace prints a module's path as in the maps) and same symbol; a frame strace
/// could not name (no symbol) matches any symbol of ours at the same address.
fn same_place(ours: &Frame, strace: &Frame) -> bool {
    let module = ours.module == strace.module || strace.module.is_empty() && ours.is_marker();
    let symbol =
        ours.symbol == strace.symbol || strace.symbol.is_none() && ours.address == strace.address;
    module && symbol
}

const KILL_EXIT: &[u64] = &[62, 231];

fn compare(
    file: &str,
    cmd: &str,
    flags: &[&str],
    trace: &str,
    nrs: &[u64],
) -> Option<(Vec<Shown>, Vec<Shown>)> {
    let _one = serial();
    let Some(prog) = build(file, cmd, flags) else {
        skip(&format!("{cmd} could not build {file}"));
        return None;
    };
    compare_built(&prog, trace, nrs)
}

/// Runs `prog` under strace -k and under the tracer above; asserts that the stacks agree.
/// The caller holds serial().
fn compare_built(prog: &Path, trace: &str, nrs: &[u64]) -> Option<(Vec<Shown>, Vec<Shown>)> {
    if !strace_has_k() {
        skip("strace without -k");
        return None;
    }
    // A program may remove itself: each run gets the binary back at the same path.
    let keep = prog.with_extension("keep");
    std::fs::copy(prog, &keep).unwrap();
    let theirs = strace_k(prog, trace);
    std::fs::copy(&keep, prog).unwrap();
    let mine = ours(prog, nrs);
    assert_covers(&mine, &theirs, prog);
    Some((mine, theirs))
}

fn symbols(s: &Shown) -> Vec<&str> {
    s.frames
        .iter()
        .filter_map(|f| f.symbol.as_deref())
        .collect()
}

#[test]
fn handler_calling_exit_unwinds_through_the_signal_frame() {
    let Some((mine, _)) = compare(
        "handler.c",
        "cc",
        &["-O1", "-g"],
        "kill,exit_group",
        KILL_EXIT,
    ) else {
        return;
    };
    assert_handler_stack(&mine);
}

/// exit_group's stack runs from the handler through the signal frame into main.
fn assert_handler_stack(mine: &[Shown]) {
    let exit = mine.iter().find(|s| s.what == "exit_group").unwrap();
    let names = symbols(exit);
    let at = |n: &str| {
        let i = names.iter().position(|s| *s == n);
        i.unwrap_or_else(|| panic!("{n} in {names:?}"))
    };
    assert!(
        at("shutdown_now") < at("on_term") && at("on_term") < at("main"),
        "{names:?}"
    );
}

#[test]
fn c_without_frame_pointers() {
    compare(
        "handler.c",
        "cc",
        &["-O2", "-fomit-frame-pointer"],
        "kill,exit_group",
        KILL_EXIT,
    );
}

#[test]
fn c_frame_pointers_without_cfi() {
    let flags = [
        "-O1",
        "-fno-omit-frame-pointer",
        "-fno-asynchronous-unwind-tables",
        "-fno-unwind-tables",
    ];
    let Some((mine, _)) = compare("handler.c", "cc", &flags, "kill,exit_group", KILL_EXIT) else {
        return;
    };
    assert_handler_stack(&mine);
}

#[test]
fn c_not_pie() {
    compare(
        "handler.c",
        "cc",
        &["-O1", "-no-pie", "-fno-pie"],
        "kill,exit_group",
        KILL_EXIT,
    );
}

#[test]
fn stripped_binary_gives_addresses() {
    let Some((mine, _)) = compare(
        "handler.c",
        "cc",
        &["-O1", "-s"],
        "kill,exit_group",
        KILL_EXIT,
    ) else {
        return;
    };
    let exit = mine.iter().find(|s| s.what == "exit_group").unwrap();
    assert!(exit.frames.iter().any(|f| f.symbol.is_none()), "{exit:#?}");
}

#[test]
fn crash_names_the_faulting_function() {
    let Some((mine, _)) = compare("crash.c", "cc", &["-O1"], "none", &[]) else {
        return;
    };
    assert_eq!(symbols(&mine[0])[..2], ["poke", "deeper"], "{mine:#?}");
}

#[test]
fn threads() {
    compare("threads.c", "cc", &["-O1"], "kill,exit_group", KILL_EXIT);
}

#[test]
fn cxx_names_are_demangled() {
    let Some((mine, _)) = compare("cxx.cc", "c++", &["-O1"], "kill,exit_group", KILL_EXIT) else {
        return;
    };
    let exit = mine.iter().find(|s| s.what == "exit_group").unwrap();
    assert!(
        symbols(exit).contains(&"void app::stop<long>(long)"),
        "{exit:#?}"
    );
}

#[test]
fn rust_names_are_demangled() {
    let Some((mine, _)) = compare("rust.rs", "rustc", &["-g"], "exit_group", &[231]) else {
        return;
    };
    assert!(symbols(&mine[0]).contains(&"rust::quit"), "{mine:#?}");
}

#[test]
fn deleted_binary_is_still_named() {
    let Some((mine, _)) = compare("deleted.c", "cc", &["-O1"], "exit_group", &[231]) else {
        return;
    };
    let names = symbols(&mine[0]);
    assert!(
        names.contains(&"finish") && names.contains(&"main"),
        "{mine:#?}"
    );
}

#[test]
fn jit_code_gives_its_address_and_ends_the_stack() {
    let Some((mine, _)) = compare("jit.c", "cc", &["-O1"], "exit_group", &[231]) else {
        return;
    };
    let f = &mine[0].frames;
    assert!(
        f.len() == 1 && f[0].is_marker() && f[0].address != 0,
        "{mine:#?}"
    );
}

#[test]
fn a_library_loaded_later_is_found() {
    let _one = serial();
    let Some(prog) = build("dlopen.c", "cc", &["-O1"]) else {
        return skip("cc could not build dlopen.c");
    };
    let lib = prog.with_file_name("libstk.so");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/stacks/libstk.c");
    let built = common::run(
        Command::new("cc")
            .args(["-O1", "-shared", "-fPIC", "-o"])
            .arg(&lib)
            .arg(&src),
    );
    assert!(built.status.success(), "{}", built.stderr);
    let Some((mine, _)) = compare_built(&prog, "kill,exit_group", KILL_EXIT) else {
        return;
    };
    let exit = mine.iter().find(|s| s.what == "exit_group").unwrap();
    assert!(symbols(exit).contains(&"stk_leave"), "{mine:#?}");
}

#[test]
fn deep_recursion_is_cut_at_strace_limit() {
    let Some((mine, _)) = compare("deep.c", "cc", &["-O1"], "exit_group", &[231]) else {
        return;
    };
    let f = &mine[0].frames;
    assert_eq!(f.len(), 257, "{mine:#?}");
    assert_eq!(f[256].symbol.as_deref(), Some("too many stack frames"));
}

#[test]
fn a_signal_in_the_vdso_unwinds_into_its_caller() {
    let _one = serial();
    let Some(prog) = build("vdso.c", "cc", &["-O1"]) else {
        return skip("cc could not build vdso.c");
    };
    let mine = ours(&prog, &[]);
    let in_vdso: Vec<&Shown> = mine
        .iter()
        .filter(|s| s.frames.first().is_some_and(|f| f.module == "[vdso]"))
        .collect();
    if in_vdso.is_empty() {
        return skip("no SIGALRM arrived while the clock was read in the vDSO");
    }
    for s in in_vdso {
        let names = symbols(s);
        assert!(names.contains(&"spin") && names.contains(&"main"), "{s:#?}");
    }
}

/// sigtrace -k's events for `prog` (its own lines kept apart, as "verdict" and "sigtrace").
fn sigtrace_k(prog: &Path, args: &[&str]) -> Vec<Shown> {
    let out = common::run(common::sigtrace().arg("-k").args(args).arg(prog));
    parse_strace(&out.stderr)
}

/// The strace events of sigtrace's output, without its own lines.
fn strace_lines(all: &[Shown]) -> Vec<Shown> {
    let keep = |s: &&Shown| s.what != "verdict" && s.what != "sigtrace";
    all.iter()
        .filter(keep)
        .map(|s| Shown {
            what: s.what.clone(),
            frames: s.frames.clone(),
        })
        .collect()
}

fn cli_compare(file: &str, flags: &[&str], args: &[&str]) -> Option<Vec<Shown>> {
    let _one = serial();
    if !strace_has_k() {
        skip("strace without -k");
        return None;
    }
    let Some(prog) = build(file, "cc", flags) else {
        skip(&format!("cc could not build {file}"));
        return None;
    };
    let theirs = parse_strace(
        &common::run(
            Command::new("strace")
                .args(["-k", "-qq"])
                .args(args)
                .arg(&prog),
        )
        .stderr,
    );
    let mine = sigtrace_k(&prog, args);
    assert_covers(&strace_lines(&mine), &theirs, &prog);
    Some(mine)
}

fn verdict(mine: &[Shown]) -> &Shown {
    mine.iter()
        .rfind(|s| s.what == "verdict")
        .expect("a verdict")
}

#[test]
fn cli_handler_calling_exit_and_its_verdict() {
    let args = ["-e", "trace=kill,exit_group"];
    let Some(mine) = cli_compare("handler.c", &["-O1", "-g"], &args) else {
        return;
    };
    assert_handler_stack(&strace_lines(&mine));
    let names = symbols(verdict(&mine));
    assert_eq!(
        names.get(3..5),
        Some(&["shutdown_now", "on_term"][..]),
        "{mine:#?}"
    );
}

#[test]
fn cli_crash_verdict_has_the_faulting_stack() {
    let Some(mine) = cli_compare("crash.c", &["-O1"], &["-e", "trace=none"]) else {
        return;
    };
    assert_eq!(
        symbols(verdict(&mine)).get(..2),
        Some(&["poke", "deeper"][..]),
        "{mine:#?}"
    );
}

#[test]
fn cli_external_kill_verdict_has_the_senders_stack() {
    // The parent's SIGCHLD is left out: it lands in kill() or in wait4(), as timing has it.
    let args = ["-f", "-e", "trace=kill", "-e", "signal=!SIGCHLD"];
    let Some(mine) = cli_compare("killer.c", &["-O1"], &args) else {
        return;
    };
    let child = mine
        .iter()
        .find(|s| s.what == "verdict")
        .expect("the child's verdict");
    assert!(symbols(child).contains(&"send_term"), "{mine:#?}");
}

#[test]
fn cli_json_stack() {
    let _one = serial();
    let Some(prog) = build("handler.c", "cc", &["-O1"]) else {
        return skip("cc could not build handler.c");
    };
    let out = common::run(
        common::sigtrace()
            .args(["-k", "--json", "-e", "trace=exit_group"])
            .arg(&prog),
    );
    let exit = out
        .stderr
        .lines()
        .find(|l| l.contains("\"exit_group\""))
        .expect("exit_group");
    let v: serde_json::Value = serde_json::from_str(exit).unwrap();
    let names: Vec<&str> = v["stack"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["symbol"].as_str())
        .collect();
    assert!(
        names.contains(&"on_term") && names.contains(&"main"),
        "{exit}"
    );
    let f = &v["stack"][0];
    assert!(
        f["module"].as_str().unwrap().contains("libc")
            && f["offset"].is_u64()
            && f["address"].is_u64(),
        "{exit}"
    );
    let verdict = out
        .stderr
        .lines()
        .find(|l| l.contains("\"verdict\""))
        .expect("verdict");
    assert!(verdict.contains("\"stack\":[{"), "{verdict}");
}

#[test]
fn without_k_no_stack_lines() {
    let _one = serial();
    let Some(prog) = build("handler.c", "cc", &["-O1"]) else {
        return skip("cc could not build handler.c");
    };
    let out = common::run(common::sigtrace().arg(&prog));
    assert!(!out.stderr.contains("\n > "), "{}", out.stderr);
}

#[test]
fn cli_attached_task_signal_and_verdict_stacks() {
    let _one = serial();
    let Some(prog) = build("waiter.c", "cc", &["-O1"]) else {
        return skip("cc could not build waiter.c");
    };
    let target = KillOnDrop(Command::new(&prog).stdin(Stdio::null()).spawn().unwrap());
    let pid = target.0.id();
    let file = prog.with_file_name("trace.txt");
    let tracer = common::sigtrace()
        .args(["-k", "-o"])
        .arg(&file)
        .args(["-p", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let tracer_pid = tracer.id();
    common::wait_for("sigtrace to attach", || {
        common::tracer_of(pid) == tracer_pid
    });
    common::signal(pid, nix::sys::signal::Signal::SIGTERM);
    common::finish(tracer, "sigtrace -k -p");
    drop(target);
    let mine = parse_strace(&std::fs::read_to_string(&file).unwrap());
    let delivery = mine
        .iter()
        .find(|s| s.what == "SIGTERM")
        .expect("the SIGTERM line");
    assert!(
        symbols(delivery).starts_with(&["pause", "sleep_forever", "main"]),
        "{mine:#?}"
    );
    assert_eq!(symbols(verdict(&mine)), symbols(delivery), "{mine:#?}");
}

/// A program the test started, ended however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
