//! The raw calls behind the kernel's signal record: perf_event_open on a tracepoint, its mmapped ring buffer, poll, and a private tracefs mount.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// PERF_TYPE_TRACEPOINT: `config` is a tracepoint id from tracefs.
const TYPE_TRACEPOINT: u32 = 2;
/// PERF_SAMPLE_IDENTIFIER | TID | TIME | RAW: the event's id first, which tells the two
/// events of a pair apart.
const SAMPLE_IDENTIFIER: u64 = 1 << 16;
const SAMPLE_TID: u64 = 1 << 1;
const SAMPLE_TIME: u64 = 1 << 2;
const SAMPLE_RAW: u64 = 1 << 10;
/// perf_event_attr flag bits: use_clockid (samples stamped with `clockid`, here CLOCK_MONOTONIC).
const FLAG_USE_CLOCKID: u64 = 1 << 25;
/// PERF_ATTR_SIZE_VER5: every field up to sample_max_stack, all sigtrace sets.
const ATTR_SIZE: usize = 112;
const FLAG_FD_CLOEXEC: libc::c_ulong = 8;
/// _IO('$', 5) and _IOW('$', 6, char *): PERF_EVENT_IOC_SET_OUTPUT and _SET_FILTER.
const IOC_SET_OUTPUT: libc::c_ulong = 0x2405;
const IOC_SET_FILTER: libc::c_ulong = 0x4008_2406;

/// read_format PERF_FORMAT_LOST (Linux 6.0): a read() of the event gives its lost samples.
const FORMAT_LOST: u64 = 1 << 4;

/// perf_event_attr flag bit 0: disabled (until PERF_EVENT_IOC_ENABLE).
const FLAG_DISABLED: u64 = 1;

/// A perf_event_attr for every sample of tracepoint `id`: sender pid/tid, time, raw record;
/// a poll wakes at each sample (`prompt`), or only when the buffer is half full.
fn tracepoint_attr(id: u64, prompt: bool, enabled: bool, lost: bool) -> [u8; ATTR_SIZE] {
    let mut a = [0u8; ATTR_SIZE];
    let mut put = |at: usize, bytes: &[u8]| a[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, &TYPE_TRACEPOINT.to_ne_bytes());
    put(4, &(ATTR_SIZE as u32).to_ne_bytes());
    put(8, &id.to_ne_bytes());
    put(16, &1u64.to_ne_bytes()); // sample_period: every event
    put(
        24,
        &(SAMPLE_IDENTIFIER | SAMPLE_TID | SAMPLE_TIME | SAMPLE_RAW).to_ne_bytes(),
    );
    if lost {
        put(32, &FORMAT_LOST.to_ne_bytes());
    }
    let flags = FLAG_USE_CLOCKID | if enabled { 0 } else { FLAG_DISABLED };
    put(40, &flags.to_ne_bytes());
    put(48, &u32::from(prompt).to_ne_bytes()); // wakeup_events
    put(92, &libc::CLOCK_MONOTONIC.to_ne_bytes());
    a
}

/// Opens tracepoint `id` on one CPU for every task (pid -1); its lost samples readable with
/// `lost` where the kernel counts them.
pub fn open_tracepoint(id: u64, cpu: i32, prompt: bool, enabled: bool) -> io::Result<OwnedFd> {
    match open_attr(&tracepoint_attr(id, prompt, enabled, true), cpu) {
        // Before Linux 6.0, PERF_FORMAT_LOST is an unknown bit.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            open_attr(&tracepoint_attr(id, prompt, enabled, false), cpu)
        }
        other => other,
    }
}

fn open_attr(attr: &[u8; ATTR_SIZE], cpu: i32) -> io::Result<OwnedFd> {
    // SAFETY: `attr` is a perf_event_attr of ATTR_SIZE bytes, as its size field says, alive for
    // the call; the kernel only reads it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr.as_ptr(),
            -1 as libc::pid_t,
            cpu,
            -1 as libc::c_int,
            FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this new descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// The samples of event `fd` the kernel could not write (its ring was full), by
/// PERF_FORMAT_LOST; None where the event was opened without it.
pub fn lost(fd: RawFd) -> Option<u64> {
    let mut values = [0u64; 2];
    // SAFETY: reads at most the 16 bytes of `values`, a live buffer of that size.
    let n = unsafe { libc::read(fd, values.as_mut_ptr().cast(), 16) };
    (n == 16).then_some(values[1])
}

/// PERF_EVENT_IOC_ID: the id the event's samples carry (PERF_SAMPLE_IDENTIFIER).
pub fn event_id(fd: &OwnedFd) -> io::Result<u64> {
    let mut id = 0u64;
    // SAFETY: _IOR('$', 7, u64 *): the kernel writes one u64 at this pointer.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), 0x8008_2407, &mut id as *mut u64) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(id)
}

/// PERF_EVENT_IOC_ENABLE or _DISABLE.
pub fn enable(fd: &OwnedFd, on: bool) -> io::Result<()> {
    let request: libc::c_ulong = if on { 0x2400 } else { 0x2401 };
    // SAFETY: these requests take no argument.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), request, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `fd`'s samples to `into`'s ring buffer (both on the same CPU).
pub fn set_output(fd: &OwnedFd, into: &OwnedFd) -> io::Result<()> {
    // SAFETY: PERF_EVENT_IOC_SET_OUTPUT takes a descriptor number as its argument, no pointer.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), IOC_SET_OUTPUT, into.as_raw_fd()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets a tracepoint filter (ftrace syntax, e.g. `pid == 42 || pid == 43`).
pub fn set_filter(fd: &OwnedFd, filter: &str) -> io::Result<()> {
    let text = CString::new(filter).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: the kernel reads a NUL-terminated string at this pointer, alive for the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), IOC_SET_FILTER, text.as_ptr()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Offsets in struct perf_event_mmap_page (the ring buffer's first page).
const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;
const DATA_OFFSET: usize = 1040;
const DATA_SIZE: usize = 1048;

/// One CPU's mmapped ring buffer: a control page, then 2^n data pages.
pub struct Ring {
    base: *mut u8,
    len: usize,
    data: usize,
    size: u64,
}

// SAFETY: the mapping belongs to this value alone; the kernel is the only other party, and it
// synchronises through data_head/data_tail, whichever thread reads.
unsafe impl Send for Ring {}

impl Ring {
    /// Maps `fd`'s ring buffer with `pages` (a power of two) data pages.
    pub fn map(fd: &OwnedFd, pages: usize) -> io::Result<Ring> {
        let page = page_size();
        let len = (pages + 1) * page;
        // SAFETY: a fresh shared mapping of the perf descriptor, of the size perf_event_open(2)
        // asks for (1 + 2^n pages); nothing aliases it before it is returned.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut ring = Ring {
            base: base as *mut u8,
            len,
            data: page,
            size: (pages * page) as u64,
        };
        // Kernels since 4.1 say where the data starts and how large it is; older ones leave 0.
        let (offset, size) = (ring.word(DATA_OFFSET), ring.word(DATA_SIZE));
        if size != 0 {
            ring.data = offset as usize;
            ring.size = size;
        }
        Ok(ring)
    }

    fn word(&self, at: usize) -> u64 {
        self.atomic(at).load(Ordering::Relaxed)
    }

    fn atomic(&self, at: usize) -> &AtomicU64 {
        // SAFETY: `at` is one of the 8-aligned u64 fields of the control page, inside the
        // mapping, which lives as long as `self`; the kernel updates them concurrently, so they
        // are only ever accessed atomically.
        unsafe { &*(self.base.add(at) as *const AtomicU64) }
    }

    /// Hands each record now in the buffer (its perf_event_header included) to `f`, then frees
    /// their space. Returns how many there were.
    pub fn drain(&mut self, buf: &mut Vec<u8>, f: &mut dyn FnMut(&[u8])) -> usize {
        // perf_event_open(2): read data_head, then an rmb (Acquire) before reading the data;
        // after reading, an mb (Release) before writing data_tail, so the kernel does not
        // overwrite a record still being read.
        let head = self.atomic(DATA_HEAD).load(Ordering::Acquire);
        let mut tail = self.atomic(DATA_TAIL).load(Ordering::Relaxed);
        let mut n = 0;
        while tail + 8 <= head {
            self.copy(tail, 8, buf);
            let size = u16::from_ne_bytes([buf[6], buf[7]]) as u64;
            if size < 8 || tail + size > head {
                break;
            }
            self.copy(tail, size as usize, buf);
            f(buf);
            tail += size;
            n += 1;
        }
        self.atomic(DATA_TAIL).store(head, Ordering::Release);
        n
    }

    /// Copies `len` bytes at ring position `pos` into `out`, across the wrap-around.
    fn copy(&self, pos: u64, len: usize, out: &mut Vec<u8>) {
        out.clear();
        let start = (pos % self.size) as usize;
        let first = len.min(self.size as usize - start);
        // SAFETY: both ranges lie inside the data area (start < size, first <= size - start,
        // len - first <= size), which the kernel does not write until data_tail passes them.
        unsafe {
            let data = self.base.add(self.data);
            out.extend_from_slice(std::slice::from_raw_parts(data.add(start), first));
            out.extend_from_slice(std::slice::from_raw_parts(data, len - first));
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, of this length, unmapped once.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}

pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory effects.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// Waits until one of `fds` is readable or `timeout_ms` passes; returns whether any was.
pub fn poll_readable(fds: &[BorrowedFd<'_>], timeout_ms: i32) -> bool {
    let mut polls: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `polls` is a live array of as many pollfd as its length says.
    let n = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, timeout_ms) };
    n > 0
}

/// CLOCK_MONOTONIC in nanoseconds, the clock the samples are stamped with.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec the kernel writes.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A Stamp and the CLOCK_MONOTONIC nanoseconds of the same moment, read between two clock
/// reads less than 20 µs apart (a preemption between the reads, milliseconds on a loaded
/// machine, would shift every time converted with the pair).
pub fn clock_pair() -> (crate::event::Stamp, u64) {
    loop {
        let before = monotonic_ns();
        let stamp = crate::event::Stamp::now();
        let after = monotonic_ns();
        if after - before < 20_000 {
            return (stamp, before + (after - before) / 2);
        }
    }
}

/// A CLOCK_MONOTONIC time of the kernel's (a ring's, the connector's) as a Stamp: its
/// Instant through one pair read once for the whole run, so that the times of every source
/// keep their order exactly (two pairs, each a few µs off, could swap a delivery and the
/// exit 10 µs after it); its wall time through `now`, a pair of the moment of reading.
pub fn stamp_at(now: (crate::event::Stamp, u64), ns: u64) -> crate::event::Stamp {
    static ANCHOR: std::sync::OnceLock<(std::time::Instant, u64)> = std::sync::OnceLock::new();
    let &(at, at_ns) = ANCHOR.get_or_init(|| {
        let (s, ns) = clock_pair();
        (s.mono, ns)
    });
    let mono = if ns >= at_ns {
        at.checked_add(std::time::Duration::from_nanos(ns - at_ns))
    } else {
        at.checked_sub(std::time::Duration::from_nanos(at_ns - ns))
    };
    let (now, now_ns) = now;
    crate::event::Stamp {
        wall: now
            .wall
            .saturating_sub(std::time::Duration::from_nanos(now_ns.saturating_sub(ns))),
        mono: mono.unwrap_or(now.mono),
    }
}

/// Reads `files` (absolute paths under `/sys/kernel/tracing`) from a tracefs mounted in a
/// private mount namespace of a short-lived child, so that no mount is left behind. Root only.
/// Each file is None where it could not be read; an error when tracefs could not be mounted.
pub fn read_private_tracefs(files: &[&str]) -> io::Result<Vec<Option<Vec<u8>>>> {
    let paths = files
        .iter()
        .map(|f| CString::new(*f).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput)))
        .collect::<io::Result<Vec<_>>>()?;
    let (mut rx, tx) = std::os::unix::net::UnixStream::pair()?;
    // SAFETY: the child runs only async-signal-safe calls (unshare, mount, open, read, write,
    // _exit) on memory prepared before the fork, as a child of a threaded process must.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: in the fresh child, as `private_tracefs_child` requires.
        unsafe { private_tracefs_child(&paths, tx.as_raw_fd()) };
    }
    drop(tx);
    let mut all = Vec::new();
    io::Read::read_to_end(&mut rx, &mut all)?;
    let status = wait_child(pid)?;
    if status != 0 {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "tracefs could not be mounted",
        ));
    }
    Ok(split_files(&all, files.len()))
}

/// Reaps the child `pid`, retrying on EINTR; its raw wait status.
pub(super) fn wait_child(pid: libc::pid_t) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a local the kernel writes.
        if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// The child's part: each file as a u32 length (u32::MAX: unreadable) and its bytes.
///
/// # Safety
/// Only in a freshly forked child: it ends with `_exit`.
unsafe fn private_tracefs_child(paths: &[CString], out: i32) -> ! {
    // SAFETY: plain syscalls on NUL-terminated strings and a stack buffer, then _exit.
    unsafe {
        // mount_namespaces(7): a new namespace's mounts stay shared with the parent's unless
        // made private first; after that the tracefs mount is seen by this child alone.
        let ok = libc::unshare(libc::CLONE_NEWNS) == 0
            && libc::mount(
                c"none".as_ptr(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) == 0
            && libc::mount(
                c"nodev".as_ptr(),
                c"/sys/kernel/tracing".as_ptr(),
                c"tracefs".as_ptr(),
                0,
                std::ptr::null(),
            ) == 0;
        if !ok {
            libc::_exit(1);
        }
        let mut buf = [0u8; 8192];
        for p in paths {
            let fd = libc::open(p.as_ptr(), libc::O_RDONLY);
            let mut len: u32 = u32::MAX;
            if fd >= 0 {
                let mut got = 0usize;
                loop {
                    let n = libc::read(fd, buf.as_mut_ptr().add(got).cast(), buf.len() - got);
                    if n <= 0 {
                        break;
                    }
                    got += n as usize;
                }
                len = got as u32;
                libc::close(fd);
            }
            libc::write(out, (&raw const len).cast(), 4);
            if len != u32::MAX {
                libc::write(out, buf.as_ptr().cast(), len as usize);
            }
        }
        libc::_exit(0)
    }
}

/// Splits the child's answer into `n` files.
fn split_files(mut all: &[u8], n: usize) -> Vec<Option<Vec<u8>>> {
    let mut files = Vec::with_capacity(n);
    for _ in 0..n {
        let Some(len) = all.get(..4) else {
            files.push(None);
            continue;
        };
        let len = u32::from_ne_bytes(len.try_into().expect("4 bytes"));
        all = &all[4..];
        if len == u32::MAX || all.len() < len as usize {
            files.push(None);
            continue;
        }
        files.push(Some(all[..len as usize].to_vec()));
        all = &all[len as usize..];
    }
    files
}
