//! The renderer thread: receives events, folds verdicts, formats text or JSON, writes buffered; never touches ptrace or /proc.
pub mod json;
pub mod text;

use crate::channel::Doorbell;
use crate::event::{Event, EventKind};
use crate::msg::Patient;
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

pub struct Renderer {
    format: Format,
    out: Box<dyn Write + Send>,
    out_name: String,
    trace_on_stderr: bool,
    quiet: bool,
    /// With -f: a table of every traced process at the end.
    summary: bool,
    broken: bool,
    line: String,
    fold: Fold,
    verdicts: Vec<Verdict>,
}

impl Renderer {
    pub fn new(format: Format, sink: Sink, quiet: bool, summary: bool) -> Renderer {
        let (out, out_name, trace_on_stderr): (Box<dyn Write + Send>, _, _) = match sink {
            Sink::Stderr => (Box::new(Patient(io::stderr())), "stderr".to_string(), true),
            Sink::File(f, name) => (Box::new(Patient(f)), name, false),
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
        }
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
    }

    fn render(&mut self, ev: &Event) {
        self.line.clear();
        if let EventKind::Note(note) = &ev.kind {
            if self.quiet {
                return;
            }
            text::note(ev, note, &mut self.line);
            // Chatter always goes to stderr; keep it in order with trace lines written there.
            if self.trace_on_stderr {
                self.flush();
            }
            let _ = Patient(io::stderr()).write_all(self.line.as_bytes());
            return;
        }
        let verdict = self.fold.observe(ev);
        match &mut self.format {
            Format::Text(t) => {
                t.line(ev, &mut self.line);
                if let Some(v) = &verdict {
                    t.verdict(v, &mut self.line);
                }
            }
            Format::Json(j) => {
                j.event(ev, &mut self.line);
                if let Some(v) = &verdict {
                    j.verdict(v, &mut self.line);
                }
            }
        }
        if self.summary {
            self.verdicts.extend(verdict);
        }
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

    /// The -f summary: one row per traced process (text only; JSON has its verdict events).
    fn finish(&mut self) {
        if !matches!(self.format, Format::Text(_)) || self.verdicts.is_empty() {
            return;
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
            Patient(io::stderr()),
            "sigtrace: writing the trace to {}: {}; the trace stops here, the command runs on",
            self.out_name,
            crate::strace::error_text(&e)
        );
    }
}

/// `sigtrace: summary` and one aligned row per process: pid, command, end, cause, by whom.
pub fn summary_table(verdicts: &[Verdict], out: &mut String) {
    use crate::verdict::Outcome;
    use std::fmt::Write as _;
    let rows: Vec<[String; 5]> = verdicts
        .iter()
        .map(|v| {
            let ended = match v.outcome {
                Outcome::Exited(c) => format!("exited {c}"),
                Outcome::Killed { sig, .. } => format!("killed by {sig}"),
            };
            let by = match &v.by {
                Some((from, _)) => match (from.process(), from.pid()) {
                    (Some(s), _) => format!("{} ({})", s.pid, crate::strace::escape_bytes(&s.comm)),
                    (None, Some(pid)) => format!("{pid} (gone)"),
                    (None, None) => "another pid namespace".to_string(),
                },
                None => "-".to_string(),
            };
            [
                v.pid.to_string(),
                crate::strace::escape_bytes(&v.comm),
                ended,
                v.cause.as_str().to_string(),
                by,
            ]
        })
        .collect();
    let head = ["PID", "COMMAND", "ENDED", "CAUSE", "BY"].map(String::from);
    let mut width = [0usize; 5];
    for r in std::iter::once(&head).chain(&rows) {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let _ = writeln!(out, "sigtrace: summary of {} processes", rows.len());
    for r in std::iter::once(&head).chain(&rows) {
        let _ = writeln!(
            out,
            "sigtrace:   {:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3]
        );
    }
}
