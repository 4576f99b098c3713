//! sigtrace as a transparent wrapper: a signal for the command reaches it exactly once, and a stray one never kills it.
mod common;
use common::*;
use nix::sys::signal::Signal::{SIGINT, SIGUSR1, SIGUSR2};
use std::os::unix::process::CommandExt;
use std::process::Stdio;

/// Starts `sigtrace FLAGS -o FILE PROG` as the leader of its own process group; returns it
/// with the program's pid once the program catches `sig`.
fn in_own_group(
    flags: &[&str],
    prog_name: &str,
    sig: i32,
) -> (std::process::Child, u32, std::path::PathBuf) {
    let dir = tempdir("wrapper");
    let file = dir.join("t.txt");
    let p = prog(prog_name);
    let child = sigtrace()
        .args(flags)
        .arg("-o")
        .arg(&file)
        .arg(&p)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut target = 0;
    wait_for("the program's handler", || {
        target = find_process(child.id(), &p);
        target != 0 && catches(target, sig) && catches(target, libc::SIGUSR2)
    });
    (child, target, file)
}

#[test]
fn one_group_sigint_is_one_sigint_every_time() {
    // The program installs its own SIGINT handler, and sigtrace blocks SIGINT (a blocked signal
    // is never discarded as ignored): an ignored SIGINT inherited from the test run is no matter.
    for flags in [&[][..], &["-f"][..]] {
        for run in 0..20 {
            let (child, target, file) = in_own_group(flags, "intcount", libc::SIGINT);
            let _guard = KillOnDrop(child.id());
            // The whole group: sigtrace and the command each get one SIGINT.
            let group = nix::unistd::Pid::from_raw(-(child.id() as i32));
            nix::sys::signal::kill(group, SIGINT).unwrap();
            wait_for("sigtrace's decision", || {
                std::fs::read_to_string(&file)
                    .unwrap_or_default()
                    .contains("sigtrace: SIGINT from ")
            });
            signal(target, SIGUSR2);
            let out = finish(child, "sigtrace intcount");
            let text = std::fs::read_to_string(&file).unwrap();
            assert_eq!(out.code(), 0, "{flags:?} run {run}: {}", out.stderr);
            assert_eq!(out.stdout, "1\n", "{flags:?} run {run}: {text}");
            assert!(
                text.contains("not passed on: the command got it too"),
                "{text}"
            );
        }
    }
}

#[test]
fn a_stray_sigusr1_to_sigtrace_is_passed_on_not_fatal() {
    for flags in [&[][..], &["-f"][..]] {
        let (child, target, file) = in_own_group(flags, "waiter", libc::SIGUSR1);
        let _guard = KillOnDrop(child.id());
        signal(child.id(), SIGUSR1);
        wait_for("the passed-on SIGUSR1", || {
            std::fs::read_to_string(&file)
                .unwrap_or_default()
                .contains("--- SIGUSR1 ")
        });
        signal(target, SIGUSR2);
        let out = finish(child, "sigtrace waiter");
        assert_eq!(out.code(), 0, "{flags:?}: {}", out.stderr);
        assert_eq!(
            out.stdout, "1\n",
            "{flags:?}: the command counted one SIGUSR1"
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("to sigtrace: passed on to the command"),
            "{text}"
        );
    }
}
