//! The command line: strace-compatible flags parsed into a Config.

use crate::render::text::Clock;
use crate::signal::SignalSet;
use crate::strace::syscalls::SyscallSet;
use crate::strace::{escape_input, escape_message};
use clap::{ArgAction, Parser};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "sigtrace",
    version,
    about = "Trace the signals a process receives and tell who ended it, and why.",
    override_usage = "sigtrace [OPTIONS] [--] COMMAND [ARGS...]\n       sigtrace [OPTIONS] -p PID [-p PID ...]"
)]
struct Args {
    /// Attach to a running process and all its threads (repeatable; commas or spaces separate pids)
    #[arg(
        short = 'p',
        long = "attach",
        value_name = "PID",
        allow_negative_numbers = true
    )]
    attach: Vec<String>,
    /// Also trace child processes created by fork, vfork and clone
    #[arg(short = 'f', long = "follow-forks")]
    follow: bool,
    /// Write the trace to FILE instead of stderr
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Qualifying expression, strace syntax: trace=SET or signal=SET
    #[arg(short = 'e', value_name = "EXPR")]
    expr: Vec<String>,
    /// Which syscalls to show: %signal, %process, names, all, none, ! to negate
    #[arg(long = "trace", value_name = "SET")]
    trace: Vec<String>,
    /// Which signals to show: names, numbers, all, none, ! to negate
    #[arg(long = "signal", alias = "signals", value_name = "SET")]
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
    /// JSON Lines instead of text: one object per event
    #[arg(long = "json")]
    json: bool,
    /// Colour the text on a terminal: auto (honours NO_COLOR), always, never
    #[arg(long = "color", value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
    /// Suppress the attach and detach messages
    #[arg(short = 'q', action = ArgAction::Count)]
    quiet: u8,
    /// The command to launch and trace, with its arguments
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
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
}

#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    pub follow: bool,
    pub output: Option<PathBuf>,
    pub signals: SignalSet,
    pub trace: SyscallSet,
    pub seccomp: bool,
    pub quiet: bool,
    pub json: bool,
    pub color: Color,
    pub clock: Clock,
    pub relative: bool,
}

/// What parsing decided: run with a Config, or print help/version text and exit 0.
pub enum Parsed {
    Run(Config),
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
    config(args).map(Parsed::Run)
}

fn config(args: Args) -> Result<Config, String> {
    let mut signals = SignalSet::ALL;
    let mut trace = SyscallSet::default_set();
    for e in &args.expr {
        let (qual, set) = e.split_once('=').unwrap_or(("trace", e));
        match qual {
            "signal" | "signals" | "s" => signals = SignalSet::parse(set)?,
            "trace" | "t" => trace = SyscallSet::parse(set)?,
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
    let pids = parse_pids(&args.attach)?;
    let target = match (pids.is_empty(), args.command.is_empty()) {
        (true, true) => {
            return Err(
                "must have COMMAND to run or -p PID to attach (see sigtrace --help)".into(),
            );
        }
        (false, false) => return Err("give either COMMAND or -p PID, not both".into()),
        (true, false) => Target::Launch(args.command),
        (false, true) => Target::Attach(pids),
    };
    let clock = match args.time {
        0 => Clock::None,
        1 => Clock::Seconds,
        2 => Clock::Micros,
        _ => Clock::Epoch,
    };
    Ok(Config {
        target,
        follow: args.follow,
        output: args.output,
        signals,
        trace,
        seccomp: !args.no_seccomp,
        quiet: args.quiet > 0,
        json: args.json,
        color: match args.color.as_str() {
            "always" => Color::Always,
            "never" => Color::Never,
            _ => Color::Auto,
        },
        clock,
        relative: args.relative,
    })
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
            Parsed::Run(c) => Ok(c),
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
    fn bad_combinations() {
        assert!(run(&[]).unwrap_err().contains("COMMAND"));
        assert!(run(&["-p", "1", "true"]).unwrap_err().contains("not both"));
        let e = run(&["--bogus", "x"]).unwrap_err();
        assert!(!e.contains('\n') && e.contains("--bogus"), "{e}");
    }
}
