//! The traced tasks: which are shown, which syscall each is in, new ones, ended ones.

use super::{RunEnd, Tracer};
use crate::decode::clone::{CLONE_NEWPID, CLONE_PARENT};
use crate::decode::signal::SigAction;
use crate::event::{EventKind, Note, Syscall};
use crate::procfs;
use crate::sys::{self, Tid};
use std::sync::Arc;

pub(super) struct Task {
    /// Thread group id.
    pub(super) pid: Tid,
    /// Detach at the next stop: a non-thread clone child without -f, or every task while detaching.
    pub(super) unwanted: bool,
    /// Whether its events are shown (its process is followed): false for a child process without -f, traced only until
    /// its first stop lets it go.
    pub(super) visible: bool,
    /// The syscall this task is inside (entry seen, exit still to come).
    pub(super) insyscall: Option<InSyscall>,
    /// The process's name, read when its leader stopped at exit.
    pub(super) comm: Option<Arc<[u8]>>,
    /// The flags of the clone or clone3 it is making (seen at its entry, with the filter).
    pub(super) clone_flags: Option<u64>,
    /// The handlers running on it, innermost last: their signal and the stack pointer the
    /// delivery interrupted.
    pub(super) handlers: Vec<(crate::signal::Signal, u64)>,
}

#[derive(Debug, Clone)]
pub(super) struct InSyscall {
    pub(super) nr: u32,
    pub(super) args: [u64; 6],
    /// The entry as shown, for a syscall in the trace set (None: stopped at only to follow
    /// dispositions, rt_sigaction). Its exit event carries it.
    pub(super) entry: Option<Box<Syscall>>,
    /// rt_sigaction's new action, and for which signal.
    pub(super) act: Option<(i32, SigAction)>,
}

impl Task {
    pub(super) fn new(pid: Tid) -> Task {
        Task {
            pid,
            unwanted: false,
            visible: true,
            insyscall: None,
            comm: None,
            clone_flags: None,
            handlers: Vec::new(),
        }
    }
}

impl Tracer {
    pub(super) fn add_task(&mut self, tid: Tid, task: Task) {
        self.targets.add(tid, task.pid);
        self.nvisible += task.visible as usize;
        if let Some(old) = self.tasks.insert(tid, task) {
            self.nvisible -= old.visible as usize;
        }
    }

    pub(super) fn remove_task(&mut self, tid: Tid) -> Option<Task> {
        let t = self.tasks.remove(&tid)?;
        self.nvisible -= t.visible as usize;
        Some(t)
    }

    /// A new task, seen at its parent's clone event or at its own first stop, whichever comes first.
    /// `flags`: the clone flags it was made with, when known.
    pub(super) fn new_task(
        &mut self,
        tid: Tid,
        pid: Option<Tid>,
        parent: Option<Tid>,
        flags: Option<u64>,
    ) {
        let pid = pid.or_else(|| procfs::tgid(tid)).unwrap_or(tid);
        // A thread is shown when its process is; a new process when following forks.
        let sibling = self
            .tasks
            .values()
            .find(|t| t.pid == pid)
            .map(|t| t.visible);
        let visible = sibling.unwrap_or(self.follow);
        let mut task = Task::new(pid);
        task.visible = visible;
        task.unwanted = self.detaching || !visible;
        let note = self.follow && !task.unwanted;
        let new_process = sibling.is_none() && !task.unwanted;
        self.add_task(tid, task);
        if note {
            self.emit(pid, tid, EventKind::Note(Note::ChildAttached));
        }
        if new_process && !self.procs.knows(pid) {
            self.first_seen(pid, parent, flags);
        }
    }

    /// A process seen for the first time: its signal state, and where it sits (shown once).
    /// A child that a traced parent forked with known flags sits where its parent does.
    pub(super) fn first_seen(&mut self, pid: Tid, parent: Option<Tid>, flags: Option<u64>) {
        self.nprocs += 1;
        let ctx = match parent.zip(flags) {
            Some((parent, flags)) => self.inherited_context(parent, flags),
            None => None,
        };
        let ctx = ctx.or_else(|| {
            // A traced parent's name is known without reading /proc.
            let tasks = &self.tasks;
            procfs::context(pid, &|p| tasks.get(&p)?.comm.clone())
        });
        // A child seen before its parent's fork event still has its parent's signal state.
        let parent = parent.or_else(|| {
            ctx.as_ref()
                .map(|c| c.ppid)
                .filter(|&p| self.procs.knows(p))
        });
        match parent {
            Some(parent) => self.procs.forked(parent, pid),
            None => self.procs.start(pid),
        }
        if let Some(ctx) = ctx {
            if let Some(t) = self.tasks.get_mut(&pid) {
                t.comm = Some(Arc::from(&ctx.comm[..]));
            }
            let ctx = Arc::new(ctx);
            self.procs.set_context(pid, &ctx);
            self.emit(pid, pid, EventKind::Context(ctx));
        }
    }

    /// The context of a child that `parent` forked with `flags`, from what sigtrace keeps of
    /// the parent instead of two /proc reads: its name, command line, process group, session
    /// and terminal are the parent's (fork(2)). Not for CLONE_PARENT (another parent) or
    /// CLONE_NEWPID (another pid namespace): those are read.
    fn inherited_context(&self, parent: Tid, flags: u64) -> Option<crate::event::Context> {
        if flags & (CLONE_PARENT | CLONE_NEWPID) != 0 {
            return None;
        }
        let from = self.procs.context(parent)?;
        Some(crate::event::Context {
            ppid: parent,
            parent_comm: from.comm.clone(),
            exec: false,
            ..from.clone()
        })
    }

    /// After a setsid or setpgid: a new context line for a traced process whose process group
    /// or session changed (who receives a group's or a terminal's signals changed with it).
    pub(super) fn moved(&mut self, pid: Tid) {
        if !self.procs.knows(pid) {
            return;
        }
        let tasks = &self.tasks;
        let Some(ctx) = procfs::context(pid, &|p| tasks.get(&p)?.comm.clone()) else {
            return;
        };
        let ctx = Arc::new(ctx);
        if self.procs.set_context(pid, &ctx) {
            self.emit(pid, pid, EventKind::Context(ctx));
        }
    }

    pub(super) fn ended(&mut self, tid: Tid, pid: Tid, mut kind: EventKind, outcome: RunEnd) {
        self.forget_stacks(tid, pid);
        if tid == pid {
            let name = self.tasks.get_mut(&tid).and_then(|t| t.comm.take());
            match &mut kind {
                EventKind::Exited {
                    comm, in_handler, ..
                } => {
                    *comm = name.clone();
                    *in_handler = self.procs.exit_in_handler(pid);
                }
                EventKind::Killed {
                    comm,
                    oom,
                    sig,
                    reason,
                    ..
                } => {
                    *comm = name.clone();
                    // Before `ended`, which drops the process's oom_kill baseline and limits.
                    if sig.0 == libc::SIGKILL {
                        *oom = Some(self.procs.oom(pid));
                        *reason = self.cpu_limit_reached(pid);
                    }
                }
                _ => {}
            }
            self.procs.ended(pid, name);
            self.take_sources(crate::source::Upto::Now);
        }
        let main = tid == pid && pid == self.main_pid;
        if main {
            self.main_ended();
            self.outcome = Some(outcome);
        }
        // A command whose exec failed never ran: one line says why instead of a bare exit line.
        if !main || !self.exec_failed() {
            self.emit(pid, tid, kind);
        }
        self.remove_task(tid);
    }

    /// RLIMIT_CPU's hard limit, whose SIGKILL's delivery ptrace never shows: set, and the CPU
    /// time wait4 gives at its end at least half of it (the kernel checks against CPU time
    /// counted at ticks, which a busy machine puts ahead of the run time wait4 reports). The
    /// fold takes it unless the kernel's record names another sender.
    fn cpu_limit_reached(&self, pid: Tid) -> Option<crate::event::reason::KernelReason> {
        let limit = self.procs.limits(pid)?.cpu.hard?;
        let used = self.reaped_cpu;
        (used.as_secs_f64() >= limit as f64 * 0.5).then_some(
            crate::event::reason::KernelReason::RlimitCpu {
                hard: true,
                limit,
                used: Some(used),
            },
        )
    }

    /// Returns whether it was the launched command's first exec.
    pub(super) fn exec(&mut self, tid: Tid, pid: Tid) -> bool {
        if self.procs.knows(pid) {
            self.procs.exec(pid);
        }
        if let Some(stacks) = &mut self.stacks {
            stacks.forget(pid);
        }
        let first = tid == self.main_pid && self.command_execed(pid);
        if !first && self.tasks.get(&tid).is_some_and(|t| t.visible) {
            self.execed(tid, pid);
        }
        if let Some(t) = self.tasks.get_mut(&tid) {
            t.handlers.clear();
        }
        let old = sys::geteventmsg(tid).map(|m| m as Tid).unwrap_or(tid);
        if old != tid {
            // ptrace(2): an execve in a non-leader thread takes over the leader's tid; the
            // execing thread's old tid vanishes without an exit notification, and its state
            // (inside execve) becomes the leader's.
            if let Some(old_task) = self.remove_task(old)
                && let Some(t) = self.tasks.get_mut(&tid)
            {
                t.insyscall = old_task.insyscall;
            }
            self.emit(pid, tid, EventKind::Superseded { old_tid: old });
        }
        first
    }

    /// -b execve: at an exec (not the command's first, as strace), the task is let go at its
    /// resume, inside the execve whose line ends ` <detached ...>`. Returns whether it is.
    pub(super) fn let_go_at_exec(&mut self, tid: Tid, pid: Tid, first: bool) -> bool {
        if !self.detach_on_exec || first {
            return false;
        }
        let Some(task) = self.tasks.get_mut(&tid) else {
            return false;
        };
        task.unwanted = true;
        // Its execve's line is open when it is shown.
        if let Some(call) = task.insyscall.take().filter(|c| c.entry.is_some()) {
            self.emit(pid, tid, EventKind::LetGo { nr: call.nr });
        }
        true
    }

    /// A later exec of a shown process: its new name and arguments, read once, for the
    /// verdict (the command's first exec has them from first_seen's context read).
    fn execed(&mut self, tid: Tid, pid: Tid) {
        let tasks = &self.tasks;
        let Some(mut ctx) = procfs::context(pid, &|p| tasks.get(&p)?.comm.clone()) else {
            return;
        };
        // The name at the end is the one exec gave (prctl(PR_SET_NAME) renames go unseen).
        if let Some(t) = self.tasks.get_mut(&tid) {
            t.comm = Some(Arc::from(&ctx.comm[..]));
        }
        ctx.exec = true;
        let ctx = Arc::new(ctx);
        self.procs.set_context(pid, &ctx);
        self.emit(pid, pid, EventKind::Context(ctx));
    }
}
