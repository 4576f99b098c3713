//! Signals in strace's notation (its signal.c and printsiginfo.c): sigsets, sigactions, stack_t, siginfo.

use super::{Flags, addr, flags};
use crate::decode::siginfo::{self as si, SigInfo};
use crate::decode::signal::{
    SA_RESETHAND, SA_RESTORER, SIG_DFL, SIG_ERR, SIG_IGN, SigAction, SigMask, StackT,
};
use crate::decode::{self, errno_name};
use crate::event::PidNames;
use crate::signal::Signal;
use crate::syscalls::syscall_name;
use std::fmt::Write;

/// strace's sigact_flags, in its order.
const SA_FLAGS: &Flags = &[
    (SA_RESTORER, "SA_RESTORER"),
    (0x0800_0000, "SA_ONSTACK"),
    (0x1000_0000, "SA_RESTART"),
    (0x2000_0000, "SA_INTERRUPT"),
    (0x4000_0000, "SA_NODEFER"),
    (SA_RESETHAND, "SA_RESETHAND"),
    (4, "SA_SIGINFO"),
    (1, "SA_NOCLDSTOP"),
    (2, "SA_NOCLDWAIT"),
];
const SS_FLAGS: &Flags = &[
    (1, "SS_ONSTACK"),
    (2, "SS_DISABLE"),
    (1 << 31, "SS_AUTODISARM"),
];
/// strace's name for an si_code: the generic ones first, then the signal's own.
pub fn code_name(code: i32, signo: Signal) -> Option<&'static str> {
    generic_code_name(code).or_else(|| {
        let table = match signo.0 {
            libc::SIGTRAP => TRAP_CODES,
            libc::SIGCHLD => CHLD_CODES,
            libc::SIGIO => IO_CODES,
            libc::SIGILL => ILL_CODES,
            libc::SIGFPE => FPE_CODES,
            libc::SIGSEGV => SEGV_CODES,
            libc::SIGBUS => BUS_CODES,
            libc::SIGSYS => SYS_CODES,
            _ => &[],
        };
        code.checked_sub(1)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| table.get(i))
            .copied()
            .filter(|s| !s.is_empty())
    })
}

/// The si_code values any signal may carry.
fn generic_code_name(code: i32) -> Option<&'static str> {
    match code {
        si::SI_USER => Some("SI_USER"),
        si::SI_KERNEL => Some("SI_KERNEL"),
        si::SI_QUEUE => Some("SI_QUEUE"),
        si::SI_TIMER => Some("SI_TIMER"),
        si::SI_MESGQ => Some("SI_MESGQ"),
        si::SI_ASYNCIO => Some("SI_ASYNCIO"),
        si::SI_SIGIO => Some("SI_SIGIO"),
        si::SI_TKILL => Some("SI_TKILL"),
        -7 => Some("SI_DETHREAD"),
        -60 => Some("SI_ASYNCNL"),
        _ => None,
    }
}

/// Signal-specific si_code names, from 1 on ("" where strace has none).
const TRAP_CODES: &[&str] = &[
    "TRAP_BRKPT",
    "TRAP_TRACE",
    "TRAP_BRANCH",
    "TRAP_HWBKPT",
    "TRAP_UNK",
    "TRAP_PERF",
];
const CHLD_CODES: &[&str] = &[
    "CLD_EXITED",
    "CLD_KILLED",
    "CLD_DUMPED",
    "CLD_TRAPPED",
    "CLD_STOPPED",
    "CLD_CONTINUED",
];
const IO_CODES: &[&str] = &[
    "POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP",
];
const ILL_CODES: &[&str] = &[
    "ILL_ILLOPC",
    "ILL_ILLOPN",
    "ILL_ILLADR",
    "ILL_ILLTRP",
    "ILL_PRVOPC",
    "ILL_PRVREG",
    "ILL_COPROC",
    "ILL_BADSTK",
];
const FPE_CODES: &[&str] = &[
    "FPE_INTDIV",
    "FPE_INTOVF",
    "FPE_FLTDIV",
    "FPE_FLTOVF",
    "FPE_FLTUND",
    "FPE_FLTRES",
    "FPE_FLTINV",
    "FPE_FLTSUB",
    "",
    "",
    "",
    "",
    "",
    "FPE_FLTUNK",
    "FPE_CONDTRAP",
];
const SEGV_CODES: &[&str] = &[
    "SEGV_MAPERR",
    "SEGV_ACCERR",
    "SEGV_BNDERR",
    "SEGV_PKUERR",
    "SEGV_ACCADI",
    "SEGV_ADIDERR",
    "SEGV_ADIPERR",
    "SEGV_MTEAERR",
    "SEGV_MTESERR",
];
const BUS_CODES: &[&str] = &[
    "BUS_ADRALN",
    "BUS_ADRERR",
    "BUS_OBJERR",
    "BUS_MCEERR_AR",
    "BUS_MCEERR_AO",
];
const SYS_CODES: &[&str] = &["SYS_SECCOMP", "SYS_USER_DISPATCH"];

/// strace's sprintsigmask_n: `[INT TERM]`, or `~[...]` listing the absent ones when at least
/// two thirds of the bits are set. `b` is the set as the call passed it (4 or 8 bytes).
pub fn sigset(b: &[u8], out: &mut String) {
    mask(SigMask::from_bytes(b), out);
}

fn mask(m: SigMask, out: &mut String) {
    let nbits = m.words * 32;
    let valid = if nbits == 64 {
        u64::MAX
    } else {
        (1u64 << nbits) - 1
    };
    let mut bits = m.bits;
    if bits.count_ones() as usize >= nbits * 2 / 3 {
        out.push('~');
        bits = !bits & valid;
    }
    out.push('[');
    let mut first = true;
    for bit in 0..nbits {
        if bits & (1 << bit) != 0 {
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

/// `{sa_handler=..., sa_mask=[...], sa_flags=..., sa_restorer=...}`.
pub fn sigaction(a: &SigAction, out: &mut String) {
    out.push_str("{sa_handler=");
    match a.handler {
        SIG_DFL => out.push_str("SIG_DFL"),
        SIG_IGN => out.push_str("SIG_IGN"),
        SIG_ERR => out.push_str("SIG_ERR"),
        h => {
            let _ = write!(out, "{h:#x}");
        }
    }
    out.push_str(", sa_mask=");
    mask(a.mask, out);
    out.push_str(", sa_flags=");
    flags(a.flags, SA_FLAGS, "SA_???", out);
    if a.flags & SA_RESTORER != 0 {
        out.push_str(", sa_restorer=");
        addr(a.restorer, out);
    }
    out.push('}');
}

/// `{ss_sp=..., ss_flags=..., ss_size=N}`.
pub fn stack_t(s: &StackT, out: &mut String) {
    out.push_str("{ss_sp=");
    addr(s.sp, out);
    out.push_str(", ss_flags=");
    flags(s.flags as u64, SS_FLAGS, "SS_???", out);
    let _ = write!(out, ", ss_size={}}}", s.size);
}

fn field_addr(out: &mut String, name: &str, a: u64) {
    if a == 0 {
        let _ = write!(out, ", {name}=NULL");
    } else {
        let _ = write!(out, ", {name}={a:#x}");
    }
}

fn source(out: &mut String, info: &SigInfo) {
    let _ = write!(out, ", si_pid={}, si_uid={}", info.pid(), id(info.uid()));
}

fn value(out: &mut String, info: &SigInfo) {
    let _ = write!(out, ", si_int={}", info.int());
    field_addr(out, "si_ptr", info.ptr());
}

/// strace prints an id as unsigned except for -1.
fn id(v: u32) -> i64 {
    if v == u32::MAX { -1 } else { v as i64 }
}

/// A clock_t with strace's `/* 0.45 s */` comment.
fn clock_t(out: &mut String, name: &str, v: u64, tck: u64) {
    let _ = write!(out, ", {name}={v}");
    if v > 0 && tck > 0 {
        let width = tck.ilog10() as usize;
        let frac = (v % tck) as f64 / tck as f64;
        let f = format!("{frac:.width$}");
        let _ = write!(out, " /* {}{} s */", v / tck, &f[1..]);
    }
}

/// strace's printsiginfo: `{si_signo=SIGTERM, si_code=SI_USER, si_pid=1, si_uid=0}`.
/// As `siginfo`, with what follows its si_pid (-Y, --decode-pids).
pub fn siginfo_named(info: &SigInfo, tck: u64, names: Option<&PidNames>, out: &mut String) {
    let start = out.len();
    siginfo(info, tck, out);
    let Some(after) = names
        .map(|n| n.of(info.pid() as i64))
        .filter(|a| !a.is_empty())
    else {
        return;
    };
    let field = format!(", si_pid={},", info.pid());
    if let Some(at) = out[start..].find(&field) {
        out.insert_str(start + at + field.len() - 1, after);
    }
}

pub fn siginfo(info: &SigInfo, tck: u64, out: &mut String) {
    let signo = info.signo();
    if signo.0 == 0 {
        out.push_str("{}");
        return;
    }
    let code = info.code();
    let _ = write!(out, "{{si_signo={signo}, si_code=");
    match code_name(code, signo) {
        Some(name) => out.push_str(name),
        None => {
            let _ = write!(out, "{:#x}", code as u32);
        }
    }
    if info.errno() != 0 {
        let e = info.errno();
        let _ = match errno_name(e) {
            Some(n) => write!(out, ", si_errno={n}"),
            None => write!(out, ", si_errno={}", e as u32),
        };
    }
    if info.recorded() {
        // Only the sender is known of a signal rebuilt from the kernel's record.
        if si::sent_by_process(code) {
            source(out, info);
        }
    } else if info.from_user() {
        user_fields(info, out);
    } else {
        kernel_fields(info, tck, out);
    }
    out.push('}');
}

/// C's `%#x`, as strace prints: `0` for zero (no `0x`), `0x1f` otherwise.
fn c_hex(v: u64) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

fn user_fields(info: &SigInfo, out: &mut String) {
    match info.code() {
        si::SI_USER | si::SI_TKILL => source(out, info),
        si::SI_TIMER => {
            let _ = write!(
                out,
                ", si_timerid={}, si_overrun={}",
                c_hex(info.timerid() as u32 as u64),
                info.overrun()
            );
            value(out, info);
        }
        si::SI_SIGIO => {
            let _ = write!(out, ", si_band={}, si_fd={}", info.band(), info.fd());
        }
        _ => {
            source(out, info);
            if info.ptr() != 0 {
                value(out, info);
            }
        }
    }
}

fn kernel_fields(info: &SigInfo, tck: u64, out: &mut String) {
    let code = info.code();
    match info.signo().0 {
        libc::SIGCHLD => {
            source(out, info);
            if code == si::CLD_EXITED {
                let _ = write!(out, ", si_status={}", info.status());
            } else {
                let _ = write!(out, ", si_status={}", Signal(info.status()));
            }
            clock_t(out, "si_utime", info.utime(), tck);
            clock_t(out, "si_stime", info.stime(), tck);
        }
        libc::SIGILL | libc::SIGFPE | libc::SIGTRAP => field_addr(out, "si_addr", info.addr()),
        libc::SIGBUS => {
            field_addr(out, "si_addr", info.addr());
            if code == si::BUS_MCEERR_AR || code == si::BUS_MCEERR_AO {
                let _ = write!(out, ", si_addr_lsb={}", c_hex(info.addr_lsb().into()));
            }
        }
        libc::SIGSEGV => {
            field_addr(out, "si_addr", info.addr());
            if code == si::SEGV_BNDERR {
                field_addr(out, "si_lower", info.lower());
                field_addr(out, "si_upper", info.upper());
            } else if code == si::SEGV_PKUERR {
                let _ = write!(out, ", si_pkey={}", info.pkey());
            }
        }
        libc::SIGIO => {
            if (1..=6).contains(&code) {
                let _ = write!(out, ", si_band={}, si_fd={}", info.band(), info.fd());
            }
        }
        libc::SIGSYS => {
            field_addr(out, "si_call_addr", info.call_addr());
            let nr = info.syscall() as u32;
            let native = info.arch() == decode::AUDIT_ARCH_X86_64;
            let _ = match syscall_name(nr).filter(|_| native) {
                Some(name) => write!(out, ", si_syscall=__NR_{name}"),
                None => write!(out, ", si_syscall={nr}"),
            };
            let _ = match info.arch() {
                decode::AUDIT_ARCH_X86_64 => write!(out, ", si_arch=AUDIT_ARCH_X86_64"),
                decode::AUDIT_ARCH_I386 => write!(out, ", si_arch=AUDIT_ARCH_I386"),
                a => write!(out, ", si_arch={a:#x} /* AUDIT_ARCH_??? */"),
            };
        }
        _ => {
            if info.pid() != 0 || info.uid() != 0 {
                source(out, info);
            }
            if info.ptr() != 0 {
                value(out, info);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::siginfo::testing::build;

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
        sigaction(&SigAction::from_bytes(&b).unwrap(), &mut s);
        assert_eq!(
            s,
            "{sa_handler=0x55d1c0a1e169, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f8afe8f8050}"
        );
        let mut ign = [0u8; 32];
        ign[0] = 1;
        ign[24] = 1 << 1;
        ign[8..16].copy_from_slice(&0x400u64.to_ne_bytes());
        s.clear();
        sigaction(&SigAction::from_bytes(&ign).unwrap(), &mut s);
        assert_eq!(
            s,
            "{sa_handler=SIG_IGN, sa_mask=[INT], sa_flags=0x400 /* SA_??? */}"
        );
    }

    fn fmt(info: SigInfo) -> String {
        let mut s = String::new();
        siginfo(&info, 100, &mut s);
        s
    }

    #[test]
    fn user_signals() {
        assert_eq!(
            fmt(build(15, 0, &[(16, 6881, 4), (20, 1000, 4)])),
            "{si_signo=SIGTERM, si_code=SI_USER, si_pid=6881, si_uid=1000}"
        );
        assert_eq!(
            fmt(build(6, -6, &[(16, 12, 4)])),
            "{si_signo=SIGABRT, si_code=SI_TKILL, si_pid=12, si_uid=0}"
        );
        // SI_QUEUE: the value only when si_ptr is not NULL, as strace does.
        assert_eq!(
            fmt(build(36, -1, &[(16, 5, 4)])),
            "{si_signo=SIGRT_4, si_code=SI_QUEUE, si_pid=5, si_uid=0}"
        );
        assert_eq!(
            fmt(build(36, -1, &[(16, 5, 4), (24, 7, 8)])),
            "{si_signo=SIGRT_4, si_code=SI_QUEUE, si_pid=5, si_uid=0, si_int=7, si_ptr=0x7}"
        );
        assert_eq!(
            fmt(build(14, -2, &[(16, 1, 4), (20, 2, 4), (24, 0, 8)])),
            "{si_signo=SIGALRM, si_code=SI_TIMER, si_timerid=0x1, si_overrun=2, si_int=0, si_ptr=NULL}"
        );
        assert_eq!(
            fmt(build(14, -3, &[(16, 9, 4), (20, u32::MAX as u64, 4)])),
            "{si_signo=SIGALRM, si_code=SI_MESGQ, si_pid=9, si_uid=-1}"
        );
        assert_eq!(
            fmt(build(29, -5, &[(16, 1, 8), (24, 3, 4)])),
            "{si_signo=SIGIO, si_code=SI_SIGIO, si_band=1, si_fd=3}"
        );
        assert_eq!(
            fmt(build(10, -4, &[(16, 3, 4)])),
            "{si_signo=SIGUSR1, si_code=SI_ASYNCIO, si_pid=3, si_uid=0}"
        );
    }

    #[test]
    fn kernel_signals() {
        assert_eq!(
            fmt(build(2, 0x80, &[])),
            "{si_signo=SIGINT, si_code=SI_KERNEL}"
        );
        assert_eq!(
            fmt(build(11, 1, &[(16, 0x10, 8)])),
            "{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10}"
        );
        assert_eq!(
            fmt(build(11, 0x80, &[])),
            "{si_signo=SIGSEGV, si_code=SI_KERNEL, si_addr=NULL}"
        );
        assert_eq!(
            fmt(build(11, 4, &[(16, 0x1000, 8), (32, 5, 4)])),
            "{si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=0x1000, si_pkey=5}"
        );
        assert_eq!(
            fmt(build(7, 4, &[(16, 0x2000, 8), (24, 12, 2)])),
            "{si_signo=SIGBUS, si_code=BUS_MCEERR_AR, si_addr=0x2000, si_addr_lsb=0xc}"
        );
        assert_eq!(
            fmt(build(8, 1, &[(16, 0x401000, 8)])),
            "{si_signo=SIGFPE, si_code=FPE_INTDIV, si_addr=0x401000}"
        );
        assert_eq!(
            fmt(build(4, 2, &[(16, 0x401000, 8)])),
            "{si_signo=SIGILL, si_code=ILL_ILLOPN, si_addr=0x401000}"
        );
        assert_eq!(
            fmt(build(5, 1, &[(16, 0x401000, 8)])),
            "{si_signo=SIGTRAP, si_code=TRAP_BRKPT, si_addr=0x401000}"
        );
        assert_eq!(
            fmt(build(29, 1, &[(16, 65, 8), (24, 4, 4)])),
            "{si_signo=SIGIO, si_code=POLL_IN, si_band=65, si_fd=4}"
        );
        assert_eq!(
            fmt(build(
                31,
                1,
                &[
                    (16, 0x7f00, 8),
                    (24, 39, 4),
                    (28, decode::AUDIT_ARCH_X86_64 as u64, 4)
                ]
            )),
            "{si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x7f00, si_syscall=__NR_getpid, si_arch=AUDIT_ARCH_X86_64}"
        );
    }

    #[test]
    fn sigchld_with_times() {
        assert_eq!(
            fmt(build(
                17,
                1,
                &[(16, 42, 4), (24, 4, 4), (32, 45, 8), (40, 0, 8)]
            )),
            "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=42, si_uid=0, si_status=4, si_utime=45 /* 0.45 s */, si_stime=0}"
        );
        assert_eq!(
            fmt(build(
                17,
                2,
                &[(16, 42, 4), (24, 15, 4), (32, 1234, 8), (40, 5, 8)]
            )),
            "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=42, si_uid=0, si_status=SIGTERM, si_utime=1234 /* 12.34 s */, si_stime=5 /* 0.05 s */}"
        );
    }

    #[test]
    fn odd_values() {
        assert_eq!(fmt(build(0, 0, &[])), "{}");
        assert_eq!(
            fmt(build(15, 1, &[(4, 2, 4)])),
            "{si_signo=SIGTERM, si_code=0x1, si_errno=ENOENT}"
        );
        assert_eq!(fmt(build(70, 5, &[])), "{si_signo=70, si_code=0x5}");
        assert_eq!(
            fmt(build(2, -100, &[])),
            "{si_signo=SIGINT, si_code=0xffffff9c, si_pid=0, si_uid=0}"
        );
    }

    #[test]
    fn code_names() {
        assert_eq!(code_name(0, Signal(15)), Some("SI_USER"));
        assert_eq!(code_name(-6, Signal(6)), Some("SI_TKILL"));
        assert_eq!(code_name(1, Signal(11)), Some("SEGV_MAPERR"));
        assert_eq!(code_name(4, Signal(11)), Some("SEGV_PKUERR"));
        assert_eq!(code_name(3, Signal(17)), Some("CLD_DUMPED"));
        assert_eq!(code_name(14, Signal(8)), Some("FPE_FLTUNK"));
        assert_eq!(code_name(9, Signal(8)), None);
        assert_eq!(code_name(1, Signal(15)), None);
        assert_eq!(code_name(0x80, Signal(2)), Some("SI_KERNEL"));
        assert_eq!(code_name(-100, Signal(2)), None);
    }
}
