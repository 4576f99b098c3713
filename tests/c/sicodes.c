/* Takes one signal of every si_code family in turn, each handled: the lines must be strace's. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <mqueue.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf back;
static volatile sig_atomic_t got;

static void on(int sig, siginfo_t *si, void *ctx) {
    (void)si; (void)ctx;
    got = sig;
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGSYS)
        siglongjmp(back, 1);
}

static void handle(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(sig, &sa, 0);
}

/* Waits until `sig` was handled (it comes asynchronously; a second standard signal that came
 * before the first was handled would merge with it). */
static void await(int sig) {
    while (got != sig) usleep(100);
    got = 0;
}

static void faults(void) {
    if (!sigsetjmp(back, 1)) *(volatile int *)0x10 = 1;                    /* SEGV_MAPERR */
    char *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!sigsetjmp(back, 1)) *(volatile char *)ro = 1;                      /* SEGV_ACCERR */
    FILE *f = tmpfile();
    char *map = mmap(0, 4096, PROT_READ, MAP_SHARED, fileno(f), 0);
    if (!sigsetjmp(back, 1)) (void)*(volatile char *)map;                   /* BUS_ADRERR */
    volatile int zero = 0, one = 1;
    if (!sigsetjmp(back, 1)) one = one / zero;                              /* FPE_INTDIV */
    if (!sigsetjmp(back, 1)) __asm__ volatile("ud2");                       /* ILL_ILLOPN */
    __asm__ volatile("int3");                                               /* SI_KERNEL */
}

static void queued(void) {
    kill(getpid(), SIGUSR1);                                                /* SI_USER */
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);                       /* SI_TKILL */
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 42});           /* SI_QUEUE */
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_ptr = (void *)0x1234});
    int pidfd = syscall(SYS_pidfd_open, getpid(), 0);
    syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0);
    close(pidfd);
}

static void timer_and_mq(void) {
    timer_t t;
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    ev.sigev_value.sival_int = 7;
    timer_create(CLOCK_MONOTONIC, &ev, &t);
    struct itimerspec its = {.it_value = {.tv_nsec = 1000000}};
    got = 0;
    timer_settime(t, 0, &its, 0);
    await(SIGALRM);                                                                /* SI_TIMER */
    mqd_t q = mq_open("/sigtrace-sicodes", O_CREAT | O_RDWR, 0600, 0);
    mq_unlink("/sigtrace-sicodes");
    if (q != (mqd_t)-1) {
        struct sigevent n = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
        n.sigev_value.sival_int = 9;
        mq_notify(q, &n);
        mq_send(q, "x", 1, 0);
        await(SIGUSR2);                                                            /* SI_MESGQ */
    }
}

static void poll_in(void) {
    int p[2];
    pipe(p);
    fcntl(p[0], F_SETOWN, getpid());
    fcntl(p[0], F_SETSIG, SIGIO);
    fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);
    write(p[1], "x", 1);
    await(SIGIO);                                                                /* POLL_IN */
}

static void children(void) {
    got = 0;
    pid_t c = fork();
    if (c == 0) { raise(SIGSTOP); pause(); _exit(0); }
    int st;
    waitpid(c, &st, WUNTRACED);
    await(SIGCHLD);                                                         /* CLD_STOPPED */
    kill(c, SIGCONT);
    waitpid(c, &st, WCONTINUED);
    await(SIGCHLD);                                                         /* CLD_CONTINUED */
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    await(SIGCHLD);                                                         /* CLD_KILLED */
    if ((c = fork()) == 0) _exit(3);
    waitpid(c, &st, 0);
    await(SIGCHLD);                                                         /* CLD_EXITED */
    if ((c = fork()) == 0) {
        struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY};
        setrlimit(RLIMIT_CORE, &r);
        signal(SIGQUIT, SIG_DFL);
        raise(SIGQUIT);
        _exit(1);
    }
    waitpid(c, &st, 0);
    await(SIGCHLD);                                                         /* CLD_DUMPED */
}

static void seccomp_trap(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getcpu, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 5),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) return;
    if (!sigsetjmp(back, 1)) syscall(SYS_getcpu, 0, 0, 0);                  /* SYS_SECCOMP */
}

int main(void) {
    int sigs[] = {SIGUSR1, SIGUSR2, SIGALRM, SIGIO, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
                  SIGCHLD, SIGSYS};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) handle(sigs[i]);
    queued();
    timer_and_mq();
    poll_in();
    faults();
    children();
    seccomp_trap();
    return 0;
}
