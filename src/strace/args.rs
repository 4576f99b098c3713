//! A syscall's line in strace's notation: `name(` and its arguments at entry and exit, and `= result`.

use super::{Flags, addr, clone, flags, hex, signal, wait};
use crate::decode::clone::CLONE_TAIL_FLAGS;
use crate::decode::errno_name;
use crate::decode::i32_at;
use crate::decode::siginfo::{SIGINFO_SIZE, SigInfo};
use crate::decode::signal::{SigAction, StackT, Timespec};
use crate::decode::wait::{Rusage, WaitStatus};
use crate::event::{ArgStr, ArgvEnd, Mem, PidNames, Syscall};
use crate::signal::Signal;
use crate::syscalls::{Arg, Kind, Memory, Ret, Spec, Value};
use crate::text::{error_text, quote};
use std::fmt::Write;

pub(crate) const SFD_FLAGS: &Flags = &[(0o2000000, "SFD_CLOEXEC"), (0o4000, "SFD_NONBLOCK")];
const AT_FLAGS: &Flags = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_REMOVEDIR"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x8000, "AT_RECURSIVE"),
];
const URING_FLAGS: &Flags = &[
    (1, "IORING_ENTER_GETEVENTS"),
    (2, "IORING_ENTER_SQ_WAKEUP"),
    (4, "IORING_ENTER_SQ_WAIT"),
    (8, "IORING_ENTER_EXT_ARG"),
    (16, "IORING_ENTER_REGISTERED_RING"),
];
const AT_FDCWD: i32 = -100;

/// `name(` and the arguments known at entry (with the separator before the exit-time ones).
/// `names` (-Y): what follows each pid shown.
pub fn entry(spec: &Spec, call: &Syscall, tck: u64, names: Option<&PidNames>, out: &mut String) {
    out.push_str(spec.name);
    out.push('(');
    args(spec.entry, call, tck, names, out);
    if !spec.entry.is_empty() && exit_shows(spec, &call.args) {
        out.push_str(", ");
    }
}

/// Whether the exit-time part of a call starts with `, ` and shows anything (clone's may show
/// nothing; clone3's brings its own separators).
pub fn exit_shows(spec: &Spec, args: &[u64; 6]) -> bool {
    spec.exit.iter().any(|a| match a.kind {
        Kind::Memory(Memory::CloneTail) => args[0] & CLONE_TAIL_FLAGS != 0,
        Kind::Memory(Memory::Clone3Tail) => false,
        _ => true,
    })
}

/// The arguments filled in by the call.
pub fn exit(spec: &Spec, call: &Syscall, tck: u64, names: Option<&PidNames>, out: &mut String) {
    args(spec.exit, call, tck, names, out);
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

fn args(list: &[Arg], call: &Syscall, tck: u64, names: Option<&PidNames>, out: &mut String) {
    for (i, (arg, mem)) in with_mem(list, call).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        one(arg, call, mem, tck, out);
        if arg.kind == Kind::Value(Value::Pid)
            && let Some(names) = names
        {
            out.push_str(names.of(call.args[arg.idx as usize] as i32 as i64));
        }
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
        Kind::Value(v) => register(v, raw, out),
        Kind::Memory(m) => memory(m, raw, all, mem, tck, out),
    }
}

/// An argument shown from its register.
fn register(kind: Value, raw: u64, out: &mut String) {
    match kind {
        Value::Sig => {
            let _ = write!(out, "{}", Signal(raw as i32));
        }
        Value::Int | Value::Pid | Value::Fd => {
            let _ = write!(out, "{}", raw as i32);
        }
        Value::DirFd if raw as i32 == AT_FDCWD => out.push_str("AT_FDCWD"),
        Value::DirFd => {
            let _ = write!(out, "{}", raw as i32);
        }
        Value::ULong => {
            let _ = write!(out, "{raw}");
        }
        Value::XU32 => hex(raw as u32 as u64, out),
        Value::Hex => hex(raw, out),
        Value::How => how(raw, out),
        Value::SfdFlags => flags(raw, SFD_FLAGS, "SFD_???", out),
        Value::AtFlags => flags(raw, AT_FLAGS, "AT_???", out),
        Value::UringFlags => flags(raw as u32 as u64, URING_FLAGS, "IORING_ENTER_???", out),
        Value::WaitOptions => wait::wait_options(raw, out),
        Value::IdType => wait::id_type(raw, out),
        Value::CloneStack => {
            out.push_str("child_stack=");
            addr(raw, out);
        }
        Value::CloneFlags => clone::clone_flags(raw, out),
    }
}

/// An argument shown from the memory the tracer read for it.
fn memory(kind: Memory, raw: u64, all: &[u64; 6], mem: &Mem, tck: u64, out: &mut String) {
    match kind {
        Memory::CloneTail => clone::clone_tail(all, i32_at(bytes(mem).unwrap_or(&[]), 0), out),
        Memory::Clone3Args => {
            let c = match mem {
                Mem::Clone3(c) => Some(c),
                _ => None,
            };
            clone::clone3_entry(raw, all[1], c, out);
        }
        Memory::Clone3Tail => {
            let tail = match mem {
                Mem::Clone3Exit(x) => clone::Clone3Tail::Read(x),
                Mem::Fault => clone::Clone3Tail::Fault,
                _ => clone::Clone3Tail::Nothing,
            };
            clone::clone3_exit(raw, all[1], tail, out);
        }
        Memory::FrameMask => {
            out.push_str("{mask=");
            pointed(Memory::SigSet { size: 0, min: 0 }, raw, mem, tck, out);
            out.push('}');
        }
        Memory::EnvCount => {
            addr(raw, out);
            if let Mem::Count(n, unterminated) = mem {
                let s = if *n == 1 { "" } else { "s" };
                let u = if *unterminated { ", unterminated" } else { "" };
                let _ = write!(out, " /* {n} var{s}{u} */");
            }
        }
        _ => pointed(kind, raw, mem, tck, out),
    }
}

/// An argument that points to what the tracer read: the value there, or else the address.
fn pointed(kind: Memory, raw: u64, mem: &Mem, tck: u64, out: &mut String) {
    let b = bytes(mem).unwrap_or(&[]);
    let shown = match (kind, mem) {
        (Memory::WaitStatus, _) => WaitStatus::from_bytes(b).map(|s| wait::wait_status(s, out)),
        (Memory::WaitRusage | Memory::Rusage, _) => {
            Rusage::from_bytes(b).map(|r| wait::rusage(&r, out))
        }
        (Memory::SigSet { .. }, _) => bytes(mem).map(|b| signal::sigset(b, out)),
        (Memory::SigAction, _) => SigAction::from_bytes(b).map(|a| signal::sigaction(&a, out)),
        (Memory::StackT, _) => StackT::from_bytes(b).map(|s| signal::stack_t(&s, out)),
        (Memory::Timespec, _) => Timespec::from_bytes(b).map(|t| timespec(&t, out)),
        (Memory::SigInfo, _) => <[u8; SIGINFO_SIZE]>::try_from(b)
            .ok()
            .map(|b| signal::siginfo(&SigInfo::from_bytes(b), tck, out)),
        (Memory::Path, Mem::Str(s, complete)) => {
            quote(s, out);
            if !complete {
                out.push_str("...");
            }
            Some(())
        }
        (Memory::Argv, Mem::Argv(items, end)) => {
            argv(items, *end, out);
            Some(())
        }
        _ => None,
    };
    if shown.is_none() {
        addr(raw, out);
    }
}

/// SIG_BLOCK / SIG_UNBLOCK / SIG_SETMASK.
fn how(raw: u64, out: &mut String) {
    match raw {
        0 => out.push_str("SIG_BLOCK"),
        1 => out.push_str("SIG_UNBLOCK"),
        2 => out.push_str("SIG_SETMASK"),
        _ => {
            let _ = write!(out, "{raw:#x} /* SIG_??? */");
        }
    }
}

fn timespec(t: &Timespec, out: &mut String) {
    let _ = write!(out, "{{tv_sec={}, tv_nsec={}}}", t.sec, t.nsec);
}

fn argv(items: &[ArgStr], end: ArgvEnd, out: &mut String) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match &item.text {
            Some((bytes, complete)) => {
                quote(bytes, out);
                if !complete {
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

/// The return value: `0`, `10 (SIGUSR1)`, `-1 ESRCH (No such process)`, `? ERESTARTNOHAND (...)`.
pub fn ret(spec: &Spec, rval: i64, is_error: bool, names: Option<&PidNames>, out: &mut String) {
    if is_error {
        let e = rval.wrapping_neg() as i32;
        if let Some(text) = restart_text(e) {
            let _ = write!(out, "? {text}");
            return;
        }
        let text = error_text(&std::io::Error::from_raw_os_error(e));
        let _ = match errno_name(e) {
            Some(name) => write!(out, "-1 {name} ({text})"),
            None => write!(out, "-1 {e} ({text})"),
        };
        return;
    }
    let _ = write!(out, "{rval}");
    if spec.ret == Ret::Pid
        && let Some(names) = names
    {
        out.push_str(names.of(rval));
    }
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

    #[test]
    fn returns() {
        let spec = crate::syscalls::spec(128);
        let mut s = String::new();
        ret(&spec, 10, false, None, &mut s);
        assert_eq!(s, "10 (SIGUSR1)");
        s.clear();
        ret(&spec, -3, true, None, &mut s);
        assert_eq!(s, "-1 ESRCH (No such process)");
        s.clear();
        ret(&spec, -514, true, None, &mut s);
        assert_eq!(s, "? ERESTARTNOHAND (To be restarted if no handler)");
        // -Y: a pid a wait4 returns, with its name; an error has none.
        let names = PidNames {
            own: None,
            pids: vec![(42, "<sh>".into())],
        };
        let wait4 = crate::syscalls::spec(61);
        s.clear();
        ret(&wait4, 42, false, Some(&names), &mut s);
        assert_eq!(s, "42<sh>");
        s.clear();
        ret(&wait4, -10, true, Some(&names), &mut s);
        assert_eq!(s, "-1 ECHILD (No child processes)");
        s.clear();
        ret(&spec, -514, true, None, &mut s);
        assert_eq!(s, "? ERESTARTNOHAND (To be restarted if no handler)");
    }
}
