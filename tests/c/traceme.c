/* A child asks to be traced (PTRACE_TRACEME), as a debugger's child does, then stops; the
 * parent traces it to its end. Exits 0 when all of it worked, else prints what failed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    pid_t pid = fork();
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) {
            printf("PTRACE_TRACEME: %s\n", strerror(errno));
            _exit(1);
        }
        raise(SIGSTOP);
        _exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
        printf("no stop: %#x\n", status);
        return 1;
    }
    if (ptrace(PTRACE_CONT, pid, 0, 0) != 0) {
        printf("PTRACE_CONT: %s\n", strerror(errno));
        return 1;
    }
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("child ended with %#x\n", status);
        return 1;
    }
    printf("traced\n");
    return 0;
}
