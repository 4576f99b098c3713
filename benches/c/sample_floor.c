/* The floor under the record mode: runs argv[2..] with the kernel sampling signal_generate
 * (MODE "gen") or signal_generate and signal_deliver ("both") on every CPU into perf rings,
 * as sigtrace --no-ptrace can open them (tid, time, raw record, event id; CLOCK_MONOTONIC; no
 * SIGCHLD), a thread emptying the rings every 20 ms without reading them, and nothing else.
 * "instance" records both events in a tracefs instance as sigtrace --no-ptrace makes it
 * (mono clock, no overwrite, no SIGCHLD), a thread reading every CPU's trace_pipe_raw pages
 * every 20 ms and doing nothing with them. "none" opens nothing. Prints the command's wall time in microseconds, from its fork to its
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
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

static int pipes[256];
static char instance[256];

static void put(const char *file, const char *value) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", instance, file);
    FILE *f = fopen(path, "w");
    if (!f || fputs(value, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "sample_floor: %s: cannot write\n", path);
        exit(1);
    }
}

static void open_instance(void) {
    snprintf(instance, sizeof instance, "/sys/kernel/tracing/instances/sample_floor-%d", getpid());
    if (mkdir(instance, 0700) < 0) {
        perror("sample_floor: mkdir instance");
        exit(1);
    }
    put("trace_clock", "mono");
    put("options/overwrite", "0");
    put("events/signal/signal_generate/filter", "sig != 17");
    put("events/signal/signal_deliver/filter", "sig != 17");
    put("events/signal/signal_generate/enable", "1");
    put("events/signal/signal_deliver/enable", "1");
    for (int c = 0; c < ncpu && c < 256; c++) {
        char path[512];
        snprintf(path, sizeof path, "%s/per_cpu/cpu%d/trace_pipe_raw", instance, c);
        pipes[c] = open(path, O_RDONLY | O_NONBLOCK);
        if (pipes[c] < 0) {
            perror("sample_floor: trace_pipe_raw");
            exit(1);
        }
    }
}

static void *read_pipes(void *unused) {
    (void)unused;
    char page[65536];
    while (!stop) {
        usleep(20000);
        for (int c = 0; c < ncpu && c < 256; c++)
            while (read(pipes[c], page, sizeof page) > 0)
                ;
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
        fprintf(stderr, "usage: sample_floor none|gen|both|instance COMMAND...\n");
        return 2;
    }
    const char *mode = argv[1];
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    long page = sysconf(_SC_PAGESIZE);
    int in_instance = strcmp(mode, "instance") == 0;
    if (in_instance)
        open_instance();
    else if (strcmp(mode, "none") != 0) {
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
    pthread_create(&t, 0, in_instance ? read_pipes : empty_rings, 0);
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
    if (in_instance) {
        for (int c = 0; c < ncpu && c < 256; c++)
            close(pipes[c]);
        rmdir(instance);
    }
    fprintf(stderr, "%lld\n", took);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
