//! A captured stack (-k): its frames as strace -k names them.

use std::sync::Arc;

/// One frame of a stack, as strace -k names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The mapped file's path as /proc/PID/maps prints it; empty for a marker frame, which
    /// ends a stack that could not be followed further.
    pub module: String,
    /// The nearest preceding function symbol, demangled; for a marker frame, what went wrong.
    pub symbol: Option<String>,
    /// The frame's address minus the symbol's.
    pub offset: u64,
    /// The address as an offset in the module's file (strace's `[0x...]`); for a marker frame,
    /// the absolute address that could not be placed, or 0.
    pub address: u64,
}

impl Frame {
    pub fn marker(what: &str, address: u64) -> Frame {
        Frame {
            module: String::new(),
            symbol: Some(what.to_string()),
            offset: 0,
            address,
        }
    }

    pub fn is_marker(&self) -> bool {
        self.module.is_empty()
    }
}

/// A captured stack, innermost frame first.
pub type Stack = Arc<[Frame]>;
