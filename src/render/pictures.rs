//! The --report and --perfetto files: opened before tracing starts, fed by the renderer, written at its end.

use super::collect::Collector;
use crate::event::Event;
use crate::verdict::Verdict;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// A file to write at the end: written beside its place (`temp`) and renamed there once whole,
/// so that a failure leaves no partial file; a device or pipe is written in place.
struct Target {
    file: File,
    /// `--report NAME`, as error lines show it.
    name: String,
    path: PathBuf,
    /// The file being written, until it is renamed to `path` (removed if it never is).
    temp: Option<PathBuf>,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Opens the file to write now, so that a bad path is an error before anything is traced.
fn create(path: Option<&Path>, option: &str) -> Result<Option<Target>, String> {
    let Some(path) = path else { return Ok(None) };
    let name = format!("{option} {}", crate::text::escape(&path.to_string_lossy()));
    let fail = |e: std::io::Error| format!("{name}: {}", crate::text::error_text(&e));
    // A link is replaced where it points, not by the new file.
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
        let file = File::create(&path).map_err(fail)?;
        return Ok(Some(Target {
            file,
            name,
            path,
            temp: None,
        }));
    }
    let mut temp = path.clone().into_os_string();
    temp.push(format!(".sigtrace-{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(fail)?;
    Ok(Some(Target {
        file,
        name,
        path,
        temp: Some(temp),
    }))
}

impl Target {
    /// Writes the file whole, then puts it in place; false after a failure, said on stderr.
    fn write(mut self, what: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>) -> bool {
        let written = (|| {
            let mut out = BufWriter::with_capacity(256 * 1024, &self.file);
            what(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?;
            match self.temp.take() {
                Some(temp) => std::fs::rename(&temp, &self.path).inspect_err(|_| {
                    self.temp = Some(temp);
                }),
                None => Ok(()),
            }
        })();
        if let Err(e) = &written {
            crate::msg::warn(&format!("{}: {}", self.name, crate::text::error_text(e)));
        }
        written.is_ok()
    }
}

pub struct Pictures {
    collector: Collector,
    report: Option<Target>,
    perfetto: Option<Target>,
}

impl Pictures {
    /// None when neither file was asked for; Err(`<path>: <why>`) when one cannot be created.
    pub fn open(
        report: Option<&Path>,
        perfetto: Option<&Path>,
    ) -> Result<Option<Pictures>, String> {
        let report = create(report, "--report")?;
        let perfetto = create(perfetto, "--perfetto")?;
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

    /// Writes both files; false when one could not be written (said on stderr; nothing of it
    /// is left).
    pub fn write(self) -> bool {
        let trace = self.collector.finish();
        let report = self
            .report
            .is_none_or(|t| t.write(|out| super::report::write(&trace, out)));
        let perfetto = self
            .perfetto
            .is_none_or(|t| t.write(|out| super::perfetto::write(&trace, out)));
        report && perfetto
    }
}
