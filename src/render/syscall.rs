//! Syscall arguments and return values in strace's notation: sigsets, sigactions, strings, errors.

use crate::decode::errno_name;
use crate::decode::siginfo::SigInfo;
use crate::decode::syscall::{
    Arg, CLONE_ARGS_MIN, CLONE_ARGS_SIZE, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID,
    CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SETTLS, Kind, Ret, Spec, exit_shows, u64_at,
};
use crate::event::{ArgStr, ArgvEnd, Mem, Syscall};
use crate::signal::Signal;
use std::fmt::Write;

const SA_FLAGS: &[(u64, &str)] = &[
    (0x0400_0000, "SA_RESTORER"),
    (0x0800_0000, "SA_ONSTACK"),
    (0x1000_0000, "SA_RESTART"),
    (0x2000_0000, "SA_INTERRUPT"),
    (0x4000_0000, "SA_NODEFER"),
    (0x8000_0000, "SA_RESETHAND"),
    (4, "SA_SIGINFO"),
    (1, "SA_NOCLDSTOP"),
    (2, "SA_NOCLDWAIT"),
];
const SA_RESTORER: u64 = 0x0400_0000;
const SS_FLAGS: &[(u64, &str)] = &[
    (1, "SS_ONSTACK"),
    (2, "SS_DISABLE"),
    (1 << 31, "SS_AUTODISARM"),
];
const SFD_FLAGS: &[(u64, &str)] = &[(0o2000000, "SFD_CLOEXEC"), (0o4000, "SFD_NONBLOCK")];
const AT_FLAGS: &[(u64, &str)] = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_REMOVEDIR"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x8000, "AT_RECURSIVE"),
];
const URING_FLAGS: &[(u64, &str)] = &[
    (1, "IORING_ENTER_GETEVENTS"),
    (2, "IORING_ENTER_SQ_WAKEUP"),
    (4, "IORING_ENTER_SQ_WAIT"),
    (8, "IORING_ENTER_EXT_ARG"),
    (16, "IORING_ENTER_REGISTERED_RING"),
];
const AT_FDCWD: i32 = -100;
/// strace's clone_flags, in its order (the low byte is the exit signal).
const CLONE_FLAGS: &[(u64, &str)] = &[
    (0x100, "CLONE_VM"),
    (0x200, "CLONE_FS"),
    (0x400, "CLONE_FILES"),
    (0x800, "CLONE_SIGHAND"),
    (0x1000, "CLONE_PIDFD"),
    (0x2000, "CLONE_PTRACE"),
    (0x4000, "CLONE_VFORK"),
    (0x8000, "CLONE_PARENT"),
    (0x1_0000, "CLONE_THREAD"),
    (0x2_0000, "CLONE_NEWNS"),
    (0x4_0000, "CLONE_SYSVSEM"),
    (0x8_0000, "CLONE_SETTLS"),
    (0x10_0000, "CLONE_PARENT_SETTID"),
    (0x20_0000, "CLONE_CHILD_CLEARTID"),
    (0x80_0000, "CLONE_UNTRACED"),
    (0x100_0000, "CLONE_CHILD_SETTID"),
    (0x200_0000, "CLONE_NEWCGROUP"),
    (0x400_0000, "CLONE_NEWUTS"),
    (0x800_0000, "CLONE_NEWIPC"),
    (0x1000_0000, "CLONE_NEWUSER"),
    (0x2000_0000, "CLONE_NEWPID"),
    (0x4000_0000, "CLONE_NEWNET"),
    (0x8000_0000, "CLONE_IO"),
];
/// strace's clone3_flags, shown after clone_flags.
const CLONE3_FLAGS: &[(u64, &str)] = &[
    (0x80, "CLONE_NEWTIME"),
    (0x1_0000_0000, "CLONE_CLEAR_SIGHAND"),
    (CLONE_INTO_CGROUP, "CLONE_INTO_CGROUP"),
];
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// strace's wait4_options, in its order.
const WAIT_OPTIONS: &[(u64, &str)] = &[
    (1, "WNOHANG"),
    (4, "WEXITED"),
    (2, "WSTOPPED"),
    (8, "WCONTINUED"),
    (0x0100_0000, "WNOWAIT"),
    (0x8000_0000, "__WCLONE"),
    (0x4000_0000, "__WALL"),
    (0x2000_0000, "__WNOTHREAD"),
];
const ID_TYPES: [&str; 4] = ["P_ALL", "P_PID", "P_PGID", "P_PIDFD"];

/// `name(` and the arguments known at entry (with the separator before the exit-time ones).
pub fn entry(spec: &Spec, call: &Syscall, tck: u64, out: &mut String) {
    out.push_str(spec.name);
    out.push('(');
    args(spec.entry, call, tck, out);
    if !spec.entry.is_empty() && exit_shows(spec, &call.args) {
        out.push_str(", ");
    }
}

/// The arguments filled in by the call.
pub fn exit(spec: &Spec, call: &Syscall, tck: u64, out: &mut String) {
    args(spec.exit, call, tck, out);
}

/// Each argument with the memory the tracer read for it (pointer kinds take the Mem slots in order).
fn with_mem<'a>(list: &'a [Arg], call: &'a Syscall) -> impl Iterator<Item = (Arg, &'a Mem)> + 'a {
    let mut slot = 0;
    list.iter().map(move |arg| {
        let mem = if arg.kind.reads_memory() {
            slot += 1;
            &call.mem[(slot - 1).min(2)]
        } else {
            &Mem::None
        };
        (*arg, mem)
    })
}

fn args(list: &[Arg], call: &Syscall, tck: u64, out: &mut String) {
    for (i, (arg, mem)) in with_mem(list, call).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        one(arg, call, mem, tck, out);
    }
}

fn one(arg: Arg, call: &Syscall, mem: &Mem, tck: u64, out: &mut String) {
    value(
        arg.kind,
        call.args[arg.idx as usize],
        &call.args,
        mem,
        tck,
        out,
    );
}

/// The arguments decoded one by one (for JSON).
pub fn arg_strings(list: &[Arg], call: &Syscall, tck: u64) -> Vec<String> {
    with_mem(list, call)
        .map(|(arg, mem)| {
            let mut s = String::new();
            one(arg, call, mem, tck, &mut s);
            s
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn bytes(mem: &Mem) -> Option<&[u8]> {
    match mem {
        Mem::Bytes { len, data } => data.get(..*len as usize),
        _ => None,
    }
}

/// One argument: `raw` is its register, `all` every argument register (clone's tail needs them).
fn value(kind: Kind, raw: u64, all: &[u64; 6], mem: &Mem, tck: u64, out: &mut String) {
    match kind {
        Kind::Sig => {
            let _ = write!(out, "{}", Signal(raw as i32));
        }
        Kind::Int | Kind::Fd => {
            let _ = write!(out, "{}", raw as i32);
        }
        Kind::DirFd if raw as i32 == AT_FDCWD => out.push_str("AT_FDCWD"),
        Kind::DirFd => {
            let _ = write!(out, "{}", raw as i32);
        }
        Kind::ULong => {
            let _ = write!(out, "{raw}");
        }
        Kind::XU32 => hex(raw as u32 as u64, out),
        Kind::Hex => hex(raw, out),
        Kind::How => match raw {
            0 => out.push_str("SIG_BLOCK"),
            1 => out.push_str("SIG_UNBLOCK"),
            2 => out.push_str("SIG_SETMASK"),
            _ => {
                let _ = write!(out, "{raw:#x} /* SIG_??? */");
            }
        },
        Kind::SfdFlags => flags(raw, SFD_FLAGS, "SFD_???", out),
        Kind::AtFlags => flags(raw, AT_FLAGS, "AT_???", out),
        Kind::UringFlags => flags(raw as u32 as u64, URING_FLAGS, "IORING_ENTER_???", out),
        Kind::WaitOptions => flags(raw as u32 as u64, WAIT_OPTIONS, "W???", out),
        Kind::IdType => match ID_TYPES.get(raw as u32 as usize) {
            Some(name) => out.push_str(name),
            None => {
                let _ = write!(out, "{:#x} /* P_??? */", raw as u32);
            }
        },
        Kind::WaitStatus => struct_or_addr(raw, mem, 4, out, wait_status),
        Kind::CloneStack => {
            out.push_str("child_stack=");
            addr(raw, out);
        }
        Kind::CloneFlags => {
            out.push_str("flags=");
            let (flags, sig) = (raw & !0xff, (raw & 0xff) as i32);
            if flags != 0 {
                self::flags(flags, CLONE_FLAGS, "CLONE_???", out);
                if sig != 0 {
                    let _ = write!(out, "|{}", Signal(sig));
                }
            } else {
                let _ = write!(out, "{}", Signal(sig));
            }
        }
        Kind::CloneTail => clone_tail(all, mem, out),
        Kind::Clone3Args => clone3_args(raw, all[1], mem, out),
        Kind::Clone3Tail => clone3_tail(raw, all[1], mem, out),
        Kind::WaitRusage | Kind::Rusage => struct_or_addr(raw, mem, 32, out, rusage),
        Kind::SigSet { .. } => match bytes(mem) {
            Some(b) => sigset(b, out),
            None => addr(raw, out),
        },
        Kind::FrameMask => {
            out.push_str("{mask=");
            match bytes(mem) {
                Some(b) => sigset(b, out),
                None => addr(raw, out),
            }
            out.push('}');
        }
        Kind::SigAction => struct_or_addr(raw, mem, 32, out, sigaction),
        Kind::StackT => struct_or_addr(raw, mem, 24, out, stack_t),
        Kind::Timespec => struct_or_addr(raw, mem, 16, out, timespec),
        Kind::SigInfo => match bytes(mem).and_then(|b| <[u8; 128]>::try_from(b).ok()) {
            Some(b) => super::text::siginfo(&SigInfo::from_bytes(b), tck, out),
            None => addr(raw, out),
        },
        Kind::Path => match mem {
            Mem::Str(s, complete) => {
                quote(s, out);
                if !complete {
                    out.push_str("...");
                }
            }
            _ => addr(raw, out),
        },
        Kind::Argv => match mem {
            Mem::Argv(items, end) => argv(items, *end, out),
            _ => addr(raw, out),
        },
        Kind::EnvCount => {
            addr(raw, out);
            if let Mem::Count(n, unterminated) = mem {
                let s = if *n == 1 { "" } else { "s" };
                let u = if *unterminated { ", unterminated" } else { "" };
                let _ = write!(out, " /* {n} var{s}{u} */");
            }
        }
    }
}

/// A struct of `size` bytes, or its address when fewer were read.
fn struct_or_addr(raw: u64, mem: &Mem, size: usize, out: &mut String, f: fn(&[u8], &mut String)) {
    match bytes(mem) {
        Some(b) if b.len() >= size => f(b, out),
        _ => addr(raw, out),
    }
}

fn word(b: &[u8], i: usize) -> u64 {
    u64::from_ne_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
}

/// C's `%#x`: 0 stays "0".
fn hex(v: u64, out: &mut String) {
    if v == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

/// strace's printaddr: NULL or hex.
pub fn addr(a: u64, out: &mut String) {
    if a == 0 {
        out.push_str("NULL");
    } else {
        let _ = write!(out, "{a:#x}");
    }
}

/// strace's printflags: known flags in table order joined by `|`, the rest in hex, or 0; a
/// value with no known flag is `0x... /* DFLT */`.
fn flags(v: u64, table: &[(u64, &str)], dflt: &str, out: &mut String) {
    flags_in(v, &[table], dflt, out);
}

/// `flags` over several tables, one after the other (strace's printflags_ex).
fn flags_in(mut v: u64, tables: &[&[(u64, &str)]], dflt: &str, out: &mut String) {
    let mut first = true;
    for &(bit, name) in tables.iter().copied().flatten() {
        if v & bit == bit {
            if !first {
                out.push('|');
            }
            out.push_str(name);
            first = false;
            v &= !bit;
        }
    }
    if v != 0 || first {
        if !first {
            out.push('|');
        }
        hex(v, out);
        if first && v != 0 {
            let _ = write!(out, " /* {dflt} */");
        }
    }
}

/// strace's sprintsigmask_n: `[INT TERM]`, or `~[...]` listing the absent ones when at least
/// two thirds of the bits are set.
pub fn sigset(b: &[u8], out: &mut String) {
    // The kernel's sigset is 8 bytes; callers pass no more, but never shift past 64 bits.
    let b = &b[..b.len().min(8)];
    let words = b.len().div_ceil(4);
    let mut mask = 0u64;
    for (i, &byte) in b.iter().enumerate() {
        mask |= (byte as u64) << (8 * i);
    }
    let nbits = words * 32;
    let valid = if nbits == 64 {
        u64::MAX
    } else {
        (1u64 << nbits) - 1
    };
    if mask.count_ones() as usize >= nbits * 2 / 3 {
        out.push('~');
        mask = !mask & valid;
    }
    out.push('[');
    let mut first = true;
    for bit in 0..nbits {
        if mask & (1 << bit) != 0 {
            if !first {
                out.push(' ');
            }
            first = false;
            let sig = Signal(bit as i32 + 1);
            match sig.name() {
                Some(n) => {
                    let s = n.to_string();
                    out.push_str(&s[3..]);
                }
                None => {
                    let _ = write!(out, "{}", sig.0);
                }
            }
        }
    }
    out.push(']');
}

fn sigaction(b: &[u8], out: &mut String) {
    let (handler, fl, restorer) = (word(b, 0), word(b, 1), word(b, 2));
    out.push_str("{sa_handler=");
    match handler {
        0 => out.push_str("SIG_DFL"),
        1 => out.push_str("SIG_IGN"),
        u64::MAX => out.push_str("SIG_ERR"),
        h => {
            let _ = write!(out, "{h:#x}");
        }
    }
    out.push_str(", sa_mask=");
    sigset(&b[24..32], out);
    out.push_str(", sa_flags=");
    flags(fl, SA_FLAGS, "SA_???", out);
    if fl & SA_RESTORER != 0 {
        out.push_str(", sa_restorer=");
        addr(restorer, out);
    }
    out.push('}');
}

fn stack_t(b: &[u8], out: &mut String) {
    out.push_str("{ss_sp=");
    addr(word(b, 0), out);
    out.push_str(", ss_flags=");
    flags(
        u32::from_ne_bytes(b[8..12].try_into().expect("4 bytes")) as u64,
        SS_FLAGS,
        "SS_???",
        out,
    );
    let _ = write!(out, ", ss_size={}}}", word(b, 2));
}

/// strace's clone at exit: the arguments its flags use, in strace's order.
fn clone_tail(all: &[u64; 6], mem: &Mem, out: &mut String) {
    let flags = all[0];
    let mut sep = "";
    if flags & (CLONE_PARENT_SETTID | CLONE_PIDFD) != 0 {
        out.push_str("parent_tid=");
        match bytes(mem) {
            Some(b) if b.len() >= 4 => {
                let _ = write!(
                    out,
                    "[{}]",
                    i32::from_ne_bytes(b[..4].try_into().expect("4"))
                );
            }
            _ => addr(all[2], out),
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

/// strace's clone3 at entry: `{flags=..., ...}`, then `, SIZE` unless the exit has more to say.
fn clone3_args(raw: u64, size: u64, mem: &Mem, out: &mut String) {
    let len = size.min(CLONE_ARGS_SIZE) as usize;
    let b = match mem {
        Mem::Blob(b) if len >= CLONE_ARGS_MIN as usize && b.len() >= len => b,
        _ => {
            addr(raw, out);
            let _ = write!(out, ", {size}");
            return;
        }
    };
    let (args, tids) = b.split_at(len);
    let f = |at| u64_at(args, at);
    let flags = f(0);
    out.push_str("{flags=");
    flags_in(flags, &[CLONE_FLAGS, CLONE3_FLAGS], "CLONE_???", out);
    for (flag, name, at) in [
        (CLONE_PIDFD, "pidfd", 8),
        (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID, "child_tid", 16),
        (CLONE_PARENT_SETTID, "parent_tid", 24),
    ] {
        if flags & flag != 0 {
            let _ = write!(out, ", {name}=");
            addr(f(at), out);
        }
    }
    let sig = f(32);
    if sig < i32::MAX as u64 {
        let _ = write!(out, ", exit_signal={}", Signal(sig as i32));
    } else {
        let _ = write!(out, ", exit_signal={sig}");
    }
    out.push_str(", stack=");
    addr(f(40), out);
    out.push_str(", stack_size=");
    hex(f(48), out);
    if flags & CLONE_SETTLS != 0 {
        out.push_str(", tls=");
        addr(f(56), out);
    }
    let (set_tid, n) = (f(64), f(72));
    if set_tid != 0 || n != 0 {
        out.push_str(", set_tid=");
        if set_tid != 0 && (1..=32).contains(&n) && tids.len() == n as usize * 4 {
            out.push('[');
            for (i, t) in tids.chunks_exact(4).enumerate() {
                let sep = if i > 0 { ", " } else { "" };
                let _ = write!(out, "{sep}{}", i32::from_ne_bytes(t.try_into().expect("4")));
            }
            out.push(']');
        } else {
            addr(set_tid, out);
        }
        let _ = write!(out, ", set_tid_size={n}");
    }
    if len > 80 && (f(80) != 0 || flags & CLONE_INTO_CGROUP != 0) {
        let _ = write!(out, ", cgroup={}", f(80));
    }
    out.push('}');
    if !clone3_has_tail(flags, size) {
        let _ = write!(out, ", {size}");
    }
}

/// Whether strace leaves part of clone3 for its exit (what the kernel stores for the parent).
fn clone3_has_tail(flags: u64, size: u64) -> bool {
    flags & (CLONE_PIDFD | CLONE_PARENT_SETTID) != 0 || size > CLONE_ARGS_SIZE
}

/// strace's clone3 at exit: ` => {pidfd=[N], parent_tid=[N]}` as the flags say, then `, SIZE`;
/// nothing when the entry said it all. The Mem is `fetch::clone3_tail`'s.
fn clone3_tail(raw: u64, size: u64, mem: &Mem, out: &mut String) {
    let len = size.min(CLONE_ARGS_SIZE) as usize;
    match mem {
        Mem::Blob(b) if b.len() == len + 9 => {
            let flags = u64_at(b, 0);
            if !clone3_has_tail(flags, size) {
                return;
            }
            let status = b[len];
            let mut sep = " => {";
            for (bit, flag, name, at, slot) in [
                (2, CLONE_PIDFD, "pidfd", 8, 0),
                (4, CLONE_PARENT_SETTID, "parent_tid", 24, 4),
            ] {
                if status & 1 != 0 || flags & flag == 0 {
                    continue;
                }
                let _ = write!(out, "{sep}{name}=");
                sep = ", ";
                if status & bit != 0 {
                    let v = &b[len + 1 + slot..len + 5 + slot];
                    let _ = write!(out, "[{}]", i32::from_ne_bytes(v.try_into().expect("4")));
                } else {
                    addr(u64_at(b, at), out);
                }
            }
            if sep == ", " {
                out.push('}');
            }
        }
        Mem::Fault => {
            out.push_str(" => ");
            addr(raw, out);
        }
        _ => return,
    }
    let _ = write!(out, ", {size}");
}

/// strace's printstatus: the wait status as the W* macros that would test it.
fn wait_status(b: &[u8], out: &mut String) {
    let mut s = u32::from_ne_bytes(b[..4].try_into().expect("4 bytes"));
    let (low, high) = (s & 0x7f, (s >> 8) & 0xff);
    out.push_str("[{");
    if s & 0xff == 0x7f {
        let _ = write!(
            out,
            "WIFSTOPPED(s) && WSTOPSIG(s) == {}",
            Signal((high & 0x7f) as i32)
        );
        if high & 0x80 != 0 {
            out.push_str(" | 0x80");
        }
        s &= !((high << 8) | 0x7f);
    } else if low != 0 && low != 0x7f {
        let _ = write!(
            out,
            "WIFSIGNALED(s) && WTERMSIG(s) == {}",
            Signal(low as i32)
        );
        if s & 0x80 != 0 {
            out.push_str(" && WCOREDUMP(s)");
        }
        s &= !(low | 0x80);
    } else if low == 0 {
        let _ = write!(out, "WIFEXITED(s) && WEXITSTATUS(s) == {high}");
        s &= !(high << 8);
    } else if s == 0xffff {
        out.push_str("WIFCONTINUED(s)");
        s = 0;
    } else {
        out.truncate(out.len() - 1);
        let _ = write!(out, "{s:#x}]");
        return;
    }
    out.push('}');
    let event = s >> 16;
    if event != 0 {
        out.push('|');
        match ptrace_event(event) {
            Some(name) => out.push_str(name),
            None => {
                let _ = write!(out, "{event:#x} /* PTRACE_EVENT_??? */");
            }
        }
        out.push_str("<<16");
        s &= 0xffff;
    }
    if s != 0 {
        out.push('|');
        hex(s as u64, out);
    }
    out.push(']');
}

/// strace's ptrace_events.
fn ptrace_event(event: u32) -> Option<&'static str> {
    Some(match event {
        1 => "PTRACE_EVENT_FORK",
        2 => "PTRACE_EVENT_VFORK",
        3 => "PTRACE_EVENT_CLONE",
        4 => "PTRACE_EVENT_EXEC",
        5 => "PTRACE_EVENT_VFORK_DONE",
        6 => "PTRACE_EVENT_EXIT",
        7 => "PTRACE_EVENT_SECCOMP",
        128 => "PTRACE_EVENT_STOP",
        _ => return None,
    })
}

/// The part of a struct rusage strace shows without -v.
fn rusage(b: &[u8], out: &mut String) {
    let _ = write!(
        out,
        "{{ru_utime={{tv_sec={}, tv_usec={}}}, ru_stime={{tv_sec={}, tv_usec={}}}, ...}}",
        word(b, 0) as i64,
        word(b, 1),
        word(b, 2) as i64,
        word(b, 3)
    );
}

fn timespec(b: &[u8], out: &mut String) {
    let _ = write!(
        out,
        "{{tv_sec={}, tv_nsec={}}}",
        word(b, 0) as i64,
        word(b, 1)
    );
}

fn argv(items: &[ArgStr], end: ArgvEnd, out: &mut String) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match &item.text {
            Some((bytes, complete)) => {
                let shown = &bytes[..bytes.len().min(crate::decode::syscall::MAX_STRLEN)];
                quote(shown, out);
                if !complete || bytes.len() > shown.len() {
                    out.push_str("...");
                }
            }
            None => addr(item.ptr, out),
        }
    }
    match end {
        ArgvEnd::Null => {}
        ArgvEnd::More => out.push_str(", ..."),
        ArgvEnd::Fault(a) => {
            let _ = write!(out, ", ... /* {a:#x} */");
        }
    }
    out.push(']');
}

/// strace's string_quote: `"..."` with C escapes, other bytes in octal (three digits when a
/// digit follows, so that the escape cannot swallow it).
pub fn quote(s: &[u8], out: &mut String) {
    out.push('"');
    escape_into(s, out);
    out.push('"');
}

/// The escaping of `quote`, without the quotes: for any text from the traced system.
pub fn escape_into(s: &[u8], out: &mut String) {
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                let digit_follows = s.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                let _ = if digit_follows {
                    write!(out, "\\{c:03o}")
                } else {
                    write!(out, "\\{c:o}")
                };
            }
        }
    }
}

/// The return value: `0`, `10 (SIGUSR1)`, `-1 ESRCH (No such process)`, `? ERESTARTNOHAND (...)`.
pub fn ret(spec: &Spec, rval: i64, is_error: bool, out: &mut String) {
    if is_error {
        let e = rval.wrapping_neg() as i32;
        if let Some(text) = restart_text(e) {
            let _ = write!(out, "? {text}");
            return;
        }
        let text = crate::error_text(&std::io::Error::from_raw_os_error(e));
        let _ = match errno_name(e) {
            Some(name) => write!(out, "-1 {name} ({text})"),
            None => write!(out, "-1 {e} ({text})"),
        };
        return;
    }
    let _ = write!(out, "{rval}");
    if spec.ret == Ret::Signal
        && rval > 0
        && let Some(name) = Signal(rval as i32).name()
    {
        let _ = write!(out, " ({name})");
    }
}

/// The kernel's internal restart codes, which a tracer sees when a signal interrupts a call.
fn restart_text(e: i32) -> Option<&'static str> {
    Some(match e {
        512 => "ERESTARTSYS (To be restarted if SA_RESTART is set)",
        513 => "ERESTARTNOINTR (To be restarted)",
        514 => "ERESTARTNOHAND (To be restarted if no handler)",
        516 => "ERESTART_RESTARTBLOCK (Interrupted by signal)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(mask: u64, len: usize) -> String {
        let mut s = String::new();
        sigset(&mask.to_ne_bytes()[..len], &mut s);
        s
    }

    #[test]
    fn sigsets() {
        assert_eq!(set(0, 8), "[]");
        assert_eq!(set((1 << 1) | (1 << 14), 8), "[INT TERM]");
        assert_eq!(
            set((1 << 30) | (1 << 31) | (1 << 32), 8),
            "[SYS RTMIN RT_1]"
        );
        assert_eq!(set(!((1 << 30) | (1 << 31)), 8), "~[SYS RTMIN]");
        assert_eq!(set(u64::MAX, 8), "~[]");
        // Four bytes: only 32 signals, and two thirds of 32 bits decide the inversion.
        assert_eq!(set(0xffff_ffff, 4), "~[]");
        assert_eq!(set(1 << 9, 4), "[USR1]");
    }

    #[test]
    fn sigactions() {
        let mut b = [0u8; 32];
        b[0..8].copy_from_slice(&0x55d1c0a1e169u64.to_ne_bytes());
        b[8..16].copy_from_slice(&(0x0400_0000u64 | 0x1000_0000).to_ne_bytes());
        b[16..24].copy_from_slice(&0x7f8afe8f8050u64.to_ne_bytes());
        let mut s = String::new();
        sigaction(&b, &mut s);
        assert_eq!(
            s,
            "{sa_handler=0x55d1c0a1e169, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f8afe8f8050}"
        );
        let mut ign = [0u8; 32];
        ign[0] = 1;
        ign[24] = 1 << 1;
        ign[8..16].copy_from_slice(&0x400u64.to_ne_bytes());
        s.clear();
        sigaction(&ign, &mut s);
        assert_eq!(
            s,
            "{sa_handler=SIG_IGN, sa_mask=[INT], sa_flags=0x400 /* SA_??? */}"
        );
    }

    #[test]
    fn flag_sets() {
        let mut s = String::new();
        flags(0, SFD_FLAGS, "SFD_???", &mut s);
        assert_eq!(s, "0");
        s.clear();
        flags(0o2004000 | 1, SFD_FLAGS, "SFD_???", &mut s);
        assert_eq!(s, "SFD_CLOEXEC|SFD_NONBLOCK|0x1");
        s.clear();
        flags(1, SFD_FLAGS, "SFD_???", &mut s);
        assert_eq!(s, "0x1 /* SFD_??? */");
    }

    #[test]
    fn quoting() {
        let mut s = String::new();
        quote(b"a\"b\\c\n\x01\x012\xff", &mut s);
        assert_eq!(s, r#""a\"b\\c\n\1\0012\377""#);
    }

    #[test]
    fn wait_statuses_as_strace_prints_them() {
        let show = |s: u32| {
            let mut out = String::new();
            wait_status(&s.to_ne_bytes(), &mut out);
            out
        };
        assert_eq!(show(0x0300), "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]");
        assert_eq!(
            show(0x86),
            "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGABRT && WCOREDUMP(s)}]"
        );
        assert_eq!(show(0x137f), "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]");
        assert_eq!(
            show(0x857f),
            "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP | 0x80}]"
        );
        assert_eq!(show(0xffff), "[{WIFCONTINUED(s)}]");
        assert_eq!(
            show(0x1057f),
            "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP}|PTRACE_EVENT_FORK<<16]"
        );
        assert_eq!(
            show(0x9_057f),
            "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP}|0x9 /* PTRACE_EVENT_??? */<<16]"
        );
        assert_eq!(show(0xff), "[0xff]");
        assert_eq!(
            show(0x8005),
            "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGTRAP}|0x8000]"
        );
    }

    #[test]
    fn returns() {
        let spec = crate::decode::syscall::spec(128);
        let mut s = String::new();
        ret(&spec, 10, false, &mut s);
        assert_eq!(s, "10 (SIGUSR1)");
        s.clear();
        ret(&spec, -3, true, &mut s);
        assert_eq!(s, "-1 ESRCH (No such process)");
        s.clear();
        ret(&spec, -514, true, &mut s);
        assert_eq!(s, "? ERESTARTNOHAND (To be restarted if no handler)");
    }
}
