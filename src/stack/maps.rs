//! /proc/PID/maps: the tracee's mappings, read once per address-space change.

use std::io;

/// One line of /proc/PID/maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub offset: u64,
    pub exec: bool,
    pub dev: String,
    pub inode: u64,
    /// The path as the kernel prints it ("/usr/lib/libc.so.6", "/tmp/x (deleted)", "[vdso]"),
    /// empty for anonymous memory.
    pub path: String,
}

impl Mapping {
    pub fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }

    /// A regular file behind the mapping (not anonymous, not [vdso], [stack], ...).
    pub fn is_file(&self) -> bool {
        self.inode != 0 && !self.path.is_empty() && !self.path.starts_with('[')
    }
}

/// Reads and parses /proc/PID/maps.
pub fn read(pid: i32) -> io::Result<Vec<Mapping>> {
    let bytes = std::fs::read(format!("/proc/{pid}/maps"))?;
    Ok(parse(&String::from_utf8_lossy(&bytes)))
}

/// Parses the text of a maps file; malformed lines are skipped.
pub fn parse(text: &str) -> Vec<Mapping> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Mapping> {
    // "start-end perms offset dev inode    path": the path is what follows the inode's padding.
    let mut rest = line;
    let mut field = || {
        let t = rest.trim_start_matches(' ');
        let end = t.find(' ').unwrap_or(t.len());
        rest = &t[end..];
        Some(&t[..end])
    };
    let (start, end) = field()?.split_once('-')?;
    let perms = field()?;
    let offset = field()?;
    let dev = field()?;
    let inode = field()?;
    Some(Mapping {
        start: u64::from_str_radix(start, 16).ok()?,
        end: u64::from_str_radix(end, 16).ok()?,
        offset: u64::from_str_radix(offset, 16).ok()?,
        exec: perms.as_bytes().get(2) == Some(&b'x'),
        dev: dev.to_string(),
        inode: inode.parse().ok()?,
        path: rest.trim_start_matches(' ').to_string(),
    })
}

/// The mapping holding `addr`, in a list sorted by address as the kernel prints it.
pub fn find(maps: &[Mapping], addr: u64) -> Option<&Mapping> {
    let i = maps.partition_point(|m| m.end <= addr);
    maps.get(i).filter(|m| m.contains(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_anonymous_and_deleted_lines() {
        let text = "7f00-8f00 r-xp 00002000 fd:00 99 /tmp/k (deleted)\n\
                    7ffd1000-7ffd2000 rw-p 00000000 00:00 0 \n\
                    55d1c0a1d000-55d1c0a1e000 r-xp 00001000 08:01 1234                       /tmp/a b\n\
                    garbage\n";
        let m = parse(text);
        assert_eq!(m.len(), 3);
        assert_eq!(m[2].start, 0x55d1c0a1d000);
        assert_eq!(m[2].offset, 0x1000);
        assert!(m[2].exec && m[2].is_file());
        assert_eq!(m[2].path, "/tmp/a b");
        assert!(!m[1].exec && !m[1].is_file() && m[1].path.is_empty());
        assert_eq!(m[0].path, "/tmp/k (deleted)");
        assert_eq!(find(&m, 0x7f10).map(|m| m.inode), Some(99));
        assert!(find(&m, 0x10).is_none());
    }
}
