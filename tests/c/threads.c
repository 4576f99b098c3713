/* Starts argv[2] (default 4) threads. "exit": a thread calls exit(5). "wait": all wait for a
 * signal. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static pthread_barrier_t ready;
static const char *mode = "exit";
static void *worker(void *arg) {
    pthread_barrier_wait(&ready);
    if ((long)arg == 2 && strcmp(mode, "exit") == 0)
        exit(5);
    for (;;)
        pause();
}
int main(int argc, char **argv) {
    if (argc > 1) mode = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 4;
    pthread_t t;
    pthread_barrier_init(&ready, NULL, n + 1);
    for (long i = 0; i < n; i++)
        pthread_create(&t, NULL, worker, (void *)i);
    pthread_barrier_wait(&ready);
    for (;;)
        pause();
}
