//! How batches of events travel from the tracer to the renderer: the doorbell that wakes it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering::SeqCst, fence};
use std::thread::Thread;
use std::time::Duration;

/// How long the renderer naps after rendering before it looks at the channel again. Batches
/// handed over during a nap wait for its end instead of waking the renderer: a process that
/// stops every few microseconds (a fork+exec loop, a signal storm) would otherwise wake it at
/// nearly every stop, taking a CPU from the traced program each time. Lines show at most this
/// much later.
pub const NAP: Duration = Duration::from_millis(10);

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
