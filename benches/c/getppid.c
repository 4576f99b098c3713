/* Workload (a): argv[1] (default 2,000,000) getppid system calls. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    return 0;
}
