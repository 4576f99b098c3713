//! How batches of events travel from the tracer to the renderer: on its thread (the doorbell that wakes it), or rendered before the task resumes.

use crate::event::Event;
use crossbeam_channel::Sender;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::SeqCst, fence};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

/// How long the renderer naps after rendering before it looks at the channel again. Batches
/// handed over during a nap wait for its end instead of waking the renderer: a process that
/// stops every few microseconds (a fork+exec loop, a signal storm) would otherwise wake it at
/// nearly every stop, taking a CPU from the traced program each time. Lines show at most this
/// much later.
pub const NAP: Duration = Duration::from_millis(10);

/// Batches the channel holds.
pub const CHANNEL: usize = 16;
/// Events in a batch that wakes the renderer even from a nap.
pub const BATCH: usize = 256;

/// What renders events on the tracer's own thread: the renderer, when the output is shared with
/// the traced programs.
pub trait Consumer: Send {
    /// Renders and writes these events now.
    fn take(&mut self, batch: &[Event]);
    /// The tracer waits for the next stop: what is held back is written.
    fn idle(&mut self);
    /// The last batch went by: the summary, the files written at the end. False when a file
    /// named on the command line could not be written.
    fn close(self: Box<Self>) -> bool;
}

/// Where the tracer hands its events.
pub enum Outlet {
    /// To the renderer's thread, in batches: the tracer never waits for a write (a file,
    /// /dev/null).
    Thread {
        tx: Sender<Vec<Event>>,
        bell: Arc<Doorbell>,
    },
    /// Rendered and written by the tracer before the task it stopped runs again, as strace
    /// writes: the output is a terminal or a pipe the traced programs write to too, where a
    /// line must be there before the program's own output that follows it.
    Inline(Box<dyn Consumer>),
}

impl Outlet {
    /// Hands a batch over.
    pub fn send(&mut self, batch: Vec<Event>) {
        match self {
            Outlet::Thread { tx, bell } => {
                // The renderer only goes away when sigtrace is ending anyway.
                // A full batch, or a channel filling up while the renderer naps: wake it now
                // rather than block in send until its nap ends.
                let full = batch.len() >= BATCH || tx.len() >= CHANNEL / 2;
                let _ = tx.send(batch);
                if full {
                    bell.ring_now();
                } else {
                    bell.ring();
                }
            }
            Outlet::Inline(consumer) => consumer.take(&batch),
        }
    }

    /// The tracer is about to wait for the next stop.
    pub fn idle(&mut self) {
        if let Outlet::Inline(consumer) = self {
            consumer.idle();
        }
    }

    /// Whether the tracer writes before it resumes a task.
    pub fn inline(&self) -> bool {
        matches!(self, Outlet::Inline(_))
    }

    /// No more events: the renderer ends (its thread is woken to find the channel closed,
    /// and says itself how writing went). False when an inline renderer could not write a file.
    pub fn close(self) -> bool {
        match self {
            Outlet::Thread { tx, bell } => {
                drop(tx);
                bell.ring_now();
                true
            }
            Outlet::Inline(consumer) => consumer.close(),
        }
    }
}

const AWAKE: u8 = 0;
/// Parked with a timeout (`NAP`): a ring need not wake it.
const NAPPING: u8 = 1;
/// Parked until rung.
const ASLEEP: u8 = 2;

/// How the tracer wakes the renderer after handing it a batch. The renderer sleeps in
/// `thread::park` rather than in the channel's `recv`, which spins and yields the CPU several
/// times before it sleeps: on two CPUs that takes time from the traced program at every batch.
#[derive(Default)]
pub struct Doorbell {
    state: AtomicU8,
    renderer: OnceLock<Thread>,
    /// The output file is to be opened again (SIGHUP in the watch mode).
    reopen: AtomicBool,
}

impl Doorbell {
    /// After a send: wakes the renderer if it sleeps without a timeout. A napping renderer
    /// finds the batch when its nap ends.
    pub fn ring(&self) {
        // Pairs with the fence in `dozing`: either the renderer sees the batch, or we see it
        // asleep.
        fence(SeqCst);
        if self
            .state
            .compare_exchange(ASLEEP, AWAKE, SeqCst, SeqCst)
            .is_ok()
        {
            self.unpark();
        }
    }

    /// Asks the renderer to open its output file again, and wakes it.
    pub fn ask_reopen(&self) {
        self.reopen.store(true, SeqCst);
        self.ring_now();
    }

    /// Whether the output file is to be opened again (once per request).
    pub fn take_reopen(&self) -> bool {
        self.reopen.swap(false, SeqCst)
    }

    /// After a full batch or the channel's close: wakes the renderer even from a nap.
    pub fn ring_now(&self) {
        fence(SeqCst);
        if self.state.swap(AWAKE, SeqCst) != AWAKE {
            self.unpark();
        }
    }

    fn unpark(&self) {
        if let Some(t) = self.renderer.get() {
            t.unpark();
        }
    }

    /// The renderer thread, which `ring` unparks.
    pub fn answered_by(&self, renderer: Thread) {
        let _ = self.renderer.set(renderer);
    }

    /// The renderer found the channel empty and is about to look once more, then park: for a
    /// nap (`NAP`) when it has just rendered something, else until rung.
    pub fn dozing(&self, nap: bool) {
        self.state.store(if nap { NAPPING } else { ASLEEP }, SeqCst);
        fence(SeqCst);
    }

    /// The renderer's second look found a batch, or it woke: no need to ring.
    pub fn awake(&self) {
        self.state.store(AWAKE, SeqCst);
    }
}
