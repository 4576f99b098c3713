/* Waits for signals: "sleep" blocks in pause(), "spin" burns CPU. Counts SIGUSR1; on SIGUSR2
 * prints the count and exits 0. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static volatile sig_atomic_t count, done;
static void on_usr1(int sig) { (void)sig; count++; }
static void on_usr2(int sig) { (void)sig; done = 1; }
int main(int argc, char **argv) {
    int spin = argc > 1 && strcmp(argv[1], "spin") == 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    while (!done) {
        if (!spin)
            pause();
    }
    printf("%d\n", (int)count);
    return 0;
}
