/* Leaks one allocation and exits 0: built with -fsanitize=address, LeakSanitizer reports the
 * leak at exit (its helper is a CLONE_UNTRACED child that ptrace-attaches to this process). */
#include <stdlib.h>
#include <stdio.h>
int main(void) {
    char *p = malloc(4242);
    p[0] = 1;
    p = 0;
    printf("done\n");
    return 0;
}
