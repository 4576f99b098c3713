//! The record and watch modes' rings: a tracefs instance of sigtrace's own, its per-CPU `trace_pipe_raw` pages parsed into the same samples as perf's, and the threads that tell a sender's process.
//!
//! Why an instance there and perf in the ptrace mode: the kernel writes an ftrace event for
//! about a third of a perf sample's cost (a storm of 200k handled signals with signal_generate
//! and signal_deliver recorded: 1.17x untraced in an instance whose pages are read, 1.46x with
//! two perf samples that nothing reads), and the record mode's promise is the program's own
//! speed. Its price: an ftrace event names the current thread, not its process (resolved
//! here, from the threads the instance's own task_newtask events show), pids from the initial
//! namespace (so only there), about 30 ms to set up (a new clock empties the buffer after an
//! RCU grace period), and an instance that outlives a killed sigtrace (removed by a waiting
//! child, else by the next run).

use super::decode::{self, Sample};
use super::tracepoint::Layouts;
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The instances of sigtrace runs are named this, then the run's pid.
const PREFIX: &str = "sigtrace-";
/// Per-CPU buffer at least (the instance's default, trace_buf_size, is 1.4 MB): 20 ms of a
/// storm of self-sent signals, both events, is about 0.5 MB.
const MIN_BUFFER_KB: u64 = 1024;
/// ring_buffer.c: a data page's commit word carries these flags above its length.
const MISSED_EVENTS: u64 = 1 << 31;
const MISSED_STORED: u64 = 1 << 30;
/// Event types (type_len) of the ring buffer's event header.
const PADDING: u32 = 29;
const TIME_EXTEND: u32 = 30;
const TIME_STAMP: u32 = 31;
/// Threads remembered at most (their exits are not recorded); past it the map starts again
/// from /proc.
const THREADS_MAX: usize = 1 << 20;

/// One CPU's `trace_pipe_raw`, opened non-blocking.
struct Cpu {
    pipe: File,
    stats: PathBuf,
}

/// A running instance (removed by the waiting child once sigtrace has exited).
pub struct Instance {
    dir: PathBuf,
    cpus: Vec<Cpu>,
    page: Vec<u8>,
    /// The thread -> process map of every task the events showed.
    pub threads: Threads,
    seeded: bool,
    /// Losses the pages themselves said (overwritten pages; none in the mode used).
    missed: u64,
}

/// The tracefs events to enable: (subsystem/event, filter).
fn events(layouts: &Layouts, generate_filter: &str) -> Vec<(String, String)> {
    let mut v = vec![(
        "signal/signal_generate".to_string(),
        generate_filter.to_string(),
    )];
    if layouts.deliver.is_some() {
        v.push((
            "signal/signal_deliver".into(),
            format!("sig != {}", libc::SIGCHLD),
        ));
    }
    if layouts.victim.is_some() {
        v.push(("oom/mark_victim".into(), String::new()));
    }
    if let Some(t) = &layouts.task {
        // Threads too: their creation tells which process a thread's events are of.
        v.push(("task/task_newtask".into(), String::new()));
        v.push(("sched/sched_process_exec".into(), String::new()));
        v.push((
            "sched/sched_process_exit".into(),
            t.exit
                .group_dead
                .map(|_| "group_dead == 1".to_string())
                .unwrap_or_default(),
        ));
    }
    v
}

/// Whether this process is in the initial pid namespace, whose pids ftrace records
/// (PROC_PID_INIT_INO is that namespace's fixed inode).
fn in_initial_pid_namespace() -> bool {
    std::fs::read_link("/proc/self/ns/pid").is_ok_and(|l| l.as_os_str() == "pid:[4026531836]")
}

impl Instance {
    /// Makes and starts an instance under tracefs `root` with these events and filters;
    /// an error (nothing left behind) where it cannot.
    pub fn start(root: &str, layouts: &Layouts, generate_filter: &str) -> Result<Instance, String> {
        if !in_initial_pid_namespace() {
            return Err("not in the initial pid namespace".into());
        }
        let instances = Path::new(root).join("instances");
        remove_stale(&instances);
        let dir = instances.join(format!("{PREFIX}{}", crate::sys::own_pid()));
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // From here on, the waiting child removes it whatever happens to this process.
        if let Err(e) = crate::sys::remove_dir_after_exit(&dir) {
            let _ = std::fs::remove_dir(&dir);
            return Err(format!("a child to remove {}: {e}", dir.display()));
        }
        let set = |file: &str, value: &str| -> Result<(), String> {
            std::fs::write(dir.join(file), value)
                .map_err(|e| format!("{}/{file}: {e}", dir.display()))
        };
        // CLOCK_MONOTONIC, as the proc connector's and perf's times; the newest events are
        // dropped, and counted, when a buffer is full (the oldest hold a process's start).
        set("trace_clock", "mono")?;
        set("options/overwrite", "0")?;
        let _ = set("buffer_percent", "0");
        let size: u64 = std::fs::read_to_string(dir.join("buffer_size_kb"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        if size < MIN_BUFFER_KB {
            set("buffer_size_kb", &MIN_BUFFER_KB.to_string())?;
        }
        for (event, filter) in events(layouts, generate_filter) {
            if !filter.is_empty() {
                // A filter only saves room in the buffer: decoding drops the rest too.
                let _ = set(&format!("events/{event}/filter"), &filter);
            }
            set(&format!("events/{event}/enable"), "1")?;
        }
        let mut cpus = Vec::new();
        for cpu in super::online_cpus() {
            let at = dir.join(format!("per_cpu/cpu{cpu}"));
            let pipe = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open(at.join("trace_pipe_raw"))
                .map_err(|e| format!("{}/trace_pipe_raw: {e}", at.display()))?;
            cpus.push(Cpu {
                pipe,
                stats: at.join("stats"),
            });
        }
        if cpus.is_empty() {
            return Err("no online CPU".into());
        }
        Ok(Instance {
            dir,
            cpus,
            page: vec![0; crate::sys::perf::page_size()],
            threads: Threads::default(),
            seeded: false,
            missed: 0,
        })
    }

    /// Stops the writing (the events stay enabled until the instance is removed).
    pub fn stop(&self) {
        let _ = std::fs::write(self.dir.join("tracing_on"), "0");
    }

    /// Hands every event now in the buffers to `f` as a sample (pids are threads' until
    /// resolved with `Threads::resolve`); returns how many there were.
    pub fn drain(&mut self, layouts: &Layouts, f: &mut dyn FnMut(Sample)) -> usize {
        if !self.seeded {
            // After the events were enabled: every thread is in /proc or in an event.
            self.threads.seed();
            self.seeded = true;
        }
        let mut n = 0;
        for cpu in &mut self.cpus {
            // Each read gives at most one page (a partly written one too), then EAGAIN.
            loop {
                let got = match cpu.pipe.read(&mut self.page) {
                    Ok(0) | Err(_) => break,
                    Ok(got) => got,
                };
                self.missed += page_events(&self.page[..got], &mut |time_ns, entry| {
                    if let Some(s) = decode::entry(entry, layouts, time_ns) {
                        n += 1;
                        f(s);
                    }
                });
            }
        }
        n
    }

    /// The events the kernel could not write (a full buffer), as its statistics count them.
    pub fn lost(&self) -> u64 {
        let counted: u64 = self
            .cpus
            .iter()
            .filter_map(|c| std::fs::read_to_string(&c.stats).ok())
            .map(|text| dropped(&text))
            .sum();
        counted + self.missed
    }
}

/// `dropped events: N` and `overrun: N` of a per-CPU stats file.
fn dropped(stats: &str) -> u64 {
    stats
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            matches!(k, "dropped events" | "overrun")
                .then(|| v.trim().parse::<u64>().ok())
                .flatten()
        })
        .sum()
}

/// Removes the instances of sigtrace runs that have ended (killed with their child), this
/// pid's included (an earlier run's, the pid reused since).
fn remove_stale(instances: &Path) {
    let Ok(dir) = std::fs::read_dir(instances) else {
        return;
    };
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // A zombie's instance is stale too: its waiting child went on at its exit.
        if pid == crate::sys::own_pid() || !crate::procfs::running(pid) {
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

/// Walks one page read from `trace_pipe_raw` (struct buffer_data_page: u64 time stamp, a
/// commit word, the events), handing each event's time (the instance's clock) and data to
/// `f`; returns how many events the page says were lost before it.
pub fn page_events(page: &[u8], f: &mut dyn FnMut(u64, &[u8])) -> u64 {
    let word = std::mem::size_of::<usize>();
    let (Some(stamp), Some(commit)) = (u64_at(page, 0), uint_at(page, 8, word)) else {
        return 0;
    };
    let data = &page[8 + word..];
    let size = ((commit & !(MISSED_EVENTS | MISSED_STORED)) as usize).min(data.len());
    let missed = if commit & MISSED_STORED != 0 {
        uint_at(data, size, word).unwrap_or(0)
    } else {
        u64::from(commit & MISSED_EVENTS != 0)
    };
    let mut time = stamp;
    let mut at = 0;
    while at + 4 <= size {
        let Some(header) = u32_at(data, at) else {
            break;
        };
        let (kind, delta) = type_and_delta(header);
        at += 4;
        let arg = u32_at(data, at);
        match kind {
            PADDING => {
                // A discarded event keeps its time; one of no length ends the page.
                time += u64::from(delta);
                match arg {
                    Some(len) if len > 0 => at += len as usize,
                    _ => break,
                }
            }
            TIME_EXTEND | TIME_STAMP => {
                let Some(ext) = arg else { break };
                let long = (u64::from(ext) << 27) | u64::from(delta);
                time = if kind == TIME_STAMP {
                    long
                } else {
                    time + long
                };
                at += 4;
            }
            0 => {
                // A long event: its length (itself included) in the first word.
                let Some(len) = arg.and_then(|l| (l as usize).checked_sub(4)) else {
                    break;
                };
                let len = (len + 3) & !3;
                time += u64::from(delta);
                if at + 4 + len > size {
                    break;
                }
                let entry = &data[at + 4..at + 4 + len];
                f(time, entry);
                at += 4 + len;
            }
            words => {
                time += u64::from(delta);
                let end = at + 4 * words as usize;
                if end > size {
                    break;
                }
                f(time, &data[at..end]);
                at = end;
            }
        }
    }
    missed
}

/// struct ring_buffer_event's first word: type_len:5, time_delta:27 (bit-fields in the
/// machine's order).
fn type_and_delta(h: u32) -> (u32, u32) {
    if cfg!(target_endian = "little") {
        (h & 31, h >> 5)
    } else {
        (h >> 27, h & ((1 << 27) - 1))
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn uint_at(b: &[u8], at: usize, size: usize) -> Option<u64> {
    if size == 8 {
        u64_at(b, at)
    } else {
        u32_at(b, at).map(u64::from)
    }
}

/// Which process each thread is of: an ftrace event names the current thread alone.
#[derive(Debug, Default)]
pub struct Threads(HashMap<i32, i32>);

impl Threads {
    /// Every thread on the host now, from /proc: called once the events are enabled, so that a
    /// thread is known either from here or from its task_newtask event, even one that sends a
    /// signal and exits before the record is read. Only threads other than a process's first
    /// are kept (a tid not in the map is its own process).
    pub fn seed(&mut self) {
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return;
        };
        for p in procs.flatten() {
            let Some(pid) = p.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(tasks) = std::fs::read_dir(p.path().join("task")) else {
                continue;
            };
            for t in tasks.flatten() {
                if let Some(tid) = t.file_name().to_str().and_then(|n| n.parse::<i32>().ok())
                    && tid != pid
                {
                    self.0.entry(tid).or_insert(pid);
                }
            }
        }
    }

    /// Thread `tid`'s process: from a creation the events showed or the threads seen at the
    /// start, else itself (a process's first thread).
    fn process_of(&mut self, tid: i32) -> i32 {
        self.0.get(&tid).copied().unwrap_or(tid)
    }

    fn remember(&mut self, tid: i32, pid: i32) {
        if tid == pid {
            self.0.remove(&tid);
            return;
        }
        if self.0.len() >= THREADS_MAX {
            // Started again from /proc: the threads alive now.
            self.0.clear();
            self.seed();
        }
        self.0.insert(tid, pid);
    }

    /// `s` with its processes in place of the threads ftrace recorded, in time order: a
    /// thread's creation is seen before anything it does.
    pub fn resolve(&mut self, s: Sample) -> Sample {
        match s {
            Sample::Signal(mut s) => {
                s.sender_pid = self.process_of(s.sender_tid);
                Sample::Signal(s)
            }
            Sample::Delivered {
                time_ns,
                tid,
                sig,
                handler,
                ..
            } => Sample::Delivered {
                time_ns,
                pid: self.process_of(tid),
                tid,
                sig,
                handler,
            },
            Sample::Forked {
                time_ns,
                parent,
                pid,
                comm,
            } => {
                // A new process: its pid is no thread's of another any more.
                self.remember(pid, pid);
                Sample::Forked {
                    time_ns,
                    parent: self.process_of(parent),
                    pid,
                    comm,
                }
            }
            Sample::Thread { time_ns, pid, tid } => {
                let pid = self.process_of(pid);
                self.remember(tid, pid);
                Sample::Thread { time_ns, pid, tid }
            }
            Sample::Exec {
                time_ns,
                pid,
                program,
            } => {
                // execve(2): the thread that exec'd takes the process's pid.
                self.remember(pid, pid);
                Sample::Exec {
                    time_ns,
                    pid,
                    program,
                }
            }
            Sample::Exit { time_ns, pid, comm } => Sample::Exit {
                time_ns,
                pid: self.process_of(pid),
                comm,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data page as the kernel writes it: time stamp, commit, events.
    fn page(stamp: u64, events: &[u8], commit_flags: u64) -> Vec<u8> {
        let mut p = stamp.to_ne_bytes().to_vec();
        p.extend_from_slice(&(events.len() as u64 | commit_flags).to_ne_bytes());
        p.extend_from_slice(events);
        p
    }

    fn header(kind: u32, delta: u32) -> [u8; 4] {
        (kind | delta << 5).to_ne_bytes()
    }

    #[test]
    fn a_page_of_events() {
        let mut ev = Vec::new();
        // A short event of 2 words, 10 ns after the page's stamp.
        ev.extend_from_slice(&header(2, 10));
        ev.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        // A time extension of 1 << 27 + 5 ns, then a long event of 3 words.
        ev.extend_from_slice(&header(TIME_EXTEND, 5));
        ev.extend_from_slice(&1u32.to_ne_bytes());
        ev.extend_from_slice(&header(0, 0));
        ev.extend_from_slice(&16u32.to_ne_bytes());
        ev.extend_from_slice(&[9; 12]);
        // A discarded event (its 8 bytes skipped, its 3 ns kept), then one word.
        ev.extend_from_slice(&header(PADDING, 3));
        ev.extend_from_slice(&8u32.to_ne_bytes());
        ev.extend_from_slice(&[0; 4]);
        ev.extend_from_slice(&header(1, 1));
        ev.extend_from_slice(&[7; 4]);
        let mut seen = Vec::new();
        let missed = page_events(&page(1000, &ev, 0), &mut |t, d| seen.push((t, d.to_vec())));
        assert_eq!(missed, 0);
        assert_eq!(
            seen,
            [
                (1010, vec![1, 2, 3, 4, 5, 6, 7, 8]),
                (1010 + (1 << 27) + 5, vec![9; 12]),
                (1010 + (1 << 27) + 5 + 3 + 1, vec![7; 4]),
            ]
        );
        // The missed events a page says were lost before it; a truncated page ends early.
        let mut lost = page(0, &ev, MISSED_EVENTS | MISSED_STORED);
        lost.extend_from_slice(&42u64.to_ne_bytes());
        assert_eq!(page_events(&lost, &mut |_, _| {}), 42);
        let mut count = 0;
        page_events(&page(0, &ev[..6], 0), &mut |_, _| count += 1);
        assert_eq!(count, 0);
        assert_eq!(page_events(&[0; 10], &mut |_, _| panic!()), 0);
    }

    #[test]
    fn stats_losses() {
        let text = "entries: 5\noverrun: 2\ncommit overrun: 0\nbytes: 10\ndropped events: 7\nread events: 3\n";
        assert_eq!(dropped(text), 9);
    }

    #[test]
    fn threads_are_told_by_their_creation() {
        let mut t = Threads::default();
        // Process 100 (known since its fork) makes thread 105, which sends a signal.
        t.resolve(Sample::Forked {
            time_ns: 1,
            parent: 1,
            pid: 100,
            comm: vec![],
        });
        t.resolve(Sample::Thread {
            time_ns: 2,
            pid: 100,
            tid: 105,
        });
        let Sample::Thread { tid: 106, pid, .. } = t.resolve(Sample::Thread {
            time_ns: 3,
            pid: 105,
            tid: 106,
        }) else {
            panic!()
        };
        assert_eq!(pid, 100, "a thread made by a thread");
        let s = decode::SignalSample {
            event: 0,
            time_ns: 4,
            sender_pid: 106,
            sender_tid: 106,
            sig: 15,
            code: 0,
            target: 1,
            group: true,
            result: crate::event::SignalResult::Delivered,
        };
        let Sample::Signal(s) = t.resolve(Sample::Signal(s)) else {
            panic!()
        };
        assert_eq!((s.sender_pid, s.sender_tid), (100, 106));
        // Pid 105 reused by a new process: its own.
        t.resolve(Sample::Forked {
            time_ns: 5,
            parent: 1,
            pid: 105,
            comm: vec![],
        });
        let Sample::Exit { pid, .. } = t.resolve(Sample::Exit {
            time_ns: 6,
            pid: 105,
            comm: vec![],
        }) else {
            panic!()
        };
        assert_eq!(pid, 105);
    }
}
