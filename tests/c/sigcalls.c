/* Makes every signal syscall sigtrace decodes, with valid and invalid arguments (bad pids,
 * bad signal numbers, odd set sizes, NULL and unmapped pointers), deterministically. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_sig(int sig) { got = sig; }
static void on_info(int sig, siginfo_t *si, void *uc) { (void)si; (void)uc; got = sig; }
static int handled_fd = -1;
static void on_restart(int sig) { got = sig; write(handled_fd, "h", 1); }

/* Whether `pid` sleeps (state S in /proc/PID/stat, after the last ')'). */
static int sleeping(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *close_paren = strrchr(buf, ')');
    return close_paren && close_paren[1] == ' ' && close_paren[2] == 'S';
}

#define BAD ((void *)1)

int main(void) {
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sig;
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGRTMIN + 3);
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sigaction(SIGUSR1, &sa, &old);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigfillset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    sigaction(SIGHUP, NULL, &old);
    syscall(SYS_rt_sigaction, 0, NULL, NULL, 8);              /* EINVAL: signal 0 */
    syscall(SYS_rt_sigaction, 65, NULL, NULL, 8);             /* EINVAL: no signal 65 */
    syscall(SYS_rt_sigaction, SIGKILL, &sa, NULL, 8);         /* EINVAL: SIGKILL */
    syscall(SYS_rt_sigaction, SIGUSR1, BAD, NULL, 8);         /* EFAULT: unmapped act */
    syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4);        /* EINVAL: set size */

    sigset_t set, oset;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, &oset);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    sigprocmask(SIG_SETMASK, &oset, &set);
    syscall(SYS_rt_sigprocmask, 7, &set, NULL, 8);            /* EINVAL: bad how */
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4);    /* EINVAL: odd size, shown as address */
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD, NULL, 8);     /* EFAULT */
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &oset, 8);

    /* A pending signal: blocked, raised, seen by rt_sigpending and taken by rt_sigtimedwait. */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGUSR1);
    syscall(SYS_rt_sigpending, &oset, 8);
    syscall(SYS_rt_sigpending, &oset, 4);
    syscall(SYS_rt_sigpending, &oset, 9);                     /* EINVAL */
    siginfo_t info;
    struct timespec ts = {1, 500};
    sigtimedwait(&set, &info, &ts);
    struct timespec zero = {0, 0};
    sigtimedwait(&set, NULL, &zero);                          /* EAGAIN */

    /* Queued signals with values, to ourselves and to nobody. */
    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), SIGUSR1, v);
    sigtimedwait(&set, &info, NULL);
    memset(&info, 0, sizeof info);
    info.si_signo = SIGUSR1;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_value.sival_int = 7;
    syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR1, &info);                /* ESRCH */
    syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(), SIGUSR1, &info);
    sigtimedwait(&set, &info, NULL);
    syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(), SIGUSR1, BAD);    /* EFAULT */

    /* kill, tkill, tgkill: signal 0, process groups, bad pids and signals. */
    kill(getpid(), 0);
    kill(-getpgrp(), 0);
    kill(999999, SIGTERM);                                    /* ESRCH */
    kill(getpid(), 99);                                       /* EINVAL */
    syscall(SYS_tkill, 999999, SIGTERM);
    syscall(SYS_tgkill, getpid(), 999999, SIGTERM);
    syscall(SYS_tgkill, -1, getpid(), SIGTERM);

    /* The alternate stack. */
    stack_t ss = {.ss_sp = malloc(SIGSTKSZ), .ss_size = SIGSTKSZ, .ss_flags = 0}, oss;
    sigaltstack(&ss, &oss);
    sigaltstack(NULL, &oss);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    ss.ss_flags = 0;
    ss.ss_size = 16;
    sigaltstack(&ss, NULL);                                   /* ENOMEM */

    /* signalfd, signalfd4, pidfd_send_signal. */
    int fd = syscall(SYS_signalfd4, -1, &set, 8, SFD_CLOEXEC | SFD_NONBLOCK);
    syscall(SYS_signalfd, fd, &set, 8);
    syscall(SYS_signalfd4, -1, &set, 4, 0);                   /* EINVAL */
    syscall(SYS_signalfd4, 12345, &set, 8, 0);                /* EBADF */
    close(fd);
    int pfd = syscall(SYS_pidfd_open, getpid(), 0);
    syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0);
    syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, NULL, 0);
    sigtimedwait(&set, &info, NULL);
    syscall(SYS_pidfd_send_signal, 12345, SIGUSR1, NULL, 0);  /* EBADF */
    syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, NULL, 3);    /* EINVAL */

    /* A handled signal: delivery, then rt_sigreturn restoring the mask. */
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGUSR1);

    /* rt_sigsuspend woken by a signal a child sends while SIGUSR1 is blocked here. */
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pid_t child = fork();
    if (child == 0) {
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    sigset_t none;
    sigemptyset(&none);
    sigaddset(&none, SIGCHLD);
    sigsuspend(&none);
    waitpid(child, NULL, 0);

    /* A read that a handled SA_RESTART signal interrupts: rt_sigreturn returns what the
     * kernel put back in rax to restart it (read's number), then the read ends (EOF).
     * SIGCHLD stays blocked: the child's end must not race the handler. */
    int data[2], handled[2];
    pipe(data);
    pipe(handled);
    handled_fd = handled[1];
    sa.sa_handler = on_restart;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    child = fork();
    if (child == 0) {
        char h;
        close(data[0]);
        while (!sleeping(getppid()))
            usleep(1000);
        kill(getppid(), SIGUSR1);
        read(handled[0], &h, 1);
        _exit(0);
    }
    close(data[1]);
    char byte;
    read(data[0], &byte, 1);
    waitpid(child, NULL, 0);

    /* Sessions and process groups. */
    setpgid(0, 0);
    setpgid(999999, 0);                                       /* ESRCH */
    setsid();                                                 /* EPERM: a group leader now */

    /* execve that fails, with long and many arguments, and execveat. */
    char *argv[40];
    argv[0] = "a-very-long-argument-that-exceeds-thirty-two-bytes";
    for (int i = 1; i < 39; i++)
        argv[i] = "x";
    argv[39] = NULL;
    char *envp[] = {"A=1", "B=2", NULL};
    execve("/nonexistent/prog", argv, envp);
    execve("/nonexistent/prog\n\"q\"", NULL, NULL);
    syscall(SYS_execveat, AT_FDCWD, "/nonexistent", argv + 30, envp, 0x1000);
    syscall(SYS_execve, BAD, BAD, BAD);
    return 0;
}
