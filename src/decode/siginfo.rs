//! siginfo_t (64-bit Linux layout) read from its raw 128 bytes, and the si_code values sigtrace tests.

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

/// si_codes whose si_pid names the process that sent the signal (the task that was running
/// when it was generated): SI_USER (kill), SI_QUEUE, SI_MESGQ (a message queue's notice,
/// raised in the task whose mq_send filled the empty queue), SI_TKILL. Others (SI_KERNEL,
/// timers, faults, SIGIO) may fire in whatever task ran at the moment, which must not be
/// named; a SIGCHLD's CLD_* codes name the child (`SigInfo::names_process`).
pub fn sent_by_process(code: i32) -> bool {
    matches!(code, SI_USER | SI_QUEUE | SI_MESGQ | SI_TKILL)
}

/// The size of siginfo_t.
pub const SIGINFO_SIZE: usize = 128;

/// One siginfo as PTRACE_GETSIGINFO returned it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SigInfo {
    raw: [u8; SIGINFO_SIZE],
}

impl std::fmt::Debug for SigInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigInfo(signo={}, code={})", self.signo(), self.code())
    }
}

/// The mark of a siginfo made from the kernel's record, in the 4 bytes of padding before the
/// union, which the kernel always clears (clear_siginfo).
const RECORDED: [u8; 4] = *b"rec\0";

/// The union starts at byte 16: three ints and 4 bytes of padding before it on 64-bit ABIs.
const U: usize = 16;

impl SigInfo {
    pub fn from_bytes(raw: [u8; SIGINFO_SIZE]) -> SigInfo {
        SigInfo { raw }
    }

    /// The siginfo of a signal as the kernel's record describes it: signo, code, and for a code
    /// that names a sender its pid and uid (the kill layout); nothing else is known of it.
    pub fn sent(signo: i32, code: i32, pid: i32, uid: u32) -> SigInfo {
        let mut raw = [0; SIGINFO_SIZE];
        raw[12..16].copy_from_slice(&RECORDED);
        raw[0..4].copy_from_slice(&signo.to_ne_bytes());
        raw[8..12].copy_from_slice(&code.to_ne_bytes());
        raw[U..U + 4].copy_from_slice(&pid.to_ne_bytes());
        raw[U + 4..U + 8].copy_from_slice(&uid.to_ne_bytes());
        SigInfo { raw }
    }

    /// Made from the kernel's record (`sent`): only signo, code, and a sender's pid and uid are
    /// known, not the fields a delivered siginfo carries (a fault's address, a timer's id).
    pub fn recorded(&self) -> bool {
        self.raw[12..16] == RECORDED
    }

    /// A read signalfd's struct signalfd_siginfo (signalfd(2)) as the siginfo it stands for:
    /// number, errno, code, sender, a child's status and times, a fault's address, a value.
    pub fn from_signalfd(ssi: &[u8; SIGINFO_SIZE]) -> SigInfo {
        let mut raw = [0u8; SIGINFO_SIZE];
        let mut copy = |from: usize, to: usize, len: usize| {
            raw[to..to + len].copy_from_slice(&ssi[from..from + len]);
        };
        // ssi_signo, ssi_errno, ssi_code: the siginfo's first three ints.
        copy(0, 0, 12);
        let signo = i32::from_ne_bytes(ssi[0..4].try_into().expect("4 bytes"));
        let code = i32::from_ne_bytes(ssi[8..12].try_into().expect("4 bytes"));
        let fault = matches!(
            signo,
            libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP
        ) && code > 0;
        if fault {
            copy(72, U, 8); // ssi_addr
        } else {
            copy(12, U, 8); // ssi_pid, ssi_uid
        }
        if signo == libc::SIGCHLD && code > 0 {
            copy(40, U + 8, 4); // ssi_status
            copy(56, U + 16, 8); // ssi_utime
            copy(64, U + 24, 8); // ssi_stime
        } else if !fault {
            copy(48, U + 8, 8); // ssi_ptr: the value sent
        }
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

    /// Whether si_pid and si_uid name a process: its sender, or for SIGCHLD with a CLD_* code
    /// the child it is about.
    pub fn names_process(&self) -> bool {
        sent_by_process(self.code())
            || (self.signo().0 == libc::SIGCHLD && (1..=6).contains(&self.code()))
    }

    /// Whether a process made this signal (si_code <= 0): kill, sigqueue, tgkill, timers, I/O.
    pub fn from_user(&self) -> bool {
        self.code() <= 0
    }
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
    fn codes_that_name_a_sender() {
        for code in [SI_USER, SI_QUEUE, SI_MESGQ, SI_TKILL] {
            assert!(sent_by_process(code), "{code}");
        }
        for code in [SI_KERNEL, SI_TIMER, SI_ASYNCIO, SI_SIGIO, CLD_EXITED] {
            assert!(!sent_by_process(code), "{code}");
        }
    }
}
