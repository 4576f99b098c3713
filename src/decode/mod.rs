//! Decoders of tracee data: raw bytes in, typed values out, no I/O.
pub mod siginfo;
pub mod tables;

/// The errno's symbolic name (ENOENT), as strace prints it.
pub fn errno_name(e: i32) -> Option<&'static str> {
    tables::ERRNO_NAMES
        .binary_search_by_key(&e, |&(n, _)| n)
        .ok()
        .map(|i| tables::ERRNO_NAMES[i].1)
}

/// The x86_64 syscall's name.
pub fn syscall_name(nr: u32) -> Option<&'static str> {
    tables::SYSCALL_NAMES_X86_64
        .binary_search_by_key(&nr, |&(n, _)| n)
        .ok()
        .map(|i| tables::SYSCALL_NAMES_X86_64[i].1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lookups() {
        assert_eq!(super::errno_name(3), Some("ESRCH"));
        assert_eq!(super::errno_name(133), Some("EHWPOISON"));
        assert_eq!(super::errno_name(9999), None);
        assert_eq!(super::syscall_name(39), Some("getpid"));
        assert_eq!(super::syscall_name(13), Some("rt_sigaction"));
    }
}
