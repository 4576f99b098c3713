//! clone and clone3 in strace's notation (its clone.c): flags, clone_args, what the parent gets back.

use super::{Flags, addr, flags, flags_in, hex};
use crate::decode::clone::{
    CLONE_ARGS_SIZE, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_INTO_CGROUP, CLONE_NEWPID,
    CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SETTLS, CLONE_THREAD, CLONE_UNTRACED,
    Clone3, Clone3Exit,
};
use crate::signal::Signal;
use std::fmt::Write;

/// strace's clone_flags, in its order (the low byte is the exit signal).
const CLONE_FLAGS: &Flags = &[
    (0x100, "CLONE_VM"),
    (0x200, "CLONE_FS"),
    (0x400, "CLONE_FILES"),
    (0x800, "CLONE_SIGHAND"),
    (CLONE_PIDFD, "CLONE_PIDFD"),
    (0x2000, "CLONE_PTRACE"),
    (0x4000, "CLONE_VFORK"),
    (CLONE_PARENT, "CLONE_PARENT"),
    (CLONE_THREAD, "CLONE_THREAD"),
    (0x2_0000, "CLONE_NEWNS"),
    (0x4_0000, "CLONE_SYSVSEM"),
    (CLONE_SETTLS, "CLONE_SETTLS"),
    (CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"),
    (CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"),
    (CLONE_UNTRACED, "CLONE_UNTRACED"),
    (CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"),
    (0x200_0000, "CLONE_NEWCGROUP"),
    (0x400_0000, "CLONE_NEWUTS"),
    (0x800_0000, "CLONE_NEWIPC"),
    (0x1000_0000, "CLONE_NEWUSER"),
    (CLONE_NEWPID, "CLONE_NEWPID"),
    (0x4000_0000, "CLONE_NEWNET"),
    (0x8000_0000, "CLONE_IO"),
];
/// strace's clone3_flags, shown after clone_flags.
const CLONE3_FLAGS: &Flags = &[
    (0x80, "CLONE_NEWTIME"),
    (0x1_0000_0000, "CLONE_CLEAR_SIGHAND"),
    (CLONE_INTO_CGROUP, "CLONE_INTO_CGROUP"),
];

/// clone's `flags=CLONE_...|SIGCHLD` (the low byte is the exit signal).
pub fn clone_flags(raw: u64, out: &mut String) {
    out.push_str("flags=");
    let (bits, sig) = (raw & !0xff, (raw & 0xff) as i32);
    if bits != 0 {
        flags(bits, CLONE_FLAGS, "CLONE_???", out);
        if sig != 0 {
            let _ = write!(out, "|{}", Signal(sig));
        }
    } else {
        let _ = write!(out, "{}", Signal(sig));
    }
}

/// strace's clone at exit: the arguments its flags use, in strace's order; `parent_tid` is
/// what the kernel stored there, when it was read.
pub fn clone_tail(all: &[u64; 6], parent_tid: Option<i32>, out: &mut String) {
    let flags = all[0];
    let mut sep = "";
    if flags & (CLONE_PARENT_SETTID | CLONE_PIDFD) != 0 {
        out.push_str("parent_tid=");
        match parent_tid {
            Some(t) => {
                let _ = write!(out, "[{t}]");
            }
            None => addr(all[2], out),
        }
        sep = ", ";
    }
    if flags & CLONE_SETTLS != 0 {
        out.push_str(sep);
        out.push_str("tls=");
        addr(all[4], out);
        sep = ", ";
    }
    if flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID) != 0 {
        out.push_str(sep);
        out.push_str("child_tidptr=");
        addr(all[3], out);
    }
}

/// strace's clone3 at entry: `{flags=..., ...}`, then `, SIZE` unless the exit has more to say;
/// the address and size when clone_args was not read.
pub fn clone3_entry(raw: u64, size: u64, c: Option<&Clone3>, out: &mut String) {
    let Some(c) = c else {
        addr(raw, out);
        let _ = write!(out, ", {size}");
        return;
    };
    let a = &c.args;
    out.push_str("{flags=");
    flags_in(a.flags, &[CLONE_FLAGS, CLONE3_FLAGS], "CLONE_???", out);
    for (flag, name, v) in [
        (CLONE_PIDFD, "pidfd", a.pidfd),
        (
            CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID,
            "child_tid",
            a.child_tid,
        ),
        (CLONE_PARENT_SETTID, "parent_tid", a.parent_tid),
    ] {
        if a.flags & flag != 0 {
            let _ = write!(out, ", {name}=");
            addr(v, out);
        }
    }
    if a.exit_signal < i32::MAX as u64 {
        let _ = write!(out, ", exit_signal={}", Signal(a.exit_signal as i32));
    } else {
        let _ = write!(out, ", exit_signal={}", a.exit_signal);
    }
    out.push_str(", stack=");
    addr(a.stack, out);
    out.push_str(", stack_size=");
    hex(a.stack_size, out);
    if a.flags & CLONE_SETTLS != 0 {
        out.push_str(", tls=");
        addr(a.tls, out);
    }
    set_tid(c, out);
    if let Some(cgroup) = a.cgroup
        && (cgroup != 0 || a.flags & CLONE_INTO_CGROUP != 0)
    {
        let _ = write!(out, ", cgroup={cgroup}");
    }
    out.push('}');
    if !clone3_has_tail(a.flags, size) {
        let _ = write!(out, ", {size}");
    }
}

/// `, set_tid=[N, ...], set_tid_size=N` when either is set.
fn set_tid(c: &Clone3, out: &mut String) {
    let a = &c.args;
    if a.set_tid == 0 && a.set_tid_size == 0 {
        return;
    }
    out.push_str(", set_tid=");
    match &c.set_tid {
        Some(tids) if a.shows_set_tid() && tids.len() == a.set_tid_size as usize => {
            out.push('[');
            for (i, t) in tids.iter().enumerate() {
                let sep = if i > 0 { ", " } else { "" };
                let _ = write!(out, "{sep}{t}");
            }
            out.push(']');
        }
        _ => addr(a.set_tid, out),
    }
    let _ = write!(out, ", set_tid_size={}", a.set_tid_size);
}

/// Whether strace leaves part of clone3 for its exit (what the kernel stores for the parent).
fn clone3_has_tail(flags: u64, size: u64) -> bool {
    flags & (CLONE_PIDFD | CLONE_PARENT_SETTID) != 0 || size > CLONE_ARGS_SIZE
}

/// How clone3's exit went, as far as the tracer could read it.
pub enum Clone3Tail<'a> {
    Read(&'a Clone3Exit),
    /// clone_args was unreadable at exit.
    Fault,
    /// The entry said it all.
    Nothing,
}

/// strace's clone3 at exit: ` => {pidfd=[N], parent_tid=[N]}` as the flags say, then `, SIZE`;
/// nothing when the entry said it all.
pub fn clone3_exit(raw: u64, size: u64, tail: Clone3Tail, out: &mut String) {
    match tail {
        Clone3Tail::Read(x) => {
            let a = &x.args;
            if !clone3_has_tail(a.flags, size) {
                return;
            }
            let mut sep = " => {";
            for (flag, name, field, stored) in [
                (CLONE_PIDFD, "pidfd", a.pidfd, x.pidfd),
                (
                    CLONE_PARENT_SETTID,
                    "parent_tid",
                    a.parent_tid,
                    x.parent_tid,
                ),
            ] {
                if x.failed || a.flags & flag == 0 {
                    continue;
                }
                let _ = write!(out, "{sep}{name}=");
                sep = ", ";
                match stored {
                    Some(v) => {
                        let _ = write!(out, "[{v}]");
                    }
                    None => addr(field, out),
                }
            }
            if sep == ", " {
                out.push('}');
            }
        }
        Clone3Tail::Fault => {
            out.push_str(" => ");
            addr(raw, out);
        }
        Clone3Tail::Nothing => return,
    }
    let _ = write!(out, ", {size}");
}
