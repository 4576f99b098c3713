//! The watch mode's filter: which processes' verdicts it writes (pid, command name, user, cgroup, signal, ends by a signal).

use crate::signal::SignalSet;
use crate::verdict::{Cause, Outcome, Verdict};

/// What `--watch` selects; an empty list selects everything of its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `-p`: these processes.
    pub pids: Vec<i32>,
    /// `--comm`: these command names (compared as the kernel keeps them: 15 bytes).
    pub comms: Vec<Vec<u8>>,
    /// `--uid`: processes of these users.
    pub uids: Vec<u32>,
    /// `--cgroup`: a cgroup path (that cgroup and those below it), or a container id that the
    /// cgroup path contains.
    pub cgroups: Vec<String>,
    /// `-e signal=`: ends in which one of these signals had a part (the fatal one, the trigger,
    /// an earlier termination request).
    pub signals: Option<SignalSet>,
    /// `--killed`: only ends by a signal: killed by one, or exited after a signal that was not
    /// its own choice.
    pub killed: bool,
}

/// The kernel's TASK_COMM_LEN less its NUL.
const COMM_LEN: usize = 15;

impl Filter {
    pub fn matches(&self, v: &Verdict) -> bool {
        let any = |empty: bool, hit: bool| empty || hit;
        any(self.pids.is_empty(), self.pids.contains(&v.pid))
            && any(
                self.comms.is_empty(),
                self.comms.iter().any(|c| same_comm(c, &v.comm)),
            )
            && any(
                self.uids.is_empty(),
                v.uid.is_some_and(|u| self.uids.contains(&u)),
            )
            && any(
                self.cgroups.is_empty(),
                v.cgroup
                    .as_deref()
                    .is_some_and(|g| self.cgroups.iter().any(|want| in_cgroup(want, g))),
            )
            && self
                .signals
                .is_none_or(|set| signals(v).any(|s| set.contains(s)))
            && (!self.killed || by_signal(v))
    }

    /// In words, for the line that opens the watch: `comm java, uid 1000, an end by a signal`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut add = |what: &str, items: Vec<String>| {
            if !items.is_empty() {
                parts.push(format!("{what} {}", items.join(" or ")));
            }
        };
        add("pid", self.pids.iter().map(i32::to_string).collect());
        add(
            "comm",
            self.comms
                .iter()
                .map(|c| crate::text::escape_bytes(c))
                .collect(),
        );
        add("uid", self.uids.iter().map(u32::to_string).collect());
        add(
            "cgroup",
            self.cgroups
                .iter()
                .map(|g| crate::text::escape_input(g))
                .collect(),
        );
        if let Some(set) = self.signals {
            let names: Vec<String> = (1..=64)
                .map(crate::signal::Signal)
                .filter(|&s| set.contains(s))
                .map(|s| s.to_string())
                .collect();
            parts.push(format!("{} in its end", names.join(" or ")));
        }
        if self.killed {
            parts.push("an end by a signal".into());
        }
        parts.join(", ")
    }
}

fn same_comm(want: &[u8], comm: &[u8]) -> bool {
    want[..want.len().min(COMM_LEN)] == comm[..comm.len().min(COMM_LEN)]
}

/// `/system.slice` selects `/system.slice/app.service`, not `/system.slice2`; a name without a
/// leading slash (a container id) selects any cgroup whose path contains it.
fn in_cgroup(want: &str, path: &str) -> bool {
    match want.strip_prefix('/') {
        Some(_) => {
            let want = want.trim_end_matches('/');
            want.is_empty()
                || path == want
                || path
                    .strip_prefix(want)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
        None => path.contains(want),
    }
}

/// Every signal that had a part in the end.
fn signals(v: &Verdict) -> impl Iterator<Item = crate::signal::Signal> + '_ {
    v.outcome
        .signal()
        .into_iter()
        .chain(v.trigger.iter().map(|t| t.info.signo()))
        .chain(v.earlier.iter().map(|r| r.info.signo()))
}

/// Killed by a signal, or ended because of one (a handled termination request, the
/// terminal's, the kernel's).
fn by_signal(v: &Verdict) -> bool {
    matches!(v.outcome, Outcome::Killed { .. })
        || (v.trigger.is_some() && v.cause != Cause::SelfExit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroups_by_path_or_id() {
        assert!(in_cgroup("/system.slice", "/system.slice/app.service"));
        assert!(in_cgroup("/system.slice/", "/system.slice"));
        assert!(!in_cgroup("/system.slice", "/system.slice2/x"));
        assert!(in_cgroup("/", "/anything"));
        assert!(in_cgroup("4f2a", "/system.slice/docker-4f2a9c.scope"));
        assert!(!in_cgroup("4f2b", "/system.slice/docker-4f2a9c.scope"));
    }

    #[test]
    fn comms_as_the_kernel_cuts_them() {
        assert!(same_comm(b"a-very-long-program-name", b"a-very-long-pro"));
        assert!(!same_comm(b"java", b"javac"));
        assert!(same_comm(b"java", b"java"));
    }
}
