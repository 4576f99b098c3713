//! The --report and --perfetto files: opened before tracing starts, fed by the renderer, written at its end.

use super::collect::Collector;
use crate::event::Event;
use crate::verdict::Verdict;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// A file to write at the end, with its name as error messages show it.
struct Target {
    file: File,
    name: String,
}

pub struct Pictures {
    collector: Collector,
    report: Option<Target>,
    perfetto: Option<Target>,
}

/// Creates (truncates) a file now, so that a bad path is an error before anything is traced.
fn create(path: Option<&Path>) -> Result<Option<Target>, String> {
    let Some(path) = path else { return Ok(None) };
    let name = crate::text::escape(&path.to_string_lossy());
    match File::create(path) {
        Ok(file) => Ok(Some(Target { file, name })),
        Err(e) => Err(format!("{name}: {}", crate::text::error_text(&e))),
    }
}

impl Pictures {
    /// None when neither file was asked for; Err(`<path>: <why>`) when one cannot be created.
    pub fn open(
        report: Option<&Path>,
        perfetto: Option<&Path>,
    ) -> Result<Option<Pictures>, String> {
        let report = create(report)?;
        let perfetto = create(perfetto)?;
        if report.is_none() && perfetto.is_none() {
            return Ok(None);
        }
        Ok(Some(Pictures {
            collector: Collector::new(),
            report,
            perfetto,
        }))
    }

    pub fn event(&mut self, ev: &Event) {
        self.collector.event(ev);
    }

    pub fn verdict(&mut self, v: &Verdict) {
        self.collector.verdict(v);
    }

    /// Writes both files; a failure is one line on stderr (the trace itself is done).
    pub fn write(self) {
        let trace = self.collector.finish();
        if let Some(t) = self.report {
            let mut out = BufWriter::with_capacity(256 * 1024, t.file);
            if let Err(e) = super::report::write(&trace, &mut out) {
                crate::msg::warn(&format!("{}: {}", t.name, crate::text::error_text(&e)));
            }
        }
        if let Some(t) = self.perfetto {
            let mut out = BufWriter::with_capacity(256 * 1024, t.file);
            if let Err(e) = super::perfetto::write(&trace, &mut out) {
                crate::msg::warn(&format!("{}: {}", t.name, crate::text::error_text(&e)));
            }
        }
    }
}
