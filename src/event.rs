//! The owned events the tracer hands to the renderer: everything gathered while the task was stopped.

use crate::decode::siginfo::SigInfo;
use crate::signal::Signal;
use std::sync::Arc;
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
    /// With -k: the task's stack at a signal's delivery, at a syscall's entry (the exit and
    /// no-return events carry the entry's stack, printed after the completed line).
    pub stack: Option<crate::stack::Stack>,
}

#[derive(Debug, Clone)]
pub enum EventKind {
    /// A signal is being delivered (signal-delivery-stop): who sent it, and what it will do.
    Signal {
        info: SigInfo,
        from: Origin,
        disposition: Disposition,
    },
    /// The task entered a group-stop.
    Stopped(Signal),
    /// The task exited; for a thread group leader, the process's name then.
    Exited { code: i32, comm: Option<Arc<[u8]>> },
    Killed {
        sig: Signal,
        core: bool,
        comm: Option<Arc<[u8]>>,
        /// For SIGKILL: what the out-of-memory evidence says.
        oom: Option<Oom>,
    },
    /// Once per process, at launch, attach or fork: where it sits among processes.
    Context(std::sync::Arc<crate::procfs::Context>),
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
    /// Chatter, shown on stderr unless -q.
    Note(Note),
    /// The kernel's record of a signal generated for this process (or an OOM kill): for the
    /// verdict only, nothing is printed for it.
    Kernel(crate::kernel::Record),
    /// Once, at the start, when the kernel's record is not read: why (pid and tid are 0).
    KernelOff(crate::kernel::Off),
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

/// A process that sent a signal, described once and shown the same way by every output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    pub pid: i32,
    pub uid: Option<u32>,
    pub comm: Vec<u8>,
    /// Its argv joined with spaces, read from /proc while it was alive (empty: not read).
    pub cmdline: Vec<u8>,
    /// The program it exec'd, from the kernel's record (empty: not known).
    pub exe: Vec<u8>,
    /// Parent, grandparent, ... up to pid 1.
    pub ancestry: Vec<(i32, Vec<u8>)>,
    /// It had ended when it was described: named from the kernel's record of it.
    pub exited: Option<Exited>,
}

impl Sender {
    /// A sender known only by its pid and uid (a siginfo's): it had ended before anything
    /// could read it.
    pub fn unread(pid: i32, uid: u32) -> Sender {
        Sender {
            pid,
            uid: Some(uid),
            exited: Some(Exited {
                after_sending: None,
            }),
            ..Sender::default()
        }
    }

    /// Nothing but its pid and uid is known.
    pub fn is_unread(&self) -> bool {
        self.comm.is_empty() && self.cmdline.is_empty()
    }
}

/// A sender that had ended when it was described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exited {
    /// How long after its last signal it ended, when the kernel's record has both.
    pub after_sending: Option<Duration>,
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
pub struct Syscall {
    pub nr: u32,
    pub args: [u64; 6],
    /// Memory behind the pointer arguments of this phase, in the order the decoder lists them.
    pub mem: [Mem; 3],
}

/// Tracee memory read while the task was stopped.
#[derive(Debug, Clone, Default)]
pub enum Mem {
    /// Nothing read: the argument is a value, NULL, or a size rules it out.
    #[default]
    None,
    /// The address could not be read.
    Fault,
    /// A fixed-size object (sigset, sigaction, stack_t, siginfo, timespec).
    Bytes { len: u8, data: [u8; 128] },
    /// A NUL-terminated string: its bytes, and whether the NUL was found within the limit.
    Str(Vec<u8>, bool),
    /// An argv array: its entries, and how it ended.
    Argv(Vec<ArgStr>, ArgvEnd),
    /// envp: how many entries, and whether the array ran into unreadable memory.
    Count(u32, bool),
    /// clone3's struct clone_args at entry, with its set_tid array.
    Clone3(crate::decode::clone::Clone3),
    /// clone3's struct clone_args at exit, with what the kernel stored for the parent.
    Clone3Exit(crate::decode::clone::Clone3Exit),
}

/// One argv entry: its pointer, and its bytes with whether the NUL was seen (None: unreadable).
#[derive(Debug, Clone)]
pub struct ArgStr {
    pub ptr: u64,
    pub text: Option<(Vec<u8>, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgvEnd {
    /// The NULL terminator.
    Null,
    /// More entries than strace shows (`...`).
    More,
    /// The array ran into unreadable memory at this address.
    Fault(u64),
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
