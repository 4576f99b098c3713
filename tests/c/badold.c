/* Calls that fail with an old-value pointer: strace shows the pointer, never what it points to. */
#include <signal.h>
#include <string.h>
int main(void) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa); memset(&old, 0x53, sizeof old);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGKILL, &sa, &old);
    sigset_t set; sigemptyset(&set);
    sigprocmask(99, &set, &set);
    stack_t ss; memset(&ss, 0, sizeof ss); ss.ss_flags = 99; stack_t os;
    sigaltstack(&ss, &os);
    return 0;
}
