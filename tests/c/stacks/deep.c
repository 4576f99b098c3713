/* Recursion 300 calls deep before exit(2): the stack is cut at 256 frames, as in strace. */
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) int down(int n) { if (n == 0) exit(2); return down(n - 1) + 1; }
int main(void) {
    char c;
    if (read(0, &c, 1) < 0) return 1;
    return down(300);
}
