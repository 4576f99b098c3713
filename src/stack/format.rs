//! strace -k's line for a frame: ` > module(symbol+0xoff) [0xaddr]`, and its forms without a symbol.

use crate::event::Frame;
use std::fmt::Write;

/// One frame as strace 6 prints it (src/unwind.c), without the newline. Module and symbol come
/// from the traced system and are escaped.
pub fn format_frame(f: &Frame) -> String {
    let mut s = String::from(" > ");
    let what = f.symbol.as_deref().map(crate::text::escape);
    match (f.is_marker(), what) {
        (false, Some(sym)) => {
            let _ = write!(
                s,
                "{}({sym}+{:#x}) [{:#x}]",
                crate::text::escape(&f.module),
                f.offset,
                f.address
            );
        }
        (false, None) => {
            let _ = write!(s, "{}() [{:#x}]", crate::text::escape(&f.module), f.address);
        }
        (true, what) => {
            s.push_str(what.as_deref().unwrap_or("unexpected_backtracing_error"));
            if f.address != 0 {
                let _ = write!(s, " [{:#x}]", f.address);
            }
        }
    }
    s
}

/// Every frame's line, each ended by a newline, appended to `out`.
pub fn write_stack(out: &mut String, frames: &[Frame]) {
    for f in frames {
        out.push_str(&format_frame(f));
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(module: &str, symbol: Option<&str>, offset: u64, address: u64) -> Frame {
        Frame {
            module: module.into(),
            symbol: symbol.map(Into::into),
            offset,
            address,
        }
    }

    #[test]
    fn strace_forms() {
        let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
        assert_eq!(
            format_frame(&frame(libc, Some("kill"), 7, 0x3c267)),
            " > /usr/lib/x86_64-linux-gnu/libc.so.6(kill+0x7) [0x3c267]"
        );
        assert_eq!(
            format_frame(&frame("/tmp/k", None, 0, 0x11a6)),
            " > /tmp/k() [0x11a6]"
        );
        assert_eq!(
            format_frame(&Frame::marker("unexpected_backtracing_error", 0x7f00)),
            " > unexpected_backtracing_error [0x7f00]"
        );
        assert_eq!(
            format_frame(&Frame::marker("too many stack frames", 0)),
            " > too many stack frames"
        );
    }

    #[test]
    fn escapes_untrusted_names() {
        let f = frame("/tmp/a\nb", Some("f\x1b[31m"), 1, 2);
        assert_eq!(format_frame(&f), " > /tmp/a\\nb(f\\33[31m+0x1) [0x2]");
    }
}
