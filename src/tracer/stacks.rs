//! -k in the tracer: which stop takes a task's stack, and when an address space is forgotten.

use super::Tracer;
use crate::event::EventKind;
use crate::stack::{Stack, Stacks};
use crate::strace::syscalls::NR_EXECVE;
use crate::sys::Tid;

/// x86_64's execveat.
const NR_EXECVEAT: u32 = 322;

fn is_exec(nr: u32) -> bool {
    nr == NR_EXECVE || nr == NR_EXECVEAT
}

impl Tracer {
    /// -k: take the stack of each shown syscall and signal.
    pub fn capture_stacks(&mut self) {
        self.stacks = Some(Stacks::new());
    }

    /// The stack an event carries, taken while the task is stopped: at a signal's delivery, at
    /// a syscall's entry (its exit and its end carry that one). As strace does, an exec's stack
    /// is taken at its exit, in the new program.
    pub(super) fn stack_for(&mut self, pid: Tid, tid: Tid, kind: &EventKind) -> Option<Stack> {
        let stacks = self.stacks.as_mut()?;
        match kind {
            EventKind::Signal { .. } => Some(stacks.capture(pid, tid)),
            // A kill-family call is recorded (for the verdict) just before its entry is shown,
            // at the same stop: a shown one leaves its stack for that entry.
            EventKind::SignalSent { call, .. } => {
                let stack = stacks.capture(pid, tid);
                if self.trace.contains(call.nr) {
                    self.sent_stack = Some((tid, stack.clone()));
                }
                Some(stack)
            }
            EventKind::SyscallEntry(call) if !is_exec(call.nr) => {
                let stack = match self.sent_stack.take() {
                    Some((t, stack)) if t == tid => stack,
                    _ => stacks.capture(pid, tid),
                };
                self.entry_stacks.insert(tid, stack.clone());
                Some(stack)
            }
            // An exit with no entry seen (attached inside the syscall) is walked now, as strace
            // walks at exit whatever it did not capture at entry.
            EventKind::SyscallExit { call, .. } => match self.entry_stacks.remove(&tid) {
                Some(stack) if !is_exec(call.nr) => Some(stack),
                _ => Some(stacks.capture(pid, tid)),
            },
            EventKind::SyscallNoReturn { .. } => self.entry_stacks.remove(&tid),
            _ => None,
        }
    }

    /// After an exec (`ended` false) the process's maps are read again; when its task `tid`
    /// has ended, what was kept for it goes.
    pub(super) fn forget_stacks(&mut self, tid: Tid, pid: Tid, ended: bool) {
        if ended {
            self.entry_stacks.remove(&tid);
        }
        if let Some(stacks) = self.stacks.as_mut().filter(|_| tid == pid || !ended) {
            stacks.forget(pid);
        }
    }
}
