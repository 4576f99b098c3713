/* Sends argv[1] a SIGTERM from a thread made at its start, once a line comes on stdin; the
 * thread exits at once, and the process waits to be killed: a sender thread older than the
 * tracer, gone before its record is read. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static pid_t victim;
static void *sender(void *unused) {
    char line[16];
    (void)unused;
    if (read(0, line, sizeof line) > 0)
        kill(victim, SIGTERM);
    return NULL;
}
int main(int argc, char **argv) {
    victim = argc > 1 ? atoi(argv[1]) : 0;
    pthread_t t;
    pthread_create(&t, NULL, sender, NULL);
    pthread_join(t, NULL);
    for (;;)
        pause();
}
