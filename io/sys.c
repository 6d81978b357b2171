/*
 * sys.c - raw system calls that libc does not wrap (STYLE.md: sys_* live only here).
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "io/io.h"

/* Wait while *addr == val, at most timeout_ns (-1: no limit). 0, -EAGAIN, -ETIMEDOUT,
 * -EINTR. */
int rilli_sys_futex_wait(uint32_t *addr, uint32_t val, int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000LL;
        ts.tv_nsec = timeout_ns % 1000000000LL;
        tsp = &ts;
    }
    long r = syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
    return r < 0 ? -errno : 0;
}

int rilli_sys_futex_wake(uint32_t *addr, int n)
{
    long r = syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
    return r < 0 ? -errno : (int)r;
}
