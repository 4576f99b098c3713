//! Threads and children: -f, multi-threaded exit and kill, exec from a non-main thread.
mod common;
use common::*;

#[test]
fn fork_exec_with_follow() {
    let t = assert_same_as_strace(&["-f"], &prog("forkexec"), &[]);
    assert!(
        t.iter().any(|l| l.contains("+++ killed by SIGUSR2 +++")),
        "{t:?}"
    );
    assert!(
        t.iter()
            .any(|l| l.contains("si_code=CLD_EXITED") && l.contains("si_status=4"))
    );
}

#[test]
fn without_follow_children_are_not_traced() {
    let (out, text) = trace(&[], &prog("forkexec"), &[]);
    assert_eq!(out.code(), 0);
    let lines = trace_lines(&text);
    // Only the parent: its two SIGCHLDs and its exit.
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains("SIGUSR2 {")));
}

#[test]
fn threaded_exit() {
    // Which threads reach pause() before exit_group is timing: compare signals and ends.
    let t = assert_same_as_strace(&["-f", "-e", "trace=none"], &prog("threads"), &["exit"]);
    assert_eq!(t.len(), 5, "one exit line per thread: {t:?}");
}

#[test]
fn threaded_exec_from_non_main_thread() {
    let t = assert_same_as_strace(&["-f", "-e", "trace=none"], &prog("thread_exec"), &[]);
    assert!(
        t.iter()
            .any(|l| l.contains("+++ superseded by execve in pid ")),
        "{t:?}"
    );
}

#[test]
fn threads_are_followed_without_f() {
    // Threads are always traced: the exit of every thread is reported even without -f.
    let (out, text) = trace(&[], &prog("threads"), &["exit"]);
    assert_eq!(out.code(), 5);
    let lines = trace_lines(&text);
    assert_eq!(lines.len(), 5, "{lines:?}");
}

#[test]
fn a_thread_reported_as_a_fork_is_a_thread() {
    // clone(CLONE_THREAD|...|SIGCHLD) gives PTRACE_EVENT_FORK: the clone flags seen at its
    // entry say it is a thread, so it has no context line and no row of its own.
    let (out, text) = trace(&["-f", "-e", "trace=none"], &prog("legacy_thread"), &[]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let contexts = text
        .lines()
        .filter(|l| l.starts_with("sigtrace: ") && l.contains(", session "))
        .count();
    assert_eq!(contexts, 1, "{text}");
    assert!(text.contains("summary of 1 process"), "{text}");
}
