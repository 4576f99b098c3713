//! Folds the events of each traced process into one verdict when it ends: why, and who did it (data only; render words it).

use crate::decode::siginfo::{self as si, SigInfo};
use crate::event::{Disposition, Event, EventKind, Oom, Origin, Sender, Stamp, Syscall};
use crate::signal::{DefaultAction, Signal};
use crate::strace::syscalls::spec;
use std::collections::HashMap;
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
    pub from: Origin,
    pub disposition: Disposition,
}

/// A kill-family syscall made by a traced process (-f), to link to the delivery it caused.
#[derive(Debug, Clone)]
pub struct KillCall {
    pub time: Stamp,
    pub sender: i32,
    /// The call as the tracer decoded it at entry.
    pub call: Syscall,
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
}

#[derive(Default)]
struct History {
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

fn from_terminal(r: &SignalRecord) -> bool {
    terminal_signal(&r.info)
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
        Origin::Gone(_) | Origin::OtherNamespace => true,
        Origin::NoSender => from_terminal(r),
    }
}

/// The (signal, target) arguments of a kill-family call, which the fold links to deliveries.
fn kill_args(call: &Syscall) -> Option<(i32, i32)> {
    let sends = spec(call.nr).sends?;
    let target = sends.target.map_or(0, |i| call.args[i as usize] as i32);
    Some((call.args[sends.sig as usize] as i32, target))
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
                if let Some((sig, target)) = kill_args(call) {
                    let h = self.procs.entry(ev.pid).or_default();
                    if target == ev.pid || target == ev.tid {
                        h.self_sent |= Signal(sig).bit();
                    }
                    let c = KillCall {
                        time: ev.time,
                        sender: ev.pid,
                        call: call.clone(),
                    };
                    self.calls.insert((ev.pid, sig), c);
                }
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
        };
        let (cause, trigger) = match outcome {
            Outcome::Exited(_) => match h.caught_external.clone() {
                Some(r) if from_terminal(&r) => (Cause::Terminal, Some(r)),
                Some(r) => (Cause::ExternalSignal, Some(r)),
                None => (Cause::SelfExit, None),
            },
            Outcome::Killed { sig, .. } if sig.0 == libc::SIGKILL => {
                if v.oom.as_ref().is_some_and(Oom::is_oom) {
                    (Cause::Oom, None)
                } else {
                    (Cause::Sigkill, None)
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
            && let Some(Origin::Process(s)) = trigger.as_ref().map(|t| &t.from)
        {
            v.by = Some(s.clone());
            v.call = self
                .calls
                .get(&(s.pid, trigger.as_ref().map_or(0, |t| t.info.signo().0)))
                .cloned();
        }
        v.trigger = trigger;
        v
    }
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
    let self_made = h.self_sent & sig.bit() != 0;
    // The kernel sends SIGPIPE (broken pipe) and SIGXFSZ as SI_USER with the process's own pid.
    let own_pid = matches!(&r.from, Origin::Process(s) if s.pid == pid);
    if matches!(sig.0, libc::SIGPIPE | libc::SIGXFSZ | libc::SIGXCPU)
        && code == si::SI_USER
        && own_pid
        && !self_made
    {
        return Cause::Kernel;
    }
    match &r.from {
        Origin::Process(s) if s.pid == pid => Cause::SelfSignal,
        Origin::Process(_) | Origin::Gone(_) | Origin::OtherNamespace => Cause::ExternalSignal,
        Origin::NoSender if code > 0 || code == si::SI_TIMER => Cause::Kernel,
        Origin::NoSender => Cause::Unknown,
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
        }
    }

    pub fn sender(pid: i32) -> Origin {
        Origin::Process(Arc::new(Sender {
            pid,
            uid: Some(1000),
            comm: b"kill".to_vec(),
            cmdline: b"kill -TERM 42".to_vec(),
            ancestry: vec![(7, b"bash".to_vec()), (1, b"init".to_vec())],
        }))
    }

    pub fn signal(f: &mut Fold, pid: i32, signo: i32, code: i32, from: Origin, d: Disposition) {
        let info = build(signo, code, &[(16, 0x10, 8)]);
        let kind = EventKind::Signal {
            info,
            from,
            disposition: d,
        };
        assert!(f.observe(&ev(pid, kind)).is_none());
    }

    pub fn exited(f: &mut Fold, pid: i32, code: i32) -> Verdict {
        f.observe(&ev(
            pid,
            EventKind::Exited {
                code,
                comm: Some(Arc::from(&b"java"[..])),
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
        };
        f.observe(&ev(pid, kind)).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn graceful_exit_after_external_sigterm() {
        let mut f = Fold::default();
        signal(&mut f, 42, 15, si::SI_USER, sender(99), Disposition::Caught);
        let v = exited(&mut f, 42, 143);
        assert_eq!(v.cause, Cause::ExternalSignal);
        assert_eq!(v.by.as_ref().unwrap().pid, 99);
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
}
