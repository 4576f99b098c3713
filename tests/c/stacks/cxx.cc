// A C++ program whose exit(6) is called from a namespaced template function and a method.
#include <csignal>
#include <cstdlib>
#include <unistd.h>

namespace app {
template <typename T> __attribute__((noinline)) void stop(T code) { std::exit(static_cast<int>(code)); }
struct Server {
    __attribute__((noinline)) void shutdown(int how) { ::kill(getpid(), SIGUSR2); stop<long>(how); }
};
}

int main() {
    char c;
    if (read(0, &c, 1) < 0) return 1;
    std::signal(SIGUSR2, SIG_IGN);
    app::Server s;
    s.shutdown(6);
}
