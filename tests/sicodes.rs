//! One signal of every si_code family, each handled: sigtrace's lines are strace's.
mod common;
use common::*;

#[test]
fn every_si_code_family_matches_strace() {
    // SI_USER, SI_TKILL, SI_QUEUE (int and pointer), pidfd_send_signal, SI_TIMER, SI_MESGQ,
    // POLL_IN (F_SETSIG), SEGV_MAPERR/ACCERR, BUS_ADRERR, FPE_INTDIV, ILL_ILLOPN, int3
    // (SI_KERNEL), CLD_STOPPED/CONTINUED/KILLED/EXITED/DUMPED, SYS_SECCOMP of its own filter.
    // rt_sigreturn is left out: it returns whatever the handler interrupted had in its
    // return register (a waitpid's pid, usleep's EINTR), which depends on timing.
    let calls = "trace=kill,tgkill,rt_sigqueueinfo,pidfd_send_signal,exit_group";
    let t = assert_same_as_strace(&["-e", calls], &prog("sicodes"), &[]);
    for code in [
        "SI_USER",
        "SI_TKILL",
        "SI_QUEUE",
        "SI_TIMER, si_timerid=0,",
        "SI_MESGQ",
        "POLL_IN",
        "SEGV_MAPERR",
        "SEGV_ACCERR",
        "BUS_ADRERR",
        "FPE_INTDIV",
        "ILL_ILLOPN",
        "SIGTRAP, si_code=SI_KERNEL",
        "CLD_STOPPED",
        "CLD_CONTINUED",
        "CLD_KILLED",
        "CLD_EXITED",
        "SYS_SECCOMP",
    ] {
        assert!(t.iter().any(|l| l.contains(code)), "{code} missing: {t:#?}");
    }
}

#[test]
fn a_stopped_child_continued_by_its_parent_shows_its_sigcont_as_strace_does() {
    // The SIGCHLDs are left out: whether CLD_STOPPED and CLD_CONTINUED merge into one pending
    // SIGCHLD depends on timing. The child's own lines do not.
    for mode in [&[][..], &["--no-seccomp"][..]] {
        let (s, t, s_code, t_code) = compare_with(
            &["-f", "-e", "signal=!SIGCHLD"],
            mode,
            &prog("stopchild"),
            &[],
        );
        assert_eq!(normalize(&t), normalize(&s), "{mode:?}");
        assert!(t.iter().any(|l| l.contains("--- SIGCONT {")), "{t:#?}");
        assert_eq!((t_code, s_code), (0, 0));
    }
}

#[test]
fn a_failed_call_shows_its_old_value_pointer_as_strace_does() {
    // rt_sigaction(SIGKILL, ...), rt_sigprocmask(99, ...) and sigaltstack with bad flags fail
    // with EINVAL: the old action, mask and stack were not filled in.
    let set = "trace=rt_sigaction,rt_sigprocmask,sigaltstack";
    let t = assert_same_as_strace(&["-e", set], &prog("badold"), &[]);
    assert!(
        t.iter()
            .any(|l| l.starts_with("rt_sigaction(SIGKILL, {") && l.contains("}, 0x7")),
        "{t:#?}"
    );
}
