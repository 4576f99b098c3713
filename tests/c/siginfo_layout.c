/* Prints siginfo_t as the kernel filled it, raw, then as glibc's accessors read it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const siginfo_t *si) {
    const unsigned char *b = (const unsigned char *)si;
    for (size_t i = 0; i < sizeof *si; i++) printf("%02x", b[i]);
    printf(" %d %d %d %u %d %d %ld %ld %d %llx %llx\n", si->si_signo, si->si_code, si->si_pid,
           si->si_uid, si->si_status, si->si_value.sival_int, (long)si->si_utime,
           (long)si->si_stime, si->si_errno, (unsigned long long)si->si_value.sival_ptr,
           (unsigned long long)si->si_addr);
    fflush(stdout);
}

static void on(int sig, siginfo_t *si, void *ctx) {
    (void)sig; (void)ctx;
    show(si);
    if (si->si_signo == SIGSEGV) _exit(0);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    sigaction(SIGCHLD, &sa, 0);
    sigaction(SIGSEGV, &sa, 0);
    union sigval v = {.sival_ptr = (void *)0x1234567890abcdefULL};
    sigqueue(getpid(), SIGUSR1, v);
    pid_t c = fork();
    if (c == 0) {
        for (volatile long i = 0; i < 30000000; i++) {}
        _exit(7);
    }
    waitpid(c, 0, WNOWAIT | __WALL);
    usleep(1000);
    waitpid(c, 0, 0);
    *(volatile int *)0x10 = 1;
    return 1;
}
