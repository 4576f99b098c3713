/* Reaches a resource limit it sets itself: "cpu-hard" (RLIMIT_CPU 1 s, hard), "cpu-soft"
 * (soft 1 s, hard 10 s: SIGXCPU's default ends it), "fsize" (RLIMIT_FSIZE 4096 bytes, then a
 * write past it in the file named by argv[2]). */
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "cpu-hard";
    if (strcmp(mode, "fsize") == 0) {
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        static char buf[8192];
        write(fd, buf, sizeof buf);
        write(fd, buf, sizeof buf);
        return 2;
    }
    struct rlimit rl = {1, strcmp(mode, "cpu-soft") == 0 ? 10 : 1};
    setrlimit(RLIMIT_CPU, &rl);
    for (volatile unsigned long i = 0;; i++)
        ;
}
