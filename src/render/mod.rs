//! The renderer thread: receives events, formats them, writes them buffered; never touches ptrace or /proc.
pub mod syscall;
pub mod text;

use crate::event::{Event, EventKind};
use crossbeam_channel::{Receiver, TryRecvError};
use std::io::{self, Write};

/// Where trace lines go.
pub enum Sink {
    Stderr,
    File(std::fs::File, String),
}

pub struct Renderer {
    text: text::TextFormat,
    out: Box<dyn Write + Send>,
    out_name: String,
    trace_on_stderr: bool,
    quiet: bool,
    broken: bool,
    line: String,
}

impl Renderer {
    pub fn new(text: text::TextFormat, sink: Sink, quiet: bool) -> Renderer {
        let (out, out_name, trace_on_stderr): (Box<dyn Write + Send>, _, _) = match sink {
            Sink::Stderr => (Box::new(io::stderr()), "stderr".to_string(), true),
            Sink::File(f, name) => (Box::new(f), name, false),
        };
        Renderer {
            text,
            out: Box::new(io::BufWriter::with_capacity(64 * 1024, out)),
            out_name,
            trace_on_stderr,
            quiet,
            broken: false,
            line: String::with_capacity(256),
        }
    }

    /// Drains the channel until every sender is gone, flushing whenever it runs dry.
    pub fn run(mut self, rx: Receiver<Event>) {
        loop {
            let ev = match rx.try_recv() {
                Ok(ev) => ev,
                Err(TryRecvError::Empty) => {
                    self.flush();
                    match rx.recv() {
                        Ok(ev) => ev,
                        Err(_) => break,
                    }
                }
                Err(TryRecvError::Disconnected) => break,
            };
            self.render(&ev);
        }
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
        if !self.text.line(ev, &mut self.line) || self.broken {
            return;
        }
        if let Err(e) = self.out.write_all(self.line.as_bytes()) {
            self.fail(e);
        }
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
            crate::error_text(&e)
        );
    }
}
