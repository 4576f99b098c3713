/* Queues argv[1] (default 10000) real-time signals SIGRTMIN+2 to itself while blocked,
 * then unblocks them and exits 0 only if its handler counted every one. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static volatile sig_atomic_t count;
static void on_rt(int sig) { (void)sig; count++; }
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    int sig = SIGRTMIN + 2;
    struct sigaction sa = {0};
    sa.sa_handler = on_rt;
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int i = 0; i < n; i++) {
        union sigval v = {.sival_int = i};
        if (sigqueue(getpid(), sig, v)) { perror("sigqueue"); return 2; }
    }
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("%d\n", (int)count);
    return count == n ? 0 : 1;
}
