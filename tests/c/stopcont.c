/* Stops itself with SIGSTOP; once continued, exits 0. */
#include <signal.h>
int main(void) {
    raise(SIGSTOP);
    return 0;
}
