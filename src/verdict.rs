//! Folds the events of each traced process into one verdict when it ends: why, and who did it.

use crate::decode::siginfo::{self as si, SigInfo};
use crate::event::{Disposition, Event, EventKind, From, Oom, Sender, Stamp};
use crate::kernel::{KernelSignal, Off, Record, SignalResult};
use crate::signal::Signal;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    SelfExit,
    ExternalSignal,
    SelfSignal,
    Crash,
    Terminal,
    Kernel,
    Oom,
    Sigkill,
    Unknown,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::SelfExit => "self-exit",
            Cause::ExternalSignal => "external-signal",
            Cause::SelfSignal => "self-signal",
            Cause::Crash => "crash",
            Cause::Terminal => "terminal",
            Cause::Kernel => "kernel",
            Cause::Oom => "oom",
            Cause::Sigkill => "sigkill",
            Cause::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Killed { sig: Signal, core: bool },
}

/// A delivered signal, as the verdict remembers it.
#[derive(Debug, Clone)]
pub struct SignalRecord {
    pub time: Stamp,
    pub tid: i32,
    pub info: SigInfo,
    pub from: From,
    pub disposition: Disposition,
}

/// A kill-family syscall made by a traced process (-f), to link to the delivery it caused.
#[derive(Debug, Clone)]
pub struct KillCall {
    pub time: Stamp,
    pub sender: i32,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub time: Stamp,
    pub pid: i32,
    pub comm: Arc<[u8]>,
    pub outcome: Outcome,
    pub cause: Cause,
    /// The sender, for external signals.
    pub by: Option<Arc<Sender>>,
    pub trigger: Option<SignalRecord>,
    /// The traced kill-family call that sent the trigger, with -f.
    pub call: Option<KillCall>,
    pub oom: Option<Oom>,
    /// How `by` was known.
    pub source: Source,
    /// Termination requests before the fatal signal, from the kernel's record.
    pub earlier: Vec<Earlier>,
    /// What the kernel's record adds that ptrace cannot see (merged, overflowed, ignored).
    pub kernel: KernelNotes,
    /// Why the kernel's record was not read, when it was not.
    pub kernel_off: Option<Off>,
    /// One sentence, e.g. `killed by SIGTERM from 4310 (kill, uid 1000): external signal`.
    pub summary: String,
}

/// How a verdict knows its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// The siginfo of the delivery ptrace showed.
    #[default]
    Siginfo,
    /// The kernel's record of the signal's generation (SIGKILL, a sender gone by delivery).
    KernelRecord,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Siginfo => "siginfo",
            Source::KernelRecord => "kernel-record",
        }
    }
}

/// A termination request that came before the fatal signal.
#[derive(Debug, Clone)]
pub struct Earlier {
    pub time: Stamp,
    pub sig: Signal,
    pub sender_pid: i32,
    pub by: Option<Arc<Sender>>,
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
}

/// The kernel's records kept per process: its last SIGKILL and termination requests.
const KEPT: usize = 32;

#[derive(Default)]
struct History {
    /// The kernel's records of SIGKILL and termination requests for it, the last KEPT.
    kernel: Vec<KernelSignal>,
    notes: KernelNotes,
    oom_victim: bool,
    /// The last signal of each number delivered with its default action.
    fatal: HashMap<i32, SignalRecord>,
    /// The last external signal the process caught whose default action would have ended it.
    caught_external: Option<SignalRecord>,
    /// Signals the process sent itself with kill-family calls.
    self_sent: u64,
}

#[derive(Default)]
pub struct Fold {
    procs: HashMap<i32, History>,
    /// Kill-family calls by traced processes: (sender, signal) -> the last one.
    calls: HashMap<(i32, i32), KillCall>,
    kernel_off: Option<Off>,
    /// Records lost from the kernel's ring buffer, for every verdict from then on.
    lost: u64,
    /// Names of traced processes (from their context), for a traced sender that ended before
    /// the kernel's record of its signal was read.
    names: HashMap<i32, Vec<u8>>,
}

/// Signals whose default action ends the process (signal(7): Term and Core).
fn terminates(sig: Signal) -> bool {
    !matches!(
        sig.0,
        libc::SIGCHLD
            | libc::SIGCONT
            | libc::SIGSTOP
            | libc::SIGTSTP
            | libc::SIGTTIN
            | libc::SIGTTOU
            | libc::SIGURG
            | libc::SIGWINCH
    )
}

fn is_fault(sig: Signal) -> bool {
    matches!(
        sig.0,
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP | libc::SIGSYS
    )
}

fn from_terminal(r: &SignalRecord) -> bool {
    terminal_signal(&r.info)
}

fn terminal_signal(info: &SigInfo) -> bool {
    info.code() == si::SI_KERNEL
        && matches!(
            info.signo().0,
            libc::SIGINT | libc::SIGQUIT | libc::SIGHUP | libc::SIGTSTP
        )
}

/// Sent by another process (or from the terminal): not by the process itself, not a fault.
fn external(r: &SignalRecord, pid: i32) -> bool {
    match &r.from {
        From::Process(s) => s.pid != pid,
        From::Gone(_) | From::OtherNamespace => true,
        From::NoSender => from_terminal(r),
    }
}

/// The syscalls whose (signal, target) arguments the fold links to deliveries.
fn kill_args(name: &str, args: &[u64; 6]) -> Option<(i32, i32)> {
    match name {
        "kill" | "tkill" => Some((args[1] as i32, args[0] as i32)),
        "tgkill" => Some((args[2] as i32, args[0] as i32)),
        "rt_sigqueueinfo" => Some((args[1] as i32, args[0] as i32)),
        "rt_tgsigqueueinfo" => Some((args[2] as i32, args[0] as i32)),
        "pidfd_send_signal" => Some((args[1] as i32, 0)),
        _ => None,
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
            } => {
                let r = SignalRecord {
                    time: ev.time,
                    tid: ev.tid,
                    info: *info,
                    from: from.clone(),
                    disposition: *disposition,
                };
                let h = self.procs.entry(ev.pid).or_default();
                let sig = info.signo();
                if *disposition == Disposition::Caught && terminates(sig) && external(&r, ev.pid) {
                    h.caught_external = Some(r.clone());
                }
                if *disposition == Disposition::Default {
                    h.fatal.insert(sig.0, r);
                }
                None
            }
            // At entry: the delivery it causes may be reported before the sender's syscall exit.
            EventKind::SyscallEntry(call) => {
                let spec = crate::decode::syscall::spec(call.nr);
                if let Some((sig, target)) = kill_args(spec.name, &call.args) {
                    let mut text = String::new();
                    crate::render::syscall::entry(&spec, call, 100, &mut text);
                    text.push(')');
                    let h = self.procs.entry(ev.pid).or_default();
                    if target == ev.pid || target == ev.tid {
                        h.self_sent |= 1 << (sig.wrapping_sub(1) & 63);
                    }
                    let c = KillCall {
                        time: ev.time,
                        sender: ev.pid,
                        text,
                    };
                    self.calls.insert((ev.pid, sig), c);
                }
                None
            }
            EventKind::Kernel(r) => {
                self.kernel_record(ev.pid, r);
                None
            }
            EventKind::Context(ctx) => {
                // Bounded: a fork storm must not grow it without end.
                if self.names.len() >= 4096 {
                    self.names.clear();
                }
                self.names.insert(ev.pid, ctx.comm.clone());
                None
            }
            EventKind::KernelOff(off) => {
                self.kernel_off = Some(off.clone());
                None
            }
            EventKind::Exited { code, comm } if ev.tid == ev.pid => {
                Some(self.end(ev, Outcome::Exited(*code), comm.clone(), None))
            }
            EventKind::Killed {
                sig,
                core,
                comm,
                oom,
            } if ev.tid == ev.pid => {
                let outcome = Outcome::Killed {
                    sig: *sig,
                    core: *core,
                };
                Some(self.end(ev, outcome, comm.clone(), oom.clone()))
            }
            _ => None,
        }
    }

    fn kernel_record(&mut self, pid: i32, r: &Record) {
        match r {
            Record::Lost(n) => self.lost += n,
            Record::OomVictim { .. } => self.procs.entry(pid).or_default().oom_victim = true,
            Record::Signal(s) => {
                let h = self.procs.entry(pid).or_default();
                h.notes.add(s);
                if s.sig == libc::SIGKILL || crate::kernel::termination_request(s.sig) {
                    if h.kernel.len() == KEPT {
                        h.kernel.remove(0);
                    }
                    h.kernel.push(s.clone());
                }
            }
        }
    }

    fn end(
        &mut self,
        ev: &Event,
        outcome: Outcome,
        comm: Option<Arc<[u8]>>,
        oom: Option<Oom>,
    ) -> Verdict {
        let h = self.procs.remove(&ev.pid).unwrap_or_default();
        let mut v = Verdict {
            time: ev.time,
            pid: ev.pid,
            comm: comm.unwrap_or_else(|| Arc::from(&b"?"[..])),
            outcome,
            cause: Cause::Unknown,
            by: None,
            trigger: None,
            call: None,
            oom,
            source: Source::Siginfo,
            earlier: Vec::new(),
            kernel: h.notes.clone(),
            kernel_off: self.kernel_off.clone(),
            summary: String::new(),
        };
        v.kernel.lost = self.lost;
        v.kernel.oom_victim = h.oom_victim;
        let (cause, trigger) = match outcome {
            Outcome::Exited(_) => match h.caught_external.clone() {
                Some(r) if from_terminal(&r) => (Cause::Terminal, Some(r)),
                Some(r) => (Cause::ExternalSignal, Some(r)),
                None => (Cause::SelfExit, None),
            },
            Outcome::Killed { sig, .. } if sig.0 == libc::SIGKILL => {
                if v.oom.as_ref().is_some_and(Oom::is_oom) || h.oom_victim {
                    (Cause::Oom, None)
                } else {
                    (sigkill_from_record(&mut v, &h, &self.names), None)
                }
            }
            Outcome::Killed { sig, .. } => match h.fatal.get(&sig.0).cloned() {
                None => (Cause::Unknown, None),
                Some(r) => (classify(&r, &h, ev.pid), Some(r)),
            },
        };
        // A shell that traps SIGTERM and re-raises it: the external signal is the cause.
        let (cause, trigger) = match (cause, &h.caught_external) {
            (Cause::SelfSignal, Some(ext)) => (Cause::ExternalSignal, Some(ext.clone())),
            _ => (cause, trigger),
        };
        v.cause = cause;
        if cause == Cause::ExternalSignal
            && let Some(From::Process(s)) = trigger.as_ref().map(|t| &t.from)
        {
            v.by = Some(s.clone());
            v.call = self
                .calls
                .get(&(s.pid, trigger.as_ref().map_or(0, |t| t.info.signo().0)))
                .cloned();
        }
        if v.by.is_none() {
            name_gone_sender(&mut v, &h, trigger.as_ref());
        }
        v.trigger = trigger;
        v.earlier = earlier(&h, &v);
        v.summary = summary(&v);
        v
    }
}

/// The cause of a SIGKILL ptrace cannot explain, from the kernel's record of it: who sent
/// it (named, `by`), or the kernel itself (SI_KERNEL).
fn sigkill_from_record(v: &mut Verdict, h: &History, names: &HashMap<i32, Vec<u8>>) -> Cause {
    let Some(k) = h.kernel.iter().rev().find(|k| k.sig == libc::SIGKILL) else {
        return Cause::Sigkill;
    };
    if k.code == si::SI_KERNEL {
        return Cause::Kernel;
    }
    if k.sender_pid == v.pid {
        return Cause::SelfSignal;
    }
    let known = |pid| {
        let mut s = gone(pid);
        s.comm = names.get(&pid).cloned().unwrap_or_default();
        Arc::new(s)
    };
    v.by = Some(k.sender.clone().unwrap_or_else(|| known(k.sender_pid)));
    v.source = Source::KernelRecord;
    Cause::ExternalSignal
}

/// A sender known only by its pid: it was gone before /proc could be read.
fn gone(pid: i32) -> Sender {
    Sender {
        pid,
        uid: None,
        comm: Vec::new(),
        cmdline: Vec::new(),
        ancestry: Vec::new(),
    }
}

/// A fatal signal's sender that was gone by its delivery (or in another pid namespace), named
/// from the kernel's record, which read its /proc as the signal was generated.
fn name_gone_sender(v: &mut Verdict, h: &History, trigger: Option<&SignalRecord>) {
    let Some(t) = trigger else { return };
    let pid = match t.from {
        From::Gone(pid) => Some(pid),
        From::OtherNamespace => None,
        _ => return,
    };
    let sig = t.info.signo().0;
    let found = h
        .kernel
        .iter()
        .rev()
        .find(|k| k.sig == sig && k.sender.is_some() && pid.is_none_or(|p| p == k.sender_pid));
    if let Some(k) = found {
        v.by = k.sender.clone();
        v.source = Source::KernelRecord;
    }
}

/// The termination requests the kernel recorded before the fatal signal (not the fatal one).
fn earlier(h: &History, v: &Verdict) -> Vec<Earlier> {
    let fatal = match v.outcome {
        Outcome::Killed { sig, .. } => sig.0,
        Outcome::Exited(_) => return Vec::new(),
    };
    let end = h
        .kernel
        .iter()
        .rev()
        .find(|k| k.sig == fatal)
        .map(|k| k.time.mono);
    let mut list: Vec<Earlier> = Vec::new();
    let requests = h
        .kernel
        .iter()
        .filter(|k| k.sig != fatal && crate::kernel::termination_request(k.sig))
        .filter(|k| end.is_none_or(|e| k.time.mono <= e) && k.sender_pid != v.pid);
    for k in requests {
        // A supervisor signals the process and then its group (timeout does): one request.
        if list
            .iter()
            .any(|e| e.sig.0 == k.sig && e.sender_pid == k.sender_pid)
        {
            continue;
        }
        list.push(Earlier {
            time: k.time,
            sig: Signal(k.sig),
            sender_pid: k.sender_pid,
            by: k.sender.clone(),
        });
    }
    list
}

/// The cause of a death by a signal delivered with its default action.
fn classify(r: &SignalRecord, h: &History, pid: i32) -> Cause {
    let sig = r.info.signo();
    let code = r.info.code();
    if is_fault(sig) && code > 0 {
        return Cause::Crash;
    }
    if from_terminal(r) {
        return Cause::Terminal;
    }
    let self_made = h.self_sent & (1 << (sig.0.wrapping_sub(1) & 63)) != 0;
    // The kernel sends SIGPIPE (broken pipe) and SIGXFSZ as SI_USER with the process's own pid.
    let own_pid = matches!(&r.from, From::Process(s) if s.pid == pid);
    if matches!(sig.0, libc::SIGPIPE | libc::SIGXFSZ | libc::SIGXCPU)
        && code == si::SI_USER
        && own_pid
        && !self_made
    {
        return Cause::Kernel;
    }
    match &r.from {
        From::Process(s) if s.pid == pid => Cause::SelfSignal,
        From::Process(_) | From::Gone(_) | From::OtherNamespace => Cause::ExternalSignal,
        From::NoSender if code > 0 || code == si::SI_TIMER => Cause::Kernel,
        From::NoSender => Cause::Unknown,
    }
}

/// `4310 (kill -TERM 4242, uid 1000) <- 4301 (bash) <- 1 (systemd)`.
pub fn describe_sender(s: &Sender, out: &mut String) {
    if s.comm.is_empty() && s.cmdline.is_empty() {
        let _ = write!(out, "{} (exited before it could be read)", s.pid);
        return;
    }
    let name = if s.cmdline.is_empty() {
        &s.comm
    } else {
        &s.cmdline
    };
    // A command line can be as long as the kernel allows: the line shows its start.
    let _ = write!(out, "{} ({}", s.pid, crate::escape_bytes_cut(name, 200));
    if let Some(uid) = s.uid {
        let _ = write!(out, ", uid {uid}");
    }
    out.push(')');
    for (pid, comm) in &s.ancestry {
        let _ = write!(out, " <- {pid} ({})", crate::escape_bytes(comm));
    }
}

/// Where a signal came from, in words.
pub fn describe_from(info: &SigInfo, from: &From, out: &mut String) {
    match from {
        From::Process(s) => {
            out.push_str("from ");
            describe_sender(s, out);
        }
        From::Gone(pid) => {
            let _ = write!(out, "from {pid} (gone before the signal was delivered)");
        }
        From::OtherNamespace => out.push_str("from a process in another pid namespace"),
        From::NoSender if terminal_signal(info) => out.push_str("from the terminal"),
        From::NoSender => {
            let _ = write!(out, "from the kernel ({})", code_text(info));
        }
    }
}

fn code_text(info: &SigInfo) -> String {
    match si::code_name(info.code(), info.signo()) {
        Some(n) => n.to_string(),
        None => format!("si_code {}", info.code()),
    }
}

fn outcome_text(o: Outcome) -> String {
    match o {
        Outcome::Exited(c) => format!("exited with {c}"),
        Outcome::Killed { sig, core: true } => format!("killed by {sig} (core dumped)"),
        Outcome::Killed { sig, .. } => format!("killed by {sig}"),
    }
}

fn summary(v: &Verdict) -> String {
    let mut s = outcome_text(v.outcome);
    let sigkill = matches!(v.outcome, Outcome::Killed { sig, .. } if sig.0 == libc::SIGKILL);
    if let (true, Some(by)) = (v.source == Source::KernelRecord, &v.by) {
        let verb = if v.trigger.is_some() { " after " } else { " " };
        let sig = v
            .trigger
            .as_ref()
            .map_or(Signal(libc::SIGKILL), |t| t.info.signo());
        let _ = write!(s, "{verb}");
        if v.trigger.is_some() {
            let _ = write!(s, "{sig} ");
        }
        s.push_str("from ");
        describe_sender(by, &mut s);
        s.push_str(" (the kernel's record)");
    } else if sigkill && v.cause == Cause::Kernel {
        s.push_str(" from the kernel (SI_KERNEL)");
    } else if let Some(t) = &v.trigger {
        let sig = t.info.signo();
        match v.cause {
            Cause::SelfSignal => {
                let _ = write!(s, " after {sig} it sent itself");
            }
            Cause::Crash => {
                let _ = write!(
                    s,
                    " after {sig} ({} at {:#x})",
                    code_text(&t.info),
                    t.info.addr()
                );
            }
            Cause::Kernel if sig.0 == libc::SIGPIPE => {
                let _ = write!(
                    s,
                    " after {sig}: it wrote to a pipe or socket with no reader"
                );
            }
            _ => {
                let _ = write!(s, " after {sig} ");
                describe_from(&t.info, &t.from, &mut s);
            }
        }
    }
    if let Some(c) = &v.call {
        let ms = v.trigger.as_ref().map_or(0.0, |t| {
            t.time
                .mono
                .saturating_duration_since(c.time.mono)
                .as_secs_f64()
                * 1e3
        });
        let comm = v.by.as_ref().map_or_else(String::new, |b| {
            format!(" ({})", crate::escape_bytes(&b.comm))
        });
        let _ = write!(s, ", {} by {}{comm} {ms:.3} ms before", c.text, c.sender);
    }
    for e in &v.earlier {
        let secs = v
            .time
            .mono
            .saturating_duration_since(e.time.mono)
            .as_secs_f64();
        let _ = write!(s, ", {secs:.1} s after {} from ", e.sig);
        match &e.by {
            _ if v.by.as_ref().is_some_and(|b| b.pid == e.sender_pid) => {
                s.push_str("the same process")
            }
            Some(by) => describe_sender(by, &mut s),
            None => describe_sender(&gone(e.sender_pid), &mut s),
        }
    }
    let words = match (v.cause, v.outcome) {
        (Cause::ExternalSignal, Outcome::Exited(_)) => "external signal, handled".to_string(),
        (Cause::Terminal, Outcome::Exited(_)) => "terminal, handled".to_string(),
        (Cause::Oom, _) => format!(
            "out-of-memory killer ({}{})",
            oom_text(v.oom.as_ref()),
            if v.kernel.oom_victim {
                "; the kernel's record: chosen by the OOM killer"
            } else {
                ""
            }
        ),
        (Cause::Sigkill, _) => format!(
            "SIGKILL from a sender nothing could name (ptrace never sees SIGKILL's siginfo; {}; {})",
            v.kernel_off.as_ref().map_or_else(
                || "the kernel's record holds no SIGKILL for it".to_string(),
                Off::hint
            ),
            oom_text(v.oom.as_ref())
        ),
        (Cause::Unknown, Outcome::Killed { .. }) => {
            "unknown (the fatal signal's delivery was not seen)".into()
        }
        (c, _) => c.as_str().replace('-', " "),
    };
    let _ = write!(s, ": {words}");
    kernel_notes(&v.kernel, &mut s);
    s
}

/// `; the kernel's record: 2 SIGTERM merged into one already pending, ...`.
fn kernel_notes(k: &KernelNotes, out: &mut String) {
    let mut parts = Vec::new();
    let mut list = |l: &[(i32, u32)], what: &str| {
        for &(sig, n) in l {
            parts.push(format!("{n} {} {what}", Signal(sig)));
        }
    };
    list(&k.merged, "merged into one already pending");
    list(&k.overflowed, "not queued (the real-time queue was full)");
    list(&k.ignored, "ignored (discarded when sent)");
    if k.lost > 0 {
        parts.push(format!("{} records lost (its buffer was full)", k.lost));
    }
    if !parts.is_empty() {
        let _ = write!(out, "; the kernel's record: {}", parts.join(", "));
    }
}

fn oom_text(oom: Option<&Oom>) -> String {
    let Some(o) = oom else {
        return "no evidence read".into();
    };
    let cgroup = match &o.cgroup {
        Some((file, a, b)) => format!("memory cgroup oom_kill {a} -> {b} in {file}"),
        None => "no memory cgroup oom_kill counter readable".into(),
    };
    let kmsg = match o.kmsg {
        Some(true) => "kernel log: Killed process",
        Some(false) => "kernel log: no OOM kill of this pid",
        None => "kernel log unreadable",
    };
    format!("{cgroup}; {kmsg}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::siginfo::testing::build;

    fn ev(pid: i32, kind: EventKind) -> Event {
        Event {
            time: Stamp::now(),
            pid,
            tid: pid,
            ntasks: 1,
            kind,
        }
    }

    fn sender(pid: i32) -> From {
        From::Process(Arc::new(Sender {
            pid,
            uid: Some(1000),
            comm: b"kill".to_vec(),
            cmdline: b"kill -TERM 42".to_vec(),
            ancestry: vec![(7, b"bash".to_vec()), (1, b"init".to_vec())],
        }))
    }

    fn signal(f: &mut Fold, pid: i32, signo: i32, code: i32, from: From, d: Disposition) {
        let info = build(signo, code, &[(16, 0x10, 8)]);
        let kind = EventKind::Signal {
            info,
            from,
            disposition: d,
        };
        assert!(f.observe(&ev(pid, kind)).is_none());
    }

    fn exited(f: &mut Fold, pid: i32, code: i32) -> Verdict {
        f.observe(&ev(
            pid,
            EventKind::Exited {
                code,
                comm: Some(Arc::from(&b"java"[..])),
            },
        ))
        .unwrap()
    }

    fn killed(f: &mut Fold, pid: i32, sig: i32, oom: Option<Oom>) -> Verdict {
        let kind = EventKind::Killed {
            sig: Signal(sig),
            core: false,
            comm: None,
            oom,
        };
        f.observe(&ev(pid, kind)).unwrap()
    }

    #[test]
    fn graceful_exit_after_external_sigterm() {
        let mut f = Fold::default();
        signal(&mut f, 42, 15, si::SI_USER, sender(99), Disposition::Caught);
        let v = exited(&mut f, 42, 143);
        assert_eq!(v.cause, Cause::ExternalSignal);
        assert_eq!(v.by.as_ref().unwrap().pid, 99);
        assert_eq!(
            v.summary,
            "exited with 143 after SIGTERM from 99 (kill -TERM 42, uid 1000) <- 7 (bash) <- 1 (init): external signal, handled"
        );
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
        assert_eq!(v.by.unwrap().pid, 99);
    }

    #[test]
    fn crash_terminal_kernel() {
        let mut f = Fold::default();
        signal(&mut f, 42, 11, 1, From::NoSender, Disposition::Default);
        assert_eq!(killed(&mut f, 42, 11, None).cause, Cause::Crash);
        signal(
            &mut f,
            42,
            2,
            si::SI_KERNEL,
            From::NoSender,
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
            From::NoSender,
            Disposition::Default,
        );
        assert_eq!(killed(&mut f, 42, 14, None).cause, Cause::Kernel);
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
        assert!(v.summary.contains("oom_kill 1 -> 1"), "{}", v.summary);
        let oom = Oom {
            cgroup: Some(("f".into(), 1, 2)),
            kmsg: None,
        };
        assert_eq!(killed(&mut f, 42, 9, Some(oom)).cause, Cause::Oom);
        assert_eq!(killed(&mut f, 43, 15, None).cause, Cause::Unknown);
    }

    /// The kernel's record of a signal for `pid`, sent by 99 (`kill`), `ms` ago.
    fn record(f: &mut Fold, pid: i32, sig: i32, result: SignalResult, ms: u64) {
        let mut time = Stamp::now();
        time.mono -= std::time::Duration::from_millis(ms);
        let sender = match sender(99) {
            From::Process(s) => s,
            _ => unreachable!(),
        };
        let r = Record::Signal(KernelSignal {
            time,
            sender_pid: 99,
            sender_tid: 99,
            sender: Some(sender),
            sender_traced: false,
            target_pid: pid,
            target_tid: None,
            sig,
            code: si::SI_USER,
            group: true,
            result,
        });
        assert!(f.observe(&ev(pid, EventKind::Kernel(r))).is_none());
    }

    #[test]
    fn sigkill_named_from_the_kernel_record_after_a_sigterm() {
        let mut f = Fold::default();
        record(&mut f, 42, 15, SignalResult::Delivered, 10_000);
        record(&mut f, 42, 15, SignalResult::AlreadyPending, 9_000);
        record(&mut f, 42, 9, SignalResult::Delivered, 0);
        let v = killed(&mut f, 42, 9, None);
        assert_eq!(v.cause, Cause::ExternalSignal);
        assert_eq!(v.source, Source::KernelRecord);
        assert_eq!(v.by.as_ref().unwrap().pid, 99);
        assert_eq!(v.earlier.len(), 1);
        assert_eq!(v.earlier[0].sig, Signal(15));
        assert!(
            v.summary.starts_with(
                "killed by SIGKILL from 99 (kill -TERM 42, uid 1000) <- 7 (bash) <- 1 (init) (the kernel's record), 10.0 s after SIGTERM from the same process: external signal"
            ),
            "{}",
            v.summary
        );
        assert!(
            v.summary
                .ends_with("; the kernel's record: 1 SIGTERM merged into one already pending"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn without_the_record_a_sigkill_says_what_would_name_it() {
        let mut f = Fold::default();
        let off = EventKind::KernelOff(Off::NotPermitted);
        assert!(f.observe(&ev(0, off)).is_none());
        record(&mut f, 42, 34, SignalResult::QueueOverflow, 0);
        let v = killed(&mut f, 42, 9, None);
        assert_eq!(v.cause, Cause::Sigkill);
        assert!(v.by.is_none());
        assert!(
            v.summary.contains(
                "the kernel's record of signals would name it: run as root, or grant CAP_PERFMON"
            ),
            "{}",
            v.summary
        );
        assert!(
            v.summary
                .contains("1 SIGRT_2 not queued (the real-time queue was full)"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn an_oom_victim_in_the_record_is_oom() {
        let mut f = Fold::default();
        let victim = Record::OomVictim {
            time: Stamp::now(),
            pid: 42,
        };
        assert!(f.observe(&ev(42, EventKind::Kernel(victim))).is_none());
        assert_eq!(killed(&mut f, 42, 9, None).cause, Cause::Oom);
    }
}
