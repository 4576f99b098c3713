/* The cost floor of any seccomp filter: argv[1] (default 2,000,000) getppid calls under a
 * one-instruction RET_ALLOW filter, no tracer. With argv[2] "none", without the filter. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (!(argc > 2 && strcmp(argv[2], "none") == 0)) {
        struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
        struct sock_fprog prog = {1, allow};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
            return 2;
    }
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    return 0;
}
