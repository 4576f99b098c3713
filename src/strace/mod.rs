//! strace's notation: hex, addresses, flag tables, and printers by topic (as strace splits signal.c, clone.c, wait.c).
pub mod args;
pub mod clone;
pub mod sets;
pub mod signal;
pub mod wait;

use std::fmt::Write;

/// C's `%#x`: 0 stays "0".
pub fn hex(v: u64, out: &mut String) {
    if v == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

/// strace's printaddr: NULL or hex.
pub fn addr(a: u64, out: &mut String) {
    if a == 0 {
        out.push_str("NULL");
    } else {
        let _ = write!(out, "{a:#x}");
    }
}

/// A flag table: (bits, name), in the order strace prints them.
pub type Flags = [(u64, &'static str)];

/// strace's printflags: known flags in table order joined by `|`, the rest in hex, or 0; a
/// value with no known flag is `0x... /* DFLT */`.
pub fn flags(v: u64, table: &Flags, dflt: &str, out: &mut String) {
    flags_in(v, &[table], dflt, out);
}

/// `flags` over several tables, one after the other (strace's printflags_ex).
pub fn flags_in(mut v: u64, tables: &[&Flags], dflt: &str, out: &mut String) {
    let mut first = true;
    for &(bit, name) in tables.iter().copied().flatten() {
        if v & bit == bit {
            if !first {
                out.push('|');
            }
            out.push_str(name);
            first = false;
            v &= !bit;
        }
    }
    if v != 0 || first {
        if !first {
            out.push('|');
        }
        hex(v, out);
        if first && v != 0 {
            let _ = write!(out, " /* {dflt} */");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_sets() {
        const SFD: &Flags = args::SFD_FLAGS;
        let mut s = String::new();
        flags(0, SFD, "SFD_???", &mut s);
        assert_eq!(s, "0");
        s.clear();
        flags(0o2004000 | 1, SFD, "SFD_???", &mut s);
        assert_eq!(s, "SFD_CLOEXEC|SFD_NONBLOCK|0x1");
        s.clear();
        flags(1, SFD, "SFD_???", &mut s);
        assert_eq!(s, "0x1 /* SFD_??? */");
    }
}
