//! strace's `-e` set syntax: `-e trace=` syscall sets and `-e signal=` signal sets.

use crate::signal::{Signal, SignalSet};
use crate::syscalls::syscall_nr;
use crate::syscalls::{SyscallSet, class};
use crate::text::escape_input;

/// `!SET`: whether the set is negated, and the list.
fn negated(spec: &str) -> (bool, &str) {
    match spec.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, spec),
    }
}

impl SyscallSet {
    /// strace's syntax: `%signal`, `%process`, syscall names, `all`, `none`, `!` to negate.
    pub fn parse(spec: &str) -> Result<SyscallSet, String> {
        let (negate, list) = negated(spec);
        let mut set = SyscallSet::NONE;
        for token in list.split(',') {
            let class = match token {
                "all" => {
                    set = SyscallSet::all();
                    continue;
                }
                "none" => continue,
                "%signal" | "signal" | "%signals" => class::SIGNAL,
                "%process" | "process" => class::PROCESS,
                "" => {
                    return Err(format!(
                        "invalid syscall set '{}': empty name",
                        escape_input(spec)
                    ));
                }
                _ => {
                    let nr = syscall_nr(token)
                        .ok_or_else(|| format!("invalid system call '{}'", escape_input(token)))?;
                    set.insert(nr);
                    continue;
                }
            };
            for nr in SyscallSet::class(class).iter() {
                set.insert(nr);
            }
        }
        Ok(if negate { set.complement() } else { set })
    }
}

impl SignalSet {
    /// strace's syntax: `all`, `none`, a comma-separated list of names or numbers, `!` to negate.
    pub fn parse(spec: &str) -> Result<SignalSet, String> {
        let (negate, list) = negated(spec);
        let mut set = SignalSet::NONE;
        for token in list.split(',') {
            match token {
                "all" => set = SignalSet::ALL,
                "none" => {}
                "" => {
                    return Err(format!(
                        "invalid signal set '{}': empty name",
                        escape_input(spec)
                    ));
                }
                _ => set.insert(
                    Signal::parse(token)
                        .ok_or_else(|| format!("invalid signal '{}'", escape_input(token)))?,
                ),
            }
        }
        Ok(if negate { set.complement() } else { set })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_parse_like_strace() {
        let d = SyscallSet::default_set();
        assert!(d.contains(13) && d.contains(231) && d.contains(59) && d.contains(112));
        assert!(!d.contains(39));
        let s = SyscallSet::parse("%signal").unwrap();
        assert!(s.contains(13) && !s.contains(231));
        let p = SyscallSet::parse("%process,setsid").unwrap();
        assert!(p.contains(56) && p.contains(112) && !p.contains(13));
        let n = SyscallSet::parse("!kill").unwrap();
        assert!(!n.contains(62) && n.contains(13) && n.contains(0));
        assert!(SyscallSet::parse("none").unwrap().is_empty());
        assert!(
            SyscallSet::parse("kill,bogus_call")
                .unwrap_err()
                .contains("bogus_call")
        );
        assert!(SyscallSet::parse("kill,").is_err());
    }

    #[test]
    fn sets() {
        let s = SignalSet::parse("TERM,SIGINT,10").unwrap();
        assert!(s.contains(Signal(15)) && s.contains(Signal(2)) && s.contains(Signal(10)));
        assert!(!s.contains(Signal(1)));
        let n = SignalSet::parse("!TERM").unwrap();
        assert!(!n.contains(Signal(15)) && n.contains(Signal(1)) && n.contains(Signal(64)));
        assert_eq!(SignalSet::parse("none").unwrap(), SignalSet::NONE);
        assert_eq!(SignalSet::parse("!none").unwrap(), SignalSet::ALL);
        assert!(
            SignalSet::parse("TERM,BOGUS")
                .unwrap_err()
                .contains("BOGUS")
        );
        assert!(SignalSet::parse("TERM,").is_err());
    }
}
