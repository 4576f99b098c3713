//! The compact trace model behind --report and --perfetto: a collector fed the renderer's events and verdicts.

use crate::event::{Disposition, Event, EventKind, Mem};
use crate::verdict::{Outcome, Verdict};
use std::collections::HashMap;
use std::time::Duration;

/// At most this many signals are kept; the rest are only counted.
pub const MAX_SIGNALS: usize = 200_000;
/// At most this many processes are kept; the rest (and their signals) are only counted.
pub const MAX_PROCS: usize = 100_000;
/// Text kept for the page (strace lines, sender words, sentences): past this, new text is dropped.
const MAX_TEXT_BYTES: usize = 32 << 20;
/// Command lines are cut to this many bytes where one line must be short (the title, the
/// table); the whole one is kept beside.
const ARGV_BYTES: usize = 240;

/// One traced process (a thread group), from its first event to its end.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    /// The row of the parent when it is traced too.
    pub parent: Option<u32>,
    pub comm: String,
    /// Its command line (escaped, cut at an argument or saying where it is cut), or empty when
    /// no exec was seen.
    pub argv: String,
    /// The whole command line (escaped, quoted as a shell takes it back), an index into
    /// `Trace::texts`; None when only the exec's (cut) argv was seen.
    pub command: Option<u32>,
    /// Seconds since the trace's first event.
    pub start: f64,
    pub end: Option<End>,
}

/// How a process ended, as its verdict says.
#[derive(Debug, Clone)]
pub struct End {
    pub time: f64,
    /// `exited with 4`, `killed by SIGTERM (core dumped)`.
    pub outcome: String,
    pub cause: crate::verdict::Cause,
    /// The verdict's sentence.
    pub verdict: String,
    /// The sender's pid, when the verdict names one.
    pub by: Option<i32>,
}

/// One delivered signal: a compact row; its texts live in `Trace::texts`.
#[derive(Debug, Clone, Copy)]
pub struct Sig {
    pub time: f64,
    /// The receiver's row.
    pub receiver: u32,
    /// The sender's row when the sender is traced.
    pub sender: Option<u32>,
    pub signo: u8,
    pub disposition: u8,
    /// The strace line, and where it came from in words (indexes into `texts`).
    pub line: u32,
    pub from: u32,
}

pub const DISPOSITIONS: [&str; 4] = ["default", "caught", "ignored", "taken"];

/// The whole trace as the page and the Perfetto file draw it.
#[derive(Debug, Default)]
pub struct Trace {
    /// Wall-clock time of the first event (since the epoch).
    pub start: Duration,
    /// Seconds from the first event to the last.
    pub duration: f64,
    pub procs: Vec<Proc>,
    pub signals: Vec<Sig>,
    /// Interned texts; 0 is "".
    pub texts: Vec<String>,
    pub dropped_signals: u64,
    pub dropped_procs: u64,
}

/// Builds a Trace from the renderer's events and verdicts, with bounded memory.
pub struct Collector {
    trace: Trace,
    started: bool,
    /// Current row of each pid (a reused pid after an end gets a new row).
    rows: HashMap<i32, u32>,
    /// The last row of each pid that ended.
    ended: HashMap<i32, u32>,
    texts: HashMap<String, u32>,
    text_bytes: usize,
    clk_tck: u64,
}

impl Default for Collector {
    fn default() -> Self {
        Collector::new()
    }
}

impl Collector {
    pub fn new() -> Collector {
        Collector {
            trace: Trace {
                texts: vec![String::new()],
                ..Trace::default()
            },
            started: false,
            rows: HashMap::new(),
            ended: HashMap::new(),
            texts: HashMap::new(),
            text_bytes: 0,
            clk_tck: crate::sys::clock_ticks(),
        }
    }

    fn seconds(&mut self, wall: Duration) -> f64 {
        if !self.started {
            self.started = true;
            self.trace.start = wall;
        }
        let t = wall.saturating_sub(self.trace.start).as_secs_f64();
        self.trace.duration = self.trace.duration.max(t);
        t
    }

    /// Takes one event, as the renderer sees it.
    pub fn event(&mut self, ev: &Event) {
        let t = self.seconds(ev.time.wall);
        match &ev.kind {
            EventKind::Context(ctx) => {
                let Some(row) = self.row(ev.pid, t) else {
                    return;
                };
                self.set_parent(row, ctx.ppid, &ctx.comm);
                self.set_command(row, &ctx.argv);
            }
            EventKind::Signal {
                info,
                from,
                disposition,
                ..
            } => self.signal(ev, t, info, from, *disposition),
            // A successful exec: the exit carries the entry, with the argv read then (cut at
            // -s); the exec's context (read whole from /proc) comes first where it could be read.
            EventKind::SyscallExit {
                entry,
                is_error: false,
                ..
            } => {
                if let Some(row) = self.row(ev.pid, t)
                    && self.trace.procs[row as usize].command.is_none()
                    && let Some(argv) = argv_of(&entry.mem)
                {
                    self.trace.procs[row as usize].argv = argv;
                }
            }
            _ => {
                self.row(ev.pid, t);
            }
        }
    }

    /// Takes the verdict of a process that ended.
    pub fn verdict(&mut self, v: &Verdict) {
        let t = self.seconds(v.time.wall);
        let Some(row) = self.row(v.pid, t) else {
            return;
        };
        self.set_command(row, &v.argv);
        let p = &mut self.trace.procs[row as usize];
        p.comm = crate::text::escape_bytes(&v.comm);
        p.end = Some(End {
            time: t,
            outcome: outcome_text(v.outcome),
            cause: v.cause,
            verdict: adapt::sentence(v, self.clk_tck),
            by: v.by.as_ref().and_then(|(origin, _)| origin.pid()),
        });
        self.rows.remove(&v.pid);
        self.ended.insert(v.pid, row);
    }

    /// The row of `pid`, made on its first event; None past MAX_PROCS.
    fn row(&mut self, pid: i32, t: f64) -> Option<u32> {
        if let Some(&r) = self.rows.get(&pid) {
            return Some(r);
        }
        if self.trace.procs.len() >= MAX_PROCS {
            self.trace.dropped_procs += 1;
            return None;
        }
        let r = self.trace.procs.len() as u32;
        self.trace.procs.push(Proc {
            pid,
            ppid: 0,
            parent: None,
            comm: String::new(),
            argv: String::new(),
            command: None,
            start: t,
            end: None,
        });
        self.rows.insert(pid, r);
        self.ended.remove(&pid);
        Some(r)
    }

    /// Links a process to its parent; a child that has not exec'd shows its parent's argv.
    fn set_parent(&mut self, row: u32, ppid: i32, comm: &[u8]) {
        let parent = self.rows.get(&ppid).copied();
        let inherited = parent.map(|p| {
            let p = &self.trace.procs[p as usize];
            (p.argv.clone(), p.command)
        });
        let p = &mut self.trace.procs[row as usize];
        p.ppid = ppid;
        p.parent = parent;
        p.comm = crate::text::escape_bytes(comm);
        if p.argv.is_empty()
            && let Some((argv, command)) = inherited
        {
            p.argv = argv;
            p.command = command;
        }
    }

    /// Its command line as /proc had it (a context, a verdict): whole, and short.
    fn set_command(&mut self, row: u32, argv: &[Vec<u8>]) {
        if argv.is_empty() {
            return;
        }
        let whole: Vec<String> = argv.iter().map(|a| quote(a, true)).collect();
        let command = self.intern(whole.join(" "));
        let p = &mut self.trace.procs[row as usize];
        p.argv = short_line(argv, &whole);
        p.command = Some(command);
    }

    fn signal(
        &mut self,
        ev: &Event,
        t: f64,
        info: &crate::decode::siginfo::SigInfo,
        from: &crate::event::Origin,
        disposition: Disposition,
    ) {
        let Some(receiver) = self.row(ev.pid, t) else {
            return;
        };
        if self.trace.signals.len() >= MAX_SIGNALS {
            self.trace.dropped_signals += 1;
            return;
        }
        // A child's SIGCHLD comes after its end: an ended process still sends.
        let sender = adapt::sender_pid(from).and_then(|pid| {
            self.rows
                .get(&pid)
                .or_else(|| self.ended.get(&pid))
                .copied()
        });
        let line = adapt::signal_line(info, self.clk_tck);
        let words = adapt::from_words(info, from);
        let sig = Sig {
            time: t,
            receiver,
            sender,
            signo: info.signo().0.clamp(0, 255) as u8,
            disposition: match disposition {
                Disposition::Default => 0,
                Disposition::Caught => 1,
                Disposition::Ignored { .. } => 2,
                Disposition::Taken(_) => 3,
            },
            line: self.intern(line),
            from: self.intern(words),
        };
        self.trace.signals.push(sig);
    }

    fn intern(&mut self, s: String) -> u32 {
        if let Some(&i) = self.texts.get(&s) {
            return i;
        }
        if self.text_bytes + s.len() > MAX_TEXT_BYTES {
            return 0;
        }
        let i = self.trace.texts.len() as u32;
        self.text_bytes += s.len();
        self.trace.texts.push(s.clone());
        self.texts.insert(s, i);
        i
    }

    /// The trace so far, signals in time order.
    pub fn finish(mut self) -> Trace {
        self.trace.signals.sort_by(|a, b| a.time.total_cmp(&b.time));
        self.trace
    }
}

fn outcome_text(o: Outcome) -> String {
    match o {
        Outcome::Exited(c) => format!("exited with {c}"),
        Outcome::Killed { sig, core: true } => format!("killed by {sig} (core dumped)"),
        Outcome::Killed { sig, .. } => format!("killed by {sig}"),
    }
}

/// An execve's argv as one escaped line, cut.
fn argv_of(mem: &[Mem]) -> Option<String> {
    let entries = mem.iter().find_map(|m| match m {
        Mem::Argv(list, _) => Some(list),
        _ => None,
    })?;
    let mut out = String::new();
    for a in entries {
        let Some((bytes, whole)) = &a.text else { break };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&quote(bytes, *whole));
        if out.len() > ARGV_BYTES {
            let mut cut = ARGV_BYTES;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("...");
            break;
        }
    }
    Some(out)
}

/// A command line of at most about ARGV_BYTES: whole arguments while they fit; an argument that
/// does not is cut inside its quotes and closed (`'while true; do…'`), and the line then says
/// how long the whole one is.
fn short_line(argv: &[Vec<u8>], whole: &[String]) -> String {
    let mut out = String::new();
    for (i, (arg, quoted)) in argv.iter().zip(whole).enumerate() {
        let sep = usize::from(i > 0);
        if out.len() + sep + quoted.len() <= ARGV_BYTES {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(quoted);
            continue;
        }
        let room = ARGV_BYTES.saturating_sub(out.len() + sep + 3);
        if room >= 16 {
            // Not inside a UTF-8 character.
            let mut cut = room.min(arg.len());
            while cut > 0 && cut < arg.len() && arg[cut] & 0xc0 == 0x80 {
                cut -= 1;
            }
            if i > 0 {
                out.push(' ');
            }
            out.push('\'');
            out.push_str(&crate::text::escape_bytes(&arg[..cut]));
            out.push_str("…'");
        }
        let total: usize = whole.iter().map(|w| w.len() + 1).sum::<usize>() - 1;
        out.push_str(&format!(" [cut: the whole command line is {total} bytes]"));
        break;
    }
    out
}

/// One argument as a shell would take it back (`text::shell_word`); `...` after it when the
/// tracer read only its start (-s), as strace marks a cut string.
fn quote(arg: &[u8], whole: bool) -> String {
    let mut s = String::new();
    crate::text::shell_word(arg, &mut s);
    if !whole {
        s.push_str("...");
    }
    s
}

/// Where this model reads the rest of the crate: the words other modules own.
mod adapt {
    use crate::decode::siginfo::SigInfo;
    use crate::event::Origin;
    use crate::verdict::Verdict;

    /// `--- SIGTERM {si_signo=SIGTERM, ...} ---`, as the text printer writes it.
    pub fn signal_line(info: &SigInfo, clk_tck: u64) -> String {
        let mut s = format!("--- {} ", info.signo());
        crate::strace::signal::siginfo(info, clk_tck, &mut s);
        s.push_str(" ---");
        s
    }

    /// `from 4310 (kill, uid 1000) <- 4301 (bash)`, `from the kernel (SEGV_MAPERR)`.
    pub fn from_words(info: &SigInfo, from: &Origin) -> String {
        let mut s = String::new();
        crate::render::text::describe_from(info, from, &mut s);
        s
    }

    /// The pid of a sender that may be traced (not one that signalled sigtrace itself).
    pub fn sender_pid(from: &Origin) -> Option<i32> {
        match from {
            Origin::Process(s) => Some(s.pid),
            _ => None,
        }
    }

    pub fn sentence(v: &Verdict, clk_tck: u64) -> String {
        crate::render::text::summary(v, clk_tck)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::siginfo::testing::build;
    use crate::event::{ArgStr, ArgvEnd, Sender, Stamp, Syscall};
    use crate::verdict::Fold;
    use std::sync::Arc;

    fn ev(pid: i32, kind: EventKind) -> Event {
        Event {
            time: Stamp::now(),
            pid,
            tid: pid,
            ntasks: 2,
            kind,
            stack: None,
            names: None,
        }
    }

    fn context(ppid: i32, comm: &str) -> EventKind {
        EventKind::Context(Arc::new(crate::event::Context {
            comm: comm.into(),
            ppid,
            parent_comm: b"sh".to_vec(),
            pgrp: ppid,
            session: ppid,
            tty: None,
            argv: Vec::new(),
            exec: false,
            uid: None,
            cgroup: None,
        }))
    }

    #[test]
    fn a_long_command_is_whole_beside_a_short_line_cut_outside_quotes() {
        let script = format!("while true; do echo {}; done", "x".repeat(300));
        let argv: Vec<Vec<u8>> = ["sh", "-c", &script, "name"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let ctx = crate::event::Context {
            comm: b"sh".to_vec(),
            ppid: 1,
            parent_comm: b"init".to_vec(),
            pgrp: 1,
            session: 1,
            tty: None,
            argv,
            exec: false,
            uid: None,
            cgroup: None,
        };
        let t = collect(vec![ev(10, EventKind::Context(Arc::new(ctx)))]);
        let p = &t.procs[0];
        let whole = &t.texts[p.command.unwrap() as usize];
        assert!(
            whole.starts_with("sh -c 'while true; do echo xx") && whole.ends_with("; done' name")
        );
        assert!(p.argv.len() < 320, "{}", p.argv);
        assert!(
            p.argv.starts_with("sh -c 'while true; do echo"),
            "{}",
            p.argv
        );
        let (shown, said) = p.argv.split_once("…' [cut: ").unwrap();
        assert!(
            said.ends_with(&format!("{} bytes]", whole.len())),
            "{}",
            p.argv
        );
        assert_eq!(
            shown.matches('\'').count() % 2,
            1,
            "the quote is closed after the cut"
        );
    }

    fn signal(signo: i32, from: i32) -> EventKind {
        EventKind::Signal {
            info: build(signo, 0, &[(16, from as u64, 4)]),
            from: crate::event::Origin::Process(Arc::new(Sender {
                pid: from,
                uid: Some(0),
                comm: b"sh".to_vec(),
                ..Sender::default()
            })),
            reason: None,
            disposition: Disposition::Default,
        }
    }

    fn execve(args: &[&str]) -> Syscall {
        let list = args
            .iter()
            .map(|a| ArgStr {
                ptr: 1,
                text: Some((a.as_bytes().to_vec(), true)),
            })
            .collect();
        Syscall {
            nr: 59,
            args: [0; 6],
            mem: [Mem::None, Mem::Argv(list, ArgvEnd::Null), Mem::None],
        }
    }

    /// Feeds events through the verdict fold and the collector, as the renderer does.
    fn collect(events: Vec<Event>) -> Trace {
        let (mut fold, mut c) = (Fold::default(), Collector::new());
        for e in &events {
            c.event(e);
            if let Some(v) = fold.observe(e) {
                c.verdict(&v);
            }
        }
        c.finish()
    }

    #[test]
    fn processes_signals_and_senders() {
        let exit = |pid, call: Syscall| {
            let kind = EventKind::SyscallExit {
                entry: Box::new(call.clone()),
                call,
                ret: if pid == 10 { 0 } else { -2 },
                is_error: pid != 10,
            };
            ev(pid, kind)
        };
        let killed = EventKind::Killed {
            sig: crate::signal::Signal(15),
            core: false,
            comm: Some(b"sleep".as_slice().into()),
            oom: None,
            reason: None,
        };
        let t = collect(vec![
            ev(10, context(1, "sh")),
            ev(10, EventKind::SyscallEntry(execve(&["sh", "-c", "x y"]))),
            exit(10, execve(&["sh", "-c", "x y"])),
            ev(11, context(10, "sh")),
            ev(11, EventKind::SyscallEntry(execve(&["nope"]))),
            exit(11, execve(&["nope"])),
            ev(11, signal(15, 10)),
            ev(11, killed),
            ev(10, signal(17, 11)),
            ev(11, context(10, "again")),
        ]);
        assert_eq!(t.procs.len(), 3, "a reused pid is a new row");
        let (sh, child) = (&t.procs[0], &t.procs[1]);
        assert_eq!(sh.argv, "sh -c 'x y'");
        assert_eq!(
            child.argv, "sh -c 'x y'",
            "a failed exec keeps the inherited argv"
        );
        assert_eq!(child.parent, Some(0));
        let end = child.end.as_ref().unwrap();
        assert_eq!(
            (end.cause, end.by),
            (crate::verdict::Cause::ExternalSignal, Some(10))
        );
        assert_eq!(end.outcome, "killed by SIGTERM");
        let senders: Vec<_> = t.signals.iter().map(|s| (s.receiver, s.sender)).collect();
        assert_eq!(
            senders,
            [(1, Some(0)), (0, Some(1))],
            "SIGCHLD after the child's end"
        );
        assert!(t.texts[t.signals[0].line as usize].starts_with("--- SIGTERM {si_signo=SIGTERM"));
        assert_eq!(t.procs[2].parent, Some(0));
    }

    #[test]
    fn signals_past_the_cap_are_counted() {
        let mut c = Collector::new();
        for _ in 0..MAX_SIGNALS + 5 {
            c.event(&ev(7, signal(10, 7)));
        }
        let t = c.finish();
        assert_eq!((t.signals.len(), t.dropped_signals), (MAX_SIGNALS, 5));
        assert_eq!(
            t.texts.len(),
            3,
            "one strace line and one sender text, interned"
        );
    }
}
