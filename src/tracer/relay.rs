//! Signals sent to sigtrace itself: detach (attach mode) or pass on to the command, exactly once (launch mode).

use super::Tracer;
use crate::event::{EventKind, Note, Origin, Sender};
use crate::procfs;
use crate::signal::Signal;
use crate::sys::{self, ControlSignal};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a group kill may take to reach the command after it reached sigtrace: the kernel
/// generates it for each member of the group in turn, within the sender's one kill() call.
const GROUP_KILL_WINDOW: Duration = Duration::from_millis(20);
/// How long a passed-on signal waits for its delivery to the command to be matched.
const PASSED_ON_TTL: Duration = Duration::from_secs(10);

/// A delivery to the command seen lately, to tell a group kill from a signal meant for sigtrace.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    sig: i32,
    sender: i32,
    at: Instant,
}

impl Tracer {
    pub(super) fn take_control(&mut self) {
        for c in self.control.take() {
            if !self.launched() {
                if sys::DETACH_SIGNALS.contains(&c.sig) && !self.detaching {
                    // The terminal's signals (SI_KERNEL) have no sending process.
                    let from = match c.code > 0 {
                        true => Origin::NoSender,
                        false => self.procs.process(c.pid, c.uid, self.senders.as_ref()),
                    };
                    let (sig, main) = (Signal(c.sig), self.main_pid);
                    self.emit(main, main, EventKind::Note(Note::Detaching { sig, from }));
                    self.begin_detach();
                }
            } else if !self.detaching && self.outcome.is_none() {
                self.relay(c);
            }
        }
    }

    /// Launch mode: passes `c` on to the command unless the command got it, or would not have
    /// got it, without sigtrace; says which either way.
    fn relay(&mut self, c: ControlSignal) {
        // The terminal's signals (SI_KERNEL) reach the command's process group by themselves.
        if c.code > 0 {
            return;
        }
        let from = self.procs.process(c.pid, c.uid, self.senders.as_ref());
        let passed = match self.why_not_pass_on(&c) {
            Some(why) => Err(why),
            None => {
                // Alive or gone, it is who the delivery names: sigtrace never names itself.
                let by = match from.process() {
                    Some(s) => s.clone(),
                    None => Arc::new(Sender::unread(c.pid, c.uid)),
                };
                self.passed.push((c.sig, by, Instant::now()));
                sys::kill(self.main_pid, c.sig).map_err(|_| "the command is gone")
            }
        };
        let main = self.main_pid;
        let ev = EventKind::Relayed {
            sig: Signal(c.sig),
            from,
            passed,
        };
        self.emit(main, main, ev);
    }

    fn why_not_pass_on(&mut self, c: &ControlSignal) -> Option<&'static str> {
        if self.tasks.contains_key(&c.pid) || self.procs.knows(c.pid) {
            return Some("it comes from a traced process, which sent it where it was meant to go");
        }
        let me = sys::getpid();
        let ours = procfs::pgrp_and_session(me);
        let command = self
            .procs
            .place(self.main_pid)
            .or_else(|| procfs::pgrp_and_session(self.main_pid));
        let (Some((my_group, my_session)), Some((group, session))) = (ours, command) else {
            return None;
        };
        if group == my_group && self.got_it_itself(c) {
            return Some("the command got it too (a process-group signal)");
        }
        if c.sig == libc::SIGHUP && session != my_session && my_session == c.pid {
            return Some(
                "the shell passes a hangup on to its jobs, and the command left sigtrace's session",
            );
        }
        None
    }

    /// Whether the command received `c`'s signal from the same sender lately, or has it
    /// pending: the stops already queued are taken first, and a group kill still on its way
    /// is given GROUP_KILL_WINDOW.
    fn got_it_itself(&mut self, c: &ControlSignal) -> bool {
        let start = Instant::now();
        loop {
            self.take_ready_stops();
            let seen = self.recent.iter().any(|d| {
                d.sig == c.sig && d.sender == c.pid && start.duration_since(d.at) < PASSED_ON_TTL
            });
            if seen || procfs::pending(self.main_pid, c.sig) == Some(true) {
                return true;
            }
            if start.elapsed() >= GROUP_KILL_WINDOW {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Handles every stop waitpid has ready now, without blocking.
    fn take_ready_stops(&mut self) {
        while let Ok(Some((tid, status, cpu))) = sys::wait_any_now() {
            self.reaped_cpu = cpu;
            match super::wait::classify(status) {
                Ok(stop) => self.handle(tid, stop),
                Err(_) => break,
            }
        }
    }

    /// A delivery to a traced task: remembered for the command; one that sigtrace passed on
    /// is attributed to whoever sent it to sigtrace.
    pub(super) fn relayed_from(&mut self, pid: i32, sig: i32, si_pid: i32, from: Origin) -> Origin {
        if pid != self.main_pid {
            return from;
        }
        self.recent.push(Delivery {
            sig,
            sender: si_pid,
            at: Instant::now(),
        });
        if self.recent.len() > 16 {
            self.recent.remove(0);
        }
        if si_pid != sys::own_pid() {
            return from;
        }
        self.passed.retain(|p| p.2.elapsed() < PASSED_ON_TTL);
        match self.passed.iter().position(|p| p.0 == sig) {
            Some(i) => Origin::PassedOn(self.passed.remove(i).1),
            None => from,
        }
    }
}
