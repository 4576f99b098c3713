//! The launched command: adopted before its exec, its exec seen or its failure told.

use super::tasks::Task;
use super::{SyscallMode, Tracer};
use crate::event::EventKind;
use crate::event::{Event, Syscall};
use crate::sys::{self, Tid};
use crate::syscalls::NR_EXECVE;
use std::io;
use std::os::fd::OwnedFd;

/// The launched command's life, as far as the tracer is concerned.
pub(super) enum Launch {
    /// Attach mode: nothing launched.
    Nothing,
    /// Seized and released, not yet exec'd.
    BeforeExec {
        /// Closed by a successful exec, filled with its errno by a failed one.
        exec_error: OwnedFd,
        /// The command's execve lines: shown if the exec succeeds, dropped if it fails (then
        /// one error line says why).
        held: Vec<Event>,
        /// A seccomp stop came before the exec: the filter is in place.
        seen_seccomp: bool,
    },
    /// Its exec succeeded (or it ended before exec without an exec error).
    Running,
    /// Its exec failed, for this reason.
    ExecFailed(io::Error),
}

impl Tracer {
    /// Adopts a child that `sys::spawn_held` forked and seized, and lets it exec.
    pub fn adopt_launched(&mut self, child: sys::HeldChild) {
        if self.mode != SyscallMode::Off {
            // The child runs free until its first stop; stop it while it still waits for
            // its release, so that PTRACE_SYSCALL catches its execve too, even when its
            // seccomp filter could not be installed (`before_exec`).
            sys::interrupt(child.pid()).ok();
        }
        let (pid, exec_error) = child.release();
        self.launch = Launch::BeforeExec {
            exec_error,
            held: Vec::new(),
            seen_seccomp: false,
        };
        self.main_pid = pid;
        self.add_task(pid, Task::new(pid));
    }

    /// Whether `tid` is the command before its exec: it stops at every syscall until then, so
    /// its execve is seen whether or not its seccomp filter is in place.
    pub(super) fn before_exec(&self, tid: Tid) -> bool {
        matches!(self.launch, Launch::BeforeExec { .. }) && tid == self.main_pid
    }

    pub(super) fn launched(&self) -> bool {
        !matches!(self.launch, Launch::Nothing)
    }

    /// Before its exec the command is still sigtrace's child stub: of its syscalls only the
    /// execve belongs to the command, held until the exec's outcome is known. Returns the
    /// events to send now.
    pub(super) fn hold_before_exec(&mut self, ev: Event) -> Option<Event> {
        let Launch::BeforeExec { held, .. } = &mut self.launch else {
            return Some(ev);
        };
        if ev.tid != self.main_pid {
            return Some(ev);
        }
        let execve = |call: &Syscall| call.nr == NR_EXECVE;
        if matches!(&ev.kind, EventKind::SyscallEntry(c) | EventKind::SyscallExit { call: c, .. } if execve(c))
        {
            held.push(ev);
        }
        None
    }

    /// A seccomp stop: before the first exec, it says the filter is in place.
    pub(super) fn seccomp_seen(&mut self) {
        if let Launch::BeforeExec { seen_seccomp, .. } = &mut self.launch {
            *seen_seccomp = true;
        }
    }

    /// The command's own exec succeeded (false: this is a later exec); its held lines go out.
    pub(super) fn command_execed(&mut self, pid: Tid) -> bool {
        let Launch::BeforeExec {
            mut held,
            seen_seccomp,
            ..
        } = std::mem::replace(&mut self.launch, Launch::Running)
        else {
            return false;
        };
        self.first_seen(pid, None, None);
        self.batch.append(&mut held);
        if self.mode == SyscallMode::Seccomp && !seen_seccomp {
            // The command's first exec passed no seccomp stop: its filter could not be
            // installed. Stop at every syscall instead.
            self.mode = SyscallMode::Every;
        }
        true
    }

    /// The command ended; still before its exec, the pipe says whether the exec failed.
    pub(super) fn main_ended(&mut self) {
        if let Launch::BeforeExec { exec_error, .. } = &self.launch {
            self.launch = match sys::read_exec_error(exec_error) {
                Some(e) => Launch::ExecFailed(e),
                None => Launch::Running,
            };
        }
    }

    pub(super) fn exec_failed(&self) -> bool {
        matches!(self.launch, Launch::ExecFailed(_))
    }

    pub(super) fn take_exec_failure(&mut self) -> Option<io::Error> {
        match std::mem::replace(&mut self.launch, Launch::Running) {
            Launch::ExecFailed(e) => Some(e),
            other => {
                self.launch = other;
                None
            }
        }
    }
}
