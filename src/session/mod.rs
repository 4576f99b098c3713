//! One run of sigtrace: the tracer on this thread, the renderer and signal threads, the channel between them, the exit status.
mod signals;

use crate::cli::{self, Config, Parsed, Target};
use crate::msg::warn;
use crate::plan::{self, Failure, Plan};
use crate::render;
use crate::sys;
use crate::text::error_text;
use crate::tracer::{self, Tracer};
use std::ffi::OsString;
use std::sync::Arc;

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

fn run(config: Config) -> Result<i32, Failure> {
    let mut plan = Plan::new(&config)?;
    let saved = sys::setup_signals().map_err(|e| (format!("signals: {}", error_text(&e)), 1))?;
    let control = Arc::new(tracer::Control::default());
    let (tx, rx) = crossbeam_channel::bounded(tracer::CHANNEL);
    let bell = Arc::new(crate::channel::Doorbell::default());
    let mut tracer = Tracer::new(
        config.follow,
        plan.options,
        config.trace,
        plan.mode,
        control.clone(),
        tx,
        bell.clone(),
    );
    if config.stacks {
        tracer.capture_stacks();
    }

    let kernel = if config.kernel_record {
        crate::kernel::start(tracer.targets())
    } else {
        Err(crate::event::Off::Disabled)
    };
    tracer.use_kernel_record(kernel);

    // Forked before any thread exists (sys::spawn_held).
    let held = match plan.launch.take() {
        Some(cmd) => Some(spawn(cmd, plan.options, &saved)?),
        None => None,
    };
    // The renderer and the signal thread run before anything is attached: attaching queues
    // events (a bounded channel), and a SIGINT must be taken while attaching thousands of pids.
    let format = plan::format(&config);
    let summary = match (config.summary_only, config.follow) {
        (true, _) => render::Summary::Only,
        (false, true) => render::Summary::AtEnd,
        (false, false) => render::Summary::None,
    };
    let renderer = render::Renderer::new(format, plan.sink, config.quiet, summary)
        .with_pictures(plan.pictures.take());
    let renderer_bell = bell.clone();
    let render_thread = std::thread::spawn(move || renderer.run(rx, &renderer_bell));
    signals::spawn_signal_thread(control);
    if let Target::Attach(pids) = &config.target
        && let Err(msg) = tracer.attach_all(pids)
    {
        return Err(ended_early(tracer, render_thread, (msg, 1)));
    }

    let mut shown = String::new();
    if let Some((child, name)) = held {
        tracer.adopt_launched(child);
        shown = name;
    }
    let result = tracer.run();
    let killed = match (&result, &config.target) {
        (Ok(tracer::RunEnd::Killed(sig)), Target::Launch(_)) => Some(*sig),
        _ => None,
    };
    let status = status_of(result, &shown);
    match &status {
        Ok(s) => tracer.end(*s, None),
        Err((msg, s)) => tracer.end(*s, Some(msg.clone())),
    }
    tracer.close_output();
    let _ = render_thread.join();
    // Before a re-raise ends the process: the kernel's record hands its events over
    // (`sys::hold_until_exit`) only when dropped.
    drop(tracer);
    if let Some(sig) = killed {
        // As strace does: the command's parent sees the death by signal it would have seen.
        sys::reraise(sig.0);
    }
    match status {
        // A JSON stream on stderr says it in its end event, and nothing but JSON goes there.
        Err((_, s)) if config.json && config.output.is_none() => Ok(s),
        status => status,
    }
}

/// A failure after the renderer started: it ends before the error line is written.
fn ended_early(
    mut tracer: Tracer,
    render_thread: std::thread::JoinHandle<()>,
    failure: Failure,
) -> Failure {
    tracer.close_output();
    let _ = render_thread.join();
    failure
}

/// sigtrace's exit status for how the run ended: the command's, or 127/126 with a line
/// saying why it could not be executed.
fn status_of(
    result: Result<tracer::RunEnd, tracer::ExecFailed>,
    shown: &str,
) -> Result<i32, Failure> {
    match result {
        Ok(end) => Ok(end.status()),
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
    cmd: plan::Command,
    options: i32,
    saved: &sys::SavedSignals,
) -> Result<(sys::HeldChild, String), Failure> {
    let child = sys::spawn_held(&cmd.path, &cmd.argv, saved, options, cmd.filter.as_deref())
        .map_err(|e| (format!("cannot start {}: {}", cmd.shown, error_text(&e)), 1))?;
    Ok((child, cmd.shown))
}
