/* Forks a child that waits in pause(), then sends it SIGTERM from send_term(): the child's
   verdict names the kill() call, whose stack shows send_term. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) void send_term(pid_t p) { kill(p, SIGTERM); }

int main(void) {
    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    usleep(100000);
    send_term(c);
    waitpid(c, 0, 0);
    return 0;
}
