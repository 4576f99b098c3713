/* A fork bomb bounded by argv[1]: every process forks as fast as it can until a shared budget of
 * forks is spent (or fork fails), then exits 0. The first process waits until all the others
 * have ended and prints how many forks succeeded. */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
struct shared {
    atomic_long budget, forks, alive;
};
int main(int argc, char **argv) {
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        return 2;
    atomic_store(&s->budget, argc > 1 ? atol(argv[1]) : 1000);
    atomic_store(&s->alive, 1);
    pid_t first = getpid();
    while (atomic_fetch_sub(&s->budget, 1) > 0) {
        atomic_fetch_add(&s->alive, 1);
        pid_t p = fork();
        if (p < 0) {
            atomic_fetch_sub(&s->alive, 1);
            break;
        }
        if (p > 0)
            atomic_fetch_add(&s->forks, 1);
    }
    if (getpid() != first) {
        atomic_fetch_sub(&s->alive, 1);
        _exit(0);
    }
    while (atomic_load(&s->alive) > 1)
        usleep(1000);
    printf("%ld\n", atomic_load(&s->forks));
    return 0;
}
