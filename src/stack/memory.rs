//! The stopped tracee's memory, read in a few large process_vm_readv calls and kept for one stop.

use super::maps::{self, Mapping};

/// How much one read takes: the stack of a typical syscall or signal stop fits in one.
const CHUNK: u64 = 8 * 1024;

/// Chunks of one task's memory read during one stop (the task runs on afterwards, so nothing
/// here outlives the stop).
pub struct Memory {
    pid: i32,
    chunks: Vec<(u64, Vec<u8>)>,
}

impl Memory {
    pub fn new(pid: i32) -> Memory {
        Memory {
            pid,
            chunks: Vec::new(),
        }
    }

    /// The 8-byte little-endian word at `addr`, or None when it is not mapped.
    pub fn word(&mut self, maps: &[Mapping], addr: u64) -> Option<u64> {
        let mut b = [0u8; 8];
        self.bytes(maps, addr, &mut b)?;
        Some(u64::from_le_bytes(b))
    }

    /// Fills `out` from `addr`, reading a new chunk if no chunk holds the whole range.
    pub fn bytes(&mut self, maps: &[Mapping], addr: u64, out: &mut [u8]) -> Option<()> {
        let end = addr.checked_add(out.len() as u64)?;
        if let Some(s) = self.cached(addr, end) {
            out.copy_from_slice(s);
            return Some(());
        }
        self.read_chunk(maps, addr)?;
        out.copy_from_slice(self.cached(addr, end)?);
        Some(())
    }

    /// A few bytes of code, read as they are (not kept: callers keep what they conclude).
    pub fn code(&self, addr: u64, out: &mut [u8]) -> Option<()> {
        let n = crate::sys::read_mem(self.pid, addr, out).ok()?;
        (n == out.len()).then_some(())
    }

    fn cached(&self, addr: u64, end: u64) -> Option<&[u8]> {
        self.chunks.iter().find_map(|(base, data)| {
            let top = base + data.len() as u64;
            (*base <= addr && end <= top)
                .then(|| &data[(addr - base) as usize..(end - base) as usize])
        })
    }

    /// Reads from `addr` (rounded down to 8) up to CHUNK bytes, not past its mapping's end.
    fn read_chunk(&mut self, maps: &[Mapping], addr: u64) -> Option<()> {
        let m = maps::find(maps, addr)?;
        let base = addr & !7;
        let len = CHUNK.min(m.end - base) as usize;
        let mut data = vec![0u8; len];
        let n = crate::sys::read_mem(self.pid, base, &mut data).ok()?;
        data.truncate(n);
        self.chunks.push((base, data));
        Some(())
    }
}
