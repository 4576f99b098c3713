//! Where the kernel describes its tracepoints: the tracefs `format` files of signal_generate, mark_victim and the process-table ones (task_newtask, sched_process_exec, sched_process_exit), parsed into ids and field offsets.

use crate::sys::perf;
use std::io;

const MOUNTS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
const GENERATE: &str = "events/signal/signal_generate/format";
const VICTIM: &str = "events/oom/mark_victim/format";
const NEWTASK: &str = "events/task/task_newtask/format";
const EXEC: &str = "events/sched/sched_process_exec/format";
const EXIT: &str = "events/sched/sched_process_exit/format";
const DELIVER: &str = "events/signal/signal_deliver/format";
const FILES: [&str; 6] = [GENERATE, VICTIM, NEWTASK, EXEC, EXIT, DELIVER];

/// A tracepoint's id and its fields: (name, offset, size) in the raw record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pub id: u64,
    fields: Vec<(String, usize, usize)>,
}

impl Format {
    /// Parses a tracefs format file (`ID: 261`, then `field:int sig; offset:8; size:4; ...`).
    pub fn parse(text: &str) -> Option<Format> {
        let mut id = None;
        let mut fields = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("ID:") {
                id = v.trim().parse().ok();
            } else if let Some(rest) = line.strip_prefix("field:") {
                fields.extend(parse_field(rest));
            }
        }
        Some(Format { id: id?, fields })
    }

    /// The offset of field `name`, when it has `size` bytes.
    pub fn offset(&self, name: &str, size: usize) -> Option<usize> {
        self.fields
            .iter()
            .find(|(n, _, s)| n == name && *s == size)
            .map(|&(_, o, _)| o)
    }
}

/// `int sig;\toffset:8;\tsize:4;\tsigned:1;` as ("sig", 8, 4); `char comm[16]` names `comm`.
fn parse_field(rest: &str) -> Option<(String, usize, usize)> {
    let mut parts = rest.split(';').map(str::trim);
    let decl = parts.next()?;
    let name = decl.rsplit(' ').next()?;
    let name = name.split('[').next()?.to_string();
    let mut num = |key: &str| {
        parts
            .next()?
            .strip_prefix(key)?
            .trim()
            .parse::<usize>()
            .ok()
    };
    let offset = num("offset:")?;
    let size = num("size:")?;
    Some((name, offset, size))
}

/// Where signal_generate keeps each field in its raw record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generate {
    pub id: u64,
    pub sig: usize,
    pub code: usize,
    pub pid: usize,
    pub group: usize,
    pub result: usize,
}

impl Generate {
    pub fn from_format(f: &Format) -> Option<Generate> {
        Some(Generate {
            id: f.id,
            sig: f.offset("sig", 4)?,
            code: f.offset("code", 4)?,
            pid: f.offset("pid", 4)?,
            group: f.offset("group", 4)?,
            result: f.offset("result", 4)?,
        })
    }
}

/// Where mark_victim keeps the victim's pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Victim {
    pub id: u64,
    pub pid: usize,
}

/// task_newtask: the new task's pid, comm (its parent's, copied) and clone flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewTask {
    pub id: u64,
    pub pid: usize,
    pub comm: usize,
    pub flags: usize,
}

/// sched_process_exec: the program's path (a `__data_loc` word: length << 16 | offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exec {
    pub id: u64,
    pub filename: usize,
}

/// sched_process_exit: the task's comm, and whether its thread group is dead with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    pub id: u64,
    pub comm: usize,
    pub group_dead: Option<usize>,
}

/// The tracepoints that feed the process table; None where one is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskLayouts {
    pub newtask: NewTask,
    pub exec: Exec,
    pub exit: Exit,
}

impl TaskLayouts {
    fn from_formats(newtask: &Format, exec: &Format, exit: &Format) -> Option<TaskLayouts> {
        Some(TaskLayouts {
            newtask: NewTask {
                id: newtask.id,
                pid: newtask.offset("pid", 4)?,
                comm: newtask.offset("comm", 16)?,
                flags: newtask.offset("clone_flags", 8)?,
            },
            exec: Exec {
                id: exec.id,
                filename: exec.offset("filename", 4)?,
            },
            exit: Exit {
                id: exit.id,
                comm: exit.offset("comm", 16)?,
                group_dead: exit.offset("group_dead", 1),
            },
        })
    }
}

/// The tracepoints; the OOM one is missing on kernels built without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layouts {
    pub generate: Generate,
    pub victim: Option<Victim>,
    pub task: Option<TaskLayouts>,
    pub deliver: Option<Deliver>,
}

/// Where signal_deliver keeps the signal and the handler it is delivered to (SIG_DFL 0,
/// SIG_IGN 1, else a function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deliver {
    pub id: u64,
    pub sig: usize,
    pub handler: usize,
}

/// Reads the format files from a mounted tracefs (or debugfs), else, as root, from a tracefs
/// mounted for a moment in a private mount namespace (nothing is left mounted).
pub fn load() -> Result<Layouts, String> {
    let texts = match mounted()? {
        Some(m) => FILES.map(|f| std::fs::read(format!("{m}/{f}")).ok()),
        None => read_private()?,
    };
    let [generate, victim, newtask, exec, exit, deliver] =
        texts.map(|t| Format::parse(&String::from_utf8_lossy(&t?)));
    let generate = generate
        .as_ref()
        .and_then(Generate::from_format)
        .ok_or("the signal:signal_generate tracepoint is not readable in tracefs")?;
    let victim = victim.as_ref().and_then(|f| {
        Some(Victim {
            id: f.id,
            pid: f.offset("pid", 4)?,
        })
    });
    let task = match (&newtask, &exec, &exit) {
        (Some(n), Some(e), Some(x)) => TaskLayouts::from_formats(n, e, x),
        _ => None,
    };
    let deliver = deliver.as_ref().and_then(|f| {
        Some(Deliver {
            id: f.id,
            sig: f.offset("sig", 4)?,
            handler: f.offset("sa_handler", 8)?,
        })
    });
    Ok(Layouts {
        generate,
        victim,
        task,
        deliver,
    })
}

/// Where tracefs is mounted and readable, if it is.
pub fn root() -> Option<String> {
    mounted().ok().flatten()
}

/// Where /proc/self/mounts shows tracefs (or debugfs, with tracefs at its `tracing`).
fn tracefs_mounts(mounts: &str) -> Vec<String> {
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let (_, at, kind) = (f.next()?, f.next()?, f.next()?);
            match kind {
                "tracefs" => Some(at.to_string()),
                "debugfs" => Some(format!("{at}/tracing")),
                _ => None,
            }
        })
        .collect()
}

/// Where tracefs is mounted, if it is (a fresh mount would apply default options to the one
/// tracefs superblock, undoing an administrator's mode or gid); an error when it is there but not readable (it is
/// root's: CAP_PERFMON alone does not open it).
fn mounted() -> Result<Option<String>, String> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let listed = MOUNTS.iter().map(|m| m.to_string());
    for m in listed.chain(tracefs_mounts(&mounts)) {
        match std::fs::metadata(format!("{m}/events")) {
            Ok(meta) if meta.is_dir() => return Ok(Some(m)),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(format!(
                    "{m}: {}; run as root, or make tracefs readable",
                    crate::text::error_text(&e)
                ));
            }
            _ => {}
        }
    }
    Ok(None)
}

fn read_private() -> Result<[Option<Vec<u8>>; 6], String> {
    let files = FILES.map(|f| format!("{}/{f}", MOUNTS[0]));
    let paths: Vec<&str> = files.iter().map(String::as_str).collect();
    let got = perf::read_private_tracefs(&paths)
        .map_err(|e: io::Error| format!("tracefs is not mounted and could not be: {e}"))?;
    let mut it = got.into_iter();
    Ok([(); 6].map(|_| it.next().flatten()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENERATE_6_18: &str = "name: signal_generate
ID: 261
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int sig;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int errno;\toffset:12;\tsize:4;\tsigned:1;
\tfield:int code;\toffset:16;\tsize:4;\tsigned:1;
\tfield:char comm[16];\toffset:20;\tsize:16;\tsigned:0;
\tfield:pid_t pid;\toffset:36;\tsize:4;\tsigned:1;
\tfield:int group;\toffset:40;\tsize:4;\tsigned:1;
\tfield:int result;\toffset:44;\tsize:4;\tsigned:1;
";

    #[test]
    fn signal_generate_format() {
        let f = Format::parse(GENERATE_6_18).unwrap();
        assert_eq!(f.offset("comm", 16), Some(20));
        let g = Generate::from_format(&f).unwrap();
        assert_eq!(
            g,
            Generate {
                id: 261,
                sig: 8,
                code: 16,
                pid: 36,
                group: 40,
                result: 44
            }
        );
    }

    #[test]
    fn tracefs_mount_points() {
        let mounts = "none /mnt/t tracefs rw 0 0\nproc /proc proc rw 0 0\nd /dbg debugfs rw 0 0\n";
        assert_eq!(tracefs_mounts(mounts), ["/mnt/t", "/dbg/tracing"]);
    }

    #[test]
    fn a_missing_field_is_no_layout() {
        let f = Format::parse(&GENERATE_6_18.replace("result", "res")).unwrap();
        assert_eq!(Generate::from_format(&f), None);
        assert_eq!(Format::parse("field:int x;\toffset:8;\tsize:4;"), None);
    }
}
