/* Memory workload: argv[1] (default 2000) threads, each sent SIGUSR1 (handled) argv[2] (default
 * 1) times by the main thread with pthread_kill, one signal handled before the next; exits 0. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
static volatile sig_atomic_t handled;
static void on_usr1(int sig) { (void)sig; handled++; }
static void *worker(void *arg) {
    (void)arg;
    for (;;)
        pause();
}
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    int rounds = argc > 2 ? atoi(argv[2]) : 1;
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t *t = calloc(n, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], &attr, worker, NULL))
            return 2;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            sig_atomic_t before = handled;
            pthread_kill(t[i], SIGUSR1);
            while (handled == before)
                usleep(10);
        }
    return 0;
}
