//! Pure classification of raw waitpid statuses into the stops the tracer acts on.

use crate::signal::Signal;

/// A ptrace event reported in bits 16..24 of a stop status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PtraceEvent {
    Fork,
    Vfork,
    Clone,
    Exec,
    VforkDone,
    Exit,
    Seccomp,
}

/// What one waitpid status means for a traced task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The task exited with this code (it is gone).
    Exited(i32),
    /// A signal killed the task (it is gone).
    Killed { sig: Signal, core: bool },
    /// Signal-delivery-stop: `sig` is about to be delivered; it must be re-injected on resume.
    Signal(Signal),
    /// Group-stop (PTRACE_EVENT_STOP with a stopping signal): resume with PTRACE_LISTEN.
    GroupStop(Signal),
    /// PTRACE_EVENT_STOP with SIGTRAP: PTRACE_INTERRUPT, a new task's first stop, or SIGCONT
    /// waking a listening task. Nothing to deliver.
    Interrupt,
    /// Syscall-enter or -exit stop (SIGTRAP|0x80 with PTRACE_O_TRACESYSGOOD).
    Syscall,
    /// A PTRACE_EVENT_* stop.
    Event(PtraceEvent),
}

/// A status that no traced task can report under sigtrace's ptrace options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unexpected(pub i32);

impl std::fmt::Display for Unexpected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unexpected wait status {:#x}", self.0)
    }
}

const EVENT_STOP: i32 = 128;

pub fn classify(status: i32) -> Result<Stop, Unexpected> {
    if libc::WIFEXITED(status) {
        return Ok(Stop::Exited(libc::WEXITSTATUS(status)));
    }
    if libc::WIFSIGNALED(status) {
        return Ok(Stop::Killed {
            sig: Signal(libc::WTERMSIG(status)),
            core: libc::WCOREDUMP(status),
        });
    }
    if !libc::WIFSTOPPED(status) {
        return Err(Unexpected(status));
    }
    let sig = libc::WSTOPSIG(status);
    let event = (status >> 16) & 0xff;
    Ok(match event {
        0 if sig == libc::SIGTRAP | 0x80 => Stop::Syscall,
        0 => Stop::Signal(Signal(sig)),
        // ptrace(2): "If the tracee was stopped by SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU,
        // PTRACE_EVENT_STOP is a group-stop"; with SIGTRAP it is any other PTRACE_EVENT_STOP.
        EVENT_STOP => match sig {
            libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => {
                Stop::GroupStop(Signal(sig))
            }
            libc::SIGTRAP => Stop::Interrupt,
            _ => return Err(Unexpected(status)),
        },
        _ if sig != libc::SIGTRAP => return Err(Unexpected(status)),
        libc::PTRACE_EVENT_FORK => Stop::Event(PtraceEvent::Fork),
        libc::PTRACE_EVENT_VFORK => Stop::Event(PtraceEvent::Vfork),
        libc::PTRACE_EVENT_CLONE => Stop::Event(PtraceEvent::Clone),
        libc::PTRACE_EVENT_EXEC => Stop::Event(PtraceEvent::Exec),
        libc::PTRACE_EVENT_VFORK_DONE => Stop::Event(PtraceEvent::VforkDone),
        libc::PTRACE_EVENT_EXIT => Stop::Event(PtraceEvent::Exit),
        libc::PTRACE_EVENT_SECCOMP => Stop::Event(PtraceEvent::Seccomp),
        _ => return Err(Unexpected(status)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stopped(sig: i32, event: i32) -> i32 {
        (event << 16) | (sig << 8) | 0x7f
    }

    #[test]
    fn exits_and_deaths() {
        assert_eq!(classify(7 << 8), Ok(Stop::Exited(7)));
        assert_eq!(classify(0), Ok(Stop::Exited(0)));
        assert_eq!(
            classify(libc::SIGTERM),
            Ok(Stop::Killed {
                sig: Signal(libc::SIGTERM),
                core: false
            })
        );
        assert_eq!(
            classify(libc::SIGABRT | 0x80),
            Ok(Stop::Killed {
                sig: Signal(libc::SIGABRT),
                core: true
            })
        );
    }

    #[test]
    fn signal_delivery_and_syscall() {
        assert_eq!(
            classify(stopped(libc::SIGUSR1, 0)),
            Ok(Stop::Signal(Signal(libc::SIGUSR1)))
        );
        assert_eq!(classify(stopped(34, 0)), Ok(Stop::Signal(Signal(34))));
        // A SIGSTOP with no event is a signal-delivery-stop, not yet a group-stop.
        assert_eq!(
            classify(stopped(libc::SIGSTOP, 0)),
            Ok(Stop::Signal(Signal(libc::SIGSTOP)))
        );
        assert_eq!(
            classify(stopped(libc::SIGTRAP | 0x80, 0)),
            Ok(Stop::Syscall)
        );
    }

    #[test]
    fn event_stops() {
        assert_eq!(
            classify(stopped(libc::SIGSTOP, EVENT_STOP)),
            Ok(Stop::GroupStop(Signal(libc::SIGSTOP)))
        );
        assert_eq!(
            classify(stopped(libc::SIGTTOU, EVENT_STOP)),
            Ok(Stop::GroupStop(Signal(libc::SIGTTOU)))
        );
        assert_eq!(
            classify(stopped(libc::SIGTRAP, EVENT_STOP)),
            Ok(Stop::Interrupt)
        );
        let cases = [
            (libc::PTRACE_EVENT_FORK, PtraceEvent::Fork),
            (libc::PTRACE_EVENT_VFORK, PtraceEvent::Vfork),
            (libc::PTRACE_EVENT_CLONE, PtraceEvent::Clone),
            (libc::PTRACE_EVENT_EXEC, PtraceEvent::Exec),
            (libc::PTRACE_EVENT_VFORK_DONE, PtraceEvent::VforkDone),
            (libc::PTRACE_EVENT_EXIT, PtraceEvent::Exit),
            (libc::PTRACE_EVENT_SECCOMP, PtraceEvent::Seccomp),
        ];
        for (raw, ev) in cases {
            assert_eq!(classify(stopped(libc::SIGTRAP, raw)), Ok(Stop::Event(ev)));
        }
    }

    #[test]
    fn impossible_statuses_are_errors() {
        assert!(classify(stopped(libc::SIGTRAP, 99)).is_err());
        assert!(classify(stopped(libc::SIGUSR1, EVENT_STOP)).is_err());
        assert!(classify(stopped(libc::SIGUSR1, libc::PTRACE_EVENT_EXEC)).is_err());
        // WIFCONTINUED is never reported without WCONTINUED.
        assert!(classify(0xffff).is_err());
    }
}
