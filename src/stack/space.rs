//! One traced process's address space: its mappings and the modules placed in it for unwinding.

use super::FileKey;
use super::elf::Elf;
use super::maps::{self, Mapping};
use framehop::x86_64::UnwinderX86_64;
use framehop::{ExplicitModuleSectionInfo, Module, Unwinder};
use std::collections::HashMap;
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// An ELF file as loaded once for every process that maps it (None: unreadable or not ELF).
pub struct Loaded {
    pub id: u64,
    pub elf: Option<Elf>,
}

/// A loaded file at its place in one process: load address minus linked address.
#[derive(Clone)]
pub struct Placed {
    pub loaded: Arc<Loaded>,
    pub bias: u64,
}

pub struct Space {
    pub maps: Vec<Mapping>,
    pub unwinder: UnwinderX86_64<Arc<[u8]>>,
    placed: HashMap<FileKey, Placed>,
}

impl Space {
    pub fn read(pid: i32) -> Space {
        Space {
            maps: maps::read(pid).unwrap_or_default(),
            unwinder: UnwinderX86_64::new(),
            placed: HashMap::new(),
        }
    }

    /// Whether some mapping holds `addr`.
    pub fn is_mapped(&self, addr: u64) -> bool {
        maps::find(&self.maps, addr).is_some()
    }

    /// The executable mapping of a named module ([vdso] included) holding `pc`: like strace,
    /// code in anonymous memory (JIT) is no module.
    pub fn exec_mapping(&self, pc: u64) -> Option<&Mapping> {
        maps::find(&self.maps, pc).filter(|m| m.exec && !m.path.is_empty())
    }

    /// The file behind mapping `m` placed in this process, loading it (through `files`, the
    /// cache shared by every process) and handing its unwind sections to the unwinder the
    /// first time.
    pub fn place(
        &mut self,
        files: &mut HashMap<FileKey, Arc<Loaded>>,
        pid: i32,
        m: &Mapping,
    ) -> Option<Placed> {
        if !m.is_file() && m.path != "[vdso]" {
            return None;
        }
        let key = (m.path.clone(), m.dev.clone(), m.inode);
        if let Some(p) = self.placed.get(&key) {
            return Some(p.clone());
        }
        let loaded = files
            .entry(key.clone())
            .or_insert_with(|| Arc::new(load(pid, m)))
            .clone();
        let elf = loaded.elf.as_ref()?;
        let bias = m.start.wrapping_sub(elf.vaddr_of_offset(m.offset)?);
        let placed = Placed {
            loaded: loaded.clone(),
            bias,
        };
        self.unwinder
            .add_module(module(elf, self.range_of(&key), bias, &m.path));
        self.placed.insert(key, placed.clone());
        Some(placed)
    }

    /// From the first to the last mapping of one file.
    fn range_of(&self, key: &FileKey) -> std::ops::Range<u64> {
        let of_file = || {
            self.maps
                .iter()
                .filter(|m| m.path == key.0 && m.dev == key.1 && m.inode == key.2)
        };
        let start = of_file().map(|m| m.start).min().unwrap_or(0);
        let end = of_file().map(|m| m.end).max().unwrap_or(0);
        start..end
    }
}

fn module(elf: &Elf, avma: std::ops::Range<u64>, bias: u64, name: &str) -> Module<Arc<[u8]>> {
    let info = ExplicitModuleSectionInfo {
        base_svma: 0,
        text_svma: elf.text.clone(),
        eh_frame_svma: elf.eh_frame.as_ref().map(|s| s.svma.clone()),
        eh_frame: elf.eh_frame.as_ref().map(|s| s.data.clone()),
        eh_frame_hdr_svma: elf.eh_frame_hdr.as_ref().map(|s| s.svma.clone()),
        eh_frame_hdr: elf.eh_frame_hdr.as_ref().map(|s| s.data.clone()),
        debug_frame: elf.debug_frame.clone(),
        ..Default::default()
    };
    Module::new(name.to_string(), avma, bias, info)
}

fn load(pid: i32, m: &Mapping) -> Loaded {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let elf = match m.is_file() {
        true => open(pid, m).and_then(Elf::load),
        false => vdso(pid, m),
    };
    Loaded {
        id: NEXT.fetch_add(1, Ordering::Relaxed),
        elf,
    }
}

/// The vDSO, read from the tracee: the kernel maps the same image into every process, so its
/// key ("[vdso]", device and inode 0) shares it between them.
fn vdso(pid: i32, m: &Mapping) -> Option<Elf> {
    let mut image = vec![0u8; usize::try_from(m.end - m.start).ok()?.min(1 << 20)];
    let n = crate::sys::read_mem(pid, m.start, &mut image).ok()?;
    Elf::from_image(&image[..n])
}

/// The file a mapping shows, even when deleted or in another mount namespace: map_files names
/// exactly the mapped inode (it needs CAP_SYS_ADMIN); /proc/PID/root resolves the path as the
/// tracee sees it, which only still holds the same file while it is not "(deleted)".
fn open(pid: i32, m: &Mapping) -> Option<File> {
    File::open(format!("/proc/{pid}/map_files/{:x}-{:x}", m.start, m.end))
        .ok()
        .or_else(|| {
            let live = m.path.starts_with('/') && !m.path.ends_with(" (deleted)");
            live.then(|| File::open(format!("/proc/{pid}/root{}", m.path)).ok())?
        })
}
