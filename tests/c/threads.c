/* Starts 4 threads. "exit": a thread calls exit(5). "wait": all wait for a signal. */
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
    pthread_t t[4];
    pthread_barrier_init(&ready, NULL, 5);
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    pthread_barrier_wait(&ready);
    for (;;)
        pause();
}
