/* Catches SIGTERM, then exits 143 by itself, as a JVM's shutdown hooks do. */
#include <signal.h>
#include <unistd.h>
static volatile sig_atomic_t got;
static void on_term(int sig) { got = sig; }
int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    while (!got)
        pause();
    _exit(128 + got);
}
