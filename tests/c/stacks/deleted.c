/* Removes its own binary, then exits two calls deep: the frames must still be named. */
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) void finish(void) { exit(5); }
__attribute__((noinline)) void after_unlink(const char *self) {
    unlink(self);
    finish();
}

int main(int argc, char **argv) {
    char c;
    (void)argc;
    if (read(0, &c, 1) < 0) return 1;
    after_unlink(argv[0]);
    return 0;
}
