//! Decoders of tracee data: raw bytes in, typed values out, no I/O.
pub mod clone;
pub mod errno;
pub mod siginfo;
pub mod signal;
pub mod wait;

/// The audit architecture of x86_64 syscalls (PTRACE_GET_SYSCALL_INFO, seccomp, SIGSYS).
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// The audit architecture of 32-bit x86 (int 0x80) syscalls.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;

/// A u64 field of `b` at byte `at`; 0 past its end (strace zeroes what it did not read).
pub fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .map_or(0, |f| u64::from_ne_bytes(f.try_into().expect("8 bytes")))
}

/// An i32 field of `b` at byte `at`, if `b` holds it.
pub fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    b.get(at..at + 4)
        .map(|f| i32::from_ne_bytes(f.try_into().expect("4 bytes")))
}

/// The errno's symbolic name (ENOENT), as strace prints it.
pub fn errno_name(e: i32) -> Option<&'static str> {
    errno::ERRNO_NAMES
        .binary_search_by_key(&e, |&(n, _)| n)
        .ok()
        .map(|i| errno::ERRNO_NAMES[i].1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lookups() {
        assert_eq!(super::errno_name(3), Some("ESRCH"));
        assert_eq!(super::errno_name(133), Some("EHWPOISON"));
        assert_eq!(super::errno_name(9999), None);
    }
}
