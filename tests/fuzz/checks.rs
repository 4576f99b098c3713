//! What every input must satisfy, shared by the fuzz targets and the corpus replay test.
#![allow(dead_code)]
use sigtrace::decode::clone::{Clone3, Clone3Exit, CloneArgs};
use sigtrace::decode::siginfo::SigInfo;
use sigtrace::event::{
    ArgStr, ArgvEnd, Disposition, Event, EventKind, Mem, Origin, Stamp, Syscall,
};
use sigtrace::render::json::JsonFormat;
use sigtrace::render::text::TextFormat;
use sigtrace::signal::SignalSet;
use sigtrace::syscalls::{SyscallSet, spec};

fn printable(s: &str) -> bool {
    s.chars().all(|c| (' '..='~').contains(&c))
}

/// Trace text: printable but for the newlines that end lines.
fn assert_text(s: &str) {
    assert!(s.lines().all(printable), "raw bytes in {s:?}");
}

/// Every JSON line parses, whatever bytes went in.
fn assert_json(s: &str) {
    for line in s.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("valid JSON");
    }
}

/// `-e` expressions and signal and syscall sets from any bytes: a set, or one printable line.
pub fn expr(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let errors = [
        SyscallSet::parse(&text).err(),
        SignalSet::parse(&text).err(),
        sigtrace::cli::parse(["sigtrace", "-e", &text, "true"]).err(),
        sigtrace::cli::parse(["sigtrace", "-p", &text]).err(),
    ];
    for e in errors.into_iter().flatten() {
        assert!(printable(&e), "{e:?}");
        assert!(e.len() < 400, "{} bytes", e.len());
    }
}

fn info(data: &[u8]) -> SigInfo {
    let mut raw = [0u8; 128];
    let n = data.len().min(128);
    raw[..n].copy_from_slice(&data[..n]);
    SigInfo::from_bytes(raw)
}

fn event(kind: EventKind) -> Event {
    Event {
        time: Stamp::now(),
        pid: 1234,
        tid: 1235,
        ntasks: 2,
        kind,
        stack: None,
        names: None,
    }
}

fn text_and_json(events: &[Event]) {
    let mut text = TextFormat::new(&sigtrace::render::Options {
        to_file: true,
        ..Default::default()
    });
    let mut json = JsonFormat::new();
    let (mut t, mut j) = (String::new(), String::new());
    for ev in events {
        text.line(ev, &mut t);
        json.event(ev, &mut j);
    }
    assert_text(&t);
    assert_json(&j);
}

/// siginfo from any bytes, as a signal line in text and JSON.
pub fn siginfo(data: &[u8]) {
    let info = info(data);
    let mut s = String::new();
    sigtrace::strace::signal::siginfo(&info, 100, &mut s);
    assert!(
        printable(&s) && s.starts_with('{') && s.ends_with('}'),
        "{s:?}"
    );
    text_and_json(&[event(EventKind::Signal {
        info,
        from: Origin::NoSender,
        disposition: Disposition::Default,
        reason: None,
    })]);
}

/// Reads the input front to back; zeros once it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        let t = self.take(8);
        b[..t.len()].copy_from_slice(t);
        u64::from_le_bytes(b)
    }
    fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }
    fn mem(&mut self) -> Mem {
        match self.u8() % 7 {
            0 => Mem::None,
            1 => Mem::Fault,
            2 => {
                let len = self.u8();
                let mut data = [0u8; 128];
                // len may claim more than the 128 bytes there are.
                let t = self.take((len as usize).min(128));
                data[..t.len()].copy_from_slice(t);
                Mem::Bytes { len, data }
            }
            3 => {
                let n = self.u8() as usize;
                let complete = self.u8() & 1 == 1;
                Mem::Str(self.take(n).to_vec(), complete)
            }
            4 => {
                let items = (0..self.u8() % 40)
                    .map(|_| {
                        let ptr = self.u64();
                        let n = self.u8() as usize;
                        let text = (n != 255).then(|| (self.take(n % 64).to_vec(), n & 1 == 1));
                        ArgStr { ptr, text }
                    })
                    .collect();
                let end = match self.u8() % 3 {
                    0 => ArgvEnd::Null,
                    1 => ArgvEnd::More,
                    _ => ArgvEnd::Fault(self.u64()),
                };
                Mem::Argv(items, end)
            }
            5 => {
                let n = self.u8() as usize;
                let raw = self.take(n).to_vec();
                let args = CloneArgs::from_bytes(&raw);
                match self.u8() % 2 {
                    0 => Mem::Clone3(Clone3 {
                        args,
                        set_tid: (raw.len() > 88)
                            .then(|| sigtrace::decode::clone::ints(&raw[88..])),
                    }),
                    _ => Mem::Clone3Exit(Clone3Exit {
                        args,
                        failed: raw.len() % 2 == 1,
                        pidfd: raw.first().map(|&b| b as i32),
                        parent_tid: raw.get(1).map(|&b| b as i32),
                    }),
                }
            }
            _ => Mem::Count(self.u64() as u32, self.u8() & 1 == 1),
        }
    }
}

/// A syscall of any number, with any arguments and any memory behind them, entered and
/// returned: text and JSON lines, no panic.
pub fn syscall(data: &[u8]) {
    let mut b = Bytes(data);
    let nr = (b.u8() as u32 | (b.u8() as u32) << 8) % 512;
    let args = [b.u64(), b.u64(), b.u64(), b.u64(), b.u64(), b.u64()];
    let entry = Syscall {
        nr,
        args,
        mem: [b.mem(), b.mem(), b.mem()],
    };
    let exit = Syscall {
        nr,
        args,
        mem: [b.mem(), b.mem(), b.mem()],
    };
    let ret = b.u64() as i64;
    let is_error = b.u8() & 1 == 1;
    let spec = spec(nr);
    let mut s = String::new();
    sigtrace::strace::args::entry(&spec, &entry, 100, None, &mut s);
    sigtrace::strace::args::exit(&spec, &exit, 100, None, &mut s);
    sigtrace::strace::args::ret(&spec, ret, is_error, None, &mut s);
    assert!(printable(&s), "{s:?}");
    text_and_json(&[
        event(EventKind::SyscallEntry(entry.clone())),
        event(EventKind::SyscallExit {
            entry: Box::new(entry),
            call: exit,
            ret,
            is_error,
        }),
    ]);
}
