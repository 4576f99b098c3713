//! JSON Lines (--json): one object per event, with the strace line in `text`.

use super::text::siginfo;
use crate::decode::siginfo::{self as si, SigInfo};
use crate::decode::syscall::spec;
use crate::event::{Disposition, Event, EventKind, From, Sender, Syscall};
use crate::verdict::{Outcome, SignalRecord, Verdict};
use serde_json::{Value, json};
use std::collections::HashMap;

/// JSON strings hold text from the traced system as it is (lossy UTF-8); serde escapes it.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub struct JsonFormat {
    clk_tck: u64,
    /// Syscall entries waiting for their exit, per task.
    pending: HashMap<i32, Syscall>,
}

fn sender(s: &Sender) -> Value {
    json!({
        "pid": s.pid,
        "uid": s.uid,
        "comm": text(&s.comm),
        "cmdline": text(&s.cmdline),
        "ancestry": s.ancestry.iter().map(|(pid, comm)| json!({"pid": pid, "comm": text(comm)})).collect::<Vec<_>>(),
    })
}

fn from_value(from: &From) -> Value {
    match from {
        From::Process(s) => sender(s),
        From::Gone(pid) => json!({"pid": pid, "gone": true}),
        From::OtherNamespace => json!({"pid": 0, "other_namespace": true}),
        From::NoSender => Value::Null,
    }
}

fn disposition(d: Disposition) -> &'static str {
    match d {
        Disposition::Default => "default",
        Disposition::Ignored { .. } => "ignored",
        Disposition::Caught => "caught",
    }
}

fn head(ev_name: &str, time: f64, pid: i32, tid: i32) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("event".into(), ev_name.into());
    m.insert("time".into(), time.into());
    m.insert("pid".into(), pid.into());
    m.insert("tid".into(), tid.into());
    m
}

impl JsonFormat {
    pub fn new(clk_tck: u64) -> JsonFormat {
        JsonFormat {
            clk_tck,
            pending: HashMap::new(),
        }
    }

    fn signal(
        &self,
        time: f64,
        pid: i32,
        tid: i32,
        info: &SigInfo,
        from: &From,
        d: Disposition,
    ) -> Value {
        let mut line = format!("--- {} ", info.signo());
        siginfo(info, self.clk_tck, &mut line);
        line.push_str(" ---");
        let mut m = head("signal", time, pid, tid);
        m.insert("signal".into(), info.signo().to_string().into());
        m.insert("signo".into(), info.signo().0.into());
        let code = si::code_name(info.code(), info.signo())
            .map_or_else(|| info.code().to_string(), str::to_string);
        m.insert("code".into(), code.into());
        m.insert("sender".into(), from_value(from));
        m.insert("disposition".into(), disposition(d).into());
        if let Disposition::Ignored { since_exec } = d {
            m.insert("ignored_since_exec".into(), since_exec.into());
        }
        m.insert("text".into(), line.into());
        Value::Object(m)
    }

    /// One event as a JSON line into `out` (nothing for a syscall entry: its exit carries it).
    pub fn event(&mut self, ev: &Event, out: &mut String) {
        let time = ev.time.wall.as_secs_f64();
        let value = match &ev.kind {
            EventKind::Signal {
                info,
                from,
                disposition,
            } => self.signal(time, ev.pid, ev.tid, info, from, *disposition),
            EventKind::Stopped(sig) => {
                let mut m = head("stopped", time, ev.pid, ev.tid);
                m.insert("signal".into(), sig.to_string().into());
                Value::Object(m)
            }
            EventKind::Exited { code, .. } => {
                let mut m = head("exited", time, ev.pid, ev.tid);
                m.insert("code".into(), (*code).into());
                m.insert("core_dumped".into(), false.into());
                Value::Object(m)
            }
            EventKind::Killed { sig, core, .. } => {
                let mut m = head("killed", time, ev.pid, ev.tid);
                m.insert("signal".into(), sig.to_string().into());
                m.insert("core_dumped".into(), (*core).into());
                Value::Object(m)
            }
            EventKind::Superseded { old_tid } => {
                let mut m = head("superseded", time, ev.pid, ev.tid);
                m.insert("old_tid".into(), (*old_tid).into());
                Value::Object(m)
            }
            EventKind::Context(c) => {
                let mut m = head("context", time, ev.pid, ev.tid);
                m.insert("comm".into(), text(&c.comm).into());
                m.insert("ppid".into(), c.ppid.into());
                m.insert("parent_comm".into(), text(&c.parent_comm).into());
                m.insert("pgrp".into(), c.pgrp.into());
                m.insert("session".into(), c.session.into());
                m.insert("tty".into(), c.tty.clone().into());
                Value::Object(m)
            }
            EventKind::SyscallEntry(call) => {
                self.pending.insert(ev.tid, call.clone());
                return;
            }
            EventKind::SyscallExit {
                call,
                ret,
                is_error,
            } => {
                let entry = self.pending.remove(&ev.tid);
                self.syscall(
                    time,
                    ev,
                    entry.as_ref(),
                    Some(call),
                    Some((*ret, *is_error)),
                )
            }
            EventKind::SyscallNoReturn { .. } => {
                let entry = self.pending.remove(&ev.tid);
                self.syscall(time, ev, entry.as_ref(), None, None)
            }
            EventKind::Note(_) | EventKind::Kernel(_) | EventKind::KernelOff(_) => return,
        };
        out.push_str(&value.to_string());
        out.push('\n');
    }

    fn syscall(
        &self,
        time: f64,
        ev: &Event,
        entry: Option<&Syscall>,
        exit: Option<&Syscall>,
        ret: Option<(i64, bool)>,
    ) -> Value {
        let Some(call) = entry.or(exit) else {
            return Value::Null;
        };
        let spec = spec(call.nr);
        let mut line = String::new();
        let mut args = Vec::new();
        if let Some(e) = entry {
            super::syscall::entry(&spec, e, self.clk_tck, &mut line);
            args.extend(super::syscall::arg_strings(spec.entry, e, self.clk_tck));
        } else {
            line.push_str(&format!("<... {} resumed>", spec.name));
        }
        if let Some(x) = exit {
            super::syscall::exit(&spec, x, self.clk_tck, &mut line);
            args.extend(super::syscall::arg_strings(spec.exit, x, self.clk_tck));
        }
        line.push_str(") = ");
        let ret_value = match ret {
            Some((r, e)) => {
                super::syscall::ret(&spec, r, e, &mut line);
                if e { Value::from(-1) } else { Value::from(r) }
            }
            None => {
                line.push('?');
                Value::Null
            }
        };
        let mut m = head("syscall", time, ev.pid, ev.tid);
        m.insert("name".into(), spec.name.into());
        m.insert("args".into(), args.into());
        m.insert("ret".into(), ret_value);
        if let Some((r, true)) = ret {
            m.insert(
                "errno".into(),
                crate::decode::errno_name(r.wrapping_neg() as i32)
                    .unwrap_or("?")
                    .into(),
            );
        }
        m.insert("text".into(), line.into());
        Value::Object(m)
    }

    pub fn verdict(&self, v: &Verdict, out: &mut String) {
        let time = v.time.wall.as_secs_f64();
        let mut m = head("verdict", time, v.pid, v.pid);
        m.insert("comm".into(), text(&v.comm).into());
        let (outcome, code, signal) = match v.outcome {
            Outcome::Exited(c) => ("exited", Value::from(c), Value::Null),
            Outcome::Killed { sig, .. } => ("killed", Value::Null, Value::from(sig.to_string())),
        };
        m.insert("outcome".into(), outcome.into());
        m.insert("code".into(), code);
        m.insert("signal".into(), signal);
        m.insert("cause".into(), v.cause.as_str().into());
        m.insert(
            "by".into(),
            v.by.as_ref().map_or(Value::Null, |s| {
                json!({"pid": s.pid, "uid": s.uid, "comm": text(&s.comm),
                    "cmdline": text(&s.cmdline), "source": v.source.as_str()})
            }),
        );
        let earlier = v.earlier.iter().map(|e| {
            let by = e.by.as_ref().map_or(json!({"pid": e.sender_pid}), |s| {
                json!({"pid": s.pid, "uid": s.uid, "comm": text(&s.comm), "source": "kernel-record"})
            });
            json!({"signal": e.sig.to_string(), "by": by, "time": e.time.wall.as_secs_f64()})
        });
        m.insert("earlier".into(), Value::Array(earlier.collect()));
        let trigger = v.trigger.as_ref().map_or(Value::Null, |t: &SignalRecord| {
            self.signal(
                t.time.wall.as_secs_f64(),
                v.pid,
                t.tid,
                &t.info,
                &t.from,
                t.disposition,
            )
        });
        m.insert("trigger".into(), trigger);
        if let Some(c) = &v.call {
            m.insert("call".into(), json!({"sender": c.sender, "text": c.text}));
        }
        m.insert("summary".into(), v.summary.clone().into());
        out.push_str(&Value::Object(m).to_string());
        out.push('\n');
    }
}
