//! Config + environment -> Plan: how to stop at syscalls, the ptrace options, the seccomp filter, the command, the output.

use crate::cli::{self, Config, Target};
use crate::render::{self, Sink};
use crate::seccomp;
use crate::sys;
use crate::syscalls::{NR_CLONE, NR_CLONE3, NR_EXECVE};
use crate::text::{error_text, escape_bytes_cut};
use crate::tracer::SyscallMode;
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// A failure before tracing starts: the line to print, and sigtrace's exit status.
pub type Failure = (String, i32);

pub struct Plan {
    pub mode: SyscallMode,
    /// The PTRACE_O_* options of every tracee.
    pub options: i32,
    pub sink: Sink,
    /// The trace is written before a task resumes (`shared`), not in batches on a thread.
    pub inline: bool,
    /// --report and --perfetto, created now, written when the renderer ends.
    pub pictures: Option<render::pictures::Pictures>,
    /// The command to launch, or why it cannot be (said in the output's end too).
    pub launch: Option<Result<Command, Failure>>,
}

/// The command to launch, and its name as shown.
pub struct Command {
    pub exec: sys::Exec,
    pub shown: String,
}

impl Plan {
    pub fn new(config: &Config) -> Result<Plan, Failure> {
        rings_setting()?;
        distinct_outputs(config)?;
        let sink = sink(config)?;
        // -ff: each task's lines in a file of its own, which nobody else writes.
        let inline = !config.split && shared(&sink);
        let pictures =
            render::pictures::Pictures::open(config.report.as_deref(), config.perfetto.as_deref())
                .map_err(|msg| (msg, 1))?;
        let mode = mode(config);
        let launch = match &config.target {
            Target::Launch(argv) => Some(command(argv, config, mode)),
            Target::Attach(_) | Target::Watch(_) => None,
        };
        Ok(Plan {
            mode,
            options: options(config.follow, mode, config.kill_on_exit),
            sink,
            inline,
            pictures,
            launch,
        })
    }
}

/// SIGTRACE_RINGS (read where the kernel's record starts): perf or instance, else refused
/// before anything starts.
fn rings_setting() -> Result<(), Failure> {
    match std::env::var_os("SIGTRACE_RINGS") {
        Some(v) if v != "perf" && v != "instance" => Err((
            format!(
                "SIGTRACE_RINGS={}: unknown (perf or instance)",
                shown(v.as_bytes())
            ),
            1,
        )),
        _ => Ok(()),
    }
}

/// Refuses one file given to two outputs (`-o t --report t`), before anything is created: each
/// would overwrite the other. A device (/dev/null) may take several.
fn distinct_outputs(config: &Config) -> Result<(), Failure> {
    let trace = if config.split { &None } else { &config.output };
    let outputs = [
        ("-o", trace),
        ("--report", &config.report),
        ("--perfetto", &config.perfetto),
    ];
    let mut seen: Vec<(&str, &Path, FileKey)> = Vec::new();
    for (option, path) in outputs {
        let Some(path) = path.as_deref() else {
            continue;
        };
        let Some(key) = file_key(path) else {
            continue;
        };
        if let Some((first, first_path, _)) = seen.iter().find(|(_, _, k)| *k == key) {
            let name = |p: &Path| shown(p.as_os_str().as_bytes());
            return Err((
                format!(
                    "{first} {} and {option} {}: the same file; give each output its own",
                    name(first_path),
                    name(path)
                ),
                1,
            ));
        }
        seen.push((option, path, key));
    }
    Ok(())
}

/// What names one file: its inode if it exists, else its directory's real path and its name.
#[derive(PartialEq)]
enum FileKey {
    Inode(u64, u64),
    Path(PathBuf),
}

/// None for a device, which several outputs may share.
fn file_key(path: &Path) -> Option<FileKey> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    if let Ok(m) = std::fs::metadata(path) {
        return (!m.file_type().is_char_device()).then(|| FileKey::Inode(m.dev(), m.ino()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    Some(FileKey::Path(dir.join(path.file_name()?)))
}

fn sink(config: &Config) -> Result<Sink, Failure> {
    let watch = matches!(config.target, Target::Watch(_));
    let Some(path) = &config.output else {
        return Ok(if watch { Sink::Stdout } else { Sink::Stderr });
    };
    if config.split {
        probe_prefix(path)?;
        return Ok(Sink::Stderr);
    }
    let name = format!("-o {}", shown(path.as_os_str().as_bytes()));
    // A watch's log is appended to, as a service restarted writes on where it stopped.
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .append(watch)
        .truncate(!watch)
        .open(path);
    match opened {
        Ok(f) => {
            let regular = f.metadata().is_ok_and(|m| m.is_file());
            Ok(Sink::File(f, name, regular.then(|| path.clone())))
        }
        Err(e) => Err((format!("{name}: {}", error_text(&e)), 1)),
    }
}

/// -ff -o PREFIX: whether PREFIX.PID files can be made, asked before the command starts with
/// sigtrace's own pid (no traced task can have it while sigtrace runs).
fn probe_prefix(prefix: &Path) -> Result<(), Failure> {
    let probe = render::split::PerTask::path(prefix, std::process::id() as i32);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err((
            format!(
                "-ff -o {}: cannot create {}: {}",
                shown(prefix.as_os_str().as_bytes()),
                shown(probe.as_os_str().as_bytes()),
                error_text(&e)
            ),
            1,
        )),
    }
}

/// Whether the trace goes where the traced programs may write too: a terminal, or the file or
/// pipe that sigtrace's stdout or stderr is (the command inherits them). There a line must be
/// written before the program runs on, or its own output lands before or inside the line. Not
/// /dev/null and other devices nobody reads back.
fn shared(sink: &Sink) -> bool {
    use std::io::IsTerminal;
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let stat = |fd: std::os::fd::BorrowedFd| {
        let meta = std::fs::File::from(fd.try_clone_to_owned().ok()?)
            .metadata()
            .ok()?;
        Some((meta.dev(), meta.ino(), meta.file_type().is_char_device()))
    };
    let out = match sink {
        Sink::Stderr if io::stderr().is_terminal() => return true,
        Sink::File(f, ..) if f.is_terminal() => return true,
        Sink::Stdout => return false,
        Sink::Stderr => stat(io::stderr().as_fd()),
        Sink::File(f, ..) => stat(f.as_fd()),
    };
    let Some((dev, ino, device)) = out else {
        return false;
    };
    let same = |s: Option<(u64, u64, bool)>| s.is_some_and(|(d, i, _)| (d, i) == (dev, ino));
    !device && (same(stat(io::stdout().as_fd())) || same(stat(io::stderr().as_fd())))
}

/// The filter only with -f, as strace allows --seccomp-bpf only with -f: every child inherits
/// it, and a child left untraced under RET_TRACE gets ENOSYS. Not with -b execve either, which
/// leaves tasks untraced (strace drops its filter there too). With it, the watched calls (the
/// kill family names a SIGKILL's sender) stop even with `-e trace=none`.
fn mode(config: &Config) -> SyscallMode {
    let launch = matches!(config.target, Target::Launch(_));
    if config.record {
        SyscallMode::Off
    } else if launch
        && config.follow
        && config.seccomp
        && !config.detach_on_exec
        && sys::seccomp_available()
    {
        SyscallMode::Seccomp
    } else if config.trace.is_empty() {
        SyscallMode::Off
    } else {
        SyscallMode::Every
    }
}

/// COMMAND found as execvp would find it (so that a missing one is reported before anything
/// runs), with the filter it gets.
fn command(argv: &[OsString], config: &Config, mode: SyscallMode) -> Result<Command, Failure> {
    let path = resolve(&argv[0])?;
    let cstring = |s: &[u8]| {
        CString::new(s).map_err(|_| ("arguments may not contain NUL bytes".to_string(), 1))
    };
    // execve always stops: its seccomp stop before the first exec is how the tracer knows the
    // filter was installed. The watched calls always stop too: rt_sigaction keeps dispositions
    // known, the kill family names senders, setsid and setpgid keep groups known.
    let mut stops = config.trace;
    stops.insert(NR_EXECVE);
    for nr in crate::tracer::watched().iter() {
        stops.insert(nr);
    }
    // clone and clone3 always stop: a CLONE_UNTRACED child is made traced (tracer/syscalls.rs).
    stops.insert(NR_CLONE);
    stops.insert(NR_CLONE3);
    let exec = sys::Exec {
        path: cstring(path.as_os_str().as_bytes())?,
        argv: argv
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Result<_, _>>()?,
        filter: (mode == SyscallMode::Seccomp).then(|| seccomp::program(&seccomp::filter(&stops))),
        env: environment(&config.env)?,
        user: config
            .user
            .as_deref()
            .map(|name| credentials(name, &path))
            .transpose()?,
    };
    Ok(Command {
        exec,
        shown: shown(argv[0].as_bytes()),
    })
}

/// sigtrace's environment with -E's changes, as strace makes them: `VAR=VAL` sets VAR,
/// `VAR` removes it; None when there are none.
fn environment(changes: &[OsString]) -> Result<Option<Vec<CString>>, Failure> {
    if changes.is_empty() {
        return Ok(None);
    }
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    for change in changes {
        let bytes = change.as_bytes();
        let (var, val) = match bytes.iter().position(|&b| b == b'=') {
            Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
            None => (bytes, None),
        };
        if var.is_empty() {
            return Err((format!("-E {}: no variable name", shown(bytes)), 1));
        }
        env.retain(|(k, _)| k.as_bytes() != var);
        if let Some(val) = val {
            env.push((OsStr::from_bytes(var).into(), OsStr::from_bytes(val).into()));
        }
    }
    env.into_iter()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            CString::new(kv).map_err(|_| ("-E: a value may not contain NUL bytes".to_string(), 1))
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// -u USER's ids, as strace takes them: root only; a set-user-ID (set-group-ID) program runs
/// with its owner (group) as the effective id.
fn credentials(name: &str, program: &Path) -> Result<sys::Credentials, Failure> {
    use std::os::unix::fs::MetadataExt;
    let fail = |why: String| (format!("-u {}: {why}", shown(name.as_bytes())), 1);
    if !nix::unistd::geteuid().is_root() || !nix::unistd::getuid().is_root() {
        return Err(fail("only root can run a command as another user".into()));
    }
    let user = match nix::unistd::User::from_name(name) {
        Ok(Some(u)) => u,
        Ok(None) => return Err(fail("no such user".into())),
        Err(e) => return Err(fail(error_text(&e.into()))),
    };
    let groups = CString::new(name)
        .ok()
        .and_then(|c| nix::unistd::getgrouplist(&c, user.gid).ok())
        .ok_or_else(|| fail("its groups could not be read".into()))?;
    let (uid, gid) = (user.uid.as_raw(), user.gid.as_raw());
    let mode = std::fs::metadata(program).ok();
    let owner = |bit: u32, id: u32, own: fn(&std::fs::Metadata) -> u32| match &mode {
        Some(m) if m.mode() & bit != 0 => own(m),
        _ => id,
    };
    Ok(sys::Credentials {
        uid,
        gid,
        euid: owner(libc::S_ISUID, uid, |m| m.uid()),
        egid: owner(libc::S_ISGID, gid, |m| m.gid()),
        groups: groups.iter().map(|g| g.as_raw()).collect(),
    })
}

fn resolve(cmd: &OsString) -> Result<PathBuf, Failure> {
    if cmd.is_empty() {
        return Err(("'': command not found".into(), 127));
    }
    if cmd.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(cmd));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(cmd))
        .find(|p| is_executable(p))
        .ok_or_else(|| (format!("{}: command not found", shown(cmd.as_bytes())), 127))
}

/// A name from the command line as error lines quote it: escaped, and cut as `-e` errors cut
/// what they quote, so that a huge name still gives a line of readable length.
fn shown(name: &[u8]) -> String {
    escape_bytes_cut(name, 64)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The ptrace options for every tracee. A seccomp filter (only with -f) makes the command die
/// with sigtrace rather than run on with a filter whose RET_TRACE fails its syscalls with ENOSYS
/// when no tracer is there.
fn options(follow: bool, mode: SyscallMode, kill_on_exit: bool) -> i32 {
    // No PTRACE_O_TRACEEXIT: a stop more per task, for nothing the exit status does not tell.
    let mut o = sys::opt::TRACESYSGOOD | sys::opt::TRACECLONE | sys::opt::TRACEEXEC;
    if follow {
        o |= sys::opt::TRACEFORK | sys::opt::TRACEVFORK;
    }
    if mode == SyscallMode::Seccomp {
        o |= sys::opt::TRACESECCOMP | sys::opt::EXITKILL;
    }
    if kill_on_exit {
        o |= sys::opt::EXITKILL;
    }
    o
}

/// How lines are printed, from the command line.
pub fn print_options(config: &Config) -> render::Options {
    let to_file = config.output.is_some();
    let several = matches!(&config.target, Target::Attach(p) if p.len() > 1);
    let watch = matches!(config.target, Target::Watch(_));
    // The record mode follows the whole tree: its output is -f's, summary table included.
    let follow = config.follow || (config.record && !watch);
    render::Options {
        clock: config.clock,
        relative: config.relative,
        quiet: config.quiet,
        quiet_exits: config.quiet_exits,
        summary: match (config.summary_only, follow) {
            (true, _) => render::Summary::Only,
            (false, true) => render::Summary::AtEnd,
            (false, false) => render::Summary::None,
        },
        color: use_color(config.color, terminal(config)),
        signals: config.signals,
        pid_column: to_file && (follow || several),
        to_file,
        watch,
    }
}

/// Text (strace's lines) or JSON Lines.
pub fn printer(config: &Config, options: &render::Options) -> Box<dyn render::Printer> {
    if let Some(prefix) = config.output.as_ref().filter(|_| config.split) {
        Box::new(render::split::PerTask::new(options, prefix.clone()))
    } else if config.json {
        Box::new(render::json::JsonFormat::new())
    } else {
        Box::new(render::text::TextFormat::new(options))
    }
}

/// `auto`: only on a terminal, and never when NO_COLOR is set (to anything but "").
fn use_color(when: cli::Color, terminal: bool) -> bool {
    match when {
        cli::Color::Always => true,
        cli::Color::Never => false,
        cli::Color::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Whether the trace goes to a terminal: stderr, or stdout for a watch, never with -o.
fn terminal(config: &Config) -> bool {
    use std::io::IsTerminal;
    match (&config.output, &config.target) {
        (Some(_), _) => false,
        (None, Target::Watch(_)) => io::stdout().is_terminal(),
        (None, _) => io::stderr().is_terminal(),
    }
}
