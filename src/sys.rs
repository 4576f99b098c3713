//! Every raw system call sigtrace makes: ptrace, waitpid, fork+exec, signal plumbing (the only unsafe code).
//!
//! nix where it is safe and no slower; libc where nix cannot do it right, said at each place.
#![allow(unsafe_code)]

pub mod perf;

use crate::decode::siginfo::SIGINFO_SIZE;
use nix::sys::signal::{self as nsig, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow};
use nix::unistd::Pid;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

pub type Tid = i32;

/// PTRACE_O_* options sigtrace sets on every tracee.
pub mod opt {
    pub const TRACESYSGOOD: i32 = libc::PTRACE_O_TRACESYSGOOD;
    pub const TRACEFORK: i32 = libc::PTRACE_O_TRACEFORK;
    pub const TRACEVFORK: i32 = libc::PTRACE_O_TRACEVFORK;
    pub const TRACECLONE: i32 = libc::PTRACE_O_TRACECLONE;
    pub const TRACEEXEC: i32 = libc::PTRACE_O_TRACEEXEC;
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

/// libc's ptrace: nix has no PTRACE_LISTEN nor PTRACE_GET_SYSCALL_INFO, and its Signal enum
/// cannot re-inject a real-time signal.
fn ptrace(req: libc::c_uint, tid: Tid, addr: usize, data: usize) -> io::Result<libc::c_long> {
    // SAFETY: every request sigtrace issues either ignores `data`, takes it as a value
    // (PTRACE_POKEUSER, PTRACE_POKEDATA: the word written into the tracee, never into
    // sigtrace), or receives a pointer to a live, correctly sized buffer owned by the caller
    // (see getsiginfo, geteventmsg); the kernel validates the tid and the tracer relation.
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
    use nix::sys::uio::{RemoteIoVec, process_vm_readv};
    if buf.is_empty() {
        return Ok(0);
    }
    let remote = [RemoteIoVec {
        base: addr as usize,
        len: buf.len(),
    }];
    Ok(process_vm_readv(
        Pid::from_raw(pid),
        &mut [io::IoSliceMut::new(buf)],
        &remote,
    )?)
}

/// Sets a stopped tracee's first syscall argument (rdi on x86_64) with PTRACE_POKEUSER.
pub fn set_first_arg(tid: Tid, value: u64) -> io::Result<()> {
    let rdi = std::mem::offset_of!(libc::user_regs_struct, rdi);
    ptrace(libc::PTRACE_POKEUSER, tid, rdi, value as usize).map(drop)
}

/// Writes one word of a stopped tracee's memory with PTRACE_POKEDATA.
pub fn poke_word(tid: Tid, addr: u64, value: u64) -> io::Result<()> {
    ptrace(libc::PTRACE_POKEDATA, tid, addr as usize, value as usize).map(drop)
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
pub fn getsiginfo(tid: Tid) -> io::Result<[u8; SIGINFO_SIZE]> {
    let mut buf = [0u8; SIGINFO_SIZE];
    debug_assert_eq!(std::mem::size_of::<libc::siginfo_t>(), buf.len());
    ptrace(libc::PTRACE_GETSIGINFO, tid, 0, buf.as_mut_ptr() as usize)?;
    Ok(buf)
}

/// wait4(-1, __WALL): the next (tid, raw status) of any tracee, with the CPU time (user and
/// system) that wait4's rusage gives for a task that ended (zero for a stop). libc's: nix's
/// WaitStatus cannot hold a stop by a real-time signal.
pub fn wait_any() -> io::Result<(Tid, i32, Duration)> {
    match wait4(-1, libc::__WALL)? {
        Some(w) => Ok(w),
        None => Err(io::Error::from_raw_os_error(libc::EAGAIN)),
    }
}

/// wait4(-1, __WALL | WNOHANG): None when no task has anything to report yet.
pub fn wait_any_now() -> io::Result<Option<(Tid, i32, Duration)>> {
    wait4(-1, libc::__WALL | libc::WNOHANG)
}

/// wait4(tid, __WALL | WNOHANG): that task's next report, None when it has none yet.
pub fn wait_task_now(tid: Tid) -> io::Result<Option<(Tid, i32, Duration)>> {
    wait4(tid, libc::__WALL | libc::WNOHANG)
}

fn wait4(pid: Tid, flags: i32) -> io::Result<Option<(Tid, i32, Duration)>> {
    let mut status = 0;
    // SAFETY: rusage is plain integers, valid zeroed.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are live values the kernel writes to.
    match unsafe { libc::wait4(pid, &mut status, flags, &mut usage) } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        tid => {
            let tv = |t: libc::timeval| {
                Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
            };
            Ok(Some((tid, status, tv(usage.ru_utime) + tv(usage.ru_stime))))
        }
    }
}

/// kill(2) with one of the standard signals (sigtrace never sends a real-time one).
pub fn kill(pid: Tid, sig: i32) -> io::Result<()> {
    let sig = nsig::Signal::try_from(sig)?;
    Ok(nsig::kill(Pid::from_raw(pid), sig)?)
}

pub fn getpid() -> Tid {
    nix::unistd::getpid().as_raw()
}

/// sigtrace's own pid, read once: a check at every signal costs no syscall (never used in a
/// forked child, which has a pid of its own).
pub fn own_pid() -> Tid {
    static PID: std::sync::OnceLock<Tid> = std::sync::OnceLock::new();
    *PID.get_or_init(getpid)
}

/// The clock tick of clock_t values (siginfo's si_utime), 100 when sysconf cannot say.
pub fn clock_ticks() -> u64 {
    use nix::unistd::{SysconfVar, sysconf};
    match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(t)) if t > 0 => t as u64,
        _ => 100,
    }
}

/// The signals that end an attach session (sigtrace detaches).
pub const DETACH_SIGNALS: [i32; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Whether sigtrace takes `sig` itself (blocked, then waited for by its signal thread) rather
/// than let its default action end it: every standard catchable signal whose default action is
/// to terminate, but those a fault raises synchronously (they cannot be blocked safely) and
/// SIGPIPE (ignored: a closed output is an error to report).
fn is_control(sig: nsig::Signal) -> bool {
    use crate::signal::{DefaultAction, Signal};
    use nsig::Signal::*;
    matches!(
        Signal(sig as i32).default_action(),
        DefaultAction::Term | DefaultAction::Core
    ) && !matches!(
        sig,
        SIGKILL | SIGPIPE | SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP | SIGABRT | SIGSYS
    )
}

/// A signal sigtrace itself received: its number, si_code, and the sender's pid and uid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlSignal {
    pub sig: i32,
    pub code: i32,
    pub pid: i32,
    pub uid: u32,
}
/// Sent by the signal thread to the tracer thread to break it out of waitpid().
const WAKE_SIGNAL: nsig::Signal = nsig::Signal::SIGURG;

/// What the process had before sigtrace changed its signal state; restored in the child.
pub struct SavedSignals {
    mask: SigSet,
    chld: SigAction,
}

fn control_set() -> SigSet {
    nsig::Signal::iterator()
        .filter(|&s| is_control(s))
        .collect()
}

extern "C" fn on_wake(_: libc::c_int) {}

/// Blocks the control signals (the signal thread takes them with sigwaitinfo), ignores SIGPIPE
/// (a closed output is an error to report, not a death), makes SIGCHLD default (an ignored
/// SIGCHLD would make the kernel reap tracees before waitpid sees them), and installs a no-op
/// SIGURG handler without SA_RESTART so that a wake-up interrupts waitpid with EINTR.
/// Must run before any thread is spawned so that every thread inherits the mask.
pub fn setup_signals() -> io::Result<SavedSignals> {
    let mut mask = SigSet::empty();
    nsig::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&control_set()), Some(&mut mask))?;
    let action = |h| SigAction::new(h, SaFlags::empty(), SigSet::empty());
    // SAFETY: the handlers are SIG_IGN, SIG_DFL and one that does nothing (async-signal-safe).
    let chld = unsafe {
        nsig::sigaction(nsig::Signal::SIGPIPE, &action(SigHandler::SigIgn))?;
        let chld = nsig::sigaction(nsig::Signal::SIGCHLD, &action(SigHandler::SigDfl))?;
        nsig::sigaction(WAKE_SIGNAL, &action(SigHandler::Handler(on_wake)))?;
        chld
    };
    Ok(SavedSignals { mask, chld })
}

/// Blocks until a control signal arrives. libc's sigwaitinfo: nix's SigSet::wait drops the
/// siginfo, whose si_code tells the terminal's signals from a process's and whose si_pid
/// names the sender.
pub fn wait_control_signal() -> ControlSignal {
    let set = control_set();
    loop {
        // SAFETY: `set` and `info` are locals; sigwaitinfo writes `info`; si_pid and si_uid
        // read the kill/rt layout, which the kernel fills for the si_codes sigtrace passes on
        // (SI_USER, SI_QUEUE, SI_TKILL).
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let s = libc::sigwaitinfo(set.as_ref(), &mut info);
            if s > 0 {
                return ControlSignal {
                    sig: s,
                    code: info.si_code,
                    pid: info.si_pid(),
                    uid: info.si_uid(),
                };
            }
        }
    }
}

/// Ends sigtrace by signal `sig`, as the command ended, so that its parent sees the same
/// status (a shell's 128+N, Python's -N). No core dump: the command's own is what matters.
/// Returns only if `sig` did not end the process (then the caller exits 128+sig).
pub fn reraise(sig: i32) {
    // SAFETY: setrlimit, prctl, signal, raise and pthread_sigmask take locals and integers;
    // the renderer has flushed and the other threads are idle, so dying here loses nothing.
    unsafe {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::raise(sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

/// An opaque handle to the thread that runs the tracer loop.
#[derive(Clone, Copy)]
pub struct ThreadHandle(nix::sys::pthread::Pthread);

pub fn current_thread() -> ThreadHandle {
    ThreadHandle(nix::sys::pthread::pthread_self())
}

/// Interrupts a blocking system call in `thread` (its SIGURG handler does nothing); the
/// tracer thread lives until the process exits.
pub fn wake(thread: ThreadHandle) {
    let _ = nix::sys::pthread::pthread_kill(thread.0, WAKE_SIGNAL);
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

/// Forks a process that holds `keep` open until sigtrace has exited, then exits: the last
/// close of a perf event on a tracepoint waits for RCU grace periods (35 ms or more each,
/// measured here), which sigtrace's caller would otherwise wait for at sigtrace's exit. The
/// child closes every other descriptor first, so that no pipe of the caller's stays open.
pub fn hold_until_exit(keep: &[RawFd]) -> io::Result<()> {
    let open: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let (rx, tx) = pipe_cloexec()?;
    let (rx_fd, tx_fd) = (rx.as_raw_fd(), tx.as_raw_fd());
    let others: Vec<RawFd> = open
        .into_iter()
        .filter(|fd| *fd != rx_fd && !keep.contains(fd))
        .collect();
    // SAFETY: the child only makes async-signal-safe calls (close, read, _exit) on memory
    // prepared before the fork, so the other threads' locks do not matter to it.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => unsafe {
            for fd in &others {
                libc::close(*fd);
            }
            libc::close(tx_fd);
            let mut byte = 0u8;
            // EOF once every copy of the write end is closed: sigtrace has exited.
            while libc::read(rx_fd, (&raw mut byte).cast(), 1) < 0
                && *libc::__errno_location() == libc::EINTR
            {}
            libc::_exit(0)
        },
        _ => {
            // The write end stays open until this process exits.
            std::mem::forget(tx);
            Ok(())
        }
    }
}

/// Leaves a grandchild that removes directory `path` (a tracefs instance) once this process
/// has exited, however it ends; it retries while the instance is busy (this process's last
/// descriptors of it are closed after the pipe's), for up to 2 s.
pub fn remove_dir_after_exit(path: &std::path::Path) -> io::Result<()> {
    let dir = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let (rx, tx) = pipe_cloexec()?;
    let rx_fd = rx.as_raw_fd() as libc::c_uint;
    // SAFETY: the child and grandchild only make async-signal-safe calls (fork, setsid,
    // signal, close_range, read, rmdir, nanosleep, _exit) on memory prepared before the fork.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => unsafe {
            // Not a child of this process (whose waits it would disturb), nor in its group
            // or session (a Ctrl-C or a group kill meant for sigtrace must not stop it).
            if libc::fork() != 0 {
                libc::_exit(0);
            }
            libc::setsid();
            for sig in [
                libc::SIGHUP,
                libc::SIGINT,
                libc::SIGQUIT,
                libc::SIGTERM,
                libc::SIGPIPE,
            ] {
                libc::signal(sig, libc::SIG_IGN);
            }
            // Every descriptor but the pipe's read end, those other threads open meanwhile too.
            if rx_fd > 0 {
                libc::syscall(libc::SYS_close_range, 0, rx_fd - 1, 0);
            }
            libc::syscall(libc::SYS_close_range, rx_fd + 1, libc::c_uint::MAX, 0);
            let mut byte = 0u8;
            // EOF once every copy of the write end is closed: sigtrace has exited.
            while libc::read(rx_fd as RawFd, (&raw mut byte).cast(), 1) < 0
                && *libc::__errno_location() == libc::EINTR
            {}
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: 10_000_000,
            };
            for _ in 0..200 {
                if libc::rmdir(dir.as_ptr()) == 0 || *libc::__errno_location() != libc::EBUSY {
                    break;
                }
                libc::nanosleep(&pause, std::ptr::null_mut());
            }
            libc::_exit(0)
        },
        child => {
            let _ = perf::wait_child(child);
            // The write end stays open until this process exits.
            std::mem::forget(tx);
            Ok(())
        }
    }
}

fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?)
}

/// Forks a child that waits until released, restores the signal state sigtrace inherited,
/// and execs `path` with `argv`. The child is seized with `options` before it can run the
/// program, so the tracer sees everything from exec on.
///
/// With `filter`, the child installs it as a seccomp filter just before exec (setting
/// no_new_privs first when it lacks CAP_SYS_ADMIN); if that fails it execs unfiltered and the
/// tracer notices (`has_seccomp_filter`).
pub fn spawn_held(cmd: &Exec, saved: &SavedSignals, options: Option<i32>) -> io::Result<HeldChild> {
    let nul_ended = |v: &[CString]| -> Vec<*const libc::c_char> {
        v.iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect()
    };
    let ptrs = nul_ended(&cmd.argv);
    let envp = cmd.env.as_deref().map(nul_ended);
    let path = &cmd.path;
    let insns = cmd.filter.as_deref().unwrap_or(&[]);
    let prog = libc::sock_fprog {
        len: insns.len() as u16,
        filter: insns.as_ptr() as *mut libc::sock_filter,
    };
    let (go_r, go_w) = pipe_cloexec()?;
    let (err_r, err_w) = pipe_cloexec()?;
    // SAFETY: fork is called before sigtrace spawns any thread, so the child may run any code;
    // it still only makes async-signal-safe calls on memory prepared before the fork.
    let pid = match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => {
            drop((go_w, err_r));
            let child = Child {
                go: go_r,
                exec_error: err_w,
                saved,
                prog: &prog,
                path,
                argv: &ptrs,
                envp: envp.as_deref(),
                user: cmd.user.as_ref(),
            };
            // SAFETY: as above; `child` holds only what was prepared before the fork.
            unsafe { child.exec() }
        }
        nix::unistd::ForkResult::Parent { child } => child,
    };
    drop((go_r, err_w));
    // Without options (the record mode) it is never traced.
    if let Some(Err(e)) = options.map(|o| seize(pid.as_raw(), o)) {
        let _ = nsig::kill(pid, nsig::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
        return Err(e);
    }
    Ok(HeldChild {
        pid: pid.as_raw(),
        go: go_w,
        exec_error: err_r,
    })
}

/// What `spawn_held` executes: the resolved path, argv, the seccomp filter to install, and the
/// environment when it is not sigtrace's own.
pub struct Exec {
    pub path: CString,
    pub argv: Vec<CString>,
    pub filter: Option<Vec<libc::sock_filter>>,
    pub env: Option<Vec<CString>>,
    /// -u USER: the ids and groups the command runs with.
    pub user: Option<Credentials>,
}

/// A user's ids as strace's -u sets them: real ids the user's, effective ids the program
/// file's owner where it is set-user-ID (set-group-ID), and the user's groups.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub euid: libc::uid_t,
    pub egid: libc::gid_t,
    pub groups: Vec<libc::gid_t>,
}

/// The forked child's side of `spawn_held`, all prepared before the fork.
struct Child<'a> {
    go: OwnedFd,
    exec_error: OwnedFd,
    saved: &'a SavedSignals,
    prog: &'a libc::sock_fprog,
    path: &'a CString,
    argv: &'a [*const libc::c_char],
    /// The environment when it is not sigtrace's (-E).
    envp: Option<&'a [*const libc::c_char]>,
    user: Option<&'a Credentials>,
}

impl Child<'_> {
    /// Restores the inherited signal state, waits for the tracer, installs the filter, execs.
    /// libc's prctl and execv: nix has no seccomp filter call, and its execv allocates, which a
    /// forked child of a program that may have threads must not.
    ///
    /// # Safety
    /// Only in the child of a fork, before exec.
    unsafe fn exec(self) -> ! {
        // Rust's runtime ignored SIGPIPE before main, hiding what sigtrace inherited; like
        // std::process::Command, give the command the default action.
        let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        // SAFETY: default actions and the saved ones; pointers were prepared before the fork.
        unsafe {
            let _ = nsig::sigaction(nsig::Signal::SIGPIPE, &dfl);
            let _ = nsig::sigaction(nsig::Signal::SIGCHLD, &self.saved.chld);
            let _ = nsig::sigaction(WAKE_SIGNAL, &dfl);
            let _ = nsig::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.saved.mask), None);
            let mut b = [0u8];
            // EOF when the tracer has seized us (or died: then run untraced, as if launched plainly).
            while nix::unistd::read(&self.go, &mut b) == Err(nix::errno::Errno::EINTR) {}
            // Groups before the ids: setgroups needs the privilege setreuid gives up.
            if let Some(u) = self.user
                && (libc::setgroups(u.groups.len(), u.groups.as_ptr()) != 0
                    || libc::setregid(u.gid, u.egid) != 0
                    || libc::setreuid(u.uid, u.euid) != 0)
            {
                let _ = write_i32(&self.exec_error, *libc::__errno_location());
                libc::_exit(127);
            }
            if self.prog.len > 0 {
                let set = |p: *const libc::sock_fprog| {
                    libc::prctl(
                        libc::PR_SET_SECCOMP,
                        libc::SECCOMP_MODE_FILTER,
                        p as usize,
                        0,
                        0,
                    )
                };
                if set(self.prog) != 0 && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 {
                    set(self.prog);
                }
            }
            match self.envp {
                Some(envp) => libc::execve(self.path.as_ptr(), self.argv.as_ptr(), envp.as_ptr()),
                None => libc::execv(self.path.as_ptr(), self.argv.as_ptr()),
            };
            let _ = write_i32(&self.exec_error, *libc::__errno_location());
            libc::_exit(127);
        }
    }
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

/// Waits until `fd` takes a write again (poll(2), POLLOUT). A signal that interrupts the
/// poll (the tracer's wake-up) only makes the caller try the write once more.
pub fn wait_writable(fd: std::os::fd::BorrowedFd) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(fd, PollFlags::POLLOUT)];
    let _ = poll(&mut fds, PollTimeout::NONE);
}

/// The effective uid of sigtrace.
pub fn geteuid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Local hours, minutes and seconds of a Unix time, for -t (libc's localtime_r: nix has none).
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

/// Whether this kernel has seccomp (PR_GET_SECCOMP fails with EINVAL without it); libc's
/// prctl, as nix has no PR_GET_SECCOMP.
pub fn seccomp_available() -> bool {
    // SAFETY: PR_GET_SECCOMP takes no pointer arguments.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}

/// The registers an unwinder starts from: instruction, stack and frame pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnwindRegs {
    pub ip: u64,
    pub sp: u64,
    pub bp: u64,
}

/// PTRACE_GETREGS on a stopped tracee (x86_64).
#[cfg(target_arch = "x86_64")]
pub fn unwind_regs(tid: Tid) -> io::Result<UnwindRegs> {
    // SAFETY: user_regs_struct is plain integers, so all-zero is a valid value.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    ptrace(
        libc::PTRACE_GETREGS,
        tid,
        0,
        &mut regs as *mut libc::user_regs_struct as usize,
    )?;
    Ok(UnwindRegs {
        ip: regs.rip,
        sp: regs.rsp,
        bp: regs.rbp,
    })
}

/// Stacks are x86_64-only for now: elsewhere -k says so in each stack.
#[cfg(not(target_arch = "x86_64"))]
pub fn unwind_regs(_tid: Tid) -> io::Result<UnwindRegs> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Whether `fd` is readable within `timeout_ms` (-1: wait; a signal ends the wait early).
pub fn readable(fd: std::os::fd::RawFd, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `p` is one live pollfd; poll only reads its fd number (an invalid one is
    // reported in revents, not dereferenced).
    let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    n > 0 && p.revents & libc::POLLIN != 0
}

/// Raises a socket's receive buffer to `bytes`, past net.core.rmem_max where sigtrace may
/// (SO_RCVBUFFORCE: CAP_NET_ADMIN), else as far as that allows.
pub fn grow_recv_buffer(fd: std::os::fd::RawFd, bytes: i32) {
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: `bytes` is a live c_int whose size is passed; the kernel only reads it, and an
        // invalid fd is an error, not a dereference.
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&bytes as *const i32).cast(),
                std::mem::size_of::<i32>() as libc::socklen_t,
            )
        };
        if r == 0 {
            return;
        }
    }
}
