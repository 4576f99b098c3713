//! Attach mode: seizing every thread of a running process, and letting everything go.

use super::Tracer;
use super::tasks::Task;
use crate::event::{EventKind, Note};
use crate::procfs;
use crate::sys::{self, Tid};
use crate::text::error_text;
use crate::text::escape;
use std::io;

impl Tracer {
    /// Attaches to every pid in turn, or to none: after a failure everything attached so far
    /// is let go and nothing of it is shown, only the error. Stops early when sigtrace is told
    /// to stop (the run loop then lets go of what was attached). The events wait in memory
    /// meanwhile, not in the bounded channel: thousands of pids must not fill it.
    pub fn attach_all(&mut self, pids: &[Tid]) -> Result<(), String> {
        self.holding = true;
        let mut result = Ok(());
        for &pid in pids {
            if self.stop_requested() {
                break;
            }
            result = self.attach(pid);
            if result.is_err() {
                break;
            }
        }
        self.holding = false;
        if result.is_err() {
            self.discard_output();
            self.detach_all();
        }
        result
    }

    /// Seizes every thread of `pid`, again and again until a pass finds no new thread
    /// (threads may be created while we attach).
    pub fn attach(&mut self, pid: Tid) -> Result<(), String> {
        let fail = |why: String| format!("attach: pid {pid}: {why}");
        if pid == sys::getpid() {
            return Err(fail("that is sigtrace itself".into()));
        }
        if !procfs::exists(pid) {
            return Err(fail("no such process".into()));
        }
        if procfs::state(pid) == Some('Z') {
            return Err(fail(
                "process is a zombie: it has exited and waits for its parent to reap it".into(),
            ));
        }
        let tgid = procfs::tgid(pid).unwrap_or(pid);
        // Several threads of one process given to -p: it is attached (and shown) once.
        if self.procs.knows(tgid) {
            return Ok(());
        }
        if self.main_pid == 0 {
            self.main_pid = tgid;
        }
        let mut threads = 0;
        loop {
            let tids = procfs::tasks(tgid).map_err(|e| fail(error_text(&e)))?;
            let fresh: Vec<Tid> = tids
                .into_iter()
                .filter(|t| !self.tasks.contains_key(t))
                .collect();
            if fresh.is_empty() {
                break;
            }
            for tid in fresh {
                match sys::seize(tid, self.options) {
                    Ok(()) => {
                        // ptrace(2): after PTRACE_SEIZE the tracee keeps running until something
                        // stops it; PTRACE_INTERRUPT makes it stop now, as strace does, so that
                        // the restart with PTRACE_SYSCALL shows its syscalls (rt_sigaction
                        // included) from the start rather than after its first signal.
                        // ESRCH: it is exiting, and waitpid will say so.
                        sys::interrupt(tid).ok();
                        threads += 1;
                        self.add_task(tid, Task::new(tgid));
                    }
                    // The thread exited between the listing and the seize.
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) && threads > 0 => {}
                    Err(e) => return Err(fail(permission_hint(tgid, &e))),
                }
            }
        }
        self.emit(tgid, tgid, EventKind::Note(Note::Attached { threads }));
        self.first_seen(tgid, None, None);
        Ok(())
    }

    /// Detaches from everything, e.g. after a failed attach: each task is interrupted and let go
    /// at its next stop, with any signal it was about to receive.
    pub fn detach_all(&mut self) {
        self.begin_detach();
        let _ = self.run();
    }

    pub(super) fn begin_detach(&mut self) {
        self.detaching = true;
        for (&tid, task) in self.tasks.iter_mut() {
            task.unwanted = true;
            // ESRCH: the task is exiting; waitpid will report it.
            sys::interrupt(tid).ok();
        }
    }
}

/// Why PTRACE_SEIZE was refused, and what would allow it.
fn permission_hint(pid: Tid, e: &io::Error) -> String {
    if e.raw_os_error() == Some(libc::ESRCH) {
        return "no such process".into();
    }
    if e.raw_os_error() != Some(libc::EPERM) {
        return error_text(e);
    }
    let tracer: Tid = procfs::status_field(pid, "TracerPid")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if tracer != 0 {
        let comm = procfs::comm(tracer)
            .map(|c| escape(&c))
            .unwrap_or_else(|| "?".into());
        return format!(
            "Operation not permitted: already traced by {tracer} ({comm}); a process can have only one tracer"
        );
    }
    let me = sys::geteuid();
    if me != 0
        && let Some(owner) = procfs::uid(pid).filter(|&u| u != me)
    {
        return format!(
            "Operation not permitted: owned by uid {owner}; run sigtrace as that user or with CAP_SYS_PTRACE"
        );
    }
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .map(|s| s.trim().to_string())
        .ok();
    match scope.as_deref() {
        _ if me == 0 => "Operation not permitted, even as root: a kernel thread, or a process that another user namespace or a security module protects".into(),
        Some(s) if s != "0" => format!(
            "Operation not permitted: kernel.yama.ptrace_scope is {s}; run as root, give sigtrace CAP_SYS_PTRACE, or set kernel.yama.ptrace_scope=0"
        ),
        _ => "Operation not permitted (CAP_SYS_PTRACE would allow it)".into(),
    }
}
