/* Makes the %process calls sigtrace decodes (clone by way of fork(3), a raw clone, clone3,
 * fork, vfork, wait4, waitid) with statuses of every kind and with bad arguments. SIGCHLD stays
 * blocked so that no signal line lands at a place that depends on timing. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* struct clone_args (Linux 5.7). */
struct clone_args_v2 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

/* waitid(2) as the kernel has it, with its fifth argument. */
static long waitid5(int idtype, int id, siginfo_t *si, int options, struct rusage *ru) {
    return syscall(SYS_waitid, idtype, id, si, options, ru);
}

int main(void) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int st;
    struct rusage ru;
    siginfo_t si;

    pid_t p = fork();
    if (p == 0)
        _exit(3);
    wait4(p, &st, 0, NULL);

    p = fork();
    if (p == 0) {
        pause();
        _exit(0);
    }
    waitid5(P_PID, p, &si, WEXITED | WNOHANG, NULL);
    wait4(p, &st, WNOHANG, &ru);
    kill(p, SIGTERM);
    wait4(-1, &st, __WALL, &ru);

    p = fork();
    if (p == 0) {
        raise(SIGSTOP);
        _exit(7);
    }
    wait4(p, &st, WUNTRACED, NULL);
    kill(p, SIGCONT);
    /* Not WCONTINUED: whether the continue or the exit is reported first is timing. */
    waitid5(P_PID, p, &si, WEXITED, NULL);

    p = vfork();
    if (p == 0)
        _exit(0);
    wait4(p, NULL, 0, NULL);

    p = syscall(SYS_fork);
    if (p == 0)
        _exit(0);
    waitid5(P_ALL, 0, &si, WEXITED, &ru);

    pid_t ptid = 0;
    p = syscall(SYS_clone, CLONE_PARENT_SETTID | SIGCHLD, 0, &ptid, NULL, 0);
    if (p == 0)
        _exit(0);
    wait4(p, &st, 0, NULL);

    struct clone_args_v2 ca = {0};
    ca.flags = CLONE_PARENT_SETTID;
    ca.parent_tid = (uintptr_t)&ptid;
    ca.exit_signal = SIGCHLD;
    p = syscall(SYS_clone3, &ca, sizeof ca);
    if (p == 0)
        _exit(0);
    wait4(p, &st, 0, NULL);
    ca.flags = 0;
    p = syscall(SYS_clone3, &ca, sizeof ca);
    if (p == 0)
        _exit(0);
    wait4(p, &st, 0, NULL);
    syscall(SYS_clone3, &ca, 32);
    syscall(SYS_clone3, (void *)1, sizeof ca);

    wait4(-1, NULL, WNOHANG, NULL);
    waitid5(P_ALL, 0, &si, WEXITED | WNOHANG, NULL);
    wait4(12345678, (int *)1, 0, (struct rusage *)1);
    waitid5(7, 0, &si, WEXITED, NULL);
    return 0;
}
