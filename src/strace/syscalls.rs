//! The syscall table: each x86_64 syscall's name, the classes strace puts it in, how its arguments are shown.

use crate::decode::clone::CLONE_TAIL_FLAGS;
use crate::decode::{syscall_name, syscall_nargs, syscall_nr};

/// strace's default string limit (-s 32), which also caps how many argv entries are shown.
pub const MAX_STRLEN: usize = 32;

/// Syscall numbers below this are tracked (x86_64's highest is in the 400s).
pub const MAX_NR: u32 = 512;

/// strace's %signal on x86_64.
pub const SIGNAL_CLASS: &[&str] = &[
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "pause",
    "kill",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_sigsuspend",
    "sigaltstack",
    "tkill",
    "tgkill",
    "signalfd",
    "signalfd4",
    "rt_tgsigqueueinfo",
    "pidfd_send_signal",
    "io_uring_enter",
];
/// strace's %process on x86_64.
pub const PROCESS_CLASS: &[&str] = &[
    "clone",
    "fork",
    "vfork",
    "execve",
    "exit",
    "wait4",
    "kill",
    "rt_sigqueueinfo",
    "tkill",
    "exit_group",
    "tgkill",
    "waitid",
    "rt_tgsigqueueinfo",
    "execveat",
    "pidfd_send_signal",
    "clone3",
];
/// Added to %signal by default: how processes end, exec, and who is in which group or session.
pub const DEFAULT_EXTRA: &[&str] = &[
    "exit",
    "exit_group",
    "execve",
    "execveat",
    "setsid",
    "setpgid",
];

/// A set of syscall numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyscallSet([u64; (MAX_NR / 64) as usize]);

impl SyscallSet {
    pub const NONE: SyscallSet = SyscallSet([0; (MAX_NR / 64) as usize]);

    pub fn all() -> SyscallSet {
        let mut s = SyscallSet::NONE;
        for &(nr, _, _) in crate::decode::tables::SYSCALLS_X86_64 {
            s.insert(nr);
        }
        s
    }

    pub fn default_set() -> SyscallSet {
        let mut s = SyscallSet::NONE;
        for name in SIGNAL_CLASS.iter().chain(DEFAULT_EXTRA) {
            s.insert(syscall_nr(name).expect("known syscall"));
        }
        s
    }

    pub fn contains(&self, nr: u32) -> bool {
        nr < MAX_NR && self.0[(nr / 64) as usize] & (1 << (nr % 64)) != 0
    }

    pub fn insert(&mut self, nr: u32) {
        if nr < MAX_NR {
            self.0[(nr / 64) as usize] |= 1 << (nr % 64);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..MAX_NR).filter(|&n| self.contains(n))
    }

    /// Every known syscall not in the set.
    pub fn complement(self) -> SyscallSet {
        let mut all = SyscallSet::all();
        for (a, w) in all.0.iter_mut().zip(self.0) {
            *a &= !w;
        }
        all
    }
}

/// How one argument is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A signal number: name or number.
    Sig,
    /// An int, signed (pids, exit codes).
    Int,
    /// An unsigned long (sizes).
    ULong,
    /// An unsigned int in hex (%#x).
    XU32,
    /// SIG_BLOCK / SIG_UNBLOCK / SIG_SETMASK.
    How,
    /// A sigset pointer whose byte size is argument `size`; shown only when min <= size <= 8.
    SigSet {
        size: u8,
        min: u8,
    },
    /// rt_sigreturn's `{mask=[...]}`, read from the signal frame on the stack.
    FrameMask,
    SigAction,
    StackT,
    SigInfo,
    Timespec,
    /// A file descriptor, or AT_FDCWD for a directory descriptor.
    Fd,
    DirFd,
    Path,
    Argv,
    /// envp: its address and `/* N vars */`.
    EnvCount,
    SfdFlags,
    AtFlags,
    UringFlags,
    /// wait4's `int *wstatus`, read when the call returned a pid: `[{WIFEXITED(s) && ...}]`.
    WaitStatus,
    /// wait4's `struct rusage *`, read when the call returned a pid.
    WaitRusage,
    /// waitid's `struct rusage *`, read when the call succeeded.
    Rusage,
    /// WNOHANG|WEXITED|... (wait4, waitid).
    WaitOptions,
    /// waitid's P_ALL / P_PID / P_PGID / P_PIDFD.
    IdType,
    /// clone's `child_stack=...`.
    CloneStack,
    /// clone's `flags=CLONE_...|SIGCHLD` (the low byte is the exit signal).
    CloneFlags,
    /// clone's exit-time arguments, each shown only when a flag says it is used:
    /// `parent_tid=[N]` (argument 2, read), `tls=` (4), `child_tidptr=` (3).
    CloneTail,
    /// clone3's struct clone_args at entry (its size is argument 1), and the size when nothing
    /// is left for the exit.
    Clone3Args,
    /// clone3 at exit: ` => {pidfd=[N], parent_tid=[N]}` as its flags say, and the size.
    Clone3Tail,
    /// Raw value in hex (undecoded syscalls).
    Hex,
}

impl Kind {
    /// Whether the tracer must read tracee memory for this argument (one Mem slot each).
    pub fn reads_memory(self) -> bool {
        matches!(
            self,
            SigSet { .. }
                | FrameMask
                | SigAction
                | StackT
                | SigInfo
                | Timespec
                | Path
                | Argv
                | EnvCount
                | WaitStatus
                | WaitRusage
                | Rusage
                | CloneTail
                | Clone3Args
                | Clone3Tail
        )
    }
}

/// How the return value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Int,
    /// A signal number, shown as `10 (SIGUSR1)` (rt_sigtimedwait).
    Signal,
    /// The call does not return (exit, exit_group): `= ?`.
    Never,
}

#[derive(Debug, Clone, Copy)]
pub struct Arg {
    pub idx: u8,
    pub kind: Kind,
}

const fn a(idx: u8, kind: Kind) -> Arg {
    Arg { idx, kind }
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    /// Arguments printed at syscall entry.
    pub entry: &'static [Arg],
    /// Arguments printed at syscall exit (after the call filled them in).
    pub exit: &'static [Arg],
    pub ret: Ret,
}

use Kind::*;

const SET3: Kind = SigSet { size: 3, min: 8 };

/// The decoders, after strace's.
static SPECS: &[Spec] = &[
    Spec {
        name: "rt_sigaction",
        entry: &[a(0, Sig), a(1, SigAction)],
        exit: &[a(2, SigAction), a(3, ULong)],
        ret: Ret::Int,
    },
    Spec {
        name: "rt_sigprocmask",
        entry: &[a(0, How), a(1, SET3)],
        exit: &[a(2, SET3), a(3, ULong)],
        ret: Ret::Int,
    },
    Spec {
        name: "rt_sigreturn",
        entry: &[a(0, FrameMask)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "pause",
        entry: &[],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "kill",
        entry: &[a(0, Int), a(1, Sig)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "tkill",
        entry: &[a(0, Int), a(1, Sig)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "tgkill",
        entry: &[a(0, Int), a(1, Int), a(2, Sig)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "rt_sigpending",
        entry: &[],
        exit: &[a(0, SigSet { size: 1, min: 1 }), a(1, ULong)],
        ret: Ret::Int,
    },
    Spec {
        name: "rt_sigtimedwait",
        entry: &[a(0, SET3)],
        exit: &[a(1, SigInfo), a(2, Timespec), a(3, ULong)],
        ret: Ret::Signal,
    },
    Spec {
        name: "rt_sigqueueinfo",
        entry: &[a(0, Int), a(1, Sig), a(2, SigInfo)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "rt_tgsigqueueinfo",
        entry: &[a(0, Int), a(1, Int), a(2, Sig), a(3, SigInfo)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "rt_sigsuspend",
        entry: &[a(0, SigSet { size: 1, min: 8 }), a(1, ULong)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "sigaltstack",
        entry: &[a(0, StackT)],
        exit: &[a(1, StackT)],
        ret: Ret::Int,
    },
    Spec {
        name: "signalfd",
        entry: &[a(0, Fd), a(1, SigSet { size: 2, min: 8 }), a(2, ULong)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "signalfd4",
        entry: &[
            a(0, Fd),
            a(1, SigSet { size: 2, min: 8 }),
            a(2, ULong),
            a(3, SfdFlags),
        ],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "pidfd_send_signal",
        entry: &[a(0, Fd), a(1, Sig), a(2, SigInfo), a(3, XU32)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "io_uring_enter",
        entry: &[
            a(0, Fd),
            a(1, ULong),
            a(2, ULong),
            a(3, UringFlags),
            a(4, SigSet { size: 5, min: 8 }),
            a(5, ULong),
        ],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "exit",
        entry: &[a(0, Int)],
        exit: &[],
        ret: Ret::Never,
    },
    Spec {
        name: "exit_group",
        entry: &[a(0, Int)],
        exit: &[],
        ret: Ret::Never,
    },
    Spec {
        name: "execve",
        entry: &[a(0, Path), a(1, Argv), a(2, EnvCount)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "execveat",
        entry: &[
            a(0, DirFd),
            a(1, Path),
            a(2, Argv),
            a(3, EnvCount),
            a(4, AtFlags),
        ],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "setsid",
        entry: &[],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "setpgid",
        entry: &[a(0, Int), a(1, Int)],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "clone",
        entry: &[a(1, CloneStack), a(0, CloneFlags)],
        exit: &[a(2, CloneTail)],
        ret: Ret::Int,
    },
    Spec {
        name: "clone3",
        entry: &[a(0, Clone3Args)],
        exit: &[a(0, Clone3Tail)],
        ret: Ret::Int,
    },
    Spec {
        name: "wait4",
        entry: &[a(0, Int)],
        exit: &[a(1, WaitStatus), a(2, WaitOptions), a(3, WaitRusage)],
        ret: Ret::Int,
    },
    Spec {
        name: "waitid",
        entry: &[a(0, IdType), a(1, Int)],
        exit: &[a(2, SigInfo), a(3, WaitOptions), a(4, Rusage)],
        ret: Ret::Int,
    },
    Spec {
        name: "fork",
        entry: &[],
        exit: &[],
        ret: Ret::Int,
    },
    Spec {
        name: "vfork",
        entry: &[],
        exit: &[],
        ret: Ret::Int,
    },
];

const HEX_ARGS: [Arg; 6] = [
    a(0, Hex),
    a(1, Hex),
    a(2, Hex),
    a(3, Hex),
    a(4, Hex),
    a(5, Hex),
];

/// How syscall `nr` is shown: its decoder, or its raw arguments in hex.
pub fn spec(nr: u32) -> Spec {
    let name = syscall_name(nr).unwrap_or("syscall_unknown");
    SPECS
        .iter()
        .find(|s| s.name == name)
        .copied()
        .unwrap_or(Spec {
            name,
            entry: &HEX_ARGS[..syscall_nargs(nr)],
            exit: &[],
            ret: Ret::Int,
        })
}

/// Whether the exit-time part of a call starts with `, ` and shows anything (clone's may show
/// nothing; clone3's brings its own separators).
pub fn exit_shows(spec: &Spec, args: &[u64; 6]) -> bool {
    spec.exit.iter().any(|a| match a.kind {
        CloneTail => args[0] & CLONE_TAIL_FLAGS != 0,
        Clone3Tail => false,
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(spec(13).name, "rt_sigaction");
        assert_eq!(spec(13).exit.len(), 2);
        let raw = spec(39); // getpid: not decoded, no arguments
        assert_eq!((raw.name, raw.entry.len()), ("getpid", 0));
        assert_eq!(spec(0).entry.len(), 3);
        for s in SPECS {
            assert!(syscall_nr(s.name).is_some(), "{}", s.name);
        }
    }
}
