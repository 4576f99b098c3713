/* Workload (a): argv[1] (default 2,000,000) getppid system calls. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "workload_time.h"
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    workload_start();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    workload_end();
    return 0;
}
