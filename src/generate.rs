//! --generate: the man page and shell completions from the clap definition, and the values they complete.

use clap::builder::{PossibleValue, TypedValueParser};
use clap_complete::Shell;
use std::ffi::OsStr;
use std::sync::OnceLock;

/// The values `--trace=` completes: classes, all, none, then every syscall name.
fn trace_values() -> &'static [String] {
    static V: OnceLock<Vec<String>> = OnceLock::new();
    V.get_or_init(|| {
        let mut names: Vec<&str> = crate::syscalls::names().collect();
        names.sort_unstable();
        names.dedup();
        ["%signal", "%process", "all", "none"]
            .into_iter()
            .chain(names)
            .map(String::from)
            .collect()
    })
}

/// The values `--signal=` completes: all, none, then every signal name.
fn signal_values() -> &'static [String] {
    static V: OnceLock<Vec<String>> = OnceLock::new();
    V.get_or_init(|| {
        let names = (1..=crate::signal::MAX).map(|n| crate::signal::Signal(n).to_string());
        ["all", "none"]
            .into_iter()
            .map(String::from)
            .chain(names)
            .collect()
    })
}

/// The values `-e` completes: `trace=...` and `signal=...`.
fn expr_values() -> &'static [String] {
    static V: OnceLock<Vec<String>> = OnceLock::new();
    V.get_or_init(|| {
        let trace = trace_values().iter().map(|v| format!("trace={v}"));
        let signal = signal_values().iter().map(|v| format!("signal={v}"));
        trace.chain(signal).collect()
    })
}

/// A string argument that takes any value but tells the completion scripts what to offer.
#[derive(Clone)]
pub struct Hinted(fn() -> &'static [String]);

impl Hinted {
    pub fn expr() -> Hinted {
        Hinted(expr_values)
    }
    pub fn trace() -> Hinted {
        Hinted(trace_values)
    }
    pub fn signal() -> Hinted {
        Hinted(signal_values)
    }
}

impl TypedValueParser for Hinted {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            (self.0)().iter().map(|v| PossibleValue::new(v.as_str())),
        ))
    }
}

/// The text `--generate WHAT` prints.
pub fn generate(what: &str, cmd: clap::Command) -> String {
    let mut out = Vec::new();
    match what {
        "man" => {
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .expect("writing to memory");
            out.extend_from_slice(causes_section().as_bytes());
            out.extend_from_slice(reasons_section().as_bytes());
            out.extend_from_slice(senders_section().as_bytes());
            out.extend_from_slice(include_str!("generate.man").as_bytes());
        }
        shell => {
            let shell: Shell = shell.parse().expect("clap checked the value");
            clap_complete::generate(shell, &mut cmd.clone(), "sigtrace", &mut out);
            let script = String::from_utf8_lossy(&out).into_owned();
            return match shell {
                Shell::Bash => script + &bash_values(&cmd),
                Shell::Fish => script + &with_valued(include_str!("generate.fish"), &cmd),
                Shell::Zsh => zsh(script),
                _ => script,
            };
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The man page's CAUSES section, from the one list of causes.
fn causes_section() -> String {
    let causes = crate::verdict::Cause::ALL
        .iter()
        .map(|c| (c.as_str(), c.meaning()));
    section("CAUSES", "Each verdict names one cause:", causes)
}

/// The man page's KERNEL REASONS section, from the one list of reasons.
fn reasons_section() -> String {
    let intro = "A signal the kernel generated or dropped carries what in the kernel did it (JSON: kernel_reason):";
    section(
        "KERNEL REASONS",
        intro,
        crate::event::reason::REASONS.iter().copied(),
    )
}

/// The man page's SENDERS section, from the one list of sources.
fn senders_section() -> String {
    let sources = crate::event::Source::ALL
        .iter()
        .map(|s| (s.as_str(), s.meaning()));
    let intro = "A sender is named from one of these sources (JSON: by.source):";
    section("SENDERS", intro, sources)
}

/// A man page section listing names in bold, each with its meaning.
fn section<'a>(
    title: &str,
    intro: &str,
    items: impl Iterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut roff = format!(".SH {title}\n{intro}\n");
    for (name, meaning) in items {
        roff.push_str(&format!(".TP\n\\fB{name}\\fR\n{meaning}\n"));
    }
    roff
}

/// Bash splits `-e trace=kill,tg` at `=` (COMP_WORDBREAKS) and clap's script completes whole
/// words: this wrapper completes the value after `=` and after the last comma, then hands
/// everything else to clap's function.
fn bash_values(cmd: &clap::Command) -> String {
    with_valued(include_str!("generate.bash"), cmd)
        .replace("@TRACE@", &trace_values().join(" "))
        .replace("@SIGNAL@", &signal_values().join(" "))
}

/// A script with the options that take a value filled in (they tell COMMAND's first word from
/// an option's value): `@SHORT@` their letters, `@LONG@` their names joined with `|`.
fn with_valued(script: &str, cmd: &clap::Command) -> String {
    let valued: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && a.get_action().takes_values())
        .collect();
    let short: String = valued.iter().filter_map(|a| a.get_short()).collect();
    let long: Vec<&str> = valued.iter().filter_map(|a| a.get_long()).collect();
    script
        .replace("@SHORT@", &short)
        .replace("@LONG@", &long.join("|"))
}

/// clap's zsh script with COMMAND completed after `--` too, and pids with their names after
/// -p (clap's offers nothing there).
fn zsh(script: String) -> String {
    let extra = include_str!("generate.zsh");
    let (head, tail) = extra
        .split_once("# sigtrace: inserted before the script's last lines.\n")
        .expect("two parts");
    let head = head.trim_start_matches("# sigtrace: inserted at the start of _sigtrace.\n");
    let last = "if [ \"$funcstack[1]\" = \"_sigtrace\" ]; then";
    script
        .replacen("_sigtrace() {\n", &format!("_sigtrace() {{\n{head}"), 1)
        .replace("]:PID:' \\", "]:PID:_sigtrace_pids' \\")
        .replacen(last, &format!("{tail}\n{last}"), 1)
}
