/* Waits in pause() inside sleep_forever() until a signal ends it: the stack of an attached task. */
#include <unistd.h>

__attribute__((noinline)) void sleep_forever(void) {
    for (;;) pause();
}

int main(void) {
    sleep_forever();
    return 0;
}
