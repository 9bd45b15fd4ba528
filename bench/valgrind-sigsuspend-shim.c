/* Valgrind 3.19 writes into the mask given to sigsuspend; libdispatch passes
   one in read-only memory, and valgrind then crashes. Hand it a copy. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
