/* An init-style supervisor (pid 1 in containers): blocks every signal, runs a child, takes
 * signals with sigtimedwait ("timed") or sigwaitinfo ("info"); on SIGTERM it stops the child
 * and exits 143. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int timed = argc > 1 && strcmp(argv[1], "timed") == 0;
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    pid_t child = fork();
    if (child == 0) {
        sigprocmask(SIG_UNBLOCK, &all, NULL);
        for (;;)
            pause();
    }
    for (;;) {
        siginfo_t si;
        struct timespec ts = {5, 0};
        int sig = timed ? sigtimedwait(&all, &si, &ts) : sigwaitinfo(&all, &si);
        if (sig == SIGTERM) {
            kill(child, SIGTERM);
            waitpid(child, NULL, 0);
            exit(143);
        }
    }
}
