//! Per-process state for the verdict: signal dispositions, senders, names, OOM evidence.

use crate::decode::siginfo::{self as si, SigInfo};
use crate::decode::signal::{SA_RESETHAND, SIG_DFL, SIG_IGN};
use crate::event::reason::{KernelReason, Limits};
use crate::event::{Disposition, Oom, Origin, Sender};
use crate::kernel::Senders;
use crate::procfs;
use crate::signal::Signal;
use crate::sys::Tid;
use std::collections::HashMap;
use std::sync::Arc;

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
    /// Its pid namespace (inode) and NSpid, when it is not sigtrace's namespace.
    ns: Option<(u64, Vec<i32>)>,
    /// Where it sits and what it runs, as last read (a child forked from it starts there).
    context: Option<Arc<crate::event::Context>>,
    /// Its CPU, file size and real-time limits, as last read (at its start, after a traced
    /// setrlimit or prlimit64; a child inherits them).
    limits: Option<Limits>,
    /// In a group-stop, and no SIGCONT delivered since.
    stopped: bool,
    /// Descriptors it made with signalfd (checked again at each read).
    signalfds: Vec<i32>,
    /// The signal whose handler made its exit call, before the handler's rt_sigreturn.
    exit_in_handler: Option<Signal>,
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
    /// sigtrace's own pid namespace.
    own_ns: Option<u64>,
    /// Traced processes of other pid namespaces that ended: (namespace, pid there) -> pid here.
    ns_ended: HashMap<(u64, i32), Tid>,
}

impl Procs {
    pub fn new(tracked: bool) -> Procs {
        Procs {
            tracked,
            own_ns: procfs::pid_ns(crate::sys::getpid()),
            ..Default::default()
        }
    }

    /// `pid`'s pid namespace and NSpid, when it is not sigtrace's own.
    fn namespace(&self, pid: Tid) -> Option<(u64, Vec<i32>)> {
        let ns = procfs::pid_ns(pid)?;
        if Some(ns) == self.own_ns {
            return None;
        }
        Some((ns, procfs::nspid(pid)?))
    }

    /// Keeps where `pid` sits and what it runs; true when its process group or session
    /// changed.
    pub fn set_context(&mut self, pid: Tid, ctx: &Arc<crate::event::Context>) -> bool {
        let s = self.map.entry(pid).or_default();
        let old = s.context.replace(ctx.clone());
        old.is_none_or(|o| (o.pgrp, o.session) != (ctx.pgrp, ctx.session))
    }

    /// What `set_context` kept of `pid`.
    pub fn context(&self, pid: Tid) -> Option<&crate::event::Context> {
        self.map.get(&pid)?.context.as_deref()
    }

    /// Its process group and session as last read (kept current through setsid/setpgid).
    pub fn place(&self, pid: Tid) -> Option<(i32, i32)> {
        self.context(pid).map(|c| (c.pgrp, c.session))
    }

    /// The traced process `pid` as a sender, read once until it execs or ends.
    pub fn traced(&mut self, pid: Tid) -> Option<Arc<Sender>> {
        if let Some(s) = self.senders.get(&pid) {
            return Some(s.clone());
        }
        let Origin::Process(s) = self.process(pid, procfs::uid(pid).unwrap_or(0), None) else {
            return None;
        };
        self.senders.insert(pid, s.clone());
        Some(s)
    }

    /// A process seen for the first time (launched, attached): its dispositions from /proc.
    pub fn start(&mut self, pid: Tid) {
        let (ign, cgt) = procfs::dispositions(pid).unwrap_or_default();
        let state = ProcState {
            ign,
            cgt,
            ign_at_exec: ign,
            oom_base: procfs::oom_kills(pid),
            ns: self.namespace(pid),
            limits: procfs::limits(pid),
            // Made before sigtrace saw it (attached): its reads are looked at too.
            signalfds: procfs::signalfds(pid),
            ..Default::default()
        };
        self.map.insert(pid, state);
    }

    /// fork: the child has its parent's dispositions (and maybe a new pid namespace).
    pub fn forked(&mut self, parent: Tid, child: Tid) {
        match self.map.get(&parent).cloned() {
            Some(mut state) => {
                state.ns = self.namespace(child);
                state.context = None;
                state.stopped = false;
                state.exit_in_handler = None;
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

    /// Its limits changed (setrlimit, prlimit64): read again.
    pub fn limits_changed(&mut self, pid: Tid) {
        if let Some(s) = self.map.get_mut(&pid) {
            s.limits = procfs::limits(pid);
        }
    }

    /// Its limits, as last read.
    pub fn limits(&self, pid: Tid) -> Option<Limits> {
        self.map.get(&pid)?.limits
    }

    /// It entered a group-stop (true), or a SIGCONT was delivered to it (false).
    pub fn set_stopped(&mut self, pid: Tid, stopped: bool) {
        if let Some(s) = self.map.get_mut(&pid) {
            s.stopped = stopped;
        }
    }

    /// A signalfd it made.
    pub fn add_signalfd(&mut self, pid: Tid, fd: i32) {
        let s = self.map.entry(pid).or_default();
        if !s.signalfds.contains(&fd) && s.signalfds.len() < 64 {
            s.signalfds.push(fd);
        }
    }

    /// Whether `fd` is a signalfd it made (and still is: descriptors are reused).
    pub fn is_signalfd(&self, pid: Tid, fd: u64) -> bool {
        let fd = fd as i32;
        self.map
            .get(&pid)
            .is_some_and(|s| s.signalfds.contains(&fd))
            && procfs::is_signalfd(pid, fd)
    }

    pub fn set_exit_in_handler(&mut self, pid: Tid, sig: Signal) {
        if let Some(s) = self.map.get_mut(&pid) {
            s.exit_in_handler = Some(sig);
        }
    }

    pub fn exit_in_handler(&self, pid: Tid) -> Option<Signal> {
        self.map.get(&pid)?.exit_in_handler
    }

    /// pid 1 of its pid namespace: signal(7)'s init rule, the kernel drops a signal it has no
    /// handler for (SIGKILL and SIGSTOP from an ancestor namespace excepted).
    pub fn ns_init(&self, pid: Tid) -> bool {
        pid == 1
            || self
                .map
                .get(&pid)
                .and_then(|s| s.ns.as_ref())
                .is_some_and(|(_, nspid)| nspid.last() == Some(&1))
    }

    /// Its own pid as its namespace numbers it (what si_pid holds for a signal it sent itself).
    fn own_nspid(&self, pid: Tid) -> i32 {
        self.map
            .get(&pid)
            .and_then(|s| s.ns.as_ref())
            .and_then(|(_, nspid)| nspid.last().copied())
            .unwrap_or(pid)
    }

    /// What in the kernel sent the signal `info` that `pid` is stopped for, from what can be
    /// read now: its limits and CPU time, its group, session and terminal.
    pub fn kernel_reason(&self, pid: Tid, info: &SigInfo) -> Option<KernelReason> {
        let (sig, code) = (info.signo().0, info.code());
        let own = code == si::SI_USER && info.pid() == self.own_nspid(pid);
        let limits = self.limits(pid).unwrap_or_default();
        match sig {
            libc::SIGXCPU if code == si::SI_KERNEL => Some(cpu_reason(pid, &limits)),
            libc::SIGXFSZ if own => limits
                .fsize
                .soft
                .map(|limit| KernelReason::RlimitFsize { limit }),
            libc::SIGPIPE if own => Some(KernelReason::BrokenPipe),
            libc::SIGHUP if code == si::SI_KERNEL => Some(self.hangup_reason(pid)),
            libc::SIGINT | libc::SIGQUIT | libc::SIGTSTP if code == si::SI_KERNEL => {
                Some(match self.context(pid).map(|c| c.tty.is_some()) {
                    Some(false) => KernelReason::Unestablished {
                        checked: "no controlling terminal",
                    },
                    _ => KernelReason::Terminal,
                })
            }
            _ => None,
        }
    }

    /// A SIGHUP the kernel sent: a terminal's hangup reaches the session leader; the session
    /// leader's end, the foreground group; an orphaned group, every member of a group with a
    /// stopped member (then SIGCONT).
    fn hangup_reason(&self, pid: Tid) -> KernelReason {
        let Some(ctx) = self.context(pid) else {
            return KernelReason::Unestablished {
                checked: "its process group and session were not read",
            };
        };
        if pid == ctx.session {
            return match ctx.tty {
                Some(_) => KernelReason::Terminal,
                None => KernelReason::Unestablished {
                    checked: "a session leader without a controlling terminal",
                },
            };
        }
        let members = procfs::group_members(ctx.pgrp);
        // A traced member is always in a ptrace stop ('t') when read: what it was in is
        // kept; an untraced one is 'T' in a group-stop.
        let stopped = members.iter().any(|m| match self.map.get(&m.pid) {
            Some(s) => s.stopped,
            None => m.state == 'T',
        }) || self.map.get(&pid).is_some_and(|s| s.stopped);
        if stopped && orphaned(ctx.pgrp, &members) {
            let moved = procfs::member(pid).is_none_or(|m| m.ppid != ctx.ppid);
            let parent = moved.then(|| (ctx.ppid, ctx.parent_comm.clone()));
            return KernelReason::OrphanedPgrp {
                pgrp: ctx.pgrp,
                parent,
            };
        }
        let leader = ctx.session;
        let leader_gone = procfs::member(leader)
            .is_none_or(|m| matches!(m.state, 'Z' | 'X') || m.session != leader);
        match (&ctx.tty, leader_gone) {
            (Some(_), true) => {
                let comm = self
                    .exited
                    .get(&leader)
                    .map(|c| c.to_vec())
                    .or_else(|| (ctx.ppid == leader).then(|| ctx.parent_comm.clone()))
                    .or_else(|| procfs::comm_bytes(leader))
                    .unwrap_or_default();
                KernelReason::SessionLeaderExit {
                    leader,
                    comm,
                    ended: None,
                }
            }
            (Some(_), false) => KernelReason::Terminal,
            (None, _) => KernelReason::Unestablished {
                checked: "no controlling terminal; not its session's leader; its process group not orphaned with a stopped member",
            },
        }
    }

    /// A successful rt_sigaction(sig, act) with act's handler and flags.
    pub fn sigaction(&mut self, pid: Tid, sig: i32, handler: u64, flags: u64) {
        let b = Signal(sig).bit();
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
        let b = sig.bit();
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

    /// Who sent the signal to `receiver`: from the kernel's record when it is read (a sender
    /// gone by now is still known there), else from /proc now. si_pid is a pid in the
    /// receiver's pid namespace: translated to sigtrace's first.
    pub fn sender(&mut self, info: &SigInfo, receiver: Tid, kernel: Option<&Senders>) -> Origin {
        let code = info.code();
        if !info.names_process() {
            return Origin::NoSender;
        }
        let uid = info.uid();
        let pid = match (info.pid(), self.receiver_ns(receiver)) {
            (0, _) => {
                return other_namespace(kernel, receiver, info, Origin::OtherNamespace { uid });
            }
            (pid, None) => pid,
            (pid, Some((ns, level))) => match self.translate(pid, ns, level) {
                Some(host) => host,
                None => {
                    let not = Origin::Untranslated { pid, uid };
                    return other_namespace(kernel, receiver, info, not);
                }
            },
        };
        if let Some(s) = self.senders.get(&pid) {
            return Origin::Process(s.clone());
        }
        let child_ended = matches!(code, si::CLD_EXITED | si::CLD_KILLED | si::CLD_DUMPED);
        if info.signo().0 == libc::SIGCHLD
            && child_ended
            && let Some(comm) = self.exited.remove(&pid)
        {
            return Origin::Process(Arc::new(Sender {
                pid,
                uid: Some(uid),
                comm: comm.to_vec(),
                ..Sender::default()
            }));
        }
        // A SIGCHLD comes from a child of the receiver: its parent chain is the receiver's.
        let chain = !(info.signo().0 == libc::SIGCHLD && code > 0);
        let from = self.read_sender(pid, uid, chain, kernel);
        // Only traced processes are cached: sigtrace sees when they exec or end.
        if let (Origin::Process(s), true) = (&from, self.map.contains_key(&pid)) {
            self.senders.insert(pid, s.clone());
        }
        from
    }

    /// The process `pid` (in sigtrace's namespace) as a sender, with its parent chain.
    pub fn process(&self, pid: Tid, uid: u32, kernel: Option<&Senders>) -> Origin {
        self.read_sender(pid, uid, true, kernel)
    }

    /// The sender `pid` with real uid `uid` (the siginfo's): as the kernel's record describes
    /// it, else as /proc does now.
    fn read_sender(&self, pid: Tid, uid: u32, chain: bool, kernel: Option<&Senders>) -> Origin {
        if let Some(mut s) = kernel.and_then(|k| k.describe(pid)) {
            s.uid = Some(uid);
            if !chain {
                s.ancestry.clear();
            }
            return Origin::Process(Arc::new(s));
        }
        let Some(mut s) = procfs::sender(pid, chain) else {
            return Origin::Process(Arc::new(Sender::unread(pid, uid)));
        };
        s.uid = s.uid.or(Some(uid));
        Origin::Process(Arc::new(s))
    }

    /// `pid` as process `receiver` names it, in sigtrace's namespace (None: no such process).
    pub fn in_own_ns(&self, receiver: Tid, pid: i32) -> Option<Tid> {
        match self.receiver_ns(receiver) {
            None => Some(pid),
            Some((ns, level)) => self.translate(pid, ns, level),
        }
    }

    /// The receiver's pid namespace and its depth, when it is not sigtrace's.
    fn receiver_ns(&self, receiver: Tid) -> Option<(u64, usize)> {
        let (ns, nspid) = match self.map.get(&receiver) {
            Some(s) => s.ns.clone()?,
            None => self.namespace(receiver)?,
        };
        Some((ns, nspid.len().checked_sub(1)?))
    }

    /// The pid in sigtrace's namespace of the process that is `pid` at depth `level` of
    /// namespace `ns`: a traced process's NSpid first, then every process's.
    fn translate(&self, pid: i32, ns: u64, level: usize) -> Option<Tid> {
        if let Some(&host) = self.ns_ended.get(&(ns, pid)) {
            return Some(host);
        }
        let at_level = |nspid: &[i32]| nspid.get(level) == Some(&pid);
        let traced = self.map.iter().find_map(|(&host, s)| {
            let (their, nspid) = s.ns.as_ref()?;
            (*their == ns && at_level(nspid)).then_some(host)
        });
        traced.or_else(|| {
            procfs::all_pids().into_iter().find(|&host| {
                procfs::nspid(host).is_some_and(|n| at_level(&n))
                    && procfs::pid_ns(host).is_some_and(|their| their == ns)
            })
        })
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
        // Its parent's SIGCHLD names it by its pid in their namespace.
        if let Some((ns, nspid)) = self.map.remove(&pid).and_then(|s| s.ns) {
            if self.ns_ended.len() >= 4096 {
                self.ns_ended.clear();
            }
            self.ns_ended.insert((ns, *nspid.last().unwrap_or(&0)), pid);
        }
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

/// The SIGXCPU of RLIMIT_CPU's soft limit, or of RLIMIT_RTTIME's for a real-time task: the
/// only two senders of an SI_KERNEL SIGXCPU, told apart by which limit is set and the
/// scheduling policy. The CPU time is said, not compared: the kernel checks the limit against
/// CPU time counted at ticks, which no interface gives and a busy machine can put well ahead
/// of the run time schedstat counts.
pub fn cpu_reason(pid: Tid, limits: &Limits) -> KernelReason {
    let rt = limits.rttime.soft.filter(|_| procfs::realtime(pid));
    match (limits.cpu.soft, rt) {
        (Some(limit), None) => KernelReason::RlimitCpu {
            hard: false,
            limit,
            used: procfs::cpu_time(pid),
        },
        (None, Some(limit)) => KernelReason::RlimitRttime { hard: false, limit },
        (Some(_), Some(_)) => KernelReason::Unestablished {
            checked: "both RLIMIT_CPU and RLIMIT_RTTIME are set for a real-time task",
        },
        (None, None) => KernelReason::Unestablished {
            checked: "no RLIMIT_CPU, no real-time policy with RLIMIT_RTTIME",
        },
    }
}

/// A process group is orphaned when no member's parent is in another group of the same
/// session (init's children excepted, as the kernel's will_become_orphaned_pgrp has it).
fn orphaned(pgrp: i32, members: &[procfs::Member]) -> bool {
    members.iter().all(|m| {
        m.ppid <= 1
            || matches!(m.state, 'Z' | 'X')
            || procfs::member(m.ppid).is_none_or(|p| p.pgrp == pgrp || p.session != m.session)
    })
}

/// A sender whose pid means nothing in sigtrace's namespace (it is another namespace's): the
/// kernel's record of the signal has its pid in sigtrace's; else `not`.
fn other_namespace(kernel: Option<&Senders>, receiver: Tid, info: &SigInfo, not: Origin) -> Origin {
    match kernel.and_then(|k| k.latest_sender(receiver, info.signo().0)) {
        Some(mut s) => {
            s.uid = Some(info.uid());
            Origin::Process(Arc::new(s))
        }
        None => not,
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
                ign: Signal(2).bit(),
                ign_at_exec: Signal(2).bit(),
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
