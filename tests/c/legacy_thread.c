/* A thread made by a raw clone(CLONE_THREAD|...|SIGCHLD): ptrace reports it as a fork (the
 * event follows the exit signal), yet it is a thread of this process. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
static volatile int done;
static int thread_main(void *arg) {
    (void)arg;
    done = 1;
    syscall(SYS_exit, 0);
    return 0;
}
int main(void) {
    size_t size = 64 * 1024;
    char *stack = malloc(size);
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    if (clone(thread_main, stack + size, flags | SIGCHLD, NULL) < 0)
        return 2;
    while (!done)
        sched_yield();
    return 0;
}
