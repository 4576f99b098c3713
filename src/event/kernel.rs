//! The kernel's records of signals and OOM kills, as the kernel room hands them over, and why there are none.

use super::{Sender, Stamp};
use std::sync::Arc;

/// A signal the kernel generated for a traced process.
#[derive(Debug, Clone)]
pub struct KernelSignal {
    pub time: Stamp,
    /// The task that was running when the signal was generated (the sender, for a signal a
    /// process sent; see `sender`).
    pub sender_pid: i32,
    pub sender_tid: i32,
    /// The sender as the process table knew it when the record was read: None when the
    /// si_code says no process sent it, when the sender is traced (the tracer knows it) or
    /// sigtrace (passing a signal on), or when nothing knew it.
    pub sender: Option<Arc<Sender>>,
    /// The sender is a traced process.
    pub sender_traced: bool,
    /// The target's thread group, and its thread for a thread-directed signal.
    pub target_pid: i32,
    pub target_tid: Option<i32>,
    pub sig: i32,
    pub code: i32,
    pub group: bool,
    pub result: SignalResult,
    /// For an ignored one: the target was pid 1 of a pid namespace below sigtrace's, as /proc
    /// said when the record was read (the kernel discards what such a process has no handler
    /// for).
    pub target_ns_init: bool,
}

/// One record of the kernel's.
#[derive(Debug, Clone)]
pub enum Record {
    Signal(KernelSignal),
    /// The OOM killer chose this traced process.
    OomVictim {
        time: Stamp,
        pid: i32,
    },
    /// A signal delivered to a thread of process `pid`, to what its disposition was then
    /// (record mode only: under ptrace the delivery stop shows it).
    Delivered {
        time: Stamp,
        pid: i32,
        tid: i32,
        sig: i32,
        handler: Handler,
    },
    /// The ring buffer overflowed: this many records were lost.
    Lost(u64),
}

/// The disposition a signal met at delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    Default,
    Ignored,
    Caught,
}

impl Handler {
    /// From a sa_handler value: SIG_DFL (0), SIG_IGN (1), or a function.
    pub fn from_raw(h: u64) -> Handler {
        match h {
            0 => Handler::Default,
            1 => Handler::Ignored,
            _ => Handler::Caught,
        }
    }
}

impl Record {
    /// The traced process (and thread) it is about; (0, 0) for a count of lost records.
    pub fn target(&self) -> (i32, i32) {
        match self {
            Record::Signal(s) => (s.target_pid, s.target_tid.unwrap_or(s.target_pid)),
            Record::OomVictim { pid, .. } => (*pid, *pid),
            Record::Delivered { pid, tid, .. } => (*pid, *tid),
            Record::Lost(_) => (0, 0),
        }
    }

    pub fn time(&self) -> Stamp {
        match self {
            Record::Signal(s) => s.time,
            Record::OomVictim { time, .. } | Record::Delivered { time, .. } => *time,
            Record::Lost(_) => Stamp::now(),
        }
    }
}

/// Why the kernel's record is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Off {
    /// `--no-kernel-record`.
    Disabled,
    /// Not root, and neither CAP_PERFMON nor CAP_SYS_ADMIN.
    NotPermitted,
    /// Permitted, but the kernel or the container would not give it (the reason).
    Unavailable(String),
}

impl Off {
    /// What would turn it on, for a verdict that needed it.
    pub fn hint(&self) -> String {
        match self {
            Off::Disabled => "the kernel's record was turned off (--no-kernel-record)".into(),
            Off::NotPermitted => {
                "the kernel's record of signals would name it: run as root, or grant CAP_PERFMON"
                    .into()
            }
            Off::Unavailable(why) => format!(
                "the kernel's record of signals would name it, but it is unavailable here ({why})"
            ),
        }
    }
}

/// What signal_generate's `result` says happened to the signal (TRACE_SIGNAL_* in the kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalResult {
    Delivered,
    /// The target ignores it: discarded at once.
    Ignored,
    /// A standard signal of that number was already pending: merged into it.
    AlreadyPending,
    /// A real-time signal over RLIMIT_SIGPENDING: not queued.
    QueueOverflow,
    /// Queued without its siginfo (no memory): the receiver sees SI_USER and no sender.
    InfoLost,
    Other(i32),
}

impl SignalResult {
    pub fn from_raw(r: i32) -> SignalResult {
        match r {
            0 => SignalResult::Delivered,
            1 => SignalResult::Ignored,
            2 => SignalResult::AlreadyPending,
            3 => SignalResult::QueueOverflow,
            4 => SignalResult::InfoLost,
            n => SignalResult::Other(n),
        }
    }
}
