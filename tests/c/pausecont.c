/* A child in pause() is stopped (SIGSTOP, its parent waits WUNTRACED), continued (SIGCONT,
 * WCONTINUED), then ended with SIGTERM. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    int st;
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    kill(c, SIGCONT);
    waitpid(c, &st, WCONTINUED);
    kill(c, SIGTERM);
    waitpid(c, &st, 0);
    return 0;
}
