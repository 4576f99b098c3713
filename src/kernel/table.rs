//! The process table: who forked whom, what each process exec'd and when it ended, kept from the kernel's record as it happens, so that a sender gone before its signal is delivered is still named (nothing here knows of ptrace).

use crate::event::{Exited, Sender};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Ended processes kept for the senders and parent chains still to describe, at most: a
/// signal is described when its record is read or at its delivery, milliseconds after.
pub const ENDED_MAX: usize = 4096;
/// Live processes held before those /proc no longer shows are dropped (their exit record
/// lost with a full ring); then again each time the count doubles.
pub const LIVE_SWEEP: usize = 65536;
/// Steps of a parent chain, at most.
const CHAIN_MAX: usize = 32;
/// A comm's bytes at most (TASK_COMM_LEN, its NUL left out).
const COMM_MAX: usize = 15;

/// What the table knows of one process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The process that forked it (0: not known).
    pub ppid: i32,
    pub comm: Vec<u8>,
    /// The program it exec'd (empty: not seen).
    pub exe: Vec<u8>,
    /// Its real uid: read from /proc for a process older than the table, else its parent's
    /// (fork(2) copies the credentials).
    pub uid: Option<u32>,
    /// When it was forked (CLOCK_MONOTONIC ns; 0: before the table knew of it).
    start_ns: u64,
    ended_ns: Option<u64>,
    /// When it last sent a signal the kernel's record showed.
    sent_ns: Option<u64>,
}

/// What /proc adds: processes older than the table, and a live process's argv.
pub trait Proc {
    /// A live process's parent, comm and uid.
    fn read(&self, pid: i32) -> Option<Entry>;
    /// A live process's argv (empty for a zombie).
    fn argv(&self, pid: i32) -> Vec<Vec<u8>>;
    /// Whether process `pid` exists.
    fn exists(&self, pid: i32) -> bool;
}

/// /proc itself.
pub struct ProcFs;

impl Proc for ProcFs {
    fn read(&self, pid: i32) -> Option<Entry> {
        let (comm, ppid) = crate::procfs::comm_and_ppid(pid)?;
        Some(Entry {
            ppid,
            comm,
            exe: crate::procfs::exe(pid),
            uid: crate::procfs::uid(pid),
            ..Entry::default()
        })
    }

    fn argv(&self, pid: i32) -> Vec<Vec<u8>> {
        crate::procfs::argv(pid)
    }

    fn exists(&self, pid: i32) -> bool {
        crate::procfs::exists(pid)
    }
}

pub struct Table<P: Proc = ProcFs> {
    live: HashMap<i32, Entry>,
    ended: HashMap<i32, Entry>,
    /// Ended processes, oldest first: (pid, start), to forget the oldest.
    order: VecDeque<(i32, u64)>,
    proc: P,
    /// sigtrace's pid: a parent chain stops there (it is no news that sigtrace launched it).
    me: i32,
    /// How many live processes are held before the next sweep.
    sweep_at: usize,
    /// Senders described since the table last changed or the last read began: (start,
    /// ended, description). A storm's sender is read from /proc once per read, not per signal.
    described: HashMap<i32, (u64, bool, Arc<Sender>)>,
}

impl<P: Proc> Table<P> {
    pub fn new(proc: P, me: i32) -> Table<P> {
        Table {
            live: HashMap::new(),
            ended: HashMap::new(),
            order: VecDeque::new(),
            proc,
            me,
            sweep_at: LIVE_SWEEP,
            described: HashMap::new(),
        }
    }

    /// A read of the rings begins: what /proc said of a sender is read again.
    pub fn new_read(&mut self) {
        self.described.clear();
    }

    /// How many processes it holds: (live, ended).
    pub fn len(&self) -> (usize, usize) {
        (self.live.len(), self.ended.len())
    }

    /// A live process, read from /proc the first time it is needed.
    fn live_entry(&mut self, pid: i32) -> Option<&mut Entry> {
        if !self.live.contains_key(&pid) {
            let e = self.proc.read(pid)?;
            self.live.insert(pid, e);
        }
        self.live.get_mut(&pid)
    }

    /// `parent` made process `pid` (its comm, a copy of the parent's, from the record).
    pub fn forked(&mut self, time_ns: u64, parent: i32, pid: i32, comm: Vec<u8>) {
        self.described.clear();
        let (exe, uid) = match self.live_entry(parent) {
            Some(p) => (p.exe.clone(), p.uid),
            None => {
                // Gone already: known by the comm it gave its child.
                let p = Entry {
                    comm: comm.clone(),
                    ..Entry::default()
                };
                self.live.insert(parent, p);
                (Vec::new(), None)
            }
        };
        let child = Entry {
            ppid: parent,
            comm,
            exe,
            uid,
            start_ns: time_ns,
            ended_ns: None,
            sent_ns: None,
        };
        self.live.insert(pid, child);
        if self.live.len() >= self.sweep_at {
            let proc = &self.proc;
            self.live.retain(|&pid, _| proc.exists(pid));
            self.sweep_at = LIVE_SWEEP.max(2 * self.live.len());
        }
    }

    /// Process `pid` exec'd `program`: the kernel names it after the program's file.
    pub fn exec(&mut self, pid: i32, program: Vec<u8>) {
        self.described.clear();
        let base = program.rsplit(|&b| b == b'/').next().unwrap_or_default();
        let comm = base[..base.len().min(COMM_MAX)].to_vec();
        if self.live_entry(pid).is_none() {
            self.live.insert(pid, Entry::default());
        }
        let e = self.live.get_mut(&pid).expect("just inserted");
        e.comm = comm;
        e.exe = program;
    }

    /// Process `pid` sent a signal.
    pub fn sent(&mut self, time_ns: u64, pid: i32) {
        if let Some(e) = self.live.get_mut(&pid) {
            e.sent_ns = Some(time_ns);
        }
    }

    /// Process `pid` ended, named `comm` then; the oldest ended ones beyond ENDED_MAX are
    /// forgotten.
    pub fn ended(&mut self, time_ns: u64, pid: i32, comm: Vec<u8>) {
        self.described.clear();
        let mut e = self.live.remove(&pid).unwrap_or_default();
        e.comm = comm;
        e.ended_ns = Some(time_ns);
        self.order.push_back((pid, e.start_ns));
        self.ended.insert(pid, e);
        while self.order.len() > ENDED_MAX {
            let Some((pid, start)) = self.order.pop_front() else {
                break;
            };
            if self.ended.get(&pid).is_some_and(|e| e.start_ns == start) {
                self.ended.remove(&pid);
            }
        }
    }

    /// Process `pid` as it was at `at_ns`, as far as the table knows it: the live one unless
    /// it was forked after that (the pid was reused), then the one that ended.
    fn known(&self, pid: i32, at_ns: u64) -> Option<&Entry> {
        match self.live.get(&pid) {
            Some(e) if e.start_ns <= at_ns => Some(e),
            Some(_) => self.ended.get(&pid).filter(|e| e.start_ns <= at_ns),
            None => self.ended.get(&pid),
        }
    }

    /// The same, a live one unknown so far read from /proc.
    fn at(&mut self, pid: i32, at_ns: u64) -> Option<Entry> {
        if self.live.contains_key(&pid) || self.ended.contains_key(&pid) {
            return self.known(pid, at_ns).cloned();
        }
        self.live_entry(pid).cloned()
    }

    /// `describe`, shared by every signal the same sender sent since the table last changed
    /// and the last read began.
    pub fn describe_shared(&mut self, pid: i32, at_ns: u64) -> Option<Arc<Sender>> {
        let life = |t: &Self| {
            t.known(pid, at_ns)
                .map(|e| (e.start_ns, e.ended_ns.is_some()))
        };
        if let (Some(key), Some((start, ended, s))) = (life(self), self.described.get(&pid))
            && key == (*start, *ended)
        {
            return Some(s.clone());
        }
        let s = Arc::new(self.describe(pid, at_ns)?);
        if let Some((start, ended)) = life(self) {
            self.described.insert(pid, (start, ended, s.clone()));
        }
        Some(s)
    }

    /// The sender `pid` of a signal sent at `at_ns`: its comm, program, uid and parent chain
    /// from the table, its argv from /proc while it lives; None when nothing knows it.
    pub fn describe(&mut self, pid: i32, at_ns: u64) -> Option<Sender> {
        let e = self.at(pid, at_ns)?;
        let mut exited = e.ended_ns.map(|end| Exited {
            after_sending: e
                .sent_ns
                .filter(|&s| s <= end)
                .map(|s| Duration::from_nanos(end - s)),
        });
        let mut argv = Vec::new();
        if exited.is_none() {
            // A zombie's is empty; one gone since the last read has none.
            argv = self.proc.argv(pid);
            if argv.is_empty() {
                exited = Some(Exited {
                    after_sending: None,
                });
            }
        }
        Some(Sender {
            pid,
            uid: e.uid,
            comm: e.comm,
            argv,
            exe: e.exe,
            ancestry: self.chain(e.ppid, at_ns),
            exited,
        })
    }

    /// The parent chain from `ppid` up to pid 1 or sigtrace: (pid, comm).
    fn chain(&mut self, mut ppid: i32, at_ns: u64) -> Vec<(i32, Vec<u8>)> {
        let mut chain = Vec::new();
        while ppid > 0 && chain.len() < CHAIN_MAX {
            let Some(e) = self.at(ppid, at_ns) else {
                break;
            };
            chain.push((ppid, e.comm));
            if ppid == 1 || ppid == self.me {
                break;
            }
            ppid = e.ppid;
        }
        chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A /proc that holds only the processes given; counts the argv reads.
    #[derive(Default)]
    struct Fake(HashMap<i32, (Entry, &'static str)>, std::cell::Cell<usize>);

    impl Proc for Fake {
        fn read(&self, pid: i32) -> Option<Entry> {
            self.0.get(&pid).map(|(e, _)| e.clone())
        }
        fn argv(&self, pid: i32) -> Vec<Vec<u8>> {
            self.1.set(self.1.get() + 1);
            self.0.get(&pid).map_or_else(Vec::new, |(_, c)| {
                c.split(' ').map(|a| a.as_bytes().to_vec()).collect()
            })
        }
        fn exists(&self, pid: i32) -> bool {
            self.0.contains_key(&pid)
        }
    }

    fn proc_with(list: &[(i32, i32, &str, &'static str)]) -> Fake {
        let mut f = Fake::default();
        for &(pid, ppid, comm, cmdline) in list {
            let e = Entry {
                ppid,
                comm: comm.as_bytes().to_vec(),
                uid: Some(1000),
                ..Entry::default()
            };
            f.0.insert(pid, (e, cmdline));
        }
        f
    }

    fn chain(s: &Sender) -> Vec<(i32, String)> {
        s.ancestry
            .iter()
            .map(|(p, c)| (*p, String::from_utf8_lossy(c).into_owned()))
            .collect()
    }

    /// bash (older than the table) forks a kill, which sends and exits before anyone asks.
    #[test]
    fn a_sender_gone_before_it_is_described() {
        let proc = proc_with(&[
            (1, 0, "systemd", "/sbin/init"),
            (40, 1, "bash", "bash x.sh"),
        ]);
        let mut t = Table::new(proc, 999);
        t.forked(100, 40, 41, b"bash".to_vec());
        t.exec(41, b"/usr/bin/kill".to_vec());
        t.sent(200, 41);
        t.ended(500, 41, b"kill".to_vec());
        let s = t.describe(41, 200).expect("named");
        assert_eq!(s.comm, b"kill");
        assert_eq!(s.exe, b"/usr/bin/kill");
        assert_eq!(s.uid, Some(1000), "inherited from bash");
        assert!(s.argv.is_empty(), "no argv for a process gone");
        assert_eq!(
            s.exited,
            Some(Exited {
                after_sending: Some(Duration::from_nanos(300))
            })
        );
        assert_eq!(chain(&s), [(40, "bash".into()), (1, "systemd".into())]);
        // A parent gone before its fork was read is known by the comm it gave its child; a
        // live sender whose /proc is gone already has ended.
        t.forked(600, 77, 78, b"deploy.sh".to_vec());
        let s = t.describe(78, 700).unwrap();
        assert_eq!(chain(&s), [(77, "deploy.sh".into())]);
        assert_eq!(
            s.exited,
            Some(Exited {
                after_sending: None
            })
        );
    }

    #[test]
    fn a_live_sender_has_its_argv_and_a_reused_pid_is_not_mistaken() {
        let proc = proc_with(&[(40, 1, "bash", "bash"), (41, 40, "kill", "kill -TERM 9")]);
        let mut t = Table::new(proc, 999);
        t.forked(100, 40, 41, b"bash".to_vec());
        t.exec(41, b"/bin/kill".to_vec());
        let s = t.describe(41, 150).unwrap();
        assert_eq!(
            (s.argv.join(&b' '), s.exited),
            (b"kill -TERM 9".to_vec(), None)
        );
        t.ended(300, 41, b"kill".to_vec());
        // pid 41 again, a new process: a signal sent at 200 was the kill's.
        t.forked(400, 40, 41, b"bash".to_vec());
        assert_eq!(t.describe(41, 200).unwrap().comm, b"kill");
        assert_eq!(t.describe(41, 450).unwrap().comm, b"bash");
    }

    /// A storm's sender is read from /proc once per read; a change in the table, or the
    /// next read, describes it afresh; a reused pid is never given the old description.
    #[test]
    fn a_storm_sender_is_described_once_per_read() {
        let proc = proc_with(&[(40, 1, "bash", "bash"), (41, 40, "storm", "storm 9")]);
        let mut t = Table::new(proc, 999);
        t.forked(100, 40, 41, b"bash".to_vec());
        let first = t.describe_shared(41, 150).unwrap();
        for at in 151..200 {
            assert!(Arc::ptr_eq(&first, &t.describe_shared(41, at).unwrap()));
        }
        assert_eq!(t.proc.1.get(), 1);
        t.new_read();
        let again = t.describe_shared(41, 250).unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(t.proc.1.get(), 2);
        t.exec(41, b"/bin/kill".to_vec());
        assert_eq!(t.describe_shared(41, 260).unwrap().exe, b"/bin/kill");
        t.ended(300, 41, b"kill".to_vec());
        t.forked(400, 40, 41, b"bash".to_vec());
        assert_eq!(t.describe_shared(41, 450).unwrap().comm, b"bash");
        assert_eq!(t.describe_shared(41, 280).unwrap().comm, b"kill");
    }

    #[test]
    fn chains_stop_at_sigtrace_and_memory_is_bounded() {
        let proc = proc_with(&[(1, 0, "init", ""), (9, 1, "bash", "")]);
        let mut t = Table::new(proc, 10);
        t.forked(1, 9, 10, b"bash".to_vec());
        t.exec(10, b"/usr/bin/sigtrace".to_vec());
        t.forked(2, 10, 11, b"sigtrace".to_vec());
        t.exec(11, b"/bin/sh".to_vec());
        t.forked(3, 11, 12, b"sh".to_vec());
        assert_eq!(
            chain(&t.describe(12, 3).unwrap()),
            [(11, "sh".into()), (10, "sigtrace".into())]
        );
        for pid in 1000..1000 + ENDED_MAX as i32 + 10 {
            t.forked(5, 11, pid, b"x".to_vec());
            t.ended(6, pid, b"x".to_vec());
        }
        assert_eq!(t.len(), (4, ENDED_MAX));
        assert!(t.describe(1000, 5).is_none(), "the oldest forgotten");
        assert_eq!(t.describe(999, 5), None, "unknown to the table and /proc");
        // Processes whose end was never read (lost with a full ring) go when /proc has none.
        for pid in 100_000..100_000 + LIVE_SWEEP as i32 {
            t.forked(7, 11, pid, b"x".to_vec());
        }
        assert!(t.len().0 < 10, "{:?}", t.len());
    }
}
