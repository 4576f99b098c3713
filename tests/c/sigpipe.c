/* Writes to a pipe whose read end is closed. */
#include <unistd.h>
int main(void) {
    int fd[2];
    if (pipe(fd)) return 2;
    close(fd[0]);
    write(fd[1], "x", 1);
    return 0;
}
