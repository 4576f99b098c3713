//! The command line: strace-compatible flags parsed into a Config.

use crate::event::Clock;
use crate::signal::SignalSet;
use crate::syscalls::SyscallSet;
use crate::text::{escape_input, escape_message};
use crate::watch::Filter;
use clap::{ArgAction, Parser, ValueHint};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "sigtrace",
    version,
    about = "Trace the signals a process receives and tell who ended it, and why.",
    long_about = "Trace the signals a process receives and tell who ended it, and why.\n\n\
        sigtrace prints strace's lines for every signal delivered to the traced processes and \
        for the signal-related system calls they make, then one verdict per process: how it \
        ended, the cause (self-exit, external-signal, self-signal, crash, terminal, kernel, oom, \
        sigkill, unknown) and the sender.\n\n\
        Exit status: the traced command's own. When a signal kills the command, sigtrace \
        re-raises it on itself, so a shell sees 128+N as without sigtrace. sigtrace's own \
        failures print one line, sigtrace: WHAT: WHY, and exit non-zero.",
    override_usage = "sigtrace [OPTIONS] [--] COMMAND [ARGS...]\n       sigtrace [OPTIONS] -p PID [-p PID ...]\n       sigtrace --watch [FILTERS]"
)]
struct Args {
    /// Attach to a running process and all its threads (repeatable; commas or spaces separate pids); with --watch, only these processes
    #[arg(
        short = 'p',
        long = "attach",
        value_name = "PID",
        value_hint = ValueHint::Other,
        allow_negative_numbers = true
    )]
    attach: Vec<String>,
    /// Also trace child processes created by fork, vfork and clone; -ff with -o PREFIX: each task's lines in its own file, PREFIX.PID, as strace (with --json: one stream in PREFIX, each event carries its pid)
    #[arg(short = 'f', long = "follow-forks", action = ArgAction::Count)]
    follow: u8,
    /// With -o PREFIX: each task's lines in its own file, PREFIX.PID (-ff)
    #[arg(long = "output-separately")]
    output_separately: bool,
    /// Write the trace to FILE instead of stderr
    #[arg(short = 'o', long = "output", value_name = "FILE", value_hint = ValueHint::FilePath)]
    output: Option<PathBuf>,
    /// Qualifying expression, strace syntax: trace=SET or signal=SET
    #[arg(short = 'e', value_name = "EXPR", value_parser = crate::generate::Hinted::expr(), hide_possible_values = true)]
    expr: Vec<String>,
    /// Which syscalls to show: %signal, %process, names, all, none, ! to negate
    #[arg(long = "trace", value_name = "SET", value_parser = crate::generate::Hinted::trace(), hide_possible_values = true)]
    trace: Vec<String>,
    /// Which signals to show: names, numbers, all, none, ! to negate
    #[arg(long = "signal", alias = "signals", value_name = "SET", value_parser = crate::generate::Hinted::signal(), hide_possible_values = true)]
    signal: Vec<String>,
    /// Prefix lines with the time of day; -tt adds microseconds, -ttt prints seconds since the epoch
    #[arg(short = 't', action = ArgAction::Count)]
    time: u8,
    /// Prefix lines with the time since the previous line
    #[arg(short = 'r')]
    relative: bool,
    /// With -f, stop at every syscall (PTRACE_SYSCALL) instead of installing a seccomp filter in COMMAND (without -f there is none)
    #[arg(long = "no-seccomp")]
    no_seccomp: bool,
    /// Print the stack of the traced task with each shown syscall and signal, and in verdicts
    #[arg(short = 'k', long = "stack-trace")]
    stacks: bool,
    /// Do not read the kernel's signal tracepoint even where allowed
    #[arg(long = "no-kernel-record")]
    no_kernel_record: bool,
    /// Record mode: no ptrace at all; signals, forks, execs and exits of the whole tree from the kernel's record (root or CAP_PERFMON); no syscall lines, no stacks
    #[arg(long = "no-ptrace")]
    no_ptrace: bool,
    /// Watch mode: every process on the host until interrupted, one verdict per process that ends (those the filters select), on stdout; no ptrace (root or CAP_PERFMON)
    #[arg(long = "watch")]
    watch: bool,
    /// With --watch: only processes with this command name (comm; repeatable)
    #[arg(long = "comm", value_name = "NAME")]
    comm: Vec<String>,
    /// With --watch: only processes of this user (a name or a number; repeatable)
    #[arg(long = "uid", value_name = "USER")]
    uid: Vec<String>,
    /// With --watch: only processes in this cgroup or below it (/system.slice/app.service), or whose cgroup path contains this container id (repeatable)
    #[arg(long = "cgroup", value_name = "PATH|ID")]
    cgroup: Vec<String>,
    /// With --watch: only ends by a signal: killed by one, or exited after a signal that was not its own choice
    #[arg(long = "killed")]
    killed: bool,
    /// JSON Lines instead of text: one object per event
    #[arg(long = "json")]
    json: bool,
    /// Colour the text on a terminal: auto (honours NO_COLOR), always, never
    #[arg(long = "color", value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
    /// Suppress the attach and detach messages; -qq also the `+++ exited with N +++` lines
    #[arg(short = 'q', action = ArgAction::Count)]
    quiet: u8,
    /// Write a self-contained HTML page: processes on a time axis, signals between them, verdicts
    #[arg(long = "report", value_name = "FILE.html", value_hint = ValueHint::FilePath)]
    report: Option<PathBuf>,
    /// Write the trace as Chrome trace-event JSON, for ui.perfetto.dev and chrome://tracing
    #[arg(long = "perfetto", value_name = "FILE.json", value_hint = ValueHint::FilePath)]
    perfetto: Option<PathBuf>,
    /// Print the man page or a shell completion script, then exit
    #[arg(long = "generate", value_name = "WHAT", value_parser = ["man", "bash", "zsh", "fish"], exclusive = true)]
    generate: Option<String>,
    /// Put VAR=VAL in the command's environment, or remove VAR from it (repeatable), as strace
    #[arg(short = 'E', long = "env", value_name = "VAR[=VAL]")]
    env: Vec<OsString>,
    /// Show at most N bytes of a string, and N entries of an argv (default 32), as strace
    #[arg(short = 's', long = "string-limit", value_name = "N", default_value_t = crate::syscalls::MAX_STRLEN)]
    string_limit: usize,
    /// Run the command as USER: its uid, gid and supplementary groups (root only), as strace
    #[arg(short = 'u', long = "user", value_name = "USER")]
    user: Option<String>,
    /// Follow each pid shown by its command name, `<comm>`, as strace (--decode-pids=comm)
    #[arg(short = 'Y')]
    decode_comm: bool,
    /// comm: pids followed by `<comm>` (as -Y); pidns: also by their number in sigtrace's pid namespace where the task's differs; a list takes both
    #[arg(long = "decode-pids", value_name = "WHAT", value_delimiter = ',', value_parser = ["comm", "pidns"])]
    decode_pids: Vec<String>,
    /// Let a task go when it calls execve (the command's own first exec excepted), as strace
    #[arg(short = 'b', long = "detach-on", value_name = "SYSCALL", value_parser = ["execve"])]
    detach_on: Option<String>,
    /// Kill every traced process if sigtrace itself dies (PTRACE_O_EXITKILL), as strace 6.x
    #[arg(long = "kill-on-exit")]
    kill_on_exit: bool,
    /// No trace lines: only the table of every traced process and how it ended, at the end
    #[arg(short = 'c', long = "summary-only")]
    summary_only: bool,
    /// The command to launch and trace, with its arguments
    #[arg(trailing_var_arg = true, value_name = "COMMAND", value_hint = ValueHint::CommandWithArguments)]
    command: Vec<OsString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Launch(Vec<OsString>),
    Attach(Vec<i32>),
    /// --watch: every process on the host, the verdicts the filter selects.
    Watch(Filter),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    pub follow: bool,
    pub output: Option<PathBuf>,
    /// -ff -o PREFIX (text): each task's lines in PREFIX.TID.
    pub split: bool,
    pub signals: SignalSet,
    pub trace: SyscallSet,
    pub seccomp: bool,
    /// Read the kernel's record of signals where allowed (not `--no-kernel-record`).
    pub kernel_record: bool,
    /// --no-ptrace: the record mode.
    pub record: bool,
    pub quiet: bool,
    /// -qq: no `+++ exited with N +++` lines either.
    pub quiet_exits: bool,
    /// -E VAR=VAL / -E VAR: the command's environment changed so.
    pub env: Vec<OsString>,
    /// --kill-on-exit: the traced processes die with sigtrace.
    pub kill_on_exit: bool,
    /// -u USER: the command runs as USER.
    pub user: Option<String>,
    /// -b execve: tasks are let go at their exec.
    pub detach_on_exec: bool,
    /// -Y, --decode-pids.
    pub decode_pids: crate::tracer::DecodePids,
    /// -s N: strings and argv shown up to N.
    pub string_limit: usize,
    /// -c: the verdict table (with --json: verdict and end events) and nothing else.
    pub summary_only: bool,
    pub json: bool,
    /// -k: a stack with each shown syscall and signal.
    pub stacks: bool,
    pub color: Color,
    pub clock: Clock,
    pub relative: bool,
    /// --report FILE.html
    pub report: Option<PathBuf>,
    /// --perfetto FILE.json
    pub perfetto: Option<PathBuf>,
}

/// What parsing decided: run with a Config, or print help/version text and exit 0.
pub enum Parsed {
    Run(Box<Config>),
    Print(String),
}

pub fn parse<I, T>(args: I) -> Result<Parsed, String>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            use clap::error::ErrorKind::*;
            if matches!(e.kind(), DisplayHelp | DisplayVersion) {
                return Ok(Parsed::Print(e.render().to_string()));
            }
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            return Err(format!(
                "{} (see sigtrace --help)",
                escape_message(first.trim_start_matches("error: "))
            ));
        }
    };
    if let Some(what) = &args.generate {
        return Ok(Parsed::Print(crate::generate::generate(
            what,
            <Args as clap::CommandFactory>::command(),
        )));
    }
    config(args).map(|c| Parsed::Run(Box::new(c)))
}

fn config(args: Args) -> Result<Config, String> {
    let mut signals = SignalSet::ALL;
    let mut trace = SyscallSet::default_set();
    let mut trace_given = !args.trace.is_empty();
    for e in &args.expr {
        let (qual, set) = e.split_once('=').unwrap_or(("trace", e));
        match qual {
            "signal" | "signals" | "s" => signals = SignalSet::parse(set)?,
            "trace" | "t" => {
                trace = SyscallSet::parse(set)?;
                trace_given = true;
            }
            _ => {
                return Err(format!(
                    "invalid -e qualifier '{}' (known: trace, signal)",
                    escape_input(qual)
                ));
            }
        }
    }
    for s in &args.signal {
        signals = SignalSet::parse(s)?;
    }
    for t in &args.trace {
        trace = SyscallSet::parse(t)?;
    }
    if args.no_ptrace || args.watch {
        trace = no_ptrace(&args, trace_given.then_some(trace))?;
    }
    let filters = !(args.comm.is_empty() && args.uid.is_empty() && args.cgroup.is_empty());
    if !args.watch && (filters || args.killed) {
        return Err(
            "--comm, --uid, --cgroup and --killed select what --watch writes: give --watch too"
                .into(),
        );
    }
    let pids = parse_pids(&args.attach)?;
    let target = match (pids.is_empty(), args.command.is_empty()) {
        _ if args.watch => Target::Watch(watch(&args, pids, signals)?),
        (true, true) => {
            return Err(
                "must have COMMAND to run or -p PID to attach (see sigtrace --help)".into(),
            );
        }
        (false, false) => return Err("give either COMMAND or -p PID, not both".into()),
        (true, false) => Target::Launch(args.command),
        (false, true) => Target::Attach(pids),
    };
    let separately = args.follow > 1 || args.output_separately;
    if separately && args.summary_only {
        return Err("-c and -ff: -c writes no trace lines, and -ff splits them into a file per process (drop one of them)".into());
    }
    let clock = match args.time {
        0 => Clock::None,
        1 => Clock::Seconds,
        2 => Clock::Micros,
        _ => Clock::Epoch,
    };
    Ok(Config {
        target,
        follow: args.follow > 0,
        split: separately && args.output.is_some() && !args.json,
        output: args.output,
        signals,
        trace,
        seccomp: !args.no_seccomp,
        kernel_record: !args.no_kernel_record,
        record: args.no_ptrace || args.watch,
        quiet: args.quiet > 0,
        quiet_exits: args.quiet > 1,
        env: args.env,
        kill_on_exit: args.kill_on_exit,
        user: args.user,
        detach_on_exec: args.detach_on.is_some(),
        decode_pids: crate::tracer::DecodePids {
            comm: args.decode_comm || args.decode_pids.iter().any(|d| d == "comm"),
            pidns: args.decode_pids.iter().any(|d| d == "pidns"),
        },
        string_limit: args.string_limit,
        summary_only: args.summary_only,
        json: args.json,
        stacks: args.stacks,
        color: match args.color.as_str() {
            "always" => Color::Always,
            "never" => Color::Never,
            _ => Color::Auto,
        },
        clock,
        relative: args.relative,
        report: args.report,
        perfetto: args.perfetto,
    })
}

/// What the record and watch modes cannot do, refused with the reason: the syscall set they
/// trace (none).
fn no_ptrace(args: &Args, trace: Option<SyscallSet>) -> Result<SyscallSet, String> {
    let mode = if args.watch { "--watch" } else { "--no-ptrace" };
    if args.stacks {
        return Err(format!(
            "{mode}: -k reads each stack at a ptrace stop, and this mode makes none (drop one of them)"
        ));
    }
    if trace.is_some_and(|t| !t.is_empty()) {
        return Err(format!(
            "{mode}: syscall lines (-e trace=) need a ptrace stop at each call, and this mode makes none (drop one of them)"
        ));
    }
    if args.detach_on.is_some() {
        return Err(format!(
            "{mode}: -b execve lets a traced process go, and this mode traces none (drop one of them)"
        ));
    }
    if args.no_kernel_record {
        return Err(format!(
            "{mode}: this mode is made of the kernel's record, which --no-kernel-record turns off (drop one of them)"
        ));
    }
    Ok(SyscallSet::NONE)
}

/// --watch's filter, and what it refuses: a command, and the outputs that grow with the run.
fn watch(args: &Args, pids: Vec<i32>, signals: SignalSet) -> Result<Filter, String> {
    let refused = [
        (
            !args.command.is_empty(),
            "--watch takes no COMMAND: it watches every process (--comm NAME selects some)",
        ),
        (
            args.summary_only,
            "--watch takes no -c: it never ends by itself, each verdict is written as it comes",
        ),
        (
            args.report.is_some(),
            "--watch takes no --report: the page is drawn at the end of a run, and a watch does not end",
        ),
        (
            args.perfetto.is_some(),
            "--watch takes no --perfetto: the file is written at the end of a run, and a watch does not end",
        ),
        (
            args.user.is_some(),
            "--watch takes no -u: it runs no command (--uid USER selects a user's processes)",
        ),
        (
            !args.env.is_empty(),
            "--watch takes no -E: it runs no command",
        ),
        (
            args.kill_on_exit,
            "--watch takes no --kill-on-exit: it traces no process to kill",
        ),
    ];
    if let Some((_, why)) = refused.iter().find(|(given, _)| *given) {
        return Err(why.to_string());
    }
    let uids = args
        .uid
        .iter()
        .map(|u| user_id(u))
        .collect::<Result<Vec<u32>, String>>()?;
    if let Some(p) = pids
        .iter()
        .find(|&&p| !std::path::Path::new(&format!("/proc/{p}")).exists())
    {
        return Err(format!("--watch -p {p}: no such process"));
    }
    if let Some(c) = args.cgroup.iter().find(|c| c.is_empty()) {
        return Err(format!(
            "--cgroup '{}': an empty path or id",
            escape_input(c)
        ));
    }
    Ok(Filter {
        pids,
        comms: args.comm.iter().map(|c| c.as_bytes().to_vec()).collect(),
        uids,
        cgroups: args.cgroup.clone(),
        signals: (signals != SignalSet::ALL).then_some(signals),
        killed: args.killed,
    })
}

/// A user named or numbered, as the password database knows it.
fn user_id(user: &str) -> Result<u32, String> {
    if let Ok(uid) = user.parse::<u32>() {
        return Ok(uid);
    }
    match nix::unistd::User::from_name(user) {
        Ok(Some(u)) => Ok(u.uid.as_raw()),
        _ => Err(format!("--uid '{}': no such user", escape_input(user))),
    }
}

/// `-p 1,2 -p "3 4"`: pids as strace takes them.
fn parse_pids(values: &[String]) -> Result<Vec<i32>, String> {
    let mut pids = Vec::new();
    for token in values
        .iter()
        .flat_map(|v| v.split(|c: char| c == ',' || c.is_whitespace()))
    {
        if token.is_empty() {
            continue;
        }
        // Digits only, as strace takes them: no sign.
        let digits = token.bytes().all(|b| b.is_ascii_digit());
        match token.parse::<i32>() {
            Ok(p) if p > 0 && digits => {
                if !pids.contains(&p) {
                    pids.push(p)
                }
            }
            _ => {
                return Err(format!("invalid process id: '{}'", escape_input(token)));
            }
        }
    }
    if pids.is_empty() && !values.is_empty() {
        return Err("-p needs a process id".into());
    }
    Ok(pids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse(std::iter::once("sigtrace").chain(args.iter().copied()))? {
            Parsed::Run(c) => Ok(*c),
            Parsed::Print(_) => Err("printed".into()),
        }
    }

    #[test]
    fn launch_keeps_command_flags() {
        let c = run(&["-f", "sh", "-c", "exit 3"]).unwrap();
        assert!(c.follow);
        assert_eq!(
            c.target,
            Target::Launch(vec!["sh".into(), "-c".into(), "exit 3".into()])
        );
        let c = run(&["--", "-weird"]).unwrap();
        assert_eq!(c.target, Target::Launch(vec!["-weird".into()]));
    }

    #[test]
    fn pid_lists() {
        let c = run(&["-p", "1,2", "-p", "3 4", "--attach", "2"]).unwrap();
        assert_eq!(c.target, Target::Attach(vec![1, 2, 3, 4]));
        assert!(run(&["-p", "12x"]).unwrap_err().contains("'12x'"));
        assert!(run(&["-p", "0"]).is_err());
        assert!(run(&["-p", "-5"]).is_err());
        assert_eq!(run(&["-p", "-1"]).unwrap_err(), "invalid process id: '-1'");
        assert_eq!(run(&["-p", "+5"]).unwrap_err(), "invalid process id: '+5'");
        assert!(run(&["-p", ","]).is_err());
        assert!(run(&["-p", "99999999999"]).is_err());
    }

    #[test]
    fn timestamps_and_signals() {
        let c = run(&["-ttt", "-r", "-e", "signal=!TERM", "true"]).unwrap();
        assert_eq!(c.clock, Clock::Epoch);
        assert!(c.relative);
        assert!(!c.signals.contains(crate::signal::Signal(15)));
        assert_eq!(run(&["-tt", "true"]).unwrap().clock, Clock::Micros);
        assert_eq!(
            run(&["--signal=none", "true"]).unwrap().signals,
            SignalSet::NONE
        );
        assert!(
            run(&["-e", "signal=BOGUS", "true"])
                .unwrap_err()
                .contains("BOGUS")
        );
        assert!(run(&["-e", "frob=1", "true"]).unwrap_err().contains("frob"));
        assert!(run(&["-e", "trace=none", "true"]).unwrap().trace.is_empty());
        assert!(run(&["--trace=kill", "true"]).unwrap().trace.contains(62));
        assert!(run(&["-e", "kill", "true"]).unwrap().trace.contains(62));
        assert!(
            run(&["-e", "trace=nosuch", "true"])
                .unwrap_err()
                .contains("nosuch")
        );
        assert!(run(&["true"]).unwrap().trace.contains(13));
    }

    #[test]
    fn summary_only() {
        assert!(run(&["-c", "true"]).unwrap().summary_only);
        assert!(run(&["--summary-only", "-f", "true"]).unwrap().summary_only);
        assert!(!run(&["true"]).unwrap().summary_only);
    }

    #[test]
    fn bad_combinations() {
        assert!(run(&[]).unwrap_err().contains("COMMAND"));
        assert!(run(&["-p", "1", "true"]).unwrap_err().contains("not both"));
        let e = run(&["--bogus", "x"]).unwrap_err();
        assert!(!e.contains('\n') && e.contains("--bogus"), "{e}");
    }
}
