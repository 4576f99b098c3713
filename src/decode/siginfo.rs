//! siginfo_t (64-bit Linux layout) read from its raw 128 bytes, and the names of its si_code values.

use crate::signal::Signal;

pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TIMER: i32 = -2;
pub const SI_MESGQ: i32 = -3;
pub const SI_ASYNCIO: i32 = -4;
pub const SI_SIGIO: i32 = -5;
pub const SI_TKILL: i32 = -6;
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;
pub const BUS_MCEERR_AR: i32 = 4;
pub const BUS_MCEERR_AO: i32 = 5;
pub const SEGV_BNDERR: i32 = 3;
pub const SEGV_PKUERR: i32 = 4;

/// One siginfo as PTRACE_GETSIGINFO returned it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SigInfo {
    raw: [u8; 128],
}

impl std::fmt::Debug for SigInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigInfo(signo={}, code={})", self.signo(), self.code())
    }
}

/// The union starts at byte 16: three ints and 4 bytes of padding before it on 64-bit ABIs.
const U: usize = 16;

impl SigInfo {
    pub fn from_bytes(raw: [u8; 128]) -> SigInfo {
        SigInfo { raw }
    }

    fn i32_at(&self, off: usize) -> i32 {
        i32::from_ne_bytes(self.raw[off..off + 4].try_into().expect("4 bytes"))
    }
    fn u64_at(&self, off: usize) -> u64 {
        u64::from_ne_bytes(self.raw[off..off + 8].try_into().expect("8 bytes"))
    }

    pub fn signo(&self) -> Signal {
        Signal(self.i32_at(0))
    }
    pub fn errno(&self) -> i32 {
        self.i32_at(4)
    }
    pub fn code(&self) -> i32 {
        self.i32_at(8)
    }
    /// si_pid (kill, rt, sigchld).
    pub fn pid(&self) -> i32 {
        self.i32_at(U)
    }
    /// si_uid (kill, rt, sigchld).
    pub fn uid(&self) -> u32 {
        self.i32_at(U + 4) as u32
    }
    /// si_timerid (timer).
    pub fn timerid(&self) -> i32 {
        self.i32_at(U)
    }
    /// si_overrun (timer).
    pub fn overrun(&self) -> i32 {
        self.i32_at(U + 4)
    }
    /// si_int: the low half of si_value (rt, timer).
    pub fn int(&self) -> i32 {
        self.i32_at(U + 8)
    }
    /// si_ptr: si_value as a pointer (rt, timer).
    pub fn ptr(&self) -> u64 {
        self.u64_at(U + 8)
    }
    /// si_status (sigchld): an exit code or a signal number.
    pub fn status(&self) -> i32 {
        self.i32_at(U + 8)
    }
    pub fn utime(&self) -> u64 {
        self.u64_at(U + 16)
    }
    pub fn stime(&self) -> u64 {
        self.u64_at(U + 24)
    }
    /// si_addr (sigfault).
    pub fn addr(&self) -> u64 {
        self.u64_at(U)
    }
    /// si_addr_lsb (BUS_MCEERR_*): a short after si_addr.
    pub fn addr_lsb(&self) -> u16 {
        u16::from_ne_bytes(self.raw[U + 8..U + 10].try_into().expect("2 bytes"))
    }
    /// si_lower / si_upper (SEGV_BNDERR), after si_addr and its 8-byte-aligned si_addr_lsb.
    pub fn lower(&self) -> u64 {
        self.u64_at(U + 16)
    }
    pub fn upper(&self) -> u64 {
        self.u64_at(U + 24)
    }
    /// si_pkey (SEGV_PKUERR).
    pub fn pkey(&self) -> u32 {
        self.i32_at(U + 16) as u32
    }
    /// si_band (sigpoll): a long.
    pub fn band(&self) -> i64 {
        self.u64_at(U) as i64
    }
    /// si_fd (sigpoll).
    pub fn fd(&self) -> i32 {
        self.i32_at(U + 8)
    }
    /// si_call_addr / si_syscall / si_arch (sigsys).
    pub fn call_addr(&self) -> u64 {
        self.u64_at(U)
    }
    pub fn syscall(&self) -> i32 {
        self.i32_at(U + 8)
    }
    pub fn arch(&self) -> u32 {
        self.i32_at(U + 12) as u32
    }

    /// Whether a process made this signal (si_code <= 0): kill, sigqueue, tgkill, timers, I/O.
    pub fn from_user(&self) -> bool {
        self.code() <= 0
    }
}

/// strace's name for an si_code: the generic ones first, then the signal's own.
pub fn code_name(code: i32, signo: Signal) -> Option<&'static str> {
    let generic = match code {
        SI_USER => Some("SI_USER"),
        SI_KERNEL => Some("SI_KERNEL"),
        SI_QUEUE => Some("SI_QUEUE"),
        SI_TIMER => Some("SI_TIMER"),
        SI_MESGQ => Some("SI_MESGQ"),
        SI_ASYNCIO => Some("SI_ASYNCIO"),
        SI_SIGIO => Some("SI_SIGIO"),
        SI_TKILL => Some("SI_TKILL"),
        -7 => Some("SI_DETHREAD"),
        -60 => Some("SI_ASYNCNL"),
        _ => None,
    };
    if generic.is_some() {
        return generic;
    }
    let table: &[&str] = match signo.0 {
        libc::SIGTRAP => &[
            "TRAP_BRKPT",
            "TRAP_TRACE",
            "TRAP_BRANCH",
            "TRAP_HWBKPT",
            "TRAP_UNK",
            "TRAP_PERF",
        ],
        libc::SIGCHLD => &[
            "CLD_EXITED",
            "CLD_KILLED",
            "CLD_DUMPED",
            "CLD_TRAPPED",
            "CLD_STOPPED",
            "CLD_CONTINUED",
        ],
        libc::SIGIO => &[
            "POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP",
        ],
        libc::SIGILL => &[
            "ILL_ILLOPC",
            "ILL_ILLOPN",
            "ILL_ILLADR",
            "ILL_ILLTRP",
            "ILL_PRVOPC",
            "ILL_PRVREG",
            "ILL_COPROC",
            "ILL_BADSTK",
        ],
        libc::SIGFPE => &[
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
        ],
        libc::SIGSEGV => &[
            "SEGV_MAPERR",
            "SEGV_ACCERR",
            "SEGV_BNDERR",
            "SEGV_PKUERR",
            "SEGV_ACCADI",
            "SEGV_ADIDERR",
            "SEGV_ADIPERR",
            "SEGV_MTEAERR",
            "SEGV_MTESERR",
        ],
        libc::SIGBUS => &[
            "BUS_ADRALN",
            "BUS_ADRERR",
            "BUS_OBJERR",
            "BUS_MCEERR_AR",
            "BUS_MCEERR_AO",
        ],
        libc::SIGSYS => &["SYS_SECCOMP", "SYS_USER_DISPATCH"],
        _ => &[],
    };
    code.checked_sub(1)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| table.get(i))
        .copied()
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
pub mod testing {
    use super::SigInfo;

    /// Builds raw siginfo bytes: (offset, value) pairs of 4- or 8-byte fields.
    pub fn build(signo: i32, code: i32, fields: &[(usize, u64, usize)]) -> SigInfo {
        let mut raw = [0u8; 128];
        raw[0..4].copy_from_slice(&signo.to_ne_bytes());
        raw[8..12].copy_from_slice(&code.to_ne_bytes());
        for &(off, v, size) in fields {
            raw[off..off + size].copy_from_slice(&v.to_ne_bytes()[..size]);
        }
        SigInfo::from_bytes(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
