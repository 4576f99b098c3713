//! Quoting and error text, a leaf: strace's escaping of bytes from the traced system or the user, and an error's words.

use std::fmt::Write;

/// An error's text without Rust's " (os error N)" suffix, as strerror words it.
pub fn error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// strace's string_quote: `"..."` with C escapes, other bytes in octal (three digits when a
/// digit follows, so that the escape cannot swallow it).
pub fn quote(s: &[u8], out: &mut String) {
    out.push('"');
    escape_into(s, out);
    out.push('"');
}

/// The escaping of `quote`, without the quotes: for any text from the traced system.
pub fn escape_into(s: &[u8], out: &mut String) {
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                let digit_follows = s.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                let _ = if digit_follows {
                    write!(out, "\\{c:03o}")
                } else {
                    write!(out, "\\{c:o}")
                };
            }
        }
    }
}

/// Text from the traced system (names, command lines), escaped as `quote` does, unquoted.
pub fn escape(s: &str) -> String {
    escape_bytes(s.as_bytes())
}

pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    escape_into(bytes, &mut out);
    out
}

/// A piece of the user's input quoted in an error message: escaped, and cut at 64 characters so
/// that a huge argument still gives a one-line error of readable length.
pub fn escape_input(s: &str) -> String {
    escape_bytes_cut(s.as_bytes(), 64)
}

/// An error line from clap, which may quote a huge argument: escaped, cut at 160 characters.
pub fn escape_message(s: &str) -> String {
    escape_bytes_cut(s.as_bytes(), 160)
}

/// Escaped, and at most `max` characters of it (an escape takes up to four), then how long
/// the whole was.
pub fn escape_bytes_cut(s: &[u8], max: usize) -> String {
    let whole = escape_bytes(s);
    if whole.len() <= max {
        return whole;
    }
    let mut n = max.min(s.len());
    let mut out = escape_bytes(&s[..n]);
    while out.len() > max {
        n -= (out.len() - max).div_ceil(4);
        out = escape_bytes(&s[..n]);
    }
    out.push_str(&format!("...({} bytes)", s.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut s = String::new();
        quote(b"a\"b\\c\n\x01\x012\xff", &mut s);
        assert_eq!(s, r#""a\"b\\c\n\1\0012\377""#);
    }
}
