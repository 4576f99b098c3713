/* Prints between its signals and syscalls: a line before and after each kill(getpid(),
 * SIGUSR1), one from the handler; with an argument N, also N children that do the same. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *what) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "<<%s>>\n", what);
    write(1, buf, n);
}

static void handler(int sig) {
    (void)sig;
    say("H");
}

static void rounds(void) {
    for (int i = 0; i < 3; i++) {
        say("A");
        kill(getpid(), SIGUSR1);
        say("B");
    }
}

int main(int argc, char **argv) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    rounds();
    int children = argc > 1 ? atoi(argv[1]) : 0;
    for (int c = 0; c < children; c++) {
        if (fork() == 0) {
            rounds();
            _exit(0);
        }
        say("C");
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
