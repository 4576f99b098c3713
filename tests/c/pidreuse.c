/* Two children with the same pid, one after the other: the first sends its parent SIGUSR1 and
 * exits 1; the second, made with clone3's set_tid (CAP_SYS_ADMIN), execs "pidreuse second",
 * sends SIGUSR2 and exits 2. Prints the pid, or "unsupported" when set_tid is refused. The
 * parent takes each signal in sigsuspend and never sees SIGCHLD, so its lines do not depend
 * on timing. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void on_signal(int sig) { (void)sig; }
static void child(int sig, int code) {
    kill(getppid(), sig);
    _exit(code);
}
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "second") == 0)
        child(SIGUSR2, 2);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t blocked, wait_one;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGCHLD);
    sigaddset(&blocked, SIGUSR1);
    sigaddset(&blocked, SIGUSR2);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    int status;
    pid_t first = fork();
    if (first == 0)
        child(SIGUSR1, 1);
    sigfillset(&wait_one);
    sigdelset(&wait_one, SIGUSR1);
    sigsuspend(&wait_one);
    waitpid(first, &status, 0);
    pid_t tid = first;
    struct clone_args args = {0};
    args.exit_signal = SIGCHLD;
    args.set_tid = (uintptr_t)&tid;
    args.set_tid_size = 1;
    long second = syscall(SYS_clone3, &args, sizeof args);
    if (second == 0) {
        execl("/proc/self/exe", "pidreuse", "second", (char *)NULL);
        _exit(127);
    }
    if (second < 0) {
        printf("unsupported\n");
        return 0;
    }
    sigfillset(&wait_one);
    sigdelset(&wait_one, SIGUSR2);
    sigsuspend(&wait_one);
    waitpid(second, &status, 0);
    printf("%d\n", (int)second);
    return 0;
}
