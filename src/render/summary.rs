//! The per-process table that ends a trace (-f) or is all of it (-c): one row per process, short enough for a CI log.

use crate::verdict::{Outcome, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Processes shown on a row of their own; the rest are counted, a row per (end, cause).
pub const ROWS_MAX: usize = 50;
/// The width of the COMMAND column: a longer command line is cut.
const COMMAND_MAX: usize = 40;

/// `sigtrace: summary of N processes`, a header, and one aligned row per process (pid,
/// command, how it ended, cause, by whom), in the order given (the renderer puts the main
/// process first). Past ROWS_MAX rows, the first process and the others that did not simply
/// exit with 0 keep their rows, in order; the rest are counted.
pub fn summary_table(verdicts: &[Verdict], out: &mut String) {
    let (shown, counted) = pick(verdicts);
    let mut rows: Vec<[String; 5]> = shown.iter().map(|v| row(v)).collect();
    rows.extend(aggregate(&counted));
    let head = ["PID", "COMMAND", "ENDED", "CAUSE", "BY"].map(String::from);
    let mut width = [0usize; 5];
    for r in std::iter::once(&head).chain(&rows) {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let n = verdicts.len();
    let what = if n == 1 { "process" } else { "processes" };
    let _ = writeln!(out, "sigtrace: summary of {n} {what}");
    for r in std::iter::once(&head).chain(&rows) {
        let _ = writeln!(
            out,
            "sigtrace:   {:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3]
        );
    }
}

/// Whether a process's end says nothing more than that it finished its work.
fn plain(v: &Verdict) -> bool {
    v.outcome == Outcome::Exited(0) && v.cause == crate::verdict::Cause::SelfExit
}

/// The verdicts that get rows of their own, and those that are only counted.
fn pick(verdicts: &[Verdict]) -> (Vec<&Verdict>, Vec<&Verdict>) {
    if verdicts.len() <= ROWS_MAX {
        return (verdicts.iter().collect(), Vec::new());
    }
    let notable = verdicts.iter().skip(1).filter(|v| !plain(v)).count();
    // Plain ends fill what notable ones leave of ROWS_MAX, in order.
    let mut plain_room = (ROWS_MAX - 1).saturating_sub(notable);
    let mut room = ROWS_MAX - 1;
    let (mut shown, mut counted) = (vec![&verdicts[0]], Vec::new());
    for v in &verdicts[1..] {
        let take = room > 0 && (!plain(v) || plain_room > 0);
        if take {
            room -= 1;
            plain_room -= plain(v) as usize;
            shown.push(v);
        } else {
            counted.push(v);
        }
    }
    (shown, counted)
}

/// One row per (how it ended, cause) of the counted processes: how many, and by whom.
fn aggregate(counted: &[&Verdict]) -> Vec<[String; 5]> {
    let mut groups: BTreeMap<(String, &'static str), (usize, Vec<String>)> = BTreeMap::new();
    for v in counted {
        let g = groups
            .entry((ended(v.outcome), v.cause.as_str()))
            .or_default();
        g.0 += 1;
        let by = by(v);
        if !g.1.contains(&by) {
            g.1.push(by);
        }
    }
    groups
        .into_iter()
        .map(|((ended, cause), (n, senders))| {
            let by = match senders.as_slice() {
                [one] => one.clone(),
                many => format!("{} senders", many.len()),
            };
            let what = if n == 1 { "process" } else { "processes" };
            [
                "...".into(),
                format!("{n} more {what}"),
                ended,
                cause.into(),
                by,
            ]
        })
        .collect()
}

fn row(v: &Verdict) -> [String; 5] {
    [
        v.pid.to_string(),
        command(v),
        ended(v.outcome),
        v.cause.as_str().to_string(),
        by(v),
    ]
}

pub(super) fn ended(o: Outcome) -> String {
    match o {
        Outcome::Exited(c) => format!("exited {c}"),
        Outcome::Killed { sig, .. } => format!("killed by {sig}"),
    }
}

fn by(v: &Verdict) -> String {
    match &v.by {
        Some((from, _)) => match (from.process(), from.pid()) {
            (Some(s), _) => super::text::short_sender(s),
            (None, _) => "another pid namespace".to_string(),
        },
        None => "-".to_string(),
    }
}

/// The command line as a shell would take it (`text::shell_words`), cut to COMMAND_MAX; the
/// name when no command line was read.
fn command(v: &Verdict) -> String {
    if v.argv.is_empty() {
        return crate::text::escape_bytes(&v.comm);
    }
    crate::text::shell_words(&v.argv, COMMAND_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Fold;
    use crate::verdict::testing::exited;

    fn verdict(f: &mut Fold, pid: i32, code: i32, argv: &[&str]) -> Verdict {
        let mut v = exited(f, pid, code);
        v.argv = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        v
    }

    #[test]
    fn commands_quoted_and_cut() {
        let mut f = Fold::default();
        let v = verdict(&mut f, 1, 4, &["sh", "-c", "exit 4"]);
        assert_eq!(command(&v), "sh -c 'exit 4'");
        let v = verdict(&mut f, 1, 4, &["echo", "it's", "a\nb"]);
        assert_eq!(command(&v), r"echo 'it'\''s' 'a\nb'");
        let long = "x".repeat(100);
        let v = verdict(&mut f, 1, 4, &["sleep", &long]);
        assert_eq!(command(&v).len(), COMMAND_MAX);
        assert!(command(&v).ends_with("x..."));
        assert_eq!(command(&verdict(&mut f, 1, 0, &[])), "java");
    }

    #[test]
    fn long_tables_count_the_plain_ends() {
        let mut f = Fold::default();
        let mut vs: Vec<Verdict> = (0..200)
            .map(|i| verdict(&mut f, 1000 + i, 0, &["true"]))
            .collect();
        vs[150] = verdict(&mut f, 1150, 3, &["false"]);
        let mut out = String::new();
        summary_table(&vs, &mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "sigtrace: summary of 200 processes");
        // The header, ROWS_MAX rows, one counted row.
        assert_eq!(lines.len(), 2 + ROWS_MAX + 1, "{out}");
        assert!(lines[2].contains("1000 "), "the first process first: {out}");
        assert!(out.contains("1150 ") && out.contains("exited 3"), "{out}");
        let last = lines.last().unwrap();
        assert!(last.contains("150 more processes") && last.contains("exited 0"));
    }
}
