/* Ignores SIGUSR1, sends it to itself, and exits 0. */
#include <signal.h>
int main(void) {
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    return 0;
}
