//! Record mode (`--no-ptrace`): the command's whole tree followed without a single ptrace stop; its signals from the kernel's record, its forks, execs and ends from the proc connector, merged in time order into the events every printer and the fold take.

use crate::channel::Doorbell;
use crate::decode::siginfo::{self, SigInfo};
use crate::event::reason::KernelReason;
use crate::event::{
    Context, Disposition, Event, EventKind, Handler, KernelSignal, Losses, Off, Oom, Origin,
    Record, Sender, SignalResult, Stamp, Taker,
};
use crate::kernel::connector::{Change, Connector};
use crate::kernel::{Reader, Targets};
use crate::signal::Signal;
use crate::sys::{self, ControlSignal};
use crate::tracer::{Control, ExecFailed, RunEnd};
use crossbeam_channel::Sender as Tx;
use std::collections::{HashMap, HashSet};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the loop sleeps at most between two reads (the kernel's record is read then too).
const TICK_MS: i32 = 20;
/// A group kill that reached sigtrace reaches the command within the sender's one kill() call:
/// how long to look for it in the kernel's record before passing the signal on.
const GROUP_KILL_WINDOW: Duration = Duration::from_millis(20);
/// kill_orphaned_pgrp sends SIGHUP then SIGCONT to the group in one call: how far apart
/// the record may stamp them at most.
const HUP_THEN_CONT: Duration = Duration::from_millis(10);
/// Every this many ticks (a second), followed processes gone from /proc are looked for; in the
/// watch mode, which follows every process on the host, every ten seconds.
const SWEEP_TICKS: u32 = 50;
const HOST_SWEEP_TICKS: u32 = 500;
/// How often a watch looks in /proc for signals taken without a delivery.
const HOST_TAKEN_LOOK: Duration = Duration::from_millis(100);
/// Names of ended processes kept at most (until a sweep forgets them all).
const NAMES_ENDED: usize = 4096;
/// Signals generated and not yet delivered kept at most (a blocked signal may never be).
const UNDELIVERED_MAX: usize = 4096;
/// A held "ignored" line waits at most this long for the earlier signal's.
const HELD_MAX: Duration = Duration::from_secs(1);

/// One thing that happened, from either source, placed in time.
enum Item {
    Change(Stamp, Change),
    Record(Record),
}

impl Item {
    fn at(&self) -> Instant {
        match self {
            Item::Change(t, _) => t.mono,
            Item::Record(r) => r.time().mono,
        }
    }
}

pub struct Recorder {
    reader: Option<Reader>,
    targets: Targets,
    connector: Option<Connector>,
    control: Arc<Control>,
    tx: Option<Tx<Vec<Event>>>,
    bell: Arc<Doorbell>,
    batch: Vec<Event>,
    /// Followed tasks (tid -> thread group).
    tasks: HashMap<i32, i32>,
    /// Followed processes not ended yet.
    alive: HashSet<i32>,
    /// Names, from each process's latest context.
    names: HashMap<i32, Arc<[u8]>>,
    /// Read and not yet due (stamped after the latest read began).
    pending: Vec<Item>,
    /// The command (launch) or the first pid (attach).
    main: i32,
    launched: bool,
    /// The command's status, once its end is seen.
    outcome: Option<RunEnd>,
    reaped: bool,
    nprocs: usize,
    /// Each followed process's latest context (until its end).
    contexts: HashMap<i32, Arc<Context>>,
    /// The command's wait status, once reaped.
    main_status: Option<i32>,
    /// Followed processes whose end the connector lost.
    ends_lost: usize,
    /// Records the kernel's rings said they lost.
    records_lost: u64,
    /// Followed processes the last sweep found gone with no end read.
    suspects: HashSet<i32>,
    /// Each followed process's memory cgroup OOM-kill count when it was first seen.
    oom_base: HashMap<i32, (u64, String)>,
    /// Signals generated for followed processes, not delivered yet (oldest first).
    undelivered: Vec<KernelSignal>,
    /// Lines of signals the kernel dropped at once ("ignored") while an earlier one to the
    /// same process waited for its delivery: held until that one's line, so that the lines
    /// keep the order the signals were sent in (the fatal one's comes with the end).
    held: Vec<Event>,
    /// Undelivered signals /proc said were no longer pending: (process, signal, generated).
    not_pending: HashSet<(i32, i32, Instant)>,
    /// The signals each followed process's signalfds take, as last seen.
    signalfds: HashMap<i32, u64>,
    /// When the latest read began.
    last_read: Option<Instant>,
    /// Ends waiting for their session leader's: (time, pid, status) by leader.
    after_leader: HashMap<i32, Vec<(Stamp, i32, i32)>>,
    /// The latest SIGCONT the kernel sent each followed process: (sender, when).
    kernel_conts: HashMap<i32, (i32, Instant)>,
    /// Signals passed on to the command, not yet seen in the record: (signal, who sent it to
    /// sigtrace).
    passed: Vec<(i32, Arc<Sender>)>,
    /// Attached: let go; watching: stop.
    detach: bool,
    /// The watch mode: every process on the host, until told to stop.
    host: bool,
    /// Followed processes that are pid 1 of a pid namespace.
    inits: HashSet<i32>,
    /// Why the proc connector could not be opened, for the watch mode, which cannot do without.
    connector_error: Option<String>,
    /// Records the kernel's rings lost that were said (the watch says them as they come).
    records_said: u64,
    /// Ends the connector lost that were said, and messages it lost that were said.
    ends_said: usize,
    messages_said: u64,
}

impl Recorder {
    /// Opens the sources; says at once which facts will be missing and why.
    /// `host`: the watch mode.
    pub fn new(
        control: Arc<Control>,
        tx: Tx<Vec<Event>>,
        bell: Arc<Doorbell>,
        host: bool,
    ) -> Recorder {
        let what = if host { "--watch" } else { "--no-ptrace" };
        let mut connector_error = None;
        let targets = Targets::every();
        let mut batch = Vec::new();
        let reader = match crate::kernel::start(targets.clone()) {
            Ok(r) => Some(r),
            Err(off) => {
                crate::msg::warn(&format!(
                    "{what}: no signal will be seen, only how each process ended: {}",
                    unreadable(&off)
                ));
                batch.push(event(0, 0, EventKind::KernelOff(off)));
                None
            }
        };
        let connector = match Connector::open() {
            Ok(c) => Some(c),
            Err(e) if host => {
                connector_error = Some(e);
                None
            }
            Err(e) => {
                crate::msg::warn(&format!(
                    "{what}: only the command itself is followed, not its children ({e})"
                ));
                None
            }
        };
        Recorder {
            reader,
            targets,
            connector,
            control,
            tx: Some(tx),
            bell,
            batch,
            tasks: HashMap::new(),
            alive: HashSet::new(),
            names: HashMap::new(),
            pending: Vec::new(),
            main: 0,
            launched: false,
            outcome: None,
            reaped: false,
            nprocs: 0,
            passed: Vec::new(),
            undelivered: Vec::new(),
            held: Vec::new(),
            kernel_conts: HashMap::new(),
            not_pending: HashSet::new(),
            signalfds: HashMap::new(),
            last_read: None,
            after_leader: HashMap::new(),
            oom_base: HashMap::new(),
            contexts: HashMap::new(),
            main_status: None,
            ends_lost: 0,
            records_lost: 0,
            suspects: HashSet::new(),
            detach: false,
            host,
            connector_error,
            inits: HashSet::new(),
            records_said: 0,
            messages_said: 0,
            ends_said: 0,
        }
    }

    /// The watch mode: every process on the host now, and every one made from now on.
    pub fn watch(&mut self) -> Result<(), String> {
        if let Some(e) = self.connector_error.take() {
            return Err(format!(
                "--watch: the proc connector cannot be opened ({e}): no process's end would be seen"
            ));
        }
        for pid in crate::procfs::all_pids() {
            for tid in crate::procfs::tasks(pid).unwrap_or_default() {
                self.follow(tid, pid);
            }
            self.context(pid, false);
        }
        Ok(())
    }

    /// Lets the held command exec, and follows it.
    pub fn launch(&mut self, child: sys::HeldChild) -> Result<(), ExecFailed> {
        let pid = child.pid();
        self.launched = true;
        self.follow(pid, pid);
        let (_, exec_error) = child.release();
        if let Some(errno) = exec_errno(exec_error) {
            self.alive.remove(&pid);
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
            self.reaped = true;
            return Err(ExecFailed(std::io::Error::from_raw_os_error(errno)));
        }
        self.context(pid, false);
        Ok(())
    }

    /// Follows running processes (and their threads, and their children from now on).
    pub fn attach(&mut self, pids: &[i32]) -> Result<(), String> {
        for &pid in pids {
            if crate::procfs::tgid(pid) != Some(pid) {
                return Err(format!("attach: {pid}: no such process"));
            }
        }
        for &pid in pids {
            for tid in crate::procfs::tasks(pid).unwrap_or_default() {
                self.tasks.insert(tid, pid);
                self.targets.add(tid, pid);
            }
            self.follow(pid, pid);
            self.context(pid, false);
            // A signalfd made before the attach is known only from /proc.
            if let Some(mask) = crate::procfs::signalfd_mask(pid) {
                self.signalfds.insert(pid, mask);
            }
        }
        self.main = pids[0];
        Ok(())
    }

    fn follow(&mut self, tid: i32, pid: i32) {
        self.tasks.insert(tid, pid);
        if !self.host {
            self.targets.add(tid, pid);
        }
        if tid == pid && self.alive.insert(pid) {
            // The watch names OOM kills from the kernel's record (oom:mark_victim) rather than
            // read every new process's memory cgroup.
            if let Some(base) = crate::procfs::oom_kills(pid).filter(|_| !self.host) {
                self.oom_base.insert(pid, base);
            }
            self.nprocs += 1;
            if self.main == 0 && !self.host {
                self.main = pid;
            }
        }
    }

    /// Runs until every followed process has ended (or, attached, until told to let go).
    pub fn run(&mut self) -> RunEnd {
        let mut ticks = 0u32;
        let sweep = if self.host {
            HOST_SWEEP_TICKS
        } else {
            SWEEP_TICKS
        };
        while (self.host || !self.alive.is_empty()) && !self.detach {
            self.wait();
            self.take_control();
            self.read(false);
            self.reap();
            ticks += 1;
            if ticks.is_multiple_of(sweep) {
                self.sweep();
            } else if self.host && ticks.is_multiple_of(SWEEP_TICKS) {
                self.say_losses();
            }
            self.send();
        }
        // What came between the last read and the end.
        self.read(true);
        for line in std::mem::take(&mut self.held) {
            self.emit(line);
        }
        // Ends still waiting for a session leader that did not end while followed.
        let leaders: Vec<i32> = self.after_leader.keys().copied().collect();
        for leader in leaders {
            self.let_go_after(leader);
        }
        self.say_losses();
        if self.detach {
            return RunEnd::Detached;
        }
        self.outcome.unwrap_or(RunEnd::Detached)
    }

    /// Sleeps until the connector has news, a tick passes or a signal wakes this thread.
    fn wait(&self) {
        match &self.connector {
            Some(c) => _ = sys::readable(c.fd(), TICK_MS),
            None => std::thread::sleep(Duration::from_millis(TICK_MS as u64)),
        }
    }

    /// Reads both sources and handles, in time order, everything stamped before this read
    /// began (a later item waits: another CPU's ring may still hold what came before it).
    /// With `all`, everything.
    fn read(&mut self, all: bool) {
        let began = crate::sys::perf::clock_pair();
        if let Some(c) = &mut self.connector {
            let mut changes = Vec::new();
            c.read(&mut changes);
            self.pending.extend(
                changes
                    .into_iter()
                    .map(|ch| Item::Change(crate::sys::perf::stamp_at(began, ch.time_ns()), ch)),
            );
        }
        if let Some(r) = &self.reader {
            self.pending.extend(r.take().into_iter().map(Item::Record));
        }
        self.pending.sort_by_key(Item::at);
        let due = if all {
            self.pending.len()
        } else {
            let limit = crate::sys::perf::stamp_at(began, began.1).mono;
            self.pending.partition_point(|i| i.at() <= limit)
        };
        let later = self.pending.split_off(due);
        for item in std::mem::replace(&mut self.pending, later) {
            match item {
                Item::Change(t, ch) => self.change(t, ch),
                Item::Record(r) => self.record(r),
            }
        }
        if !all {
            self.check_taken(began.0);
            // A signal that stays blocked holds no line back for long.
            let stale: Vec<i32> = self
                .held
                .iter()
                .filter(|e| began.0.mono.saturating_duration_since(e.time.mono) > HELD_MAX)
                .map(|e| e.pid)
                .collect();
            for pid in stale {
                self.release_held(pid, true);
            }
        }
    }

    /// A signal generated before the last read and not delivered since: once /proc says it
    /// is no longer pending and a later read still shows no delivery, the process took it
    /// without one (sigtimedwait, a signalfd read). A storm's signals are delivered at once:
    /// this reads /proc only for those that wait.
    fn check_taken(&mut self, now: Stamp) {
        // A watch reads at every fork on the host: its looks are spaced instead.
        if self.host
            && self
                .last_read
                .is_some_and(|l| now.mono.saturating_duration_since(l) < HOST_TAKEN_LOOK)
        {
            return;
        }
        let Some(last) = self.last_read.replace(now.mono) else {
            return;
        };
        let mut taken = Vec::new();
        // /proc is read once per process and signal (queued real-time ones share a bit), and
        // a process's signalfds once per read.
        let mut read: HashMap<(i32, i32), Option<bool>> = HashMap::new();
        let mut looked = HashSet::new();
        // A process that is exiting no longer shows the signals it had pending (the fatal one
        // included): its end says what became of them, not this.
        let mut alive: HashMap<i32, bool> = HashMap::new();
        let mut running = |pid: i32| {
            *alive
                .entry(pid)
                .or_insert_with(|| crate::procfs::running(pid))
        };
        for k in self.undelivered.iter().filter(|k| k.time.mono < last) {
            let key = (k.target_pid, k.sig, k.time.mono);
            if self.not_pending.contains(&key) {
                if running(k.target_pid) {
                    taken.push(key);
                }
                continue;
            }
            let pending = *read
                .entry((k.target_pid, k.sig))
                .or_insert_with(|| crate::procfs::pending(k.target_pid, k.sig));
            match pending {
                Some(false) if running(k.target_pid) => {
                    self.not_pending.insert(key);
                }
                // Blocked: whatever takes it may be a signalfd made since the last look.
                Some(true) if looked.insert(k.target_pid) => {
                    if let Some(mask) = crate::procfs::signalfd_mask(k.target_pid) {
                        self.signalfds.insert(k.target_pid, mask);
                    }
                }
                _ => {}
            }
        }
        for key in taken {
            self.take(now, key);
        }
    }

    /// The undelivered signal `key` was taken: its line.
    fn take(&mut self, time: Stamp, (pid, sig, at): (i32, i32, Instant)) {
        self.not_pending.remove(&(pid, sig, at));
        let Some(i) = self
            .undelivered
            .iter()
            .position(|k| (k.target_pid, k.sig, k.time.mono) == (pid, sig, at))
        else {
            return;
        };
        let k = self.undelivered.remove(i);
        let bit = Signal(sig).bit();
        let by = match self.signalfds.get(&pid) {
            Some(mask) if mask & bit != 0 => Taker::Signalfd,
            _ => Taker::Either,
        };
        let line = self.signal_line(time, pid, &k, Disposition::Taken(by));
        self.emit(line);
        self.release_held(pid, false);
    }

    fn change(&mut self, time: Stamp, ch: Change) {
        match ch {
            Change::Fork {
                parent, tid, pid, ..
            } if (self.host || self.alive.contains(&parent) || self.tasks.contains_key(&pid))
                && !self.tasks.contains_key(&tid) =>
            {
                self.follow(tid, pid);
                if tid == pid {
                    self.forked(parent, pid);
                }
            }
            Change::Exec { pid, .. } if self.alive.contains(&pid) => self.context(pid, true),
            Change::Exit {
                tid, pid, status, ..
            } if self.tasks.contains_key(&tid) => {
                if tid == pid && self.alive.remove(&pid) {
                    let sig = libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
                    match self.flush_undelivered(time, pid, sig) {
                        // Hung up in its session leader's exit, which may be read after its
                        // own: its verdict waits for the leader's end.
                        Some(leader) if self.alive.contains(&leader) => self
                            .after_leader
                            .entry(leader)
                            .or_default()
                            .push((time, pid, status)),
                        _ => self.ended(time, pid, status),
                    }
                    self.let_go_after(pid);
                }
                self.tasks.remove(&tid);
            }
            Change::Fork { .. } | Change::Exec { .. } | Change::Exit { .. } => {}
        }
    }

    /// The ends that waited for `leader`'s.
    fn let_go_after(&mut self, leader: i32) {
        for (time, pid, status) in self.after_leader.remove(&leader).unwrap_or_default() {
            self.ended(time, pid, status);
        }
    }

    /// A process's end, from its wait status.
    fn ended(&mut self, time: Stamp, pid: i32, status: i32) {
        self.contexts.remove(&pid);
        self.inits.remove(&pid);
        // A process too short-lived for /proc is named by the kernel's process table.
        let comm = self.names.get(&pid).cloned().or_else(|| {
            let s = self.reader.as_ref()?.senders().describe(pid)?;
            Some(Arc::from(s.comm.as_slice()))
        });
        let base = self.oom_base.remove(&pid);
        let (kind, end) = if libc::WIFSIGNALED(status) {
            let sig = Signal(libc::WTERMSIG(status));
            let core = libc::WCOREDUMP(status);
            // The memory cgroup's OOM kills since it was followed.
            let oom = (sig.0 == libc::SIGKILL).then(|| Oom {
                cgroup: base.and_then(|(before, file)| {
                    let after = crate::procfs::oom_kill_count(&file)?;
                    Some((file, before, after))
                }),
                kmsg: crate::procfs::kmsg_oom_killed(pid),
            });
            let reason = (sig.0 == libc::SIGKILL)
                .then(|| cpu_limit_reached(pid))
                .flatten();
            let kind = EventKind::Killed {
                sig,
                core,
                comm,
                oom,
                reason,
            };
            (kind, RunEnd::Killed(sig))
        } else {
            let code = libc::WEXITSTATUS(status);
            let kind = EventKind::Exited {
                code,
                comm,
                in_handler: None,
            };
            (kind, RunEnd::Exited(code))
        };
        if pid == self.main {
            self.outcome = Some(end);
        }
        let mut ev = event(pid, pid, kind);
        ev.time = time;
        self.emit(ev);
    }

    /// A record about a followed process: for the fold as it is; a signal's line comes at its
    /// delivery, with the disposition it met (an ignored one at once; a merged or dropped one
    /// is said in the verdict).
    fn record(&mut self, r: Record) {
        let pid = match &r {
            Record::Signal(k) => self
                .tasks
                .get(&k.target_tid.unwrap_or(k.target_pid))
                .copied(),
            Record::OomVictim { pid, .. } => self.tasks.get(pid).copied(),
            Record::Delivered { tid, .. } => self.tasks.get(tid).copied(),
            Record::Lost(n) => {
                self.records_lost += n;
                Some(0)
            }
        };
        let Some(pid) = pid else {
            return;
        };
        // A watch says a loss when it happens, not in every verdict from then on.
        if self.host && matches!(r, Record::Lost(_)) {
            return;
        }
        match r {
            Record::Delivered {
                time,
                tid,
                sig,
                handler,
                ..
            } => self.delivered(time, pid, tid, sig, handler),
            Record::Signal(mut k) => {
                k.target_pid = pid;
                if k.sig == libc::SIGCONT && k.code == siginfo::SI_KERNEL {
                    self.kernel_conts.insert(pid, (k.sender_pid, k.time.mono));
                }
                match k.result {
                    SignalResult::Ignored => {
                        let d = Disposition::Ignored { since_exec: false };
                        let mut line = self.signal_line(k.time, pid, &k, d);
                        // signal(7): pid 1 of a pid namespace takes only the signals it has a
                        // handler for; the kernel discarded this one when it was sent.
                        if (k.target_ns_init || self.inits.contains(&pid))
                            && let EventKind::Signal { reason, .. } = &mut line.kind
                        {
                            *reason = Some(KernelReason::PidnsInitDiscard);
                        }
                        if self.undelivered.iter().any(|u| u.target_pid == pid) {
                            if self.held.len() == UNDELIVERED_MAX {
                                let oldest = self.held.remove(0);
                                self.emit(oldest);
                            }
                            self.held.push(line);
                        } else {
                            self.emit(line);
                        }
                    }
                    SignalResult::Delivered => {
                        if self.undelivered.len() == UNDELIVERED_MAX {
                            self.undelivered.remove(0);
                        }
                        self.undelivered.push(k.clone());
                    }
                    _ => {}
                }
                let tid = k.target_tid.unwrap_or(pid);
                self.emit_record(pid, tid, Record::Signal(k));
            }
            other => self.emit_record(pid, pid, other),
        }
    }

    /// A delivery: the line of the signal generated for it, with the disposition it met.
    fn delivered(&mut self, time: Stamp, pid: i32, tid: i32, sig: i32, handler: Handler) {
        let Some(i) = self.undelivered.iter().position(|k| {
            k.sig == sig && k.target_pid == pid && k.target_tid.is_none_or(|t| t == tid)
        }) else {
            return;
        };
        let k = self.undelivered.remove(i);
        let d = match handler {
            Handler::Default => Disposition::Default,
            Handler::Ignored => Disposition::Ignored { since_exec: false },
            Handler::Caught => Disposition::Caught,
        };
        let mut line = self.signal_line(time, pid, &k, d);
        line.tid = tid;
        self.emit(line);
        self.release_held(pid, false);
    }

    /// The held lines of process `pid` that no earlier undelivered signal holds back any
    /// more (all of them with `all`: its end, or the run's), in order.
    fn release_held(&mut self, pid: i32, all: bool) {
        if self.held.is_empty() {
            return;
        }
        let first_waiting = self
            .undelivered
            .iter()
            .filter(|u| u.target_pid == pid)
            .map(|u| u.time.mono)
            .min();
        let (go, keep): (Vec<Event>, Vec<Event>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|e| e.pid == pid && (all || first_waiting.is_none_or(|w| e.time.mono < w)));
        self.held = keep;
        for line in go {
            self.emit(line);
        }
    }

    /// At a process's end by signal `sig`: that signal's line, when no delivery record showed
    /// it (a signal whose default action ends the group is delivered as SIGKILL to every
    /// thread: complete_signal(), get_signal()).
    /// Any other that it no longer had pending as it ended was taken without a delivery (one
    /// still pending is discarded with it, as without sigtrace).
    /// Returns the session leader whose exit sent the fatal one, if so.
    fn flush_undelivered(&mut self, time: Stamp, pid: i32, sig: Option<i32>) -> Option<i32> {
        let (mine, rest) = std::mem::take(&mut self.undelivered)
            .into_iter()
            .partition::<Vec<_>, _>(|k| k.target_pid == pid);
        self.undelivered = rest;
        let fatal = mine.iter().rposition(|k| Some(k.sig) == sig);
        let mut leader = None;
        for (i, k) in mine.into_iter().enumerate() {
            if Some(i) == fatal {
                let line = self.signal_line(k.time, pid, &k, Disposition::Default);
                if let EventKind::Signal {
                    reason: Some(KernelReason::SessionLeaderExit { leader: l, .. }),
                    ..
                } = &line.kind
                {
                    leader = Some(*l);
                }
                self.emit(line);
            } else if crate::procfs::pending(pid, k.sig) == Some(false) {
                let key = (pid, k.sig, k.time.mono);
                self.undelivered.push(k);
                self.take(time, key);
            }
        }
        self.not_pending.retain(|&(p, _, _)| p != pid);
        self.signalfds.remove(&pid);
        self.release_held(pid, true);
        leader
    }

    fn signal_line(&mut self, time: Stamp, pid: i32, k: &KernelSignal, d: Disposition) -> Event {
        let from = self.origin(k);
        let uid = from.process().and_then(|s| s.uid).unwrap_or(0);
        let sender = if siginfo::sent_by_process(k.code) {
            k.sender_pid
        } else {
            0
        };
        let info = SigInfo::sent(k.sig, k.code, sender, uid);
        let kind = EventKind::Signal {
            info,
            from,
            disposition: d,
            reason: self.kernel_reason(pid, k),
        };
        let mut ev = event(pid, k.target_tid.unwrap_or(pid), kind);
        ev.time = time;
        ev
    }

    /// What in the kernel sent `k` to `pid` (DESIGN §1b), from the record and what /proc says
    /// now (its limits, its place among processes).
    fn kernel_reason(&self, pid: i32, k: &KernelSignal) -> Option<KernelReason> {
        let by_kernel = k.code == siginfo::SI_KERNEL;
        // SIGXFSZ and SIGPIPE: sent as SI_USER by the writing process to itself.
        let own = k.code == siginfo::SI_USER && k.sender_pid == pid;
        match k.sig {
            libc::SIGXCPU if by_kernel => {
                let mut limits = crate::procfs::limits(pid).unwrap_or_default();
                // Read after it was sent: the kernel raised the soft limit by a second as it
                // sent it (check_process_timers), so that the next one comes a second later.
                limits.cpu.soft = limits.cpu.soft.map(|s| s.saturating_sub(1));
                Some(crate::tracer::procs::cpu_reason(pid, &limits))
            }
            libc::SIGXFSZ if own => crate::procfs::limits(pid)?
                .fsize
                .soft
                .map(|limit| KernelReason::RlimitFsize { limit }),
            libc::SIGPIPE if own => Some(KernelReason::BrokenPipe),
            libc::SIGHUP if by_kernel => Some(self.hangup_reason(pid, k)),
            libc::SIGINT | libc::SIGQUIT | libc::SIGTSTP if by_kernel => {
                Some(match self.contexts.get(&pid).map(|c| c.tty.is_some()) {
                    Some(false) => KernelReason::Unestablished {
                        checked: "no controlling terminal",
                    },
                    _ => KernelReason::Terminal,
                })
            }
            _ => None,
        }
    }

    /// A SIGHUP the kernel sent, told apart by who sent it (the record names the process in
    /// whose exit the kernel sent it): a terminal's hangup reaches the session leader; an
    /// orphaned group with a stopped member gets SIGHUP then SIGCONT from the parent whose
    /// exit orphaned it (kill_orphaned_pgrp); a session leader's exit hangs up the terminal's
    /// foreground group (disassociate_ctty).
    fn hangup_reason(&self, pid: i32, k: &KernelSignal) -> KernelReason {
        let Some(ctx) = self.contexts.get(&pid) else {
            return KernelReason::Unestablished {
                checked: "its process group and session were not read",
            };
        };
        // The kernel's own signals carry no described sender: a followed one is known here.
        let sender_comm = || match &k.sender {
            Some(s) => s.comm.clone(),
            None => self
                .names
                .get(&k.sender_pid)
                .map(|n| n.to_vec())
                .unwrap_or_default(),
        };
        if pid == ctx.session {
            return match ctx.tty {
                Some(_) => KernelReason::Terminal,
                None => KernelReason::Unestablished {
                    checked: "a session leader without a controlling terminal",
                },
            };
        }
        let cont = self.kernel_conts.get(&pid).is_some_and(|&(from, at)| {
            from == k.sender_pid && at >= k.time.mono && at - k.time.mono < HUP_THEN_CONT
        });
        if cont {
            // Its group as it is now: it may have left its parent's after the fork was read.
            let pgrp = crate::procfs::member(pid).map_or(ctx.pgrp, |m| m.pgrp);
            let parent = (k.sender_pid != pid).then(|| (k.sender_pid, sender_comm()));
            return KernelReason::OrphanedPgrp { pgrp, parent };
        }
        // Its terminal is cleared from the whole session by then (session_clear_tty): the
        // sender says it.
        if k.sender_pid == ctx.session {
            return KernelReason::SessionLeaderExit {
                leader: ctx.session,
                comm: sender_comm(),
                ended: None,
            };
        }
        match &ctx.tty {
            Some(_) => KernelReason::Terminal,
            None => KernelReason::Unestablished {
                checked: "no controlling terminal; not its session's leader; no SIGCONT from the kernel after it",
            },
        }
    }

    /// Who sent it: named by the kernel's record, or, when sigtrace passed it on, whoever
    /// sent it to sigtrace.
    fn origin(&mut self, k: &KernelSignal) -> Origin {
        if !siginfo::sent_by_process(k.code) {
            return Origin::NoSender;
        }
        if k.sender_pid == sys::own_pid()
            && let Some(i) = self.passed.iter().position(|(s, _)| *s == k.sig)
        {
            return Origin::PassedOn(self.passed.remove(i).1);
        }
        match &k.sender {
            Some(s) => Origin::Process(s.clone()),
            None => Origin::Process(Arc::new(Sender {
                pid: k.sender_pid,
                ..Sender::default()
            })),
        }
    }

    /// A process just forked: in the watch mode, its parent's context is its own (fork(2):
    /// the same program, group, session, terminal and user), read again at its exec; but its
    /// cgroup is read now, its own or (gone already) its parent's: the parent may have moved
    /// since its own context was read (a service manager's child moves, then forks or execs).
    /// Else its own is read.
    fn forked(&mut self, parent: i32, pid: i32) {
        let Some(from) = self.contexts.get(&parent).filter(|_| self.host) else {
            return self.context(pid, false);
        };
        let cgroup = live_cgroup(pid)
            .or_else(|| live_cgroup(parent))
            .map(Arc::from)
            .or_else(|| from.cgroup.clone());
        let ctx = Arc::new(Context {
            ppid: parent,
            parent_comm: from.comm.clone(),
            exec: false,
            cgroup,
            ..Context::clone(from)
        });
        self.names.insert(pid, Arc::from(ctx.comm.as_slice()));
        self.contexts.insert(pid, ctx.clone());
        self.emit(event(pid, pid, EventKind::Context(ctx)));
    }

    /// The context line of a process just followed, or (`exec`) its new program.
    fn context(&mut self, pid: i32, exec: bool) {
        let names = &self.names;
        let read = crate::procfs::context(pid, &|p| names.get(&p).cloned());
        let Some(mut ctx) = read.or_else(|| self.exec_from_record(pid).filter(|_| exec)) else {
            return;
        };
        ctx.exec = exec;
        // Whether it is a namespace's pid 1 is read while it lives: the kernel's record of a
        // signal it discarded may be read after its end.
        let (uid, init) = crate::procfs::owner(pid).unwrap_or_default();
        if init {
            self.inits.insert(pid);
        }
        if self.host {
            let before = self.contexts.get(&pid);
            ctx.uid = uid.or(ctx.uid).or_else(|| before?.uid);
            ctx.cgroup = live_cgroup(pid)
                .map(Arc::from)
                .or(ctx.cgroup)
                .or_else(|| before?.cgroup.clone());
        }
        self.names.insert(pid, Arc::from(ctx.comm.as_slice()));
        let ctx = Arc::new(ctx);
        self.contexts.insert(pid, ctx.clone());
        self.emit(event(pid, pid, EventKind::Context(ctx)));
    }

    /// A process that exec'd and ended before /proc could be read: its place as last read,
    /// its new name and program from the kernel's process table.
    fn exec_from_record(&self, pid: i32) -> Option<Context> {
        let before = self.contexts.get(&pid)?;
        let s = self.reader.as_ref()?.senders().describe(pid)?;
        if s.exe.is_empty() {
            return None;
        }
        Some(Context {
            comm: s.comm,
            argv: vec![s.exe],
            ..Context::clone(before)
        })
    }

    /// The command is sigtrace's child: reaped here once its end came through the connector
    /// (without one, its end is from here).
    fn reap(&mut self) {
        if !self.launched || self.reaped {
            return;
        }
        // Its end is handled first, while its /proc is there (its limits, what it had
        // pending): unless the connector lost it (a sweep found it gone).
        if self.connector.is_some()
            && self.alive.contains(&self.main)
            && !self.suspects.contains(&self.main)
        {
            return;
        }
        use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
        let status = match waitpid(
            nix::unistd::Pid::from_raw(self.main),
            Some(WaitPidFlag::WNOHANG),
        ) {
            Ok(WaitStatus::Exited(_, code)) => code << 8,
            Ok(WaitStatus::Signaled(_, sig, core)) => sig as i32 | if core { 0x80 } else { 0 },
            Ok(_) => return,
            Err(_) => {
                self.reaped = true;
                return;
            }
        };
        self.reaped = true;
        if self.connector.is_none() && self.alive.remove(&self.main) {
            self.ended(Stamp::now(), self.main, status);
        } else {
            self.main_status = Some(status);
        }
    }

    /// A process whose end the connector lost (its socket was full) would be waited for
    /// forever: one gone from /proc, its end not among what is read, is let go (the command
    /// with the status its reaping gave; another with none, counted and said).
    fn sweep(&mut self) {
        let pending: HashSet<i32> = self
            .pending
            .iter()
            .filter_map(|i| match i {
                Item::Change(_, Change::Exit { pid, .. }) => Some(*pid),
                _ => None,
            })
            .collect();
        let gone: HashSet<i32> = self
            .alive
            .iter()
            .copied()
            .filter(|&p| {
                !pending.contains(&p)
                    && matches!(crate::procfs::state(p), None | Some('Z') | Some('X'))
            })
            .collect();
        // Gone at two sweeps in a row: its end, had it been sent, would have been read.
        let suspects = std::mem::replace(&mut self.suspects, gone);
        let lost: Vec<i32> = self.suspects.intersection(&suspects).copied().collect();
        for pid in lost {
            self.suspects.remove(&pid);
            self.alive.remove(&pid);
            self.contexts.remove(&pid);
            self.names.remove(&pid);
            self.inits.remove(&pid);
            self.tasks.retain(|_, p| *p != pid);
            match self.main_status.filter(|_| pid == self.main) {
                Some(status) => self.ended(Stamp::now(), pid, status),
                None => self.ends_lost += 1,
            }
            self.let_go_after(pid);
        }
        // Names of ended processes are kept a while (a session leader's, for its group's
        // verdicts), then forgotten.
        if self.names.len() > self.alive.len() + NAMES_ENDED {
            let alive = &self.alive;
            self.names.retain(|pid, _| alive.contains(pid));
        }
        if self.host {
            self.say_losses();
        }
    }

    /// Says once what was lost since it was last said: the kernel's records, the connector's
    /// ends.
    fn say_losses(&mut self) {
        let what = if self.host { "--watch" } else { "--no-ptrace" };
        // A ring says a loss only with its next sample: its counter says it at once.
        let counted = self.reader.as_ref().and_then(Reader::lost).unwrap_or(0);
        let records = self.records_lost.max(counted);
        if self.ends_lost > self.ends_said {
            crate::msg::warn(&format!(
                "{what}: the proc connector lost the end of {} processes (its socket was full): they have no verdict",
                self.ends_lost - self.ends_said
            ));
            self.ends_said = self.ends_lost;
        }
        let messages = self.connector.as_ref().map_or(0, |c| c.lost);
        if messages > self.messages_said {
            crate::msg::warn(&format!(
                "{what}: the proc connector lost {} messages (its socket was full): some forks, execs or ends were not seen",
                messages - self.messages_said
            ));
            self.messages_said = messages;
        }
        if records > self.records_said {
            crate::msg::warn(&format!(
                "{what}: the kernel's record lost {} records (its ring was full): verdicts until now may lack a signal",
                records - self.records_said
            ));
            self.records_said = records;
        }
    }

    /// Signals sent to sigtrace: passed on to the command (launch), a detach (attach), a stop
    /// or (SIGHUP) the output opened again (watch).
    fn take_control(&mut self) {
        for c in self.control.take() {
            if self.host && c.sig == libc::SIGHUP {
                self.bell.ask_reopen();
            } else if !self.launched {
                self.detach |= sys::DETACH_SIGNALS.contains(&c.sig);
            } else if self.outcome.is_none() {
                self.relay(c);
            }
        }
    }

    /// Passes `c` on unless the command got it by itself: from the terminal (SI_KERNEL) or in
    /// the same group kill, which the kernel's record shows.
    fn relay(&mut self, c: ControlSignal) {
        // The kernel's record names a sender that has exited since (a script's `kill`).
        let from = self
            .reader
            .as_ref()
            .and_then(|r| r.senders().describe(c.pid))
            .or_else(|| crate::procfs::sender(c.pid, true))
            .map(Arc::new);
        let sender = from.unwrap_or_else(|| Arc::new(Sender::unread(c.pid, c.uid)));
        let passed = if c.code == siginfo::SI_KERNEL {
            Err("the terminal sends it to the command's process group too")
        } else if self.reached_by_itself(&c) {
            Err("the same kill reached the command's process group too")
        } else {
            match nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.main),
                nix::sys::signal::Signal::try_from(c.sig).ok(),
            ) {
                Ok(()) => {
                    self.passed.push((c.sig, sender.clone()));
                    Ok(())
                }
                Err(_) => Err("the command could not be signalled"),
            }
        };
        let kind = EventKind::Relayed {
            sig: Signal(c.sig),
            from: Origin::Process(sender),
            passed,
        };
        self.emit(event(self.main, self.main, kind));
    }

    /// Whether the kernel's record shows `c`'s sender sending the same signal to the
    /// command, within the window of one group kill.
    fn reached_by_itself(&mut self, c: &ControlSignal) -> bool {
        let Some(reader) = &self.reader else {
            return false;
        };
        let deadline = Instant::now() + GROUP_KILL_WINDOW;
        loop {
            let records = reader.take();
            let seen = records.iter().any(|r| {
                matches!(r, Record::Signal(k) if k.sig == c.sig && k.sender_pid == c.pid && k.target_pid == self.main)
            });
            self.pending.extend(records.into_iter().map(Item::Record));
            if seen {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// A kernel record for the fold, at the time it was generated.
    fn emit_record(&mut self, pid: i32, tid: i32, r: Record) {
        let time = r.time();
        let mut ev = event(pid, tid, EventKind::Kernel(r));
        ev.time = time;
        self.emit(ev);
    }

    fn emit(&mut self, mut ev: Event) {
        ev.ntasks = self.tasks.len();
        self.batch.push(ev);
    }

    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        match &self.tx {
            Some(tx) => {
                let _ = tx.send(std::mem::take(&mut self.batch));
                self.bell.ring();
            }
            None => self.batch.clear(),
        }
    }

    /// The last event: sigtrace's status and how many processes were followed.
    pub fn end(&mut self, status: i32, error: Option<String>) {
        // A ring's loss is written into it only with its next sample: its events' own count
        // also has the losses no later sample reported.
        let counted = self.reader.as_ref().and_then(Reader::lost).unwrap_or(0);
        let lost = Losses {
            records: self.records_lost.max(counted),
            messages: self.connector.as_ref().map_or(0, |c| c.lost),
        };
        let end = EventKind::End {
            status,
            processes: self.nprocs,
            error,
            lost,
        };
        self.emit(event(self.main, self.main, end));
    }

    pub fn close_output(&mut self) {
        self.send();
        self.tx = None;
        self.bell.ring_now();
    }
}

fn event(pid: i32, tid: i32, kind: EventKind) -> Event {
    Event {
        time: Stamp::now(),
        pid,
        tid,
        ntasks: 0,
        kind,
        stack: None,
        names: None,
    }
}

/// The cgroup of a process that has not begun to exit: cgroup_exit() moves an exiting task
/// to the root cgroup on a v1 host, which says nothing of where it was.
fn live_cgroup(pid: i32) -> Option<String> {
    let path = crate::procfs::cgroup(pid)?;
    crate::procfs::running(pid).then_some(path)
}

/// RLIMIT_CPU's hard limit, as the ptrace mode establishes it: set, and the CPU time used by
/// the end at least half of it (the kernel counts at ticks, ahead of schedstat's run time).
fn cpu_limit_reached(pid: i32) -> Option<KernelReason> {
    let limit = crate::procfs::limits(pid)?.cpu.hard?;
    let used = crate::procfs::cpu_time(pid)?;
    (used.as_secs_f64() >= limit as f64 * 0.5).then_some(KernelReason::RlimitCpu {
        hard: true,
        limit,
        used: Some(used),
    })
}

/// What the record mode lacks without the kernel's record, and what would give it.
fn unreadable(off: &Off) -> String {
    match off {
        Off::NotPermitted => "the kernel's record of signals needs root or CAP_PERFMON".into(),
        Off::Disabled => "the kernel's record was turned off".into(),
        Off::Unavailable(why) => format!("the kernel's record is unavailable here ({why})"),
    }
}

/// The errno a failed exec wrote, or None when the exec closed the pipe.
fn exec_errno(pipe: OwnedFd) -> Option<i32> {
    use std::io::Read;
    let mut buf = Vec::new();
    let _ = std::fs::File::from(pipe).read_to_end(&mut buf);
    let bytes: [u8; 4] = buf.get(..4)?.try_into().ok()?;
    Some(i32::from_ne_bytes(bytes))
}
