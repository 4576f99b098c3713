//! Decoders of tracee data: raw bytes in, typed values out, no I/O.
pub mod siginfo;
pub mod syscall;
pub mod tables;

/// The errno's symbolic name (ENOENT), as strace prints it.
pub fn errno_name(e: i32) -> Option<&'static str> {
    tables::ERRNO_NAMES
        .binary_search_by_key(&e, |&(n, _)| n)
        .ok()
        .map(|i| tables::ERRNO_NAMES[i].1)
}

fn syscall_entry(nr: u32) -> Option<&'static (u32, &'static str, u8)> {
    let t = tables::SYSCALLS_X86_64;
    t.binary_search_by_key(&nr, |&(n, _, _)| n)
        .ok()
        .map(|i| &t[i])
}

/// The x86_64 syscall's name.
pub fn syscall_name(nr: u32) -> Option<&'static str> {
    syscall_entry(nr).map(|e| e.1)
}

/// How many arguments the x86_64 syscall takes.
pub fn syscall_nargs(nr: u32) -> usize {
    syscall_entry(nr).map_or(6, |e| e.2 as usize)
}

pub fn syscall_nr(name: &str) -> Option<u32> {
    tables::SYSCALLS_X86_64
        .iter()
        .find(|e| e.1 == name)
        .map(|e| e.0)
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
        assert_eq!(super::syscall_nr("kill"), Some(62));
        assert_eq!(super::syscall_nargs(62), 2);
    }
}
