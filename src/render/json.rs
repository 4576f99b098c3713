//! JSON Lines (--json): one serde-typed object per event, with the strace line in `text`.
//!
//! Each object's fields are declared in alphabetical order: that is the order JSON Lines
//! readers have always seen (they were once built as sorted maps).

use crate::decode::siginfo::SigInfo;
use crate::event::Context;
use crate::event::reason::KernelReason;
use crate::event::{
    Disposition, Event, EventKind, Note, Origin, PidNames, Sender, Source, Syscall,
};
use crate::strace::args;
use crate::strace::signal::siginfo_named;
use crate::syscalls::spec;
use crate::verdict::{Outcome, SignalRecord, Verdict};
use serde::Serialize;

/// JSON strings hold text from the traced system as it is (lossy UTF-8); serde escapes it.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub struct JsonFormat {
    clk_tck: u64,
}

/// When and where an event happened.
#[derive(Clone, Copy)]
struct At {
    time: f64,
    pid: i32,
    tid: i32,
}

#[derive(Serialize)]
struct Ancestor {
    comm: String,
    pid: i32,
}

#[derive(Serialize)]
#[serde(untagged)]
enum SenderJson {
    Process {
        ancestry: Vec<Ancestor>,
        /// Its arguments, as read; `cmdline` is them quoted as the text quotes them.
        argv: Vec<String>,
        cmdline: String,
        comm: String,
        /// The program it exec'd, from the kernel's record.
        exe: Option<String>,
        /// Seconds between its last signal and its end, when it had ended.
        #[serde(skip_serializing_if = "Option::is_none")]
        exited_after_sending: Option<f64>,
        /// It had ended when it was described.
        gone: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        passed_on_by_sigtrace: Option<bool>,
        pid: i32,
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<&'static str>,
        uid: Option<u32>,
    },
    OtherNamespace {
        other_namespace: bool,
        pid: i32,
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<&'static str>,
        uid: u32,
    },
    Untranslated {
        namespace_pid: i32,
        pid: Option<i32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<&'static str>,
        uid: u32,
        untranslated: bool,
    },
}

impl SenderJson {
    /// How the sender was known, for a verdict's `by`.
    fn with_source(mut self, how: Source) -> SenderJson {
        match &mut self {
            SenderJson::Process { source, .. }
            | SenderJson::OtherNamespace { source, .. }
            | SenderJson::Untranslated { source, .. } => *source = Some(how.as_str()),
        }
        self
    }
}

fn sender(s: &Sender, passed_on: bool) -> SenderJson {
    SenderJson::Process {
        ancestry: s
            .ancestry
            .iter()
            .map(|(pid, comm)| Ancestor {
                comm: text(comm),
                pid: *pid,
            })
            .collect(),
        argv: s.argv.iter().map(|a| text(a)).collect(),
        cmdline: crate::text::shell_words(&s.argv, usize::MAX),
        comm: text(&s.comm),
        exe: (!s.exe.is_empty()).then(|| text(&s.exe)),
        exited_after_sending: s
            .exited
            .and_then(|e| e.after_sending)
            .map(|d| d.as_secs_f64()),
        gone: s.exited.is_some(),
        passed_on_by_sigtrace: passed_on.then_some(true),
        pid: s.pid,
        source: None,
        uid: s.uid,
    }
}

fn origin(from: &Origin) -> Option<SenderJson> {
    Some(match *from {
        Origin::Process(ref s) => sender(s, false),
        Origin::PassedOn(ref s) => sender(s, true),
        Origin::OtherNamespace { uid } => SenderJson::OtherNamespace {
            other_namespace: true,
            pid: 0,
            source: None,
            uid,
        },
        Origin::Untranslated { pid, uid } => SenderJson::Untranslated {
            namespace_pid: pid,
            pid: None,
            source: None,
            uid,
            untranslated: true,
        },
        Origin::NoSender => return None,
    })
}

fn disposition(d: Disposition) -> &'static str {
    match d {
        Disposition::Default => "default",
        Disposition::Ignored { .. } => "ignored",
        Disposition::Caught => "caught",
        Disposition::Taken(_) => "taken",
    }
}

/// `kernel_reason`: the reason's name with its figures.
fn kernel_reason(r: &KernelReason) -> serde_json::Value {
    use serde_json::json;
    let who = |p: &Option<(i32, Vec<u8>)>| {
        p.as_ref()
            .map(|(pid, comm)| json!({"pid": pid, "comm": text(comm)}))
    };
    let mut v = match r {
        KernelReason::RlimitCpu { hard, limit, used } => json!({
            "hard": hard,
            "limit_s": limit,
            "cpu_s": used.map(|u| u.as_secs_f64()),
        }),
        KernelReason::RlimitFsize { limit } => json!({ "limit_bytes": limit }),
        KernelReason::RlimitRttime { hard, limit } => json!({ "hard": hard, "limit_us": limit }),
        KernelReason::OrphanedPgrp { pgrp, parent } => json!({
            "pgrp": pgrp,
            "parent": who(parent),
        }),
        KernelReason::SessionLeaderExit {
            leader,
            comm,
            ended,
        } => json!({
            "leader": { "pid": leader, "comm": text(comm) },
            "leader_status": ended.as_ref().map(|e| e.status),
            "leader_signal": ended.as_ref().and_then(|e| e.signal).map(|s| crate::signal::Signal(s).to_string()),
            "leader_by": ended.as_ref().and_then(|e| who(&e.by)),
        }),
        KernelReason::Unestablished { checked } => json!({ "checked": checked }),
        KernelReason::Oom
        | KernelReason::Terminal
        | KernelReason::BrokenPipe
        | KernelReason::PidnsInitDiscard => json!({}),
    };
    v["name"] = r.name().into();
    v
}

/// -k's frames (a marker frame has an empty module and says in `symbol` why the stack ends).
#[derive(Serialize)]
struct FrameJson {
    address: u64,
    module: String,
    offset: u64,
    symbol: Option<String>,
}

fn stack(s: Option<&crate::event::Stack>) -> Option<Vec<FrameJson>> {
    let frame = |f: &crate::event::Frame| FrameJson {
        address: f.address,
        module: f.module.clone(),
        offset: f.offset,
        symbol: f.symbol.clone(),
    };
    s.map(|frames| frames.iter().map(frame).collect())
}

#[derive(Serialize)]
struct SignalJson {
    code: String,
    disposition: &'static str,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored_since_exec: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel_reason: Option<serde_json::Value>,
    pid: i32,
    sender: Option<SenderJson>,
    signal: String,
    signo: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    stack: Option<Vec<FrameJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    taken_by: Option<&'static str>,
    text: String,
    tid: i32,
    time: f64,
}

#[derive(Serialize)]
struct SyscallJson {
    args: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errno: Option<&'static str>,
    event: &'static str,
    name: &'static str,
    pid: i32,
    ret: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stack: Option<Vec<FrameJson>>,
    text: String,
    tid: i32,
    time: f64,
}

/// The events with no more than a few fields of their own.
#[derive(Serialize)]
#[serde(untagged)]
enum Simple {
    Stopped {
        event: &'static str,
        pid: i32,
        signal: String,
        tid: i32,
        time: f64,
    },
    Exited {
        code: i32,
        core_dumped: bool,
        event: &'static str,
        pid: i32,
        tid: i32,
        time: f64,
    },
    Killed {
        core_dumped: bool,
        event: &'static str,
        pid: i32,
        signal: String,
        tid: i32,
        time: f64,
    },
    Superseded {
        event: &'static str,
        old_tid: i32,
        pid: i32,
        tid: i32,
        time: f64,
    },
}

#[derive(Serialize)]
struct ContextJson {
    argv: Vec<String>,
    comm: String,
    event: &'static str,
    parent_comm: String,
    pgrp: i32,
    pid: i32,
    ppid: i32,
    session: i32,
    tid: i32,
    time: f64,
    tty: Option<String>,
}

/// The traced kill-family call behind a verdict: who made it, and its strace line.
#[derive(Serialize)]
struct Call {
    comm: String,
    pid: i32,
    text: String,
    time: f64,
}

/// A termination request received before the end.
#[derive(Serialize)]
struct EarlierJson {
    by: Option<SenderJson>,
    disposition: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel_reason: Option<serde_json::Value>,
    signal: String,
    time: f64,
}

/// A signal sent to sigtrace, and whether it was passed on to the command.
#[derive(Serialize)]
struct RelayedJson {
    event: &'static str,
    passed_on: bool,
    pid: i32,
    sender: Option<SenderJson>,
    signal: String,
    tid: i32,
    time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    why_not: Option<&'static str>,
}

#[derive(Serialize)]
struct VerdictJson {
    argv: Vec<String>,
    by: Option<SenderJson>,
    call: Option<Call>,
    cause: &'static str,
    /// Where it was read (the watch mode): its cgroup's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    cgroup: Option<String>,
    code: Option<i32>,
    comm: String,
    earlier: Vec<EarlierJson>,
    event: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    exit_in_handler: bool,
    kernel_reason: Option<serde_json::Value>,
    outcome: &'static str,
    pid: i32,
    ppid: Option<i32>,
    signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stack: Option<Vec<FrameJson>>,
    status: i32,
    summary: String,
    tid: i32,
    time: f64,
    trigger: Option<SignalJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<u32>,
}

/// The last line of every stream: how sigtrace ends, and the main process's verdict.
#[derive(Serialize)]
struct EndJson {
    error: Option<String>,
    event: &'static str,
    lost: LostJson,
    pid: i32,
    processes: usize,
    status: i32,
    tid: i32,
    time: f64,
    verdict: Option<VerdictJson>,
}

/// What the sources could not keep (a full buffer).
#[derive(Serialize)]
struct LostJson {
    kernel_records: u64,
    connector_messages: u64,
}

/// Chatter (attached, detached) as an event of the stream rather than a line on stderr.
#[derive(Serialize)]
struct NoteJson {
    event: &'static str,
    note: &'static str,
    pid: i32,
    /// `detaching`: who sent sigtrace the signal (null: the terminal).
    #[serde(skip_serializing_if = "Option::is_none")]
    sender: Option<SenderJson>,
    /// `detaching`: the signal sigtrace got.
    #[serde(skip_serializing_if = "Option::is_none")]
    signal: Option<String>,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    threads: Option<usize>,
    tid: i32,
    time: f64,
}

/// One object as a line into `out`.
fn line(value: &impl Serialize, out: &mut String) {
    // Serializing these plain structs cannot fail.
    out.push_str(&serde_json::to_string(value).expect("serializable"));
    out.push('\n');
}

impl JsonFormat {
    pub fn new() -> JsonFormat {
        JsonFormat {
            clk_tck: crate::sys::clock_ticks(),
        }
    }

    fn signal(
        &self,
        at: At,
        info: &SigInfo,
        from: &Origin,
        d: Disposition,
        reason: Option<&KernelReason>,
        names: Option<&PidNames>,
    ) -> SignalJson {
        let mut text = format!("--- {} ", info.signo());
        siginfo_named(info, self.clk_tck, names, &mut text);
        text.push_str(" ---");
        let code = crate::strace::signal::code_name(info.code(), info.signo())
            .map_or_else(|| info.code().to_string(), str::to_string);
        SignalJson {
            code,
            disposition: disposition(d),
            event: "signal",
            ignored_since_exec: match d {
                Disposition::Ignored { since_exec } => Some(since_exec),
                _ => None,
            },
            kernel_reason: reason.map(kernel_reason),
            pid: at.pid,
            sender: origin(from),
            signal: info.signo().to_string(),
            signo: info.signo().0,
            stack: None,
            taken_by: match d {
                Disposition::Taken(t) => Some(t.call()),
                _ => None,
            },
            text,
            tid: at.tid,
            time: at.time,
        }
    }

    /// One event as a JSON line into `out` (nothing for a syscall entry: its exit carries it).
    pub fn event(&mut self, ev: &Event, out: &mut String) {
        let at = At {
            time: ev.time.wall.as_secs_f64(),
            pid: ev.pid,
            tid: ev.tid,
        };
        match &ev.kind {
            EventKind::Signal {
                info,
                from,
                disposition,
                reason,
            } => {
                let names = ev.names.as_deref();
                let mut json = self.signal(at, info, from, *disposition, reason.as_ref(), names);
                json.stack = stack(ev.stack.as_ref());
                line(&json, out)
            }
            // An exec's context only feeds the verdict.
            EventKind::Context(c) if c.exec => {}
            EventKind::Context(c) => line(&context(at, c), out),
            EventKind::Relayed { sig, from, passed } => line(
                &RelayedJson {
                    event: "relayed",
                    passed_on: passed.is_ok(),
                    pid: at.pid,
                    sender: origin(from),
                    signal: sig.to_string(),
                    tid: at.tid,
                    time: at.time,
                    why_not: passed.err(),
                },
                out,
            ),
            // The exit (or the end inside the call) carries the entry.
            // Notes and the end are the renderer's to place.
            // A `note` event says the task was let go.
            EventKind::SyscallEntry(_)
            | EventKind::LetGo { .. }
            | EventKind::Note(_)
            | EventKind::End { .. }
            | EventKind::SignalSent { .. }
            | EventKind::Kernel(_)
            | EventKind::KernelOff(_) => {}
            EventKind::SyscallExit {
                entry,
                call,
                ret,
                is_error,
            } => {
                let names = ev.names.as_deref();
                let mut json = self.syscall(at, entry, Some(call), Some((*ret, *is_error)), names);
                json.stack = stack(ev.stack.as_ref());
                line(&json, out)
            }
            EventKind::SyscallNoReturn { entry } => {
                let mut json = self.syscall(at, entry, None, None, ev.names.as_deref());
                json.stack = stack(ev.stack.as_ref());
                line(&json, out)
            }
            kind => line(&simple(at, kind), out),
        }
    }

    fn syscall(
        &self,
        at: At,
        entry: &Syscall,
        exit: Option<&Syscall>,
        ret: Option<(i64, bool)>,
        names: Option<&PidNames>,
    ) -> SyscallJson {
        let spec = spec(entry.nr);
        let mut text = String::new();
        args::entry(&spec, entry, self.clk_tck, names, &mut text);
        let mut args = args::arg_strings(spec.entry, entry, self.clk_tck);
        if let Some(x) = exit {
            args::exit(&spec, x, self.clk_tck, names, &mut text);
            args.extend(args::arg_strings(spec.exit, x, self.clk_tck));
        }
        text.push_str(") = ");
        match ret {
            Some((r, e)) => args::ret(&spec, r, e, names, &mut text),
            None => text.push('?'),
        }
        SyscallJson {
            args,
            errno: match ret {
                Some((r, true)) => {
                    Some(crate::decode::errno_name(r.wrapping_neg() as i32).unwrap_or("?"))
                }
                _ => None,
            },
            event: "syscall",
            name: spec.name,
            pid: at.pid,
            ret: ret.map(|(r, e)| if e { -1 } else { r }),
            stack: None,
            text,
            tid: at.tid,
            time: at.time,
        }
    }

    pub fn verdict(&self, v: &Verdict, out: &mut String) {
        line(&self.verdict_json(v), out);
    }

    /// The `end` event: sigtrace's status, how many processes it traced, why the command
    /// could not run, and the main process's verdict `v` (None after a detach).
    pub fn end(&self, ev: &Event, v: Option<&Verdict>, out: &mut String) {
        let EventKind::End {
            status,
            processes,
            error,
            lost,
        } = &ev.kind
        else {
            return;
        };
        let (status, processes) = (*status, *processes);
        let end = EndJson {
            error: error.clone(),
            event: "end",
            lost: LostJson {
                kernel_records: lost.records,
                connector_messages: lost.messages,
            },
            pid: ev.pid,
            processes,
            status,
            tid: ev.pid,
            time: ev.time.wall.as_secs_f64(),
            verdict: v.map(|v| self.verdict_json(v)),
        };
        line(&end, out);
    }

    /// A note, with the line text mode prints for it on stderr.
    pub fn note(&self, ev: &Event, note: &Note, out: &mut String) {
        let mut text = String::new();
        super::text::note(ev, note, &mut text);
        let (name, threads) = match *note {
            Note::Attached { threads } => ("attached", Some(threads)),
            Note::ChildAttached => ("child-attached", None),
            Note::Detaching { .. } => ("detaching", None),
            Note::Detached => ("detached", None),
        };
        let (signal, sender) = match note {
            Note::Detaching { sig, from } => (Some(sig.to_string()), origin(from)),
            _ => (None, None),
        };
        let note = NoteJson {
            event: "note",
            note: name,
            pid: ev.pid,
            sender,
            signal,
            text: text.trim_end().to_string(),
            threads,
            tid: ev.tid,
            time: ev.time.wall.as_secs_f64(),
        };
        line(&note, out);
    }

    fn verdict_json(&self, v: &Verdict) -> VerdictJson {
        let (outcome, code, signal) = match v.outcome {
            Outcome::Exited(c) => ("exited", Some(c), None),
            Outcome::Killed { sig, .. } => ("killed", None, Some(sig.to_string())),
        };
        let trigger = v.trigger.as_ref().map(|t: &SignalRecord| {
            let at = At {
                time: t.time.wall.as_secs_f64(),
                pid: v.pid,
                tid: t.tid,
            };
            let mut json =
                self.signal(at, &t.info, &t.from, t.disposition, t.reason.as_ref(), None);
            json.stack = stack(t.stack.as_ref());
            json
        });
        VerdictJson {
            argv: v.argv.iter().map(|a| text(a)).collect(),
            by: v
                .by
                .as_ref()
                .and_then(|(from, how)| Some(origin(from)?.with_source(*how))),
            call: v.call.as_ref().map(|c| Call {
                comm: text(&c.sender.comm),
                pid: c.sender.pid,
                text: super::text::kill_call(&c.call, self.clk_tck),
                time: c.time.wall.as_secs_f64(),
            }),
            cause: v.cause.as_str(),
            cgroup: v.cgroup.as_deref().map(|g| text(g.as_bytes())),
            code,
            comm: text(&v.comm),
            earlier: v.earlier.iter().map(earlier).collect(),
            event: "verdict",
            exit_in_handler: v.in_handler,
            kernel_reason: v.kernel_reason.as_ref().map(kernel_reason),
            outcome,
            pid: v.pid,
            ppid: v.ppid,
            signal,
            stack: stack(v.stack.as_ref()),
            status: v.outcome.status(),
            summary: super::text::summary(v, self.clk_tck),
            tid: v.pid,
            time: v.time.wall.as_secs_f64(),
            trigger,
            uid: v.uid,
        }
    }
}

fn earlier(r: &SignalRecord) -> EarlierJson {
    EarlierJson {
        by: origin(&r.from),
        disposition: disposition(r.disposition),
        kernel_reason: r.reason.as_ref().map(kernel_reason),
        signal: r.info.signo().to_string(),
        time: r.time.wall.as_secs_f64(),
    }
}

fn context(at: At, c: &Context) -> ContextJson {
    ContextJson {
        argv: c.argv.iter().map(|a| text(a)).collect(),
        comm: text(&c.comm),
        event: "context",
        parent_comm: text(&c.parent_comm),
        pgrp: c.pgrp,
        pid: at.pid,
        ppid: c.ppid,
        session: c.session,
        tid: at.tid,
        time: at.time,
        tty: c.tty.clone(),
    }
}

/// Stops, ends and supersessions.
fn simple(at: At, kind: &EventKind) -> Simple {
    let At { time, pid, tid } = at;
    match kind {
        EventKind::Stopped(sig) => Simple::Stopped {
            event: "stopped",
            pid,
            signal: sig.to_string(),
            tid,
            time,
        },
        EventKind::Exited { code, .. } => Simple::Exited {
            code: *code,
            core_dumped: false,
            event: "exited",
            pid,
            tid,
            time,
        },
        EventKind::Killed { sig, core, .. } => Simple::Killed {
            core_dumped: *core,
            event: "killed",
            pid,
            signal: sig.to_string(),
            tid,
            time,
        },
        EventKind::Superseded { old_tid } => Simple::Superseded {
            event: "superseded",
            old_tid: *old_tid,
            pid,
            tid,
            time,
        },
        _ => unreachable!("JsonFormat::event writes the others"),
    }
}

impl Default for JsonFormat {
    fn default() -> JsonFormat {
        JsonFormat::new()
    }
}

impl super::Printer for JsonFormat {
    fn event(&mut self, ev: &Event, out: &mut String) {
        JsonFormat::event(self, ev, out);
    }

    fn verdict(&mut self, v: &Verdict, out: &mut String) {
        JsonFormat::verdict(self, v, out);
    }

    fn note(&mut self, ev: &Event, n: &Note, out: &mut String) -> super::Chatter {
        JsonFormat::note(self, ev, n, out);
        super::Chatter::Stream
    }

    fn end(&mut self, ev: &Event, main: Option<&Verdict>, out: &mut String) {
        JsonFormat::end(self, ev, main, out);
    }

    /// A JSON stream has its verdict events instead.
    fn ends_with_table(&self) -> bool {
        false
    }
}
