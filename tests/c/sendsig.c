/* sendsig SIG PID [stay]: kill(PID, SIG); with "stay", then waits to be killed (so that it
 * still exists when the signal is delivered); exits 1 if kill failed. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 3)
        return 2;
    if (kill(atoi(argv[2]), atoi(argv[1])))
        return 1;
    if (argc > 3 && strcmp(argv[3], "stay") == 0)
        for (;;)
            pause();
    return 0;
}
