//! Bytes of the perf ring buffer or an ftrace page's event -> typed samples: a signal_generate, signal_deliver, mark_victim, new task, exec or exit record, or a count of lost ones.

use super::tracepoint::{Layouts, TaskLayouts};
use crate::event::SignalResult;

/// PERF_RECORD_LOST and PERF_RECORD_SAMPLE (perf_event.h).
const RECORD_LOST: u32 = 2;
const RECORD_SAMPLE: u32 = 9;

/// A signal_generate sample; pids are the raw record's (the target's, init namespace) and the
/// sample header's (the sender's, in sigtrace's namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalSample {
    /// Which perf event wrote it.
    pub event: u64,
    pub time_ns: u64,
    /// The current task when the signal was generated: the sender, for a signal sent by a
    /// process (for timers and faults it is whoever ran then).
    pub sender_pid: i32,
    pub sender_tid: i32,
    pub sig: i32,
    pub code: i32,
    /// The task the signal was generated for (a thread id; the leader for kill()).
    pub target: i32,
    pub group: bool,
    pub result: SignalResult,
}

/// One sample as the kernel wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sample {
    Signal(SignalSample),
    OomVictim {
        time_ns: u64,
        pid: i32,
    },
    /// The ring buffer was full: this many samples were dropped.
    Lost(u64),
    /// A signal being delivered to task `tid` of `pid`, to this handler (the record mode).
    Delivered {
        time_ns: u64,
        pid: i32,
        tid: i32,
        sig: i32,
        handler: u64,
    },
    /// A process (not a thread) was made by `parent`; `comm` is its parent's, copied.
    Forked {
        time_ns: u64,
        parent: i32,
        pid: i32,
        comm: Vec<u8>,
    },
    /// A thread `tid` was made in process `pid` (from ftrace, whose events name threads
    /// alone; perf's filter keeps them out).
    Thread {
        time_ns: u64,
        pid: i32,
        tid: i32,
    },
    /// Process `pid` exec'd `program`.
    Exec {
        time_ns: u64,
        pid: i32,
        program: Vec<u8>,
    },
    /// Process `pid` ended (its last thread exited), named `comm` then.
    Exit {
        time_ns: u64,
        pid: i32,
        comm: Vec<u8>,
    },
}

impl Sample {
    /// When it happened; counts of lost samples sort first.
    pub fn time_ns(&self) -> u64 {
        match self {
            Sample::Signal(s) => s.time_ns,
            Sample::OomVictim { time_ns, .. }
            | Sample::Forked { time_ns, .. }
            | Sample::Exec { time_ns, .. }
            | Sample::Exit { time_ns, .. }
            | Sample::Thread { time_ns, .. }
            | Sample::Delivered { time_ns, .. } => *time_ns,
            Sample::Lost(_) => 0,
        }
    }
}

/// clone(2)'s CLONE_THREAD: the new task is a thread of its parent's process.
pub const CLONE_THREAD: u64 = 0x10000;

/// Whether `b` is `a` written a second time: while both events of the pair are enabled, the
/// `new` one writes each signal first and the `old` one right after it.
pub fn twin(a: &Sample, b: &Sample, new: u64, old: u64) -> bool {
    let (Sample::Signal(a), Sample::Signal(b)) = (a, b) else {
        return false;
    };
    let untimed = |s: &SignalSample| SignalSample {
        event: 0,
        time_ns: 0,
        ..*s
    };
    a.event == new && b.event == old && untimed(a) == untimed(b)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    u32_at(b, at).map(|v| v as i32)
}

/// Decodes one record (its perf_event_header first); None for records of other kinds.
pub fn decode(rec: &[u8], layouts: &Layouts) -> Option<Sample> {
    match u32_at(rec, 0)? {
        RECORD_LOST => Some(Sample::Lost(u64_at(rec, 16)?)),
        RECORD_SAMPLE => sample(&rec[8..], layouts),
        _ => None,
    }
}

/// PERF_SAMPLE_IDENTIFIER | TID | TIME | RAW: u64 id, u32 pid, u32 tid, u64 time, u32 size,
/// the raw record.
fn sample(b: &[u8], layouts: &Layouts) -> Option<Sample> {
    let event = u64_at(b, 0)?;
    let (pid, tid, time_ns) = (i32_at(b, 8)?, i32_at(b, 12)?, u64_at(b, 16)?);
    let size = u32_at(b, 24)? as usize;
    let raw = b.get(28..28 + size)?;
    raw_record(
        raw,
        layouts,
        Current {
            event,
            pid,
            tid,
            time_ns,
        },
    )
}

/// An ftrace event's data (the same raw record as perf's): its current task is the
/// common_pid, a thread; `Threads::resolve` puts in its process.
pub fn entry(raw: &[u8], layouts: &Layouts, time_ns: u64) -> Option<Sample> {
    let tid = i32_at(raw, 4)?;
    raw_record(
        raw,
        layouts,
        Current {
            event: 0,
            pid: tid,
            tid,
            time_ns,
        },
    )
}

/// What a record's writer says beside the raw record: which event, the current task, when.
#[derive(Clone, Copy)]
struct Current {
    event: u64,
    pid: i32,
    tid: i32,
    time_ns: u64,
}

/// A tracepoint's raw record (common_type first: the tracepoint's id) as a sample.
fn raw_record(raw: &[u8], layouts: &Layouts, at: Current) -> Option<Sample> {
    let Current {
        event,
        pid: sender_pid,
        tid: sender_tid,
        time_ns,
    } = at;
    let id = u64::from(u16_at(raw, 0)?);
    let g = &layouts.generate;
    if id == g.id {
        return Some(Sample::Signal(SignalSample {
            event,
            time_ns,
            sender_pid,
            sender_tid,
            sig: i32_at(raw, g.sig)?,
            code: i32_at(raw, g.code)?,
            target: i32_at(raw, g.pid)?,
            group: i32_at(raw, g.group)? != 0,
            result: SignalResult::from_raw(i32_at(raw, g.result)?),
        }));
    }
    if let Some(d) = layouts.deliver.filter(|d| d.id == id) {
        // signal_deliver runs in the receiving task: the sample's pid and tid are its.
        return Some(Sample::Delivered {
            time_ns,
            pid: sender_pid,
            tid: sender_tid,
            sig: i32_at(raw, d.sig)?,
            handler: u64_at(raw, d.handler)?,
        });
    }
    if let Some(v) = layouts.victim.filter(|v| v.id == id) {
        return Some(Sample::OomVictim {
            time_ns,
            pid: i32_at(raw, v.pid)?,
        });
    }
    task(raw, id, layouts.task.as_ref()?, (sender_pid, time_ns))
}

/// A process-table sample; `(pid, time)` from the header: the current task's process (the
/// parent of a new task; the process that exec'd or ended).
fn task(raw: &[u8], id: u64, t: &TaskLayouts, (pid, time_ns): (i32, u64)) -> Option<Sample> {
    if id == t.newtask.id {
        if u64_at(raw, t.newtask.flags)? & CLONE_THREAD != 0 {
            return Some(Sample::Thread {
                time_ns,
                pid,
                tid: i32_at(raw, t.newtask.pid)?,
            });
        }
        return Some(Sample::Forked {
            time_ns,
            parent: pid,
            pid: i32_at(raw, t.newtask.pid)?,
            comm: comm_at(raw, t.newtask.comm)?,
        });
    }
    if id == t.exec.id {
        // __data_loc: the string's length in the high half, its offset in the low half.
        let loc = u32_at(raw, t.exec.filename)? as usize;
        let (at, len) = (loc & 0xffff, loc >> 16);
        return Some(Sample::Exec {
            time_ns,
            pid,
            program: until_nul(raw.get(at..at + len)?),
        });
    }
    if id == t.exit.id {
        if let Some(at) = t.exit.group_dead
            && *raw.get(at)? == 0
        {
            return None;
        }
        return Some(Sample::Exit {
            time_ns,
            pid,
            comm: comm_at(raw, t.exit.comm)?,
        });
    }
    None
}

fn until_nul(b: &[u8]) -> Vec<u8> {
    b.split(|&c| c == 0).next().unwrap_or_default().to_vec()
}

fn comm_at(raw: &[u8], at: usize) -> Option<Vec<u8>> {
    Some(until_nul(raw.get(at..at + 16)?))
}

#[cfg(test)]
pub mod testing {
    /// A PERF_RECORD_SAMPLE around `raw`, as the kernel lays it out (raw padded to 8 bytes).
    pub fn sample(pid: i32, tid: i32, time: u64, raw: &[u8]) -> Vec<u8> {
        sample_of(1, pid, tid, time, raw)
    }

    /// As `sample`, written by perf event `event`.
    pub fn sample_of(event: u64, pid: i32, tid: i32, time: u64, raw: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&event.to_ne_bytes());
        body.extend_from_slice(&pid.to_ne_bytes());
        body.extend_from_slice(&tid.to_ne_bytes());
        body.extend_from_slice(&time.to_ne_bytes());
        body.extend_from_slice(&(raw.len() as u32).to_ne_bytes());
        body.extend_from_slice(raw);
        while (body.len() + 8) % 8 != 0 {
            body.push(0);
        }
        let mut rec = Vec::new();
        rec.extend_from_slice(&super::RECORD_SAMPLE.to_ne_bytes());
        rec.extend_from_slice(&0u16.to_ne_bytes());
        rec.extend_from_slice(&((body.len() + 8) as u16).to_ne_bytes());
        rec.extend(body);
        rec
    }

    /// signal_generate's raw record as 6.18 lays it out (id 261).
    pub fn generate(sig: i32, code: i32, target: i32, group: bool, result: i32) -> Vec<u8> {
        let mut raw = vec![0u8; 48];
        raw[0..2].copy_from_slice(&261u16.to_ne_bytes());
        for (at, v) in [
            (8, sig),
            (16, code),
            (36, target),
            (40, group as i32),
            (44, result),
        ] {
            raw[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        }
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::super::tracepoint::{Deliver, Exec, Exit, Generate, Layouts, NewTask, Victim};
    use super::*;

    fn layouts() -> Layouts {
        Layouts {
            generate: Generate {
                id: 261,
                sig: 8,
                code: 16,
                pid: 36,
                group: 40,
                result: 44,
            },
            victim: Some(Victim { id: 609, pid: 8 }),
            task: Some(TaskLayouts {
                newtask: NewTask {
                    id: 205,
                    pid: 8,
                    comm: 12,
                    flags: 32,
                },
                exec: Exec {
                    id: 365,
                    filename: 8,
                },
                exit: Exit {
                    id: 369,
                    comm: 8,
                    group_dead: Some(32),
                },
            }),
            deliver: Some(Deliver {
                id: 262,
                sig: 8,
                handler: 24,
            }),
        }
    }

    /// signal_deliver runs in the receiving task: the sample's pid and tid name it.
    #[test]
    fn a_delivery_sample() {
        let mut raw = vec![0u8; 40];
        raw[0..2].copy_from_slice(&262u16.to_ne_bytes());
        raw[8..12].copy_from_slice(&15i32.to_ne_bytes());
        raw[24..32].copy_from_slice(&0x5555_0000u64.to_ne_bytes());
        let rec = testing::sample(4242, 4243, 9, &raw);
        assert_eq!(
            decode(&rec, &layouts()),
            Some(Sample::Delivered {
                time_ns: 9,
                pid: 4242,
                tid: 4243,
                sig: 15,
                handler: 0x5555_0000
            })
        );
    }

    /// An ftrace event names its current task by common_pid alone (a thread, resolved later).
    #[test]
    fn an_ftrace_entry() {
        let mut raw = testing::generate(15, 0, 4242, true, 1);
        raw[4..8].copy_from_slice(&78i32.to_ne_bytes());
        let Some(Sample::Signal(s)) = entry(&raw, &layouts(), 55) else {
            panic!("a signal")
        };
        assert_eq!((s.sender_pid, s.sender_tid, s.time_ns), (78, 78, 55));
        assert_eq!(
            (s.sig, s.target, s.result),
            (15, 4242, SignalResult::Ignored)
        );
        assert_eq!(entry(&raw[..3], &layouts(), 1), None);
    }

    #[test]
    fn a_sigkill_sample() {
        let raw = testing::generate(9, 0, 4242, true, 0);
        let rec = testing::sample(77, 78, 123, &raw);
        assert_eq!(
            decode(&rec, &layouts()),
            Some(Sample::Signal(SignalSample {
                event: 1,
                time_ns: 123,
                sender_pid: 77,
                sender_tid: 78,
                sig: 9,
                code: 0,
                target: 4242,
                group: true,
                result: SignalResult::Delivered
            }))
        );
    }

    #[test]
    fn process_table_samples() {
        let mut newtask = vec![0u8; 48];
        newtask[0..2].copy_from_slice(&205u16.to_ne_bytes());
        newtask[8..12].copy_from_slice(&501i32.to_ne_bytes());
        newtask[12..16].copy_from_slice(b"bash");
        let rec = testing::sample(500, 500, 7, &newtask);
        assert_eq!(
            decode(&rec, &layouts()),
            Some(Sample::Forked {
                time_ns: 7,
                parent: 500,
                pid: 501,
                comm: b"bash".to_vec()
            })
        );
        newtask[32..40].copy_from_slice(&(CLONE_THREAD | 0x100).to_ne_bytes());
        assert_eq!(
            decode(&testing::sample(500, 500, 7, &newtask), &layouts()),
            Some(Sample::Thread {
                time_ns: 7,
                pid: 500,
                tid: 501
            }),
            "a thread"
        );
        let mut exec = vec![0u8; 20];
        exec[0..2].copy_from_slice(&365u16.to_ne_bytes());
        exec[8..12].copy_from_slice(&((14u32 << 16) | 20).to_ne_bytes());
        exec.extend_from_slice(b"/usr/bin/kill\0");
        let rec = testing::sample(501, 501, 8, &exec);
        assert_eq!(
            decode(&rec, &layouts()),
            Some(Sample::Exec {
                time_ns: 8,
                pid: 501,
                program: b"/usr/bin/kill".to_vec()
            })
        );
        let mut exit = vec![0u8; 40];
        exit[0..2].copy_from_slice(&369u16.to_ne_bytes());
        exit[8..12].copy_from_slice(b"kill");
        assert_eq!(
            decode(&testing::sample(501, 502, 9, &exit), &layouts()),
            None,
            "a thread's exit"
        );
        exit[32] = 1;
        assert_eq!(
            decode(&testing::sample(501, 502, 9, &exit), &layouts()),
            Some(Sample::Exit {
                time_ns: 9,
                pid: 501,
                comm: b"kill".to_vec()
            })
        );
    }

    #[test]
    fn victims_lost_and_others() {
        let mut raw = vec![0u8; 16];
        raw[0..2].copy_from_slice(&609u16.to_ne_bytes());
        raw[8..12].copy_from_slice(&55i32.to_ne_bytes());
        let rec = testing::sample(1, 1, 5, &raw);
        assert_eq!(
            decode(&rec, &layouts()),
            Some(Sample::OomVictim {
                time_ns: 5,
                pid: 55
            })
        );
        raw[0..2].copy_from_slice(&700u16.to_ne_bytes());
        assert_eq!(decode(&testing::sample(1, 1, 5, &raw), &layouts()), None);
        let mut lost = vec![0u8; 24];
        lost[0..4].copy_from_slice(&2u32.to_ne_bytes());
        lost[16..24].copy_from_slice(&7u64.to_ne_bytes());
        assert_eq!(decode(&lost, &layouts()), Some(Sample::Lost(7)));
        assert_eq!(decode(&rec[..20], &layouts()), None);
        let kill = |event, time| {
            let raw = testing::generate(9, 0, 4242, true, 0);
            decode(&testing::sample_of(event, 77, 78, time, &raw), &layouts()).unwrap()
        };
        assert!(twin(&kill(2, 1000), &kill(1, 1100), 2, 1));
        assert!(
            !twin(&kill(1, 1000), &kill(2, 1100), 2, 1),
            "old, new: two kills"
        );
        assert!(
            !twin(&kill(2, 1000), &kill(2, 1500), 2, 1),
            "two kills, one event"
        );
        assert!(!twin(&Sample::Lost(1), &Sample::Lost(1), 2, 1));
        assert_eq!(
            SignalResult::from_raw(2),
            SignalResult::AlreadyPending,
            "merged"
        );
    }
}
