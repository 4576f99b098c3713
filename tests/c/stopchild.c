/* A child stops itself; its parent sees it stopped, sends SIGCONT, and reaps it when it exits 3. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    pid_t c = fork();
    if (c == 0) { raise(SIGSTOP); _exit(3); }
    int st; waitpid(c, &st, WUNTRACED);
    kill(c, SIGCONT);
    waitpid(c, &st, 0);
    return 0;
}
