//! Reads the tracee memory a syscall's decoder needs, while the task is stopped.

use crate::decode::syscall::{
    Arg, CLONE_ARGS_MIN, CLONE_ARGS_SIZE, CLONE_PARENT_SETTID, CLONE_PIDFD, Kind, MAX_STRLEN,
    u64_at,
};
use crate::event::{ArgStr, ArgvEnd, Mem};
use crate::sys::{self, Tid};

const PATH_MAX: usize = 4096;
/// Offset of uc_sigmask from the stack pointer at rt_sigreturn's entry on x86_64: the frame
/// starts 8 bytes below (the restorer's return address was popped), and the mask follows
/// pretcode (8), uc_flags (8), uc_link (8), uc_stack (24) and uc_mcontext (256).
const FRAME_MASK_FROM_SP: u64 = 296;

/// The size of struct rusage: strace shows it only if all of it is readable.
const RUSAGE_SIZE: usize = 144;

/// Fills one Mem per argument of `args` that points to memory (at most three per phase).
/// `rval` is the return value at syscall exit, None at entry.
pub fn fetch(pid: Tid, spec_args: &[Arg], args: &[u64; 6], sp: u64, rval: Option<i64>) -> [Mem; 3] {
    let mut mem: [Mem; 3] = Default::default();
    // What a call returned a pid for (wait4) is only filled in then; what a failed call
    // would have filled in is shown as its address (strace's umove_or_printaddr).
    let got_pid = rval.is_some_and(|r| r > 0);
    let failed = rval.is_some_and(|r| r < 0);
    let pointers = spec_args.iter().filter(|a| a.kind.reads_memory());
    for (slot, arg) in pointers.take(mem.len()).enumerate() {
        let addr = args[arg.idx as usize];
        let m = match arg.kind {
            Kind::SigSet { size, min } => {
                let len = args[size as usize];
                if addr == 0 || len < min as u64 || len > 8 {
                    Mem::None
                } else {
                    bytes(pid, addr, len as usize)
                }
            }
            Kind::FrameMask => bytes(pid, sp.wrapping_add(FRAME_MASK_FROM_SP), 8),
            Kind::SigAction => nonnull(addr, || bytes(pid, addr, 32)),
            Kind::StackT => nonnull(addr, || bytes(pid, addr, 24)),
            Kind::SigInfo if failed => Mem::None,
            Kind::SigInfo => nonnull(addr, || bytes(pid, addr, 128)),
            Kind::Timespec => nonnull(addr, || bytes(pid, addr, 16)),
            Kind::Path => nonnull(addr, || match cstr(pid, addr, PATH_MAX) {
                Some((s, done)) => Mem::Str(s, done),
                None => Mem::Fault,
            }),
            Kind::Argv => nonnull(addr, || argv(pid, addr)),
            Kind::EnvCount => nonnull(addr, || count(pid, addr)),
            Kind::WaitStatus if got_pid => nonnull(addr, || bytes(pid, addr, 4)),
            Kind::WaitRusage if got_pid => nonnull(addr, || rusage(pid, addr)),
            Kind::Rusage if !failed => nonnull(addr, || rusage(pid, addr)),
            Kind::WaitStatus | Kind::WaitRusage | Kind::Rusage => Mem::None,
            Kind::CloneTail if args[0] & (CLONE_PARENT_SETTID | CLONE_PIDFD) != 0 => {
                nonnull(addr, || bytes(pid, addr, 4))
            }
            Kind::CloneTail => Mem::None,
            Kind::Clone3Args => clone_args(pid, addr, args[1]),
            Kind::Clone3Tail => clone3_tail(pid, addr, args[1], failed),
            _ => unreachable!("reads_memory() lists every kind read here"),
        };
        mem[slot] = m;
    }
    mem
}

/// The first 32 bytes (ru_utime, ru_stime: all strace shows without -v) of a readable rusage.
fn rusage(pid: Tid, addr: u64) -> Mem {
    let mut all = [0u8; RUSAGE_SIZE];
    match sys::read_mem(pid, addr, &mut all) {
        Ok(RUSAGE_SIZE) => {
            let mut data = [0u8; 128];
            data[..32].copy_from_slice(&all[..32]);
            Mem::Bytes { len: 32, data }
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

/// clone3 at entry: clone_args, then its set_tid array when that is one strace would show.
fn clone_args(pid: Tid, addr: u64, size: u64) -> Mem {
    let mut blob = match read_clone_args(pid, addr, size) {
        Ok(b) => b,
        Err(Unread::TooShort) => return Mem::None,
        Err(Unread::Fault) => return Mem::Fault,
    };
    let (set_tid, n) = (u64_at(&blob, 64), u64_at(&blob, 72));
    if set_tid != 0 && (1..=32).contains(&n) {
        let mut tids = vec![0u8; n as usize * 4];
        if read_all(pid, set_tid, &mut tids) {
            blob.extend_from_slice(&tids);
        }
    }
    Mem::Blob(blob)
}

/// clone3 at exit: clone_args again, then one byte (1: the call failed, 2: pidfd read,
/// 4: parent_tid read) and the two ints the kernel stored for the parent. None when the
/// entry said it all (too short, or unreadable and the call failed).
fn clone3_tail(pid: Tid, addr: u64, size: u64, failed: bool) -> Mem {
    let mut blob = match read_clone_args(pid, addr, size) {
        Ok(b) => b,
        Err(Unread::Fault) if !failed => return Mem::Fault,
        Err(_) => return Mem::None,
    };
    let flags = u64_at(&blob, 0);
    let mut status = failed as u8;
    let mut ints = [0u8; 8];
    for (bit, (flag, at, slot)) in [(CLONE_PIDFD, 8, 0), (CLONE_PARENT_SETTID, 24, 4)]
        .into_iter()
        .enumerate()
    {
        if !failed
            && flags & flag != 0
            && read_all(pid, u64_at(&blob, at), &mut ints[slot..slot + 4])
        {
            status |= 2 << bit;
        }
    }
    blob.push(status);
    blob.extend_from_slice(&ints);
    Mem::Blob(blob)
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

/// strace's printargv: up to MAX_STRLEN strings of up to MAX_STRLEN bytes each.
fn argv(pid: Tid, addr: u64) -> Mem {
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
        if items.len() >= MAX_STRLEN {
            return Mem::Argv(items, ArgvEnd::More);
        }
        // One byte more than shown, to know whether the string goes on.
        items.push(ArgStr {
            ptr: p,
            text: cstr(pid, p, MAX_STRLEN + 1),
        });
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
