//! Stacks of stopped tracees (-k): unwinding through CFI, frame pointers and signal frames, then naming each frame.

mod elf;
mod format;
pub mod maps;
mod memory;
mod space;
mod symbols;
mod walk;

pub use format::{format_frame, write_stack};

use framehop::x86_64::CacheX86_64;
use space::{Loaded, Space};
use std::collections::HashMap;
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
    fn marker(what: &str, address: u64) -> Frame {
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

/// Key of a mapped file: its path as mapped, device and inode (a rebuilt file has a new inode).
type FileKey = (String, String, u64);

/// A symbol's demangled name and its linked address.
type Named = (Arc<str>, u64);

/// The unwinder's state across stops: loaded ELF files (shared by every process), each traced
/// process's address space, and names already looked up.
#[derive(Default)]
pub struct Stacks {
    files: HashMap<FileKey, Arc<Loaded>>,
    spaces: HashMap<i32, Space>,
    names: HashMap<(u64, u64), Option<Named>>,
    trampolines: HashMap<(u64, u64), bool>,
    rules: Option<CacheX86_64>,
}

impl Stacks {
    pub fn new() -> Stacks {
        Stacks::default()
    }

    /// The stack of stopped task `tid` of process `pid`. Never fails: what cannot be read or
    /// unwound ends the stack with a marker frame.
    pub fn capture(&mut self, pid: i32, tid: i32) -> Stack {
        let regs = match crate::sys::unwind_regs(tid) {
            Ok(r) => r,
            Err(e) => return Arc::from(vec![Frame::marker(&crate::strace::error_text(&e), 0)]),
        };
        walk::walk(self, pid, tid, regs).into()
    }

    /// Drops what is known of a process's address space: after exec, or when it has ended.
    pub fn forget(&mut self, pid: i32) {
        self.spaces.remove(&pid);
    }
}
