//! --perfetto: the collected Trace as Chrome trace-event JSON, for ui.perfetto.dev and chrome://tracing.
//!
//! The Trace Event Format: timestamps in microseconds; "M" metadata names each process's track;
//! one "X" complete event per process spans its life; "i" instants (thread scope) mark signals;
//! a flow ("s" on the sender, "f" with `bp: "e"` on the receiver, same cat, name and id) binds
//! to the slices enclosing those times and draws the arrow.

use super::collect::{DISPOSITIONS, Proc, Trace};
use serde_json::{Value, json};
use std::io::{self, Write};

fn micros(t: f64) -> f64 {
    (t * 1e6).round()
}

/// Writes the whole file, one event at a time (no tree of the whole trace in memory).
pub fn write(trace: &Trace, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"{\"traceEvents\":[\n")?;
    let mut events = Events { out, first: true };
    for (row, p) in trace.procs.iter().enumerate() {
        process_events(trace, row, p, &mut events)?;
    }
    signal_events(trace, &mut events)?;
    let other = json!({
        "tool": "sigtrace",
        "start_epoch_seconds": trace.start.as_secs_f64(),
        "dropped_signals": trace.dropped_signals,
        "dropped_processes": trace.dropped_procs,
    });
    write!(
        events.out,
        "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{other}}}\n"
    )?;
    events.out.flush()
}

/// The array of events being written.
struct Events<'a> {
    out: &'a mut dyn Write,
    first: bool,
}

impl Events<'_> {
    fn push(&mut self, event: Value) -> io::Result<()> {
        if !std::mem::take(&mut self.first) {
            self.out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *self.out, &event)?;
        Ok(())
    }
}

/// A process's track: its name, its place (parents before children), and the slice of its life.
fn process_events(trace: &Trace, row: usize, p: &Proc, events: &mut Events) -> io::Result<()> {
    let name = if p.argv.is_empty() { &p.comm } else { &p.argv };
    // The slice's name is the short line; its `command` the whole one.
    let command = p.command.map_or(name, |i| &trace.texts[i as usize]);
    let track = |what: &str, args: Value| json!({"ph": "M", "name": what, "pid": p.pid, "tid": p.pid, "args": args});
    events.push(track(
        "process_name",
        json!({"name": format!("{} ({})", p.comm, p.pid)}),
    ))?;
    events.push(track("thread_name", json!({"name": p.comm})))?;
    events.push(track("process_sort_index", json!({"sort_index": row})))?;
    let (start, end) = life(trace, p);
    let args = match &p.end {
        Some(e) => json!({"pid": p.pid, "ppid": p.ppid, "command": command, "outcome": e.outcome,
            "cause": e.cause.as_str(), "verdict": e.verdict, "by": e.by}),
        None => json!({"pid": p.pid, "ppid": p.ppid, "command": command,
            "outcome": "still running at the end of the trace"}),
    };
    events.push(
        json!({"ph": "X", "cat": "process", "name": name, "pid": p.pid, "tid": p.pid,
        "ts": start, "dur": end - start, "args": args}),
    )
}

/// An instant per signal on its receiver's track; a flow from a traced sender's track.
fn signal_events(trace: &Trace, events: &mut Events) -> io::Result<()> {
    for (id, s) in trace.signals.iter().enumerate() {
        let to = &trace.procs[s.receiver as usize];
        let name = crate::signal::Signal(s.signo.into()).to_string();
        let ts = micros(s.time);
        let args = json!({"text": trace.texts[s.line as usize],
            "disposition": DISPOSITIONS[s.disposition as usize],
            "from": trace.texts[s.from as usize]});
        events.push(json!({"ph": "i", "s": "t", "cat": "signal", "name": name,
            "pid": to.pid, "tid": to.pid, "ts": ts, "args": args}))?;
        let Some(from) = s.sender.filter(|&f| f != s.receiver) else {
            continue;
        };
        let from = &trace.procs[from as usize];
        events.push(json!({"ph": "s", "cat": "signal", "name": name, "id": id,
            "pid": from.pid, "tid": from.pid, "ts": inside(trace, from, ts)}))?;
        events.push(
            json!({"ph": "f", "bp": "e", "cat": "signal", "name": name, "id": id,
            "pid": to.pid, "tid": to.pid, "ts": ts}),
        )?;
    }
    Ok(())
}

/// A process's slice: from its first event to its end (or the trace's end), in microseconds.
fn life(trace: &Trace, p: &Proc) -> (f64, f64) {
    let start = micros(p.start);
    let end = p.end.as_ref().map_or(trace.duration, |e| e.time);
    (start, micros(end).max(start))
}

/// `ts` moved inside the sender's life, so that the flow binds to its slice (a child's SIGCHLD
/// reaches the parent after the child's end).
fn inside(trace: &Trace, p: &Proc, ts: f64) -> f64 {
    let (start, end) = life(trace, p);
    if ts < end {
        return ts.max(start);
    }
    (end - 1.0).max(start)
}
