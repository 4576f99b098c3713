/* Counts SIGINTs; on SIGUSR2 prints the count and exits 0. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile sig_atomic_t count, done;
static void on_int(int sig) { (void)sig; count++; }
static void on_usr2(int sig) { (void)sig; done = 1; }
int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_int;
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    while (!done)
        pause();
    printf("%d\n", (int)count);
    return 0;
}
