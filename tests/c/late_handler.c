/* Waits, without any signal, until the file argv[1] exists; then catches SIGTERM and ignores
 * SIGUSR1, and exits 0 after its SIGTERM handler ran. */
#include <signal.h>
#include <unistd.h>
static volatile sig_atomic_t term;
static void on_term(int sig) { (void)sig; term = 1; }
int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    while (access(argv[1], F_OK) != 0)
        usleep(1000);
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGUSR1, SIG_IGN);
    while (!term)
        pause();
    return 0;
}
