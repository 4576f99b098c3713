//! Stacks of stopped tracees (-k): unwinding through CFI, frame pointers and signal frames, then naming each frame.

mod elf;
mod format;
pub mod maps;
mod memory;
mod space;
mod symbols;
mod walk;

pub use format::{format_frame, write_stack};

use crate::event::{Frame, Stack};

use framehop::x86_64::CacheX86_64;
use space::{Loaded, Space};
use std::collections::HashMap;
use std::sync::Arc;

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
            Err(e) => return Arc::from(vec![Frame::marker(&crate::text::error_text(&e), 0)]),
        };
        walk::walk(self, pid, tid, regs).into()
    }

    /// Drops what is known of a process's address space: after exec, or when it has ended.
    pub fn forget(&mut self, pid: i32) {
        self.spaces.remove(&pid);
    }
}
