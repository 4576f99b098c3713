/* "usr1": exits 3 inside its SIGUSR1 handler. "abrt": a pre-fork worker: its SIGABRT handler
 * sets a flag, and the main loop exits 1 after the handler returned. */
#include <signal.h>
#include <string.h>
#include <unistd.h>
static volatile sig_atomic_t got;
static void on_usr1(int sig) { (void)sig; _exit(3); }
static void on_abrt(int sig) { got = sig; }
int main(int argc, char **argv) {
    struct sigaction sa = {0};
    int usr1 = argc > 1 && strcmp(argv[1], "usr1") == 0;
    sa.sa_handler = usr1 ? on_usr1 : on_abrt;
    sigaction(usr1 ? SIGUSR1 : SIGABRT, &sa, NULL);
    while (!got)
        pause();
    usleep(20000);
    _exit(1);
}
