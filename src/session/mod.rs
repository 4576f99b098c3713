//! One run of sigtrace: the tracer on this thread, the renderer and signal threads, the channel between them, the exit status.
mod signals;

use crate::channel::{Doorbell, Outlet};
use crate::cli::{self, Config, Parsed, Target};
use crate::event::Event;
use crate::msg::warn;
use crate::plan::{self, Failure, Plan};
use crate::render;
use crate::sys;
use crate::text::error_text;
use crate::tracer::{self, Tracer};
use crossbeam_channel::Receiver;
use std::ffi::OsString;
use std::sync::Arc;

/// The whole program: returns sigtrace's exit status.
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    let config = match cli::parse(args) {
        Ok(Parsed::Run(c)) => *c,
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
    if config.record {
        return record(&config, plan, &saved);
    }
    let control = Arc::new(tracer::Control::default());
    let setup = tracer::Setup {
        follow: config.follow,
        options: plan.options,
        trace: config.trace,
        mode: plan.mode,
        stacks: config.stacks,
        string_limit: config.string_limit,
        detach_on_exec: config.detach_on_exec,
        decode_pids: config.decode_pids,
    };
    let options = plan::print_options(&config);
    let renderer = render::Renderer::new(plan::printer(&config, &options), plan.sink, &options)
        .with_pictures(plan.pictures.take());
    let (mut tracer, renderer) = tracer(setup, control.clone(), renderer, plan.inline);
    let (kernel, senders) = crate::kernel::source(config.kernel_record, tracer.targets());
    tracer.add_source(kernel);
    tracer.use_senders(senders);

    // Forked before the renderer and signal threads exist (sys::spawn_held).
    let held = plan
        .launch
        .take()
        .map(|cmd| cmd.and_then(|cmd| spawn(cmd, Some(plan.options), &saved)));
    // The renderer and the signal thread run before anything is attached: attaching queues
    // events (a bounded channel), and a SIGINT must be taken while attaching thousands of pids.
    let render_thread =
        renderer.map(|(renderer, rx, bell)| std::thread::spawn(move || renderer.run(rx, &bell)));
    signals::spawn_signal_thread(control);
    if let Target::Attach(pids) = &config.target
        && let Err(msg) = tracer.attach_all(pids)
    {
        return Err(ended_early(tracer, render_thread, (msg, 1)));
    }

    let mut shown = String::new();
    match held {
        Some(Ok((child, name))) => {
            tracer.adopt_launched(child);
            shown = name;
        }
        // The output ends as when the command cannot be executed: an end event with the error.
        Some(Err((msg, status))) => {
            tracer.end(status, Some(msg.clone()));
            let failure = ended_early(tracer, render_thread, (msg, status));
            return json_on_stderr(&config, Err(failure));
        }
        None => {}
    }
    let (status, killed) = ended(tracer.run(), &config, &shown);
    let (code, error) = end_event(&status);
    tracer.end(code, error);
    let written = close(&mut tracer, render_thread);
    if let Some(sig) = killed {
        reraise(tracer, sig);
    }
    final_status(&config, status, written)
}

/// The record mode (`--no-ptrace`): the same renderer, fed by the recorder instead of the
/// tracer; the same exit status.
fn record(config: &Config, mut plan: Plan, saved: &sys::SavedSignals) -> Result<i32, Failure> {
    let control = Arc::new(tracer::Control::default());
    let (tx, rx) = crossbeam_channel::bounded(crate::channel::CHANNEL);
    let bell = Arc::new(Doorbell::default());
    let mut recorder = crate::record::Recorder::new(control.clone(), tx, bell.clone());
    let held = plan
        .launch
        .take()
        .map(|cmd| cmd.and_then(|cmd| spawn(cmd, None, saved)));
    let options = plan::print_options(config);
    let renderer = render::Renderer::new(plan::printer(config, &options), plan.sink, &options)
        .with_pictures(plan.pictures.take());
    let render_thread = std::thread::spawn(move || renderer.run(rx, &bell));
    signals::spawn_signal_thread(control);
    let close = |mut recorder: crate::record::Recorder| {
        recorder.close_output();
        render_thread.join().unwrap_or(false)
    };
    let mut shown = String::new();
    let started = match (held, &config.target) {
        (Some(Ok((child, name))), _) => {
            shown = name;
            recorder.launch(child)
        }
        (Some(Err((msg, status))), _) => {
            recorder.end(status, Some(msg.clone()));
            close(recorder);
            return json_on_stderr(config, Err((msg, status)));
        }
        (None, Target::Attach(pids)) => {
            if let Err(msg) = recorder.attach(pids) {
                close(recorder);
                return Err((msg, 1));
            }
            Ok(())
        }
        (None, Target::Launch(_)) => unreachable!("the plan holds the command to launch"),
    };
    let (status, killed) = ended(started.map(|()| recorder.run()), config, &shown);
    let (code, error) = end_event(&status);
    recorder.end(code, error);
    // The recorder's sources hand over what they hold when dropped, before a re-raise.
    let written = close(recorder);
    if let Some(sig) = killed {
        sys::reraise(sig.0);
    }
    final_status(config, status, written)
}

/// sigtrace's status for how the run ended, and the signal to re-raise (a launched command
/// killed by one).
fn ended(
    result: Result<tracer::RunEnd, tracer::ExecFailed>,
    config: &Config,
    shown: &str,
) -> (Result<i32, Failure>, Option<crate::signal::Signal>) {
    let killed = match (&result, &config.target) {
        (Ok(tracer::RunEnd::Killed(sig)), Target::Launch(_)) => Some(*sig),
        _ => None,
    };
    (status_of(result, shown), killed)
}

/// The `end` event's status and error.
fn end_event(status: &Result<i32, Failure>) -> (i32, Option<String>) {
    match status {
        Ok(s) => (*s, None),
        Err((msg, s)) => (*s, Some(msg.clone())),
    }
}

/// A file named on the command line that could not be written (said already) fails a run
/// that would have succeeded.
fn final_status(
    config: &Config,
    status: Result<i32, Failure>,
    written: bool,
) -> Result<i32, Failure> {
    match status {
        Ok(0) if !written => Ok(1),
        status => json_on_stderr(config, status),
    }
}

/// A JSON stream on stderr says a failure in its end event, and nothing but JSON goes there.
fn json_on_stderr(config: &Config, status: Result<i32, Failure>) -> Result<i32, Failure> {
    match status {
        Err((_, s)) if config.json && config.output.is_none() => Ok(s),
        status => status,
    }
}

/// A renderer thread to start, with its end of the channel and its doorbell.
type RenderThread = (render::Renderer, Receiver<Vec<Event>>, Arc<Doorbell>);

/// The tracer, and the renderer's thread to start: where the output is shared with the traced
/// programs (`inline`), the renderer runs on the tracer's thread instead, writing before
/// each resume.
fn tracer(
    setup: tracer::Setup,
    control: Arc<tracer::Control>,
    renderer: render::Renderer,
    inline: bool,
) -> (Tracer, Option<RenderThread>) {
    if inline {
        let out = Outlet::Inline(Box::new(renderer));
        return (Tracer::new(setup, control, out), None);
    }
    let (tx, rx) = crossbeam_channel::bounded(crate::channel::CHANNEL);
    let bell = Arc::new(Doorbell::default());
    let out = Outlet::Thread {
        tx,
        bell: bell.clone(),
    };
    (Tracer::new(setup, control, out), Some((renderer, rx, bell)))
}

/// Ends the output; false when a file named on the command line could not be written.
fn close(tracer: &mut Tracer, render_thread: Option<std::thread::JoinHandle<bool>>) -> bool {
    let inline = tracer.close_output();
    let thread = render_thread.is_none_or(|t| t.join().unwrap_or(false));
    inline && thread
}

/// As strace does: the command's parent sees the death by signal it would have seen. The
/// tracer goes first: its sources hand over what they hold only when dropped (the kernel's
/// record: `sys::hold_until_exit`).
fn reraise(tracer: Tracer, sig: crate::signal::Signal) {
    drop(tracer);
    sys::reraise(sig.0);
}

/// A failure after the renderer started: it ends before the error line is written.
fn ended_early(
    mut tracer: Tracer,
    render_thread: Option<std::thread::JoinHandle<bool>>,
    failure: Failure,
) -> Failure {
    close(&mut tracer, render_thread);
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

/// Forks the command, held before exec (and seized with `options`, unless in the record
/// mode); returns it with its name as shown.
fn spawn(
    cmd: plan::Command,
    options: Option<i32>,
    saved: &sys::SavedSignals,
) -> Result<(sys::HeldChild, String), Failure> {
    let child = sys::spawn_held(&cmd.exec, saved, options)
        .map_err(|e| (format!("cannot start {}: {}", cmd.shown, error_text(&e)), 1))?;
    Ok((child, cmd.shown))
}
