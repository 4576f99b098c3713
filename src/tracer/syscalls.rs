//! Syscall stops: entry and exit, what the arguments point to, rt_sigaction's effect on dispositions.

use super::SyscallMode;
use super::Tracer;
use super::fetch;
use super::stops::Resume;
use super::tasks::InSyscall;
use crate::decode::AUDIT_ARCH_X86_64;
use crate::decode::clone::CLONE_UNTRACED;
use crate::decode::siginfo::{SIGINFO_SIZE, SigInfo};
use crate::decode::signal::SigAction;
use crate::event::{Disposition, Taker};
use crate::event::{EventKind, Mem, Syscall, Target};
use crate::msg::warn;
use crate::procfs;
use crate::signal::Signal;
use crate::sys::{self, Tid};
use crate::syscalls::SyscallSet;
use crate::syscalls::{
    self as sc, NR_CLONE, NR_CLONE3, NR_EXECVE, NR_EXECVEAT, NR_EXIT_GROUP, NR_KILL, NR_PRLIMIT64,
    NR_READ, NR_RT_SIGACTION, NR_RT_SIGRETURN, NR_RT_SIGTIMEDWAIT, NR_SETPGID, NR_SETRLIMIT,
    NR_SETSID, NR_SIGNALFD, NR_SIGNALFD4,
};
use crate::text::error_text;

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
        if self.mode == SyscallMode::Seccomp
            && info.arch == AUDIT_ARCH_X86_64
            && (nr == NR_CLONE || nr == NR_CLONE3)
        {
            // Kept for the fork or clone event that follows (`tasks::first_seen`).
            let flags = keep_traced(tid, pid, nr, &info.args);
            if let Some(t) = self.tasks.get_mut(&tid) {
                t.clone_flags = flags;
            }
        }
        if nr == NR_EXECVE || nr == NR_EXECVEAT {
            self.spin.last = super::stops::Spin::EXEC_ENTRY;
        }
        let in_set = self.trace.contains(nr);
        // A read is looked at only on a signalfd (and only without the filter, which stops
        // no read).
        let watched = self.watched.contains(nr)
            || (nr == NR_READ && self.procs.is_signalfd(pid, info.args[0]));
        let task = self.tasks.get_mut(&tid).expect("known task");
        // Already entered at the seccomp stop, or a syscall sigtrace does not look at.
        if task.insyscall.is_some() || info.arch != AUDIT_ARCH_X86_64 || !(in_set || watched) {
            return;
        }
        let spec = sc::spec(nr);
        let mem = if in_set || nr != NR_RT_SIGACTION {
            fetch::fetch(
                pid,
                spec.entry,
                &info.args,
                info.sp,
                None,
                self.string_limit,
            )
        } else {
            let act = sc::Arg {
                idx: 1,
                kind: sc::Kind::Memory(sc::Memory::SigAction),
            };
            fetch::fetch(pid, &[act], &info.args, 0, None, self.string_limit)
        };
        let act = match &mem[0] {
            Mem::Bytes { len, data } if nr == NR_RT_SIGACTION => data
                .get(..*len as usize)
                .and_then(SigAction::from_bytes)
                .map(|a| (info.args[0] as i32, a)),
            _ => None,
        };
        let call = Syscall {
            nr,
            args: info.args,
            mem,
        };
        task.insyscall = Some(InSyscall {
            nr,
            args: info.args,
            entry: in_set.then(|| Box::new(call.clone())),
            act,
        });
        if let Some(sends) = spec.sends {
            self.signal_sent(pid, tid, sends, &call);
        }
        if in_set {
            self.emit(pid, tid, EventKind::SyscallEntry(call));
        }
        match nr {
            NR_RT_SIGRETURN => self.left_handler(tid),
            NR_EXIT_GROUP => self.exit_call(tid, pid, info.sp),
            _ => {}
        }
        if nr == NR_RT_SIGRETURN && in_set && self.mode == SyscallMode::Seccomp {
            self.sigreturn_at_entry(tid, pid, info.sp);
        }
    }

    /// rt_sigreturn returns the rax it restores from the signal frame (x86_64
    /// restore_sigcontext), readable at its entry: its exit needs no stop of its own (one stop
    /// fewer per handled signal). If the frame cannot be read the exit is stopped at as usual.
    fn sigreturn_at_entry(&mut self, tid: Tid, pid: Tid, sp: u64) {
        let Some(rval) = fetch::frame_rax(pid, sp) else {
            return;
        };
        let entry = self.tasks.get_mut(&tid).and_then(|t| t.insyscall.take());
        if let Some(entry) = entry.and_then(|c| c.entry) {
            // The kernel's is_error: IS_ERR_VALUE, the last 4095 values.
            self.show_exit(tid, pid, entry, sp, rval, (-4095..0).contains(&rval));
        }
    }

    /// At PTRACE_EVENT_EXEC, in seccomp mode: the execve or execveat the task is in succeeded
    /// (it returns 0), so its exit is shown now and not stopped at (one stop fewer per exec).
    pub(super) fn exec_done(&mut self, tid: Tid, pid: Tid) {
        if self.mode != SyscallMode::Seccomp {
            return;
        }
        let exec = |c: &mut InSyscall| c.nr == NR_EXECVE || c.nr == NR_EXECVEAT;
        let call = self
            .tasks
            .get_mut(&tid)
            .and_then(|t| t.insyscall.take_if(exec));
        if let Some(entry) = call.and_then(|c| c.entry) {
            self.show_exit(tid, pid, entry, 0, 0, false);
        }
    }

    /// A kill-family call: whom it aims at and who makes it, recorded at entry (a SIGKILL to
    /// oneself or one's own group never returns).
    fn signal_sent(&mut self, pid: Tid, tid: Tid, sends: sc::Sends, call: &Syscall) {
        let group = || self.procs.place(pid).map(|(pgrp, _)| pgrp);
        let Some((sig, target)) = signal_target(sends, call, pid, group) else {
            return;
        };
        let Some(sender) = self.procs.traced(pid) else {
            return;
        };
        // tkill and tgkill aim at a thread: the process it belongs to is the target.
        let target = match target {
            Target::Pid(t) => Target::Pid(self.tasks.get(&t).map_or(t, |task| task.pid)),
            other => other,
        };
        let ev = EventKind::SignalSent {
            sig: Signal(sig),
            target,
            sender,
            call: call.clone(),
        };
        self.emit(pid, tid, ev);
    }

    pub(super) fn syscall_exit(&mut self, tid: Tid, pid: Tid, info: &sys::SyscallInfo) {
        // None: the exit of a syscall entered before we attached, or one not looked at.
        let Some(call) = self.tasks.get_mut(&tid).and_then(|t| t.insyscall.take()) else {
            return;
        };
        if let Some((sig, act)) = call.act.filter(|_| !info.is_error) {
            self.procs.sigaction(pid, sig, act.handler, act.flags);
        }
        // setpgid(0, ...) moves the caller; setpgid(pid, ...) may move a child.
        let moved = match (call.nr, call.args[0] as i32) {
            _ if info.is_error => None,
            (NR_SETPGID, p) if p > 0 => Some(p),
            (NR_SETPGID | NR_SETSID, _) => Some(pid),
            _ => None,
        };
        let (nr, args) = (call.nr, call.args);
        if let Some(entry) = call.entry {
            self.show_exit(tid, pid, entry, info.sp, info.rval, info.is_error);
        }
        if let Some(moved) = moved {
            self.moved(moved);
        }
        if !info.is_error {
            self.kernel_rules_exit(tid, pid, nr, &args, info.rval);
            self.after_sigcont(pid, nr, args);
        }
    }

    /// After a successful call: a signal it took (rt_sigtimedwait, a signalfd read), a
    /// signalfd it made, limits it changed.
    fn kernel_rules_exit(&mut self, tid: Tid, pid: Tid, nr: u32, args: &[u64; 6], rval: i64) {
        match nr {
            NR_RT_SIGTIMEDWAIT if rval > 0 && args[1] != 0 => {
                let mut raw = [0u8; SIGINFO_SIZE];
                if let Ok(SIGINFO_SIZE) = sys::read_mem(pid, args[1], &mut raw) {
                    self.taken(tid, pid, SigInfo::from_bytes(raw), Taker::Sigtimedwait);
                }
            }
            NR_READ if rval >= SIGINFO_SIZE as i64 => {
                // At most a few: a reader asks for one or a handful at a time.
                let n = (rval as usize / SIGINFO_SIZE).min(8);
                let mut buf = vec![0u8; n * SIGINFO_SIZE];
                let read = sys::read_mem(pid, args[1], &mut buf).unwrap_or(0);
                for chunk in buf[..read - read % SIGINFO_SIZE].chunks_exact(SIGINFO_SIZE) {
                    let ssi: &[u8; SIGINFO_SIZE] = chunk.try_into().expect("chunk size");
                    self.taken(tid, pid, SigInfo::from_signalfd(ssi), Taker::Signalfd);
                }
            }
            NR_SIGNALFD | NR_SIGNALFD4 => self.procs.add_signalfd(pid, rval as i32),
            NR_SETRLIMIT => self.procs.limits_changed(pid),
            NR_PRLIMIT64 if args[2] != 0 => {
                let target = match args[0] as i32 {
                    0 => pid,
                    p => p,
                };
                self.procs.limits_changed(target);
            }
            _ => {}
        }
    }

    /// A blocked signal a call accepted: received as a delivered one is, its sender read now.
    fn taken(&mut self, tid: Tid, pid: Tid, info: SigInfo, by: Taker) {
        let from = self.procs.sender(&info, pid, self.senders.as_ref());
        let reason = self.procs.kernel_reason(pid, &info);
        let ev = EventKind::Signal {
            info,
            from,
            disposition: Disposition::Taken(by),
            reason,
        };
        self.emit(pid, tid, ev);
    }

    /// rt_sigreturn: the innermost handler on this task returns.
    fn left_handler(&mut self, tid: Tid) {
        if let Some(t) = self.tasks.get_mut(&tid) {
            t.handlers.pop();
        }
    }

    /// exit_group at stack pointer `sp`: inside a handler when below the stack pointer its
    /// delivery interrupted (a handler left by longjmp is above it, and is forgotten).
    fn exit_call(&mut self, tid: Tid, pid: Tid, sp: u64) {
        let Some(t) = self.tasks.get_mut(&tid) else {
            return;
        };
        while t.handlers.last().is_some_and(|&(_, at)| sp >= at) {
            t.handlers.pop();
        }
        if let Some(&(sig, _)) = t.handlers.last() {
            self.procs.set_exit_in_handler(pid, sig);
        }
    }

    /// After a kill-family call that sent SIGCONT to a traced single-threaded process: the
    /// sender waits at its exit until that process has taken it (`await_sigcont`).
    fn after_sigcont(&mut self, pid: Tid, nr: u32, args: [u64; 6]) {
        let Some(sends) = sc::spec(nr).sends else {
            return;
        };
        let call = Syscall {
            nr,
            args,
            mem: Default::default(),
        };
        let group = || self.procs.place(pid).map(|(pgrp, _)| pgrp);
        let Some((libc::SIGCONT, Target::Pid(target))) = signal_target(sends, &call, pid, group)
        else {
            return;
        };
        let mut tasks = self
            .tasks
            .iter()
            .filter(|(tid, t)| **tid == target || t.pid == target);
        if let (Some((&tid, _)), None) = (tasks.next(), tasks.next()) {
            self.await_sigcont(tid);
        }
    }

    fn show_exit(
        &mut self,
        tid: Tid,
        pid: Tid,
        entry: Box<Syscall>,
        sp: u64,
        rval: i64,
        is_error: bool,
    ) {
        let limit = self.string_limit;
        let mem = fetch::fetch(
            pid,
            sc::spec(entry.nr).exit,
            &entry.args,
            sp,
            Some(rval),
            limit,
        );
        let call = Syscall {
            nr: entry.nr,
            args: entry.args,
            mem,
        };
        self.emit(
            pid,
            tid,
            EventKind::SyscallExit {
                entry,
                call,
                ret: rval,
                is_error,
            },
        );
    }
}

/// The syscalls every trace stops at, shown or not: rt_sigaction (dispositions), the kill
/// family (who signals whom), setsid and setpgid (who is in which group).
pub fn watched() -> SyscallSet {
    let mut set = SyscallSet::NONE;
    set.insert(NR_RT_SIGACTION);
    set.insert(NR_SETSID);
    set.insert(NR_SETPGID);
    // The kernel's rules (DESIGN §1b): a handler's end and an exit inside one, signals taken
    // without delivery, the limits whose end the kernel signals.
    for nr in [
        NR_RT_SIGRETURN,
        NR_EXIT_GROUP,
        NR_RT_SIGTIMEDWAIT,
        NR_SIGNALFD,
        NR_SIGNALFD4,
        NR_SETRLIMIT,
        NR_PRLIMIT64,
    ] {
        set.insert(nr);
    }
    for nr in (0..sc::MAX_NR).filter(|&nr| sc::spec(nr).sends.is_some()) {
        set.insert(nr);
    }
    set
}

/// The signal and target of a kill-family call made by `pid`, whose process group `group`
/// gives as sigtrace last saw it; None for signal 0 (a probe, not a signal).
fn signal_target(
    sends: sc::Sends,
    call: &Syscall,
    pid: Tid,
    group: impl Fn() -> Option<i32>,
) -> Option<(i32, Target)> {
    let arg = |i: u8| call.args[i as usize] as i32;
    let sig = arg(sends.sig);
    let target = match sends.target.map(arg) {
        // pidfd_send_signal: the pidfd's process, from the sender's fdinfo.
        None => procfs::pidfd_pid(pid, call.args[0] as i32).map_or(Target::Unknown, Target::Pid),
        Some(0) if call.nr == NR_KILL => Target::Group(group()?),
        Some(-1) if call.nr == NR_KILL => Target::All,
        Some(p) if p < 0 && call.nr == NR_KILL => Target::Group(-p),
        Some(p) => Target::Pid(p),
    };
    (sig > 0).then_some((sig, target))
}

/// seccomp(2): "if there is no tracer present, the system call is not executed and returns a
/// failure status with errno set to ENOSYS". A child made with CLONE_UNTRACED (LeakSanitizer's
/// helper) would run untraced under sigtrace's filter, unable to block a signal, kill or even
/// exit. At the clone's entry stop its flags lose CLONE_UNTRACED (the kernel reads clone's
/// registers and clone3's clone_args after the tracer resumes it), so the child is traced as
/// any other (PTRACE_O_TRACECLONE/TRACEFORK) and shown with -f. Returns the flags the call
/// was made with (None for another call, or a clone3 whose clone_args cannot be read).
fn keep_traced(tid: Tid, pid: Tid, nr: u32, args: &[u64; 6]) -> Option<u64> {
    let flags = match nr {
        NR_CLONE => args[0],
        NR_CLONE3 => {
            let mut word = [0u8; 8];
            match sys::read_mem(pid, args[0], &mut word) {
                Ok(8) => u64::from_ne_bytes(word),
                // Unreadable clone_args: clone3 fails with EFAULT anyway.
                _ => return None,
            }
        }
        _ => return None,
    };
    if flags & CLONE_UNTRACED != 0 {
        let cleared = if nr == NR_CLONE {
            sys::set_first_arg(tid, flags & !CLONE_UNTRACED)
        } else {
            sys::poke_word(tid, args[0], flags & !CLONE_UNTRACED)
        };
        if let Err(e) = cleared
            && e.raw_os_error() != Some(libc::ESRCH)
        {
            warn(&format!(
                "pid {tid}: clearing CLONE_UNTRACED: {}",
                error_text(&e)
            ));
        }
    }
    Some(flags)
}
