//! A process as sigtrace names it, once for every output: pid, uid, name, command line, program, parent chain, and whether it had ended (from the kernel's process table, or /proc).

use std::time::Duration;

/// A process that sent a signal, described once and shown the same way by every output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    pub pid: i32,
    pub uid: Option<u32>,
    pub comm: Vec<u8>,
    /// Its argv, read from /proc while it was alive (empty: not read); every output quotes it
    /// with `text::shell_words`.
    pub argv: Vec<Vec<u8>>,
    /// The program it exec'd, from the kernel's record (empty: not known).
    pub exe: Vec<u8>,
    /// Parent, grandparent, ... up to pid 1.
    pub ancestry: Vec<(i32, Vec<u8>)>,
    /// It had ended when it was described: named from the kernel's record of it.
    pub exited: Option<Exited>,
}

impl Sender {
    /// A sender known only by its pid and uid (a siginfo's): it had ended before anything
    /// could read it.
    pub fn unread(pid: i32, uid: u32) -> Sender {
        Sender {
            pid,
            uid: Some(uid),
            exited: Some(Exited {
                after_sending: None,
            }),
            ..Sender::default()
        }
    }

    /// Nothing but its pid and uid is known.
    pub fn is_unread(&self) -> bool {
        self.comm.is_empty() && self.argv.is_empty()
    }
}

/// A sender that had ended when it was described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exited {
    /// How long after its last signal it ended, when the kernel's record has both.
    pub after_sending: Option<Duration>,
}
