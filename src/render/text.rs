//! strace's text lines: pid prefixes, timestamps, siginfo, ends and stops, and the attach chatter.

use crate::decode::siginfo::{self as si, SigInfo};
use crate::decode::syscall::spec;
use crate::decode::{errno_name, syscall_name};
use crate::event::{Disposition, Event, EventKind, Note, Stamp};
use crate::signal::{Signal, SignalSet};
use std::fmt::Write;
use std::time::Instant;

/// strace's -t family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    #[default]
    None,
    /// -t: HH:MM:SS
    Seconds,
    /// -tt: HH:MM:SS.uuuuuu
    Micros,
    /// -ttt: seconds since the epoch, .uuuuuu
    Epoch,
}

pub struct TextFormat {
    pub clock: Clock,
    /// -r: time since the previous line.
    pub relative: bool,
    pub signals: SignalSet,
    /// `N     ` columns (-o with -f or several tasks) instead of `[pid N] `.
    pub pid_column: bool,
    /// Trace lines go to a file (strace then never prints `[pid N] `).
    pub to_file: bool,
    pub clk_tck: u64,
    /// ANSI colours (a terminal, --color).
    pub color: bool,
    last: Option<Instant>,
    /// The task whose syscall line is still open (entry printed, exit not yet), and that
    /// line's length so far.
    open: Option<(i32, u32)>,
    col: usize,
}

/// strace pads a syscall's `= result` to this column.
const RESULT_COLUMN: usize = 40;

impl TextFormat {
    pub fn new(
        clock: Clock,
        relative: bool,
        signals: SignalSet,
        pid_column: bool,
        to_file: bool,
    ) -> Self {
        TextFormat {
            clock,
            relative,
            signals,
            pid_column,
            to_file,
            clk_tck: crate::sys::clock_ticks(),
            color: false,
            last: None,
            open: None,
            col: 0,
        }
    }

    /// Formats one event into `out`; false when it is filtered out or is chatter. A syscall's
    /// entry leaves its line open; any other line first closes it with ` <unfinished ...>`, and
    /// its exit then starts a `<... NAME resumed>` line, as strace does.
    pub fn line(&mut self, ev: &Event, out: &mut String) -> bool {
        let shown = match &ev.kind {
            EventKind::Signal { info, .. } => self.signals.contains(info.signo()),
            EventKind::Stopped(sig) | EventKind::Killed { sig, .. } => self.signals.contains(*sig),
            EventKind::Note(_) | EventKind::Kernel(_) | EventKind::KernelOff(_) => false,
            _ => true,
        };
        if !shown {
            return false;
        }
        let start = match &ev.kind {
            EventKind::SyscallExit { call, .. } => self.resume(ev, call.nr, out),
            EventKind::SyscallNoReturn { nr } => self.resume(ev, *nr, out),
            EventKind::Context(ctx) => {
                self.close_open(out);
                context(ev.pid, ctx, out);
                return true;
            }
            _ => {
                self.close_open(out);
                let start = out.len();
                self.leader(ev, out);
                start
            }
        };
        match &ev.kind {
            EventKind::Signal {
                info,
                from,
                disposition,
            } => {
                let line = out.len();
                let _ = write!(out, "--- {} ", info.signo());
                siginfo(info, self.clk_tck, out);
                out.push_str(" ---");
                self.paint(out, line, Paint::Signal);
                out.push('\n');
                let line = out.len();
                annotation(info, from, *disposition, out);
                self.paint(out, line, Paint::Note);
            }
            EventKind::Stopped(sig) => {
                let _ = write!(out, "--- stopped by {sig} ---");
            }
            EventKind::Exited { code, .. } => {
                let _ = write!(out, "+++ exited with {code} +++");
            }
            EventKind::Killed { sig, core, .. } => {
                let line = out.len();
                let core = if *core { "(core dumped) " } else { "" };
                let _ = write!(out, "+++ killed by {sig} {core}+++");
                self.paint(out, line, Paint::Death);
            }
            EventKind::Superseded { old_tid } => {
                let _ = write!(out, "+++ superseded by execve in pid {old_tid} +++");
            }
            EventKind::SyscallEntry(call) => {
                super::syscall::entry(&spec(call.nr), call, self.clk_tck, out);
                self.open = Some((ev.tid, call.nr));
                self.col = out.len() - start;
                return true;
            }
            EventKind::SyscallExit {
                call,
                ret,
                is_error,
            } => {
                let spec = spec(call.nr);
                super::syscall::exit(&spec, call, self.clk_tck, out);
                self.result_column(start, out);
                super::syscall::ret(&spec, *ret, *is_error, out);
            }
            EventKind::SyscallNoReturn { nr } => {
                if !spec(*nr).exit.is_empty() {
                    out.push_str("...");
                }
                self.result_column(start, out);
                out.push('?');
            }
            EventKind::Note(_)
            | EventKind::Context(_)
            | EventKind::Kernel(_)
            | EventKind::KernelOff(_) => unreachable!("handled above"),
        }
        out.push('\n');
        true
    }

    /// Continues this task's open syscall line, or starts `<... NAME resumed>`. Returns where
    /// this event's part of the line starts in `out`; `col` holds what the line had before.
    fn resume(&mut self, ev: &Event, nr: u32, out: &mut String) -> usize {
        if self.open == Some((ev.tid, nr)) {
            self.open = None;
            return out.len();
        }
        self.close_open(out);
        let start = out.len();
        self.leader(ev, out);
        let _ = write!(out, "<... {} resumed>", spec(nr).name);
        self.col = 0;
        start
    }

    fn close_open(&mut self, out: &mut String) {
        if self.open.take().is_some() {
            out.push_str(" <unfinished ...>\n");
            self.col = 0;
        }
    }

    /// `) `, spaces up to column 40, `= `.
    fn result_column(&mut self, start: usize, out: &mut String) {
        out.push_str(") ");
        let col = self.col + out.len() - start;
        if col < RESULT_COLUMN {
            out.extend(std::iter::repeat_n(' ', RESULT_COLUMN - col));
        }
        out.push_str("= ");
        self.col = 0;
    }

    /// strace's printleader: pid prefix, then timestamps.
    fn leader(&mut self, ev: &Event, out: &mut String) {
        if self.pid_column {
            let _ = write!(out, "{:<5} ", ev.tid);
        } else if ev.ntasks > 1 && !self.to_file {
            let _ = write!(out, "[pid {:>5}] ", ev.tid);
        }
        self.stamp(ev.time, out);
    }

    fn stamp(&mut self, t: Stamp, out: &mut String) {
        let secs = t.wall.as_secs();
        let micros = t.wall.subsec_micros();
        match self.clock {
            Clock::None => {}
            Clock::Seconds | Clock::Micros => {
                let (h, m, s) = crate::sys::local_hms(secs as i64);
                let _ = write!(out, "{h:02}:{m:02}:{s:02}");
                if self.clock == Clock::Micros {
                    let _ = write!(out, ".{micros:06}");
                }
                out.push(' ');
            }
            Clock::Epoch => {
                let _ = write!(out, "{secs}.{micros:06} ");
            }
        }
        if self.relative {
            let d = self
                .last
                .map(|l| t.mono.saturating_duration_since(l))
                .unwrap_or_default();
            self.last = Some(t.mono);
            let (open, close) = if self.clock == Clock::None {
                ("", " ")
            } else {
                ("(+", ") ")
            };
            let _ = write!(
                out,
                "{open}{:6}.{:06}{close}",
                d.as_secs(),
                d.subsec_micros()
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Paint {
    Signal,
    Death,
    Note,
    Verdict,
}

impl TextFormat {
    /// Colours `out[from..]` when writing to a terminal.
    fn paint(&self, out: &mut String, from: usize, how: Paint) {
        use owo_colors::OwoColorize;
        if !self.color || from >= out.len() {
            return;
        }
        let text = out.split_off(from);
        let _ = match how {
            Paint::Signal => write!(out, "{}", text.yellow()),
            Paint::Death => write!(out, "{}", text.red()),
            Paint::Note => write!(out, "{}", text.cyan()),
            Paint::Verdict => write!(out, "{}", text.bold()),
        };
    }

    /// `sigtrace: 4242 (java) exited with 143 after SIGTERM from ...: external signal, handled`.
    pub fn verdict(&mut self, v: &crate::verdict::Verdict, out: &mut String) {
        self.close_open(out);
        let line = out.len();
        let _ = write!(
            out,
            "sigtrace: {} ({}) {}",
            v.pid,
            crate::escape_bytes(&v.comm),
            v.summary
        );
        self.paint(out, line, Paint::Verdict);
        out.push('\n');
    }
}

/// The line after a signal's: what it does, and who sent it.
fn annotation(info: &SigInfo, from: &crate::event::From, d: Disposition, out: &mut String) {
    let sig = info.signo();
    let _ = write!(out, "sigtrace: {sig} ");
    match d {
        Disposition::Caught => out.push_str("caught by a handler"),
        Disposition::Ignored { since_exec: true } => {
            out.push_str("ignored (ignored since exec: the disposition was inherited)")
        }
        Disposition::Ignored { since_exec: false } => out.push_str("ignored"),
        Disposition::Default => {
            let _ = write!(out, "default action: {}", default_action(sig));
        }
    }
    out.push_str("; ");
    crate::verdict::describe_from(info, from, out);
}

/// signal(7)'s default actions.
fn default_action(sig: Signal) -> &'static str {
    match sig.0 {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH => "ignore",
        libc::SIGCONT => "continue",
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => "stop",
        libc::SIGQUIT
        | libc::SIGILL
        | libc::SIGABRT
        | libc::SIGFPE
        | libc::SIGSEGV
        | libc::SIGBUS
        | libc::SIGSYS
        | libc::SIGTRAP
        | libc::SIGXCPU
        | libc::SIGXFSZ => "terminate with a core dump",
        _ => "terminate",
    }
}

/// `sigtrace: 4242 (sleep): parent 4301 (bash), process group 4301, session 1200, terminal pts/0`.
fn context(pid: i32, c: &crate::procfs::Context, out: &mut String) {
    let _ = write!(
        out,
        "sigtrace: {pid} ({}): parent {} ({}), process group {}, session {}, ",
        crate::escape_bytes(&c.comm),
        c.ppid,
        crate::escape_bytes(&c.parent_comm),
        c.pgrp,
        c.session
    );
    let _ = match &c.tty {
        Some(t) => writeln!(out, "terminal {t}"),
        None => writeln!(out, "no controlling terminal"),
    };
}

/// The stderr chatter lines, worded as strace words them.
pub fn note(ev: &Event, note: &Note, out: &mut String) {
    let _ = match note {
        Note::Attached { threads } if *threads > 1 => writeln!(
            out,
            "sigtrace: Process {} attached with {threads} threads",
            ev.pid
        ),
        Note::Attached { .. } | Note::ChildAttached => {
            writeln!(out, "sigtrace: Process {} attached", ev.tid)
        }
        Note::Detached => writeln!(out, "sigtrace: Process {} detached", ev.tid),
    };
}

fn addr(out: &mut String, name: &str, a: u64) {
    if a == 0 {
        let _ = write!(out, ", {name}=NULL");
    } else {
        let _ = write!(out, ", {name}={a:#x}");
    }
}

fn source(out: &mut String, info: &SigInfo) {
    let _ = write!(out, ", si_pid={}, si_uid={}", info.pid(), id(info.uid()));
}

fn value(out: &mut String, info: &SigInfo) {
    let _ = write!(out, ", si_int={}", info.int());
    addr(out, "si_ptr", info.ptr());
}

/// strace prints an id as unsigned except for -1.
fn id(v: u32) -> i64 {
    if v == u32::MAX { -1 } else { v as i64 }
}

/// A clock_t with strace's `/* 0.45 s */` comment.
fn clock_t(out: &mut String, name: &str, v: u64, tck: u64) {
    let _ = write!(out, ", {name}={v}");
    if v > 0 && tck > 0 {
        let width = tck.ilog10() as usize;
        let frac = (v % tck) as f64 / tck as f64;
        let f = format!("{frac:.width$}");
        let _ = write!(out, " /* {}{} s */", v / tck, &f[1..]);
    }
}

/// strace's printsiginfo: `{si_signo=SIGTERM, si_code=SI_USER, si_pid=1, si_uid=0}`.
pub fn siginfo(info: &SigInfo, tck: u64, out: &mut String) {
    let signo = info.signo();
    if signo.0 == 0 {
        out.push_str("{}");
        return;
    }
    let code = info.code();
    let _ = write!(out, "{{si_signo={signo}, si_code=");
    match si::code_name(code, signo) {
        Some(name) => out.push_str(name),
        None => {
            let _ = write!(out, "{:#x}", code as u32);
        }
    }
    if info.errno() != 0 {
        let e = info.errno();
        let _ = match errno_name(e) {
            Some(n) => write!(out, ", si_errno={n}"),
            None => write!(out, ", si_errno={}", e as u32),
        };
    }
    if info.from_user() {
        user_fields(info, out);
    } else {
        kernel_fields(info, tck, out);
    }
    out.push('}');
}

fn user_fields(info: &SigInfo, out: &mut String) {
    match info.code() {
        si::SI_USER | si::SI_TKILL => source(out, info),
        si::SI_TIMER => {
            let _ = write!(
                out,
                ", si_timerid={:#x}, si_overrun={}",
                info.timerid(),
                info.overrun()
            );
            value(out, info);
        }
        si::SI_SIGIO => {
            let _ = write!(out, ", si_band={}, si_fd={}", info.band(), info.fd());
        }
        _ => {
            source(out, info);
            if info.ptr() != 0 {
                value(out, info);
            }
        }
    }
}

fn kernel_fields(info: &SigInfo, tck: u64, out: &mut String) {
    let code = info.code();
    match info.signo().0 {
        libc::SIGCHLD => {
            source(out, info);
            if code == si::CLD_EXITED {
                let _ = write!(out, ", si_status={}", info.status());
            } else {
                let _ = write!(out, ", si_status={}", Signal(info.status()));
            }
            clock_t(out, "si_utime", info.utime(), tck);
            clock_t(out, "si_stime", info.stime(), tck);
        }
        libc::SIGILL | libc::SIGFPE | libc::SIGTRAP => addr(out, "si_addr", info.addr()),
        libc::SIGBUS => {
            addr(out, "si_addr", info.addr());
            if code == si::BUS_MCEERR_AR || code == si::BUS_MCEERR_AO {
                let _ = write!(out, ", si_addr_lsb={:#x}", info.addr_lsb());
            }
        }
        libc::SIGSEGV => {
            addr(out, "si_addr", info.addr());
            if code == si::SEGV_BNDERR {
                addr(out, "si_lower", info.lower());
                addr(out, "si_upper", info.upper());
            } else if code == si::SEGV_PKUERR {
                let _ = write!(out, ", si_pkey={}", info.pkey());
            }
        }
        libc::SIGIO => {
            if (1..=6).contains(&code) {
                let _ = write!(out, ", si_band={}, si_fd={}", info.band(), info.fd());
            }
        }
        libc::SIGSYS => {
            addr(out, "si_call_addr", info.call_addr());
            let nr = info.syscall() as u32;
            let native = info.arch() == AUDIT_ARCH_X86_64;
            let _ = match syscall_name(nr).filter(|_| native) {
                Some(name) => write!(out, ", si_syscall=__NR_{name}"),
                None => write!(out, ", si_syscall={nr}"),
            };
            let _ = match info.arch() {
                AUDIT_ARCH_X86_64 => write!(out, ", si_arch=AUDIT_ARCH_X86_64"),
                AUDIT_ARCH_I386 => write!(out, ", si_arch=AUDIT_ARCH_I386"),
                a => write!(out, ", si_arch={a:#x} /* AUDIT_ARCH_??? */"),
            };
        }
        _ => {
            if info.pid() != 0 || info.uid() != 0 {
                source(out, info);
            }
            if info.ptr() != 0 {
                value(out, info);
            }
        }
    }
}

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::siginfo::testing::build;

    fn fmt(info: SigInfo) -> String {
        let mut s = String::new();
        siginfo(&info, 100, &mut s);
        s
    }

    #[test]
    fn user_signals() {
        assert_eq!(
            fmt(build(15, 0, &[(16, 6881, 4), (20, 1000, 4)])),
            "{si_signo=SIGTERM, si_code=SI_USER, si_pid=6881, si_uid=1000}"
        );
        assert_eq!(
            fmt(build(6, -6, &[(16, 12, 4)])),
            "{si_signo=SIGABRT, si_code=SI_TKILL, si_pid=12, si_uid=0}"
        );
        // SI_QUEUE: the value only when si_ptr is not NULL, as strace does.
        assert_eq!(
            fmt(build(36, -1, &[(16, 5, 4)])),
            "{si_signo=SIGRT_4, si_code=SI_QUEUE, si_pid=5, si_uid=0}"
        );
        assert_eq!(
            fmt(build(36, -1, &[(16, 5, 4), (24, 7, 8)])),
            "{si_signo=SIGRT_4, si_code=SI_QUEUE, si_pid=5, si_uid=0, si_int=7, si_ptr=0x7}"
        );
        assert_eq!(
            fmt(build(14, -2, &[(16, 1, 4), (20, 2, 4), (24, 0, 8)])),
            "{si_signo=SIGALRM, si_code=SI_TIMER, si_timerid=0x1, si_overrun=2, si_int=0, si_ptr=NULL}"
        );
        assert_eq!(
            fmt(build(14, -3, &[(16, 9, 4), (20, u32::MAX as u64, 4)])),
            "{si_signo=SIGALRM, si_code=SI_MESGQ, si_pid=9, si_uid=-1}"
        );
        assert_eq!(
            fmt(build(29, -5, &[(16, 1, 8), (24, 3, 4)])),
            "{si_signo=SIGIO, si_code=SI_SIGIO, si_band=1, si_fd=3}"
        );
        assert_eq!(
            fmt(build(10, -4, &[(16, 3, 4)])),
            "{si_signo=SIGUSR1, si_code=SI_ASYNCIO, si_pid=3, si_uid=0}"
        );
    }

    #[test]
    fn kernel_signals() {
        assert_eq!(
            fmt(build(2, 0x80, &[])),
            "{si_signo=SIGINT, si_code=SI_KERNEL}"
        );
        assert_eq!(
            fmt(build(11, 1, &[(16, 0x10, 8)])),
            "{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10}"
        );
        assert_eq!(
            fmt(build(11, 0x80, &[])),
            "{si_signo=SIGSEGV, si_code=SI_KERNEL, si_addr=NULL}"
        );
        assert_eq!(
            fmt(build(11, 4, &[(16, 0x1000, 8), (32, 5, 4)])),
            "{si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=0x1000, si_pkey=5}"
        );
        assert_eq!(
            fmt(build(7, 4, &[(16, 0x2000, 8), (24, 12, 2)])),
            "{si_signo=SIGBUS, si_code=BUS_MCEERR_AR, si_addr=0x2000, si_addr_lsb=0xc}"
        );
        assert_eq!(
            fmt(build(8, 1, &[(16, 0x401000, 8)])),
            "{si_signo=SIGFPE, si_code=FPE_INTDIV, si_addr=0x401000}"
        );
        assert_eq!(
            fmt(build(4, 2, &[(16, 0x401000, 8)])),
            "{si_signo=SIGILL, si_code=ILL_ILLOPN, si_addr=0x401000}"
        );
        assert_eq!(
            fmt(build(5, 1, &[(16, 0x401000, 8)])),
            "{si_signo=SIGTRAP, si_code=TRAP_BRKPT, si_addr=0x401000}"
        );
        assert_eq!(
            fmt(build(29, 1, &[(16, 65, 8), (24, 4, 4)])),
            "{si_signo=SIGIO, si_code=POLL_IN, si_band=65, si_fd=4}"
        );
        assert_eq!(
            fmt(build(
                31,
                1,
                &[
                    (16, 0x7f00, 8),
                    (24, 39, 4),
                    (28, AUDIT_ARCH_X86_64 as u64, 4)
                ]
            )),
            "{si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x7f00, si_syscall=__NR_getpid, si_arch=AUDIT_ARCH_X86_64}"
        );
    }

    #[test]
    fn sigchld_with_times() {
        assert_eq!(
            fmt(build(
                17,
                1,
                &[(16, 42, 4), (24, 4, 4), (32, 45, 8), (40, 0, 8)]
            )),
            "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=42, si_uid=0, si_status=4, si_utime=45 /* 0.45 s */, si_stime=0}"
        );
        assert_eq!(
            fmt(build(
                17,
                2,
                &[(16, 42, 4), (24, 15, 4), (32, 1234, 8), (40, 5, 8)]
            )),
            "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=42, si_uid=0, si_status=SIGTERM, si_utime=1234 /* 12.34 s */, si_stime=5 /* 0.05 s */}"
        );
    }

    fn syscall_event(kind: EventKind, tid: i32, ntasks: usize) -> Event {
        Event {
            time: Stamp::now(),
            pid: tid,
            tid,
            ntasks,
            kind,
        }
    }

    #[test]
    fn results_at_column_40_and_interleaving() {
        let mut f = TextFormat::new(Clock::None, false, SignalSet::ALL, false, false);
        let call = |nr: u32, args: [u64; 6]| crate::event::Syscall {
            nr,
            args,
            mem: Default::default(),
        };
        let mut out = String::new();
        // kill(1234, SIGTERM) = 0: entry then exit of one task, padded to column 40.
        f.line(
            &syscall_event(
                EventKind::SyscallEntry(call(62, [1234, 15, 0, 0, 0, 0])),
                7,
                1,
            ),
            &mut out,
        );
        f.line(
            &syscall_event(
                EventKind::SyscallExit {
                    call: call(62, [1234, 15, 0, 0, 0, 0]),
                    ret: 0,
                    is_error: false,
                },
                7,
                1,
            ),
            &mut out,
        );
        assert_eq!(out, "kill(1234, SIGTERM)                     = 0\n");
        // Another task's line splits an open one; the exit resumes it.
        out.clear();
        f.line(
            &syscall_event(EventKind::SyscallEntry(call(34, [0; 6])), 7, 2),
            &mut out,
        );
        let exit = EventKind::Exited {
            code: 0,
            comm: None,
        };
        f.line(&syscall_event(exit, 8, 2), &mut out);
        f.line(
            &syscall_event(
                EventKind::SyscallExit {
                    call: call(34, [0; 6]),
                    ret: -514,
                    is_error: true,
                },
                7,
                2,
            ),
            &mut out,
        );
        assert_eq!(
            out,
            "[pid     7] pause( <unfinished ...>\n[pid     8] +++ exited with 0 +++\n[pid     7] <... pause resumed>)        = ? ERESTARTNOHAND (To be restarted if no handler)\n"
        );
    }

    #[test]
    fn odd_values() {
        assert_eq!(fmt(build(0, 0, &[])), "{}");
        assert_eq!(
            fmt(build(15, 1, &[(4, 2, 4)])),
            "{si_signo=SIGTERM, si_code=0x1, si_errno=ENOENT}"
        );
        assert_eq!(fmt(build(70, 5, &[])), "{si_signo=70, si_code=0x5}");
        assert_eq!(
            fmt(build(2, -100, &[])),
            "{si_signo=SIGINT, si_code=0xffffff9c, si_pid=0, si_uid=0}"
        );
    }
}
