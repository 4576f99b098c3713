/* Sends the signal named by argv[1] (a number, default SIGTERM) to itself with kill(2). */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int sig = argc > 1 ? atoi(argv[1]) : SIGTERM;
    kill(getpid(), sig);
    return 3;
}
