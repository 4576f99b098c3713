/* Sends itself argv[1] (default 20000) SIGUSR1, each handled before the next is sent; exits 0
 * only if the handler counted every one. With argv[2] "traced", first waits until a tracer
 * has attached. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../benches/c/workload_time.h"
static volatile sig_atomic_t count;
static void on_usr1(int sig) { (void)sig; count++; }
static int traced(void) {
    char line[256];
    int tracer = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "TracerPid: %d", &tracer) == 1)
            break;
    if (f)
        fclose(f);
    return tracer != 0;
}
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    if (argc > 2 && strcmp(argv[2], "traced") == 0)
        while (!traced())
            usleep(1000);
    workload_start();
    for (int i = 0; i < n; i++)
        raise(SIGUSR1);
    workload_end();
    printf("%d\n", (int)count);
    return count == n ? 0 : 1;
}
