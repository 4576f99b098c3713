//! The seccomp-bpf filter that stops a tracee only at the traced syscalls, and an interpreter to test it.

use crate::decode::AUDIT_ARCH_X86_64;
use crate::syscalls::SyscallSet;

/// One classic-BPF instruction (struct sock_filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JA: u16 = 0x05;
const BPF_JEQ_K: u16 = 0x15;
const BPF_JGT_K: u16 = 0x25;
const BPF_JGE_K: u16 = 0x35;
const BPF_RET_K: u16 = 0x06;
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

const ALLOW: Insn = insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW);
const TRACE: Insn = insn(BPF_RET_K, 0, 0, SECCOMP_RET_TRACE);

/// A filter as the kernel takes it (what `sys::spawn_held` installs).
pub fn program(filter: &[Insn]) -> Vec<libc::sock_filter> {
    filter
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect()
}

/// A seccomp filter that makes the tracee stop (SECCOMP_RET_TRACE) only at the syscalls in
/// `set`: a binary search over the runs of consecutive numbers in it, so that any syscall
/// costs a dozen or so instructions whatever the set. Conditional jumps stay local (their
/// offsets are 8 bits); the search jumps over subtrees with BPF_JA (32 bits).
/// Other architectures (a 32-bit int 0x80, x32) run unstopped: sigtrace decodes x86_64 only.
pub fn filter(set: &SyscallSet) -> Vec<Insn> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for nr in set.iter() {
        match runs.last_mut() {
            Some((_, hi)) if *hi + 1 == nr => *hi = nr,
            _ => runs.push((nr, nr)),
        }
    }
    let mut prog = vec![
        insn(BPF_LD_W_ABS, 0, 0, 4),
        insn(BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        ALLOW,
        insn(BPF_LD_W_ABS, 0, 0, 0),
        insn(BPF_JGE_K, 0, 1, X32_SYSCALL_BIT),
        ALLOW,
    ];
    search(&runs, &mut prog);
    prog
}

fn search(runs: &[(u32, u32)], prog: &mut Vec<Insn>) {
    match runs {
        [] => prog.push(ALLOW),
        [(lo, hi)] if lo == hi => prog.extend([insn(BPF_JEQ_K, 0, 1, *lo), TRACE, ALLOW]),
        [(lo, hi)] => prog.extend([
            insn(BPF_JGE_K, 0, 2, *lo),
            insn(BPF_JGT_K, 1, 0, *hi),
            TRACE,
            ALLOW,
        ]),
        _ => {
            let (left, right) = runs.split_at(runs.len() / 2);
            // nr >= right's first: take the JA to the right half; else skip it into the left.
            prog.push(insn(BPF_JGE_K, 0, 1, right[0].0));
            let ja = prog.len();
            prog.push(insn(BPF_JA, 0, 0, 0));
            search(left, prog);
            prog[ja].k = (prog.len() - ja - 1) as u32;
            search(right, prog);
        }
    }
}

/// Runs a filter on (arch, nr) the way the kernel would: its verdict and how many
/// instructions it took (for tests).
pub fn run_filter(prog: &[Insn], arch: u32, nr: u32) -> (u32, usize) {
    let mut acc = 0u32;
    let mut pc = 0usize;
    for steps in 1.. {
        let i = prog[pc];
        let cond = |c: bool| if c { i.jt } else { i.jf } as usize;
        match i.code {
            BPF_LD_W_ABS => acc = if i.k == 4 { arch } else { nr },
            BPF_JA => pc += i.k as usize,
            BPF_JEQ_K => pc += cond(acc == i.k),
            BPF_JGT_K => pc += cond(acc > i.k),
            BPF_JGE_K => pc += cond(acc >= i.k),
            BPF_RET_K => return (i.k, steps),
            _ => panic!("unexpected BPF op {:#x}", i.code),
        }
        pc += 1;
    }
    unreachable!("a filter always returns")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::MAX_NR;

    #[test]
    fn filter_traces_exactly_the_set() {
        let odd: Vec<String> = (0..MAX_NR)
            .step_by(2)
            .filter_map(crate::syscalls::syscall_name)
            .map(String::from)
            .collect();
        let odd = odd.join(",");
        for spec in [
            "%signal",
            "kill",
            "kill,tkill",
            "%process,%signal,setsid",
            "all",
            "!kill",
            &odd,
        ] {
            let set = SyscallSet::parse(spec).unwrap();
            let prog = filter(&set);
            for nr in 0..MAX_NR {
                let want = if set.contains(nr) {
                    SECCOMP_RET_TRACE
                } else {
                    SECCOMP_RET_ALLOW
                };
                assert_eq!(
                    run_filter(&prog, AUDIT_ARCH_X86_64, nr).0,
                    want,
                    "{spec}: nr {nr}"
                );
            }
            assert_eq!(run_filter(&prog, 0x4000_0003, 13).0, SECCOMP_RET_ALLOW);
            let x32 = run_filter(&prog, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 13).0;
            assert_eq!(x32, SECCOMP_RET_ALLOW);
        }
    }

    #[test]
    fn filter_paths_are_short() {
        let prog = filter(&SyscallSet::default_set());
        let steps = |nr| run_filter(&prog, AUDIT_ARCH_X86_64, nr).1;
        let worst = (0..MAX_NR).map(steps).max().unwrap();
        assert!(worst <= 20, "{worst} instructions on the longest path");
    }
}
