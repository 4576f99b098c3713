//! Signal structs from their raw x86_64 bytes: kernel sigaction, sigset, stack_t, timespec.

/// struct kernel_sigaction: handler, flags, restorer, then the 8-byte mask.
pub const SIGACTION_SIZE: usize = 32;
/// stack_t: ss_sp, ss_flags (int, padded), ss_size.
pub const STACK_T_SIZE: usize = 24;
/// The kernel's sigset_t.
pub const SIGSET_SIZE: usize = 8;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;
pub const SIG_ERR: u64 = u64::MAX;
/// Not in libc for Linux.
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_RESETHAND: u64 = libc::SA_RESETHAND as u32 as u64;

use super::u64_at;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: SigMask,
}

impl SigAction {
    /// None when fewer than SIGACTION_SIZE bytes were read.
    pub fn from_bytes(b: &[u8]) -> Option<SigAction> {
        (b.len() >= SIGACTION_SIZE).then(|| SigAction {
            handler: u64_at(b, 0),
            flags: u64_at(b, 8),
            restorer: u64_at(b, 16),
            mask: SigMask::from_bytes(&b[24..32]),
        })
    }
}

/// A sigset as the call passed it: its bits (bit N-1 for signal N), and how many 32-bit words
/// its byte size covers (strace prints a 4-byte set as 32 signals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigMask {
    pub bits: u64,
    pub words: usize,
}

impl SigMask {
    /// At most the first SIGSET_SIZE bytes count.
    pub fn from_bytes(b: &[u8]) -> SigMask {
        let b = &b[..b.len().min(SIGSET_SIZE)];
        let mut bits = 0u64;
        for (i, &byte) in b.iter().enumerate() {
            bits |= (byte as u64) << (8 * i);
        }
        SigMask {
            bits,
            words: b.len().div_ceil(4),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackT {
    pub sp: u64,
    pub flags: u32,
    pub size: u64,
}

impl StackT {
    pub fn from_bytes(b: &[u8]) -> Option<StackT> {
        (b.len() >= STACK_T_SIZE).then(|| StackT {
            sp: u64_at(b, 0),
            flags: u64_at(b, 8) as u32,
            size: u64_at(b, 16),
        })
    }
}

/// struct timespec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: u64,
}

pub const TIMESPEC_SIZE: usize = 16;

impl Timespec {
    pub fn from_bytes(b: &[u8]) -> Option<Timespec> {
        (b.len() >= TIMESPEC_SIZE).then(|| Timespec {
            sec: u64_at(b, 0) as i64,
            nsec: u64_at(b, 8),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigaction_fields() {
        let mut b = [0u8; 32];
        b[0] = 1;
        b[8..16].copy_from_slice(&SA_RESTORER.to_ne_bytes());
        b[24] = 2;
        let a = SigAction::from_bytes(&b).unwrap();
        assert_eq!(
            (a.handler, a.flags, a.mask.bits, a.mask.words),
            (SIG_IGN, SA_RESTORER, 2, 2)
        );
        assert_eq!(SigAction::from_bytes(&b[..31]), None);
        assert_eq!(SigMask::from_bytes(&[0xff; 12]).words, 2);
    }
}
