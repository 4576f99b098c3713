/* Thread A waits in rt_sigtimedwait; thread B, once A is inside it (read from
 * /proc/self/task/A/syscall), signals A with tgkill: A's syscall line is split by B's. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t a_tid;

static int in_sigtimedwait(pid_t tid) {
    char path[64], buf[64] = {0};
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return atoi(buf) == SYS_rt_sigtimedwait;
}

static void *b(void *arg) {
    (void)arg;
    while (!in_sigtimedwait(a_tid))
        usleep(1000);
    syscall(SYS_tgkill, getpid(), a_tid, SIGUSR1);
    return NULL;
}

int main(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    a_tid = gettid();
    pthread_t t;
    pthread_create(&t, NULL, b, NULL);
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    pthread_join(t, NULL);
    return sig == SIGUSR1 ? 0 : 1;
}
