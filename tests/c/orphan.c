/* Makes an orphaned stopped process group: the child moves to a group of its own and stops;
 * the parent, the group's last parent in the session outside it, then exits. The kernel
 * sends the group SIGHUP and SIGCONT; the child dies of the SIGHUP. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        raise(SIGSTOP);
        for (;;)
            pause();
    }
    setpgid(child, child);
    int st;
    waitpid(child, &st, WUNTRACED);
    return 0;
}
