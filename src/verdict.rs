//! Folds the events of each traced process into one verdict when it ends: why, and who did it (data only; render words it).

use crate::decode::siginfo::{self as si, SigInfo};
use crate::event::Stack;
use crate::event::reason::{KernelReason, LeaderEnd};
use crate::event::{
    Disposition, Event, EventKind, Oom, Origin, Sender, Source, Stamp, Syscall, Target,
};
use crate::event::{KernelSignal, Off, Record, SignalResult};
use crate::signal::{DefaultAction, Signal};
use crate::syscalls::{NR_EXIT, NR_EXIT_GROUP};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Defines `Cause` from one list: each cause's variant, name, colour on the report page and
/// meaning, so that a new cause is one line here (plus its rule in the fold and its words in
/// the text's `cause_text`, which the compiler asks for).
macro_rules! causes {
    ($($variant:ident: $name:literal, $colour:literal, $meaning:literal;)*) => {
        /// Why a process ended: the vocabulary every output reads (text, JSON, the summary
        /// table, the report page and the man page).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Cause {
            $($variant,)*
        }

        impl Cause {
            /// Every cause, in the order the page's legend and the man page list them.
            pub const ALL: &'static [Cause] = &[$(Cause::$variant,)*];

            /// (name, colour, meaning).
            fn about(self) -> (&'static str, &'static str, &'static str) {
                match self {
                    $(Cause::$variant => ($name, $colour, $meaning),)*
                }
            }
        }
    };
}

causes! {
    SelfExit: "self-exit", "#2e7d32",
        "it called exit or exit_group with no external signal behind it";
    ExternalSignal: "external-signal", "#d32f2f",
        "another process sent the fatal signal, or a request to end (TERM, INT, QUIT, ABRT, \
         XCPU, PWR; HUP with status 129) that the process handled or took with sigtimedwait or \
         a signalfd and then exited (graceful shutdown); or any signal whose handler exited";
    SelfSignal: "self-signal", "#ef6c00",
        "it signalled itself or its own process group (raise, abort, kill 0)";
    Crash: "crash", "#6a1b9a",
        "a fault signal the kernel generated for the faulting instruction";
    Terminal: "terminal", "#1565c0",
        "SIGINT, SIGQUIT, SIGHUP or SIGTSTP from its terminal (Ctrl-C, a hangup, the session \
         leader's end hanging up the foreground group); never without a terminal";
    Kernel: "kernel", "#00838f",
        "another signal the kernel made, with its reason: a broken pipe, a resource limit \
         (RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_RTTIME), an orphaned stopped process group, a timer";
    Oom: "oom", "#ad1457", "SIGKILL from the out-of-memory killer";
    Sigkill: "sigkill", "#37474f",
        "a SIGKILL whose sender nothing could name (the verdict says what would)";
    Unknown: "unknown", "#9e9e9e",
        "none of the above could be established (the verdict says what is known)";
}

impl Cause {
    /// The name in JSON, the table and the page: `external-signal`.
    pub fn as_str(self) -> &'static str {
        self.about().0
    }

    /// Its colour on the report page.
    pub fn colour(self) -> &'static str {
        self.about().1
    }

    /// What it means, in one sentence (the man page, the page's legend).
    pub fn meaning(self) -> &'static str {
        self.about().2
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Killed { sig: Signal, core: bool },
}

impl Outcome {
    /// The signal that killed it.
    pub fn signal(self) -> Option<Signal> {
        match self {
            Outcome::Exited(_) => None,
            Outcome::Killed { sig, .. } => Some(sig),
        }
    }

    /// The status a shell reports for it: N, or 128+S.
    pub fn status(self) -> i32 {
        match self {
            Outcome::Exited(c) => c,
            Outcome::Killed { sig, .. } => 128 + sig.0,
        }
    }
}

/// A delivered signal, as the verdict remembers it.
#[derive(Debug, Clone)]
pub struct SignalRecord {
    pub time: Stamp,
    pub tid: i32,
    pub info: SigInfo,
    pub from: Origin,
    pub disposition: Disposition,
    /// What in the kernel sent it or drops it, as the tracer established it.
    pub reason: Option<KernelReason>,
    /// The traced kill-family call that sent it, when a traced process did.
    pub call: Option<Arc<KillCall>>,
    /// With -k: the receiving task's stack at the delivery.
    pub stack: Option<Stack>,
}

/// A kill-family syscall made by a traced process, to link to the deliveries it caused.
#[derive(Debug, Clone)]
pub struct KillCall {
    pub time: Stamp,
    pub sender: Arc<Sender>,
    pub sig: Signal,
    pub target: Target,
    /// The call as the tracer decoded it at entry.
    pub call: Syscall,
    /// With -k: the sender's stack at the call.
    pub stack: Option<Stack>,
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub time: Stamp,
    pub pid: i32,
    pub comm: Arc<[u8]>,
    /// Its parent when it was last seen (first seen, or its latest exec).
    pub ppid: Option<i32>,
    /// Its command line then (empty when unknown).
    pub argv: Vec<Vec<u8>>,
    /// Its uid and cgroup then, where they were read (the watch mode).
    pub uid: Option<u32>,
    pub cgroup: Option<Arc<str>>,
    pub outcome: Outcome,
    pub cause: Cause,
    /// The sender, for external signals, and how it was known.
    pub by: Option<(Origin, Source)>,
    pub trigger: Option<SignalRecord>,
    /// The traced kill-family call that sent the fatal signal.
    pub call: Option<Arc<KillCall>>,
    /// Termination requests from others that came before the end (the SIGTERM before a
    /// SIGKILL, a SIGTERM the process ignored).
    pub earlier: Vec<SignalRecord>,
    /// For a self-exit: the last signal it handled, as context (a reload on SIGHUP).
    pub last_handled: Option<SignalRecord>,
    pub oom: Option<Oom>,
    /// With -k, the stack that explains the end: the traced kill call's (an external signal),
    /// the exit call's (an exit), or the fatal delivery's (a death by signal).
    pub stack: Option<Stack>,
    /// What the kernel's record adds that ptrace cannot see (merged, overflowed, ignored).
    pub kernel: KernelNotes,
    /// Why the kernel's record was not read, when it was not.
    pub kernel_off: Option<Off>,
    /// What in the kernel ended it, for a signal the kernel generated (or its trigger's).
    pub kernel_reason: Option<KernelReason>,
    /// It exited inside the handler of its trigger (before the handler's rt_sigreturn).
    pub in_handler: bool,
}

/// Signals the kernel's record saw go where ptrace cannot follow: (signal, how many).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelNotes {
    /// Standard signals merged into one of the same number already pending.
    pub merged: Vec<(i32, u32)>,
    /// Real-time signals not queued: the queue was full (RLIMIT_SIGPENDING).
    pub overflowed: Vec<(i32, u32)>,
    /// Signals discarded at once because the process ignored them.
    pub ignored: Vec<(i32, u32)>,
    /// Signals discarded because the process was already dying of the fatal one (the kernel
    /// records them as ignored).
    pub dying: Vec<(i32, u32)>,
    /// Records the ring buffer had no room for.
    pub lost: u64,
    /// The OOM killer chose it (oom:mark_victim).
    pub oom_victim: bool,
}

impl KernelNotes {
    fn count(list: &mut Vec<(i32, u32)>, sig: i32) {
        match list.iter_mut().find(|(s, _)| *s == sig) {
            Some((_, n)) => *n += 1,
            None => list.push((sig, 1)),
        }
    }

    fn add(&mut self, r: &KernelSignal) {
        // A merged SIGCHLD or SIGCONT changes nothing: only signals that could end it count;
        // a SIGKILL is only ever "ignored" or merged by a process already dying of one.
        if !terminates(Signal(r.sig)) || r.sig == libc::SIGKILL {
            return;
        }
        match r.result {
            SignalResult::AlreadyPending => Self::count(&mut self.merged, r.sig),
            SignalResult::QueueOverflow => Self::count(&mut self.overflowed, r.sig),
            SignalResult::Ignored => Self::count(&mut self.ignored, r.sig),
            _ => {}
        }
    }

    /// Moves the ignored ones generated after `fatal` (the fatal signal's generation) to
    /// `dying`: prepare_signal() drops every signal but SIGKILL sent to a group already exiting,
    /// and the record calls that "ignored". `at`: the ignored ones' (signal, time).
    fn split_dying(&mut self, at: &[(i32, std::time::Instant)], fatal: Option<std::time::Instant>) {
        let Some(fatal) = fatal else {
            return;
        };
        for &(sig, _) in at.iter().filter(|&&(_, t)| t > fatal) {
            if let Some(i) = self.ignored.iter().position(|&(s, _)| s == sig) {
                self.ignored[i].1 -= 1;
                if self.ignored[i].1 == 0 {
                    self.ignored.remove(i);
                }
                Self::count(&mut self.dying, sig);
            }
        }
    }
}

/// The kernel's records of SIGKILL and termination requests kept per process.
const KERNEL_KEPT: usize = 32;

#[derive(Default)]
struct History {
    /// The last signal of each number delivered with its default action.
    fatal: HashMap<i32, SignalRecord>,
    /// The last external signal of each number the process caught.
    caught: HashMap<i32, SignalRecord>,
    /// The last signal of each number it sent itself and caught.
    caught_own: HashMap<i32, SignalRecord>,
    /// The last signal it caught, whatever it was.
    last_handled: Option<SignalRecord>,
    /// The last signal of each number it caught or took, for an exit inside a handler.
    handled: HashMap<i32, SignalRecord>,
    /// Termination requests received, in order (at most EARLIER_MAX).
    requests: Vec<SignalRecord>,
    /// Its process group, from its context lines.
    pgrp: Option<i32>,
    /// With -k: the stack of its last exit or exit_group call.
    exit_stack: Option<Stack>,
    /// The kernel's records of SIGKILL and termination requests for it, the last KERNEL_KEPT.
    kernel: Vec<KernelSignal>,
    notes: KernelNotes,
    /// When its ignored signals were generated (the last KERNEL_KEPT).
    ignored_at: Vec<(i32, std::time::Instant)>,
    oom_victim: bool,
    /// Its parent and command line, from its context lines.
    ppid: Option<i32>,
    argv: Vec<Vec<u8>>,
    uid: Option<u32>,
    cgroup: Option<Arc<str>>,
    /// When it was last touched (the fold's count of touches), to forget the stalest first.
    touched: u64,
}

/// What the end event itself says, beside its outcome.
#[derive(Default)]
struct End {
    comm: Option<Arc<[u8]>>,
    oom: Option<Oom>,
    reason: Option<KernelReason>,
    in_handler: Option<Signal>,
}

/// How many earlier termination requests a verdict keeps.
const EARLIER_MAX: usize = 8;
/// How many recent kill-family calls are kept to link deliveries and SIGKILLs to.
const CALLS_MAX: usize = 512;

/// Processes the fold keeps a history of at most: a process whose end was never read (the
/// proc connector lost it) must not hold memory for ever in a watch that runs for days.
const PROCS_MAX: usize = 65536;

#[derive(Default)]
pub struct Fold {
    procs: HashMap<i32, History>,
    /// Touches of histories so far.
    touches: u64,
    /// Kill-family calls by traced processes, oldest first.
    calls: VecDeque<Arc<KillCall>>,
    kernel_off: Option<Off>,
    /// Records lost from the kernel's ring buffer, for every verdict from then on.
    lost: u64,
    /// Names of traced processes (from their context), for a traced sender that ended before
    /// the kernel's record of its signal was read.
    names: HashMap<i32, Vec<u8>>,
    /// How traced processes ended, for a session leader's end named in its group's verdicts.
    ended: HashMap<i32, LeaderEnd>,
}

/// Signals whose default action ends the process (signal(7): Term and Core).
fn terminates(sig: Signal) -> bool {
    matches!(
        sig.default_action(),
        DefaultAction::Term | DefaultAction::Core
    )
}

fn is_fault(sig: Signal) -> bool {
    matches!(
        sig.0,
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP | libc::SIGSYS
    )
}

/// From the terminal: a terminal's SI_KERNEL signal that the tracer did not find another
/// reason for (an orphaned group's SIGHUP, one to a process without a terminal).
fn from_terminal(r: &SignalRecord) -> bool {
    terminal_signal(&r.info)
        && matches!(
            r.reason,
            None | Some(KernelReason::Terminal | KernelReason::SessionLeaderExit { .. })
        )
}

/// SIGINT, SIGQUIT, SIGHUP or SIGTSTP from the terminal (si_code SI_KERNEL).
pub fn terminal_signal(info: &SigInfo) -> bool {
    info.code() == si::SI_KERNEL
        && matches!(
            info.signo().0,
            libc::SIGINT | libc::SIGQUIT | libc::SIGHUP | libc::SIGTSTP
        )
}

/// Sent by another process (or from the terminal): not by the process itself, not a fault.
fn external(r: &SignalRecord, pid: i32) -> bool {
    match &r.from {
        Origin::Process(s) => s.pid != pid,
        Origin::OtherNamespace { .. } | Origin::Untranslated { .. } | Origin::PassedOn(_) => true,
        Origin::NoSender => from_terminal(r),
    }
}

/// Whether a call reaches process `pid`, which is in group `pgrp`.
fn reaches(call: &KillCall, pid: i32, pgrp: Option<i32>) -> bool {
    match call.target {
        Target::Pid(p) => p == pid,
        Target::Group(g) => pgrp == Some(g),
        Target::All => call.sender.pid != pid,
        Target::Unknown => false,
    }
}

impl Fold {
    /// Takes one event; returns a verdict when it ends a process (its leader exited or was killed).
    pub fn observe(&mut self, ev: &Event) -> Option<Verdict> {
        match &ev.kind {
            EventKind::Signal {
                info,
                from,
                disposition,
                reason,
            } => self.delivered(ev, info, from, *disposition, reason.clone()),
            EventKind::SignalSent {
                sig,
                target,
                sender,
                call,
            } => {
                if self.calls.len() >= CALLS_MAX {
                    self.calls.pop_front();
                }
                self.calls.push_back(Arc::new(KillCall {
                    time: ev.time,
                    sender: sender.clone(),
                    sig: *sig,
                    target: *target,
                    call: call.clone(),
                    stack: ev.stack.clone(),
                }));
            }
            EventKind::Context(ctx) => {
                let h = self.history(ev.pid);
                h.pgrp = Some(ctx.pgrp);
                h.ppid = Some(ctx.ppid);
                h.argv.clone_from(&ctx.argv);
                h.uid = ctx.uid;
                h.cgroup.clone_from(&ctx.cgroup);
                // Bounded: a fork storm must not grow it without end.
                if self.names.len() >= 4096 {
                    self.names.clear();
                }
                self.names.insert(ev.pid, ctx.comm.clone());
            }
            EventKind::SyscallEntry(call)
                if ev.stack.is_some() && matches!(call.nr, NR_EXIT | NR_EXIT_GROUP) =>
            {
                self.history(ev.pid).exit_stack = ev.stack.clone();
            }
            EventKind::Kernel(r) => self.kernel_record(ev.pid, r),
            EventKind::KernelOff(off) => self.kernel_off = Some(off.clone()),
            EventKind::Exited {
                code,
                comm,
                in_handler,
            } if ev.tid == ev.pid => {
                let end = End {
                    comm: comm.clone(),
                    in_handler: *in_handler,
                    ..End::default()
                };
                return Some(self.end(ev, Outcome::Exited(*code), end));
            }
            EventKind::Killed {
                sig,
                core,
                comm,
                oom,
                reason,
            } if ev.tid == ev.pid => {
                let outcome = Outcome::Killed {
                    sig: *sig,
                    core: *core,
                };
                let end = End {
                    comm: comm.clone(),
                    oom: oom.clone(),
                    reason: reason.clone(),
                    in_handler: None,
                };
                return Some(self.end(ev, outcome, end));
            }
            _ => {}
        }
        None
    }

    /// The history of `pid`, made if need be; at PROCS_MAX, the stalest half is forgotten.
    fn history(&mut self, pid: i32) -> &mut History {
        if self.procs.len() >= PROCS_MAX && !self.procs.contains_key(&pid) {
            let mut ages: Vec<u64> = self.procs.values().map(|h| h.touched).collect();
            let (_, median, _) = ages.select_nth_unstable(PROCS_MAX / 2);
            let median = *median;
            self.procs.retain(|_, h| h.touched > median);
        }
        self.touches += 1;
        let h = self.procs.entry(pid).or_default();
        h.touched = self.touches;
        h
    }

    fn kernel_record(&mut self, pid: i32, r: &Record) {
        match r {
            Record::Lost(n) => self.lost += n,
            // The delivery itself reaches the fold as a signal event.
            Record::Delivered { .. } => {}
            Record::OomVictim { .. } => self.history(pid).oom_victim = true,
            Record::Signal(s) => {
                let h = self.history(pid);
                h.notes.add(s);
                if s.result == SignalResult::Ignored {
                    if h.ignored_at.len() == KERNEL_KEPT {
                        h.ignored_at.remove(0);
                    }
                    h.ignored_at.push((s.sig, s.time.mono));
                }
                if s.sig == libc::SIGKILL || Signal(s.sig).is_termination_request() {
                    if h.kernel.len() == KERNEL_KEPT {
                        h.kernel.remove(0);
                    }
                    h.kernel.push(s.clone());
                }
            }
        }
    }

    fn delivered(
        &mut self,
        ev: &Event,
        info: &SigInfo,
        from: &Origin,
        d: Disposition,
        reason: Option<KernelReason>,
    ) {
        let sig = info.signo();
        let pgrp = self.procs.get(&ev.pid).and_then(|h| h.pgrp);
        let call = from
            .pid()
            .and_then(|sender| self.call_to(ev.pid, pgrp, sig, Some(sender)));
        let r = SignalRecord {
            time: ev.time,
            tid: ev.tid,
            info: *info,
            from: from.clone(),
            disposition: d,
            reason,
            call,
            stack: ev.stack.clone(),
        };
        let h = self.history(ev.pid);
        if matches!(d, Disposition::Caught | Disposition::Taken(_)) {
            if h.handled.len() >= 64 {
                h.handled.clear();
            }
            h.handled.insert(sig.0, r.clone());
        }
        if sig.is_termination_request() {
            if h.requests.len() >= EARLIER_MAX {
                h.requests.remove(0);
            }
            h.requests.push(r.clone());
        }
        match d {
            // SIGCHLD, SIGWINCH and the like say nothing of why a process ended: only a
            // handled signal whose default would have ended it is context (a reload's SIGHUP).
            Disposition::Caught | Disposition::Taken(_) if terminates(sig) => {
                h.last_handled = Some(r.clone());
                if external(&r, ev.pid) {
                    h.caught.insert(sig.0, r);
                } else {
                    h.caught_own.insert(sig.0, r);
                }
            }
            Disposition::Default => {
                h.fatal.insert(sig.0, r);
            }
            Disposition::Caught | Disposition::Taken(_) | Disposition::Ignored { .. } => {}
        }
    }

    /// The latest traced call that sent `sig` to process `pid`: one aimed at the process
    /// itself before one aimed at its group, and that before a kill(-1).
    fn call_to(
        &self,
        pid: i32,
        pgrp: Option<i32>,
        sig: Signal,
        sender: Option<i32>,
    ) -> Option<Arc<KillCall>> {
        let rank = |c: &KillCall| match c.target {
            Target::Pid(_) => 3,
            Target::Group(_) => 2,
            _ => 1,
        };
        // Oldest first: of calls of equal rank, max_by_key keeps the last, the latest one.
        self.calls
            .iter()
            .filter(|c| c.sig == sig && sender.is_none_or(|s| s == c.sender.pid))
            .filter(|c| reaches(c, pid, pgrp))
            .max_by_key(|c| rank(c))
            .cloned()
    }

    fn end(&mut self, ev: &Event, outcome: Outcome, end: End) -> Verdict {
        let End {
            comm,
            oom,
            reason,
            in_handler,
        } = end;
        let h = self.procs.remove(&ev.pid).unwrap_or_default();
        let mut v = Verdict {
            time: ev.time,
            pid: ev.pid,
            comm: comm.unwrap_or_else(|| Arc::from(&b"?"[..])),
            ppid: h.ppid,
            argv: Vec::new(),
            uid: h.uid,
            cgroup: h.cgroup.clone(),
            outcome,
            cause: Cause::Unknown,
            by: None,
            trigger: None,
            call: None,
            earlier: Vec::new(),
            last_handled: None,
            oom,
            stack: None,
            kernel: h.notes.clone(),
            kernel_off: self.kernel_off.clone(),
            kernel_reason: None,
            in_handler: false,
        };
        v.kernel.lost = self.lost;
        v.kernel.oom_victim = h.oom_victim;
        let fatal = outcome.signal().and_then(|sig| {
            h.kernel
                .iter()
                .rev()
                .find(|k| k.sig == sig.0 && k.result == SignalResult::Delivered)
                .map(|k| k.time.mono)
        });
        v.kernel.split_dying(&h.ignored_at, fatal);
        match outcome {
            Outcome::Exited(_) if let Some(r) = in_handler.and_then(|s| h.handled.get(&s.0)) => {
                // An exit inside a handler: that handler's signal is the cause, whatever it is.
                let cause = classify(r, v.pid);
                set_trigger(&mut v, cause, r.clone());
                v.in_handler = true;
            }
            Outcome::Exited(code) => on_exit(&mut v, &h, code),
            Outcome::Killed { sig, .. } if sig.0 == libc::SIGKILL => {
                self.sigkilled(&mut v, &h, reason)
            }
            Outcome::Killed { sig, .. } => on_kill(&mut v, &h, sig),
        }
        self.kernel_reason(&mut v);
        let trigger_time = v.trigger.as_ref().map(|t| t.time.mono);
        v.earlier = h
            .requests
            .iter()
            .filter(|r| trigger_time.is_none_or(|t| r.time.mono < t) && external(r, ev.pid))
            .cloned()
            .collect();
        name_gone_sender(&mut v, &h);
        if v.cause == Cause::SelfExit {
            v.last_handled = h.last_handled;
        }
        let call_stack = v.call.as_ref().and_then(|c| c.stack.clone());
        v.stack = call_stack.or(match outcome {
            Outcome::Exited(_) => h.exit_stack,
            Outcome::Killed { .. } => v.trigger.as_ref().and_then(|t| t.stack.clone()),
        });
        v.argv = h.argv;
        self.remember_end(&v);
        v
    }

    /// The kernel's reason behind the verdict: its trigger's (a session leader's end filled
    /// in from what was seen of it), or its cause's own.
    fn kernel_reason(&self, v: &mut Verdict) {
        let from_trigger = v.trigger.as_ref().and_then(|t| t.reason.clone());
        let reason = match (v.cause, from_trigger) {
            (_, Some(KernelReason::SessionLeaderExit { leader, comm, .. })) => {
                Some(KernelReason::SessionLeaderExit {
                    leader,
                    comm,
                    ended: self.ended.get(&leader).cloned(),
                })
            }
            (Cause::Kernel | Cause::Terminal | Cause::Crash, Some(r)) => Some(r),
            (Cause::Oom, _) => Some(KernelReason::Oom),
            (Cause::Terminal, None) => Some(KernelReason::Terminal),
            (Cause::Kernel, None) if v.outcome.signal() == Some(Signal(libc::SIGPIPE)) => {
                Some(KernelReason::BrokenPipe)
            }
            _ => v.kernel_reason.take(),
        };
        v.kernel_reason = reason;
    }

    /// How a traced process ended, kept (a few thousand at most) for the verdicts of its
    /// session's foreground group, which the kernel hangs up when a session leader ends.
    fn remember_end(&mut self, v: &Verdict) {
        if self.ended.len() >= 4096 {
            self.ended.clear();
        }
        let by =
            v.by.as_ref()
                .and_then(|(o, _)| o.process())
                .map(|s| (s.pid, s.comm.clone()));
        let end = LeaderEnd {
            status: v.outcome.status(),
            signal: v.outcome.signal().map(|s| s.0),
            by,
        };
        self.ended.insert(v.pid, end);
    }

    /// A SIGKILL, whose delivery ptrace never shows: the OOM killer's evidence, or the traced
    /// call that sent it.
    fn sigkilled(&self, v: &mut Verdict, h: &History, reason: Option<KernelReason>) {
        if v.oom.as_ref().is_some_and(Oom::is_oom) || h.oom_victim {
            v.cause = Cause::Oom;
            return;
        }
        let Some(call) = self.call_to(v.pid, h.pgrp, Signal(libc::SIGKILL), None) else {
            v.cause = sigkill_from_record(v, h, &self.names, reason);
            return;
        };
        if call.sender.pid == v.pid {
            v.cause = Cause::SelfSignal;
        } else {
            v.cause = Cause::ExternalSignal;
            v.by = Some((Origin::Process(call.sender.clone()), Source::TracedCall));
        }
        v.call = Some(call);
    }
}

/// The cause of a SIGKILL no traced call sent, from the kernel's record of it: who sent it
/// (`by`), or the kernel itself (SI_KERNEL) for `reason` (a limit the tracer saw reached);
/// `sigkill` when neither says.
fn sigkill_from_record(
    v: &mut Verdict,
    h: &History,
    names: &HashMap<i32, Vec<u8>>,
    reason: Option<KernelReason>,
) -> Cause {
    let record = h.kernel.iter().rev().find(|k| k.sig == libc::SIGKILL);
    let by_kernel = record.is_none_or(|k| k.code == si::SI_KERNEL);
    let Some(k) = record.filter(|_| !by_kernel || reason.is_none()) else {
        // A limit it reached, which the record (when read) does not contradict.
        return match reason {
            Some(r) => {
                v.kernel_reason = Some(r);
                Cause::Kernel
            }
            None => Cause::Sigkill,
        };
    };
    if k.code == si::SI_KERNEL {
        v.kernel_reason = Some(KernelReason::Unestablished {
            checked: "not the OOM killer's victim; its CPU time under RLIMIT_CPU's hard limit",
        });
        return Cause::Kernel;
    }
    if k.sender_pid == v.pid {
        return Cause::SelfSignal;
    }
    // A sender nothing described: a traced one is known by name.
    let sender = k.sender.clone().unwrap_or_else(|| {
        Arc::new(Sender {
            pid: k.sender_pid,
            comm: names.get(&k.sender_pid).cloned().unwrap_or_default(),
            ..Sender::default()
        })
    });
    v.by = Some((Origin::Process(sender), Source::KernelRecord));
    Cause::ExternalSignal
}

/// A sender nothing at the delivery could name (gone before sigtrace could read it, or in
/// another pid namespace), named from the kernel's record of the signal: for the verdict's
/// sender and for each earlier request.
fn name_gone_sender(v: &mut Verdict, h: &History) {
    if let (Some((from, _)), Some(t)) = (&v.by, &v.trigger)
        && let Some(s) = record_sender(h, from, t)
    {
        v.by = Some((Origin::Process(s), Source::KernelRecord));
    }
    for r in &mut v.earlier {
        if let Some(s) = record_sender(h, &r.from, r) {
            r.from = Origin::Process(s);
        }
    }
}

/// The sender the kernel's record names for the delivery `r` of a signal from `from`, when
/// the siginfo could not: the latest record of that signal before it.
fn record_sender(h: &History, from: &Origin, r: &SignalRecord) -> Option<Arc<Sender>> {
    let pid = match from {
        Origin::Process(s) if s.is_unread() => Some(s.pid),
        // A pid of the receiver's namespace is not one of sigtrace's: any sender of it will do.
        Origin::OtherNamespace { .. } | Origin::Untranslated { .. } => None,
        _ => return None,
    };
    let sig = r.info.signo().0;
    h.kernel
        .iter()
        .rev()
        // Generated before it was delivered (a millisecond of slack for the clocks' conversion).
        .filter(|k| k.time.mono <= r.time.mono + std::time::Duration::from_millis(1))
        .find(|k| k.sig == sig && k.sender.is_some() && pid.is_none_or(|p| p == k.sender_pid))
        .and_then(|k| k.sender.clone())
}

/// An exit: a handled termination request (or signal N with status 128+N) is its cause; any
/// other handled signal is context.
fn on_exit(v: &mut Verdict, h: &History, code: i32) {
    let ends_it = |r: &&SignalRecord| {
        let sig = r.info.signo();
        code == 128 + sig.0
            || (sig.is_termination_request() && (sig.0 != libc::SIGHUP || code == 129))
    };
    let latest = |m: &HashMap<i32, SignalRecord>| {
        m.values()
            .filter(ends_it)
            .max_by_key(|r| r.time.mono)
            .cloned()
    };
    match (latest(&h.caught), latest(&h.caught_own)) {
        (Some(r), _) if from_terminal(&r) => set_trigger(v, Cause::Terminal, r),
        (Some(r), _) => set_trigger(v, Cause::ExternalSignal, r),
        // A termination request it sent itself and handled (a script's `kill -TERM $$`).
        (None, Some(r)) => set_trigger(v, Cause::SelfSignal, r),
        (None, None) => v.cause = Cause::SelfExit,
    }
}

/// A death by a signal delivered with its default action.
fn on_kill(v: &mut Verdict, h: &History, sig: Signal) {
    let Some(r) = h.fatal.get(&sig.0).cloned() else {
        v.cause = Cause::Unknown;
        return;
    };
    let cause = classify(&r, v.pid);
    // A program that caught an external signal and raised it again on itself (a shell's
    // trap, Python's KeyboardInterrupt, make): the external signal is the cause.
    if cause == Cause::SelfSignal
        && let Some(ext) = h.caught.get(&sig.0)
    {
        let cause = if from_terminal(ext) {
            Cause::Terminal
        } else {
            Cause::ExternalSignal
        };
        return set_trigger(v, cause, ext.clone());
    }
    set_trigger(v, cause, r);
}

fn set_trigger(v: &mut Verdict, cause: Cause, r: SignalRecord) {
    v.cause = cause;
    if cause == Cause::ExternalSignal {
        v.by = match &r.from {
            Origin::NoSender => None,
            Origin::PassedOn(s) => Some((Origin::Process(s.clone()), Source::PassedOn)),
            // The record mode rebuilds a siginfo from the kernel's record: that is the source.
            from if r.info.recorded() => Some((from.clone(), Source::KernelRecord)),
            from => Some((from.clone(), Source::Siginfo)),
        };
        v.call = r.call.clone();
    }
    v.trigger = Some(r);
}

/// The cause of a death by a signal delivered with its default action.
fn classify(r: &SignalRecord, pid: i32) -> Cause {
    let sig = r.info.signo();
    let code = r.info.code();
    if is_fault(sig) && code > 0 {
        return Cause::Crash;
    }
    if from_terminal(r) {
        return Cause::Terminal;
    }
    // The kernel sends SIGPIPE (broken pipe) and SIGXFSZ as SI_USER with the process's own pid;
    // a kill() the process made itself is linked to its traced call.
    let own_pid = matches!(&r.from, Origin::Process(s) if s.pid == pid);
    if matches!(sig.0, libc::SIGPIPE | libc::SIGXFSZ | libc::SIGXCPU)
        && code == si::SI_USER
        && own_pid
        && r.call.is_none()
    {
        return Cause::Kernel;
    }
    match &r.from {
        Origin::Process(s) if s.pid == pid => Cause::SelfSignal,
        Origin::NoSender if code > 0 || code == si::SI_TIMER => Cause::Kernel,
        Origin::NoSender => Cause::Unknown,
        _ => Cause::ExternalSignal,
    }
}

/// Events to fold, for the verdict's tests and its sentences' tests.
#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::decode::siginfo::testing::build;
    use std::sync::Arc;

    pub fn ev(pid: i32, kind: EventKind) -> Event {
        Event {
            time: Stamp::now(),
            pid,
            tid: pid,
            ntasks: 1,
            kind,
            stack: None,
            names: None,
        }
    }

    pub fn sender(pid: i32) -> Origin {
        Origin::Process(Arc::new(Sender {
            pid,
            uid: Some(1000),
            comm: b"kill".to_vec(),
            argv: vec![b"kill".to_vec(), b"-TERM".to_vec(), b"42".to_vec()],
            ancestry: vec![(7, b"bash".to_vec()), (1, b"init".to_vec())],
            ..Sender::default()
        }))
    }

    pub fn signal(f: &mut Fold, pid: i32, signo: i32, code: i32, from: Origin, d: Disposition) {
        signal_for(f, pid, (signo, code), from, d, None);
    }

    /// A signal (number, si_code) with the kernel's reason the tracer found for it.
    pub fn signal_for(
        f: &mut Fold,
        pid: i32,
        (signo, code): (i32, i32),
        from: Origin,
        d: Disposition,
        reason: Option<KernelReason>,
    ) {
        let info = build(signo, code, &[(16, 0x10, 8)]);
        let kind = EventKind::Signal {
            info,
            from,
            disposition: d,
            reason,
        };
        assert!(f.observe(&ev(pid, kind)).is_none());
    }

    pub fn exited(f: &mut Fold, pid: i32, code: i32) -> Verdict {
        f.observe(&ev(
            pid,
            EventKind::Exited {
                code,
                comm: Some(Arc::from(&b"java"[..])),
                in_handler: None,
            },
        ))
        .unwrap()
    }

    pub fn killed(f: &mut Fold, pid: i32, sig: i32, oom: Option<Oom>) -> Verdict {
        let kind = EventKind::Killed {
            sig: Signal(sig),
            core: false,
            comm: None,
            oom,
            reason: None,
        };
        f.observe(&ev(pid, kind)).unwrap()
    }

    /// The kernel's record of a signal for `pid`, sent by 99 (`kill`), `ms` ago.
    pub fn record(f: &mut Fold, pid: i32, sig: i32, result: SignalResult, ms: u64) {
        let mut time = Stamp::now();
        time.mono -= std::time::Duration::from_millis(ms);
        let Origin::Process(s) = sender(99) else {
            unreachable!()
        };
        let r = Record::Signal(KernelSignal {
            time,
            sender_pid: 99,
            sender_tid: 99,
            sender: Some(s),
            sender_traced: false,
            target_pid: pid,
            target_tid: None,
            sig,
            code: si::SI_USER,
            group: true,
            result,
            target_ns_init: false,
        });
        assert!(f.observe(&ev(pid, EventKind::Kernel(r))).is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn every_cause_has_its_own_name_colour_and_meaning() {
        let names: std::collections::HashSet<_> = Cause::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Cause::ALL.len());
        for c in Cause::ALL {
            assert!(
                c.colour().starts_with('#') && c.colour().len() == 7,
                "{c:?}"
            );
            assert!(!c.meaning().is_empty());
        }
    }

    #[test]
    fn graceful_exit_after_external_sigterm() {
        let mut f = Fold::default();
        signal(&mut f, 42, 15, si::SI_USER, sender(99), Disposition::Caught);
        let v = exited(&mut f, 42, 143);
        assert_eq!(v.cause, Cause::ExternalSignal);
        assert_eq!(v.by.as_ref().unwrap().0.pid(), Some(99));
    }

    #[test]
    fn a_handled_termination_request_it_sent_itself_is_self_signal() {
        let mut f = Fold::default();
        signal(&mut f, 42, 15, si::SI_USER, sender(42), Disposition::Caught);
        let v = exited(&mut f, 42, 3);
        assert_eq!(v.cause, Cause::SelfSignal);
        assert!(v.by.is_none());
        // A handled SIGUSR1 it sent itself is no request to end.
        signal(&mut f, 43, 10, si::SI_USER, sender(43), Disposition::Caught);
        assert_eq!(exited(&mut f, 43, 3).cause, Cause::SelfExit);
    }

    #[test]
    fn requests_to_end_taken_or_handled_and_exits_inside_handlers() {
        let mut f = Fold::default();
        let taken = Disposition::Taken(crate::event::Taker::Sigtimedwait);
        signal(&mut f, 42, 15, si::SI_USER, sender(99), taken);
        assert_eq!(exited(&mut f, 42, 0).cause, Cause::ExternalSignal);
        // SIGABRT asks to end; SIGUSR1 does not, unless the exit is inside its handler.
        signal(&mut f, 43, 6, si::SI_USER, sender(99), Disposition::Caught);
        assert_eq!(exited(&mut f, 43, 1).cause, Cause::ExternalSignal);
        signal(&mut f, 44, 10, si::SI_USER, sender(99), Disposition::Caught);
        assert_eq!(exited(&mut f, 44, 3).cause, Cause::SelfExit);
        signal(&mut f, 45, 10, si::SI_USER, sender(99), Disposition::Caught);
        let kind = EventKind::Exited {
            code: 3,
            comm: None,
            in_handler: Some(Signal(10)),
        };
        let v = f.observe(&ev(45, kind)).unwrap();
        assert_eq!((v.cause, v.in_handler), (Cause::ExternalSignal, true));
    }

    #[test]
    fn a_kernel_sighup_is_the_terminal_only_with_a_terminal_reason() {
        let mut f = Fold::default();
        let hup = (libc::SIGHUP, si::SI_KERNEL);
        let orphaned = KernelReason::OrphanedPgrp {
            pgrp: 42,
            parent: Some((41, b"sh".to_vec())),
        };
        signal_for(
            &mut f,
            42,
            hup,
            Origin::NoSender,
            Disposition::Default,
            Some(orphaned.clone()),
        );
        let v = killed(&mut f, 42, libc::SIGHUP, None);
        assert_eq!((v.cause, v.kernel_reason), (Cause::Kernel, Some(orphaned)));
        // The session leader's end: the fold says how the leader ended.
        record(&mut f, 7, 9, SignalResult::Delivered, 0);
        assert_eq!(killed(&mut f, 7, 9, None).cause, Cause::ExternalSignal);
        let leader = KernelReason::SessionLeaderExit {
            leader: 7,
            comm: b"sh".to_vec(),
            ended: None,
        };
        signal_for(
            &mut f,
            43,
            hup,
            Origin::NoSender,
            Disposition::Default,
            Some(leader),
        );
        let v = killed(&mut f, 43, libc::SIGHUP, None);
        assert_eq!(v.cause, Cause::Terminal);
        let Some(KernelReason::SessionLeaderExit { ended: Some(e), .. }) = v.kernel_reason else {
            panic!("{:?}", v.kernel_reason)
        };
        assert_eq!((e.signal, e.by.map(|b| b.0)), (Some(9), Some(99)));
    }

    #[test]
    fn plain_exit_and_self_signal_and_reraise() {
        let mut f = Fold::default();
        assert_eq!(exited(&mut f, 42, 0).cause, Cause::SelfExit);
        signal(
            &mut f,
            42,
            6,
            si::SI_TKILL,
            sender(42),
            Disposition::Default,
        );
        assert_eq!(killed(&mut f, 42, 6, None).cause, Cause::SelfSignal);
        // A shell traps an external SIGTERM, then re-raises it on itself.
        signal(&mut f, 42, 15, si::SI_USER, sender(99), Disposition::Caught);
        signal(
            &mut f,
            42,
            15,
            si::SI_USER,
            sender(42),
            Disposition::Default,
        );
        let v = killed(&mut f, 42, 15, None);
        assert_eq!(v.cause, Cause::ExternalSignal);
        assert_eq!(v.by.unwrap().0.pid(), Some(99));
    }

    #[test]
    fn crash_terminal_kernel() {
        let mut f = Fold::default();
        signal(&mut f, 42, 11, 1, Origin::NoSender, Disposition::Default);
        assert_eq!(killed(&mut f, 42, 11, None).cause, Cause::Crash);
        signal(
            &mut f,
            42,
            2,
            si::SI_KERNEL,
            Origin::NoSender,
            Disposition::Default,
        );
        assert_eq!(killed(&mut f, 42, 2, None).cause, Cause::Terminal);
        // SIGPIPE from a write: SI_USER with the process's own pid, but no kill was made.
        signal(
            &mut f,
            42,
            13,
            si::SI_USER,
            sender(42),
            Disposition::Default,
        );
        assert_eq!(killed(&mut f, 42, 13, None).cause, Cause::Kernel);
        signal(
            &mut f,
            42,
            14,
            si::SI_KERNEL,
            Origin::NoSender,
            Disposition::Default,
        );
        assert_eq!(killed(&mut f, 42, 14, None).cause, Cause::Kernel);
    }

    #[test]
    fn a_request_after_the_fatal_signal_is_not_an_earlier_one() {
        let mut f = Fold::default();
        // timeout(1) sends SIGTERM to its child, then to its group: the second reaches a
        // process already dying of the first.
        signal(
            &mut f,
            5,
            libc::SIGTERM,
            si::SI_USER,
            sender(9),
            Disposition::Default,
        );
        signal(
            &mut f,
            5,
            libc::SIGTERM,
            si::SI_USER,
            sender(9),
            Disposition::Ignored { since_exec: false },
        );
        let v = killed(&mut f, 5, libc::SIGTERM, None);
        assert_eq!(v.cause, Cause::ExternalSignal);
        assert!(v.earlier.is_empty(), "{:?}", v.earlier);
    }

    /// A second SIGTERM sent while the first kills the process (timeout's to its group) is
    /// "ignored" in the kernel's record: it was discarded because the process was dying.
    #[test]
    fn a_signal_discarded_while_dying_is_not_called_ignored() {
        let mut f = Fold::default();
        record(&mut f, 5, libc::SIGTERM, SignalResult::Ignored, 30);
        record(&mut f, 5, libc::SIGTERM, SignalResult::Delivered, 20);
        record(&mut f, 5, libc::SIGTERM, SignalResult::Ignored, 10);
        let v = killed(&mut f, 5, libc::SIGTERM, None);
        assert_eq!(v.kernel.ignored, vec![(libc::SIGTERM, 1)], "the one before");
        assert_eq!(v.kernel.dying, vec![(libc::SIGTERM, 1)]);
    }

    #[test]
    fn histories_of_processes_never_seen_ending_are_bounded() {
        let mut f = Fold::default();
        // A process seen early, then touched again late: it is kept over staler ones.
        record(&mut f, 1, libc::SIGTERM, SignalResult::Ignored, 0);
        for pid in 2..(PROCS_MAX as i32 + 1000) {
            record(&mut f, pid, libc::SIGTERM, SignalResult::Ignored, 0);
            if pid == PROCS_MAX as i32 - 10 {
                record(&mut f, 1, libc::SIGTERM, SignalResult::Ignored, 0);
            }
        }
        assert!(f.procs.len() <= PROCS_MAX, "{}", f.procs.len());
        assert!(f.procs.contains_key(&1));
        assert!(!f.procs.contains_key(&2));
        let v = exited(&mut f, 1, 0);
        assert_eq!(v.kernel.ignored, vec![(libc::SIGTERM, 2)]);
    }

    #[test]
    fn parent_and_command_line_from_the_latest_context() {
        let mut f = Fold::default();
        let ctx = |comm: &[u8], argv: &[&[u8]], exec| crate::event::Context {
            comm: comm.to_vec(),
            ppid: 7,
            parent_comm: b"sh".to_vec(),
            pgrp: 7,
            session: 1,
            tty: None,
            argv: argv.iter().map(|a| a.to_vec()).collect(),
            exec,
            uid: None,
            cgroup: None,
        };
        let seen = ctx(b"sh", &[b"sh", b"-c", b"x"], false);
        assert!(
            f.observe(&ev(42, EventKind::Context(seen.into())))
                .is_none()
        );
        let execed = ctx(b"sleep", &[b"sleep", b"5"], true);
        assert!(
            f.observe(&ev(42, EventKind::Context(execed.into())))
                .is_none()
        );
        let v = killed(&mut f, 42, 15, None);
        assert_eq!(
            (v.ppid, v.argv.len(), v.outcome.status()),
            (Some(7), 2, 143)
        );
        assert_eq!(exited(&mut f, 43, 3).ppid, None);
    }

    #[test]
    fn a_sigkill_is_linked_to_the_latest_call_that_reached_it() {
        let mut f = Fold::default();
        for sender in [7, 8] {
            let call = crate::event::Syscall {
                nr: crate::syscalls::NR_KILL,
                args: [42, 9, 0, 0, 0, 0],
                mem: Default::default(),
            };
            let kind = EventKind::SignalSent {
                sig: Signal(libc::SIGKILL),
                target: Target::Pid(42),
                sender: sender_of(sender),
                call,
            };
            assert!(f.observe(&ev(sender, kind)).is_none());
        }
        let v = killed(&mut f, 42, 9, None);
        assert_eq!(v.cause, Cause::ExternalSignal);
        assert_eq!(v.call.unwrap().sender.pid, 8);
    }

    fn sender_of(pid: i32) -> Arc<Sender> {
        match sender(pid) {
            Origin::Process(s) => s,
            _ => unreachable!("testing::sender makes a process"),
        }
    }

    #[test]
    fn sigkill_and_oom() {
        let mut f = Fold::default();
        let none = Oom {
            cgroup: Some(("f".into(), 1, 1)),
            kmsg: Some(false),
        };
        let v = killed(&mut f, 42, 9, Some(none));
        assert_eq!(v.cause, Cause::Sigkill);
        let oom = Oom {
            cgroup: Some(("f".into(), 1, 2)),
            kmsg: None,
        };
        assert_eq!(killed(&mut f, 42, 9, Some(oom)).cause, Cause::Oom);
        assert_eq!(killed(&mut f, 43, 15, None).cause, Cause::Unknown);
    }

    #[test]
    fn sigkill_named_from_the_kernel_record() {
        let mut f = Fold::default();
        record(&mut f, 42, 15, SignalResult::Delivered, 10_000);
        record(&mut f, 42, 15, SignalResult::AlreadyPending, 9_000);
        record(&mut f, 42, 9, SignalResult::Delivered, 0);
        let v = killed(&mut f, 42, 9, None);
        assert_eq!(v.cause, Cause::ExternalSignal);
        let (by, source) = v.by.clone().unwrap();
        assert_eq!((by.pid(), source), (Some(99), Source::KernelRecord));
        assert_eq!(v.kernel.merged, [(15, 1)]);
    }

    #[test]
    fn without_the_record_a_sigkill_says_why() {
        let mut f = Fold::default();
        let off = EventKind::KernelOff(Off::NotPermitted);
        assert!(f.observe(&ev(0, off)).is_none());
        record(&mut f, 42, 34, SignalResult::QueueOverflow, 0);
        let v = killed(&mut f, 42, 9, None);
        assert_eq!(v.cause, Cause::Sigkill);
        assert_eq!(v.kernel_off, Some(Off::NotPermitted));
        assert_eq!(v.kernel.overflowed, [(34, 1)]);
        // The OOM killer's victim, in the record.
        let victim = Record::OomVictim {
            time: Stamp::now(),
            pid: 43,
        };
        assert!(f.observe(&ev(43, EventKind::Kernel(victim))).is_none());
        assert_eq!(killed(&mut f, 43, 9, None).cause, Cause::Oom);
    }
}
