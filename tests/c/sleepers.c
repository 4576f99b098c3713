/* Forks argv[1] children that sleep in pause() until killed, all in this process group; prints
 * "ready" once every one exists, then waits for them. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10;
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) {
            perror("fork");
            return 1;
        }
        if (p == 0)
            for (;;)
                pause();
    }
    printf("ready\n");
    fflush(stdout);
    while (wait(NULL) > 0) {
    }
    return 0;
}
