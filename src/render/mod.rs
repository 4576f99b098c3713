//! The renderer thread: receives events, folds verdicts, formats text or JSON, writes buffered; never touches ptrace or /proc.
pub mod collect;
pub mod json;
pub mod perfetto;
pub mod pictures;
pub mod report;
pub mod split;
pub mod summary;
pub mod text;

pub use summary::summary_table;

use crate::channel::Doorbell;
use crate::event::{Event, EventKind, Note};
use crate::msg::Patient;
use crate::verdict::{Fold, Verdict};
use crossbeam_channel::{Receiver, TryRecvError};
use std::io::{self, Write};

/// Where trace lines go.
pub enum Sink {
    Stderr,
    /// The watch mode's default: its verdicts are the output.
    Stdout,
    /// -o: the file, its name as error lines show it, and its path when it is a regular file
    /// (removed if it cannot be written whole).
    File(std::fs::File, String, Option<std::path::PathBuf>),
}

/// How lines are printed: the options strace's users type (-t/-tt/-ttt, -r, -q, -c, colour,
/// -e signal=, pid columns), decided once from the command line and read by every printer.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub clock: crate::event::Clock,
    /// -r: time since the previous line.
    pub relative: bool,
    /// -q: no chatter.
    pub quiet: bool,
    /// -qq: no `+++ exited with N +++` lines either (strace keeps `+++ killed by`).
    pub quiet_exits: bool,
    pub summary: Summary,
    /// ANSI colours (a terminal, --color).
    pub color: bool,
    /// -e signal=: which signals get a line.
    pub signals: crate::signal::SignalSet,
    /// `N     ` columns (-o with -f or several tasks) instead of `[pid N] `.
    pub pid_column: bool,
    /// Trace lines go to a file (strace then never prints `[pid N] `).
    pub to_file: bool,
    /// --watch: verdicts only, each a line of its own with its time and cgroup.
    pub watch: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            clock: crate::event::Clock::None,
            relative: false,
            quiet: false,
            quiet_exits: false,
            summary: Summary::None,
            color: false,
            signals: crate::signal::SignalSet::ALL,
            pid_column: false,
            to_file: false,
            watch: false,
        }
    }
}

/// One output format (text, JSON): the renderer hands it, in order, what is to be shown, and it
/// appends its lines to `out`. Events that only feed verdicts (the kernel's records, kill
/// calls) never reach it.
pub trait Printer: Send {
    /// A trace event: a line, or nothing when filtered out.
    fn event(&mut self, ev: &Event, out: &mut String);
    /// A process's verdict.
    fn verdict(&mut self, v: &Verdict, out: &mut String);
    /// Chatter (attached, detached): into the stream itself, or (text) onto stderr.
    fn note(&mut self, ev: &Event, note: &Note, out: &mut String) -> Chatter;
    /// The run's end, with the main process's verdict (None after a detach).
    fn end(&mut self, ev: &Event, main: Option<&Verdict>, out: &mut String);
    /// Whether the table of every process ends the output (the text's summary).
    fn ends_with_table(&self) -> bool;
    /// Nothing more comes for now: what is held back (an open syscall line) is written; with
    /// `whole`, only as whole lines.
    fn idle(&mut self, _whole: bool, _out: &mut String) {}
    /// A file of the printer's own that could not be written (-ff), said once: `NAME: why`.
    fn failure(&mut self) -> Option<String> {
        None
    }
}

/// Where a printer's chatter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chatter {
    /// Into the output, as any other line (a JSON `note` event).
    Stream,
    /// Onto stderr, whatever the output (strace's habit).
    Stderr,
}

/// What a renderer does with an event.
#[derive(Clone, Copy)]
enum Role {
    /// A trace line (filtered by the printer).
    Trace,
    Chatter,
    /// For the verdicts only.
    FoldOnly,
    End,
}

fn role(kind: &EventKind) -> Role {
    match kind {
        EventKind::Signal { .. }
        | EventKind::Stopped(_)
        | EventKind::Exited { .. }
        | EventKind::Killed { .. }
        | EventKind::Context(_)
        | EventKind::Superseded { .. }
        | EventKind::SyscallEntry(_)
        | EventKind::SyscallExit { .. }
        | EventKind::SyscallNoReturn { .. }
        | EventKind::LetGo { .. }
        | EventKind::Relayed { .. } => Role::Trace,
        EventKind::Note(_) => Role::Chatter,
        EventKind::Kernel(_) | EventKind::KernelOff(_) | EventKind::SignalSent { .. } => {
            Role::FoldOnly
        }
        EventKind::End { .. } => Role::End,
    }
}

/// The per-process table at the end (text), and whether it is all there is (-c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    None,
    /// With -f: the trace, then the table.
    AtEnd,
    /// -c: the table only (JSON: the verdict and end events only).
    Only,
}

pub struct Renderer {
    printer: Box<dyn Printer>,
    out: Box<dyn Write + Send>,
    /// `-o NAME` (None: stderr).
    out_name: Option<String>,
    /// The -o file to remove if a write fails.
    out_path: Option<std::path::PathBuf>,
    trace_on_stderr: bool,
    quiet: bool,
    summary: Summary,
    broken: bool,
    /// The printer's own files (-ff) could not all be written.
    files_broken: bool,
    line: String,
    fold: Fold,
    /// The verdicts for the table (else the main process's only, for the `end` event).
    verdicts: Rows,
    /// --report and --perfetto: fed every event and verdict, written at the end.
    pictures: Option<pictures::Pictures>,
    /// The first process seen: the main one (the command, or the first attached).
    first: Option<i32>,
    /// The main process, from the `end` event.
    main: Option<i32>,
    /// --watch: the verdicts to write (no trace lines).
    watch: Option<crate::watch::Filter>,
}

/// Rows of the summary table kept in full: the first ones and the last ones (the command's own
/// end comes last); the ones between are only counted, so memory stays flat over any number of
/// processes (a CI log cannot show 20,000 rows anyway).
const ROWS_HEAD: usize = 200;
const ROWS_TAIL: usize = 100;

/// The verdicts kept for the summary table.
#[derive(Default)]
struct Rows {
    head: Vec<Verdict>,
    tail: std::collections::VecDeque<Verdict>,
    /// The rows left out between head and tail: how many ended each way, by cause.
    between: std::collections::BTreeMap<(String, &'static str), usize>,
}

impl Rows {
    fn push(&mut self, v: Verdict) {
        if self.head.len() < ROWS_HEAD {
            self.head.push(v);
            return;
        }
        self.tail.push_back(v);
        if self.tail.len() > ROWS_TAIL
            && let Some(old) = self.tail.pop_front()
        {
            *self
                .between
                .entry((summary::ended(old.outcome), old.cause.as_str()))
                .or_default() += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// The verdict of `pid`, if it is kept.
    fn find(&self, pid: i32) -> Option<&Verdict> {
        self.tail
            .iter()
            .rev()
            .chain(self.head.iter().rev())
            .find(|v| v.pid == pid)
    }

    /// Takes the verdict of `pid` out of the rows kept.
    fn take(&mut self, pid: i32) -> Option<Verdict> {
        if let Some(i) = self.tail.iter().position(|v| v.pid == pid) {
            return self.tail.remove(i);
        }
        let i = self.head.iter().position(|v| v.pid == pid)?;
        Some(self.head.remove(i))
    }

    /// The table: `summary_table` over `first` and the rows kept, then one line for those left
    /// out.
    fn table(&mut self, first: Option<Verdict>, out: &mut String) {
        let kept: Vec<Verdict> = first
            .into_iter()
            .chain(self.head.drain(..))
            .chain(self.tail.drain(..))
            .collect();
        if self.between.is_empty() {
            return summary_table(&kept, out);
        }
        let mut table = String::new();
        summary_table(&kept, &mut table);
        let left_out: usize = self.between.values().sum();
        let counts: Vec<String> = self
            .between
            .iter()
            .map(|((ended, cause), n)| format!("{n} {ended} ({cause})"))
            .collect();
        let mut lines = table.lines();
        if let Some(first) = lines.next() {
            let total = kept.len() + left_out;
            out.push_str(&first.replace(&kept.len().to_string(), &total.to_string()));
            out.push('\n');
        }
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&format!(
            "sigtrace:   ... and {left_out} more, not kept: {}\n",
            counts.join(", ")
        ));
    }
}

impl Renderer {
    pub fn new(printer: Box<dyn Printer>, sink: Sink, options: &Options) -> Renderer {
        let (out, out_name, out_path, trace_on_stderr): (Box<dyn Write + Send>, _, _, _) =
            match sink {
                Sink::Stderr => (Box::new(Patient(io::stderr())), None, None, true),
                Sink::Stdout => (Box::new(Patient(io::stdout())), None, None, false),
                Sink::File(f, name, path) => (Box::new(Patient(f)), Some(name), path, false),
            };
        Renderer {
            printer,
            out: Box::new(io::BufWriter::with_capacity(64 * 1024, out)),
            out_name,
            out_path,
            trace_on_stderr,
            quiet: options.quiet,
            summary: options.summary,
            broken: false,
            files_broken: false,
            line: String::with_capacity(256),
            fold: Fold::default(),
            verdicts: Rows::default(),
            pictures: None,
            first: None,
            main: None,
            watch: None,
        }
    }

    /// The watch mode: only the verdicts `filter` selects are written.
    pub fn watching(mut self, filter: crate::watch::Filter) -> Renderer {
        self.watch = Some(filter);
        self
    }

    pub fn with_pictures(mut self, pictures: Option<pictures::Pictures>) -> Renderer {
        self.pictures = pictures;
        self
    }

    /// Drains the channel (batches of events) until every sender is gone, flushing whenever it
    /// runs dry.
    /// Returns whether every file named on the command line was written whole.
    pub fn run(mut self, rx: Receiver<Vec<Event>>, bell: &Doorbell) -> bool {
        bell.answered_by(std::thread::current());
        // Whether anything came since the last nap: then nap again, else sleep until rung.
        let mut busy = false;
        loop {
            if bell.take_reopen() {
                self.reopen();
            }
            let batch = match rx.try_recv() {
                Ok(batch) => batch,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    self.write_held(false);
                    self.flush();
                    bell.dozing(busy);
                    match rx.try_recv() {
                        Ok(batch) => {
                            bell.awake();
                            batch
                        }
                        Err(TryRecvError::Disconnected) => break,
                        Err(TryRecvError::Empty) => {
                            // Spurious wake-ups are fine: the loop looks again.
                            if busy {
                                std::thread::park_timeout(crate::channel::NAP);
                            } else {
                                std::thread::park();
                            }
                            bell.awake();
                            busy = false;
                            continue;
                        }
                    }
                }
            };
            busy = true;
            self.render_all(&batch);
        }
        self.close_all()
    }

    fn render(&mut self, ev: &Event) {
        self.line.clear();
        let role = role(&ev.kind);
        // The pictures draw processes: the kernel's records and the end are none.
        let drawn = !matches!(
            ev.kind,
            EventKind::Kernel(_) | EventKind::KernelOff(_) | EventKind::End { .. }
        );
        if let Some(p) = self.pictures.as_mut().filter(|_| drawn) {
            p.event(ev);
        }
        match (&ev.kind, role) {
            (EventKind::Note(note), _) => return self.note(ev, note),
            (_, Role::End) => return self.end(ev),
            (EventKind::Context(_), _) => _ = self.first.get_or_insert(ev.pid),
            _ => {}
        }
        let verdict = self.fold.observe(ev);
        if let (Some(p), Some(v)) = (&mut self.pictures, &verdict) {
            p.verdict(v);
        }
        let only = self.summary == Summary::Only || self.watch.is_some();
        if matches!(role, Role::Trace) && !only {
            self.printer.event(ev, &mut self.line);
        }
        let wanted = |v: &Verdict| match &self.watch {
            Some(filter) => filter.matches(v),
            None => !only || !self.printer.ends_with_table(),
        };
        if let Some(v) = &verdict
            && wanted(v)
        {
            self.printer.verdict(v, &mut self.line);
        }
        if let Some(v) = verdict
            && (self.table() || Some(v.pid) == self.first)
        {
            self.verdicts.push(v);
        }
        self.write_line();
    }

    /// Whether the output ends with the table of every process.
    fn table(&self) -> bool {
        self.printer.ends_with_table() && self.summary != Summary::None
    }

    /// Chatter: a `note` event in a JSON stream, else a line on stderr; none with -q or -c.
    fn note(&mut self, ev: &Event, note: &Note) {
        if self.quiet || self.summary == Summary::Only {
            return;
        }
        if self.printer.note(ev, note, &mut self.line) == Chatter::Stream {
            return self.write_line();
        }
        // Chatter goes to stderr: where the trace goes too, it is a line of the trace.
        if self.trace_on_stderr {
            return self.write_line();
        }
        let _ = Patient(io::stderr()).write_all(self.line.as_bytes());
    }

    /// The run's end: the `end` event closes a JSON stream.
    fn end(&mut self, ev: &Event) {
        self.main = Some(ev.pid);
        let v = self.verdicts.find(ev.pid);
        self.printer.end(ev, v, &mut self.line);
        self.write_line();
    }

    fn write_line(&mut self) {
        if self.broken || self.line.is_empty() {
            return;
        }
        if let Err(e) = self.out.write_all(self.line.as_bytes()) {
            self.fail(e);
        }
    }

    /// The table (-f, -c): one row per traced process, the main one first (text only; JSON
    /// has its verdict events).
    fn finish(&mut self) {
        if !self.table() || self.verdicts.is_empty() {
            return;
        }
        let main = self.main.and_then(|pid| self.verdicts.take(pid));
        self.line.clear();
        self.verdicts.table(main, &mut self.line);
        self.write_line();
    }

    fn flush(&mut self) {
        if !self.broken
            && let Err(e) = self.out.flush()
        {
            self.fail(e);
        }
        if let Some(what) = self.printer.failure() {
            self.files_broken = true;
            let _ = writeln!(
                Patient(io::stderr()),
                "sigtrace: {what}; the trace stops here, the command runs on",
            );
        }
    }

    /// Reports a broken output once; tracing goes on so the traced command is not disturbed.
    /// A -o file is an error for sigtrace's status, and what was written of it is removed.
    fn fail(&mut self, e: io::Error) {
        self.broken = true;
        let why = crate::text::error_text(&e);
        let Some(name) = &self.out_name else {
            let _ = writeln!(
                Patient(io::stderr()),
                "sigtrace: writing the trace to stderr: {why}; the trace stops here, the command runs on",
            );
            return;
        };
        if self.watch.is_some() {
            let _ = writeln!(
                Patient(io::stderr()),
                "sigtrace: {name}: {why}; no verdict is written until sigtrace gets SIGHUP (it opens the file again)",
            );
            return;
        }
        let removed = match self.out_path.as_ref().map(std::fs::remove_file) {
            Some(Ok(())) => " (removed)",
            _ => "",
        };
        let _ = writeln!(
            Patient(io::stderr()),
            "sigtrace: {name}: {why}; the trace stops here{removed}, the command runs on",
        );
    }

    /// `-o FILE` closed and opened again (SIGHUP in the watch mode, after a log rotation):
    /// appended to if it is there still. If it cannot be opened, the old one is kept.
    fn reopen(&mut self) {
        let Some(path) = self.out_path.clone() else {
            return;
        };
        self.flush();
        let name = self.out_name.clone().unwrap_or_default();
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(f) => {
                self.out = Box::new(io::BufWriter::with_capacity(64 * 1024, Patient(f)));
                self.broken = false;
            }
            Err(e) => crate::msg::warn(&format!(
                "{name}: cannot open it again ({}); writing on to the file as it was",
                crate::text::error_text(&e)
            )),
        }
    }

    /// Whether every file named on the command line was written whole.
    fn written(&self) -> bool {
        !(self.files_broken || self.broken && self.out_name.is_some())
    }

    /// Nothing more comes for now: an open syscall line is written (`Printer::idle`).
    fn write_held(&mut self, whole: bool) {
        self.line.clear();
        self.printer.idle(whole, &mut self.line);
        self.write_line();
    }

    fn render_all(&mut self, batch: &[Event]) {
        for ev in batch {
            self.render(ev);
        }
    }

    /// After the last event: the table, the flush, the pictures. False when a file named on
    /// the command line could not be written.
    fn close_all(mut self) -> bool {
        self.write_held(true);
        self.finish();
        self.flush();
        let pictures = self.pictures.take().is_none_or(pictures::Pictures::write);
        self.written() && pictures
    }
}

/// On the tracer's thread: each batch written at once.
impl crate::channel::Consumer for Renderer {
    fn take(&mut self, batch: &[Event]) {
        self.render_all(batch);
        self.flush();
    }

    fn idle(&mut self) {
        self.write_held(true);
        self.flush();
    }

    fn close(self: Box<Self>) -> bool {
        self.close_all()
    }
}
