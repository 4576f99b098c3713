/* A second thread calls exit(4) two calls deep while the main thread waits in pthread_join. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) void leave(void) { exit(4); }
__attribute__((noinline)) void *worker(void *a) {
    (void)a;
    leave();
    return 0;
}

int main(void) {
    char c;
    pthread_t t;
    if (read(0, &c, 1) < 0) return 1;
    pthread_create(&t, 0, worker, 0);
    pthread_join(t, 0);
    return 0;
}
