/* Forks a child that sends SIGTERM to its parent, which waits for it in pause(). */
#include <signal.h>
#include <unistd.h>
int main(void) {
    pid_t parent = getpid();
    if (fork() == 0) {
        kill(parent, SIGTERM);
        _exit(0);
    }
    for (;;)
        pause();
}
