//! The owned events the tracer hands to the renderer: everything gathered while the task was stopped.

use crate::decode::siginfo::SigInfo;
use crate::signal::Signal;
use std::time::{Duration, Instant};

/// When a stop was seen: wall clock (for -t, -tt, -ttt) and monotonic (for -r).
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub wall: Duration,
    pub mono: Instant,
}

impl Stamp {
    pub fn now() -> Stamp {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Stamp {
            wall,
            mono: Instant::now(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub time: Stamp,
    /// Thread group id.
    pub pid: i32,
    pub tid: i32,
    /// How many tasks were traced when this happened (strace prefixes lines with the pid when >1).
    pub ntasks: usize,
    pub kind: EventKind,
}

#[derive(Debug, Clone)]
pub enum EventKind {
    /// A signal is being delivered (signal-delivery-stop).
    Signal(SigInfo),
    /// The task entered a group-stop.
    Stopped(Signal),
    Exited(i32),
    Killed {
        sig: Signal,
        core: bool,
    },
    /// An execve in thread `old_tid` replaced the whole thread group; the thread now has `tid`.
    Superseded {
        old_tid: i32,
    },
    /// Chatter, shown on stderr unless -q.
    Note(Note),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// `-p`: the process and how many threads.
    Attached {
        threads: usize,
    },
    /// A new task followed (clone, fork, vfork) with -f.
    ChildAttached,
    Detached,
}
