//! wait4's and waitid's results from their raw bytes: the wait status and struct rusage.

/// An int status.
pub const STATUS_SIZE: usize = 4;
/// struct rusage on x86_64: strace shows it only when all of it is readable.
pub const RUSAGE_SIZE: usize = 144;
/// Its first part, ru_utime and ru_stime: all strace shows without -v.
pub const RUSAGE_SHOWN: usize = 32;

/// The raw status wait4 stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStatus(pub u32);

impl WaitStatus {
    pub fn from_bytes(b: &[u8]) -> Option<WaitStatus> {
        let b: [u8; 4] = b.get(..STATUS_SIZE)?.try_into().ok()?;
        Some(WaitStatus(u32::from_ne_bytes(b)))
    }
}

/// ru_utime and ru_stime, as (seconds, microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rusage {
    pub utime: (i64, u64),
    pub stime: (i64, u64),
}

impl Rusage {
    /// From the first RUSAGE_SHOWN bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Rusage> {
        use super::u64_at;
        (b.len() >= RUSAGE_SHOWN).then(|| Rusage {
            utime: (u64_at(b, 0) as i64, u64_at(b, 8)),
            stime: (u64_at(b, 16) as i64, u64_at(b, 24)),
        })
    }
}
