//! The one shape of every source of events beside the ptrace loop (the kernel's record, and the sources to come): owned events handed over for the one fold, and the ordering rule they keep.

use crate::event::Event;

/// How much a source hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upto {
    /// What it has read so far (at every batch).
    Read,
    /// Everything generated before this call: asked before a process's end is reported, since
    /// whatever ended it (a SIGKILL's record) was generated before the end was seen.
    Now,
}

/// A source of events that runs beside the tracer and is drained by it, so that its events
/// reach the fold in one stream with the tracer's. Its `time` stamps are its own; `ntasks` is
/// set by the tracer.
pub trait Source: Send {
    fn take(&mut self, upto: Upto, out: &mut Vec<Event>);
}

/// The sources of one run, assembled by the session. Dropping them ends their threads and
/// hands over what they hold (the kernel's record: its perf events' last close), which must
/// happen before sigtrace re-raises the command's fatal signal: `session` drops the tracer,
/// which owns them, first.
#[derive(Default)]
pub struct Sources(Vec<Box<dyn Source>>);

impl Sources {
    pub fn add(&mut self, s: Box<dyn Source>) {
        self.0.push(s);
    }

    /// Appends every source's events to `out`, each source's in its own order.
    pub fn take(&mut self, upto: Upto, out: &mut Vec<Event>) {
        for s in &mut self.0 {
            s.take(upto, out);
        }
    }
}

/// A source that could not start: once, the notice of why (for the verdicts that needed it).
pub struct Unavailable(pub Option<Event>);

impl Source for Unavailable {
    fn take(&mut self, _: Upto, out: &mut Vec<Event>) {
        out.extend(self.0.take());
    }
}
