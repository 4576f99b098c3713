//! The renderer thread: receives events, folds verdicts, formats text or JSON, writes buffered; never touches ptrace or /proc.
pub mod collect;
pub mod json;
pub mod perfetto;
pub mod pictures;
pub mod report;
pub mod summary;
pub mod text;

pub use summary::summary_table;

use crate::channel::Doorbell;
use crate::event::{Event, EventKind, Note};
use crate::verdict::{Fold, Verdict};
use crossbeam_channel::{Receiver, TryRecvError};
use std::io::{self, Write};

/// Where trace lines go.
pub enum Sink {
    Stderr,
    File(std::fs::File, String),
}

pub enum Format {
    Text(text::TextFormat),
    Json(json::JsonFormat),
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
    format: Format,
    out: Box<dyn Write + Send>,
    out_name: String,
    trace_on_stderr: bool,
    quiet: bool,
    summary: Summary,
    broken: bool,
    line: String,
    fold: Fold,
    /// Every verdict for the table; else the main process's only (for the `end` event).
    verdicts: Vec<Verdict>,
    /// --report and --perfetto: fed every event and verdict, written at the end.
    pictures: Option<pictures::Pictures>,
    /// The first process seen: the main one (the command, or the first attached).
    first: Option<i32>,
    /// The main process, from the `end` event.
    main: Option<i32>,
}

impl Renderer {
    pub fn new(format: Format, sink: Sink, quiet: bool, summary: Summary) -> Renderer {
        let (out, out_name, trace_on_stderr): (Box<dyn Write + Send>, _, _) = match sink {
            Sink::Stderr => (Box::new(io::stderr()), "stderr".to_string(), true),
            Sink::File(f, name) => (Box::new(f), name, false),
        };
        Renderer {
            format,
            out: Box::new(io::BufWriter::with_capacity(64 * 1024, out)),
            out_name,
            trace_on_stderr,
            quiet,
            summary,
            broken: false,
            line: String::with_capacity(256),
            fold: Fold::default(),
            verdicts: Vec::new(),
            pictures: None,
            first: None,
            main: None,
        }
    }

    pub fn with_pictures(mut self, pictures: Option<pictures::Pictures>) -> Renderer {
        self.pictures = pictures;
        self
    }

    /// Drains the channel (batches of events) until every sender is gone, flushing whenever it
    /// runs dry.
    pub fn run(mut self, rx: Receiver<Vec<Event>>, bell: &Doorbell) {
        bell.answered_by(std::thread::current());
        loop {
            let batch = match rx.try_recv() {
                Ok(batch) => batch,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    self.flush();
                    bell.dozing();
                    match rx.try_recv() {
                        Ok(batch) => {
                            bell.awake();
                            batch
                        }
                        Err(TryRecvError::Disconnected) => break,
                        Err(TryRecvError::Empty) => {
                            // Spurious wake-ups are fine: the loop looks again.
                            std::thread::park();
                            continue;
                        }
                    }
                }
            };
            for ev in &batch {
                self.render(ev);
            }
        }
        self.finish();
        self.flush();
        if let Some(p) = self.pictures.take() {
            p.write();
        }
    }

    fn render(&mut self, ev: &Event) {
        self.line.clear();
        let kernel = matches!(ev.kind, EventKind::Kernel(_) | EventKind::KernelOff(_));
        // The pictures draw processes: the kernel's records and the end are none.
        let drawn = !kernel && !matches!(ev.kind, EventKind::End { .. });
        if let Some(p) = self.pictures.as_mut().filter(|_| drawn) {
            p.event(ev);
        }
        match &ev.kind {
            EventKind::Note(note) => return self.note(ev, note),
            EventKind::End { .. } => return self.end(ev),
            EventKind::Context(_) => _ = self.first.get_or_insert(ev.pid),
            _ => {}
        }
        let verdict = self.fold.observe(ev);
        if let (Some(p), Some(v)) = (&mut self.pictures, &verdict) {
            p.verdict(v);
        }
        if kernel {
            return;
        }
        let only = self.summary == Summary::Only;
        match &mut self.format {
            Format::Text(_) if only => {}
            Format::Text(t) => {
                t.line(ev, &mut self.line);
                if let Some(v) = &verdict {
                    t.verdict(v, &mut self.line);
                }
            }
            Format::Json(j) => {
                if !only {
                    j.event(ev, &mut self.line);
                }
                if let Some(v) = &verdict {
                    j.verdict(v, &mut self.line);
                }
            }
        }
        if let Some(v) = verdict
            && (self.table() || Some(v.pid) == self.first)
        {
            self.verdicts.push(v);
        }
        self.write_line();
    }

    /// Whether the text ends with the table of every process.
    fn table(&self) -> bool {
        matches!(self.format, Format::Text(_)) && self.summary != Summary::None
    }

    /// Chatter: a `note` event in a JSON stream, else a line on stderr; none with -q or -c.
    fn note(&mut self, ev: &Event, note: &Note) {
        if self.quiet || self.summary == Summary::Only {
            return;
        }
        if let Format::Json(j) = &self.format {
            j.note(ev, note, &mut self.line);
            return self.write_line();
        }
        text::note(ev, note, &mut self.line);
        // Chatter goes to stderr; keep it in order with trace lines written there.
        if self.trace_on_stderr {
            self.flush();
        }
        let _ = io::stderr().write_all(self.line.as_bytes());
    }

    /// The run's end: the `end` event closes a JSON stream.
    fn end(&mut self, ev: &Event) {
        self.main = Some(ev.pid);
        if let Format::Json(j) = &self.format {
            let v = self.verdicts.iter().rev().find(|v| v.pid == ev.pid);
            j.end(ev, v, &mut self.line);
            self.write_line();
        }
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
        if let Some(i) = self.verdicts.iter().position(|v| Some(v.pid) == self.main) {
            let main = self.verdicts.remove(i);
            self.verdicts.insert(0, main);
        }
        self.line.clear();
        summary_table(&self.verdicts, &mut self.line);
        self.write_line();
    }

    fn flush(&mut self) {
        if !self.broken
            && let Err(e) = self.out.flush()
        {
            self.fail(e);
        }
    }

    /// Reports a broken output once; tracing goes on so the traced command is not disturbed.
    fn fail(&mut self, e: io::Error) {
        self.broken = true;
        let _ = writeln!(
            io::stderr(),
            "sigtrace: writing the trace to {}: {}; the trace stops here, the command runs on",
            self.out_name,
            crate::strace::error_text(&e)
        );
    }
}
