//! sigtrace's own one-line messages on stderr: `sigtrace: <what>: <why>`; writing that waits out a non-blocking output.

use std::io::{self, Write};
use std::os::fd::AsFd;

/// One line on stderr, prefixed `sigtrace: `.
pub fn warn(msg: &str) {
    let _ = writeln!(Patient(io::stderr()), "sigtrace: {msg}");
}

/// A writer that waits until its descriptor is writable when a write would block, as strace
/// does: a non-blocking stderr (O_NONBLOCK, set by some CI runners on a shared pipe) that is
/// full for a while loses nothing and cuts no line.
pub struct Patient<W>(pub W);

impl<W: Write + AsFd> Write for Patient<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    crate::sys::wait_writable(self.0.as_fd())
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}
