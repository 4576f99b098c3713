/* Catches SIGTERM; after each, writes how many so far to the file given; exits 0 after N (default 20). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static volatile sig_atomic_t count;
static void on_term(int sig) { (void)sig; count++; }
int main(int argc, char **argv) {
    int n = argc > 2 ? atoi(argv[2]) : 20, seen = 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    while (seen < n) {
        while (count == seen)
            pause();
        seen = count;
        FILE *f = fopen(argv[1], "w");
        if (f) {
            fprintf(f, "%d\n", seen);
            fclose(f);
        }
    }
    return 0;
}
