//! -ff -o PREFIX: the text printer with one file per task, PREFIX.TID, as strace writes them.

use super::text::TextFormat;
use super::{Chatter, Options, Printer};
use crate::event::{Event, EventKind, Note};
use crate::text::{error_text, escape_bytes_cut};
use crate::verdict::Verdict;
use std::collections::HashMap;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Files kept open at once; one closed for room is reopened to append.
const OPEN_FILES: usize = 256;

pub struct PerTask {
    options: Options,
    prefix: PathBuf,
    tasks: HashMap<i32, Task>,
    /// Each use's number, to close the least recently used file first.
    uses: u64,
    /// The first write that failed, said once; nothing more is written.
    failed: Option<String>,
    said: bool,
    /// The summary table's printer (its lines go where chatter goes).
    shared: TextFormat,
}

/// One task's lines: strace's state for its own file (an open syscall line), and the file.
struct Task {
    format: TextFormat,
    file: Option<std::io::BufWriter<std::fs::File>>,
    /// Its file exists (closed for room: reopened to append).
    created: bool,
    used: u64,
}

impl PerTask {
    pub fn new(options: &Options, prefix: PathBuf) -> PerTask {
        PerTask {
            options: *options,
            prefix,
            tasks: HashMap::new(),
            uses: 0,
            failed: None,
            said: false,
            shared: TextFormat::new(options),
        }
    }

    /// The file name of `tid`: PREFIX.TID.
    pub fn path(prefix: &std::path::Path, tid: i32) -> PathBuf {
        let mut name = prefix.as_os_str().to_owned();
        name.push(format!(".{tid}"));
        PathBuf::from(name)
    }

    /// Writes `lines` to `tid`'s file, created on its first line (a reused pid starts afresh,
    /// as strace truncates).
    fn write(&mut self, tid: i32, lines: &str) {
        if lines.is_empty() || self.failed.is_some() {
            return;
        }
        self.uses += 1;
        let used = self.uses;
        let task = self.task(tid);
        task.used = used;
        let append = task.created;
        if task.file.is_none()
            && let Err(e) = self.open(tid, append)
        {
            return self.fail(tid, e);
        }
        let task = self.tasks.get_mut(&tid).expect("opened above");
        if let Some(Err(e)) = task.file.as_mut().map(|f| f.write_all(lines.as_bytes())) {
            self.fail(tid, e);
        }
    }

    fn task(&mut self, tid: i32) -> &mut Task {
        let options = self.options;
        self.tasks.entry(tid).or_insert_with(|| Task {
            format: TextFormat::for_one_task(&options),
            file: None,
            created: false,
            used: 0,
        })
    }

    /// Opens `tid`'s file, first closing the least recently used one when too many are open.
    fn open(&mut self, tid: i32, append: bool) -> std::io::Result<()> {
        let open = self.tasks.values().filter(|t| t.file.is_some()).count();
        if open >= OPEN_FILES
            && let Some(old) = self
                .tasks
                .values_mut()
                .filter(|t| t.file.is_some())
                .min_by_key(|t| t.used)
            && let Some(mut f) = old.file.take()
        {
            f.flush()?;
        }
        let path = Self::path(&self.prefix, tid);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .append(append)
            .truncate(!append)
            .open(path)?;
        let task = self.tasks.get_mut(&tid).expect("made by task()");
        task.file = Some(std::io::BufWriter::new(file));
        task.created = true;
        Ok(())
    }

    fn fail(&mut self, tid: i32, e: std::io::Error) {
        if self.failed.is_some() {
            return;
        }
        let path = Self::path(&self.prefix, tid);
        self.failed = Some(format!(
            "-ff -o {}: {}",
            escape_bytes_cut(path.as_os_str().as_bytes(), 64),
            error_text(&e)
        ));
    }

    /// `tid`'s lines are over: its file is flushed and closed, its state dropped.
    fn close(&mut self, tid: i32) {
        let Some(task) = self.tasks.remove(&tid) else {
            return;
        };
        if let Some(Err(e)) = task.file.map(|mut f| f.flush()) {
            self.fail(tid, e);
        }
    }
}

impl Printer for PerTask {
    fn event(&mut self, ev: &Event, _: &mut String) {
        let mut lines = String::new();
        self.task(ev.tid).format.line(ev, &mut lines);
        self.write(ev.tid, &lines);
        // A thread's file ends with its exit; a process's with its verdict.
        if ev.tid != ev.pid
            && matches!(ev.kind, EventKind::Exited { .. } | EventKind::Killed { .. })
        {
            self.close(ev.tid);
        }
    }

    fn verdict(&mut self, v: &Verdict, _: &mut String) {
        let mut lines = String::new();
        self.task(v.pid).format.verdict(v, &mut lines);
        self.write(v.pid, &lines);
        self.close(v.pid);
    }

    fn note(&mut self, ev: &Event, n: &Note, out: &mut String) -> Chatter {
        self.shared.note(ev, n, out)
    }

    fn end(&mut self, _: &Event, _: Option<&Verdict>, _: &mut String) {}

    fn ends_with_table(&self) -> bool {
        self.shared.ends_with_table()
    }

    /// Each file is its task's alone: an open line is written as far as it goes, as strace's.
    fn idle(&mut self, _whole: bool, _: &mut String) {
        let open: Vec<(i32, String)> = self
            .tasks
            .iter_mut()
            .filter_map(|(tid, t)| {
                let mut part = String::new();
                t.format.idle(false, &mut part);
                (!part.is_empty()).then_some((*tid, part))
            })
            .collect();
        for (tid, part) in open {
            self.write(tid, &part);
        }
        let failed = self.tasks.iter_mut().find_map(|(tid, t)| {
            let e = t.file.as_mut().map(|f| f.flush())?.err()?;
            Some((*tid, e))
        });
        if let Some((tid, e)) = failed {
            self.fail(tid, e);
        }
    }

    fn failure(&mut self) -> Option<String> {
        if self.said {
            return None;
        }
        self.said = self.failed.is_some();
        self.failed.clone()
    }
}
