//! A process's place among processes (parent, group, session, terminal, command line), as read from /proc.

/// A process's place among processes: parent, process group, session, controlling terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub comm: Vec<u8>,
    pub ppid: i32,
    pub parent_comm: Vec<u8>,
    pub pgrp: i32,
    pub session: i32,
    /// "pts/3", "tty1", or None without a controlling terminal.
    pub tty: Option<String>,
    /// Its command line (at most ARGV_MAX bytes of /proc/PID/cmdline), one entry per argument.
    pub argv: Vec<Vec<u8>>,
    /// Read again at an exec: a new program in the same place (no line of its own, the
    /// verdict takes its name and arguments).
    pub exec: bool,
    /// Its real uid and cgroup (v2 path), read where a filter asks for them (the watch mode).
    pub uid: Option<u32>,
    pub cgroup: Option<std::sync::Arc<str>>,
}

/// How much of a command line a Context keeps.
pub const ARGV_MAX: usize = 16 * 1024;
