/* Sends itself SIGUSR1 as fast as it can until SIGUSR2 arrives; then prints how many it sent
 * and how many its handler counted, and exits 0 only if they are equal. */
#include <signal.h>
#include <stdio.h>
static volatile sig_atomic_t handled, done;
static void on_usr1(int sig) { (void)sig; handled++; }
static void on_usr2(int sig) { (void)sig; done = 1; }
int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    long sent = 0;
    while (!done) {
        raise(SIGUSR1);
        sent++;
    }
    printf("%ld %ld\n", sent, (long)handled);
    return sent == handled ? 0 : 1;
}
