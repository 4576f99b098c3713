/* Writes to an unmapped address. */
int main(void) { *(volatile int *)0x10 = 1; return 0; }
