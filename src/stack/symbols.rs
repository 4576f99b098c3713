//! A module's function symbols and the name of an address (nearest preceding symbol), demangled.

/// Function symbols sorted by address, one name per address.
#[derive(Debug, Default)]
pub struct Symbols {
    addrs: Vec<u64>,
    names: Vec<Box<str>>,
}

impl Symbols {
    /// Takes (address, raw name) pairs in table order; at an address shared by several names
    /// the first one is kept.
    pub fn new(mut all: Vec<(u64, String)>) -> Symbols {
        all.retain(|(_, n)| !n.is_empty());
        all.sort_by_key(|(a, _)| *a);
        all.dedup_by_key(|(a, _)| *a);
        let (addrs, names) = all.into_iter().map(|(a, n)| (a, n.into())).unzip();
        Symbols { addrs, names }
    }

    /// The symbol at or before `svma` and its address. Sizes are not checked: libunwind names
    /// a frame by the nearest preceding function, so a local function of a stripped library
    /// reads as its exported predecessor plus an offset, as strace prints it.
    pub fn lookup(&self, svma: u64) -> Option<(&str, u64)> {
        let i = self.addrs.partition_point(|a| *a <= svma).checked_sub(1)?;
        Some((&self.names[i], self.addrs[i]))
    }
}

/// A symbol as people read it: Rust (without the hash) and C++ (with parameter types, as
/// strace's libiberty demangler prints them) are demangled, anything else is kept as is.
pub fn demangle(name: &str) -> String {
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        return format!("{d:#}");
    }
    let cpp = name
        .starts_with("_Z")
        .then(|| cpp_demangle::Symbol::new(name).ok())
        .flatten();
    if let Some(Ok(d)) = cpp.map(|s| s.demangle(&cpp_demangle::DemangleOptions::default())) {
        return d;
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_preceding_first_name_wins() {
        let s = Symbols::new(vec![
            (0x20, "b".into()),
            (0x10, "a".into()),
            (0x20, "b_alias".into()),
            (0x30, String::new()),
        ]);
        assert_eq!(s.lookup(0x0f), None);
        assert_eq!(s.lookup(0x10), Some(("a", 0x10)));
        assert_eq!(s.lookup(0x1f), Some(("a", 0x10)));
        assert_eq!(s.lookup(0x999), Some(("b", 0x20)));
    }

    #[test]
    fn demangles_rust_and_cpp() {
        assert_eq!(demangle("main"), "main");
        assert_eq!(
            demangle("_ZN4core9panicking5panic17h0123456789abcdefE"),
            "core::panicking::panic"
        );
        assert_eq!(demangle("_Z3fooi"), "foo(int)");
        assert_eq!(demangle("_Zbogus"), "_Zbogus");
    }
}
