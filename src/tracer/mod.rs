//! The tracer thread: owns every ptrace call, turns each stop into an Event and resumes the task.
pub mod fetch;
pub mod procs;
pub mod wait;

use crate::decode::siginfo::SigInfo;
use crate::decode::syscall::{self as sc, SyscallSet};
use crate::event::{Event, EventKind, Mem, Note, Stamp, Syscall};
use crate::procfs;
use crate::signal::Signal;
use crate::sys::{self, Tid, opt};
use crossbeam_channel::Sender;
use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use wait::{PtraceEvent, Stop};

/// How long the tracer polls for the next stop before it sleeps in waitpid. A ptrace stop
/// wakes the tracer through the scheduler, which costs most when the tracer's CPU went idle;
/// polling briefly catches the next stop of a busy tracee without that wake-up.
const SPIN_US: u64 = 50;
/// Events handed to the renderer at once at most (a storm never blocks to flush them).
const BATCH: usize = 256;

/// x86_64's execve.
pub const NR_EXECVE: u32 = 59;
/// x86_64's rt_sigaction, which sigtrace always follows to know what each signal will do.
pub const NR_RT_SIGACTION: u32 = 13;

/// Control signals sigtrace itself received, handed from the signal thread to the tracer.
#[derive(Default)]
pub struct Control {
    pending: Mutex<Vec<(i32, i32)>>,
}

impl Control {
    pub fn push(&self, sig: i32, code: i32) {
        self.pending.lock().expect("control lock").push((sig, code));
    }
    pub fn is_empty(&self) -> bool {
        self.pending.lock().expect("control lock").is_empty()
    }
    fn take(&self) -> Vec<(i32, i32)> {
        std::mem::take(&mut *self.pending.lock().expect("control lock"))
    }
}

struct Task {
    /// Thread group id.
    pid: Tid,
    /// Detach at the next stop: a non-thread clone child without -f, or every task while detaching.
    unwanted: bool,
    /// Whether its events are shown: false for a child process without -f, traced only until
    /// its first stop lets it go.
    shown: bool,
    /// The syscall this task is inside (entry seen, exit still to come).
    insyscall: Option<InSyscall>,
    /// The process's name, read when its leader stopped at exit.
    comm: Option<Arc<[u8]>>,
}

#[derive(Debug, Clone, Copy)]
struct InSyscall {
    nr: u32,
    args: [u64; 6],
    /// Shown (in the trace set), or stopped at only to follow dispositions (rt_sigaction).
    shown: bool,
    /// rt_sigaction's new action: (signal, handler, flags).
    act: Option<(i32, u64, u64)>,
}

impl Task {
    fn new(pid: Tid) -> Task {
        Task {
            pid,
            unwanted: false,
            shown: true,
            insyscall: None,
            comm: None,
        }
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
pub enum Outcome {
    Exited(i32),
    Killed(Signal),
    Detached,
}

impl Outcome {
    /// The status a shell would report: N, or 128+S for a signal.
    pub fn status(self) -> i32 {
        match self {
            Outcome::Exited(c) => c,
            Outcome::Killed(s) => 128 + s.0,
            Outcome::Detached => 0,
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
    /// How many tasks are shown (strace prefixes lines with the pid when more than one).
    shown: usize,
    options: i32,
    follow: bool,
    launched: bool,
    /// The process whose end decides sigtrace's exit status.
    main_pid: Tid,
    outcome: Option<Outcome>,
    exec_error: Option<OwnedFd>,
    /// The command's events before its exec succeeded: shown if it does, dropped if it fails
    /// (then one error line says why).
    before_exec: Vec<Event>,
    exec_failed: Option<io::Error>,
    detaching: bool,
    trace: SyscallSet,
    mode: SyscallMode,
    seen_seccomp: bool,
    procs: procs::Procs,
    control: Arc<Control>,
    /// None once the output is closed (`close_output`): events are dropped from then on.
    tx: Option<Sender<Vec<Event>>>,
    bell: Arc<crate::render::Doorbell>,
    /// Events not yet handed to the renderer.
    batch: Vec<Event>,
    /// Every task traced, shared with the kernel's record, which keeps only their signals.
    targets: crate::kernel::Targets,
    kernel: Option<crate::kernel::Reader>,
}

/// The ptrace options for every tracee. A seccomp filter (only with -f) makes the command die
/// with sigtrace rather than run on with a filter whose RET_TRACE fails its syscalls with ENOSYS
/// when no tracer is there.
pub fn options(follow: bool, mode: SyscallMode) -> i32 {
    // No PTRACE_O_TRACEEXIT: a stop more per task, for nothing the exit status does not tell.
    let mut o = opt::TRACESYSGOOD | opt::TRACECLONE | opt::TRACEEXEC;
    if follow {
        o |= opt::TRACEFORK | opt::TRACEVFORK;
    }
    if mode == SyscallMode::Seccomp {
        o |= opt::TRACESECCOMP | opt::EXITKILL;
    }
    o
}

impl Tracer {
    pub fn new(
        follow: bool,
        trace: SyscallSet,
        mode: SyscallMode,
        control: Arc<Control>,
        tx: Sender<Vec<Event>>,
        bell: Arc<crate::render::Doorbell>,
    ) -> Tracer {
        Tracer {
            tasks: HashMap::new(),
            ahead_of_parent: HashSet::new(),
            shown: 0,
            options: options(follow, mode),
            follow,
            launched: false,
            main_pid: 0,
            outcome: None,
            exec_error: None,
            before_exec: Vec::new(),
            exec_failed: None,
            detaching: false,
            trace,
            mode,
            seen_seccomp: false,
            procs: procs::Procs::new(mode != SyscallMode::Off),
            control,
            tx: Some(tx),
            bell,
            batch: Vec::new(),
            targets: crate::kernel::Targets::default(),
            kernel: None,
        }
    }

    /// The set of traced tasks, for `kernel::start`.
    pub fn targets(&self) -> crate::kernel::Targets {
        self.targets.clone()
    }

    /// Reads the kernel's record from now on; or tells the verdicts why it is not read.
    pub fn use_kernel_record(
        &mut self,
        started: Result<crate::kernel::Reader, crate::kernel::Off>,
    ) {
        match started {
            Ok(reader) => self.kernel = Some(reader),
            Err(off) => self.emit(0, 0, EventKind::KernelOff(off)),
        }
    }

    /// Hands the kernel's records to the renderer: those the reader has queued, or with `now`
    /// every one up to this moment (before a process's end is reported: the signal that ended
    /// it was generated before the end, so it is in the ring buffer by now).
    fn kernel_records(&mut self, now: bool) {
        let Some(reader) = &self.kernel else {
            return;
        };
        let records = if now {
            reader.take()
        } else {
            reader.take_queued()
        };
        for record in records {
            let (pid, tid) = record.target();
            self.batch.push(Event {
                time: record.time(),
                pid,
                tid,
                ntasks: self.shown,
                kind: EventKind::Kernel(record),
            });
        }
    }

    pub fn ntasks(&self) -> usize {
        self.shown
    }

    /// Sends what is pending to the renderer and closes the channel; later events are dropped.
    pub fn close_output(&mut self) {
        self.send_batch();
        self.tx = None;
        self.bell.ring();
    }

    fn add_task(&mut self, tid: Tid, task: Task) {
        self.targets.add(tid, task.pid);
        self.shown += task.shown as usize;
        if let Some(old) = self.tasks.insert(tid, task) {
            self.shown -= old.shown as usize;
        }
    }

    fn remove_task(&mut self, tid: Tid) -> Option<Task> {
        let t = self.tasks.remove(&tid)?;
        self.shown -= t.shown as usize;
        Some(t)
    }

    /// Adopts a child that `sys::spawn_held` forked and seized, and lets it exec.
    pub fn adopt_launched(&mut self, child: sys::HeldChild) {
        if self.mode == SyscallMode::Every {
            // The child runs free until its first stop; stop it while it still waits for
            // its release, so that PTRACE_SYSCALL catches its execve too.
            sys::interrupt(child.pid()).ok();
        }
        let (pid, exec_error) = child.release();
        self.launched = true;
        self.main_pid = pid;
        self.exec_error = Some(exec_error);
        self.add_task(pid, Task::new(pid));
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
        if self.main_pid == 0 {
            self.main_pid = tgid;
        }
        let mut threads = 0;
        loop {
            let tids = procfs::tasks(tgid).map_err(|e| fail(crate::error_text(&e)))?;
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
        self.first_seen(tgid, None);
        Ok(())
    }

    /// Runs until every traced task is gone; returns how the main process ended.
    pub fn run(&mut self) -> Result<Outcome, ExecFailed> {
        loop {
            self.take_control();
            if self.tasks.is_empty() && (self.detaching || !self.launched) {
                break;
            }
            match self.wait() {
                Ok((tid, status)) => match wait::classify(status) {
                    Ok(stop) => self.handle(tid, stop),
                    Err(e) => {
                        crate::warn(&format!("pid {tid}: {e}; detaching it"));
                        self.remove_task(tid);
                        sys::detach(tid, 0).ok();
                    }
                },
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => break,
                Err(e) => {
                    crate::warn(&format!("waitpid: {}", crate::error_text(&e)));
                    break;
                }
            }
        }
        self.send_batch();
        if let Some(e) = self.exec_failed.take() {
            return Err(ExecFailed(e));
        }
        Ok(self.outcome.unwrap_or(Outcome::Detached))
    }

    /// The next stop: polled for up to SPIN_US, so that a stop that comes within that time is
    /// taken without waiting to be woken on another CPU; before blocking, the events so far go
    /// to the renderer, one batch per wake-up rather than one per event.
    fn wait(&mut self) -> io::Result<(Tid, i32)> {
        let start = std::time::Instant::now();
        loop {
            match sys::wait_any_now()? {
                Some(stop) => return Ok(stop),
                None if start.elapsed() < std::time::Duration::from_micros(SPIN_US) => {
                    std::hint::spin_loop()
                }
                None => {
                    self.send_batch();
                    return sys::wait_any();
                }
            }
        }
    }

    fn send_batch(&mut self) {
        self.kernel_records(false);
        let Some(tx) = &self.tx else {
            self.batch.clear();
            return;
        };
        if !self.batch.is_empty() {
            // The renderer only goes away when sigtrace is ending anyway.
            let _ = tx.send(std::mem::take(&mut self.batch));
            self.bell.ring();
        }
    }

    /// Detaches from everything, e.g. after a failed attach: each task is interrupted and let go
    /// at its next stop, with any signal it was about to receive.
    pub fn detach_all(&mut self) {
        self.begin_detach();
        let _ = self.run();
    }

    fn take_control(&mut self) {
        for (sig, code) in self.control.take() {
            if !self.launched {
                if !self.detaching {
                    self.begin_detach();
                }
            } else if code <= 0 && !self.detaching && self.outcome.is_none() {
                // Launch mode: a signal a process sent to sigtrace is meant for the command
                // (once it has ended and was reaped, its pid may be another process's).
                // The terminal's (SI_KERNEL) reach the command's process group by themselves.
                sys::kill(self.main_pid, sig).ok();
            }
        }
    }

    fn begin_detach(&mut self) {
        self.detaching = true;
        for (&tid, task) in self.tasks.iter_mut() {
            task.unwanted = true;
            // ESRCH: the task is exiting; waitpid will report it.
            sys::interrupt(tid).ok();
        }
    }

    fn emit(&mut self, pid: Tid, tid: Tid, kind: EventKind) {
        if self.tasks.get(&tid).is_some_and(|t| !t.shown) {
            return;
        }
        let ev = Event {
            time: Stamp::now(),
            pid,
            tid,
            ntasks: self.shown,
            kind,
        };
        if tid == self.main_pid && self.exec_error.is_some() {
            // Before its exec the command is still sigtrace's child stub: of its syscalls only
            // the execve belongs to the command.
            let execve = |call: &Syscall| call.nr == NR_EXECVE;
            if matches!(&ev.kind, EventKind::SyscallEntry(c) | EventKind::SyscallExit { call: c, .. } if execve(c))
            {
                self.before_exec.push(ev);
            }
            return;
        }
        self.batch.push(ev);
        if self.batch.len() >= BATCH {
            self.send_batch();
        }
    }

    fn handle(&mut self, tid: Tid, stop: Stop) {
        if !self.tasks.contains_key(&tid) {
            match stop {
                Stop::Exited(_) | Stop::Killed { .. } => return,
                _ => {
                    // ptrace(2): a new child's first stop and its parent's fork/clone event
                    // are reported in either order.
                    self.ahead_of_parent.insert(tid);
                    self.new_task(tid, None, None)
                }
            }
        }
        let pid = self.tasks[&tid].pid;
        if matches!(stop, Stop::Exited(_) | Stop::Killed { .. }) {
            self.no_return(tid, pid);
        }
        match stop {
            Stop::Exited(code) => {
                let ev = EventKind::Exited { code, comm: None };
                self.ended(tid, pid, ev, Outcome::Exited(code))
            }
            Stop::Killed { sig, core } => {
                let ev = EventKind::Killed {
                    sig,
                    core,
                    comm: None,
                    oom: None,
                };
                self.ended(tid, pid, ev, Outcome::Killed(sig))
            }
            Stop::Signal(sig) => self.signal(tid, pid, sig),
            Stop::GroupStop(sig) => {
                // While detaching, a group-stop is the answer to our PTRACE_INTERRUPT of a task
                // that was already stopped and reported so; it is not news.
                if !self.tasks[&tid].unwanted {
                    self.emit(pid, tid, EventKind::Stopped(sig));
                }
                self.resume(tid, Resume::Listen);
            }
            Stop::Interrupt => self.resume(tid, Resume::Cont(0)),
            Stop::Syscall => self.syscall_stop(tid, pid),
            Stop::Event(ev) => self.ptrace_event(tid, pid, ev),
        }
    }

    fn signal(&mut self, tid: Tid, pid: Tid, sig: Signal) {
        match sys::getsiginfo(tid) {
            Ok(raw) => {
                let info = SigInfo::from_bytes(raw);
                let from = self.procs.sender(&info);
                let disposition = self.procs.disposition(pid, sig);
                let ev = EventKind::Signal {
                    info,
                    from,
                    disposition,
                };
                self.emit(pid, tid, ev);
                // Every signal-delivery-stop is a real signal under PTRACE_SEIZE: re-inject it.
                self.resume(tid, Resume::Cont(sig.0));
            }
            // Killed (SIGKILL) while stopped: waitpid will report its end.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => {
                crate::warn(&format!(
                    "pid {tid}: PTRACE_GETSIGINFO: {}",
                    crate::error_text(&e)
                ));
                self.resume(tid, Resume::Cont(sig.0));
            }
        }
    }

    fn ptrace_event(&mut self, tid: Tid, pid: Tid, ev: PtraceEvent) {
        match ev {
            PtraceEvent::Clone | PtraceEvent::Fork | PtraceEvent::Vfork => {
                if let Ok(child) = sys::geteventmsg(tid) {
                    let child = child as Tid;
                    if !self.ahead_of_parent.remove(&child) && !self.tasks.contains_key(&child) {
                        let thread = ev == PtraceEvent::Clone
                            && procfs::tgid(child).is_none_or(|g| g == pid);
                        self.new_task(child, Some(if thread { pid } else { child }), Some(pid));
                    }
                }
            }
            PtraceEvent::Exec => self.exec(tid, pid),
            PtraceEvent::Seccomp => {
                self.seen_seccomp = true;
                return self.syscall_stop(tid, pid);
            }
            PtraceEvent::Exit => self.no_return(tid, pid),
            PtraceEvent::VforkDone => {}
        }
        self.resume(tid, Resume::Cont(0));
    }

    /// The task ends inside a shown syscall: `= ?`, as strace says.
    fn no_return(&mut self, tid: Tid, pid: Tid) {
        let task = self.tasks.get_mut(&tid).expect("known task");
        if let Some(call) = task.insyscall.take().filter(|c| c.shown) {
            self.emit(pid, tid, EventKind::SyscallNoReturn { nr: call.nr });
        }
    }

    /// A syscall-entry, syscall-exit or seccomp stop.
    fn syscall_stop(&mut self, tid: Tid, pid: Tid) {
        match sys::syscall_info(tid) {
            Ok(info) if info.op == sys::SYSCALL_INFO_EXIT => self.syscall_exit(tid, pid, &info),
            Ok(info) if info.op != 0 => self.syscall_entry(tid, pid, &info),
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return,
            Err(e) => crate::warn(&format!(
                "pid {tid}: PTRACE_GET_SYSCALL_INFO: {}",
                crate::error_text(&e)
            )),
        }
        self.resume(tid, Resume::Cont(0));
    }

    fn syscall_entry(&mut self, tid: Tid, pid: Tid, info: &sys::SyscallInfo) {
        let nr = info.nr as u32;
        let shown = self.trace.contains(nr);
        let tracks = nr == NR_RT_SIGACTION;
        let task = self.tasks.get_mut(&tid).expect("known task");
        // Already entered at the seccomp stop, or a syscall sigtrace does not look at.
        if task.insyscall.is_some() || info.arch != sc::AUDIT_ARCH_X86_64 || !(shown || tracks) {
            return;
        }
        let mem = if shown {
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
            (Mem::Bytes { data, .. }, true) => Some((
                info.args[0] as i32,
                u64::from_ne_bytes(data[0..8].try_into().expect("8 bytes")),
                u64::from_ne_bytes(data[8..16].try_into().expect("8 bytes")),
            )),
            _ => None,
        };
        task.insyscall = Some(InSyscall {
            nr,
            args: info.args,
            shown,
            act,
        });
        if shown {
            let call = Syscall {
                nr,
                args: info.args,
                mem,
            };
            self.emit(pid, tid, EventKind::SyscallEntry(call));
        }
    }

    fn syscall_exit(&mut self, tid: Tid, pid: Tid, info: &sys::SyscallInfo) {
        // None: the exit of a syscall entered before we attached, or one not looked at.
        let Some(call) = self.tasks.get_mut(&tid).and_then(|t| t.insyscall.take()) else {
            return;
        };
        if let Some((sig, handler, flags)) = call.act.filter(|_| !info.is_error) {
            self.procs.sigaction(pid, sig, handler, flags);
        }
        if !call.shown {
            return;
        }
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
                call,
                ret: info.rval,
                is_error: info.is_error,
            },
        );
    }

    /// A new task, seen at its parent's clone event or at its own first stop, whichever comes first.
    fn new_task(&mut self, tid: Tid, pid: Option<Tid>, parent: Option<Tid>) {
        let pid = pid.or_else(|| procfs::tgid(tid)).unwrap_or(tid);
        // A thread is shown when its process is; a new process when following forks.
        let sibling = self.tasks.values().find(|t| t.pid == pid).map(|t| t.shown);
        let shown = sibling.unwrap_or(self.follow);
        let mut task = Task::new(pid);
        task.shown = shown;
        task.unwanted = self.detaching || !shown;
        let note = self.follow && !task.unwanted;
        let new_process = sibling.is_none() && !task.unwanted;
        self.add_task(tid, task);
        if note {
            self.emit(pid, tid, EventKind::Note(Note::ChildAttached));
        }
        if new_process && !self.procs.knows(pid) {
            self.first_seen(pid, parent);
        }
    }

    /// A process seen for the first time: its signal state, and where it sits (shown once).
    fn first_seen(&mut self, pid: Tid, parent: Option<Tid>) {
        // A traced parent's name is known without reading /proc.
        let tasks = &self.tasks;
        let ctx = procfs::context(pid, &|p| tasks.get(&p)?.comm.clone());
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
            self.emit(pid, pid, EventKind::Context(ctx));
        }
    }

    fn exec(&mut self, tid: Tid, pid: Tid) {
        if self.procs.knows(pid) {
            self.procs.exec(pid);
        }
        if tid == self.main_pid && self.exec_error.take().is_some() {
            self.first_seen(pid, None);
            self.batch.append(&mut self.before_exec);
            if self.mode == SyscallMode::Seccomp && !self.seen_seccomp {
                // The command's first exec passed no seccomp stop: its filter could not be
                // installed. Stop at every syscall instead.
                self.mode = SyscallMode::Every;
            }
        } else if let Some(t) = self.tasks.get_mut(&tid).filter(|t| t.shown) {
            // The name at the end is the one exec gave (prctl(PR_SET_NAME) renames go unseen);
            // the command's first exec has it from first_seen's context read.
            t.comm = procfs::comm_bytes(pid).map(Arc::from);
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
    }

    fn ended(&mut self, tid: Tid, pid: Tid, mut kind: EventKind, outcome: Outcome) {
        if tid == pid {
            let name = self.tasks.get_mut(&tid).and_then(|t| t.comm.take());
            match &mut kind {
                EventKind::Exited { comm, .. } => *comm = name.clone(),
                EventKind::Killed { comm, oom, sig, .. } => {
                    *comm = name.clone();
                    // Before `ended`, which drops the process's oom_kill baseline.
                    if sig.0 == libc::SIGKILL {
                        *oom = Some(self.procs.oom(pid));
                    }
                }
                _ => {}
            }
            self.procs.ended(pid, name);
            self.kernel_records(true);
        }
        let main = tid == pid && pid == self.main_pid;
        if main {
            // Still before exec: the command never ran; say why instead of a bare exit line.
            if let Some(fd) = self.exec_error.take() {
                self.exec_failed = sys::read_exec_error(&fd);
            }
            self.outcome = Some(outcome);
        }
        if self.exec_failed.is_none() || !main {
            self.emit(pid, tid, kind);
        }
        self.remove_task(tid);
    }

    fn resume(&mut self, tid: Tid, how: Resume) {
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
            if r.is_ok() && (self.detaching || self.follow) {
                self.emit(pid, tid, EventKind::Note(Note::Detached));
            }
            r
        } else {
            // Inside a traced syscall its exit must be seen; without a filter every syscall stops.
            let per_syscall = task.insyscall.is_some() || self.mode == SyscallMode::Every;
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
            crate::warn(&format!("pid {tid}: resuming: {}", crate::error_text(&e)));
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Resume {
    /// PTRACE_CONT delivering this signal (0: none).
    Cont(i32),
    /// PTRACE_LISTEN: stay group-stopped, report SIGCONT.
    Listen,
}

/// Why PTRACE_SEIZE was refused, and what would allow it.
fn permission_hint(pid: Tid, e: &io::Error) -> String {
    if e.raw_os_error() == Some(libc::ESRCH) {
        return "no such process".into();
    }
    if e.raw_os_error() != Some(libc::EPERM) {
        return crate::error_text(e);
    }
    let tracer: Tid = procfs::status_field(pid, "TracerPid")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if tracer != 0 {
        let comm = procfs::comm(tracer)
            .map(|c| crate::escape(&c))
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
