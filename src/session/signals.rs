//! The signals sent to sigtrace (SIGINT, SIGTERM, SIGHUP, SIGUSR1, ...), taken on a thread of their own.

use crate::sys;
use crate::tracer::Control;
use std::sync::Arc;

/// The thread that takes the signals sent to sigtrace and wakes the tracer,
/// again and again until it has taken the signal (a wake-up may land just before waitpid).
pub fn spawn_signal_thread(control: Arc<Control>) {
    let tracer_thread = sys::current_thread();
    std::thread::spawn(move || {
        loop {
            control.push(sys::wait_control_signal());
            while !control.is_empty() {
                sys::wake(tracer_thread);
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    });
}
