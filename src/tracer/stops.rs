//! The stop loop: wait for the next stop, classify it, act, resume the task.

use super::ExecFailed;
use super::wait::{self, PtraceEvent, Stop};
use super::{RunEnd, SyscallMode, Tracer};
use crate::decode::clone::CLONE_THREAD;
use crate::decode::siginfo::SigInfo;
use crate::event::reason::KernelReason;
use crate::event::{Disposition, EventKind, Note};
use crate::msg::warn;
use crate::procfs;
use crate::signal::DefaultAction;
use crate::signal::Signal;
use crate::sys::{self, Tid};
use crate::text::error_text;
use std::io;

/// How long a task that a traced call sent SIGCONT may take to take it (`await_sigcont`),
/// other tasks' stops waiting meanwhile.
const AWAIT_STOP: std::time::Duration = std::time::Duration::from_millis(100);

/// Whether `tid` blocks SIGCONT (then it is not taken now).
fn sigcont_blocked(tid: Tid) -> bool {
    let mask = procfs::status_field(tid, "SigBlk").and_then(|m| u64::from_str_radix(&m, 16).ok());
    mask.is_none_or(|m| m & (1 << (libc::SIGCONT - 1)) != 0)
}

/// How long the tracer polls for the next stop before it sleeps in waitpid. A ptrace stop
/// wakes the tracer through the scheduler, which costs most when the tracer's CPU went idle;
/// polling briefly catches the next stop of a busy tracee without that wake-up.
const SPIN_US: u64 = 50;

/// Whether polling pays, learnt for each kind of stop from what came after the last ones: a
/// two-bit counter per kind (as a branch predictor keeps), up when the next stop came within
/// SPIN_US, down when it did not. After a signal or a quick syscall the next stop comes within
/// microseconds; after an exec or an execve's entry the new program's start-up takes a
/// millisecond, and polling then only takes a CPU from it.
#[derive(Debug, Clone)]
pub(super) struct Spin {
    score: [u8; Spin::KINDS],
    /// The kind of the stop handled last.
    pub(super) last: usize,
}

impl Spin {
    const KINDS: usize = 16;
    /// An execve's or execveat's entry (a seccomp or syscall-entry stop).
    pub(super) const EXEC_ENTRY: usize = 15;

    pub(super) fn new() -> Spin {
        Spin {
            score: [2; Spin::KINDS],
            last: 0,
        }
    }

    /// The kind of a stop, for `last`.
    pub(super) fn kind(stop: &Stop) -> usize {
        match stop {
            Stop::Exited(_) => 0,
            Stop::Killed { .. } => 1,
            Stop::Signal(_) => 2,
            Stop::GroupStop(_) => 3,
            Stop::Interrupt => 4,
            Stop::Syscall => 5,
            Stop::Event(e) => 6 + *e as usize,
        }
    }

    fn pays(&self) -> bool {
        self.score[self.last] >= 2
    }

    /// The next stop came after `waited`.
    fn learn(&mut self, waited: std::time::Duration) {
        let s = &mut self.score[self.last];
        *s = if waited.as_micros() < SPIN_US as u128 {
            (*s + 1).min(3)
        } else {
            s.saturating_sub(1)
        };
    }
}

impl Tracer {
    /// Runs until every traced task is gone; returns how the main process ended.
    pub fn run(&mut self) -> Result<RunEnd, ExecFailed> {
        loop {
            self.take_control();
            if self.tasks.is_empty() && (self.detaching || !self.launched()) {
                break;
            }
            match self.wait() {
                Ok((tid, status)) => self.take(tid, status),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => break,
                Err(e) => {
                    warn(&format!("waitpid: {}", error_text(&e)));
                    break;
                }
            }
        }
        self.send_batch();
        if let Some(e) = self.take_exec_failure() {
            return Err(ExecFailed(e));
        }
        Ok(self.outcome.unwrap_or(RunEnd::Detached))
    }

    /// The next stop: polled for up to SPIN_US where that paid after the same kind of stop
    /// (`Spin`), so that a stop that comes within that time is taken without waiting to be
    /// woken on another CPU; before blocking, the events so far go to the renderer, one batch
    /// per wake-up rather than one per event.
    pub(super) fn wait(&mut self) -> io::Result<(Tid, i32)> {
        let start = std::time::Instant::now();
        if self.spin.pays() {
            loop {
                if let Some((tid, status, cpu)) = sys::wait_any_now()? {
                    self.spin.learn(start.elapsed());
                    self.reaped_cpu = cpu;
                    return Ok((tid, status));
                }
                if start.elapsed() >= std::time::Duration::from_micros(SPIN_US) {
                    break;
                }
                std::hint::spin_loop();
            }
        } else if let Some((tid, status, cpu)) = sys::wait_any_now()? {
            self.spin.learn(start.elapsed());
            self.reaped_cpu = cpu;
            return Ok((tid, status));
        }
        self.send_batch();
        if let Some(out) = &mut self.out {
            out.idle();
        }
        let (tid, status, cpu) = sys::wait_any()?;
        self.spin.learn(start.elapsed());
        self.reaped_cpu = cpu;
        Ok((tid, status))
    }

    pub(super) fn handle(&mut self, tid: Tid, stop: Stop) {
        if !self.tasks.contains_key(&tid) {
            match stop {
                Stop::Exited(_) | Stop::Killed { .. } => return,
                _ => {
                    // ptrace(2): a new child's first stop and its parent's fork/clone event
                    // are reported in either order.
                    self.ahead_of_parent.insert(tid);
                    self.new_task(tid, None, None, None)
                }
            }
        }
        let pid = self.tasks[&tid].pid;
        if matches!(stop, Stop::Exited(_) | Stop::Killed { .. }) {
            self.no_return(tid, pid);
        }
        match stop {
            Stop::Exited(code) => {
                let ev = EventKind::Exited {
                    code,
                    comm: None,
                    in_handler: None,
                };
                self.ended(tid, pid, ev, RunEnd::Exited(code))
            }
            Stop::Killed { sig, core } => {
                let ev = EventKind::Killed {
                    sig,
                    core,
                    comm: None,
                    oom: None,
                    reason: None,
                };
                self.ended(tid, pid, ev, RunEnd::Killed(sig))
            }
            Stop::Signal(sig) => self.signal(tid, pid, sig),
            Stop::GroupStop(sig) => {
                // While detaching, a group-stop is the answer to our PTRACE_INTERRUPT of a task
                // that was already stopped and reported so; it is not news.
                if !self.tasks[&tid].unwanted {
                    self.procs.set_stopped(pid, true);
                    self.emit(pid, tid, EventKind::Stopped(sig));
                }
                self.resume(tid, Resume::Listen);
            }
            Stop::Interrupt => self.resume(tid, Resume::Cont(0)),
            Stop::Syscall => self.syscall_stop(tid, pid),
            Stop::Event(ev) => self.ptrace_event(tid, pid, ev),
        }
    }

    pub(super) fn signal(&mut self, tid: Tid, pid: Tid, sig: Signal) {
        if sig.0 == libc::SIGCONT && self.awaiting_cont == Some(tid) {
            self.awaiting_cont = None;
        }
        match sys::getsiginfo(tid) {
            Ok(raw) => {
                let info = SigInfo::from_bytes(raw);
                let from = self.procs.sender(&info, pid, self.senders.as_ref());
                let from = self.relayed_from(pid, sig.0, info.pid(), from);
                let mut disposition = self.procs.disposition(pid, sig);
                let mut reason = self.procs.kernel_reason(pid, &info);
                if sig.0 == libc::SIGCONT {
                    self.procs.set_stopped(pid, false);
                }
                match disposition {
                    // signal(7): "the only signals that can be sent to process ID 1, the init
                    // process, are those for which init has explicitly installed signal
                    // handlers"; under ptrace the kernel drops it after this stop.
                    Disposition::Default
                        if matches!(
                            sig.default_action(),
                            DefaultAction::Term | DefaultAction::Core | DefaultAction::Stop
                        ) && sig.0 != libc::SIGSTOP
                            && self.procs.ns_init(pid) =>
                    {
                        disposition = Disposition::Ignored { since_exec: false };
                        reason = Some(KernelReason::PidnsInitDiscard);
                    }
                    Disposition::Caught => self.entered_handler(tid, sig),
                    _ => {}
                }
                if let Some(KernelReason::SessionLeaderExit { leader, .. }) = reason {
                    self.leader_end_first(leader);
                }
                let ev = EventKind::Signal {
                    info,
                    from,
                    disposition,
                    reason,
                };
                self.emit(pid, tid, ev);
                // Every signal-delivery-stop is a real signal under PTRACE_SEIZE: re-inject it.
                self.resume(tid, Resume::Cont(sig.0));
            }
            // Killed (SIGKILL) while stopped: waitpid will report its end.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => {
                warn(&format!("pid {tid}: PTRACE_GETSIGINFO: {}", error_text(&e)));
                self.resume(tid, Resume::Cont(sig.0));
            }
        }
    }

    /// The kernel hangs up the foreground group while the session leader is still ending
    /// (do_exit: the terminal before the parent's notice), so the group's stops may come
    /// first: a traced leader's end is taken now (waiting up to 100 ms), for the group's
    /// verdicts to say how it ended.
    fn leader_end_first(&mut self, leader: Tid) {
        if !self.tasks.contains_key(&leader) {
            return;
        }
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(100) {
            match sys::wait_task_now(leader) {
                Ok(Some((tid, status, cpu))) => {
                    self.reaped_cpu = cpu;
                    if let Ok(stop) = wait::classify(status) {
                        let ended = matches!(stop, Stop::Exited(_) | Stop::Killed { .. });
                        self.handle(tid, stop);
                        if ended {
                            return;
                        }
                    }
                }
                Ok(None) => std::thread::sleep(std::time::Duration::from_millis(1)),
                Err(_) => return,
            }
        }
    }

    /// A handler is about to run on this task: kept with the stack pointer it interrupts, so
    /// that an exit call made below it is known to be inside the handler (one that left by
    /// longjmp is above it).
    fn entered_handler(&mut self, tid: Tid, sig: Signal) {
        let Ok(info) = sys::syscall_info(tid) else {
            return;
        };
        if let Some(t) = self.tasks.get_mut(&tid) {
            if t.handlers.len() >= 16 {
                t.handlers.remove(0);
            }
            t.handlers.push((sig, info.sp));
        }
    }

    pub(super) fn ptrace_event(&mut self, tid: Tid, pid: Tid, ev: PtraceEvent) {
        match ev {
            PtraceEvent::Clone | PtraceEvent::Fork | PtraceEvent::Vfork => {
                let flags = self.tasks.get_mut(&tid).and_then(|t| t.clone_flags.take());
                if let Ok(child) = sys::geteventmsg(tid) {
                    let child = child as Tid;
                    if !self.ahead_of_parent.remove(&child) && !self.tasks.contains_key(&child) {
                        // The event follows the exit signal, not CLONE_THREAD: a legacy
                        // clone(CLONE_THREAD|...|SIGCHLD) is reported as a fork.
                        let thread = match flags {
                            Some(f) => f & CLONE_THREAD != 0,
                            None => {
                                ev == PtraceEvent::Clone
                                    && procfs::tgid(child).is_none_or(|g| g == pid)
                            }
                        };
                        let pid_of_child = if thread { pid } else { child };
                        self.new_task(child, Some(pid_of_child), Some(pid), flags);
                    }
                }
            }
            PtraceEvent::Exec => {
                let first = self.exec(tid, pid);
                if !self.let_go_at_exec(tid, pid, first) {
                    self.exec_done(tid, pid);
                }
            }
            PtraceEvent::Seccomp => {
                self.seccomp_seen();
                return self.syscall_stop(tid, pid);
            }
            PtraceEvent::Exit => self.no_return(tid, pid),
            PtraceEvent::VforkDone => {}
        }
        self.resume(tid, Resume::Cont(0));
    }

    /// After a traced call sent SIGCONT to `tid`: its stops are taken before any other task's
    /// until it has taken that SIGCONT, or for AWAIT_STOP at most; the sender waits at its
    /// exit meanwhile. A traced task queues SIGCONT even with the default disposition
    /// (signal(7) discards it at generation only when nothing traces the task), and a
    /// lower-numbered signal pending with it (a SIGTERM the sender sends next) is dequeued
    /// first. Left to waitpid's order, which reports the sender's stops first, the sender runs
    /// on and sends it before the woken task has taken its SIGCONT, and the SIGCONT line
    /// strace shows (its stops at every syscall hold the sender back) is never seen.
    pub(super) fn await_sigcont(&mut self, tid: Tid) {
        if sigcont_blocked(tid) {
            return;
        }
        self.awaiting_cont = Some(tid);
        let start = std::time::Instant::now();
        while self.awaiting_cont == Some(tid) && start.elapsed() < AWAIT_STOP {
            match sys::wait_task_now(tid) {
                Ok(Some((tid, status, cpu))) => {
                    self.reaped_cpu = cpu;
                    self.take(tid, status)
                }
                Ok(None) => std::thread::yield_now(),
                Err(_) => break,
            }
        }
        self.awaiting_cont = None;
    }

    /// A stop that waitpid reported: classified, then handled.
    fn take(&mut self, tid: Tid, status: i32) {
        match wait::classify(status) {
            Ok(stop) => {
                self.spin.last = Spin::kind(&stop);
                self.handle(tid, stop)
            }
            Err(e) => {
                warn(&format!("pid {tid}: {e}; detaching it"));
                self.remove_task(tid);
                sys::detach(tid, 0).ok();
            }
        }
    }

    pub(super) fn resume(&mut self, tid: Tid, how: Resume) {
        self.write_before_resume();
        let Some(task) = self.tasks.get(&tid) else {
            return;
        };
        let result = if task.unwanted {
            let sig = match how {
                Resume::Cont(s) => s,
                // Detached in a group-stop, the task stays stopped (ptrace(2), PTRACE_DETACH).
                Resume::Listen => 0,
            };
            let pid = task.pid;
            let r = sys::detach(tid, sig);
            self.remove_task(tid);
            if r.is_ok() && (self.detaching || self.follow || self.detach_on_exec) {
                self.emit(pid, tid, EventKind::Note(Note::Detached));
            }
            r
        } else {
            // Inside a traced syscall its exit must be seen; without a filter every syscall stops.
            let per_syscall = task.insyscall.is_some()
                || self.mode == SyscallMode::Every
                || self.before_exec(tid);
            match how {
                Resume::Cont(sig) if per_syscall => sys::syscall(tid, sig),
                Resume::Cont(sig) => sys::cont(tid, sig),
                Resume::Listen => sys::listen(tid),
            }
        };
        // ESRCH: killed while stopped (SIGKILL); its end comes through waitpid.
        if let Err(e) = result
            && e.raw_os_error() != Some(libc::ESRCH)
        {
            warn(&format!("pid {tid}: resuming: {}", error_text(&e)));
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Resume {
    /// PTRACE_CONT delivering this signal (0: none).
    Cont(i32),
    /// PTRACE_LISTEN: stay group-stopped, report SIGCONT.
    Listen,
}
