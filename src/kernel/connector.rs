//! The netlink proc connector: every process's fork, exec and exit (with its wait status) as they happen, for the record mode.
//!
//! Why the connector for the ends: no tracepoint carries an exit status (sched_process_exit has
//! none), and the connector's PROC_EVENT_EXIT has the task's wait status, core-dump bit
//! included, for any process on the host. Its messages are sent without waiting for memory: a
//! full socket drops them (ENOBUFS), which is counted, never silent. neli carries the protocol.

use neli::connector::{CnMsg, CnMsgBuilder, ProcEvent, ProcEventHeader};
use neli::consts::connector::{CnMsgIdx, CnMsgVal, ProcCnMcastOp};
use neli::consts::nl::{NlmF, Nlmsg};
use neli::consts::socket::NlFamily;
use neli::nl::{NlPayload, NlmsghdrBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::utils::Groups;
use std::os::fd::{AsRawFd, RawFd};

/// One process event, stamped with CLOCK_MONOTONIC (the clock of the kernel's record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new task: a process (`tid == pid`) or a thread of `pid`, made by `parent`.
    Fork {
        time_ns: u64,
        parent: i32,
        tid: i32,
        pid: i32,
    },
    Exec {
        time_ns: u64,
        pid: i32,
    },
    /// A task ended; `status` is its wait status (the process's when `tid == pid`).
    Exit {
        time_ns: u64,
        tid: i32,
        pid: i32,
        status: i32,
    },
}

impl Change {
    pub fn time_ns(&self) -> u64 {
        match *self {
            Change::Fork { time_ns, .. }
            | Change::Exec { time_ns, .. }
            | Change::Exit { time_ns, .. } => time_ns,
        }
    }
}

pub struct Connector {
    socket: NlSocketHandle,
    /// Messages the kernel could not queue (the socket was full), as far as they are known.
    pub lost: u64,
}

impl Connector {
    /// Subscribes to every process's events.
    pub fn open() -> Result<Connector, String> {
        let what = |e: &dyn std::fmt::Display| format!("the proc connector: {e}");
        let socket = NlSocketHandle::connect(
            NlFamily::Connector,
            None,
            Groups::new_bitmask(CnMsgIdx::Proc.into()),
        )
        .map_err(|e| what(&e))?;
        // Room for bursts between two reads (a fork storm anywhere on the host).
        crate::sys::grow_recv_buffer(socket.as_raw_fd(), 8 << 20);
        let listen = CnMsgBuilder::default()
            .idx(CnMsgIdx::Proc)
            .val(CnMsgVal::Proc)
            .payload(ProcCnMcastOp::Listen)
            .build()
            .map_err(|e| what(&e))?;
        let msg = NlmsghdrBuilder::default()
            .nl_type(Nlmsg::Done)
            .nl_flags(NlmF::empty())
            .nl_pid(socket.pid())
            .nl_payload(NlPayload::Payload(listen))
            .build()
            .map_err(|e| what(&e))?;
        socket.send(&msg).map_err(|e| what(&e))?;
        Ok(Connector { socket, lost: 0 })
    }

    pub fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// Every event waiting now, without blocking.
    pub fn read(&mut self, out: &mut Vec<Change>) {
        while crate::sys::readable(self.fd(), 0) {
            match self.socket.recv::<Nlmsg, CnMsg<ProcEventHeader>>() {
                Ok((msgs, _)) => {
                    for msg in msgs {
                        let Ok(msg) = msg else { continue };
                        if let Some(p) = msg.get_payload() {
                            out.extend(change(p.payload()));
                        }
                    }
                }
                Err(e) if e.to_string().contains("No buffer space") => self.lost += 1,
                Err(_) => return,
            }
        }
    }
}

fn change(h: &ProcEventHeader) -> Option<Change> {
    let time_ns = h.timestamp_ns;
    Some(match h.event {
        ProcEvent::Fork {
            parent_tgid,
            child_pid,
            child_tgid,
            ..
        } => Change::Fork {
            time_ns,
            parent: parent_tgid,
            tid: child_pid,
            pid: child_tgid,
        },
        ProcEvent::Exec { process_tgid, .. } => Change::Exec {
            time_ns,
            pid: process_tgid,
        },
        ProcEvent::Exit {
            process_pid,
            process_tgid,
            exit_code,
            ..
        } => Change::Exit {
            time_ns,
            tid: process_pid,
            pid: process_tgid,
            status: exit_code as i32,
        },
        _ => return None,
    })
}

/// As root: the connector reports a child's fork and its exit status.
#[cfg(test)]
mod live {
    use super::*;

    #[test]
    fn a_childs_end_with_its_status() {
        let Ok(mut c) = Connector::open() else {
            eprintln!("skipped: the proc connector is not available here");
            return;
        };
        let mut child = std::process::Command::new("sh")
            .args(["-c", "exit 7"])
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !seen
            .iter()
            .any(|c| matches!(c, Change::Exit { pid: p, .. } if *p == pid))
            && std::time::Instant::now() < deadline
        {
            crate::sys::readable(c.fd(), 100);
            c.read(&mut seen);
        }
        let me = std::process::id() as i32;
        assert!(
            seen.contains(&Change::Fork {
                time_ns: seen
                    .iter()
                    .find_map(|c| match c {
                        Change::Fork {
                            pid: p, time_ns, ..
                        } if *p == pid => Some(*time_ns),
                        _ => None,
                    })
                    .expect("the fork"),
                parent: me,
                tid: pid,
                pid,
            })
        );
        let status = seen.iter().find_map(|c| match c {
            Change::Exit {
                pid: p,
                tid,
                status,
                ..
            } if *p == pid && *tid == pid => Some(*status),
            _ => None,
        });
        assert_eq!(status, Some(7 << 8));
    }
}
