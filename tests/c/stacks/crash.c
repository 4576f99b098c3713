/* A NULL write two calls deep: the SIGSEGV's stack names the faulting function. */
#include <unistd.h>

__attribute__((noinline)) void poke(volatile int *p) { *p = 1; }
__attribute__((noinline)) void deeper(volatile int *p) { poke(p); __asm__ volatile(""); }

int main(void) {
    char c;
    if (read(0, &c, 1) < 0) return 1;
    deeper((volatile int *)0);
    return 0;
}
