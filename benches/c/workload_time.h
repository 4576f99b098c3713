/* A workload's own time: with WORKLOAD_TIME_FILE set, workload_end() appends the microseconds
 * since workload_start() to that file, so that a benchmark compares the program's own run,
 * without a tracer's start-up and exit (measured on their own). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static struct timespec workload_started;

static void workload_start(void) { clock_gettime(CLOCK_MONOTONIC, &workload_started); }

static void workload_end(void) {
    const char *path = getenv("WORKLOAD_TIME_FILE");
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f)
        return;
    fprintf(f, "%lld\n", (long long)(now.tv_sec - workload_started.tv_sec) * 1000000 +
                             (now.tv_nsec - workload_started.tv_nsec) / 1000);
    fclose(f);
}
