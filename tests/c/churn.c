/* Creates and joins argv[1] (default 2000) short-lived threads, one after another, then lets
 * the main thread exit first (pthread_exit) while a last thread exits the process with 3. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
static void *quick(void *arg) { return arg; }
static void *last(void *arg) {
    (void)arg;
    usleep(20000);
    exit(3);
}
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, quick, NULL))
            return 2;
        pthread_join(t, NULL);
    }
    pthread_t t;
    pthread_create(&t, NULL, last, NULL);
    pthread_exit(NULL);
}
