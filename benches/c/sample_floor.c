/* The floor under the record mode: runs argv[2..] with the kernel sampling signal_generate
 * (MODE "gen") or signal_generate and signal_deliver ("both") on every CPU into perf rings,
 * as sigtrace --no-ptrace opens them (tid, time, raw record, event id; CLOCK_MONOTONIC; no
 * SIGCHLD), a thread emptying the rings every 20 ms without reading them, and nothing else.
 * "none" opens nothing. Prints the command's wall time in microseconds, from its fork to its
 * end, on stderr: opening and closing the events (an RCU grace period per tracepoint) are
 * not counted.
 * Needs root. */
#define _GNU_SOURCE
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGES 256
static int ncpu;
static struct perf_event_mmap_page *rings[256];
static volatile int stop;

static int tracepoint_id(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "/sys/kernel/tracing/events/signal/%s/id", name);
    FILE *f = fopen(path, "r");
    int id = -1;
    if (!f || fscanf(f, "%d", &id) != 1) {
        fprintf(stderr, "sample_floor: %s: not readable\n", path);
        exit(1);
    }
    fclose(f);
    return id;
}

static int open_sampler(int id, int cpu, int into) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_TRACEPOINT;
    a.size = sizeof a;
    a.config = id;
    a.sample_period = 1;
    a.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
    a.use_clockid = 1;
    a.clockid = CLOCK_MONOTONIC;
    int fd = syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0 || ioctl(fd, PERF_EVENT_IOC_SET_FILTER, "sig != 17") < 0 ||
        (into >= 0 && ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, into) < 0)) {
        perror("sample_floor: perf_event_open");
        exit(1);
    }
    return fd;
}

static void *empty_rings(void *unused) {
    (void)unused;
    while (!stop) {
        usleep(20000);
        for (int c = 0; c < ncpu; c++)
            if (rings[c])
                __atomic_store_n(&rings[c]->data_tail,
                                 __atomic_load_n(&rings[c]->data_head, __ATOMIC_ACQUIRE),
                                 __ATOMIC_RELEASE);
    }
    return 0;
}

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: sample_floor none|gen|both COMMAND...\n");
        return 2;
    }
    const char *mode = argv[1];
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    long page = sysconf(_SC_PAGESIZE);
    if (strcmp(mode, "none") != 0) {
        int gen = tracepoint_id("signal_generate");
        int del = strcmp(mode, "both") == 0 ? tracepoint_id("signal_deliver") : -1;
        for (int c = 0; c < ncpu && c < 256; c++) {
            int fd = open_sampler(gen, c, -1);
            rings[c] = mmap(0, (PAGES + 1) * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (rings[c] == MAP_FAILED) {
                perror("sample_floor: mmap");
                return 1;
            }
            if (del >= 0)
                open_sampler(del, c, fd);
        }
    }
    pthread_t t;
    pthread_create(&t, 0, empty_rings, 0);
    long long start = now_us();
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    long long took = now_us() - start;
    stop = 1;
    pthread_join(t, 0);
    fprintf(stderr, "%lld\n", took);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
