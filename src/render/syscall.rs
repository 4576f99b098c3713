//! Syscall arguments and return values in strace's notation: sigsets, sigactions, strings, errors.

use crate::decode::errno_name;
use crate::decode::siginfo::SigInfo;
use crate::decode::syscall::{Arg, Kind, Ret, Spec};
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

/// `name(` and the arguments known at entry (with the separator before the exit-time ones).
pub fn entry(spec: &Spec, call: &Syscall, tck: u64, out: &mut String) {
    out.push_str(spec.name);
    out.push('(');
    args(spec.entry, call, tck, out);
    if !spec.entry.is_empty() && !spec.exit.is_empty() {
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
        value(arg.kind, call.args[arg.idx as usize], mem, tck, out);
    }
}

/// The arguments decoded one by one (for JSON).
pub fn arg_strings(list: &[Arg], call: &Syscall, tck: u64) -> Vec<String> {
    with_mem(list, call)
        .map(|(arg, mem)| {
            let mut s = String::new();
            value(arg.kind, call.args[arg.idx as usize], mem, tck, &mut s);
            s
        })
        .collect()
}

fn bytes(mem: &Mem) -> Option<&[u8]> {
    match mem {
        Mem::Bytes { len, data } => data.get(..*len as usize),
        _ => None,
    }
}

fn value(kind: Kind, raw: u64, mem: &Mem, tck: u64, out: &mut String) {
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
        Kind::SfdFlags => flags(raw, SFD_FLAGS, out),
        Kind::AtFlags => flags(raw, AT_FLAGS, out),
        Kind::UringFlags => flags(raw as u32 as u64, URING_FLAGS, out),
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

/// strace's printflags: known flags in table order joined by `|`, the rest in hex, or 0.
fn flags(mut v: u64, table: &[(u64, &str)], out: &mut String) {
    let mut first = true;
    for &(bit, name) in table {
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
    flags(fl, SA_FLAGS, out);
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
        out,
    );
    let _ = write!(out, ", ss_size={}}}", word(b, 2));
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
        assert_eq!(s, "{sa_handler=SIG_IGN, sa_mask=[INT], sa_flags=0x400}");
    }

    #[test]
    fn flag_sets() {
        let mut s = String::new();
        flags(0, SFD_FLAGS, &mut s);
        assert_eq!(s, "0");
        s.clear();
        flags(0o2004000 | 1, SFD_FLAGS, &mut s);
        assert_eq!(s, "SFD_CLOEXEC|SFD_NONBLOCK|0x1");
    }

    #[test]
    fn quoting() {
        let mut s = String::new();
        quote(b"a\"b\\c\n\x01\x012\xff", &mut s);
        assert_eq!(s, r#""a\"b\\c\n\1\0012\377""#);
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
