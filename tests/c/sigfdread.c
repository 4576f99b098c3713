/* Blocks SIGTERM and SIGINT and reads them from a signalfd, as event loops do; exits 0 on either. */
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>
int main(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, 0);
    struct signalfd_siginfo ssi;
    while (read(fd, &ssi, sizeof ssi) == sizeof ssi)
        if (ssi.ssi_signo == SIGTERM || ssi.ssi_signo == SIGINT)
            return 0;
    return 2;
}
