//! A process as sigtrace names it: pid, uid, name, command line, parent chain (read from /proc by procfs).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub pid: i32,
    pub uid: Option<u32>,
    pub comm: Vec<u8>,
    /// argv joined with spaces.
    pub cmdline: Vec<u8>,
    /// Parent, grandparent, ... up to pid 1.
    pub ancestry: Vec<(i32, Vec<u8>)>,
}
