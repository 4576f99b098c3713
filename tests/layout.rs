//! siginfo's layout: the kernel's own bytes, read by sigtrace's decoder and by glibc's accessors, agree.
mod common;
use common::*;
use sigtrace::decode::siginfo::SigInfo;

#[test]
fn siginfo_offsets_agree_with_glibc_on_kernel_made_siginfos() {
    // The program takes a queued SIGUSR1 (si_value), a SIGCHLD (status, CPU times) and a
    // SIGSEGV (si_addr), and prints each siginfo raw, then as glibc's accessors read it.
    let out = run(&mut std::process::Command::new(prog("siginfo_layout")));
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    for line in lines {
        let f: Vec<&str> = line.split(' ').collect();
        let mut raw = [0u8; 128];
        for (i, b) in raw.iter_mut().enumerate() {
            *b = u8::from_str_radix(&f[0][2 * i..2 * i + 2], 16).unwrap();
        }
        let si = SigInfo::from_bytes(raw);
        let num = |i: usize| f[i].parse::<i64>().unwrap();
        let hex = |i: usize| u64::from_str_radix(f[i], 16).unwrap();
        let sig = num(1) as i32;
        assert_eq!(si.signo().0 as i64, num(1), "{line}");
        assert_eq!(si.code() as i64, num(2), "{line}");
        assert_eq!(si.errno() as i64, num(9), "{line}");
        match sig {
            libc::SIGUSR1 => {
                assert_eq!(
                    (si.pid() as i64, si.uid() as i64),
                    (num(3), num(4)),
                    "{line}"
                );
                assert_eq!(si.int() as i64, num(6), "{line}");
                assert_eq!(si.ptr(), hex(10), "{line}");
                assert_eq!(si.ptr(), 0x1234567890abcdef);
            }
            libc::SIGCHLD => {
                assert_eq!(
                    (si.pid() as i64, si.uid() as i64),
                    (num(3), num(4)),
                    "{line}"
                );
                assert_eq!(si.status() as i64, num(5), "{line}");
                assert_eq!(si.status(), 7);
                assert_eq!(
                    (si.utime() as i64, si.stime() as i64),
                    (num(7), num(8)),
                    "{line}"
                );
            }
            libc::SIGSEGV => {
                assert_eq!(si.addr(), hex(11), "{line}");
                assert_eq!(si.addr(), 0x10);
            }
            _ => panic!("unexpected signal in {line}"),
        }
    }
}
