//! Benchmarks of the per-event work off the tracer thread: siginfo decoding and text rendering.
use criterion::{Criterion, criterion_group, criterion_main};
use sigtrace::decode::siginfo::SigInfo;
use sigtrace::event::{Clock, Event, EventKind, Stamp};
use sigtrace::render::text::TextFormat;
use std::hint::black_box;

fn raw(signo: i32, code: i32, pid: i32) -> [u8; 128] {
    let mut b = [0u8; 128];
    b[0..4].copy_from_slice(&signo.to_ne_bytes());
    b[8..12].copy_from_slice(&code.to_ne_bytes());
    b[16..20].copy_from_slice(&pid.to_ne_bytes());
    b
}

fn bench(c: &mut Criterion) {
    let user = SigInfo::from_bytes(raw(15, 0, 4242));
    let chld = SigInfo::from_bytes(raw(17, 1, 4242));
    c.bench_function("siginfo SI_USER to text", |b| {
        let mut s = String::with_capacity(128);
        b.iter(|| {
            s.clear();
            sigtrace::strace::signal::siginfo(black_box(&user), 100, &mut s);
            black_box(s.len())
        })
    });
    c.bench_function("siginfo CLD_EXITED to text", |b| {
        let mut s = String::with_capacity(128);
        b.iter(|| {
            s.clear();
            sigtrace::strace::signal::siginfo(black_box(&chld), 100, &mut s);
            black_box(s.len())
        })
    });
    c.bench_function("signal event line with -tt and pid prefix", |b| {
        let mut fmt = TextFormat::new(&sigtrace::render::Options {
            clock: Clock::Micros,
            ..Default::default()
        });
        let ev = Event {
            time: Stamp::now(),
            pid: 4242,
            tid: 4243,
            ntasks: 2,
            kind: EventKind::Signal {
                info: user,
                from: sigtrace::event::Origin::NoSender,
                disposition: sigtrace::event::Disposition::Default,
                reason: None,
            },
            stack: None,
            names: None,
        };
        let mut s = String::with_capacity(256);
        b.iter(|| {
            s.clear();
            fmt.line(black_box(&ev), &mut s);
            black_box(s.len())
        })
    });
    c.bench_function("256 events through the channel, in one batch", |b| {
        let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(16);
        let ev = Event {
            time: Stamp::now(),
            pid: 1,
            tid: 1,
            ntasks: 1,
            kind: EventKind::Signal {
                info: user,
                from: sigtrace::event::Origin::NoSender,
                disposition: sigtrace::event::Disposition::Default,
                reason: None,
            },
            stack: None,
            names: None,
        };
        b.iter(|| {
            tx.send(vec![ev.clone(); 256]).unwrap();
            black_box(rx.recv().unwrap())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
