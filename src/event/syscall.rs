//! A syscall as the tracer read it: its number, registers, and the tracee memory behind its pointers.

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
