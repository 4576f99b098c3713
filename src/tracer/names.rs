//! -Y / --decode-pids: the names strace writes after pids, read while the task is stopped.

use super::Tracer;
use crate::event::{EventKind, PidNames, Syscall};
use crate::procfs;
use crate::sys::Tid;
use crate::syscalls::{Arg, Kind, Ret, Value, spec};
use crate::text::escape_bytes;

/// What -Y and --decode-pids ask for: `<comm>` after a pid, its number in sigtrace's pid
/// namespace where the task's differs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodePids {
    pub comm: bool,
    pub pidns: bool,
}

impl Tracer {
    /// The names for an event's line: its task's own (`[pid N<comm>]`), and each pid it shows
    /// (the kill family's and wait4's pid arguments, a fork's or wait4's result, si_pid).
    pub(super) fn pid_names(&self, pid: Tid, tid: Tid, kind: &EventKind) -> Option<Box<PidNames>> {
        let want = self.decode_pids;
        if want == DecodePids::default() {
            return None;
        }
        let mut shown: Vec<i64> = Vec::new();
        let args = |call: &Syscall, list: &[Arg], shown: &mut Vec<i64>| {
            let pids = list.iter().filter(|a| a.kind == Kind::Value(Value::Pid));
            shown.extend(pids.map(|a| call.args[a.idx as usize] as i32 as i64));
        };
        match kind {
            EventKind::SyscallEntry(call) => args(call, spec(call.nr).entry, &mut shown),
            EventKind::SyscallNoReturn { entry } => args(entry, spec(entry.nr).entry, &mut shown),
            EventKind::SyscallExit {
                entry,
                call,
                ret,
                is_error,
            } => {
                let spec = spec(call.nr);
                args(entry, spec.entry, &mut shown);
                if spec.ret == Ret::Pid && !is_error {
                    shown.push(*ret);
                }
            }
            EventKind::Signal { info, .. } => shown.push(info.pid() as i64),
            _ => {}
        }
        // A task already reaped (its end) has the name it had last.
        let own = want
            .comm
            .then(|| {
                let ended = match kind {
                    EventKind::Exited { comm, .. } | EventKind::Killed { comm, .. } => comm.clone(),
                    _ => None,
                };
                let cached = || self.tasks.get(&tid)?.comm.clone();
                let last = ended.or_else(cached).map(|c| c.to_vec());
                // A thread's end: the process's name.
                let process = || procfs::comm_bytes(pid);
                procfs::comm_bytes(tid)
                    .or(last)
                    .or_else(process)
                    .map(|c| comm(&c))
            })
            .flatten();
        let pids = shown
            .into_iter()
            .filter(|&p| p > 0 && p <= i32::MAX as i64)
            .filter_map(|p| Some((p, self.after_pid(pid, p as i32)?)))
            .collect();
        Some(Box::new(PidNames { own, pids }))
    }

    /// What strace writes after `shown`, a pid as process `pid` names it: `<comm>` (when it is
    /// still there to read), ` /* N in strace's PID NS */` (when N differs).
    fn after_pid(&self, pid: Tid, shown: i32) -> Option<Box<str>> {
        // Only a process still there (a zombie included) is named, as strace reads /proc.
        let host = self
            .procs
            .in_own_ns(pid, shown)
            .filter(|&h| procfs::exists(h));
        let mut s = String::new();
        if self.decode_pids.comm
            && let Some(c) = host.and_then(procfs::comm_bytes)
        {
            s.push_str(&comm(&c));
        }
        if self.decode_pids.pidns
            && let Some(h) = host.filter(|&h| h != shown)
        {
            s.push_str(&format!(" /* {h} in strace's PID NS */"));
        }
        (!s.is_empty()).then(|| s.into_boxed_str())
    }
}

fn comm(bytes: &[u8]) -> Box<str> {
    format!("<{}>", escape_bytes(bytes)).into_boxed_str()
}
