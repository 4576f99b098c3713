/* Reads the clock in a loop (in the vDSO) while a 1 ms interval timer sends SIGALRM 40 times. */
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;
static void on_alarm(int s) { (void)s; ticks++; }

__attribute__((noinline)) void spin(void) {
    struct timespec t;
    while (ticks < 40) clock_gettime(CLOCK_MONOTONIC, &t);
}

int main(void) {
    char c;
    struct itimerval every = {{0, 1000}, {0, 1000}};
    if (read(0, &c, 1) < 0) return 1;
    signal(SIGALRM, on_alarm);
    setitimer(ITIMER_REAL, &every, 0);
    spin();
    exit(0);
}
