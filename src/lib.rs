//! sigtrace: a ptrace-based signal tracer that prints strace's lines and says who ended a process.
#![deny(unsafe_code)]

pub mod cli;
pub mod decode;
pub mod event;
pub mod kernel;
pub mod procfs;
pub mod render;
pub mod signal;
pub mod sys;
pub mod tracer;
pub mod verdict;

use cli::{Config, Parsed, Target};
use std::ffi::{CString, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An error's text without Rust's " (os error N)" suffix, as strerror words it.
pub fn error_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// One line on stderr, prefixed `sigtrace: `.
pub fn warn(msg: &str) {
    let _ = writeln!(io::stderr(), "sigtrace: {msg}");
}

/// Escapes text from the traced system (names, command lines) as strace quotes strings:
/// C escapes for quotes, backslashes and control bytes, octal for other non-ASCII bytes.
pub fn escape(s: &str) -> String {
    escape_bytes(s.as_bytes())
}

/// A piece of the user's input quoted in an error message: escaped, and cut at 64 characters so
/// that a huge argument still gives a one-line error of readable length.
pub fn escape_input(s: &str) -> String {
    escape_cut(s, 64)
}

fn escape_cut(s: &str, max: usize) -> String {
    escape_bytes_cut(s.as_bytes(), max)
}

/// Escaped, and at most `max` characters of it (an escape takes up to four), then how long
/// the whole was.
pub fn escape_bytes_cut(s: &[u8], max: usize) -> String {
    let whole = escape_bytes(s);
    if whole.len() <= max {
        return whole;
    }
    let mut n = max.min(s.len());
    let mut out = escape_bytes(&s[..n]);
    while out.len() > max {
        n -= (out.len() - max).div_ceil(4);
        out = escape_bytes(&s[..n]);
    }
    out.push_str(&format!("...({} bytes)", s.len()));
    out
}

/// An error line from clap, which may quote a huge argument: escaped, cut at 160 characters.
pub fn escape_message(s: &str) -> String {
    escape_cut(s, 160)
}

pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    render::syscall::escape_into(bytes, &mut out);
    out
}

/// The whole program: returns sigtrace's exit status.
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    let config = match cli::parse(args) {
        Ok(Parsed::Run(c)) => c,
        Ok(Parsed::Print(text)) => {
            print!("{text}");
            return 0;
        }
        Err(msg) => {
            warn(&msg);
            return 1;
        }
    };
    match run(config) {
        Ok(status) => status,
        Err((msg, status)) => {
            warn(&msg);
            status
        }
    }
}

/// Finds COMMAND as execvp would, so that a missing command is reported before anything runs.
fn resolve(cmd: &OsString) -> Result<PathBuf, (String, i32)> {
    let shown = escape_bytes(cmd.as_bytes());
    if cmd.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(cmd));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(cmd))
        .find(|p| is_executable(p))
        .ok_or_else(|| (format!("{shown}: command not found"), 127))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn cstring(s: &[u8]) -> Result<CString, (String, i32)> {
    CString::new(s).map_err(|_| ("arguments may not contain NUL bytes".to_string(), 1))
}

type Failure = (String, i32);

fn run(config: Config) -> Result<i32, Failure> {
    let sink = match &config.output {
        Some(path) => {
            let f = std::fs::File::create(path).map_err(|e| {
                (
                    format!("{}: {}", escape(&path.to_string_lossy()), error_text(&e)),
                    1,
                )
            })?;
            render::Sink::File(f, escape(&path.to_string_lossy()))
        }
        None => render::Sink::Stderr,
    };
    let launch = matches!(config.target, Target::Launch(_));
    // The filter only with -f, as strace allows --seccomp-bpf only with -f: every child inherits
    // it, and a child left untraced under RET_TRACE gets ENOSYS.
    let mode = if config.trace.is_empty() {
        tracer::SyscallMode::Off
    } else if launch && config.follow && config.seccomp && sys::seccomp_available() {
        tracer::SyscallMode::Seccomp
    } else {
        tracer::SyscallMode::Every
    };
    let saved = sys::setup_signals().map_err(|e| (format!("signals: {}", error_text(&e)), 1))?;
    let control = Arc::new(tracer::Control::default());
    let (tx, rx) = crossbeam_channel::bounded(16);
    let bell = Arc::new(render::Doorbell::default());
    let mut tracer = tracer::Tracer::new(
        config.follow,
        config.trace,
        mode,
        control.clone(),
        tx,
        bell.clone(),
    );

    let kernel = if config.kernel_record {
        kernel::start(tracer.targets())
    } else {
        Err(kernel::Off::Disabled)
    };
    tracer.use_kernel_record(kernel);

    let mut held = None;
    match &config.target {
        Target::Launch(argv) => held = Some(spawn(argv, &config, mode, &saved)?),
        Target::Attach(pids) => {
            for &pid in pids {
                if let Err(msg) = tracer.attach(pid) {
                    tracer.detach_all();
                    return Err((msg, 1));
                }
            }
        }
    }

    let format = output_format(&config, tracer.ntasks());
    let renderer = render::Renderer::new(format, sink, config.quiet, config.follow);
    let renderer_bell = bell.clone();
    let render_thread = std::thread::spawn(move || renderer.run(rx, &renderer_bell));
    spawn_signal_thread(control);

    let mut shown = String::new();
    if let Some((child, name)) = held {
        tracer.adopt_launched(child);
        shown = name;
    }
    let result = tracer.run();
    tracer.close_output();
    let _ = render_thread.join();
    status_of(result, &shown)
}

/// sigtrace's exit status for how the run ended: the command's, or 127/126 with a line
/// saying why it could not be executed.
fn status_of(
    result: Result<tracer::Outcome, tracer::ExecFailed>,
    shown: &str,
) -> Result<i32, Failure> {
    match result {
        Ok(outcome) => Ok(outcome.status()),
        Err(tracer::ExecFailed(e)) => {
            let status = if e.raw_os_error() == Some(libc::ENOENT) {
                127
            } else {
                126
            };
            Err((
                format!("cannot execute {shown}: {}", error_text(&e)),
                status,
            ))
        }
    }
}

/// Forks the command, seized and held before exec; returns it with its name as shown.
fn spawn(
    argv: &[OsString],
    config: &Config,
    mode: tracer::SyscallMode,
    saved: &sys::SavedSignals,
) -> Result<(sys::HeldChild, String), Failure> {
    let path = resolve(&argv[0])?;
    let shown = escape_bytes(argv[0].as_bytes());
    let cpath = cstring(path.as_os_str().as_bytes())?;
    let cargv = argv
        .iter()
        .map(|a| cstring(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    // execve always stops: its seccomp stop before the first exec is how the tracer knows the
    // filter was installed. rt_sigaction always stops too: it keeps dispositions known.
    let mut stops = config.trace;
    stops.insert(tracer::NR_EXECVE);
    stops.insert(tracer::NR_RT_SIGACTION);
    let filter =
        (mode == tracer::SyscallMode::Seccomp).then(|| decode::syscall::seccomp_filter(&stops));
    let options = tracer::options(config.follow, mode);
    let child = sys::spawn_held(&cpath, &cargv, saved, options, filter.as_deref())
        .map_err(|e| (format!("cannot start {shown}: {}", error_text(&e)), 1))?;
    Ok((child, shown))
}

/// Text (strace's lines, pid columns with -o when several tasks may print) or JSON Lines.
fn output_format(config: &Config, ntasks: usize) -> render::Format {
    if config.json {
        return render::Format::Json(render::json::JsonFormat::new(sys::clock_ticks()));
    }
    let to_file = config.output.is_some();
    let mut text = render::text::TextFormat::new(
        config.clock,
        config.relative,
        config.signals,
        to_file && (config.follow || ntasks > 1),
        to_file,
    );
    text.color = use_color(config.color, !to_file);
    render::Format::Text(text)
}

/// `auto`: only on a terminal, and never when NO_COLOR is set (to anything but "").
fn use_color(when: cli::Color, to_stderr: bool) -> bool {
    use std::io::IsTerminal;
    match when {
        cli::Color::Always => true,
        cli::Color::Never => false,
        cli::Color::Auto => {
            to_stderr
                && io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// The thread that takes SIGINT, SIGTERM, SIGHUP and SIGQUIT for sigtrace and wakes the tracer,
/// again and again until it has taken the signal (a wake-up may land just before waitpid).
fn spawn_signal_thread(control: Arc<tracer::Control>) {
    let tracer_thread = sys::current_thread();
    std::thread::spawn(move || {
        loop {
            let (sig, code) = sys::wait_control_signal();
            control.push(sig, code);
            while !control.is_empty() {
                sys::wake(tracer_thread);
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    });
}
