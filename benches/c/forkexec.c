/* Workload (d): argv[1] (default 300) fork + exec of /bin/true, one after another. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "workload_time.h"
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 300;
    workload_start();
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        waitpid(p, NULL, 0);
    }
    workload_end();
    return 0;
}
