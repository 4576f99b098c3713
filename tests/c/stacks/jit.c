/* Calls exit_group(9) from code it wrote into anonymous memory, as a JIT would. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    /* mov $9, %edi; mov $231, %eax; syscall */
    static const unsigned char code[] = {0xbf, 9, 0, 0, 0, 0xb8, 231, 0, 0, 0, 0x0f, 0x05};
    char c;
    if (read(0, &c, 1) < 0) return 1;
    void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(p, code, sizeof code);
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
    ((void (*)(void))p)();
    return 0;
}
