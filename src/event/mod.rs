//! The owned data every room shares, no I/O: the events the tracer hands to the renderer, and the stamps, senders, contexts, kernel records, stacks and syscalls they carry.

mod context;
mod kernel;
pub mod reason;
mod sender;
mod stack;
mod stamp;
mod syscall;

pub use context::{ARGV_MAX, Context};
pub use kernel::{Handler, KernelSignal, Off, Record, SignalResult};
pub use sender::{Exited, Sender};
pub use stack::{Frame, Stack};
pub use stamp::{Clock, Stamp};
pub use syscall::{ArgStr, ArgvEnd, Mem, Syscall};

use crate::decode::siginfo::SigInfo;
use crate::signal::Signal;
use reason::KernelReason;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Event {
    pub time: Stamp,
    /// Thread group id.
    pub pid: i32,
    pub tid: i32,
    /// How many tasks were traced when this happened (strace prefixes lines with the pid when >1).
    pub ntasks: usize,
    pub kind: EventKind,
    /// With -k: the task's stack at a signal's delivery, at a syscall's entry (the exit and
    /// no-return events carry the entry's stack, printed after the completed line).
    pub stack: Option<Stack>,
    /// With -Y / --decode-pids: what follows each pid the line shows, read while stopped.
    pub names: Option<Box<PidNames>>,
}

/// -Y / --decode-pids=comm|pidns: the words strace writes after a pid (`<comm>`, ` /* N in
/// strace's PID NS */`), for the task itself (its line's prefix) and for the pids in its line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PidNames {
    pub own: Option<Box<str>>,
    pub pids: Vec<(i64, Box<str>)>,
}

impl PidNames {
    /// What follows `pid` where the line shows it ("" when nothing).
    pub fn of(&self, pid: i64) -> &str {
        self.pids
            .iter()
            .find(|(p, _)| *p == pid)
            .map_or("", |(_, s)| s)
    }
}

/// What a run's sources could not keep (a full buffer), said at its end: never a silent gap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Losses {
    /// Records of the kernel's record (its per-CPU rings were full).
    pub records: u64,
    /// Messages of the proc connector (forks, execs, ends; the record mode's).
    pub messages: u64,
}

impl Losses {
    pub fn any(&self) -> bool {
        self.records > 0 || self.messages > 0
    }
}

#[derive(Debug, Clone)]
pub enum EventKind {
    /// A signal is being delivered (signal-delivery-stop): who sent it, and what it will do.
    Signal {
        info: SigInfo,
        from: Origin,
        disposition: Disposition,
        /// What in the kernel sent it or drops it, when the kernel did.
        reason: Option<KernelReason>,
    },
    /// The task entered a group-stop.
    Stopped(Signal),
    /// The task exited; for a thread group leader, the process's name then, and the signal
    /// whose handler made the exit call (before the handler's rt_sigreturn).
    Exited {
        code: i32,
        comm: Option<Arc<[u8]>>,
        in_handler: Option<Signal>,
    },
    Killed {
        sig: Signal,
        core: bool,
        comm: Option<Arc<[u8]>>,
        /// For SIGKILL: what the out-of-memory evidence says.
        oom: Option<Oom>,
        /// For SIGKILL: a resource limit it reached (the CPU time it used at its end).
        reason: Option<KernelReason>,
    },
    /// Once per process, at launch, attach or fork: where it sits among processes.
    Context(Arc<Context>),
    /// An execve in thread `old_tid` replaced the whole thread group; the thread now has `tid`.
    Superseded { old_tid: i32 },
    /// A traced syscall began: its arguments and what they point to, read at entry.
    SyscallEntry(Syscall),
    /// It returned; `call.mem` holds what the exit-time arguments point to, `entry` is the
    /// entry as it was shown.
    SyscallExit {
        entry: Box<Syscall>,
        call: Syscall,
        ret: i64,
        is_error: bool,
    },
    /// The task ended inside the syscall (exit, exit_group, or killed): `= ?`.
    SyscallNoReturn { entry: Box<Syscall> },
    /// sigtrace let the task go inside syscall `nr` (-b execve): ` <detached ...>`.
    LetGo { nr: u32 },
    /// Chatter, shown on stderr unless -q.
    Note(Note),
    /// The kernel's record of a signal generated for this process (or an OOM kill): for the
    /// verdict only, nothing is printed for it.
    Kernel(Record),
    /// Once, at the start, when the kernel's record is not read: why (pid and tid are 0).
    KernelOff(Off),
    /// A signal sent to sigtrace in launch mode, and whether sigtrace passed it on to the
    /// command (`Ok`) or not (`Err(why)`).
    Relayed {
        sig: Signal,
        from: Origin,
        passed: Result<(), &'static str>,
    },
    /// The last event of a run, for the main process (the command, or the first attached):
    /// sigtrace's exit status (N, 128+S after S killed the command, 0 after a detach) and how
    /// many processes were traced; why the command could not run, if it could not.
    End {
        status: i32,
        processes: usize,
        error: Option<String>,
        lost: Losses,
    },
    /// A kill-family call a traced task is making, with what it targets, read at its entry
    /// (a SIGKILL to oneself never returns).
    SignalSent {
        sig: Signal,
        target: Target,
        sender: Arc<Sender>,
        call: Syscall,
    },
}

/// Who sent a signal, as far as the kernel tells (si_pid for SI_USER, SI_QUEUE, SI_TKILL, CLD_*).
#[derive(Debug, Clone)]
pub enum Origin {
    /// The si_code says no process sent it (kernel, terminal, fault, timer).
    NoSender,
    /// A process, alive or ended (`Sender::exited`; `Sender::unread` when nothing but the
    /// siginfo's pid and uid is known).
    Process(Arc<Sender>),
    /// si_pid is 0: the sender is outside the receiver's pid namespace (an ancestor namespace).
    OtherNamespace { uid: u32 },
    /// si_pid is a pid in the receiver's pid namespace that maps to no process sigtrace sees.
    Untranslated { pid: i32, uid: u32 },
    /// sigtrace sent it, passing on a signal that this process sent to sigtrace.
    PassedOn(Arc<Sender>),
}

impl Origin {
    /// The process named, when /proc could be read for it.
    pub fn process(&self) -> Option<&Arc<Sender>> {
        match self {
            Origin::Process(s) | Origin::PassedOn(s) => Some(s),
            _ => None,
        }
    }

    /// The sender's pid in sigtrace's namespace, when known.
    pub fn pid(&self) -> Option<i32> {
        match self {
            Origin::Process(s) | Origin::PassedOn(s) => Some(s.pid),
            _ => None,
        }
    }
}

/// How the sender of a signal was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The siginfo's si_pid and si_uid.
    Siginfo,
    /// A kill-family call a traced process made (SIGKILL's siginfo is never seen).
    TracedCall,
    /// The signal reached the command through sigtrace, which names who sent it to sigtrace.
    PassedOn,
    /// The kernel's record of the signal's generation (the signal_generate tracepoint).
    KernelRecord,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Siginfo,
        Source::TracedCall,
        Source::KernelRecord,
        Source::PassedOn,
    ];

    /// How a sender is known this way, in words (the man page).
    pub fn meaning(self) -> &'static str {
        match self {
            Source::Siginfo => {
                "the delivered signal's siginfo: si_pid (translated from the receiver's pid namespace) and si_uid, the sender's /proc read at the delivery stop"
            }
            Source::TracedCall => {
                "a kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo or pidfd_send_signal call a traced process made, matched to the delivery by target, signal and time (how a SIGKILL's sender is known: ptrace never sees its siginfo)"
            }
            Source::KernelRecord => {
                "the kernel's record of the signal's generation (the signal:signal_generate tracepoint, as root or with CAP_PERFMON): any sender, traced or not, in any pid namespace, and what became of the signal"
            }
            Source::PassedOn => {
                "the signal was sent to sigtrace, which passed it on to the command: the sender is who sent it to sigtrace"
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Siginfo => "siginfo",
            Source::TracedCall => "traced-call",
            Source::PassedOn => "passed-on",
            Source::KernelRecord => "kernel-record",
        }
    }
}

/// Whom a kill-family call aims at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One process (kill, rt_sigqueueinfo) or one of its threads (tkill, tgkill).
    Pid(i32),
    /// A process group (kill(-pgrp), or kill(0) with the sender's group at that moment).
    Group(i32),
    /// kill(-1): every process the sender may signal but itself.
    All,
    /// A pidfd whose process was not read.
    Unknown,
}

/// What the signal does at delivery, from SigIgn/SigCgt kept current by traced rt_sigaction calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Default,
    /// Ignored; `since_exec` when it was already ignored when the program was exec'd
    /// (ignored dispositions survive exec, as a non-interactive shell's background jobs show).
    Ignored {
        since_exec: bool,
    },
    Caught,
    /// Blocked, and accepted by a call instead of delivered: the signal's effect is the
    /// program's to decide.
    Taken(Taker),
}

/// The call that accepted a blocked signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taker {
    /// rt_sigtimedwait (sigwaitinfo, sigtimedwait, sigwait).
    Sigtimedwait,
    /// A read of a signalfd.
    Signalfd,
    /// One of the two, not told apart (the record mode sees no syscall).
    Either,
}

impl Taker {
    pub fn call(self) -> &'static str {
        match self {
            Taker::Sigtimedwait => "rt_sigtimedwait",
            Taker::Signalfd => "a signalfd read",
            Taker::Either => "rt_sigtimedwait or a signalfd read",
        }
    }
}

/// Evidence about the out-of-memory killer, read when a process died of SIGKILL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oom {
    /// The memory cgroup's oom_kill count rose while the process was traced (file, before, after).
    pub cgroup: Option<(String, u64, u64)>,
    /// The kernel log says "Killed process PID" (None: unreadable).
    pub kmsg: Option<bool>,
}

impl Oom {
    pub fn is_oom(&self) -> bool {
        self.kmsg == Some(true) || self.cgroup.as_ref().is_some_and(|(_, a, b)| b > a)
    }
}

#[derive(Debug, Clone)]
pub enum Note {
    /// `-p`: the process and how many threads.
    Attached {
        threads: usize,
    },
    /// A new task followed (clone, fork, vfork) with -f.
    ChildAttached,
    /// Attach mode: sigtrace got `sig` from `from` and lets go of every process.
    Detaching {
        sig: crate::signal::Signal,
        from: Origin,
    },
    Detached,
}
