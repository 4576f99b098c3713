//! clone3's struct clone_args from its raw bytes, and what clone and clone3 leave for the parent.

use super::u64_at;

pub const CLONE_PIDFD: u64 = libc::CLONE_PIDFD as u64;
pub const CLONE_PARENT: u64 = libc::CLONE_PARENT as u64;
pub const CLONE_THREAD: u64 = libc::CLONE_THREAD as u64;
pub const CLONE_NEWPID: u64 = libc::CLONE_NEWPID as u64;
pub const CLONE_SETTLS: u64 = libc::CLONE_SETTLS as u64;
pub const CLONE_UNTRACED: u64 = libc::CLONE_UNTRACED as u64;
pub const CLONE_PARENT_SETTID: u64 = libc::CLONE_PARENT_SETTID as u64;
pub const CLONE_CHILD_CLEARTID: u64 = libc::CLONE_CHILD_CLEARTID as u64;
pub const CLONE_CHILD_SETTID: u64 = libc::CLONE_CHILD_SETTID as u64;
/// libc's CLONE_INTO_CGROUP overflows its c_int.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// clone flags that make its exit-time arguments meaningful.
pub const CLONE_TAIL_FLAGS: u64 =
    CLONE_PIDFD | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID;
/// struct clone_args: the size strace reads, and the least it shows (up to `tls`).
pub const CLONE_ARGS_SIZE: u64 = 88;
pub const CLONE_ARGS_MIN: u64 = 64;
/// The most set_tid entries the kernel takes (one per nested pid namespace).
pub const MAX_SET_TID: u64 = 32;

/// struct clone_args, as much of it as was read (fields past that are 0, as strace has them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    /// Only when the struct read reaches past 80 bytes.
    pub cgroup: Option<u64>,
}

impl CloneArgs {
    pub fn from_bytes(b: &[u8]) -> CloneArgs {
        let f = |at| u64_at(b, at);
        CloneArgs {
            flags: f(0),
            pidfd: f(8),
            child_tid: f(16),
            parent_tid: f(24),
            exit_signal: f(32),
            stack: f(40),
            stack_size: f(48),
            tls: f(56),
            set_tid: f(64),
            set_tid_size: f(72),
            cgroup: (b.len() > 80).then(|| f(80)),
        }
    }

    /// Whether its set_tid array is one strace would show (and so one the tracer reads).
    pub fn shows_set_tid(&self) -> bool {
        self.set_tid != 0 && (1..=MAX_SET_TID).contains(&self.set_tid_size)
    }
}

/// clone3 at entry: clone_args, and its set_tid array when that was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clone3 {
    pub args: CloneArgs,
    pub set_tid: Option<Vec<i32>>,
}

/// clone3 at exit: clone_args again, whether the call failed, and the ints the kernel
/// stored for the parent (None: not read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clone3Exit {
    pub args: CloneArgs,
    pub failed: bool,
    pub pidfd: Option<i32>,
    pub parent_tid: Option<i32>,
}

/// ints from their raw bytes (a set_tid array).
pub fn ints(b: &[u8]) -> Vec<i32> {
    b.chunks_exact(4)
        .map(|c| i32::from_ne_bytes(c.try_into().expect("4 bytes")))
        .collect()
}
