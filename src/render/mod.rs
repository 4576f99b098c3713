//! The renderer thread: receives events, folds verdicts, formats text or JSON, writes buffered; never touches ptrace or /proc.
pub mod json;
pub mod text;

use crate::channel::Doorbell;
use crate::event::{Event, EventKind};
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
    verdicts: Rows,
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
                .entry((ended(&old), old.cause.as_str()))
                .or_default() += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// The table: `summary_table` over the rows kept, with one line in place of those left out.
    fn table(&mut self, out: &mut String) {
        let kept: Vec<Verdict> = self.head.drain(..).chain(self.tail.drain(..)).collect();
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
        // The column heads, then the first rows.
        for l in lines.by_ref().take(1 + ROWS_HEAD) {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&format!(
            "sigtrace:   ... {left_out} more: {}\n",
            counts.join(", ")
        ));
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
    }
}

impl Renderer {
    pub fn new(format: Format, sink: Sink, quiet: bool, summary: bool) -> Renderer {
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
            verdicts: Rows::default(),
        }
    }

    /// Drains the channel (batches of events) until every sender is gone, flushing whenever it
    /// runs dry.
    pub fn run(mut self, rx: Receiver<Vec<Event>>, bell: &Doorbell) {
        bell.answered_by(std::thread::current());
        // Whether anything came since the last nap: then nap again, else sleep until rung.
        let mut busy = false;
        loop {
            let batch = match rx.try_recv() {
                Ok(batch) => batch,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
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
            let _ = io::stderr().write_all(self.line.as_bytes());
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
        if self.summary
            && let Some(v) = verdict
        {
            self.verdicts.push(v);
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
        self.verdicts.table(&mut self.line);
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

/// How a process ended, as the summary table says it.
fn ended(v: &Verdict) -> String {
    use crate::verdict::Outcome;
    match v.outcome {
        Outcome::Exited(c) => format!("exited {c}"),
        Outcome::Killed { sig, .. } => format!("killed by {sig}"),
    }
}

/// `sigtrace: summary` and one aligned row per process: pid, command, end, cause, by whom.
pub fn summary_table(verdicts: &[Verdict], out: &mut String) {
    use std::fmt::Write as _;
    let rows: Vec<[String; 5]> = verdicts
        .iter()
        .map(|v| {
            let ended = ended(v);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::testing::exited;

    #[test]
    fn summary_rows_past_the_limit_are_counted() {
        let mut fold = Fold::default();
        let mut rows = Rows::default();
        let n = ROWS_HEAD + ROWS_TAIL + 50;
        for pid in 1..=n as i32 {
            rows.push(exited(&mut fold, pid, 0));
        }
        assert_eq!(rows.head.len() + rows.tail.len(), ROWS_HEAD + ROWS_TAIL);
        let mut out = String::new();
        rows.table(&mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("sigtrace: summary of {n} processes"));
        assert_eq!(
            lines[2 + ROWS_HEAD],
            "sigtrace:   ... 50 more: 50 exited 0 (self-exit)"
        );
        assert_eq!(lines.len(), 3 + ROWS_HEAD + ROWS_TAIL);
        assert!(lines.last().unwrap().contains(&n.to_string()));
    }
}
