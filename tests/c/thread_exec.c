/* Three threads sleep; a fourth execs "/bin/sh -c 'exit 6'" once all have started. */
#include <pthread.h>
#include <unistd.h>
static pthread_barrier_t ready;
static void *sleeper(void *arg) {
    (void)arg;
    pthread_barrier_wait(&ready);
    for (;;)
        pause();
}
static void *execer(void *arg) {
    (void)arg;
    pthread_barrier_wait(&ready);
    execl("/bin/sh", "sh", "-c", "exit 6", (char *)NULL);
    return NULL;
}
int main(void) {
    pthread_t t;
    pthread_barrier_init(&ready, NULL, 5);
    for (int i = 0; i < 3; i++)
        pthread_create(&t, NULL, sleeper, NULL);
    pthread_create(&t, NULL, execer, NULL);
    pthread_barrier_wait(&ready);
    for (;;)
        pause();
}
