//! One ELF file as the unwinder needs it: load segments, unwind sections and function symbols.

use object::read::elf::{ElfFile64, ElfSymbol};
use object::{
    Endianness, Object, ObjectSection, ObjectSegment, ObjectSymbol, ReadCache, ReadRef, elf,
};
use std::fs::File;
use std::ops::Range;
use std::sync::Arc;

/// A section's address range (as linked) and its bytes.
#[derive(Debug, Clone)]
pub struct Section {
    pub svma: Range<u64>,
    pub data: Arc<[u8]>,
}

/// What sigtrace keeps of an ELF file: only what unwinding and naming addresses need.
#[derive(Debug, Default)]
pub struct Elf {
    /// PT_LOAD segments as (file offset, virtual address, file size).
    pub segments: Vec<(u64, u64, u64)>,
    pub text: Option<Range<u64>>,
    pub eh_frame: Option<Section>,
    pub eh_frame_hdr: Option<Section>,
    pub debug_frame: Option<Arc<[u8]>>,
    pub symbols: super::symbols::Symbols,
}

impl Elf {
    /// Reads the headers, unwind sections and symbol tables of an open file; the rest of the
    /// file (code, data, DWARF other than .debug_frame) is never read.
    pub fn load(file: File) -> Option<Elf> {
        Elf::parse(&ReadCache::new(file))
    }

    /// The same from an image in memory (the kernel's vDSO, which no file holds).
    pub fn from_image(image: &[u8]) -> Option<Elf> {
        Elf::parse(image)
    }

    fn parse<'d, R: ReadRef<'d>>(data: R) -> Option<Elf> {
        let elf = ElfFile64::<Endianness, R>::parse(data).ok()?;
        let section = |name: &str| {
            let s = elf.section_by_name(name)?;
            let data: Arc<[u8]> = s.uncompressed_data().ok()?.as_ref().into();
            Some(Section {
                svma: s.address()..s.address().saturating_add(s.size()),
                data,
            })
        };
        let eh_frame = section(".eh_frame");
        let debug_frame = match eh_frame {
            Some(_) => None,
            None => section(".debug_frame").map(|s| s.data),
        };
        Some(Elf {
            segments: load_segments(&elf),
            text: elf
                .section_by_name(".text")
                .map(|s| s.address()..s.address().saturating_add(s.size())),
            eh_frame_hdr: section(".eh_frame_hdr"),
            eh_frame,
            debug_frame,
            symbols: function_symbols(&elf),
        })
    }

    /// The linked address of a file offset, through the PT_LOAD segment that maps it. The kernel
    /// maps each segment from its offset rounded down to a page, so a mapping's offset names its
    /// segment exactly (a mere range check would also match the previous segment's last page).
    pub fn vaddr_of_offset(&self, offset: u64) -> Option<u64> {
        const PAGE: u64 = 4096;
        let at = |&(off, vaddr, _): &(u64, u64, u64)| {
            (vaddr & !(PAGE - 1)).wrapping_add(offset - (off & !(PAGE - 1)))
        };
        let exact = self
            .segments
            .iter()
            .find(|(off, ..)| off & !(PAGE - 1) == offset);
        let within = || {
            self.segments.iter().find(|(off, _, size)| {
                (off & !(PAGE - 1)..off.saturating_add(*size.max(&1))).contains(&offset)
            })
        };
        exact.or_else(within).map(at)
    }
}

fn load_segments<'d, R: ReadRef<'d>>(elf: &ElfFile64<'d, Endianness, R>) -> Vec<(u64, u64, u64)> {
    elf.segments()
        .map(|s| {
            let (off, size) = s.file_range();
            (off, s.address(), size)
        })
        .collect()
}

/// Defined STT_FUNC symbols of .symtab and .dynsym, in section-header order: libunwind (strace's
/// unwinder) walks the tables in that order and keeps the first name at the nearest address.
fn function_symbols<'d, R: ReadRef<'d>>(
    elf: &ElfFile64<'d, Endianness, R>,
) -> super::symbols::Symbols {
    let index = |name| elf.section_by_name(name).map(|s| s.index().0);
    let dynsym_first = match (index(".dynsym"), index(".symtab")) {
        (Some(d), Some(s)) => d < s,
        _ => true,
    };
    let (first, second) = (functions(elf.dynamic_symbols()), functions(elf.symbols()));
    let all = match dynsym_first {
        true => [first, second].concat(),
        false => [second, first].concat(),
    };
    super::symbols::Symbols::new(all)
}

fn functions<'d: 'f, 'f, R: ReadRef<'d> + 'f>(
    syms: impl Iterator<Item = ElfSymbol<'d, 'f, elf::FileHeader64<Endianness>, R>>,
) -> Vec<(u64, String)> {
    syms.filter(|s| s.elf_symbol().st_type() == elf::STT_FUNC && !s.is_undefined())
        .filter_map(|s| {
            Some((
                s.address(),
                String::from_utf8_lossy(s.name_bytes().ok()?).into_owned(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_offset_names_its_own_segment() {
        // Rust's layout: the code segment starts in the page where the first segment ends.
        let elf = Elf {
            segments: vec![(0, 0, 0x13abc), (0x13ac0, 0x14ac0, 0x2000)],
            ..Default::default()
        };
        assert_eq!(elf.vaddr_of_offset(0), Some(0));
        assert_eq!(elf.vaddr_of_offset(0x13000), Some(0x14000));
        assert_eq!(elf.vaddr_of_offset(0x14000), Some(0x15000));
        assert_eq!(elf.vaddr_of_offset(0x99000), None);
    }

    #[test]
    fn garbage_and_truncated_images_are_refused_without_panic() {
        assert!(Elf::from_image(b"not an ELF file").is_none());
        let exe = std::fs::read("/proc/self/exe").unwrap();
        for len in [16, 64, 1000, 4096, 65536] {
            let _ = Elf::from_image(&exe[..len.min(exe.len())]);
        }
        let mut flipped = exe[..exe.len().min(1 << 20)].to_vec();
        for i in (64..flipped.len()).step_by(4099) {
            flipped[i] ^= 0xff;
        }
        let _ = Elf::from_image(&flipped);
    }
}
