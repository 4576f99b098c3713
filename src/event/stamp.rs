//! When something happened (wall and monotonic clocks), and how a time is shown (strace's -t family).

use std::time::{Duration, Instant};

/// When a stop was seen: wall clock (for -t, -tt, -ttt) and monotonic (for -r).
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub wall: Duration,
    pub mono: Instant,
}

impl Stamp {
    pub fn now() -> Stamp {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Stamp {
            wall,
            mono: Instant::now(),
        }
    }
}

/// strace's -t family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    #[default]
    None,
    /// -t: HH:MM:SS
    Seconds,
    /// -tt: HH:MM:SS.uuuuuu
    Micros,
    /// -ttt: seconds since the epoch, .uuuuuu
    Epoch,
}
