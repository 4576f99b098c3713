/* Flag arguments with no known flag in them, which strace shows as a number and a
 * comment naming the flag family (SA_???, SFD_???, W???, AT_???, SS_???). */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
/* The kernel's struct sigaction (x86_64). */
struct ksa { void *h; unsigned long flags; void *r; unsigned long mask; };
int main(void) {
    struct ksa a; memset(&a, 0, sizeof a); a.flags = 0x400;
    syscall(SYS_rt_sigaction, SIGUSR1, &a, NULL, 8);
    a.flags = 0x10000;
    syscall(SYS_rt_sigaction, SIGUSR1, &a, NULL, 8);
    unsigned long m = 0;
    syscall(SYS_signalfd4, -1, &m, 8, 1);
    syscall(SYS_wait4, -1, NULL, 0x10, NULL);
    syscall(SYS_execveat, -1, "", NULL, NULL, 0x4);
    stack_t ss = { .ss_sp = 0, .ss_flags = 0x10, .ss_size = 0 };
    syscall(SYS_sigaltstack, &ss, NULL);
    return 0;
}
