/* Signals itself as fast as it can until SIGUSR2 arrives: SIGUSR1 with raise(), then eight
 * queued SIGRTMIN+4 released at once by unblocking them. Prints how many of each it sent and
 * its handlers counted ("sent1 handled1 sentrt handledrt"); exits 0 only if none was lost. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile sig_atomic_t handled, handled_rt, done;
static void on_usr1(int sig) { (void)sig; handled++; }
static void on_rt(int sig) { (void)sig; handled_rt++; }
static void on_usr2(int sig) { (void)sig; done = 1; }
int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_rt;
    sigaction(SIGRTMIN + 4, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 4);
    long sent = 0, sent_rt = 0;
    pid_t me = getpid();
    while (!done) {
        raise(SIGUSR1);
        sent++;
        sigprocmask(SIG_BLOCK, &rt, NULL);
        for (int i = 0; i < 8; i++)
            if (sigqueue(me, SIGRTMIN + 4, (union sigval){.sival_int = i}) == 0)
                sent_rt++;
        sigprocmask(SIG_UNBLOCK, &rt, NULL);
    }
    printf("%ld %ld %ld %ld\n", sent, (long)handled, sent_rt, (long)handled_rt);
    return sent == handled && sent_rt == handled_rt ? 0 : 1;
}
