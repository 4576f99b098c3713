/* A library that dlopen.c loads late: its exit is called from here. */
#include <stdlib.h>

__attribute__((noinline)) static void stk_inner(int code) { exit(code); }
void stk_leave(int code) { stk_inner(code); __asm__ volatile(""); }
