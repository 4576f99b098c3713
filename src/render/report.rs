//! --report: one self-contained HTML page (inline CSS, JS and data) drawn from a collected Trace.

use super::collect::{DISPOSITIONS, Trace};
use crate::verdict::Cause;
use std::io::{self, Write};

const TEMPLATE: &str = include_str!("report.html");
const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// Writes the page.
pub fn write(trace: &Trace, out: &mut dyn Write) -> io::Result<()> {
    let page = TEMPLATE.replace("{{CSS}}", CSS).replace("{{JS}}", JS);
    // The data goes in last and in one piece: nothing in it is ever read as a placeholder.
    let (head, tail) = page
        .split_once("{{DATA}}")
        .expect("the template has a data slot");
    out.write_all(head.as_bytes())?;
    out.write_all(embed(&data(trace)).as_bytes())?;
    out.write_all(tail.as_bytes())?;
    out.flush()
}

/// JSON made safe inside a `<script>` element: no `<` (so no `</script>` or `<!--`), `>` or `&`
/// outside escapes. These only occur inside JSON strings, where `\u003c` means the same.
pub fn embed(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn micros(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serializes")
}

/// The page's data: columns of numbers and strings, compact for 100,000 signals.
pub fn data(trace: &Trace) -> String {
    let p = &trace.procs;
    let col = |f: &dyn Fn(&super::collect::Proc) -> i64| json(&p.iter().map(f).collect::<Vec<_>>());
    let strs =
        |f: &dyn Fn(&super::collect::Proc) -> &str| json(&p.iter().map(f).collect::<Vec<&str>>());
    let end = |f: &dyn Fn(&super::collect::End) -> &str| {
        json(
            &p.iter()
                .map(|p| p.end.as_ref().map_or("", f))
                .collect::<Vec<&str>>(),
        )
    };
    let cause = |p: &super::collect::Proc| {
        p.end
            .as_ref()
            .and_then(|e| Cause::ALL.iter().position(|c| *c == e.cause))
            .map_or(-1, |i| i as i64)
    };
    let procs = format!(
        r#"{{"pid":{},"ppid":{},"parent":{},"comm":{},"argv":{},"command":{},"start":{},"end":{},"outcome":{},"cause":{},"verdict":{},"by":{}}}"#,
        col(&|p| p.pid.into()),
        col(&|p| p.ppid.into()),
        col(&|p| p.parent.map_or(-1, i64::from)),
        strs(&|p| &p.comm),
        strs(&|p| &p.argv),
        col(&|p| p.command.map_or(-1, i64::from)),
        col(&|p| micros(p.start)),
        col(&|p| p.end.as_ref().map_or(-1, |e| micros(e.time))),
        end(&|e| &e.outcome),
        col(&cause),
        end(&|e| &e.verdict),
        col(&|p| p.end.as_ref().and_then(|e| e.by).map_or(0, i64::from)),
    );
    format!(
        r#"{{"version":1,"start":{},"duration_us":{},"causes":{},"dispositions":{},"signames":{},"procs":{procs},"signals":{},"texts":{},"dropped_signals":{},"dropped_procs":{}}}"#,
        trace.start.as_secs_f64(),
        micros(trace.duration),
        causes(),
        json(&DISPOSITIONS),
        json(&signal_names()),
        signals(trace),
        json(&trace.texts),
        trace.dropped_signals,
        trace.dropped_procs,
    )
}

/// The causes in the legend's order, as the page reads them: a verdict's cause is an index
/// into this list.
fn causes() -> String {
    let all: Vec<_> = Cause::ALL
        .iter()
        .map(|c| serde_json::json!({"name": c.as_str(), "color": c.colour(), "meaning": c.meaning()}))
        .collect();
    json(&all)
}

fn signals(trace: &Trace) -> String {
    let s = &trace.signals;
    let col = |f: &dyn Fn(&super::collect::Sig) -> i64| json(&s.iter().map(f).collect::<Vec<_>>());
    format!(
        r#"{{"t":{},"recv":{},"send":{},"signo":{},"disp":{},"line":{},"from":{}}}"#,
        col(&|s| micros(s.time)),
        col(&|s| s.receiver.into()),
        col(&|s| s.sender.map_or(-1, i64::from)),
        col(&|s| s.signo.into()),
        col(&|s| s.disposition.into()),
        col(&|s| s.line.into()),
        col(&|s| s.from.into()),
    )
}

/// strace's signal names by number, 0..=64.
fn signal_names() -> Vec<String> {
    (0..=crate::signal::MAX)
        .map(|n| {
            crate::signal::Signal(n)
                .name()
                .map_or_else(String::new, |_| crate::signal::Signal(n).to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_text_cannot_close_the_script() {
        let hostile = json(&"</script><script>alert(1)</script><!-- & \u{2028}");
        let safe = embed(&hostile);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><script>alert(1)</script><!-- & \u{2028}");
    }

    #[test]
    fn template_slots() {
        for slot in ["{{CSS}}", "{{JS}}", "{{DATA}}"] {
            assert_eq!(TEMPLATE.matches(slot).count(), 1, "{slot}");
        }
        assert!(!JS.contains("</script") && !CSS.contains("</style"));
        assert!(
            !JS.contains("innerHTML"),
            "data goes in through textContent"
        );
    }
}
