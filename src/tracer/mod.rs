//! The tracer thread: owns every ptrace call, turns each stop into an Event and resumes the task.
mod attach;
pub mod fetch;
mod launch;
mod names;
pub mod procs;
mod relay;
mod stops;
mod syscalls;
mod tasks;
pub mod wait;

use crate::event::{Event, EventKind, Stamp};
use crate::signal::Signal;
use crate::source::Upto;
use crate::sys::Tid;
use crate::syscalls::{NR_EXECVE, NR_EXECVEAT, SyscallSet};
use launch::Launch;
pub use names::DecodePids;
use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::{Arc, Mutex};
pub use syscalls::watched;
use tasks::Task;

use crate::channel::{BATCH, Outlet};

/// Control signals sigtrace itself received, handed from the signal thread to the tracer.
#[derive(Default)]
pub struct Control {
    pending: Mutex<Vec<crate::sys::ControlSignal>>,
}

impl Control {
    pub fn push(&self, c: crate::sys::ControlSignal) {
        self.pending.lock().expect("control lock").push(c);
    }
    pub fn is_empty(&self) -> bool {
        self.pending.lock().expect("control lock").is_empty()
    }
    fn wants_detach(&self) -> bool {
        let pending = self.pending.lock().expect("control lock");
        pending
            .iter()
            .any(|c| crate::sys::DETACH_SIGNALS.contains(&c.sig))
    }
    pub fn take(&self) -> Vec<crate::sys::ControlSignal> {
        std::mem::take(&mut *self.pending.lock().expect("control lock"))
    }
}

/// Where tracees stop for syscalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallMode {
    /// No syscall is traced: PTRACE_CONT only, signals and ends alone.
    Off,
    /// A seccomp filter in the launched command stops it at traced syscalls only.
    Seccomp,
    /// PTRACE_SYSCALL at every syscall (attach mode, or no seccomp).
    Every,
}

/// How a run ended, for sigtrace's own exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    Exited(i32),
    Killed(Signal),
    Detached,
}

impl RunEnd {
    /// The status a shell would report: N, or 128+S for a signal.
    pub fn status(self) -> i32 {
        match self {
            RunEnd::Exited(c) => c,
            RunEnd::Killed(s) => 128 + s.0,
            RunEnd::Detached => 0,
        }
    }
}

/// Why a launch failed before the command ran.
pub struct ExecFailed(pub io::Error);

pub struct Tracer {
    tasks: HashMap<Tid, Task>,
    /// New tasks whose own first stop came before their parent's clone event: that late event
    /// must not bring them back, even after they ended.
    ahead_of_parent: HashSet<Tid>,
    /// How many tasks are visible (strace prefixes lines with the pid when more than one).
    nvisible: usize,
    /// How many processes were shown (first seen) in all.
    nprocs: usize,
    options: i32,
    follow: bool,
    /// Where the launched command is in its life (nothing launched in attach mode).
    launch: Launch,
    /// The process whose end decides sigtrace's exit status.
    main_pid: Tid,
    outcome: Option<RunEnd>,
    detaching: bool,
    trace: SyscallSet,
    mode: SyscallMode,
    procs: procs::Procs,
    control: Arc<Control>,
    /// None once the output is closed (`close_output`): events are dropped from then on.
    out: Option<Outlet>,
    /// Events not yet handed to the renderer.
    batch: Vec<Event>,
    /// Events stay in `batch` whatever its length (while attaching).
    holding: bool,
    /// Signals passed on to the command, not yet delivered: (signal, who sent it to sigtrace).
    passed: Vec<(i32, Arc<crate::event::Sender>, std::time::Instant)>,
    /// The command's latest deliveries.
    recent: Vec<relay::Delivery>,
    /// Syscalls stopped at whether shown or not (`syscalls::watched`).
    watched: SyscallSet,
    /// With -k: the unwinder, and each task's stack at the entry of the syscall it is in.
    stacks: Option<crate::stack::Stacks>,
    entry_stacks: HashMap<Tid, crate::event::Stack>,
    /// Every task traced, shared with the kernel's record, which keeps only their signals.
    targets: crate::kernel::Targets,
    /// The sources of events beside ptrace, drained into each batch.
    sources: crate::source::Sources,
    /// What the sources lost, for the end event.
    lost: crate::event::Losses,
    /// The kernel's process table, which names senders gone before their signal's delivery.
    senders: Option<crate::kernel::Senders>,
    /// -s: strings and argv read up to this.
    string_limit: usize,
    /// -b execve.
    detach_on_exec: bool,
    /// -Y, --decode-pids.
    decode_pids: names::DecodePids,
    /// A task that a traced call sent SIGCONT, until it takes it (`stops::await_sigcont`).
    awaiting_cont: Option<Tid>,
    /// Where polling for the next stop pays (`stops::wait`).
    spin: stops::Spin,
    /// The CPU time wait4 gave for the task it reported last (a process's, when it ended).
    reaped_cpu: std::time::Duration,
}

/// What the tracer is asked to do, from the plan.
pub struct Setup {
    /// -f: follow forks.
    pub follow: bool,
    /// The PTRACE_O_* options of every tracee.
    pub options: i32,
    /// The syscalls shown.
    pub trace: SyscallSet,
    pub mode: SyscallMode,
    /// -k: a stack with each shown syscall and signal.
    pub stacks: bool,
    /// -s: strings and argv shown up to this.
    pub string_limit: usize,
    /// -b execve: a task is let go at its exec (the command's first excepted).
    pub detach_on_exec: bool,
    /// -Y, --decode-pids=comm|pidns.
    pub decode_pids: names::DecodePids,
}

impl Tracer {
    pub fn new(setup: Setup, control: Arc<Control>, out: Outlet) -> Tracer {
        let Setup {
            follow,
            options,
            trace,
            mode,
            stacks,
            string_limit,
            detach_on_exec,
            decode_pids,
        } = setup;
        Tracer {
            tasks: HashMap::new(),
            ahead_of_parent: HashSet::new(),
            nvisible: 0,
            nprocs: 0,
            options,
            follow,
            launch: Launch::Nothing,
            main_pid: 0,
            outcome: None,
            detaching: false,
            trace,
            mode,
            procs: procs::Procs::new(mode != SyscallMode::Off),
            control,
            out: Some(out),
            batch: Vec::new(),
            holding: false,
            passed: Vec::new(),
            recent: Vec::new(),
            watched: syscalls::watched(),
            targets: crate::kernel::Targets::default(),
            sources: crate::source::Sources::default(),
            lost: crate::event::Losses::default(),
            senders: None,
            stacks: stacks.then(crate::stack::Stacks::new),
            entry_stacks: HashMap::new(),
            spin: stops::Spin::new(),
            awaiting_cont: None,
            string_limit,
            detach_on_exec,
            decode_pids,
            reaped_cpu: std::time::Duration::ZERO,
        }
    }

    /// The stack an event carries, taken while the task is stopped: at a signal's delivery, at
    /// a syscall's entry (its exit and its end carry that one), at a kill call. As strace does,
    /// an exec's stack is taken at its exit, in the new program.
    fn stack_for(&mut self, pid: Tid, tid: Tid, kind: &EventKind) -> Option<crate::event::Stack> {
        let stacks = self.stacks.as_mut()?;
        let is_exec = |nr: u32| nr == NR_EXECVE || nr == NR_EXECVEAT;
        match kind {
            EventKind::Signal { .. } | EventKind::SignalSent { .. } => {
                Some(stacks.capture(pid, tid))
            }
            EventKind::SyscallEntry(call) if !is_exec(call.nr) => {
                let stack = stacks.capture(pid, tid);
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

    /// Forgets what -k cached of a process that exec'd or ended.
    fn forget_stacks(&mut self, tid: Tid, pid: Tid) {
        self.entry_stacks.remove(&tid);
        if let Some(stacks) = self.stacks.as_mut().filter(|_| tid == pid) {
            stacks.forget(pid);
        }
    }

    /// Whether sigtrace was told to let go: a detach signal waits to be taken (attach mode).
    pub(super) fn stop_requested(&self) -> bool {
        !self.launched() && self.control.wants_detach()
    }

    /// The last event: sigtrace ends with `status` (and `error`), having traced this many
    /// processes.
    pub fn end(&mut self, status: i32, error: Option<String>) {
        let processes = self.nprocs;
        let main = self.main_pid;
        let end = EventKind::End {
            status,
            processes,
            error,
            lost: self.lost,
        };
        self.emit(main, main, end);
    }

    /// Sends what is pending to the renderer and closes the channel; later events are dropped.
    /// False when the renderer, on this thread, could not write a file named on the command
    /// line.
    pub fn close_output(&mut self) -> bool {
        self.send_batch();
        self.out.take().is_none_or(Outlet::close)
    }

    /// Drops what is pending and closes the channel: nothing more is shown.
    pub fn discard_output(&mut self) {
        self.batch.clear();
        if let Some(out) = self.out.take() {
            out.close();
        }
    }

    /// Before a task runs again: with an inline output, its events are written now, before
    /// the program can write its own output after them (a handler's line after its signal's).
    fn write_before_resume(&mut self) {
        if !self.batch.is_empty() && !self.holding && self.out.as_ref().is_some_and(Outlet::inline)
        {
            self.send_batch();
        }
    }

    fn emit(&mut self, pid: Tid, tid: Tid, kind: EventKind) {
        if self.tasks.get(&tid).is_some_and(|t| !t.visible) {
            return;
        }
        let stack = self.stack_for(pid, tid, &kind);
        let names = self.pid_names(pid, tid, &kind);
        let ev = Event {
            time: Stamp::now(),
            pid,
            tid,
            ntasks: self.nvisible,
            kind,
            stack,
            names,
        };
        let Some(ev) = self.hold_before_exec(ev) else {
            return;
        };
        self.batch.push(ev);
        if self.batch.len() >= BATCH && !self.holding {
            self.send_batch();
        }
    }

    fn send_batch(&mut self) {
        self.take_sources(Upto::Read);
        let Some(out) = &mut self.out else {
            self.batch.clear();
            return;
        };
        if !self.batch.is_empty() {
            out.send(std::mem::take(&mut self.batch));
        }
    }

    /// The set of traced tasks, for `kernel::start`.
    pub fn targets(&self) -> crate::kernel::Targets {
        self.targets.clone()
    }

    /// Names senders from the kernel's process table from now on, where it is read.
    pub fn use_senders(&mut self, senders: Option<crate::kernel::Senders>) {
        self.senders = senders;
    }

    /// Drains `source` into every batch from now on.
    pub fn add_source(&mut self, source: Box<dyn crate::source::Source>) {
        self.sources.add(source);
    }

    /// Hands the sources' events to the renderer: those read, or with `Upto::Now` every one
    /// generated up to this moment (before a process's end is reported).
    fn take_sources(&mut self, upto: Upto) {
        let from = self.batch.len();
        self.sources.take(upto, &mut self.batch);
        for ev in &mut self.batch[from..] {
            ev.ntasks = self.nvisible;
            if let EventKind::Kernel(crate::event::Record::Lost(n)) = ev.kind {
                self.lost.records += n;
            }
        }
    }
}
