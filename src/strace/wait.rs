//! wait4 and waitid in strace's notation (its wait.c): statuses, options, id types, rusage.

use super::{Flags, flags, hex};
use crate::decode::wait::{Rusage, WaitStatus};
use crate::signal::Signal;
use std::fmt::Write;

/// strace's wait4_options, in its order.
const WAIT_OPTIONS: &Flags = &[
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

/// strace's printstatus: the wait status as the W* macros that would test it.
pub fn wait_status(status: WaitStatus, out: &mut String) {
    let mut s = status.0;
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
pub fn rusage(r: &Rusage, out: &mut String) {
    let _ = write!(
        out,
        "{{ru_utime={{tv_sec={}, tv_usec={}}}, ru_stime={{tv_sec={}, tv_usec={}}}, ...}}",
        r.utime.0, r.utime.1, r.stime.0, r.stime.1
    );
}

/// WNOHANG|WEXITED|... (wait4, waitid).
pub fn wait_options(raw: u64, out: &mut String) {
    flags(raw as u32 as u64, WAIT_OPTIONS, "W???", out);
}

/// waitid's P_ALL / P_PID / P_PGID / P_PIDFD.
pub fn id_type(raw: u64, out: &mut String) {
    match ID_TYPES.get(raw as u32 as usize) {
        Some(name) => out.push_str(name),
        None => {
            let _ = write!(out, "{:#x} /* P_??? */", raw as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_statuses_as_strace_prints_them() {
        let show = |s: u32| {
            let mut out = String::new();
            wait_status(WaitStatus(s), &mut out);
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
}
