//! sigtrace's own one-line messages on stderr: `sigtrace: <what>: <why>`.

use std::io::Write;

/// One line on stderr, prefixed `sigtrace: `.
pub fn warn(msg: &str) {
    let _ = writeln!(std::io::stderr(), "sigtrace: {msg}");
}
