/* Makes a child with clone(CLONE_UNTRACED) (argv[1] "clone", raw syscall) or clone3 (argv[1]
 * "clone3"), as LeakSanitizer does; the child blocks a signal, probes itself with kill(pid, 0)
 * and ends with exit_group(42), all raw syscalls. Prints the child's status; exits 0 only if
 * every call worked. */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void child(void) {
    uint64_t set = 1ULL << (SIGUSR1 - 1);
    if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8) != 0)
        syscall(SYS_exit_group, 10);
    if (syscall(SYS_kill, syscall(SYS_getpid), 0) != 0)
        syscall(SYS_exit_group, 11);
    syscall(SYS_exit_group, 42);
    /* exit_group failed: say so (kill may fail too; then the fault says it). */
    *(volatile int *)0 = 0;
}
int main(int argc, char **argv) {
    long pid;
    if (argc > 1 && strcmp(argv[1], "clone3") == 0) {
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = CLONE_UNTRACED;
        args.exit_signal = SIGCHLD;
        pid = syscall(SYS_clone3, &args, sizeof args);
    } else {
        pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
    }
    if (pid < 0) {
        perror("clone");
        return 2;
    }
    if (pid == 0)
        child();
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 2;
    }
    if (WIFEXITED(status))
        printf("exited %d\n", WEXITSTATUS(status));
    else
        printf("killed %d\n", WTERMSIG(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 42 ? 0 : 1;
}
