//! Reads the tracee memory a syscall's decoder needs, while the task is stopped.

use crate::decode::clone::{
    CLONE_ARGS_MIN, CLONE_ARGS_SIZE, CLONE_PARENT_SETTID, CLONE_PIDFD, Clone3, Clone3Exit,
    CloneArgs, ints,
};
use crate::decode::i32_at;
use crate::decode::siginfo::SIGINFO_SIZE;
use crate::decode::signal::{SIGACTION_SIZE, SIGSET_SIZE, STACK_T_SIZE, TIMESPEC_SIZE};
use crate::decode::wait::{RUSAGE_SHOWN, RUSAGE_SIZE, STATUS_SIZE};
use crate::event::{ArgStr, ArgvEnd, Mem};
use crate::sys::{self, Tid};
use crate::syscalls::{Arg, Kind, Memory};

const PATH_MAX: usize = 4096;
/// Offset of uc_sigmask from the stack pointer at rt_sigreturn's entry on x86_64: the frame
/// starts 8 bytes below (the restorer's return address was popped), and the mask follows
/// pretcode (8), uc_flags (8), uc_link (8), uc_stack (24) and uc_mcontext (256).
const FRAME_MASK_FROM_SP: u64 = 296;
/// Offset of the saved rax, in uc_mcontext (struct sigcontext: r8-r15, rdi, rsi, rbp, rbx,
/// rdx, then rax) after uc_flags, uc_link and uc_stack.
const FRAME_RAX_FROM_SP: u64 = 40 + 13 * 8;

/// The rax that rt_sigreturn, stopped at its entry with this stack pointer, will restore
/// from the signal frame: its return value.
pub fn frame_rax(pid: Tid, sp: u64) -> Option<i64> {
    let mut word = [0u8; 8];
    match sys::read_mem(pid, sp.wrapping_add(FRAME_RAX_FROM_SP), &mut word) {
        Ok(8) => Some(i64::from_ne_bytes(word)),
        _ => None,
    }
}

/// Fills one Mem per argument of `args` that points to memory (at most three per phase).
/// `rval` is the return value at syscall exit, None at entry; `limit`: strace's -s.
pub fn fetch(
    pid: Tid,
    spec_args: &[Arg],
    args: &[u64; 6],
    sp: u64,
    rval: Option<i64>,
    limit: usize,
) -> [Mem; 3] {
    let mut mem: [Mem; 3] = Default::default();
    // What a call returned a pid for (wait4) is only filled in then; what a failed call
    // would have filled in is shown as its address (strace's umove_or_printaddr).
    let got_pid = rval.is_some_and(|r| r > 0);
    let failed = rval.is_some_and(|r| r < 0);
    let pointers = spec_args.iter().filter_map(|a| match a.kind {
        Kind::Memory(kind) => Some((a.idx, kind)),
        Kind::Value(_) => None,
    });
    for (slot, (idx, kind)) in pointers.take(mem.len()).enumerate() {
        let addr = args[idx as usize];
        let m = match kind {
            // The old action, mask or stack a failed call did not fill in: its address, as
            // strace prints it (a timeout printed at exit was an input: still decoded).
            Memory::SigAction | Memory::SigSet { .. } | Memory::StackT if failed => Mem::None,
            Memory::SigSet { size, min } => {
                let len = args[size as usize];
                if addr == 0 || len < min as u64 || len > SIGSET_SIZE as u64 {
                    Mem::None
                } else {
                    bytes(pid, addr, len as usize)
                }
            }
            Memory::FrameMask => bytes(pid, sp.wrapping_add(FRAME_MASK_FROM_SP), SIGSET_SIZE),
            Memory::SigAction => nonnull(addr, || bytes(pid, addr, SIGACTION_SIZE)),
            Memory::StackT => nonnull(addr, || bytes(pid, addr, STACK_T_SIZE)),
            Memory::SigInfo if failed => Mem::None,
            Memory::SigInfo => nonnull(addr, || bytes(pid, addr, SIGINFO_SIZE)),
            Memory::Timespec => nonnull(addr, || bytes(pid, addr, TIMESPEC_SIZE)),
            Memory::Path => nonnull(addr, || match cstr(pid, addr, PATH_MAX) {
                Some((s, done)) => Mem::Str(s, done),
                None => Mem::Fault,
            }),
            Memory::Argv => nonnull(addr, || argv(pid, addr, limit)),
            Memory::EnvCount => nonnull(addr, || count(pid, addr)),
            Memory::WaitStatus if got_pid => nonnull(addr, || bytes(pid, addr, STATUS_SIZE)),
            Memory::WaitRusage if got_pid => nonnull(addr, || rusage(pid, addr)),
            Memory::Rusage if !failed => nonnull(addr, || rusage(pid, addr)),
            Memory::WaitStatus | Memory::WaitRusage | Memory::Rusage => Mem::None,
            Memory::CloneTail if args[0] & (CLONE_PARENT_SETTID | CLONE_PIDFD) != 0 => {
                nonnull(addr, || bytes(pid, addr, size_of::<i32>()))
            }
            Memory::CloneTail => Mem::None,
            Memory::Clone3Args => clone_args(pid, addr, args[1]),
            Memory::Clone3Tail => clone3_tail(pid, addr, args[1], failed),
        };
        mem[slot] = m;
    }
    mem
}

/// The part strace shows without -v (ru_utime, ru_stime) of a rusage readable in full.
fn rusage(pid: Tid, addr: u64) -> Mem {
    let mut all = [0u8; RUSAGE_SIZE];
    match sys::read_mem(pid, addr, &mut all) {
        Ok(RUSAGE_SIZE) => {
            let mut data = [0u8; 128];
            data[..RUSAGE_SHOWN].copy_from_slice(&all[..RUSAGE_SHOWN]);
            Mem::Bytes {
                len: RUSAGE_SHOWN as u8,
                data,
            }
        }
        _ => Mem::Fault,
    }
}

/// Why clone_args was not read.
enum Unread {
    /// Shorter than strace shows: its address is shown.
    TooShort,
    Fault,
}

/// clone3's struct clone_args, as much of it as `size` says up to what strace knows.
fn read_clone_args(pid: Tid, addr: u64, size: u64) -> Result<Vec<u8>, Unread> {
    let len = size.min(CLONE_ARGS_SIZE);
    if len < CLONE_ARGS_MIN {
        return Err(Unread::TooShort);
    }
    let mut blob = vec![0u8; len as usize];
    if read_all(pid, addr, &mut blob) {
        Ok(blob)
    } else {
        Err(Unread::Fault)
    }
}

/// clone3 at entry: clone_args, and its set_tid array when that is one strace would show.
fn clone_args(pid: Tid, addr: u64, size: u64) -> Mem {
    let blob = match read_clone_args(pid, addr, size) {
        Ok(b) => b,
        Err(Unread::TooShort) => return Mem::None,
        Err(Unread::Fault) => return Mem::Fault,
    };
    let args = CloneArgs::from_bytes(&blob);
    let mut set_tid = None;
    if args.shows_set_tid() {
        let mut tids = vec![0u8; args.set_tid_size as usize * 4];
        if read_all(pid, args.set_tid, &mut tids) {
            set_tid = Some(ints(&tids));
        }
    }
    Mem::Clone3(Clone3 { args, set_tid })
}

/// clone3 at exit: clone_args again, and the ints the kernel stored for the parent. None
/// when the entry said it all (too short, or unreadable and the call failed).
fn clone3_tail(pid: Tid, addr: u64, size: u64, failed: bool) -> Mem {
    let args = match read_clone_args(pid, addr, size) {
        Ok(b) => CloneArgs::from_bytes(&b),
        Err(Unread::Fault) if !failed => return Mem::Fault,
        Err(_) => return Mem::None,
    };
    let stored = |flag: u64, at: u64| {
        let mut int = [0u8; 4];
        (!failed && args.flags & flag != 0 && read_all(pid, at, &mut int))
            .then(|| i32_at(&int, 0))
            .flatten()
    };
    Mem::Clone3Exit(Clone3Exit {
        pidfd: stored(CLONE_PIDFD, args.pidfd),
        parent_tid: stored(CLONE_PARENT_SETTID, args.parent_tid),
        args,
        failed,
    })
}

/// Whether all of `buf` could be read from `addr`.
fn read_all(pid: Tid, addr: u64, buf: &mut [u8]) -> bool {
    matches!(sys::read_mem(pid, addr, buf), Ok(n) if n == buf.len())
}

fn nonnull(addr: u64, f: impl FnOnce() -> Mem) -> Mem {
    if addr == 0 { Mem::None } else { f() }
}

fn bytes(pid: Tid, addr: u64, len: usize) -> Mem {
    let mut data = [0u8; 128];
    match sys::read_mem(pid, addr, &mut data[..len]) {
        Ok(n) if n == len => Mem::Bytes {
            len: len as u8,
            data,
        },
        _ => Mem::Fault,
    }
}

/// A C string of at most `max` bytes; reads page by page so that a string ending just before
/// unmapped memory is still read. Returns the bytes and whether the NUL was seen.
fn cstr(pid: Tid, addr: u64, max: usize) -> Option<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut at = addr;
    let mut buf = [0u8; 4096];
    while out.len() < max {
        let to_page_end = 4096 - (at % 4096) as usize;
        let want = to_page_end.min(max - out.len());
        let n = sys::read_mem(pid, at, &mut buf[..want])
            .ok()
            .filter(|&n| n > 0)?;
        if let Some(z) = buf[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..z]);
            return Some((out, true));
        }
        out.extend_from_slice(&buf[..n]);
        at += n as u64;
    }
    Some((out, false))
}

fn word(pid: Tid, addr: u64) -> Option<u64> {
    let mut w = [0u8; 8];
    (sys::read_mem(pid, addr, &mut w).ok()? == 8).then(|| u64::from_ne_bytes(w))
}

/// strace's printargv: up to `limit` strings of up to `limit` bytes each (-s), each marked
/// incomplete when it goes on.
fn argv(pid: Tid, addr: u64, limit: usize) -> Mem {
    let mut items = Vec::new();
    let mut at = addr;
    loop {
        let Some(p) = word(pid, at) else {
            return if items.is_empty() {
                Mem::Fault
            } else {
                Mem::Argv(items, ArgvEnd::Fault(at))
            };
        };
        if p == 0 {
            return Mem::Argv(items, ArgvEnd::Null);
        }
        if items.len() >= limit {
            return Mem::Argv(items, ArgvEnd::More);
        }
        // One byte more than shown, to know whether the string goes on.
        let text = cstr(pid, p, limit + 1).map(|(mut s, done)| {
            let whole = done && s.len() <= limit;
            s.truncate(limit);
            (s, whole)
        });
        items.push(ArgStr { ptr: p, text });
        at = at.wrapping_add(8);
    }
}

/// strace's printargc: how many entries before the NULL.
/// Reads the pointer array a page at a time rather than a word at a time.
fn count(pid: Tid, addr: u64) -> Mem {
    let mut n = 0u32;
    let mut at = addr;
    let mut buf = [0u8; 4096];
    loop {
        let want = 4096 - (at % 4096) as usize;
        let got = sys::read_mem(pid, at, &mut buf[..want]).unwrap_or(0) / 8;
        if got == 0 {
            return if n == 0 {
                Mem::None
            } else {
                Mem::Count(n, true)
            };
        }
        for w in buf[..got * 8].chunks_exact(8) {
            if w.iter().all(|&b| b == 0) {
                return Mem::Count(n, false);
            }
            n += 1;
        }
        at = match at.checked_add(got as u64 * 8) {
            Some(a) => a,
            None => return Mem::Count(n, true),
        };
    }
}
