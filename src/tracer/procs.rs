//! Per-process state for the verdict: signal dispositions, senders, names, OOM evidence.

use crate::decode::siginfo::{self as si, SigInfo};
use crate::event::{Disposition, From, Oom, Sender};
use crate::procfs;
use crate::signal::Signal;
use crate::sys::Tid;
use std::collections::HashMap;
use std::sync::Arc;

const SA_RESETHAND: u64 = 0x8000_0000;
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;

#[derive(Debug, Clone, Default)]
struct ProcState {
    /// SigIgn and SigCgt bits (bit N-1 for signal N).
    ign: u64,
    cgt: u64,
    /// What was ignored when the program was exec'd (or first seen).
    ign_at_exec: u64,
    /// Signals whose action a traced rt_sigaction changed since then.
    changed: u64,
    /// Caught signals whose handler is reset to default at delivery (SA_RESETHAND).
    oneshot: u64,
    oom_base: Option<(u64, String)>,
}

#[derive(Default)]
pub struct Procs {
    map: HashMap<Tid, ProcState>,
    /// Senders that are traced processes, read once until they exec or end.
    senders: HashMap<Tid, Arc<Sender>>,
    /// Names of traced processes that ended, for their parent's SIGCHLD (a zombie's /proc
    /// holds no command line, a reaped one nothing).
    exited: HashMap<Tid, Arc<[u8]>>,
    /// Whether every rt_sigaction is seen (then dispositions need no /proc read per signal).
    pub tracked: bool,
}

fn bit(sig: i32) -> u64 {
    if (1..=64).contains(&sig) {
        1 << (sig - 1)
    } else {
        0
    }
}

impl Procs {
    pub fn new(tracked: bool) -> Procs {
        Procs {
            tracked,
            ..Default::default()
        }
    }

    /// A process seen for the first time (launched, attached): its dispositions from /proc.
    pub fn start(&mut self, pid: Tid) {
        let (ign, cgt) = procfs::dispositions(pid).unwrap_or_default();
        let state = ProcState {
            ign,
            cgt,
            ign_at_exec: ign,
            oom_base: procfs::oom_kills(pid),
            ..Default::default()
        };
        self.map.insert(pid, state);
    }

    /// fork: the child has its parent's dispositions.
    pub fn forked(&mut self, parent: Tid, child: Tid) {
        match self.map.get(&parent).cloned() {
            Some(state) => {
                self.map.insert(child, state);
            }
            None => self.start(child),
        }
    }

    /// execve: handlers become default, ignored signals stay ignored (signal(7)).
    pub fn exec(&mut self, pid: Tid) {
        let s = self.map.entry(pid).or_default();
        s.cgt = 0;
        s.oneshot = 0;
        s.changed = 0;
        s.ign_at_exec = s.ign;
        self.senders.remove(&pid);
    }

    /// A successful rt_sigaction(sig, act) with act's handler and flags.
    pub fn sigaction(&mut self, pid: Tid, sig: i32, handler: u64, flags: u64) {
        let b = bit(sig);
        let s = self.map.entry(pid).or_default();
        s.changed |= b;
        s.ign &= !b;
        s.cgt &= !b;
        s.oneshot &= !b;
        match handler {
            SIG_DFL => {}
            SIG_IGN => s.ign |= b,
            _ => {
                s.cgt |= b;
                if flags & SA_RESETHAND != 0 {
                    s.oneshot |= b;
                }
            }
        }
    }

    /// What delivering `sig` does now; applies SA_RESETHAND.
    pub fn disposition(&mut self, pid: Tid, sig: Signal) -> Disposition {
        let b = bit(sig.0);
        if !self.tracked
            && let Some((ign, cgt)) = procfs::dispositions(pid)
        {
            let s = self.map.entry(pid).or_default();
            s.ign = ign;
            s.cgt = cgt;
        }
        let s = self.map.entry(pid).or_default();
        if s.ign & b != 0 {
            Disposition::Ignored {
                since_exec: s.ign_at_exec & b != 0 && s.changed & b == 0,
            }
        } else if s.cgt & b != 0 {
            if s.oneshot & b != 0 {
                s.cgt &= !b;
                s.oneshot &= !b;
            }
            Disposition::Caught
        } else {
            Disposition::Default
        }
    }

    /// Who sent the signal, read from /proc now, while the sender may still exist.
    pub fn sender(&mut self, info: &SigInfo) -> From {
        let code = info.code();
        let has_sender = matches!(code, si::SI_USER | si::SI_QUEUE | si::SI_TKILL)
            || (info.signo().0 == libc::SIGCHLD && (1..=6).contains(&code));
        if !has_sender {
            return From::NoSender;
        }
        let pid = info.pid();
        if pid == 0 {
            return From::OtherNamespace;
        }
        if let Some(s) = self.senders.get(&pid) {
            return From::Process(s.clone());
        }
        let child_ended = matches!(code, si::CLD_EXITED | si::CLD_KILLED | si::CLD_DUMPED);
        if info.signo().0 == libc::SIGCHLD
            && child_ended
            && let Some(comm) = self.exited.remove(&pid)
        {
            return From::Process(Arc::new(Sender {
                pid,
                uid: Some(info.uid()),
                comm: comm.to_vec(),
                cmdline: Vec::new(),
                ancestry: Vec::new(),
            }));
        }
        let Some(p) = procfs::proc_info(pid) else {
            return From::Gone(pid);
        };
        // A SIGCHLD comes from a child of the receiver: its parent chain is the receiver's.
        let ancestry = if info.signo().0 == libc::SIGCHLD && code > 0 {
            Vec::new()
        } else {
            procfs::ancestry(p.ppid)
        };
        let sender = Arc::new(Sender {
            pid,
            uid: p.uid,
            comm: p.comm,
            cmdline: p.cmdline,
            ancestry,
        });
        // Only traced processes are cached: sigtrace sees when they exec or end.
        if self.map.contains_key(&pid) {
            self.senders.insert(pid, sender.clone());
        }
        From::Process(sender)
    }

    /// The out-of-memory evidence for a process that died of SIGKILL.
    pub fn oom(&self, pid: Tid) -> Oom {
        let cgroup = self
            .map
            .get(&pid)
            .and_then(|s| s.oom_base.clone())
            .and_then(|(before, file)| {
                let after = procfs::oom_kill_count(&file)?;
                Some((file, before, after))
            });
        Oom {
            cgroup,
            kmsg: procfs::kmsg_oom_killed(pid),
        }
    }

    pub fn ended(&mut self, pid: Tid, comm: Option<Arc<[u8]>>) {
        self.map.remove(&pid);
        self.senders.remove(&pid);
        if let Some(comm) = comm {
            // Parents that ignore SIGCHLD leave names unclaimed: keep the map small.
            if self.exited.len() >= 4096 {
                self.exited.clear();
            }
            self.exited.insert(pid, comm);
        }
    }

    pub fn knows(&self, pid: Tid) -> bool {
        self.map.contains_key(&pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_reads_the_baseline_taken_at_start() {
        let me = std::process::id() as i32;
        let mut p = Procs::new(true);
        p.start(me);
        let oom = p.oom(me);
        // Where a memory cgroup counter is readable, it is read against the start's baseline.
        if let Some((file, before, after)) = &oom.cgroup {
            assert!(after >= before, "{file}");
        } else {
            assert!(procfs::oom_kills(me).is_none());
        }
        p.ended(me, None);
        assert!(p.oom(me).cgroup.is_none());
    }

    #[test]
    fn dispositions_follow_sigaction_and_exec() {
        let mut p = Procs {
            tracked: true,
            ..Default::default()
        };
        p.map.insert(
            1,
            ProcState {
                ign: bit(2),
                ign_at_exec: bit(2),
                ..Default::default()
            },
        );
        assert_eq!(
            p.disposition(1, Signal(2)),
            Disposition::Ignored { since_exec: true }
        );
        assert_eq!(p.disposition(1, Signal(15)), Disposition::Default);
        p.sigaction(1, 15, 0x4000, 0);
        assert_eq!(p.disposition(1, Signal(15)), Disposition::Caught);
        p.sigaction(1, 2, SIG_IGN, 0);
        assert_eq!(
            p.disposition(1, Signal(2)),
            Disposition::Ignored { since_exec: false }
        );
        p.sigaction(1, 10, 0x4000, SA_RESETHAND);
        assert_eq!(p.disposition(1, Signal(10)), Disposition::Caught);
        assert_eq!(p.disposition(1, Signal(10)), Disposition::Default);
        p.exec(1);
        assert_eq!(p.disposition(1, Signal(15)), Disposition::Default);
        assert_eq!(
            p.disposition(1, Signal(2)),
            Disposition::Ignored { since_exec: true }
        );
    }
}
