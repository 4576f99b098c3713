//! Syscall stops: entry and exit, what the arguments point to, rt_sigaction's effect on dispositions.

use super::Tracer;
use super::fetch;
use super::stops::Resume;
use super::tasks::InSyscall;
use crate::decode::AUDIT_ARCH_X86_64;
use crate::decode::signal::SigAction;
use crate::event::EventKind;
use crate::event::{Mem, Syscall};
use crate::msg::warn;
use crate::strace::error_text;
use crate::strace::syscalls::{self as sc, NR_RT_SIGACTION};
use crate::sys::{self, Tid};

impl Tracer {
    /// The task ends inside a shown syscall: `= ?`, as strace says.
    pub(super) fn no_return(&mut self, tid: Tid, pid: Tid) {
        let task = self.tasks.get_mut(&tid).expect("known task");
        if let Some(entry) = task.insyscall.take().and_then(|c| c.entry) {
            self.emit(pid, tid, EventKind::SyscallNoReturn { entry });
        }
    }

    /// A syscall-entry, syscall-exit or seccomp stop.
    pub(super) fn syscall_stop(&mut self, tid: Tid, pid: Tid) {
        match sys::syscall_info(tid) {
            Ok(info) if info.op == sys::SYSCALL_INFO_EXIT => self.syscall_exit(tid, pid, &info),
            Ok(info) if matches!(info.op, sys::SYSCALL_INFO_ENTRY | sys::SYSCALL_INFO_SECCOMP) => {
                self.syscall_entry(tid, pid, &info)
            }
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return,
            Err(e) => warn(&format!(
                "pid {tid}: PTRACE_GET_SYSCALL_INFO: {}",
                error_text(&e)
            )),
        }
        self.resume(tid, Resume::Cont(0));
    }

    pub(super) fn syscall_entry(&mut self, tid: Tid, pid: Tid, info: &sys::SyscallInfo) {
        let nr = info.nr as u32;
        let in_set = self.trace.contains(nr);
        let tracks = nr == NR_RT_SIGACTION;
        let task = self.tasks.get_mut(&tid).expect("known task");
        // Already entered at the seccomp stop, or a syscall sigtrace does not look at.
        if task.insyscall.is_some() || info.arch != AUDIT_ARCH_X86_64 || !(in_set || tracks) {
            return;
        }
        let mem = if in_set {
            fetch::fetch(pid, sc::spec(nr).entry, &info.args, info.sp, None)
        } else {
            fetch::fetch(
                pid,
                &[sc::Arg {
                    idx: 1,
                    kind: sc::Kind::SigAction,
                }],
                &info.args,
                0,
                None,
            )
        };
        let act = match (&mem[0], tracks) {
            (Mem::Bytes { len, data }, true) => data
                .get(..*len as usize)
                .and_then(SigAction::from_bytes)
                .map(|a| (info.args[0] as i32, a)),
            _ => None,
        };
        let entry = in_set.then_some(Syscall {
            nr,
            args: info.args,
            mem,
        });
        task.insyscall = Some(InSyscall {
            nr,
            args: info.args,
            entry: entry.clone().map(Box::new),
            act,
        });
        if let Some(call) = entry {
            self.emit(pid, tid, EventKind::SyscallEntry(call));
        }
    }

    pub(super) fn syscall_exit(&mut self, tid: Tid, pid: Tid, info: &sys::SyscallInfo) {
        // None: the exit of a syscall entered before we attached, or one not looked at.
        let Some(call) = self.tasks.get_mut(&tid).and_then(|t| t.insyscall.take()) else {
            return;
        };
        if let Some((sig, act)) = call.act.filter(|_| !info.is_error) {
            self.procs.sigaction(pid, sig, act.handler, act.flags);
        }
        let Some(entry) = call.entry else {
            return;
        };
        let mem = fetch::fetch(
            pid,
            sc::spec(call.nr).exit,
            &call.args,
            info.sp,
            Some(info.rval),
        );
        let call = Syscall {
            nr: call.nr,
            args: call.args,
            mem,
        };
        self.emit(
            pid,
            tid,
            EventKind::SyscallExit {
                entry,
                call,
                ret: info.rval,
                is_error: info.is_error,
            },
        );
    }
}
