/* A SIGTERM handler calls a function that calls exit(3): its stack runs through the signal frame. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) void shutdown_now(void) { exit(3); }
__attribute__((noinline)) void on_term(int s) { (void)s; shutdown_now(); }

int main(void) {
    char c;
    if (read(0, &c, 1) < 0) return 1; /* the test's tracer seizes us while we wait here */
    signal(SIGTERM, on_term);
    kill(getpid(), SIGTERM);
    return 0;
}
