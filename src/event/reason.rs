//! The kernel's reasons for a signal it generated or dropped (DESIGN §1b): one vocabulary, with its figures, read by every output.

use std::time::Duration;

/// What in the kernel sent (or discarded) a signal, established from what was observed.
#[derive(Debug, Clone, PartialEq)]
pub enum KernelReason {
    /// RLIMIT_CPU: SIGKILL at the hard limit, SIGXCPU at the soft one (seconds), after `used`
    /// of CPU time (None: not read).
    RlimitCpu {
        hard: bool,
        limit: u64,
        used: Option<Duration>,
    },
    /// RLIMIT_FSIZE: SIGXFSZ for a write past the limit (bytes).
    RlimitFsize { limit: u64 },
    /// RLIMIT_RTTIME: a real-time task ran this long (µs) without blocking.
    RlimitRttime { hard: bool, limit: u64 },
    /// The out-of-memory killer.
    Oom,
    /// SIGHUP then SIGCONT to a process group with a stopped member that lost its last
    /// parent outside the group in the session; the parent whose exit did it, when known.
    OrphanedPgrp {
        pgrp: i32,
        parent: Option<(i32, Vec<u8>)>,
    },
    /// SIGHUP to the foreground group of a terminal whose session leader ended.
    SessionLeaderExit {
        leader: i32,
        comm: Vec<u8>,
        ended: Option<LeaderEnd>,
    },
    /// The terminal: a hangup, Ctrl-C, Ctrl-backslash, Ctrl-Z.
    Terminal,
    /// SIGPIPE: a write to a pipe or socket with no reader.
    BrokenPipe,
    /// pid 1 of a pid namespace has no handler for it: the kernel discards it after the stop.
    PidnsInitDiscard,
    /// A signal the kernel generated whose reason could not be established: what was checked.
    Unestablished { checked: &'static str },
}

/// How a session leader ended, when sigtrace saw it end.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaderEnd {
    /// The shell-style status (N, or 128+S).
    pub status: i32,
    /// Killed by this signal (None: it exited).
    pub signal: Option<i32>,
    /// Who sent that signal, when named.
    pub by: Option<(i32, Vec<u8>)>,
}

/// Every reason's name and one line of meaning, in the order README and the man page list them.
pub const REASONS: &[(&str, &str)] = &[
    (
        "rlimit-cpu",
        "RLIMIT_CPU (ulimit -t) reached: SIGKILL at the hard limit, SIGXCPU at the soft one",
    ),
    (
        "rlimit-fsize",
        "RLIMIT_FSIZE (ulimit -f) reached: SIGXFSZ for a write past it",
    ),
    (
        "rlimit-rttime",
        "RLIMIT_RTTIME: a real-time task ran too long without blocking",
    ),
    ("oom", "the out-of-memory killer"),
    (
        "orphaned-pgrp",
        "SIGHUP and SIGCONT to a stopped process group that lost its last parent in the session",
    ),
    (
        "session-leader-exit",
        "SIGHUP to a terminal's foreground group when its session leader ended",
    ),
    (
        "terminal",
        "the terminal: a hangup, Ctrl-C, Ctrl-backslash, Ctrl-Z",
    ),
    (
        "broken-pipe",
        "SIGPIPE for a write to a pipe or socket with no reader",
    ),
    (
        "pidns-init-discard",
        "discarded: pid 1 of a pid namespace has no handler for it",
    ),
    (
        "unestablished",
        "a signal the kernel generated whose reason could not be established (says what was checked)",
    ),
];

impl KernelReason {
    pub fn name(&self) -> &'static str {
        let i = match self {
            KernelReason::RlimitCpu { .. } => 0,
            KernelReason::RlimitFsize { .. } => 1,
            KernelReason::RlimitRttime { .. } => 2,
            KernelReason::Oom => 3,
            KernelReason::OrphanedPgrp { .. } => 4,
            KernelReason::SessionLeaderExit { .. } => 5,
            KernelReason::Terminal => 6,
            KernelReason::BrokenPipe => 7,
            KernelReason::PidnsInitDiscard => 8,
            KernelReason::Unestablished { .. } => 9,
        };
        REASONS[i].0
    }
}

/// One resource limit, as /proc/PID/limits gives it (None: unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// The limits whose end the kernel signals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Seconds.
    pub cpu: Limit,
    /// Bytes.
    pub fsize: Limit,
    /// Microseconds.
    pub rttime: Limit,
}

impl Limits {
    /// Parses /proc/PID/limits.
    pub fn parse(text: &str) -> Limits {
        let mut l = Limits::default();
        for line in text.lines() {
            let slot = match line {
                _ if line.starts_with("Max cpu time ") => &mut l.cpu,
                _ if line.starts_with("Max file size ") => &mut l.fsize,
                _ if line.starts_with("Max realtime timeout ") => &mut l.rttime,
                _ => continue,
            };
            // The name is words; the two values follow it, then the unit.
            let words: Vec<&str> = line.split_whitespace().collect();
            let n = words.len();
            if n < 3 {
                continue;
            }
            let value = |w: &str| w.parse::<u64>().ok();
            let (soft, hard) = if words[n - 1].parse::<u64>().is_ok() || words[n - 1] == "unlimited"
            {
                (words[n - 2], words[n - 1])
            } else {
                (words[n - 3], words[n - 2])
            };
            *slot = Limit {
                soft: value(soft),
                hard: value(hard),
            };
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_from_proc() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              1                    2                    seconds   \n\
Max file size             4096                 unlimited            bytes     \n\
Max realtime timeout      unlimited            unlimited            us        \n";
        let l = Limits::parse(text);
        assert_eq!(
            l.cpu,
            Limit {
                soft: Some(1),
                hard: Some(2)
            }
        );
        assert_eq!(
            l.fsize,
            Limit {
                soft: Some(4096),
                hard: None
            }
        );
        assert_eq!(l.rttime, Limit::default());
        assert_eq!(KernelReason::PidnsInitDiscard.name(), "pidns-init-discard");
    }
}
