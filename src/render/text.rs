//! The text printer: strace's lines (pid prefixes, timestamps, ends and stops, chatter) and sigtrace's sentences (senders, dispositions, verdicts).

use crate::decode::siginfo::SigInfo;
use crate::event::reason::KernelReason;
use crate::event::{
    Clock, Disposition, Event, EventKind, Note, Oom, Origin, Sender, Source, Stamp,
};
use crate::signal::{DefaultAction, Signal, SignalSet};
use crate::strace::args;
use crate::strace::signal::siginfo_named;
use crate::syscalls::spec;
use crate::text::{escape_bytes, escape_bytes_cut};
use crate::verdict::{Cause, Outcome, SignalRecord, Verdict};
use std::fmt::Write;
use std::time::Instant;

pub struct TextFormat {
    pub clock: Clock,
    /// -r: time since the previous line.
    pub relative: bool,
    pub signals: SignalSet,
    /// `N     ` columns (-o with -f or several tasks) instead of `[pid N] `.
    pub pid_column: bool,
    /// Trace lines go to a file (strace then never prints `[pid N] `).
    pub to_file: bool,
    /// The file is one task's (-ff): no pid on any line.
    one_task: bool,
    pub clk_tck: u64,
    /// ANSI colours (a terminal, --color).
    pub color: bool,
    /// The summary table ends the trace (-f, -c).
    table: bool,
    /// -qq: no `+++ exited with N +++` lines.
    quiet_exits: bool,
    /// --watch: each verdict a line of its own, with its time and cgroup.
    watch: bool,
    last: Option<Instant>,
    /// The task whose syscall line is still open (entry seen, exit not yet), the part of that
    /// line not written yet, and the length of the part written.
    open: Option<(i32, u32)>,
    pending: String,
    col: usize,
    /// How many tasks were traced at the open line's entry.
    ntasks: usize,
    /// The senders whose command line a line has shown (pid, a hash of the command line):
    /// later lines name them by comm, the whole command line once per process is enough.
    shown_cmdlines: std::collections::HashSet<(i32, u64)>,
}

/// Senders remembered in `shown_cmdlines` at most (then forgotten, and shown once more).
const SHOWN_CMDLINES: usize = 4096;

/// strace pads a syscall's `= result` to this column.
const RESULT_COLUMN: usize = 40;

impl TextFormat {
    pub fn new(o: &super::Options) -> Self {
        TextFormat {
            clock: o.clock,
            relative: o.relative,
            signals: o.signals,
            quiet_exits: o.quiet_exits,
            pid_column: o.pid_column,
            to_file: o.to_file,
            one_task: false,
            clk_tck: crate::sys::clock_ticks(),
            color: o.color,
            table: o.summary != super::Summary::None,
            watch: o.watch,
            last: None,
            open: None,
            pending: String::new(),
            col: 0,
            ntasks: 0,
            shown_cmdlines: Default::default(),
        }
    }

    /// The printer of one task's own file (-ff): no pid column, no colour.
    pub fn for_one_task(o: &super::Options) -> Self {
        TextFormat {
            one_task: true,
            to_file: true,
            pid_column: false,
            color: false,
            ..TextFormat::new(o)
        }
    }

    /// Formats one event into `out`; false when it is filtered out or is chatter. A syscall's
    /// entry leaves its line open; any other line first closes it with ` <unfinished ...>`, and
    /// its exit then starts a `<... NAME resumed>` line, as strace does.
    pub fn line(&mut self, ev: &Event, out: &mut String) -> bool {
        let shown = match &ev.kind {
            EventKind::Signal { info, .. } => self.signals.contains(info.signo()),
            EventKind::Stopped(sig) | EventKind::Killed { sig, .. } => self.signals.contains(*sig),
            EventKind::Note(_)
            | EventKind::SignalSent { .. }
            | EventKind::Kernel(_)
            | EventKind::KernelOff(_)
            | EventKind::End { .. } => false,
            EventKind::Context(ctx) => !ctx.exec,
            EventKind::Exited { .. } => !self.quiet_exits,
            _ => true,
        };
        if !shown {
            return false;
        }
        let start = match &ev.kind {
            EventKind::SyscallExit { call, .. } => self.resume(ev, call.nr, out),
            EventKind::SyscallNoReturn { entry } => self.resume(ev, entry.nr, out),
            EventKind::LetGo { nr } => {
                self.resume(ev, *nr, out);
                out.push_str(" <detached ...>\n");
                return true;
            }
            EventKind::Context(ctx) => {
                self.close_open(out);
                context(ev.pid, ctx, out);
                return true;
            }
            EventKind::Relayed { sig, from, passed } => {
                self.close_open(out);
                relayed(*sig, from, passed, out);
                return true;
            }
            // Taken by a call whose own line shows it: only sigtrace's line.
            EventKind::Signal {
                info,
                from,
                disposition: d @ Disposition::Taken(_),
                reason,
            } => {
                self.close_open(out);
                let line = out.len();
                annotation(info, from, *d, reason.as_ref(), out);
                self.paint(out, line, Paint::Note);
                out.push('\n');
                return true;
            }
            _ => {
                self.close_open(out);
                let start = out.len();
                self.leader(ev, out);
                start
            }
        };
        if let EventKind::SyscallEntry(call) = &ev.kind {
            args::entry(&spec(call.nr), call, self.clk_tck, ev.names.as_deref(), out);
            self.open = Some((ev.tid, call.nr));
            self.pending.clear();
            self.pending.push_str(&out[start..]);
            out.truncate(start);
            self.col = 0;
            self.ntasks = ev.ntasks;
            return true;
        }
        self.body(ev, start, out);
        out.push('\n');
        if matches!(
            ev.kind,
            EventKind::SyscallExit { .. } | EventKind::SyscallNoReturn { .. }
        ) {
            stack_lines(ev, out);
        }
        true
    }

    /// What follows the leader on a line that this event completes.
    fn body(&mut self, ev: &Event, start: usize, out: &mut String) {
        match &ev.kind {
            EventKind::Signal {
                info,
                from,
                disposition,
                reason,
            } => self.signal(ev, info, from, *disposition, reason.as_ref(), out),
            EventKind::Stopped(sig) => {
                let _ = write!(out, "--- stopped by {sig} ---");
            }
            EventKind::Exited { code, .. } => {
                let _ = write!(out, "+++ exited with {code} +++");
            }
            EventKind::Killed { sig, core, .. } => {
                let line = out.len();
                let core = if *core { "(core dumped) " } else { "" };
                let _ = write!(out, "+++ killed by {sig} {core}+++");
                self.paint(out, line, Paint::Death);
            }
            EventKind::Superseded { old_tid } => {
                let _ = write!(out, "+++ superseded by execve in pid {old_tid} +++");
            }
            EventKind::SyscallExit {
                call,
                ret,
                is_error,
                ..
            } => {
                let spec = spec(call.nr);
                let names = ev.names.as_deref();
                args::exit(&spec, call, self.clk_tck, names, out);
                self.result_column(start, out);
                args::ret(&spec, *ret, *is_error, names, out);
            }
            EventKind::SyscallNoReturn { entry } => {
                if !spec(entry.nr).exit.is_empty() {
                    out.push_str("...");
                }
                self.result_column(start, out);
                out.push('?');
            }
            EventKind::SyscallEntry(_)
            | EventKind::LetGo { .. }
            | EventKind::Note(_)
            | EventKind::Context(_)
            | EventKind::Relayed { .. }
            | EventKind::End { .. }
            | EventKind::SignalSent { .. }
            | EventKind::Kernel(_)
            | EventKind::KernelOff(_) => unreachable!("handled by line"),
        }
    }

    /// `--- SIGTERM {...} ---`, then the line saying what it does and who sent it.
    fn signal(
        &mut self,
        ev: &Event,
        info: &SigInfo,
        from: &Origin,
        d: Disposition,
        reason: Option<&KernelReason>,
        out: &mut String,
    ) {
        let line = out.len();
        let _ = write!(out, "--- {} ", info.signo());
        siginfo_named(info, self.clk_tck, ev.names.as_deref(), out);
        out.push_str(" ---");
        self.paint(out, line, Paint::Signal);
        out.push('\n');
        if let Some(stack) = &ev.stack {
            crate::stack::write_stack(out, stack);
        }
        let line = out.len();
        match self.once(from) {
            Some(short) => annotation(info, &short, d, reason, out),
            None => annotation(info, from, d, reason, out),
        }
        self.paint(out, line, Paint::Note);
    }

    /// A sender whose command line an earlier line showed, with its comm instead (None: show
    /// it whole, this once).
    fn once(&mut self, from: &Origin) -> Option<Origin> {
        let Origin::Process(s) = from else {
            return None;
        };
        if s.argv.is_empty() || s.comm.is_empty() {
            return None;
        }
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        s.argv.hash(&mut h);
        if self.shown_cmdlines.len() >= SHOWN_CMDLINES {
            self.shown_cmdlines.clear();
        }
        if self.shown_cmdlines.insert((s.pid, h.finish())) {
            return None;
        }
        let mut short = (**s).clone();
        short.argv.clear();
        Some(Origin::Process(std::sync::Arc::new(short)))
    }

    /// Continues this task's open syscall line, or starts `<... NAME resumed>`. Returns where
    /// this event's part of the line starts in `out`; `col` holds what the line had before.
    fn resume(&mut self, ev: &Event, nr: u32, out: &mut String) -> usize {
        if self.open == Some((ev.tid, nr)) {
            self.open = None;
            let start = out.len();
            out.push_str(&self.pending);
            self.pending.clear();
            return start;
        }
        self.close_open(out);
        let start = out.len();
        self.leader(ev, out);
        let _ = write!(out, "<... {} resumed>", spec(nr).name);
        self.col = 0;
        start
    }

    /// Ends the open syscall line with ` <unfinished ...>`, if any: another line comes first.
    pub fn close_open(&mut self, out: &mut String) {
        if self.open.take().is_some() {
            out.push_str(&self.pending);
            self.pending.clear();
            out.push_str(" <unfinished ...>\n");
            self.col = 0;
        }
    }

    /// Nothing more to write for now (the tracer waits for the next stop): the open syscall
    /// line is written so far, as strace writes it; with `whole`, where another traced task
    /// may write in the meantime, it is ended with ` <unfinished ...>` instead.
    pub fn idle(&mut self, whole: bool, out: &mut String) {
        if self.open.is_none() {
            return;
        }
        if whole && self.ntasks > 1 {
            return self.close_open(out);
        }
        self.col += self.pending.len();
        out.push_str(&self.pending);
        self.pending.clear();
    }

    /// `) `, spaces up to column 40, `= `.
    fn result_column(&mut self, start: usize, out: &mut String) {
        out.push_str(") ");
        let col = self.col + out.len() - start;
        if col < RESULT_COLUMN {
            out.extend(std::iter::repeat_n(' ', RESULT_COLUMN - col));
        }
        out.push_str("= ");
        self.col = 0;
    }

    /// strace's printleader: pid prefix, then timestamps.
    fn leader(&mut self, ev: &Event, out: &mut String) {
        // Once two tasks are traced, a file's lines carry their pid to the end, as strace's
        // do with -o and several processes: two threads' `exit(0) = ?` must tell apart.
        self.pid_column |= self.to_file && ev.ntasks > 1 && !self.one_task;
        let own = ev
            .names
            .as_ref()
            .and_then(|n| n.own.as_deref())
            .unwrap_or("");
        if self.pid_column {
            let _ = write!(out, "{:<5} ", format!("{}{own}", ev.tid));
        } else if ev.ntasks > 1 && !self.to_file {
            let _ = write!(out, "[pid {:>5}{own}] ", ev.tid);
        }
        self.stamp(ev.time, out);
    }

    fn stamp(&mut self, t: Stamp, out: &mut String) {
        let secs = t.wall.as_secs();
        let micros = t.wall.subsec_micros();
        match self.clock {
            Clock::None => {}
            Clock::Seconds | Clock::Micros => {
                let (h, m, s) = crate::sys::local_hms(secs as i64);
                let _ = write!(out, "{h:02}:{m:02}:{s:02}");
                if self.clock == Clock::Micros {
                    let _ = write!(out, ".{micros:06}");
                }
                out.push(' ');
            }
            Clock::Epoch => {
                let _ = write!(out, "{secs}.{micros:06} ");
            }
        }
        if self.relative {
            let d = self
                .last
                .map(|l| t.mono.saturating_duration_since(l))
                .unwrap_or_default();
            self.last = Some(t.mono);
            let (open, close) = if self.clock == Clock::None {
                ("", " ")
            } else {
                ("(+", ") ")
            };
            let _ = write!(
                out,
                "{open}{:6}.{:06}{close}",
                d.as_secs(),
                d.subsec_micros()
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Paint {
    Signal,
    Death,
    Note,
    Verdict,
}

impl TextFormat {
    /// Colours `out[from..]` when writing to a terminal.
    fn paint(&self, out: &mut String, from: usize, how: Paint) {
        use owo_colors::OwoColorize;
        if !self.color || from >= out.len() {
            return;
        }
        let text = out.split_off(from);
        let _ = match how {
            Paint::Signal => write!(out, "{}", text.yellow()),
            Paint::Death => write!(out, "{}", text.red()),
            Paint::Note => write!(out, "{}", text.cyan()),
            Paint::Verdict => write!(out, "{}", text.bold()),
        };
    }

    /// `sigtrace: 4242 (java) exited with 143 after SIGTERM from ...: external signal, handled`.
    pub fn verdict(&mut self, v: &Verdict, out: &mut String) {
        if self.watch {
            return self.watched(v, out);
        }
        self.close_open(out);
        let line = out.len();
        let _ = write!(
            out,
            "sigtrace: {} ({}) {}",
            v.pid,
            escape_bytes(&v.comm),
            summary(v, self.clk_tck)
        );
        self.paint(out, line, Paint::Verdict);
        out.push('\n');
        if let Some(stack) = &v.stack {
            crate::stack::write_stack(out, stack);
        }
    }
}

impl TextFormat {
    /// `12:03:11 4242 (java, uid 1000, cgroup /system.slice/app.service) killed by ...`: a
    /// watch's line, the time of day first (-tt, -ttt as given).
    fn watched(&mut self, v: &Verdict, out: &mut String) {
        let line = out.len();
        if self.clock == Clock::None {
            self.clock = Clock::Seconds;
        }
        self.stamp(v.time, out);
        let _ = write!(out, "{} ({}", v.pid, escape_bytes(&v.comm));
        if let Some(uid) = v.uid {
            let _ = write!(out, ", uid {uid}");
        }
        if let Some(g) = v.cgroup.as_deref().filter(|g| *g != "/") {
            let _ = write!(out, ", cgroup {}", escape_bytes(g.as_bytes()));
        }
        let _ = write!(out, ") {}", summary(v, self.clk_tck));
        self.paint(out, line, Paint::Verdict);
        out.push('\n');
    }
}

impl super::Printer for TextFormat {
    fn event(&mut self, ev: &Event, out: &mut String) {
        self.line(ev, out);
    }

    fn verdict(&mut self, v: &Verdict, out: &mut String) {
        TextFormat::verdict(self, v, out);
    }

    fn note(&mut self, ev: &Event, n: &Note, out: &mut String) -> super::Chatter {
        // Chatter goes to stderr: where the trace goes too, it never lands inside a line.
        if !self.to_file {
            self.close_open(out);
        }
        note(ev, n, out);
        super::Chatter::Stderr
    }

    /// The text's end says only what was lost (the table, or the verdict, said the rest).
    fn end(&mut self, ev: &Event, _: Option<&Verdict>, out: &mut String) {
        // A watch says its losses on stderr as they come: its output holds verdicts only.
        if let EventKind::End { lost, .. } = &ev.kind
            && lost.any()
            && !self.watch
        {
            self.close_open(out);
            let _ = writeln!(
                out,
                "sigtrace: lost {} records of the kernel's record and {} proc connector messages (a full buffer): the trace has gaps there",
                lost.records, lost.messages
            );
        }
    }

    fn ends_with_table(&self) -> bool {
        self.table
    }

    fn idle(&mut self, whole: bool, out: &mut String) {
        TextFormat::idle(self, whole, out);
    }
}

/// With -k, strace's ` > module(symbol+0xoff) [0xaddr]` lines after the line they explain.
fn stack_lines(ev: &Event, out: &mut String) {
    if let Some(stack) = &ev.stack {
        crate::stack::write_stack(out, stack);
    }
}

/// Every output's words for a sender: `4310 (kill -TERM 4242, uid 1000) <- 4301 (bash) <- 1
/// (systemd)`; one that had ended, named from the kernel's record: `4310 (kill, /usr/bin/kill,
/// uid 1000; exited 0.3 ms after sending) <- ...`; one nothing could read: `4310 (uid 1000;
/// exited before it could be read)`.
pub fn describe_sender(s: &Sender, out: &mut String) {
    let mut parts = Vec::new();
    if !s.argv.is_empty() {
        // A command line can be as long as the kernel allows: the line shows its start.
        parts.push(crate::text::shell_words(&s.argv, 200));
    } else if !s.comm.is_empty() {
        parts.push(escape_bytes(&s.comm));
        if !s.exe.is_empty() {
            parts.push(escape_bytes_cut(&s.exe, 200));
        }
    }
    if let Some(uid) = s.uid {
        parts.push(format!("uid {uid}"));
    }
    let _ = write!(out, "{} ({}", s.pid, parts.join(", "));
    if let Some(e) = s.exited {
        let when = match e.after_sending {
            Some(d) => format!("exited {} after sending", span(d.as_secs_f64())),
            None if s.is_unread() => "exited before it could be read".to_string(),
            None => "exited".to_string(),
        };
        let sep = if parts.is_empty() { "" } else { "; " };
        let _ = write!(out, "{sep}{when}");
    }
    out.push(')');
    for (pid, comm) in &s.ancestry {
        let _ = write!(out, " <- {pid} ({})", escape_bytes(comm));
    }
}

/// A sender in a few words, for a table's column: `4310 (kill)`, `4310 (kill; exited)`,
/// `4310 (exited before it could be read)`: `describe_sender`'s start.
pub fn short_sender(s: &Sender) -> String {
    if s.is_unread() {
        return format!("{} (exited before it could be read)", s.pid);
    }
    let ended = if s.exited.is_some() { "; exited" } else { "" };
    format!("{} ({}{ended})", s.pid, escape_bytes(&s.comm))
}

/// Where a signal came from, in words.
pub fn describe_from(info: &SigInfo, from: &Origin, out: &mut String) {
    match from {
        Origin::NoSender if crate::verdict::terminal_signal(info) => {
            out.push_str("from the terminal")
        }
        Origin::NoSender => {
            let _ = write!(out, "from the kernel ({})", code_text(info));
        }
        _ => describe_origin(from, out),
    }
}

/// A sending process, in words (`from the kernel` when there is none).
pub fn describe_origin(from: &Origin, out: &mut String) {
    match from {
        Origin::Process(s) => {
            out.push_str("from ");
            describe_sender(s, out);
        }
        Origin::PassedOn(s) => {
            out.push_str("from ");
            describe_sender(s, out);
            out.push_str(", sent to sigtrace, which passed it on");
        }
        Origin::OtherNamespace { uid } => {
            let _ = write!(
                out,
                "from a process outside the receiver's pid namespace (uid {uid})"
            );
        }
        Origin::Untranslated { pid, uid } => {
            let _ = write!(
                out,
                "from pid {pid} in the receiver's pid namespace (uid {uid}; no such process seen from sigtrace's)"
            );
        }
        Origin::NoSender => out.push_str("from the kernel"),
    }
}

/// `sigtrace: SIGTERM from 4310 (kill ...) to sigtrace: passed on to the command`.
fn relayed(sig: Signal, from: &Origin, passed: &Result<(), &'static str>, out: &mut String) {
    let _ = write!(out, "sigtrace: {sig} ");
    describe_origin(from, out);
    out.push_str(" to sigtrace: ");
    let _ = match passed {
        Ok(()) => writeln!(out, "passed on to the command"),
        Err(why) => writeln!(out, "not passed on: {why}"),
    };
}

fn code_text(info: &SigInfo) -> String {
    match crate::strace::signal::code_name(info.code(), info.signo()) {
        Some(n) => n.to_string(),
        None => format!("si_code {}", info.code()),
    }
}

fn outcome_text(o: Outcome) -> String {
    match o {
        Outcome::Exited(c) => format!("exited with {c}"),
        Outcome::Killed { sig, core: true } => format!("killed by {sig} (core dumped)"),
        Outcome::Killed { sig, .. } => format!("killed by {sig}"),
    }
}

/// One sentence, e.g. `killed by SIGTERM from 4310 (kill, uid 1000): external signal`; `tck`
/// is the clock tick for a kill call's siginfo.
pub fn summary(v: &Verdict, tck: u64) -> String {
    let mut s = outcome_text(v.outcome);
    match (&v.trigger, &v.by, v.outcome) {
        (Some(t), _, _) => trigger(v, t, &mut s),
        // A SIGKILL, known from the traced call that sent it or from the kernel's record.
        (None, Some(by @ (Origin::Process(_), _)), Outcome::Killed { sig, .. }) => {
            let _ = write!(s, " after {sig} ");
            describe_by(by, &mut s);
        }
        (None, _, Outcome::Killed { sig, .. }) if v.cause == Cause::SelfSignal => {
            let _ = write!(s, " after {sig} it sent itself");
        }
        _ => {}
    }
    if let Some(c) = &v.call {
        let end = v.trigger.as_ref().map_or(v.time, |t| t.time);
        let _ = write!(s, ", {}", kill_call(&c.call, tck));
        // Not again when the sentence named it already.
        if c.sender.pid != v.pid && named_sender(v) != Some(c.sender.pid) {
            let _ = write!(s, " by {} ({})", c.sender.pid, escape_bytes(&c.sender.comm));
        }
        let _ = write!(s, " {:.3} ms before", seconds(c.time, end) * 1e3);
    }
    earlier_text(v, &mut s);
    let _ = write!(s, ": {}", cause_text(v));
    if let Some(h) = &v.last_handled {
        let _ = write!(s, " (last handled signal: {} ", h.info.signo());
        match h.from.pid() {
            Some(p) if p == v.pid => s.push_str("it sent itself"),
            _ => describe_from(&h.info, &h.from, &mut s),
        }
        let _ = write!(s, ", handled {} before)", span(seconds(h.time, v.time)));
    }
    kernel_notes(&v.kernel, &mut s);
    // Once: what would have named a sender nothing could read.
    if let (Some((Origin::Process(by), _)), Some(off)) = (&v.by, &v.kernel_off)
        && by.is_unread()
    {
        let _ = write!(s, "; {}", off.hint());
    }
    s
}

/// The verdict's sender, in the words of `describe_origin`, and how it was known where the
/// words do not say it.
fn describe_by((from, source): &(Origin, Source), out: &mut String) {
    describe_origin(from, out);
    match source {
        Source::KernelRecord => out.push_str(" (the kernel's record)"),
        Source::PassedOn => out.push_str(", sent to sigtrace, which passed it on"),
        Source::Siginfo | Source::TracedCall => {}
    }
}

/// `; the kernel's record: 1 SIGTERM merged into one already pending, ...`.
fn kernel_notes(k: &crate::verdict::KernelNotes, out: &mut String) {
    let mut parts = Vec::new();
    let mut list = |l: &[(i32, u32)], what: &str| {
        for &(sig, n) in l {
            parts.push(format!("{n} {} {what}", Signal(sig)));
        }
    };
    list(&k.merged, "merged into one already pending");
    list(&k.overflowed, "not queued (the real-time queue was full)");
    list(&k.ignored, "ignored (discarded when sent)");
    list(&k.dying, "discarded (sent while it was already dying)");
    if k.lost > 0 {
        parts.push(format!("{} records lost (its buffer was full)", k.lost));
    }
    if !parts.is_empty() {
        let _ = write!(out, "; the kernel's record: {}", parts.join(", "));
    }
}

fn seconds(from: Stamp, to: Stamp) -> f64 {
    to.mono.saturating_duration_since(from.mono).as_secs_f64()
}

/// A time between two events as a reader takes it in: `2.5 s`, `340 ms`, `0.4 ms`.
fn span(secs: f64) -> String {
    match secs {
        s if s >= 0.9995 => format!("{s:.1} s"),
        s if s >= 0.001 => format!("{:.0} ms", s * 1e3),
        s if s >= 0.00005 => format!("{:.1} ms", s * 1e3),
        _ => "under 0.1 ms".to_string(),
    }
}

/// `, 10.0 s after SIGTERM from 4310 (...)` for the termination requests before the end.
fn earlier_text(v: &Verdict, s: &mut String) {
    let Some(first) = v.earlier.first() else {
        return;
    };
    let end = v.trigger.as_ref().map_or(v.time, |t| t.time);
    let named = named_sender(v);
    let _ = write!(
        s,
        ", {} after {}",
        span(seconds(first.time, end)),
        earlier_one(first, &[named])
    );
    // The others, said as what they were: `and 2 more SIGTERM from the same sender`.
    let known = [named, sender_pid(&first.from)];
    let mut rest: Vec<(String, usize)> = Vec::new();
    for r in &v.earlier[1..] {
        let what = earlier_one(r, &known);
        match rest.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => rest.push((what, 1)),
        }
    }
    match rest.as_slice() {
        [] => {}
        [(what, n)] => _ = write!(s, " and {n} more {what}"),
        _ => {
            let each: Vec<String> = rest.iter().map(|(w, n)| format!("{n} {w}")).collect();
            let _ = write!(s, " and {} more: {}", v.earlier.len() - 1, each.join(", "));
        }
    }
}

/// `SIGTERM from 4310 (kill, uid 0) (ignored)`: one termination request before the end;
/// `from the same sender` when the sentence named its sender already (`known`).
fn earlier_one(r: &SignalRecord, known: &[Option<i32>]) -> String {
    let mut s = format!("{} ", r.info.signo());
    match &r.from {
        Origin::Process(p) if known.contains(&Some(p.pid)) => s.push_str("from the same sender"),
        from => describe_from(&r.info, from, &mut s),
    }
    match (r.disposition, &r.reason) {
        (Disposition::Ignored { .. }, Some(reason @ KernelReason::PidnsInitDiscard)) => {
            let _ = write!(s, " (ignored: {})", reason_words(reason, r.info.signo()));
        }
        (Disposition::Ignored { .. }, _) => s.push_str(" (ignored)"),
        _ => {}
    }
    s
}

fn sender_pid(from: &Origin) -> Option<i32> {
    match from {
        Origin::Process(p) => Some(p.pid),
        _ => None,
    }
}

/// The process the sentence's opening (`summary`'s `after SIG... from ...`) describes.
fn named_sender(v: &Verdict) -> Option<i32> {
    let from = match (&v.trigger, &v.by) {
        (Some(_), _) if matches!(v.cause, Cause::SelfSignal | Cause::Crash | Cause::Kernel) => {
            return None;
        }
        (Some(t), by) => by.as_ref().map_or(&t.from, |(from, _)| from),
        (None, Some((from, _))) if matches!(v.outcome, Outcome::Killed { .. }) => from,
        (None, _) => return None,
    };
    sender_pid(from)
}

/// ` after SIGTERM from ...`: the signal that led to the end, and where it came from (the
/// verdict's sender when it has one, as JSON's `by` names it).
fn trigger(v: &Verdict, t: &SignalRecord, s: &mut String) {
    let sig = t.info.signo();
    match v.cause {
        Cause::SelfSignal => {
            let _ = write!(s, " after {sig} it sent itself");
        }
        // The kernel's record has no fault address.
        Cause::Crash if t.info.recorded() => {
            let _ = write!(s, " after {sig} ({})", code_text(&t.info));
        }
        Cause::Crash => {
            let _ = write!(
                s,
                " after {sig} ({} at {:#x})",
                code_text(&t.info),
                t.info.addr()
            );
        }
        Cause::Kernel if sig.0 == libc::SIGPIPE => {
            let _ = write!(
                s,
                " after {sig} (it wrote to a pipe or socket with no reader)"
            );
        }
        // The reason says it in the cause's words.
        Cause::Kernel | Cause::Terminal
            if t.reason
                .as_ref()
                .is_some_and(|r| *r != KernelReason::Terminal) =>
        {
            let _ = write!(s, " after {sig}");
        }
        _ => {
            let _ = write!(s, " after {sig} ");
            match &v.by {
                Some(by) => describe_by(by, s),
                None => describe_from(&t.info, &t.from, s),
            }
        }
    }
}

/// The cause, in words (every cause has its own arm: a new one must be worded here).
fn cause_text(v: &Verdict) -> String {
    let sig = v
        .trigger
        .as_ref()
        .map(|t| t.info.signo())
        .or(v.outcome.signal())
        .unwrap_or(Signal(0));
    let taken = v.trigger.as_ref().and_then(|t| match t.disposition {
        Disposition::Taken(by) => Some(by.call()),
        _ => None,
    });
    match (v.cause, v.outcome, &v.kernel_reason) {
        (Cause::Kernel, _, Some(r)) if !matches!(r, KernelReason::BrokenPipe) => {
            reason_words(r, sig)
        }
        (Cause::Terminal, _, Some(r @ KernelReason::SessionLeaderExit { .. })) => {
            format!("terminal: {}", reason_words(r, sig))
        }
        (c, Outcome::Exited(_), _) if let Some(call) = taken => {
            format!("{}, taken by {call}", c.as_str().replace('-', " "))
        }
        (_, Outcome::Exited(_), _) if v.in_handler => {
            format!("{} (it exited inside the handler)", cause_words(v))
        }
        _ => cause_words(v),
    }
}

fn cause_words(v: &Verdict) -> String {
    let exited = matches!(v.outcome, Outcome::Exited(_));
    match v.cause {
        Cause::SelfExit => "self exit".into(),
        Cause::ExternalSignal if exited => "external signal, handled".into(),
        Cause::ExternalSignal => "external signal".into(),
        Cause::SelfSignal => "self signal".into(),
        Cause::Crash => "crash".into(),
        Cause::Terminal if exited => "terminal, handled".into(),
        Cause::Terminal => "terminal".into(),
        Cause::Kernel if v.outcome.signal() == Some(Signal(libc::SIGKILL)) => {
            "kernel (a SIGKILL the kernel generated: SI_KERNEL)".into()
        }
        Cause::Kernel => "kernel".into(),
        Cause::Oom => format!(
            "out-of-memory killer ({}{})",
            oom_text(v.oom.as_ref()),
            if v.kernel.oom_victim {
                "; the kernel's record: chosen by the OOM killer"
            } else {
                ""
            }
        ),
        Cause::Sigkill => format!(
            "SIGKILL from a sender nothing could name (ptrace never sees SIGKILL's siginfo, and no kill call seen from a traced process matched it; {}; {})",
            v.kernel_off.as_ref().map_or_else(
                || "the kernel's record holds no SIGKILL for it".to_string(),
                crate::event::Off::hint
            ),
            oom_text(v.oom.as_ref())
        ),
        Cause::Unknown if !exited => "unknown (the fatal signal's delivery was not seen)".into(),
        Cause::Unknown => "unknown".into(),
    }
}

fn oom_text(oom: Option<&Oom>) -> String {
    let Some(o) = oom else {
        return "no evidence read".into();
    };
    let cgroup = match &o.cgroup {
        Some((file, a, b)) => format!("memory cgroup oom_kill {a} -> {b} in {file}"),
        None => "no memory cgroup oom_kill counter read".into(),
    };
    let kmsg = match o.kmsg {
        Some(true) => "kernel log: Killed process",
        Some(false) => "kernel log: no OOM kill of this pid",
        None => "kernel log unreadable",
    };
    format!("{cgroup}; {kmsg}")
}

/// The kill-family call that sent a signal, as its strace line begins: `kill(4242, SIGTERM)`.
pub fn kill_call(call: &crate::event::Syscall, tck: u64) -> String {
    let mut text = String::new();
    args::entry(&spec(call.nr), call, tck, None, &mut text);
    text.push(')');
    text
}

/// The line after a signal's: what it does, and who sent it.
fn annotation(
    info: &SigInfo,
    from: &Origin,
    d: Disposition,
    reason: Option<&KernelReason>,
    out: &mut String,
) {
    let sig = info.signo();
    let _ = write!(out, "sigtrace: {sig} ");
    match d {
        Disposition::Caught => out.push_str("caught by a handler"),
        Disposition::Taken(t) => {
            let _ = write!(out, "taken by {} (blocked, not delivered)", t.call());
        }
        Disposition::Ignored { .. } if reason == Some(&KernelReason::PidnsInitDiscard) => {
            let _ = write!(
                out,
                "ignored ({})",
                reason_words(&KernelReason::PidnsInitDiscard, sig)
            );
        }
        Disposition::Ignored { since_exec: true } => {
            out.push_str("ignored (ignored since exec: the disposition was inherited)")
        }
        Disposition::Ignored { since_exec: false } => out.push_str("ignored"),
        Disposition::Default => {
            let _ = write!(out, "default action: {}", default_action(sig));
        }
    }
    out.push_str("; ");
    match (from, reason) {
        (_, None | Some(KernelReason::PidnsInitDiscard | KernelReason::Terminal)) => {
            describe_from(info, from, out)
        }
        (Origin::NoSender, Some(r)) => {
            let _ = write!(out, "from the kernel: {}", reason_words(r, sig));
        }
        // The kernel sends SIGPIPE as SI_USER from the writer itself (send_sig(SIGPIPE,
        // current, 0)): si_pid names the writer, which is no sender.
        (Origin::Process(s), Some(r @ KernelReason::BrokenPipe)) => {
            let _ = write!(
                out,
                "from the kernel: {} (si_pid {} is the writer itself, {})",
                reason_words(r, sig),
                s.pid,
                escape_bytes(&s.comm)
            );
        }
        (_, Some(r)) => {
            describe_from(info, from, out);
            let _ = write!(out, " (the kernel: {})", reason_words(r, sig));
        }
    }
}

/// A kernel reason in words, with its figures; `sig` is the signal it explains.
pub fn reason_words(r: &KernelReason, sig: Signal) -> String {
    let hard = |h: bool| if h { "hard" } else { "soft" };
    match r {
        KernelReason::RlimitCpu {
            hard: h,
            limit,
            used,
        } => {
            let used = used.map_or_else(String::new, |u| {
                format!(" after {:.2} s of CPU", u.as_secs_f64())
            });
            format!(
                "CPU time limit (ulimit -t {limit} s, {}) reached{used}",
                hard(*h)
            )
        }
        KernelReason::RlimitFsize { limit } => {
            format!("file size limit (ulimit -f: {limit} bytes) reached by a write")
        }
        KernelReason::RlimitRttime { hard: h, limit } => format!(
            "real-time CPU limit (RLIMIT_RTTIME {limit} µs, {}) reached without blocking",
            hard(*h)
        ),
        KernelReason::Oom => "the out-of-memory killer".into(),
        KernelReason::OrphanedPgrp { pgrp, parent } => {
            let parent = match parent {
                Some((pid, comm)) => format!("parent {pid} ({}) exited", escape_bytes(comm)),
                None => "its last parent in the session exited".into(),
            };
            format!("its process group {pgrp} was orphaned ({parent}) while it was stopped")
        }
        KernelReason::SessionLeaderExit {
            leader,
            comm,
            ended,
        } => {
            let how = match ended {
                Some(e) => match (e.signal, &e.by) {
                    (None, _) => format!("exited with {}", e.status),
                    (Some(s), None) => format!("was killed by {}", Signal(s)),
                    (Some(s), Some((pid, c))) => format!(
                        "was killed by {} from {pid} ({})",
                        Signal(s),
                        escape_bytes(c)
                    ),
                },
                None => "ended".into(),
            };
            format!(
                "its session leader {leader} ({}) {how}; the kernel hung up its foreground group",
                escape_bytes(comm)
            )
        }
        KernelReason::Terminal => "the terminal".into(),
        KernelReason::BrokenPipe => "it wrote to a pipe or socket with no reader".into(),
        KernelReason::PidnsInitDiscard => {
            format!("pid 1 of its pid namespace has no handler for {sig}: the kernel discards it")
        }
        KernelReason::Unestablished { checked } => {
            format!(
                "a signal the kernel generated for a reason not established (checked: {checked})"
            )
        }
    }
}

/// signal(7)'s default action, in words.
fn default_action(sig: Signal) -> &'static str {
    match sig.default_action() {
        DefaultAction::Ignore => "ignore",
        DefaultAction::Cont => "continue",
        DefaultAction::Stop => "stop",
        DefaultAction::Core => "terminate with a core dump",
        DefaultAction::Term => "terminate",
    }
}

/// `sigtrace: 4242 (sleep): parent 4301 (bash), process group 4301, session 1200, terminal pts/0`.
fn context(pid: i32, c: &crate::event::Context, out: &mut String) {
    let _ = write!(
        out,
        "sigtrace: {pid} ({}): parent {} ({}), process group {}, session {}, ",
        escape_bytes(&c.comm),
        c.ppid,
        escape_bytes(&c.parent_comm),
        c.pgrp,
        c.session
    );
    let _ = match &c.tty {
        Some(t) => writeln!(out, "terminal {t}"),
        None => writeln!(out, "no controlling terminal"),
    };
}

/// The stderr chatter lines, worded as strace words them.
pub fn note(ev: &Event, note: &Note, out: &mut String) {
    let _ = match note {
        Note::Attached { threads } if *threads > 1 => writeln!(
            out,
            "sigtrace: Process {} attached with {threads} threads",
            ev.pid
        ),
        Note::Attached { .. } | Note::ChildAttached => {
            writeln!(out, "sigtrace: Process {} attached", ev.tid)
        }
        Note::Detached => writeln!(out, "sigtrace: Process {} detached", ev.tid),
        Note::Detaching { sig, from } => {
            let _ = write!(out, "sigtrace: {sig} ");
            match from {
                Origin::NoSender => out.push_str("from the terminal"),
                from => describe_origin(from, out),
            }
            writeln!(out, " to sigtrace: detaching from every traced process")
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans_read_as_a_person_reads_them() {
        assert_eq!(super::span(2.54), "2.5 s");
        assert_eq!(super::span(0.9996), "1.0 s");
        assert_eq!(super::span(0.312), "312 ms");
        assert_eq!(super::span(0.0004), "0.4 ms");
        assert_eq!(super::span(0.00001), "under 0.1 ms");
    }

    use super::*;

    fn syscall_event(kind: EventKind, tid: i32, ntasks: usize) -> Event {
        Event {
            time: Stamp::now(),
            pid: tid,
            tid,
            ntasks,
            kind,
            stack: None,
            names: None,
        }
    }

    #[test]
    fn results_at_column_40_and_interleaving() {
        let mut f = TextFormat::new(&Default::default());
        let call = |nr: u32, args: [u64; 6]| crate::event::Syscall {
            nr,
            args,
            mem: Default::default(),
        };
        let mut out = String::new();
        // kill(1234, SIGTERM) = 0: entry then exit of one task, padded to column 40.
        f.line(
            &syscall_event(
                EventKind::SyscallEntry(call(62, [1234, 15, 0, 0, 0, 0])),
                7,
                1,
            ),
            &mut out,
        );
        f.line(
            &syscall_event(
                EventKind::SyscallExit {
                    entry: Box::new(call(62, [1234, 15, 0, 0, 0, 0])),
                    call: call(62, [1234, 15, 0, 0, 0, 0]),
                    ret: 0,
                    is_error: false,
                },
                7,
                1,
            ),
            &mut out,
        );
        assert_eq!(out, "kill(1234, SIGTERM)                     = 0\n");
        // Another task's line splits an open one; the exit resumes it.
        out.clear();
        f.line(
            &syscall_event(EventKind::SyscallEntry(call(34, [0; 6])), 7, 2),
            &mut out,
        );
        let exit = EventKind::Exited {
            code: 0,
            comm: None,
            in_handler: None,
        };
        f.line(&syscall_event(exit, 8, 2), &mut out);
        f.line(
            &syscall_event(
                EventKind::SyscallExit {
                    entry: Box::new(call(34, [0; 6])),
                    call: call(34, [0; 6]),
                    ret: -514,
                    is_error: true,
                },
                7,
                2,
            ),
            &mut out,
        );
        assert_eq!(
            out,
            "[pid     7] pause( <unfinished ...>\n[pid     8] +++ exited with 0 +++\n[pid     7] <... pause resumed>)        = ? ERESTARTNOHAND (To be restarted if no handler)\n"
        );
    }

    #[test]
    fn one_phrasing_for_a_gone_sender_and_one_hint_without_the_record() {
        use crate::event::{Exited, Sender};
        use crate::verdict::Fold;
        use crate::verdict::testing::{ev, exited, signal};
        let gone = Sender {
            pid: 99,
            uid: Some(0),
            comm: b"kill".to_vec(),
            exe: b"/usr/bin/kill".to_vec(),
            ancestry: vec![(7, b"bash".to_vec())],
            exited: Some(Exited {
                after_sending: Some(std::time::Duration::from_micros(300)),
            }),
            ..Sender::default()
        };
        let mut s = String::new();
        describe_sender(&gone, &mut s);
        assert_eq!(
            s,
            "99 (kill, /usr/bin/kill, uid 0; exited 0.3 ms after sending) <- 7 (bash)"
        );
        let mut f = Fold::default();
        let off = EventKind::KernelOff(crate::event::Off::NotPermitted);
        assert!(f.observe(&ev(0, off)).is_none());
        for _ in 0..2 {
            let unread = Origin::Process(std::sync::Arc::new(Sender::unread(99, 1000)));
            signal(&mut f, 42, 15, 0, unread, Disposition::Caught);
        }
        let text = summary(&exited(&mut f, 42, 143), 100);
        assert!(
            text.starts_with(
                "exited with 143 after SIGTERM from 99 (uid 1000; exited before it could be read)"
            ),
            "{text}"
        );
        assert_eq!(text.matches("would name it").count(), 1, "{text}");
    }

    #[test]
    fn verdict_sentences() {
        use crate::verdict::Fold;
        use crate::verdict::testing::{exited, killed, sender, signal};
        let mut f = Fold::default();
        signal(
            &mut f,
            42,
            15,
            crate::decode::siginfo::SI_USER,
            sender(99),
            Disposition::Caught,
        );
        let v = exited(&mut f, 42, 143);
        assert_eq!(
            summary(&v, 100),
            "exited with 143 after SIGTERM from 99 (kill -TERM 42, uid 1000) <- 7 (bash) <- 1 (init): external signal, handled"
        );
        let none = Oom {
            cgroup: Some(("f".into(), 1, 1)),
            kmsg: Some(false),
        };
        let v = killed(&mut f, 42, 9, Some(none));
        assert!(
            summary(&v, 100).contains("oom_kill 1 -> 1"),
            "{}",
            summary(&v, 100)
        );
    }

    #[test]
    fn more_requests_say_what_they_were() {
        use crate::verdict::Fold;
        use crate::verdict::testing::{killed, sender, signal};
        let mut f = Fold::default();
        let user = crate::decode::siginfo::SI_USER;
        for (sig, from) in [(15, 99), (15, 99), (15, 99), (2, 98)] {
            signal(&mut f, 42, sig, user, sender(from), Disposition::Caught);
        }
        let s = summary(&killed(&mut f, 42, 9, None), 100);
        assert!(
            s.contains(" and 3 more: 2 SIGTERM from the same sender, 1 SIGINT from 98 (kill -TERM 42, uid 1000) <- 7 (bash) <- 1 (init):"),
            "{s}"
        );
        let mut f = Fold::default();
        for _ in 0..2 {
            signal(&mut f, 42, 15, user, sender(99), Disposition::Caught);
        }
        let s = summary(&killed(&mut f, 42, 9, None), 100);
        assert!(
            s.contains(" and 1 more SIGTERM from the same sender:"),
            "{s}"
        );
    }

    #[test]
    fn kernel_record_sentences() {
        use crate::event::{Off, SignalResult};
        use crate::verdict::Fold;
        use crate::verdict::testing::{ev, killed, record};
        let mut f = Fold::default();
        record(&mut f, 42, 15, SignalResult::AlreadyPending, 9_000);
        record(&mut f, 42, 9, SignalResult::Delivered, 0);
        assert_eq!(
            summary(&killed(&mut f, 42, 9, None), 100),
            "killed by SIGKILL after SIGKILL from 99 (kill -TERM 42, uid 1000) <- 7 (bash) <- 1 (init) (the kernel's record): external signal; the kernel's record: 1 SIGTERM merged into one already pending"
        );
        f.observe(&ev(0, EventKind::KernelOff(Off::NotPermitted)));
        let s = summary(&killed(&mut f, 43, 9, None), 100);
        assert!(
            s.contains(
                "; the kernel's record of signals would name it: run as root, or grant CAP_PERFMON;"
            ),
            "{s}"
        );
    }
}
