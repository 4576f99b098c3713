//! Reads of /proc: a process's threads, its status fields, its state.

use crate::event::{ARGV_MAX, Context, Sender};
use std::fs;
use std::io;
use std::sync::Arc;

/// A /proc file in as few syscalls as it takes: procfs reports size 0, so the usual size query
/// and small probe read only cost (open, read, read, close instead of six or seven calls).
fn read(path: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 1024];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        match f.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.truncate(len);
    Some(buf)
}

/// As `read`, as text (a process name in it may hold any bytes).
fn read_text(path: &str) -> Option<String> {
    read(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The tids of every thread of `pid`, ascending.
pub fn tasks(pid: i32) -> io::Result<Vec<i32>> {
    let mut tids: Vec<i32> = fs::read_dir(format!("/proc/{pid}/task"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// One field of /proc/PID/status, e.g. "Tgid" or "TracerPid".
pub fn status_field(pid: i32, name: &str) -> Option<String> {
    let text = read_text(&format!("/proc/{pid}/status"))?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == name).then(|| v.trim().to_string())
    })
}

pub fn tgid(tid: i32) -> Option<i32> {
    status_field(tid, "Tgid")?.parse().ok()
}

/// Its real uid, and whether it is pid 1 of a pid namespace below ours (NSpid), from one read.
pub fn owner(pid: i32) -> Option<(Option<u32>, bool)> {
    let text = read_text(&format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k == name).then(|| v.split_whitespace().collect::<Vec<&str>>())
        })
    };
    let uid = field("Uid").and_then(|v| v.first()?.parse().ok());
    let nspid: Option<Vec<i32>> =
        field("NSpid").and_then(|v| v.iter().map(|p| p.parse().ok()).collect());
    let init = nspid.is_some_and(|n| is_ns_init(&n));
    Some((uid, init))
}

/// The real uid that owns the process.
pub fn uid(pid: i32) -> Option<u32> {
    status_field(pid, "Uid")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Its cgroup, as /proc/PID/cgroup says (`cgroup_path`).
pub fn cgroup(pid: i32) -> Option<String> {
    cgroup_path(&read_text(&format!("/proc/{pid}/cgroup"))?)
}

/// The path that places a process: the unified hierarchy's (`0::/system.slice/app.service`);
/// on a v1 or hybrid host, where that says `/`, systemd's own hierarchy's, else the memory
/// controller's, else any hierarchy's that is not the root.
pub fn cgroup_path(text: &str) -> Option<String> {
    let lines: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, kind, path) = (parts.next()?, parts.next()?, parts.next()?);
            Some((kind, path))
        })
        .collect();
    let placed = |kind: &str| {
        lines
            .iter()
            .find(|(k, p)| *k == kind && *p != "/")
            .map(|(_, p)| p.to_string())
    };
    placed("")
        .or_else(|| placed("name=systemd"))
        .or_else(|| placed("memory"))
        .or_else(|| {
            lines
                .iter()
                .find(|(_, p)| *p != "/")
                .map(|(_, p)| p.to_string())
        })
        .or_else(|| lines.first().map(|(_, p)| p.to_string()))
}

/// The one-letter state of /proc/PID/stat (R, S, T, t, Z, ...).
pub fn state(pid: i32) -> Option<char> {
    let stat = read_text(&format!("/proc/{pid}/stat"))?;
    // comm may hold spaces and parentheses: the state follows the last ')'.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Whether `pid` lives and has not begun to exit: not a zombie, and without PF_EXITING in
/// the flags of /proc/PID/stat (set at the start of do_exit(), before anything is let go).
pub fn running(pid: i32) -> bool {
    const PF_EXITING: u64 = 0x4;
    let Some(stat) = read(&format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some((_, rest)) = split_stat(&stat) else {
        return false;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let flags = fields.get(6).and_then(|f| f.parse::<u64>().ok());
    !matches!(fields.first(), Some(&"Z") | Some(&"X")) && flags.is_some_and(|f| f & PF_EXITING == 0)
}

pub fn comm(pid: i32) -> Option<String> {
    Some(String::from_utf8_lossy(&comm_bytes(pid)?).into_owned())
}

/// /proc/PID/comm as the kernel has it (up to 15 bytes, any but NUL).
pub fn comm_bytes(pid: i32) -> Option<Vec<u8>> {
    let mut c = read(&format!("/proc/{pid}/comm"))?;
    if c.last() == Some(&b'\n') {
        c.pop();
    }
    Some(c)
}

pub fn exists(pid: i32) -> bool {
    fs::metadata(format!("/proc/{pid}")).is_ok()
}

/// `pid` as sigtrace names a sender: its uid, name and argv, and with `chain` its parent chain.
pub fn sender(pid: i32, chain: bool) -> Option<Sender> {
    let (comm, ppid) = comm_and_ppid(pid)?;
    Some(Sender {
        pid,
        uid: uid(pid),
        comm,
        argv: argv(pid),
        exe: exe(pid),
        ancestry: if chain { ancestry(ppid) } else { Vec::new() },
        exited: None,
    })
}

/// The program it runs (/proc/PID/exe; empty where unreadable: a kernel thread, another
/// user's process without ptrace rights).
pub fn exe(pid: i32) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.into_os_string().into_vec())
        .unwrap_or_default()
}

/// The parent chain above `ppid`, up to pid 1 or sigtrace itself (it is no news that
/// sigtrace launched the command), at most 32 steps: (pid, comm).
fn ancestry(mut ppid: i32) -> Vec<(i32, Vec<u8>)> {
    let mut chain = Vec::new();
    let me = crate::sys::getpid();
    while ppid > 0 && chain.len() < 32 {
        let Some((comm, parent)) = comm_and_ppid(ppid) else {
            break;
        };
        chain.push((ppid, comm));
        if ppid == 1 || ppid == me {
            break;
        }
        ppid = parent;
    }
    chain
}

/// comm and parent pid from one read of /proc/PID/stat (`pid (comm) state ppid ...`).
pub fn comm_and_ppid(pid: i32) -> Option<(Vec<u8>, i32)> {
    let stat = read(&format!("/proc/{pid}/stat"))?;
    let (comm, rest) = split_stat(&stat)?;
    let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
    Some((comm.to_vec(), ppid))
}

/// /proc/PID/stat as its comm (raw bytes between the first '(' and the last ')') and the
/// fields after it.
fn split_stat(stat: &[u8]) -> Option<(&[u8], &str)> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    Some((stat.get(open + 1..close)?, rest))
}

/// The process group and session of `pid`.
pub fn pgrp_and_session(pid: i32) -> Option<(i32, i32)> {
    let stat = read(&format!("/proc/{pid}/stat"))?;
    let (_, rest) = split_stat(&stat)?;
    let mut fields = rest.split_whitespace().skip(2);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// Fields of /proc/PID/stat from the ppid on: proc(5)'s field N at N-4 (ppid 0, pgrp 1,
/// session 2, utime 10, stime 11, policy 37).
fn stat_fields(pid: i32) -> Option<Vec<i64>> {
    let stat = read(&format!("/proc/{pid}/stat"))?;
    let (_, rest) = split_stat(&stat)?;
    Some(
        rest.split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// A process as the orphaned-group rule needs it: state, parent, group, session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub pid: i32,
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
}

pub fn member(pid: i32) -> Option<Member> {
    let f = stat_fields(pid)?;
    Some(Member {
        pid,
        state: state(pid)?,
        ppid: *f.first()? as i32,
        pgrp: *f.get(1)? as i32,
        session: *f.get(2)? as i32,
    })
}

/// Every process of process group `pgrp`.
pub fn group_members(pgrp: i32) -> Vec<Member> {
    all_pids()
        .into_iter()
        .filter_map(member)
        .filter(|m| m.pgrp == pgrp)
        .collect()
}

/// The CPU time every thread of `pid` has used (schedstat's run time, in ns: the count the
/// kernel checks RLIMIT_CPU against, where /proc/PID/stat's ticks fall short of it).
pub fn cpu_time(pid: i32) -> Option<std::time::Duration> {
    let ns: u64 = tasks(pid)
        .ok()?
        .into_iter()
        .filter_map(|t| {
            read_text(&format!("/proc/{pid}/task/{t}/schedstat"))?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    (ns > 0).then(|| std::time::Duration::from_nanos(ns))
}

/// Whether `pid` runs under a real-time scheduling policy (SCHED_FIFO, SCHED_RR).
pub fn realtime(pid: i32) -> bool {
    stat_fields(pid)
        .and_then(|f| f.get(37).copied())
        .is_some_and(|p| p == 1 || p == 2)
}

/// /proc/PID/limits: the limits whose end the kernel signals.
pub fn limits(pid: i32) -> Option<crate::event::reason::Limits> {
    Some(crate::event::reason::Limits::parse(&read_text(&format!(
        "/proc/{pid}/limits"
    ))?))
}

/// Whether descriptor `fd` of `pid` is a signalfd.
pub fn is_signalfd(pid: i32, fd: i32) -> bool {
    fs::read_link(format!("/proc/{pid}/fd/{fd}"))
        .is_ok_and(|l| l.as_os_str() == "anon_inode:[signalfd]")
}

/// The signalfds `pid` has open (at most 64).
pub fn signalfds(pid: i32) -> Vec<i32> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| is_signalfd(pid, fd))
        .take(64)
        .collect()
}

/// The signals `pid`'s signalfds take (their fdinfo's `sigmask:`), together; None when its
/// descriptors cannot be read (it has ended).
pub fn signalfd_mask(pid: i32) -> Option<u64> {
    fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(
        signalfds(pid)
            .into_iter()
            .filter_map(|fd| {
                let text = read_text(&format!("/proc/{pid}/fdinfo/{fd}"))?;
                let mask = text.lines().find_map(|l| l.strip_prefix("sigmask:"))?;
                u64::from_str_radix(mask.trim(), 16).ok()
            })
            .fold(0, |all, m| all | m),
    )
}

/// Whether `sig` is pending for `pid`, for the process (ShdPnd) or its main thread (SigPnd);
/// None when its status cannot be read (it has been reaped).
pub fn pending(pid: i32, sig: i32) -> Option<bool> {
    let text = read_text(&format!("/proc/{pid}/status"))?;
    let bit = crate::signal::Signal(sig).bit();
    Some(
        text.lines()
            .filter_map(|l| {
                l.strip_prefix("ShdPnd:")
                    .or_else(|| l.strip_prefix("SigPnd:"))
            })
            .filter_map(|v| u64::from_str_radix(v.trim(), 16).ok())
            .any(|m| m & bit != 0),
    )
}

/// The pid a pidfd of `pid` refers to (its fdinfo's `Pid:` line; -1 once that process ended).
pub fn pidfd_pid(pid: i32, fd: i32) -> Option<i32> {
    let text = read_text(&format!("/proc/{pid}/fdinfo/{fd}"))?;
    let p: i32 = text
        .lines()
        .find_map(|l| l.strip_prefix("Pid:"))?
        .trim()
        .parse()
        .ok()?;
    (p > 0).then_some(p)
}

/// The inode of `pid`'s pid namespace (`/proc/PID/ns/pid` reads `pid:[INODE]`).
pub fn pid_ns(pid: i32) -> Option<u64> {
    let link = fs::read_link(format!("/proc/{pid}/ns/pid")).ok()?;
    let s = link.to_str()?;
    s.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
}

/// NSpid of /proc/PID/status: the process's pid in sigtrace's namespace, then in each nested
/// one down to its own.
pub fn nspid(pid: i32) -> Option<Vec<i32>> {
    let v = status_field(pid, "NSpid")?;
    v.split_whitespace().map(|p| p.parse().ok()).collect()
}

/// Whether `pid` is pid 1 of a pid namespace below sigtrace's.
pub fn ns_init(pid: i32) -> bool {
    nspid(pid).is_some_and(|n| is_ns_init(&n))
}

/// An NSpid list ending in 1, in a namespace below sigtrace's.
fn is_ns_init(nspid: &[i32]) -> bool {
    nspid.len() > 1 && nspid.last() == Some(&1)
}

/// Every pid in /proc.
pub fn all_pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// SigIgn and SigCgt of /proc/PID/status: bit N-1 stands for signal N.
pub fn dispositions(pid: i32) -> Option<(u64, u64)> {
    let text = read_text(&format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
    };
    Some((field("SigIgn:")?, field("SigCgt:")?))
}

/// Where `pid` sits; `known` gives a process's name when the caller already has it.
pub fn context(pid: i32, known: &dyn Fn(i32) -> Option<Arc<[u8]>>) -> Option<Context> {
    let stat = read(&format!("/proc/{pid}/stat"))?;
    let (comm, rest) = split_stat(&stat)?;
    let rest: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| rest.get(i).and_then(|v| v.parse::<i64>().ok());
    let (ppid, pgrp, session, tty_nr) = (num(1)? as i32, num(2)? as i32, num(3)? as i32, num(4)?);
    Some(Context {
        comm: comm.to_vec(),
        ppid,
        parent_comm: known(ppid)
            .map(|c| c.to_vec())
            .or_else(|| comm_and_ppid(ppid).map(|(c, _)| c))
            .unwrap_or_default(),
        pgrp,
        session,
        tty: tty_name(tty_nr as u32),
        argv: argv(pid),
        exec: false,
        uid: None,
        cgroup: None,
    })
}

/// /proc/PID/cmdline split at its NULs (empty for a kernel thread or a zombie).
pub fn argv(pid: i32) -> Vec<Vec<u8>> {
    use std::io::Read;
    let mut raw = Vec::new();
    if let Ok(f) = fs::File::open(format!("/proc/{pid}/cmdline")) {
        let _ = f.take(ARGV_MAX as u64).read_to_end(&mut raw);
    }
    if raw.last() == Some(&0) {
        raw.pop();
    }
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0).map(<[u8]>::to_vec).collect()
}

/// A tty_nr (major in bits 8..15 and 20..31, minor in 0..7 and 12..19) as its /dev name.
fn tty_name(nr: u32) -> Option<String> {
    if nr == 0 {
        return None;
    }
    let major = (nr >> 8) & 0xfff;
    let minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
    Some(match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        _ => format!("{major}:{minor}"),
    })
}

/// How many times the OOM killer has killed in the process's memory cgroup (cgroup v2
/// memory.events or v1 memory.oom_control `oom_kill`), with the file read. Both are
/// world-readable: this needs no privilege.
pub fn oom_kills(pid: i32) -> Option<(u64, String)> {
    let cgroups = read_text(&format!("/proc/{pid}/cgroup"))?;
    oom_files(&cgroups)
        .into_iter()
        .find_map(|file| Some((oom_kill_count(&file)?, file)))
}

/// The files that may hold the oom_kill counter, from /proc/PID/cgroup: v1's memory
/// controller line (`4:memory:/path`), v2's unified line (`0::/path`, at /sys/fs/cgroup or,
/// on a hybrid system, /sys/fs/cgroup/unified).
fn oom_files(cgroups: &str) -> Vec<String> {
    let mut files = Vec::new();
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = path.trim_end_matches('/');
        if controllers.split(',').any(|c| c == "memory") {
            files.push(format!("/sys/fs/cgroup/memory{path}/memory.oom_control"));
        } else if controllers.is_empty() {
            files.push(format!("/sys/fs/cgroup{path}/memory.events"));
            files.push(format!("/sys/fs/cgroup/unified{path}/memory.events"));
        }
    }
    files
}

/// The `oom_kill N` line of a memory.events or memory.oom_control file.
pub fn oom_kill_count(file: &str) -> Option<u64> {
    let text = fs::read_to_string(file).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))?
        .trim()
        .parse()
        .ok()
}

/// Whether the kernel log (/dev/kmsg, readable by root) says the OOM killer killed `pid` in
/// the last KMSG_RECENT (asked as it dies; an older record is of an earlier process with that
/// pid: a day of OOM kills wraps pids around).
pub fn kmsg_oom_killed(pid: i32) -> Option<bool> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
        .ok()?;
    let needle = format!("Killed process {pid} ");
    // printk stamps records with the local clock, CLOCK_MONOTONIC's base.
    let since = (crate::sys::perf::monotonic_ns() / 1000).saturating_sub(KMSG_RECENT);
    let mut buf = vec![0u8; 8192];
    let mut found = false;
    // Each read returns one record; EAGAIN at the end of the buffer.
    while let Ok(n) = f.read(&mut buf) {
        if n == 0 {
            break;
        }
        let record = String::from_utf8_lossy(&buf[..n]);
        if record.contains(&needle) && kmsg_usecs(&record).is_some_and(|t| t >= since) {
            found = true;
        }
    }
    Some(found)
}

/// How far back a kernel log record of an OOM kill counts, in µs.
const KMSG_RECENT: u64 = 30_000_000;

/// A /dev/kmsg record's time, µs since boot: `prio,seq,usecs,flags;message`.
fn kmsg_usecs(record: &str) -> Option<u64> {
    record.split(';').next()?.split(',').nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernel_log_record_times() {
        let r = "6,1234,27672912909,-;Killed process 4242 (sleep) total-vm:1kB";
        assert_eq!(super::kmsg_usecs(r), Some(27_672_912_909));
        assert_eq!(super::kmsg_usecs("garbage"), None);
    }

    #[test]
    fn cgroup_paths_v2_v1_and_hybrid() {
        let path = |t: &str| super::cgroup_path(t).unwrap();
        assert_eq!(
            path("0::/system.slice/app.service\n"),
            "/system.slice/app.service"
        );
        let hybrid = "9:name=systemd:/system.slice/a.service\n4:memory:/m\n0::/\n";
        assert_eq!(path(hybrid), "/system.slice/a.service");
        assert_eq!(
            path("9:name=systemd:/\n4:memory:/docker/4f2a\n0::/\n"),
            "/docker/4f2a"
        );
        assert_eq!(path("9:name=systemd:/\n0::/\n"), "/");
        assert_eq!(super::cgroup_path(""), None);
    }

    #[test]
    fn tty_names() {
        assert_eq!(super::tty_name(0), None);
        assert_eq!(super::tty_name((136 << 8) | 3), Some("pts/3".into()));
        assert_eq!(super::tty_name((4 << 8) | 1), Some("tty1".into()));
    }

    #[test]
    fn oom_counter_files_v1_and_v2() {
        let v1 = "4:memory:/process_api/a1\n0::/\n";
        assert_eq!(
            super::oom_files(v1),
            [
                "/sys/fs/cgroup/memory/process_api/a1/memory.oom_control",
                "/sys/fs/cgroup/memory.events",
                "/sys/fs/cgroup/unified/memory.events"
            ]
        );
        let v2 = "0::/user.slice/test.scope\n";
        assert_eq!(
            super::oom_files(v2)[0],
            "/sys/fs/cgroup/user.slice/test.scope/memory.events"
        );
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let count = |f: &str| super::oom_kill_count(&format!("{fixtures}/{f}"));
        assert_eq!(count("memory.events"), Some(3));
        assert_eq!(count("memory.oom_control"), Some(2));
    }

    #[test]
    fn own_process() {
        let me = std::process::id() as i32;
        let info = super::sender(me, true).unwrap();
        assert!(!info.comm.is_empty());
        let ppid = info.ancestry[0].0;
        assert!(ppid > 0);
        let chain = super::ancestry(ppid);
        assert_eq!(chain[0].0, ppid);
        assert!(super::dispositions(me).is_some());
        let ctx = super::context(me, &|_| None).unwrap();
        assert_eq!(ctx.ppid, ppid);
        let args: Vec<Vec<u8>> = std::env::args().map(String::into_bytes).collect();
        assert_eq!(ctx.argv, args);
    }
}
