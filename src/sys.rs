//! Every raw system call sigtrace makes: ptrace, waitpid, fork+exec, signal plumbing (the only unsafe code).
#![allow(unsafe_code)]

pub mod perf;

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub type Tid = i32;

/// PTRACE_O_* options sigtrace sets on every tracee.
pub mod opt {
    pub const TRACESYSGOOD: i32 = libc::PTRACE_O_TRACESYSGOOD;
    pub const TRACEFORK: i32 = libc::PTRACE_O_TRACEFORK;
    pub const TRACEVFORK: i32 = libc::PTRACE_O_TRACEVFORK;
    pub const TRACECLONE: i32 = libc::PTRACE_O_TRACECLONE;
    pub const TRACEEXEC: i32 = libc::PTRACE_O_TRACEEXEC;
    pub const TRACEEXIT: i32 = libc::PTRACE_O_TRACEEXIT;
    pub const TRACESECCOMP: i32 = libc::PTRACE_O_TRACESECCOMP;
    pub const EXITKILL: i32 = libc::PTRACE_O_EXITKILL;
}

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn ptrace(req: libc::c_uint, tid: Tid, addr: usize, data: usize) -> io::Result<libc::c_long> {
    // SAFETY: every request sigtrace issues either ignores `data` or receives a
    // pointer to a live, correctly sized buffer owned by the caller (see getsiginfo,
    // geteventmsg); the kernel validates the tid and the tracer relation.
    check(unsafe { libc::ptrace(req, tid, addr, data) })
}

pub fn seize(tid: Tid, options: i32) -> io::Result<()> {
    ptrace(libc::PTRACE_SEIZE, tid, 0, options as usize).map(drop)
}

pub fn interrupt(tid: Tid) -> io::Result<()> {
    ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0).map(drop)
}

/// Resumes a stopped tracee, delivering `sig` (0 for none).
pub fn cont(tid: Tid, sig: i32) -> io::Result<()> {
    ptrace(libc::PTRACE_CONT, tid, 0, sig as usize).map(drop)
}

/// Leaves a group-stopped tracee stopped while letting the tracer hear of SIGCONT.
pub fn listen(tid: Tid) -> io::Result<()> {
    ptrace(libc::PTRACE_LISTEN, tid, 0, 0).map(drop)
}

/// Resumes a stopped tracee until its next syscall entry or exit, delivering `sig`.
pub fn syscall(tid: Tid, sig: i32) -> io::Result<()> {
    ptrace(libc::PTRACE_SYSCALL, tid, 0, sig as usize).map(drop)
}

/// What PTRACE_GET_SYSCALL_INFO tells at a syscall or seccomp stop.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyscallInfo {
    /// PTRACE_SYSCALL_INFO_ENTRY (1), _EXIT (2), _SECCOMP (3), or 0 at other stops.
    pub op: u8,
    pub arch: u32,
    pub sp: u64,
    pub nr: u64,
    pub args: [u64; 6],
    pub rval: i64,
    pub is_error: bool,
}

pub const SYSCALL_INFO_ENTRY: u8 = 1;
pub const SYSCALL_INFO_EXIT: u8 = 2;
pub const SYSCALL_INFO_SECCOMP: u8 = 3;

pub fn syscall_info(tid: Tid) -> io::Result<SyscallInfo> {
    // struct ptrace_syscall_info: op u8, pad[3], arch u32, ip u64, sp u64, then a union of
    // {nr u64, args u64[6], ret_data u32} (entry, seccomp) and {rval s64, is_error u8} (exit).
    let mut buf = [0u64; 11];
    const PTRACE_GET_SYSCALL_INFO: libc::c_uint = 0x420e;
    ptrace(
        PTRACE_GET_SYSCALL_INFO,
        tid,
        std::mem::size_of_val(&buf),
        buf.as_mut_ptr() as usize,
    )?;
    let head = buf[0].to_ne_bytes();
    let mut args = [0u64; 6];
    args.copy_from_slice(&buf[4..10]);
    Ok(SyscallInfo {
        op: head[0],
        arch: u32::from_ne_bytes(head[4..8].try_into().expect("4 bytes")),
        sp: buf[2],
        nr: buf[3],
        args,
        rval: buf[3] as i64,
        is_error: buf[4] & 0xff != 0,
    })
}

/// Reads tracee memory at `addr` into `buf` with process_vm_readv; returns the bytes read
/// (fewer than asked when the range crosses into unmapped memory).
pub fn read_mem(pid: Tid, addr: u64, buf: &mut [u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: `local` covers exactly `buf`, which the kernel writes; `remote` is only read
    // through the kernel, which checks it against the tracee's address space.
    let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

pub fn detach(tid: Tid, sig: i32) -> io::Result<()> {
    ptrace(libc::PTRACE_DETACH, tid, 0, sig as usize).map(drop)
}

pub fn geteventmsg(tid: Tid) -> io::Result<u64> {
    let mut msg: libc::c_ulong = 0;
    ptrace(
        libc::PTRACE_GETEVENTMSG,
        tid,
        0,
        &mut msg as *mut libc::c_ulong as usize,
    )?;
    Ok(msg as u64)
}

/// The raw 128-byte siginfo of the signal a tracee is stopped on.
pub fn getsiginfo(tid: Tid) -> io::Result<[u8; 128]> {
    let mut buf = [0u8; 128];
    debug_assert_eq!(std::mem::size_of::<libc::siginfo_t>(), buf.len());
    ptrace(libc::PTRACE_GETSIGINFO, tid, 0, buf.as_mut_ptr() as usize)?;
    Ok(buf)
}

/// waitpid(-1, __WALL): the next (tid, raw status) of any tracee.
pub fn wait_any() -> io::Result<(Tid, i32)> {
    let mut status = 0;
    // SAFETY: `status` is a live i32 the kernel writes to.
    let tid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
    if tid == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok((tid, status))
    }
}

/// waitpid(-1, __WALL | WNOHANG): None when no task has anything to report yet.
pub fn wait_any_now() -> io::Result<Option<(Tid, i32)>> {
    let mut status = 0;
    // SAFETY: `status` is a live i32 the kernel writes to.
    match unsafe { libc::waitpid(-1, &mut status, libc::__WALL | libc::WNOHANG) } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        tid => Ok(Some((tid, status))),
    }
}

pub fn kill(pid: Tid, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) takes plain integers.
    check(unsafe { libc::kill(pid, sig) } as libc::c_long).map(drop)
}

pub fn getpid() -> Tid {
    // SAFETY: getpid(2) cannot fail.
    unsafe { libc::getpid() }
}

pub fn gettid() -> Tid {
    // SAFETY: gettid(2) cannot fail.
    unsafe { libc::gettid() }
}

pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf(3) takes an integer name.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

/// The signals sigtrace waits for itself: they end an attach session or are passed on.
pub const CONTROL_SIGNALS: [i32; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];
/// Sent by the signal thread to the tracer thread to break it out of waitpid().
const WAKE_SIGNAL: i32 = libc::SIGURG;

/// What the process had before sigtrace changed its signal state; restored in the child.
pub struct SavedSignals {
    mask: libc::sigset_t,
    chld: libc::sigaction,
}

fn control_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset only write the local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in CONTROL_SIGNALS {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

extern "C" fn on_wake(_: libc::c_int) {}

/// Blocks the control signals (the signal thread takes them with sigwaitinfo), ignores SIGPIPE
/// (a closed output is an error to report, not a death), makes SIGCHLD default (an ignored
/// SIGCHLD would make the kernel reap tracees before waitpid sees them), and installs a no-op
/// SIGURG handler without SA_RESTART so that a wake-up interrupts waitpid with EINTR.
/// Must run before any thread is spawned so that every thread inherits the mask.
pub fn setup_signals() -> io::Result<SavedSignals> {
    // SAFETY: all pointers are to locals; the handler is async-signal-safe (it does nothing).
    unsafe {
        let set = control_set();
        let mut saved: SavedSignals = std::mem::zeroed();
        check(libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut saved.mask) as libc::c_long)?;
        let mut ign: libc::sigaction = std::mem::zeroed();
        ign.sa_sigaction = libc::SIG_IGN;
        check(libc::sigaction(libc::SIGPIPE, &ign, std::ptr::null_mut()) as libc::c_long)?;
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        check(libc::sigaction(libc::SIGCHLD, &dfl, &mut saved.chld) as libc::c_long)?;
        let mut wake: libc::sigaction = std::mem::zeroed();
        wake.sa_sigaction = on_wake as *const () as usize;
        check(libc::sigaction(WAKE_SIGNAL, &wake, std::ptr::null_mut()) as libc::c_long)?;
        Ok(saved)
    }
}

/// Blocks until a control signal arrives; returns (signo, si_code).
pub fn wait_control_signal() -> (i32, i32) {
    let set = control_set();
    loop {
        // SAFETY: `set` and `info` are locals; sigwaitinfo writes `info`.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let s = libc::sigwaitinfo(&set, &mut info);
            if s > 0 {
                return (s, info.si_code);
            }
        }
    }
}

/// An opaque handle to the thread that runs the tracer loop.
#[derive(Clone, Copy)]
pub struct ThreadHandle(libc::pthread_t);

pub fn current_thread() -> ThreadHandle {
    // SAFETY: pthread_self cannot fail.
    ThreadHandle(unsafe { libc::pthread_self() })
}

/// Interrupts a blocking system call in `thread` (its SIGURG handler does nothing).
pub fn wake(thread: ThreadHandle) {
    // SAFETY: the tracer thread lives until the process exits; SIGURG has a handler installed.
    unsafe {
        libc::pthread_kill(thread.0, WAKE_SIGNAL);
    }
}

/// A child forked and seized but held before exec until `release` is called.
pub struct HeldChild {
    pid: Tid,
    go: OwnedFd,
    exec_error: OwnedFd,
}

impl HeldChild {
    pub fn pid(&self) -> Tid {
        self.pid
    }

    /// Lets the child exec; returns its pid and the pipe that a successful exec closes and a
    /// failed one fills with its errno.
    pub fn release(self) -> (Tid, OwnedFd) {
        drop(self.go);
        (self.pid, self.exec_error)
    }
}

fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the local array; we take ownership of both.
    unsafe {
        check(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) as libc::c_long)?;
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// Forks a child that waits until released, restores the signal state sigtrace inherited,
/// and execs `path` with `argv`. The child is seized with `options` before it can run the
/// program, so the tracer sees everything from exec on.
///
/// With `filter`, the child installs it as a seccomp filter just before exec (setting
/// no_new_privs first when it lacks CAP_SYS_ADMIN); if that fails it execs unfiltered and the
/// tracer notices (`has_seccomp_filter`).
pub fn spawn_held(
    path: &CString,
    argv: &[CString],
    saved: &SavedSignals,
    options: i32,
    filter: Option<&[crate::decode::syscall::Insn]>,
) -> io::Result<HeldChild> {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let insns: Vec<libc::sock_filter> = filter
        .unwrap_or(&[])
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let prog = libc::sock_fprog {
        len: insns.len() as u16,
        filter: insns.as_ptr() as *mut libc::sock_filter,
    };
    let (go_r, go_w) = pipe_cloexec()?;
    let (err_r, err_w) = pipe_cloexec()?;
    // SAFETY: fork is called before sigtrace spawns any thread, so the child may run any code;
    // it still only makes async-signal-safe calls on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: the child restores its inherited signal state, waits for the tracer, execs;
        // every pointer was prepared above and stays valid in the child's copy of memory.
        unsafe {
            // Rust's runtime ignored SIGPIPE before main, hiding what sigtrace inherited; like
            // std::process::Command, give the command the default action.
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(libc::SIGPIPE, &dfl, std::ptr::null_mut());
            libc::sigaction(libc::SIGCHLD, &saved.chld, std::ptr::null_mut());
            libc::sigaction(WAKE_SIGNAL, &dfl, std::ptr::null_mut());
            libc::pthread_sigmask(libc::SIG_SETMASK, &saved.mask, std::ptr::null_mut());
            drop(go_w);
            drop(err_r);
            let mut b = 0u8;
            // EOF when the tracer has seized us (or died: then run untraced, as if launched plainly).
            while libc::read(go_r.as_raw_fd(), &mut b as *mut u8 as *mut libc::c_void, 1) == -1
                && *libc::__errno_location() == libc::EINTR
            {}
            if prog.len > 0 {
                let set = |p: *const libc::sock_fprog| {
                    libc::prctl(
                        libc::PR_SET_SECCOMP,
                        libc::SECCOMP_MODE_FILTER,
                        p as usize,
                        0,
                        0,
                    )
                };
                if set(&prog) != 0 && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 {
                    set(&prog);
                }
            }
            libc::execv(path.as_ptr(), ptrs.as_ptr());
            let _ = write_i32(&err_w, *libc::__errno_location());
            libc::_exit(127);
        }
    }
    drop(go_r);
    drop(err_w);
    if let Err(e) = seize(pid, options) {
        kill(pid, libc::SIGKILL).ok();
        // SAFETY: reaping our own child; status is a local.
        unsafe {
            let mut st = 0;
            libc::waitpid(pid, &mut st, 0);
        }
        return Err(e);
    }
    Ok(HeldChild {
        pid,
        go: go_w,
        exec_error: err_r,
    })
}

/// One i32 into a pipe; async-signal-safe (used between fork and exec).
fn write_i32(fd: &OwnedFd, v: i32) -> io::Result<()> {
    // SAFETY: writes 4 bytes from a local i32.
    let n = unsafe {
        libc::write(
            fd.as_raw_fd(),
            &v as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>(),
        )
    };
    check(n as libc::c_long).map(|_| ())
}

/// One i32 from a pipe; None at EOF (the writer ended without a word).
fn read_i32(fd: &OwnedFd) -> Option<i32> {
    let mut v = 0i32;
    loop {
        // SAFETY: reads at most 4 bytes into a local i32.
        let n = unsafe {
            libc::read(
                fd.as_raw_fd(),
                &mut v as *mut i32 as *mut libc::c_void,
                std::mem::size_of::<i32>(),
            )
        };
        if n == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return (n == std::mem::size_of::<i32>() as isize).then_some(v);
    }
}

/// Reads the errno a failed exec left in the error pipe; None if exec succeeded (EOF).
pub fn read_exec_error(fd: &OwnedFd) -> Option<io::Error> {
    read_i32(fd).map(io::Error::from_raw_os_error)
}

/// The effective uid of sigtrace.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// Local hours, minutes and seconds of a Unix time, for -t.
pub fn local_hms(secs: i64) -> (u32, u32, u32) {
    // SAFETY: localtime_r writes only the local `tm`; `t` is a local time_t.
    unsafe {
        let t: libc::time_t = secs;
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            let s = secs.rem_euclid(86400) as u32;
            return (s / 3600, s / 60 % 60, s % 60);
        }
        (tm.tm_hour as u32, tm.tm_min as u32, tm.tm_sec as u32)
    }
}

/// Whether this kernel has seccomp (PR_GET_SECCOMP fails with EINVAL without it).
pub fn seccomp_available() -> bool {
    // SAFETY: PR_GET_SECCOMP takes no pointer arguments.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}
