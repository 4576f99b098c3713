//! The kernel's record of signals: the signal_generate and mark_victim tracepoints read through perf (or, in the record and watch modes, a tracefs instance) for the traced processes, as typed records whose sender the process table (fed from the same rings) names.
//!
//! Why perf_event_open for the ptrace mode rather than a tracefs instance: the kernel frees a
//! perf event and its buffers when the last descriptor closes, however sigtrace ends (SIGKILL
//! included), so nothing can be left behind; it never touches tracefs state other tools share;
//! each opener gets its own buffers, so perf, trace-cmd or another sigtrace run alongside; the
//! sample's pid/tid are in the opener's pid namespace; and it starts in milliseconds. The
//! record and watch modes, whose promise is the program's own speed, take an instance where
//! they can (ftrace.rs says why).

pub mod connector;
pub mod decode;
pub mod ftrace;
pub mod table;
pub mod tracepoint;

use crate::event::{KernelSignal, Off, Record, Sender, SignalResult, Stamp};
use crate::procfs;
use crate::signal::Signal;
use crate::sys::perf::{self, Ring};
use decode::{Sample, SignalSample};
use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracepoint::Layouts;

/// Data pages of all CPUs' rings together, at most (8 MiB with 4 KiB pages), and per CPU at
/// most (1 MiB: ~12000 samples between two reads) and at least. Every signal on the system is
/// sampled (only the traced processes' are kept, in userspace): a storm elsewhere while the
/// reader waits for a CPU must not overflow the ring.
const ALL_PAGES: usize = 2048;
const RING_PAGES: usize = 256;
const MIN_RING_PAGES: usize = 4;
/// Signals whose sender was named, kept for a sender the siginfo gives in another namespace.
const LATEST: usize = 64;
/// Records read and not taken yet, kept at most (about 30 MB).
const QUEUE_MAX: usize = 1 << 18;

/// The traced tasks (tid -> thread group), shared with the tracer, which adds each new task.
/// Ended tasks are kept: their last records (the SIGKILL that ended them) may be read after.
#[derive(Debug, Clone, Default)]
pub struct Targets(Arc<Mutex<HashMap<i32, i32>>>, bool);

impl Targets {
    /// The record mode's: every signal is kept (no ptrace sees any of them), for whichever
    /// task, since a task is followed only once its fork is read, which may come after its
    /// first signals; the record mode keeps those of the tasks it follows.
    pub fn every() -> Targets {
        Targets(Arc::default(), true)
    }

    pub fn add(&self, tid: i32, pid: i32) {
        self.0.lock().expect("targets lock").insert(tid, pid);
    }

    fn group_of(&self, tid: i32) -> Option<i32> {
        self.0.lock().expect("targets lock").get(&tid).copied()
    }
}

/// One CPU's ring buffer.
struct Cpu {
    ring: Ring,
    /// The perf event ids of its signal_generate events: [prompt, bulk].
    ids: [u64; 2],
    /// The last signal sample read from it (a twin may come in the next read).
    prev: Option<Sample>,
}

/// Where the records are read from.
enum Backend {
    Perf {
        cpus: Vec<Cpu>,
        /// Which event of the pair was enabled last (0 prompt, 1 bulk).
        active: usize,
    },
    Ftrace(ftrace::Instance),
}

struct Rings {
    backend: Backend,
    /// Records read and not yet taken.
    queue: Vec<Record>,
    buf: Vec<u8>,
    /// Samples stamped after the last read began, for the next one.
    pending: Vec<Sample>,
    /// The latest signals whose sender was named: (target process, signal, sender).
    latest: VecDeque<(i32, i32, i32)>,
    table: table::Table,
}

struct Shared {
    layouts: Layouts,
    targets: Targets,
    rings: Mutex<Rings>,
    /// The queue holds records: the tracer takes them without locking otherwise.
    queued: AtomicBool,
    stop: AtomicBool,
}

/// A running reader: per-CPU perf events on the tracepoints and the thread that drains them.
pub struct Reader {
    shared: Arc<Shared>,
    wake: UnixStream,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Every perf event's descriptor, for `sys::hold_until_exit` (none with an instance).
    fds: Vec<RawFd>,
}

/// Opens the kernel's record when allowed; else says why not (nothing is left open).
/// The record and watch modes read an instance where one can be made (root, tracefs
/// mounted, the initial pid namespace), else perf's rings: the same records.
/// SIGTRACE_RINGS=perf chooses perf's (to compare them).
pub fn start(targets: Targets) -> Result<Reader, Off> {
    let perf = std::env::var_os("SIGTRACE_RINGS").is_some_and(|v| v == "perf");
    start_with(targets, !perf)
}

fn start_with(targets: Targets, instance: bool) -> Result<Reader, Off> {
    if !permitted() {
        return Err(Off::NotPermitted);
    }
    let layouts = tracepoint::load().map_err(Off::Unavailable)?;
    let every = targets.1;
    let instance = match (every && instance, tracepoint::root()) {
        (true, Some(root)) => {
            let filter = kernel_filter(nix::unistd::gettid().as_raw(), every);
            ftrace::Instance::start(&root, &layouts, &filter).ok()
        }
        _ => None,
    };
    let (backend, events, fds) = match instance {
        Some(i) => (Backend::Ftrace(i), None, Vec::new()),
        None => {
            let (events, cpus) = open_all(&layouts, every).map_err(Off::Unavailable)?;
            let fds = [
                &events.prompt,
                &events.bulk,
                &events.victims,
                &events.tasks,
                &events.delivers,
            ]
            .into_iter()
            .flatten()
            .map(|fd| fd.as_raw_fd())
            .collect();
            (Backend::Perf { cpus, active: 0 }, Some(events), fds)
        }
    };
    let shared = Arc::new(Shared {
        layouts,
        targets,
        rings: Mutex::new(Rings {
            backend,
            queue: Vec::new(),
            buf: Vec::new(),
            pending: Vec::new(),
            latest: VecDeque::new(),
            table: table::Table::new(table::ProcFs, crate::sys::getpid()),
        }),
        queued: AtomicBool::new(false),
        stop: AtomicBool::new(false),
    });
    let (wake, woken) = UnixStream::pair().map_err(|e| Off::Unavailable(e.to_string()))?;
    let s = shared.clone();
    let thread = std::thread::Builder::new()
        .name("kernel-record".into())
        .spawn(move || read_loop(&s, events, woken))
        .map_err(|e| Off::Unavailable(e.to_string()))?;
    Ok(Reader {
        shared,
        wake,
        thread: Some(thread),
        fds,
    })
}

/// Root, or CAP_PERFMON (38) or CAP_SYS_ADMIN (21) in the effective set: what perf_event_open
/// wants for system-wide tracepoint samples with raw data (perf_event_paranoid above -1).
fn permitted() -> bool {
    if crate::sys::geteuid() == 0 {
        return true;
    }
    let caps = procfs::status_field(crate::sys::getpid(), "CapEff")
        .and_then(|v| u64::from_str_radix(&v, 16).ok())
        .unwrap_or(0);
    caps & (1 << 38 | 1 << 21) != 0
}

/// The online CPUs, from /sys/devices/system/cpu/online (`0-3,6`).
pub(crate) fn online_cpus() -> Vec<i32> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
            cpus.extend(a..=b);
        }
    }
    cpus
}

/// The perf events, per CPU: signal_generate twice over (one event wakes the reader at each
/// sample, the other only when its buffer is half full; one of them is enabled at a time, and
/// both write into the first one's ring), mark_victim, and the process table's (new tasks,
/// execs, exits: they never wake the reader, which reads them with the next signal).
struct Events {
    prompt: Vec<OwnedFd>,
    bulk: Vec<OwnedFd>,
    victims: Vec<OwnedFd>,
    tasks: Vec<OwnedFd>,
    /// signal_deliver, in the record mode only (no ptrace stop shows a disposition there).
    delivers: Vec<OwnedFd>,
}

/// Opens the events on every CPU, and maps the rings.
fn open_all(layouts: &Layouts, every: bool) -> Result<(Events, Vec<Cpu>), String> {
    let mut events = Events {
        prompt: Vec::new(),
        bulk: Vec::new(),
        victims: Vec::new(),
        tasks: Vec::new(),
        delivers: Vec::new(),
    };
    let mut rings = Vec::new();
    let what = |e: std::io::Error| format!("perf_event_open: {}", crate::text::error_text(&e));
    let filter = kernel_filter(nix::unistd::gettid().as_raw(), every);
    let id = layouts.generate.id;
    let cpus = online_cpus();
    let ncpus = cpus.len();
    for cpu in cpus {
        let prompt = perf::open_tracepoint(id, cpu, true, true).map_err(what)?;
        perf::set_filter(&prompt, &filter).map_err(what)?;
        // The ring first: PERF_EVENT_IOC_SET_OUTPUT wants the target mapped.
        let ring = map_ring(&prompt, ncpus).map_err(what)?;
        let bulk = perf::open_tracepoint(id, cpu, false, false).map_err(what)?;
        perf::set_filter(&bulk, &filter).map_err(what)?;
        perf::set_output(&bulk, &prompt).map_err(what)?;
        rings.push(Cpu {
            ring,
            ids: [perf::event_id(&prompt), perf::event_id(&bulk)].map(|r| r.unwrap_or(0)),
            prev: None,
        });
        if let Some(v) = layouts.victim
            && let Ok(victim) = perf::open_tracepoint(v.id, cpu, true, true)
            && perf::set_output(&victim, &prompt).is_ok()
        {
            events.victims.push(victim);
        }
        if let Some(t) = &layouts.task {
            events
                .tasks
                .extend(open_tasks(t, cpu, &prompt).map_err(what)?);
        }
        // Never a wake-up of its own: the record mode reads at every tick.
        if let Some(d) = layouts.deliver.filter(|_| every) {
            let deliver = perf::open_tracepoint(d.id, cpu, false, true).map_err(what)?;
            let _ = perf::set_filter(&deliver, &format!("sig != {}", libc::SIGCHLD));
            perf::set_output(&deliver, &prompt).map_err(what)?;
            events.delivers.push(deliver);
        }
        events.prompt.push(prompt);
        events.bulk.push(bulk);
    }
    if rings.is_empty() {
        return Err("no online CPU".into());
    }
    Ok((events, rings))
}

/// The signal_generate samples worth their cost (a filter is set once per event), kept by
/// the kernel before any is written:
/// - none to the tracer thread `tracer`: ptrace tells it of every stop with a SIGCHLD;
/// - no SIGCHLD: every child's end sends one, and who sent it is never the question (the
///   child ended; ptrace shows its siginfo); a fork+exec loop ran 25% slower with them;
/// - no delivered thread-directed or queued signal (SI_TKILL from raise() or pthread_kill,
///   SI_QUEUE from sigqueue) but SIGKILL and the termination requests: their siginfo names the
///   sender to ptrace, and a storm of them would otherwise cost a sample each. One that was
///   not delivered as sent (merged, ignored, the queue full) is kept: ptrace cannot see that.
///
/// With `every` (the record mode, where no ptrace sees anything) all but SIGCHLD are kept.
fn kernel_filter(tracer: i32, every: bool) -> String {
    if every {
        return format!("sig != {}", libc::SIGCHLD);
    }
    let requests: Vec<String> = (1..32)
        .filter(|&s| s == libc::SIGKILL || Signal(s).is_termination_request())
        .map(|s| format!("sig == {s}"))
        .collect();
    format!(
        "pid != {tracer} && sig != {} && (result != 0 || (code != {} && code != {}) || {})",
        libc::SIGCHLD,
        libc::SI_TKILL,
        libc::SI_QUEUE,
        requests.join(" || ")
    )
}

/// The process table's events on one CPU, writing into `ring`'s buffer; each with a filter
/// where the kernel takes it (threads and a thread's exit say nothing of a process).
fn open_tasks(
    t: &tracepoint::TaskLayouts,
    cpu: i32,
    ring: &OwnedFd,
) -> std::io::Result<Vec<OwnedFd>> {
    let events = [
        (
            t.newtask.id,
            Some(format!("!(clone_flags & {})", decode::CLONE_THREAD)),
        ),
        (t.exec.id, None),
        (
            t.exit.id,
            t.exit.group_dead.map(|_| "group_dead == 1".to_string()),
        ),
    ];
    let mut fds = Vec::new();
    for (id, filter) in events {
        let fd = perf::open_tracepoint(id, cpu, false, true)?;
        if let Some(f) = filter {
            // Decoding drops them too: a filter only saves their room in the ring.
            let _ = perf::set_filter(&fd, &f);
        }
        perf::set_output(&fd, ring)?;
        fds.push(fd);
    }
    Ok(fds)
}

/// The largest ring the kernel allows: without CAP_IPC_LOCK, perf buffers count against
/// perf_event_mlock_kb (516 KiB per user by default), shared by every CPU's ring.
fn map_ring(fd: &OwnedFd, cpus: usize) -> std::io::Result<Ring> {
    let share = (ALL_PAGES / cpus.max(1)).clamp(MIN_RING_PAGES, RING_PAGES);
    // A power of two, as perf_event_open(2) wants.
    let mut pages = 1 << share.ilog2();
    loop {
        match Ring::map(fd, pages) {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) && pages > MIN_RING_PAGES => pages /= 2,
            other => return other,
        }
    }
}

/// A read of this many samples or more (a millisecond's worth after the first) starts a storm:
/// the reader stops being woken per sample (each wake-up costs the signalling task an
/// interrupt, a VM exit in a guest) and reads every STORM_READ_MS instead. Every 4 ms cost a
/// storm of self-sent signals 7-9% (the reader's wake-ups take a CPU from the tracer or the
/// tracee); every 20 ms, no cost that the noise of 11 alternating runs shows. A ring holds
/// about 12,000 samples: 20 ms of a storm fit many times over.
const STORM: usize = 4;
const STORM_READ_MS: i32 = 20;
/// A storm ends when this many reads (about 60 ms) found fewer samples than 1000 a second;
/// then wake-ups per sample come back.
const CALM_READS: usize = 3;
const CALM_SAMPLES: usize = 60;

/// Waits for signal samples and reads them at once (the process table's are read with them);
/// during a storm, reads every few milliseconds instead. Without perf's `events` (an
/// instance), reads every STORM_READ_MS: the record and watch modes' loop reads it itself at
/// each of its turns, so this only keeps the buffers from filling meanwhile, and a poll on an
/// instance's pipes would cost the writing program an interrupt at its next event.
fn read_loop(shared: &Shared, events: Option<Events>, woken: UnixStream) {
    let Some(events) = events else {
        // The first read (which reads the host's threads) off the caller's path.
        shared.drain();
        while !shared.stop.load(Ordering::Relaxed) {
            perf::poll_readable(&[woken.as_fd()], STORM_READ_MS);
            shared.drain();
        }
        return;
    };
    let mut polled: Vec<_> = events.prompt.iter().map(|f| f.as_fd()).collect();
    polled.push(woken.as_fd());
    let mut storm = false;
    // In a storm: reads and samples in the current window.
    let (mut reads, mut samples) = (0, 0);
    while !shared.stop.load(Ordering::Relaxed) {
        perf::poll_readable(&polled, if storm { STORM_READ_MS } else { -1 });
        let n = shared.drain();
        if !storm {
            if n >= STORM {
                shared.switch(&events, true);
                (storm, reads, samples) = (true, 0, 0);
            } else if n > 0 {
                // A burst's next samples are read together.
                std::thread::sleep(Duration::from_millis(1));
            }
            continue;
        }
        (reads, samples) = (reads + 1, samples + n);
        if reads == CALM_READS {
            if samples < CALM_SAMPLES {
                shared.switch(&events, false);
                storm = false;
            }
            (reads, samples) = (0, 0);
        }
    }
}

impl Shared {
    /// Enables one signal_generate event set and disables the other; the new one first, so
    /// that no sample is missed: while both are, each signal is written twice, first by the
    /// new one (perf adds an enabled event at the head of the tracepoint's list), and the
    /// old one's copy is dropped when read.
    fn switch(&self, events: &Events, to_bulk: bool) {
        let (on, off) = if to_bulk {
            (&events.bulk, &events.prompt)
        } else {
            (&events.prompt, &events.bulk)
        };
        let mut rings = self.rings.lock().expect("rings lock");
        if let Backend::Perf { active, .. } = &mut rings.backend {
            *active = usize::from(to_bulk);
        }
        for fd in on {
            let _ = perf::enable(fd, true);
        }
        for fd in off {
            let _ = perf::enable(fd, false);
        }
    }

    /// Reads every ring into the queue, the process table's records applied in time order
    /// with the signals'; returns how many records were read.
    fn drain(&self) -> usize {
        let mut guard = self.rings.lock().expect("rings lock");
        let Rings {
            backend,
            queue,
            buf,
            pending,
            latest,
            table,
        } = &mut *guard;
        let ctx = Drain {
            clock: perf::clock_pair(),
        };
        table.new_read();
        let mut n = 0;
        match backend {
            Backend::Perf { cpus, active } => {
                for Cpu { ring, ids, prev } in cpus.iter_mut() {
                    let (new, old) = (ids[*active], ids[1 - *active]);
                    n += ring.drain(buf, &mut |rec| {
                        let Some(sample) = decode::decode(rec, &self.layouts) else {
                            return;
                        };
                        let twin = prev
                            .as_ref()
                            .is_some_and(|p| decode::twin(p, &sample, new, old));
                        *prev = matches!(sample, Sample::Signal(_)).then(|| sample.clone());
                        if !twin {
                            pending.push(sample);
                        }
                    });
                }
            }
            Backend::Ftrace(instance) => {
                n += instance.drain(&self.layouts, &mut |s| pending.push(s));
            }
        }
        // Every sample stamped before this read began is in the rings now: a process's fork
        // and exec are written before it runs, so before any signal it sends. Later ones
        // wait for the next read, whose CPUs may still hold what came before them.
        pending.sort_by_key(Sample::time_ns);
        let ready = pending.partition_point(|s| s.time_ns() <= ctx.clock.1);
        let later = pending.split_off(ready);
        let before = queue.len();
        let mut unnamed = Vec::new();
        for sample in std::mem::replace(pending, later) {
            let sample = match backend {
                Backend::Ftrace(instance) => instance.threads.resolve(sample),
                Backend::Perf { .. } => sample,
            };
            match sample {
                Sample::Forked {
                    time_ns,
                    parent,
                    pid,
                    comm,
                } => table.forked(time_ns, parent, pid, comm),
                Sample::Exec { pid, program, .. } => table.exec(pid, program),
                Sample::Exit { time_ns, pid, comm } => table.ended(time_ns, pid, comm),
                Sample::Signal(s) => {
                    table.sent(s.time_ns, s.sender_pid);
                    if let Some((k, named)) = self.signal(s, &ctx) {
                        if named {
                            unnamed.push((queue.len(), s.sender_pid, s.time_ns));
                        }
                        queue.push(Record::Signal(k));
                    }
                }
                other => queue.extend(self.record(other, &ctx)),
            }
        }
        // Described once, with this read's ends applied: a sender that ended says so.
        for (i, pid, at) in unnamed {
            if let Record::Signal(k) = &mut queue[i] {
                k.sender = table.describe_shared(pid, at);
                if latest.len() == LATEST {
                    latest.pop_front();
                }
                latest.push_back((k.target_pid, k.sig, pid));
            }
        }
        // Bounded, whatever the reader's taker does: what it has not taken in time is lost,
        // and counted as the rings' own losses are.
        if queue.len() > QUEUE_MAX {
            let over = queue.len() - QUEUE_MAX;
            queue.drain(..over);
            queue.push(Record::Lost(over as u64));
        }
        if queue.len() > before {
            self.queued.store(true, Ordering::Release);
        }
        n
    }

    /// An OOM victim or a count of lost samples as a record, when it concerns a traced
    /// process.
    fn record(&self, s: Sample, ctx: &Drain) -> Option<Record> {
        match s {
            Sample::Lost(n) => Some(Record::Lost(n)),
            Sample::OomVictim { time_ns, pid } => Some(Record::OomVictim {
                time: ctx.stamp(time_ns),
                pid: match self.targets.group_of(pid) {
                    None if self.targets.1 => pid,
                    group => group?,
                },
            }),
            Sample::Delivered {
                time_ns,
                pid,
                tid,
                sig,
                handler,
            } => Some(Record::Delivered {
                time: ctx.stamp(time_ns),
                pid,
                tid,
                sig,
                handler: crate::event::Handler::from_raw(handler),
            }),
            _ => None,
        }
    }

    /// A signal to a traced process, when it says what ptrace does not; and whether its
    /// sender is to be named.
    fn signal(&self, s: SignalSample, ctx: &Drain) -> Option<(KernelSignal, bool)> {
        let every = self.targets.1;
        let target_pid = match self.targets.group_of(s.target) {
            None if every => s.target,
            group => group?,
        };
        let sender_traced = !every && self.targets.group_of(s.sender_tid).is_some();
        let request = s.sig == libc::SIGKILL || Signal(s.sig).is_termination_request();
        // A traced process's signals to traced processes are delivered under ptrace's eyes;
        // only what ptrace cannot see is kept (a signal storm stays cheap).
        if sender_traced && s.result == SignalResult::Delivered && !request {
            return None;
        }
        // sigtrace passing a signal on names whoever sent it to sigtrace, never itself.
        let named = crate::decode::siginfo::sent_by_process(s.code)
            && (request || !sender_traced)
            && s.sender_pid != crate::sys::own_pid();
        let k = KernelSignal {
            time: ctx.stamp(s.time_ns),
            sender_pid: s.sender_pid,
            sender_tid: s.sender_tid,
            sender: None,
            sender_traced,
            target_pid,
            target_tid: (!s.group).then_some(s.target),
            sig: s.sig,
            code: s.code,
            group: s.group,
            result: s.result,
            // Read while the target is most likely alive still: it may end soon after.
            target_ns_init: s.result == SignalResult::Ignored && procfs::ns_init(s.target),
        };
        Some((k, named))
    }
}

/// What one drain shares between its records: the clock, read once.
struct Drain {
    clock: (Stamp, u64),
}

impl Drain {
    /// A CLOCK_MONOTONIC sample time as a Stamp (wall clock and Instant of that moment).
    fn stamp(&self, time_ns: u64) -> Stamp {
        perf::stamp_at(self.clock, time_ns)
    }
}

/// The process table's answers, for whoever names a sender at a signal's delivery (the
/// tracer): a handle on the running reader.
#[derive(Clone)]
pub struct Senders(Arc<Shared>);

impl Senders {
    /// Who sent `sig` to process `target` last, as the kernel's record knows it now: for a
    /// sender whose pid the siginfo gives in another pid namespace.
    pub fn latest_sender(&self, target: i32, sig: i32) -> Option<Sender> {
        self.0.drain();
        let mut rings = self.0.rings.lock().expect("rings lock");
        let &(_, _, pid) = rings
            .latest
            .iter()
            .rev()
            .find(|&&(t, s, _)| (t, s) == (target, sig))?;
        rings.table.describe(pid, perf::monotonic_ns())
    }

    /// Process `pid` as the kernel's record knows it now (every record up to now applied),
    /// for a signal being delivered; None when nothing knows it.
    pub fn describe(&self, pid: i32) -> Option<Sender> {
        self.0.drain();
        let mut rings = self.0.rings.lock().expect("rings lock");
        rings.table.describe(pid, perf::monotonic_ns())
    }
}

impl Reader {
    /// The samples the kernel could not write so far (a full ring), as its events count them;
    /// None where the kernel does not count them (before Linux 6.0).
    pub fn lost(&self) -> Option<u64> {
        if let Backend::Ftrace(i) = &self.shared.rings.lock().expect("rings lock").backend {
            return Some(i.lost());
        }
        self.fds.iter().map(|&fd| perf::lost(fd)).sum()
    }

    /// Whether it reads a tracefs instance (else perf's rings).
    pub fn is_instance(&self) -> bool {
        let rings = self.shared.rings.lock().expect("rings lock");
        matches!(rings.backend, Backend::Ftrace(_))
    }

    /// The process table's answers, while this reader runs.
    pub fn senders(&self) -> Senders {
        Senders(self.shared.clone())
    }

    /// Every record up to now, in order: the tracer calls this before it reports a process's
    /// end, so that the signal that ended it (generated before the end) is already there.
    pub fn take(&self) -> Vec<Record> {
        self.shared.drain();
        self.take_queued()
    }

    /// The records the reader thread has queued, if any (no lock taken when there are none).
    pub fn take_queued(&self) -> Vec<Record> {
        if !self.shared.queued.swap(false, Ordering::Acquire) {
            return Vec::new();
        }
        std::mem::take(&mut self.shared.rings.lock().expect("rings lock").queue)
    }
}

impl crate::source::Source for Reader {
    fn take(&mut self, upto: crate::source::Upto, out: &mut Vec<crate::event::Event>) {
        let records = match upto {
            crate::source::Upto::Now => Reader::take(self),
            crate::source::Upto::Read => self.take_queued(),
        };
        out.extend(records.into_iter().map(|record| {
            let (pid, tid) = record.target();
            crate::event::Event {
                time: record.time(),
                pid,
                tid,
                ntasks: 0,
                kind: crate::event::EventKind::Kernel(record),
                stack: None,
                names: None,
            }
        }));
    }
}

/// The kernel's record as a source of events, with its process table's answers: the reader,
/// or (not allowed, turned off, unavailable) one notice of why it is not read.
pub fn source(wanted: bool, targets: Targets) -> (Box<dyn crate::source::Source>, Option<Senders>) {
    let started = if wanted {
        start(targets)
    } else {
        Err(Off::Disabled)
    };
    match started {
        Ok(reader) => {
            let senders = reader.senders();
            (Box::new(reader), Some(senders))
        }
        Err(off) => (
            Box::new(crate::source::Unavailable(Some(crate::event::Event {
                time: Stamp::now(),
                pid: 0,
                tid: 0,
                ntasks: 0,
                kind: crate::event::EventKind::KernelOff(off),
                stack: None,
                names: None,
            }))),
            None,
        ),
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        match &self.shared.rings.lock().expect("rings lock").backend {
            // Nothing more is written; the instance is removed after sigtrace exits.
            Backend::Ftrace(i) => i.stop(),
            // The events' last close is left to a child that outlives sigtrace (a failed fork
            // only makes sigtrace's exit slower).
            Backend::Perf { .. } => _ = crate::sys::hold_until_exit(&self.fds),
        }
        self.shared.stop.store(true, Ordering::Relaxed);
        let _ = std::io::Write::write_all(&mut self.wake, b"x");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        assert!(Off::NotPermitted.hint().contains("CAP_PERFMON"));
        assert!(Off::Disabled.hint().contains("--no-kernel-record"));
    }

    #[test]
    fn cpus_and_stamps() {
        assert!(!online_cpus().is_empty());
        let d = Drain {
            clock: perf::clock_pair(),
        };
        let t = d.stamp(perf::monotonic_ns() - 1_000_000);
        assert!(t.mono < d.clock.0.mono);
    }
}

/// As root: the records of real signals.
#[cfg(test)]
mod live {
    use super::*;
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::process::{Child, Command};

    /// A reader following a `sleep 5` of its own; None (skipped) where it cannot start.
    fn reader_and_victim() -> Option<(Reader, Child, i32)> {
        let targets = Targets::default();
        let Ok(reader) = start(targets.clone()) else {
            eprintln!("skipped: the kernel's record is not available here");
            return None;
        };
        let victim = Command::new("sleep").arg("5").spawn().unwrap();
        let pid = victim.id() as i32;
        targets.add(pid, pid);
        Some((reader, victim, pid))
    }

    /// The record of a SIGTERM sent by an untraced `kill` names it.
    #[test]
    fn names_an_untraced_sender() {
        let Some((reader, mut victim, pid)) = reader_and_victim() else {
            return;
        };
        let mut kill = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .spawn()
            .unwrap();
        victim.wait().unwrap();
        let killer = kill.id() as i32;
        // Read while `kill` is at least a zombie (not reaped yet): its /proc is still there.
        let records = reader.take();
        kill.wait().unwrap();
        let sig = records
            .iter()
            .find_map(|r| match r {
                Record::Signal(s) if s.sig == 15 => Some(s.clone()),
                _ => None,
            })
            .expect("a SIGTERM record");
        assert_eq!((sig.target_pid, sig.sender_pid), (pid, killer));
        assert_eq!(sig.result, SignalResult::Delivered);
        assert!(sig.group);
        let sender = sig.sender.expect("the sender snapshotted");
        assert_eq!(sender.comm, b"kill");
        assert_eq!(sender.uid, Some(0));
    }

    /// The record mode's reader, on an instance and on perf's rings: a signal sent by a
    /// thread of this process (made after the reader began) names this process and the thread.
    #[test]
    fn a_threads_signal_names_its_process() {
        for instance in [true, false] {
            let Ok(reader) = start_with(Targets::every(), instance) else {
                eprintln!("skipped: the kernel's record is not available here");
                return;
            };
            if instance && !reader.is_instance() {
                eprintln!("no tracefs instance here: perf's rings only");
            }
            let mut victim = Command::new("sleep").arg("5").spawn().unwrap();
            let pid = victim.id() as i32;
            let tid = std::thread::spawn(move || {
                kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
                nix::unistd::gettid().as_raw()
            })
            .join()
            .unwrap();
            victim.wait().unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            let sig = loop {
                let found = reader.take().into_iter().find_map(|r| match r {
                    Record::Signal(s) if s.sig == 15 && s.target_pid == pid => Some(s),
                    _ => None,
                });
                if let Some(s) = found {
                    break s;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "no record of the SIGTERM"
                );
                std::thread::sleep(Duration::from_millis(10));
            };
            let me = std::process::id() as i32;
            assert_ne!(tid, me);
            assert_eq!(
                (sig.sender_pid, sig.sender_tid),
                (me, tid),
                "instance: {instance}"
            );
            assert_eq!(sig.result, SignalResult::Delivered);
        }
    }

    /// A storm switches the reader to reads per millisecond and back; every record is read
    /// once.
    #[test]
    fn a_storm_is_read_whole_and_once() {
        let Some((reader, mut victim, pid)) = reader_and_victim() else {
            return;
        };
        let mut records = Vec::new();
        for round in 0..3 {
            for _ in 0..300 {
                kill(Pid::from_raw(pid), Signal::SIGCONT).unwrap();
            }
            std::thread::sleep(Duration::from_millis(if round == 1 { 120 } else { 5 }));
            records.extend(reader.take());
        }
        kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
        victim.wait().unwrap();
        records.extend(reader.take());
        let conts = records
            .iter()
            .filter(|r| matches!(r, Record::Signal(s) if s.sig == libc::SIGCONT))
            .count();
        assert_eq!(conts, 900);
        assert!(matches!(records.last(), Some(Record::Signal(s)) if s.sig == libc::SIGKILL));
    }
}
