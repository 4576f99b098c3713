/* The floor under any ptrace-based signal tracer: runs argv[1..] under a seccomp filter that
 * stops it (and, as -f, its children) at the syscalls sigtrace and strace trace by default, and
 * for each stop does only what showing a line needs: PTRACE_GET_SYSCALL_INFO at a syscall's
 * entry and exit, PTRACE_GETSIGINFO at a signal, then the resume. No decoding, no output.
 * Before blocking in waitpid it polls for up to 50 us, as sigtrace does (a stop is taken
 * without a wake-up on another CPU); FLOOR_SPIN_US=0 blocks at once, as strace does.
 * With FLOOR_EXIT=0 in the environment, a syscall's exit is not stopped at (PTRACE_CONT at
 * the entry): the cost of the stops themselves, one per syscall. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* strace -e trace=%signal,exit,exit_group,execve,execveat,setsid,setpgid (x86_64). */
static const int traced[] = {
    SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_pause, SYS_kill,
    SYS_rt_sigpending, SYS_rt_sigtimedwait, SYS_rt_sigqueueinfo, SYS_rt_sigsuspend,
    SYS_sigaltstack, SYS_tkill, SYS_tgkill, SYS_rt_tgsigqueueinfo, SYS_signalfd,
    SYS_signalfd4, SYS_pidfd_send_signal, SYS_exit, SYS_exit_group, SYS_execve,
    SYS_execveat, SYS_setsid, SYS_setpgid,
};
#define NTRACED (sizeof traced / sizeof traced[0])

static void install_filter(void) {
    struct sock_filter prog[4 + NTRACED + 2];
    int n = 0;
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < NTRACED; i++)
        /* A match jumps to TRACE, past the remaining tests and ALLOW. */
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, traced[i], NTRACED - i, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
    struct sock_fprog fprog = {(unsigned short)n, prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog)) {
        perror("seccomp");
        _exit(126);
    }
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* waitpid(-1) polled for up to spin_ns before it blocks. */
static pid_t next_stop(int *st, long long spin_ns) {
    long long start = spin_ns > 0 ? now_ns() : 0;
    while (spin_ns > 0) {
        pid_t pid = waitpid(-1, st, __WALL | WNOHANG);
        if (pid != 0)
            return pid;
        if (now_ns() - start >= spin_ns)
            break;
    }
    return waitpid(-1, st, __WALL);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: floor_tracer COMMAND [ARGS...]\n");
        return 2;
    }
    const char *e = getenv("FLOOR_EXIT");
    int stop_at_exit = !(e && strcmp(e, "0") == 0);
    const char *spin = getenv("FLOOR_SPIN_US");
    long long spin_ns = (spin ? atoll(spin) : 50) * 1000;
    pid_t child = fork();
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        install_filter();
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    int st;
    waitpid(child, &st, 0);
    ptrace(PTRACE_SETOPTIONS, child, 0,
           PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK |
               PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    ptrace(PTRACE_CONT, child, 0, 0);
    int code = 0;
    struct __ptrace_syscall_info info;
    siginfo_t si;
    for (;;) {
        pid_t pid = next_stop(&st, spin_ns);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            if (pid == child)
                code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            continue;
        }
        int sig = WSTOPSIG(st), ev = st >> 16;
        if (ev == PTRACE_EVENT_SECCOMP) {
            ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info);
            ptrace(stop_at_exit ? PTRACE_SYSCALL : PTRACE_CONT, pid, 0, 0);
        } else if (sig == (SIGTRAP | 0x80)) {
            ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info);
            ptrace(PTRACE_CONT, pid, 0, 0);
        } else if (ev) {
            ptrace(PTRACE_CONT, pid, 0, 0);
        } else if (sig == SIGSTOP && ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0 && si.si_code == SI_USER &&
                   si.si_pid == 0) {
            /* A new child's first stop (auto-attached with SIGSTOP). */
            ptrace(PTRACE_CONT, pid, 0, 0);
        } else {
            ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
            ptrace(PTRACE_CONT, pid, 0, sig);
        }
    }
    return code;
}
