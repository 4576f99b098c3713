//! The syscall table, a leaf: each x86_64 syscall's number, name, the classes strace puts it in, and the kinds of its arguments.

mod numbers;

use numbers::SYSCALLS_X86_64;

fn syscall_entry(nr: u32) -> Option<&'static (u32, &'static str, u8)> {
    let t = SYSCALLS_X86_64;
    t.binary_search_by_key(&nr, |&(n, _, _)| n)
        .ok()
        .map(|i| &t[i])
}

/// The x86_64 syscall's name.
pub fn syscall_name(nr: u32) -> Option<&'static str> {
    syscall_entry(nr).map(|e| e.1)
}

/// How many arguments the x86_64 syscall takes.
pub fn syscall_nargs(nr: u32) -> usize {
    syscall_entry(nr).map_or(6, |e| e.2 as usize)
}

/// Every x86_64 syscall's name, by number.
pub fn names() -> impl Iterator<Item = &'static str> {
    SYSCALLS_X86_64.iter().map(|e| e.1)
}

pub fn syscall_nr(name: &str) -> Option<u32> {
    SYSCALLS_X86_64.iter().find(|e| e.1 == name).map(|e| e.0)
}

/// strace's default string limit (-s 32), which also caps how many argv entries are shown.
pub const MAX_STRLEN: usize = 32;

/// Syscall numbers below this are tracked (x86_64's highest is in the 400s).
pub const MAX_NR: u32 = 512;

/// The classes strace puts a syscall in (`-e trace=%signal`), as bits.
pub mod class {
    /// strace's %signal on x86_64.
    pub const SIGNAL: u8 = 1;
    /// strace's %process on x86_64.
    pub const PROCESS: u8 = 2;
    /// Added to %signal by default: how processes end, exec, and who is in which group or
    /// session.
    pub const DEFAULT: u8 = 4;
}

/// A set of syscall numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyscallSet([u64; (MAX_NR / 64) as usize]);

impl SyscallSet {
    pub const NONE: SyscallSet = SyscallSet([0; (MAX_NR / 64) as usize]);

    pub fn all() -> SyscallSet {
        let mut s = SyscallSet::NONE;
        for &(nr, _, _) in SYSCALLS_X86_64 {
            s.insert(nr);
        }
        s
    }

    pub fn default_set() -> SyscallSet {
        SyscallSet::class(class::SIGNAL | class::DEFAULT)
    }

    /// Every syscall in any of these classes.
    pub fn class(bits: u8) -> SyscallSet {
        let mut s = SyscallSet::NONE;
        for spec in SPECS.iter().filter(|s| s.class & bits != 0) {
            s.insert(spec.nr);
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

/// How one argument is shown: a value in its register, or what it points to, which the tracer
/// reads while the task is stopped (one Mem slot each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Value(Value),
    Memory(Memory),
}

/// An argument shown from its register alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// A signal number: name or number.
    Sig,
    /// An int, signed (exit codes, pids that may be groups).
    Int,
    /// A process or thread id, signed (-1 and -PGRP are no pid): followed by its `<comm>` with -Y.
    Pid,
    /// An unsigned long (sizes).
    ULong,
    /// An unsigned int in hex (%#x).
    XU32,
    /// SIG_BLOCK / SIG_UNBLOCK / SIG_SETMASK.
    How,
    /// A file descriptor, or AT_FDCWD for a directory descriptor.
    Fd,
    DirFd,
    SfdFlags,
    AtFlags,
    UringFlags,
    /// WNOHANG|WEXITED|... (wait4, waitid).
    WaitOptions,
    /// waitid's P_ALL / P_PID / P_PGID / P_PIDFD.
    IdType,
    /// clone's `child_stack=...`.
    CloneStack,
    /// clone's `flags=CLONE_...|SIGCHLD` (the low byte is the exit signal).
    CloneFlags,
    /// Raw value in hex (undecoded syscalls).
    Hex,
}

/// An argument shown from the tracee memory it points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
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
    Path,
    Argv,
    /// envp: its address and `/* N vars */`.
    EnvCount,
    /// wait4's `int *wstatus`, read when the call returned a pid: `[{WIFEXITED(s) && ...}]`.
    WaitStatus,
    /// wait4's `struct rusage *`, read when the call returned a pid.
    WaitRusage,
    /// waitid's `struct rusage *`, read when the call succeeded.
    Rusage,
    /// clone's exit-time arguments, each shown only when a flag says it is used:
    /// `parent_tid=[N]` (argument 2, read), `tls=` (4), `child_tidptr=` (3).
    CloneTail,
    /// clone3's struct clone_args at entry (its size is argument 1), and the size when nothing
    /// is left for the exit.
    Clone3Args,
    /// clone3 at exit: ` => {pidfd=[N], parent_tid=[N]}` as its flags say, and the size.
    Clone3Tail,
}

impl Kind {
    /// Whether the tracer must read tracee memory for this argument (one Mem slot each).
    pub fn reads_memory(self) -> bool {
        matches!(self, Kind::Memory(_))
    }
}

/// How the return value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Int,
    /// A pid (fork, clone, wait4): followed by its `<comm>` with -Y.
    Pid,
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

/// Argument `idx`, shown from its register.
const fn a(idx: u8, kind: Value) -> Arg {
    Arg {
        idx,
        kind: Kind::Value(kind),
    }
}

/// Argument `idx`, shown from what it points to.
const fn m(idx: u8, kind: Memory) -> Arg {
    Arg {
        idx,
        kind: Kind::Memory(kind),
    }
}

/// A decoder, keyed by the syscall's number in the generated table.
const fn def(
    name: &'static str,
    class: u8,
    entry: &'static [Arg],
    exit: &'static [Arg],
    ret: Ret,
) -> Spec {
    Spec {
        nr: nr_of(name),
        name,
        class,
        sends: None,
        entry,
        exit,
        ret,
    }
}

impl Spec {
    /// A kill-family call: its signal is argument `sig`, its target argument `target`.
    const fn sending(self, sig: u8, target: Option<u8>) -> Spec {
        Spec {
            sends: Some(Sends { sig, target }),
            ..self
        }
    }
}

/// Which arguments of a kill-family call name the signal and its target (None: a pidfd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sends {
    pub sig: u8,
    pub target: Option<u8>,
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub nr: u32,
    pub name: &'static str,
    /// The `class` bits.
    pub class: u8,
    /// For kill-family calls: where the signal and the target are.
    pub sends: Option<Sends>,
    /// Arguments printed at syscall entry.
    pub entry: &'static [Arg],
    /// Arguments printed at syscall exit (after the call filled them in).
    pub exit: &'static [Arg],
    pub ret: Ret,
}

use Memory::*;
use Value::*;

const SET3: Memory = SigSet { size: 3, min: 8 };

/// The table, keyed by number (each found by name in the generated table): how strace decodes
/// each syscall sigtrace decodes, its classes, and where a kill-family call names its signal.
static SPECS: &[Spec] = &[
    def(
        "rt_sigaction",
        class::SIGNAL,
        &[a(0, Sig), m(1, SigAction)],
        &[m(2, SigAction), a(3, ULong)],
        Ret::Int,
    ),
    def(
        "rt_sigprocmask",
        class::SIGNAL,
        &[a(0, How), m(1, SET3)],
        &[m(2, SET3), a(3, ULong)],
        Ret::Int,
    ),
    def(
        "rt_sigreturn",
        class::SIGNAL,
        &[m(0, FrameMask)],
        &[],
        Ret::Int,
    ),
    def("pause", class::SIGNAL, &[], &[], Ret::Int),
    def(
        "kill",
        class::SIGNAL | class::PROCESS,
        &[a(0, Pid), a(1, Sig)],
        &[],
        Ret::Int,
    )
    .sending(1, Some(0)),
    def(
        "tkill",
        class::SIGNAL | class::PROCESS,
        &[a(0, Pid), a(1, Sig)],
        &[],
        Ret::Int,
    )
    .sending(1, Some(0)),
    def(
        "tgkill",
        class::SIGNAL | class::PROCESS,
        &[a(0, Pid), a(1, Pid), a(2, Sig)],
        &[],
        Ret::Int,
    )
    .sending(2, Some(0)),
    def(
        "rt_sigpending",
        class::SIGNAL,
        &[],
        &[m(0, SigSet { size: 1, min: 1 }), a(1, ULong)],
        Ret::Int,
    ),
    def(
        "rt_sigtimedwait",
        class::SIGNAL,
        &[m(0, SET3)],
        &[m(1, SigInfo), m(2, Timespec), a(3, ULong)],
        Ret::Signal,
    ),
    def(
        "rt_sigqueueinfo",
        class::SIGNAL | class::PROCESS,
        &[a(0, Pid), a(1, Sig), m(2, SigInfo)],
        &[],
        Ret::Int,
    )
    .sending(1, Some(0)),
    def(
        "rt_tgsigqueueinfo",
        class::SIGNAL | class::PROCESS,
        &[a(0, Pid), a(1, Pid), a(2, Sig), m(3, SigInfo)],
        &[],
        Ret::Int,
    )
    .sending(2, Some(0)),
    def(
        "rt_sigsuspend",
        class::SIGNAL,
        &[m(0, SigSet { size: 1, min: 8 }), a(1, ULong)],
        &[],
        Ret::Int,
    ),
    def(
        "sigaltstack",
        class::SIGNAL,
        &[m(0, StackT)],
        &[m(1, StackT)],
        Ret::Int,
    ),
    def(
        "signalfd",
        class::SIGNAL,
        &[a(0, Fd), m(1, SigSet { size: 2, min: 8 }), a(2, ULong)],
        &[],
        Ret::Int,
    ),
    def(
        "signalfd4",
        class::SIGNAL,
        &[
            a(0, Fd),
            m(1, SigSet { size: 2, min: 8 }),
            a(2, ULong),
            a(3, SfdFlags),
        ],
        &[],
        Ret::Int,
    ),
    def(
        "pidfd_send_signal",
        class::SIGNAL | class::PROCESS,
        &[a(0, Fd), a(1, Sig), m(2, SigInfo), a(3, XU32)],
        &[],
        Ret::Int,
    )
    .sending(1, None),
    def(
        "io_uring_enter",
        class::SIGNAL,
        &[
            a(0, Fd),
            a(1, ULong),
            a(2, ULong),
            a(3, UringFlags),
            m(4, SigSet { size: 5, min: 8 }),
            a(5, ULong),
        ],
        &[],
        Ret::Int,
    ),
    def(
        "exit",
        class::PROCESS | class::DEFAULT,
        &[a(0, Int)],
        &[],
        Ret::Never,
    ),
    def(
        "exit_group",
        class::PROCESS | class::DEFAULT,
        &[a(0, Int)],
        &[],
        Ret::Never,
    ),
    def(
        "execve",
        class::PROCESS | class::DEFAULT,
        &[m(0, Path), m(1, Argv), m(2, EnvCount)],
        &[],
        Ret::Int,
    ),
    def(
        "execveat",
        class::PROCESS | class::DEFAULT,
        &[
            a(0, DirFd),
            m(1, Path),
            m(2, Argv),
            m(3, EnvCount),
            a(4, AtFlags),
        ],
        &[],
        Ret::Int,
    ),
    def("setsid", class::DEFAULT, &[], &[], Ret::Int),
    def(
        "setpgid",
        class::DEFAULT,
        &[a(0, Int), a(1, Int)],
        &[],
        Ret::Int,
    ),
    def(
        "clone",
        class::PROCESS,
        &[a(1, CloneStack), a(0, CloneFlags)],
        &[m(2, CloneTail)],
        Ret::Pid,
    ),
    def(
        "clone3",
        class::PROCESS,
        &[m(0, Clone3Args)],
        &[m(0, Clone3Tail)],
        Ret::Pid,
    ),
    def(
        "wait4",
        class::PROCESS,
        &[a(0, Pid)],
        &[m(1, WaitStatus), a(2, WaitOptions), m(3, WaitRusage)],
        Ret::Pid,
    ),
    def(
        "waitid",
        class::PROCESS,
        &[a(0, IdType), a(1, Int)],
        &[m(2, SigInfo), a(3, WaitOptions), m(4, Rusage)],
        Ret::Int,
    ),
    def("fork", class::PROCESS, &[], &[], Ret::Pid),
    def("vfork", class::PROCESS, &[], &[], Ret::Pid),
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
    SPECS.iter().find(|s| s.nr == nr).copied().unwrap_or(Spec {
        nr,
        name: syscall_name(nr).unwrap_or("syscall_unknown"),
        class: 0,
        sends: None,
        entry: &HEX_ARGS[..syscall_nargs(nr)],
        exit: &[],
        ret: Ret::Int,
    })
}

/// x86_64's execve and execveat.
pub const NR_EXECVE: u32 = nr_of("execve");
pub const NR_EXECVEAT: u32 = nr_of("execveat");
/// x86_64's exit and exit_group: a self-exit's stack is theirs.
pub const NR_EXIT: u32 = nr_of("exit");
pub const NR_EXIT_GROUP: u32 = nr_of("exit_group");
/// x86_64's rt_sigreturn, whose return value is in the signal frame.
pub const NR_RT_SIGRETURN: u32 = nr_of("rt_sigreturn");
/// x86_64's rt_sigaction, which sigtrace always follows to know what each signal will do.
pub const NR_RT_SIGACTION: u32 = nr_of("rt_sigaction");
/// x86_64's kill, whose pid argument may name a process group (0, -1, -PGRP).
pub const NR_KILL: u32 = nr_of("kill");
/// x86_64's setsid and setpgid, which move a process to another session or group.
pub const NR_SETSID: u32 = nr_of("setsid");
pub const NR_SETPGID: u32 = nr_of("setpgid");
/// x86_64's calls that take a blocked signal instead of its delivery: rt_sigtimedwait, a read
/// of a descriptor made by signalfd or signalfd4.
pub const NR_RT_SIGTIMEDWAIT: u32 = nr_of("rt_sigtimedwait");
pub const NR_READ: u32 = nr_of("read");
pub const NR_SIGNALFD: u32 = nr_of("signalfd");
pub const NR_SIGNALFD4: u32 = nr_of("signalfd4");
/// x86_64's setrlimit and prlimit64, which change the limits whose end the kernel signals.
pub const NR_SETRLIMIT: u32 = nr_of("setrlimit");
pub const NR_PRLIMIT64: u32 = nr_of("prlimit64");
/// x86_64's clone and clone3, whose CLONE_UNTRACED sigtrace's seccomp filter cannot allow.
pub const NR_CLONE: u32 = nr_of("clone");
pub const NR_CLONE3: u32 = nr_of("clone3");

/// A syscall's number, found in the generated table at compile time.
const fn nr_of(name: &str) -> u32 {
    let table = SYSCALLS_X86_64;
    let mut i = 0;
    while i < table.len() {
        if same(table[i].1.as_bytes(), name.as_bytes()) {
            return table[i].0;
        }
        i += 1;
    }
    panic!("not an x86_64 syscall")
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
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
            assert_eq!(syscall_nr(s.name), Some(s.nr), "{}", s.name);
        }
        assert_eq!((NR_EXECVE, NR_RT_SIGACTION), (59, 13));
    }

    #[test]
    fn lookups() {
        assert_eq!(syscall_name(39), Some("getpid"));
        assert_eq!(syscall_name(13), Some("rt_sigaction"));
        assert_eq!(syscall_nr("kill"), Some(62));
        assert_eq!(syscall_nargs(62), 2);
    }
}
