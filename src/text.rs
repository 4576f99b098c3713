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

/// One argument as a shell takes it back: escaped (`escape_into`), in single quotes unless it
/// is plain, a quote inside written `'\''`.
pub fn shell_word(arg: &[u8], out: &mut String) {
    let plain = !arg.is_empty()
        && arg
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+%@".contains(b));
    if plain {
        return escape_into(arg, out);
    }
    out.push('\'');
    for (j, part) in arg.split(|&b| b == b'\'').enumerate() {
        if j > 0 {
            out.push_str("'\\''");
        }
        escape_into(part, out);
    }
    out.push('\'');
}

/// A command line as a shell takes it back (`shell_word` each, spaces between), in at most
/// about `max` bytes: an argument that does not fit is cut and its quote closed, and `...`
/// follows outside any quote, as strace marks a cut string.
pub fn shell_words(argv: &[Vec<u8>], max: usize) -> String {
    let mut out = String::new();
    for (i, arg) in argv.iter().enumerate() {
        let mut word = String::new();
        shell_word(arg, &mut word);
        let sep = usize::from(i > 0);
        if out.len() + sep + word.len() <= max {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&word);
            continue;
        }
        let room = max.saturating_sub(out.len() + sep + 3);
        if room >= 8 || i == 0 {
            if i > 0 {
                out.push(' ');
            }
            // The longest start of the argument whose word fits, quotes closed.
            let mut n = arg.len().min(room);
            loop {
                word.clear();
                shell_word(&arg[..n], &mut word);
                if word.len() <= room.max(3) || n == 0 {
                    break;
                }
                n -= (word.len() - room.max(3)).div_ceil(4).min(n);
            }
            out.push_str(&word);
        }
        out.push_str("...");
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines() {
        let argv = |a: &[&str]| a.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(
            shell_words(&argv(&["sh", "-c", "exit 4"]), 40),
            "sh -c 'exit 4'"
        );
        assert_eq!(
            shell_words(&argv(&["echo", "it's", "a\nb"]), 40),
            r"echo 'it'\''s' 'a\nb'"
        );
        let cut = shell_words(
            &argv(&["sh", "-c", &"while true; do :; done ".repeat(5)]),
            40,
        );
        assert!(
            cut.starts_with("sh -c 'while true;") && cut.ends_with("'..."),
            "{cut}"
        );
        assert!(cut.len() <= 40, "{cut}");
        let cut = shell_words(&argv(&["sleep", &"x".repeat(100)]), 40);
        assert!(
            cut.starts_with("sleep xxx") && cut.ends_with("x..."),
            "{cut}"
        );
    }

    #[test]
    fn quoting() {
        let mut s = String::new();
        quote(b"a\"b\\c\n\x01\x012\xff", &mut s);
        assert_eq!(s, r#""a\"b\\c\n\1\0012\377""#);
    }
}
