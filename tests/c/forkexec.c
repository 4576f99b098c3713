/* Forks a child that execs sh -c 'exit 4', then vforks one that execs sh -c 'kill -USR2 $$'; waits for both. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    pid_t a = fork();
    if (a == 0) {
        execl("/bin/sh", "sh", "-c", "exit 4", (char *)NULL);
        _exit(127);
    }
    waitpid(a, NULL, 0);
    pid_t b = vfork();
    if (b == 0) {
        execl("/bin/sh", "sh", "-c", "kill -USR2 $$", (char *)NULL);
        _exit(127);
    }
    waitpid(b, NULL, 0);
    return 0;
}
