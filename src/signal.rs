//! Signal numbers as sigtrace names, parses and selects them (standard and real-time alike).

use std::fmt;

/// A raw signal number; nix's enum cannot hold real-time signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(pub i32);

/// strace's names for 0..=32 (Linux, x86_64 and the generic ABI).
const NAMES: [&str; 33] = [
    "0",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
    "SIGRTMIN",
];
/// The kernel's SIGRTMIN (glibc reserves the first two for itself and calls 34 SIGRTMIN).
pub const RTMIN: i32 = 32;
pub const MAX: i32 = 64;

impl Signal {
    /// strace's name: SIGTERM, SIGRTMIN for 32, SIGRT_2 for 34; None outside 1..=64.
    pub fn name(self) -> Option<SigName> {
        match self.0 {
            1..=RTMIN => Some(SigName::Fixed(NAMES[self.0 as usize])),
            n if n > RTMIN && n <= MAX => Some(SigName::Rt(n - RTMIN)),
            _ => None,
        }
    }

    /// Parses `SIGTERM`, `TERM`, `sigterm`, `15`, `SIGRT_2`, `RTMIN` as strace does.
    pub fn parse(token: &str) -> Option<Signal> {
        if let Ok(n) = token.parse::<i32>() {
            return (1..=MAX).contains(&n).then_some(Signal(n));
        }
        let upper = token.to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        if let Some(rt) = bare.strip_prefix("RT_") {
            let n: i32 = rt
                .parse()
                .ok()
                .filter(|_| rt.bytes().all(|b| b.is_ascii_digit()))?;
            return (1..=MAX - RTMIN).contains(&n).then_some(Signal(RTMIN + n));
        }
        (1..=RTMIN as usize)
            .find(|&i| &NAMES[i][3..] == bare)
            .map(|i| Signal(i as i32))
    }
}

/// signal(7)'s default action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    Term,
    Core,
    Ignore,
    Stop,
    Cont,
}

impl Signal {
    /// What the signal does to a process that neither catches nor ignores it (signal(7));
    /// real-time signals terminate.
    pub fn default_action(self) -> DefaultAction {
        match self.0 {
            libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH => DefaultAction::Ignore,
            libc::SIGCONT => DefaultAction::Cont,
            libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => DefaultAction::Stop,
            libc::SIGQUIT
            | libc::SIGILL
            | libc::SIGABRT
            | libc::SIGFPE
            | libc::SIGSEGV
            | libc::SIGBUS
            | libc::SIGSYS
            | libc::SIGTRAP
            | libc::SIGXCPU
            | libc::SIGXFSZ => DefaultAction::Core,
            _ => DefaultAction::Term,
        }
    }

    /// Whether its purpose is to ask a process to end (DESIGN §1b), so that a handled one
    /// followed by the exit is its cause: TERM, INT, QUIT; HUP (also a reload's: a cause
    /// only with status 129); ABRT (a supervisor's timeout: gunicorn's arbiter aborts a worker);
    /// XCPU (the CPU time limit's warning before its SIGKILL); PWR (power failure: init shuts
    /// down). USR1/2, ALRM, CHLD, WINCH, URG, IO, VTALRM, PROF have other purposes.
    pub fn is_termination_request(self) -> bool {
        matches!(
            self.0,
            libc::SIGTERM
                | libc::SIGINT
                | libc::SIGQUIT
                | libc::SIGHUP
                | libc::SIGABRT
                | libc::SIGXCPU
                | libc::SIGPWR
        )
    }

    /// Its bit in a kernel sigset, SigIgn/SigCgt mask or SignalSet (bit N-1 for signal N);
    /// 0 outside 1..=64.
    pub fn bit(self) -> u64 {
        if (1..=MAX).contains(&self.0) {
            1 << (self.0 - 1)
        } else {
            0
        }
    }
}

/// A signal's name without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigName {
    Fixed(&'static str),
    Rt(i32),
}

impl fmt::Display for SigName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigName::Fixed(s) => f.write_str(s),
            SigName::Rt(n) => write!(f, "SIGRT_{n}"),
        }
    }
}

/// strace's sprintsigname: the name, or the number when it has none.
impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => n.fmt(f),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A set of signals 1..=64, as `-e signal=SET` selects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalSet(u64);

impl SignalSet {
    pub const ALL: SignalSet = SignalSet(u64::MAX);
    pub const NONE: SignalSet = SignalSet(0);

    pub fn contains(self, s: Signal) -> bool {
        self.0 & s.bit() != 0
    }

    pub fn insert(&mut self, s: Signal) {
        self.0 |= s.bit();
    }

    /// Every signal not in the set.
    pub fn complement(self) -> SignalSet {
        SignalSet(!self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_strace() {
        assert_eq!(Signal(15).to_string(), "SIGTERM");
        assert_eq!(Signal(32).to_string(), "SIGRTMIN");
        assert_eq!(Signal(33).to_string(), "SIGRT_1");
        assert_eq!(Signal(34).to_string(), "SIGRT_2");
        assert_eq!(Signal(64).to_string(), "SIGRT_32");
        assert_eq!(Signal(65).to_string(), "65");
        assert_eq!(Signal(0).to_string(), "0");
    }

    #[test]
    fn parse_forms() {
        for t in ["SIGTERM", "TERM", "term", "SigTerm", "15"] {
            assert_eq!(Signal::parse(t), Some(Signal(15)), "{t}");
        }
        assert_eq!(Signal::parse("SIGRT_2"), Some(Signal(34)));
        assert_eq!(Signal::parse("rt_32"), Some(Signal(64)));
        assert_eq!(Signal::parse("RTMIN"), Some(Signal(32)));
        for bad in ["SIGFOO", "0", "65", "RT_0", "RT_33", "RT_+1", "", "SIG"] {
            assert_eq!(Signal::parse(bad), None, "{bad}");
        }
    }
}
