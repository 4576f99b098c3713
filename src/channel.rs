//! How batches of events travel from the tracer to the renderer: the doorbell that wakes it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst, fence};
use std::thread::Thread;

/// How the tracer wakes the renderer after handing it a batch. The renderer sleeps in
/// `thread::park` rather than in the channel's `recv`, which spins and yields the CPU several
/// times before it sleeps: on two CPUs that takes time from the traced program at every batch.
#[derive(Default)]
pub struct Doorbell {
    asleep: AtomicBool,
    renderer: OnceLock<Thread>,
}

impl Doorbell {
    /// After a send (or the channel's close): wakes the renderer if it sleeps.
    pub fn ring(&self) {
        // Pairs with the fence in `dozing`: either the renderer sees the batch, or we see it
        // asleep.
        fence(SeqCst);
        if self.asleep.swap(false, SeqCst)
            && let Some(t) = self.renderer.get()
        {
            t.unpark();
        }
    }

    /// The renderer thread, which `ring` unparks.
    pub fn answered_by(&self, renderer: Thread) {
        let _ = self.renderer.set(renderer);
    }

    /// The renderer found the channel empty and is about to look once more, then park.
    pub fn dozing(&self) {
        self.asleep.store(true, SeqCst);
        fence(SeqCst);
    }

    /// The renderer's second look found a batch: no need to ring.
    pub fn awake(&self) {
        self.asleep.store(false, SeqCst);
    }
}
