/*
 * helpers.h - assertion macros and t_ helpers shared by every rill test program.
 *
 * Each test program is one topic (tests/<module>_<topic>.c) holding a table of cases. t_main()
 * runs the cases in order (or only those named on the command line) and exits 0 (pass), 1 (fail)
 * or 77 (skip: every case that ran skipped). A failed assertion prints the expression, file:line,
 * the values involved and, for error returns, the errno name and text, then ends the process
 * at once with _exit(1).
 *
 * Why _exit and not exit or return: an assertion can fail inside a goroutine on a worker thread
 * while the runtime still runs. exit() would run atexit handlers and flush stdio under the feet of
 * the other workers, and unwinding back to rill_run() is impossible from a goroutine. _exit is the
 * one exit that cannot hang or crash on the way out.
 *
 * Other pieces:
 *   t_run()           run a body as the main goroutine, worker count from env RILL_WORKERS
 *   t_rng_*()         seeded PRNG; prints its seed, T_SEED=<n> replays a run
 *   t_env_long()      iteration counts overridable by env (and by -D at compile time)
 *   t_spawn_self()    re-exec this program in "--child <case>" mode with stdout/stderr captured,
 *                     for tests whose expected outcome is a crash or a message (stack overflow,
 *                     deadlock report): the parent asserts on the exit status and the text
 *   t_main()          runs each case in its own process: a crash or hang is reported by case name
 *                     (hang = over T_CASE_TIMEOUT seconds, default 60), and the later cases still
 *                     run, so one broken feature does not hide the state of the others
 */
#ifndef RILL_TEST_HELPERS_H
#define RILL_TEST_HELPERS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rill.h>

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

#define T_UNUSED __attribute__((unused))

/* ---------------------------------------------------------------------------------------- */
/* Sanitizer detection: some tests (stack overflow) cannot work under ASan/TSan, which catch   */
/* the fault before the runtime's own handler does.                                          */
/* ---------------------------------------------------------------------------------------- */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define T_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define T_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define T_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define T_TSAN 1
#endif
#endif
#ifndef T_TSAN
#define T_TSAN 0
#endif
#ifndef T_SANITIZER
#define T_SANITIZER 0
#endif

/* ---------------------------------------------------------------------------------------- */
/* Failure reporting                                                                         */
/* ---------------------------------------------------------------------------------------- */

/* Name of the case this process runs, for messages. Set once by t_main(). */
static const char *t_case_name T_UNUSED = "(none)";

static inline const char *t_errname(int e)
{
    switch (e < 0 ? -e : e) {
    case 0: return "0";
    case EAGAIN: return "EAGAIN";
    case EPIPE: return "EPIPE";
    case EINVAL: return "EINVAL";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EBUSY: return "EBUSY";
    case ESRCH: return "ESRCH";
    case EDEADLK: return "EDEADLK";
    case ENOMEM: return "ENOMEM";
    case ECANCELED: return "ECANCELED";
    case EINTR: return "EINTR";
    case ENOSYS: return "ENOSYS";
    default: return "E?";
    }
}

__attribute__((noreturn, format(printf, 3, 4))) static inline void t_fail_at(const char *file,
                                                                            int line,
                                                                            const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "FAIL [%s] %s:%d: %s\n", t_case_name, file, line, msg);
    fflush(stderr);
    fflush(stdout);
    _exit(T_EXIT_FAIL);
}

#define T_FAIL(...) t_fail_at(__FILE__, __LINE__, __VA_ARGS__)

/* expr must be true. */
#define T_CHECK(expr)                                                                         \
    do {                                                                                      \
        if (!(expr))                                                                          \
            T_FAIL("T_CHECK(%s) is false", #expr);                                            \
    } while (0)

/* Like T_CHECK with an explanation (printf format) of what was expected. */
#define T_CHECKF(expr, ...)                                                                   \
    do {                                                                                      \
        if (!(expr)) {                                                                        \
            char t_why_[512];                                                                 \
            snprintf(t_why_, sizeof t_why_, __VA_ARGS__);                                     \
            T_FAIL("T_CHECK(%s) is false: %s", #expr, t_why_);                                \
        }                                                                                     \
    } while (0)

/* Integer comparisons; both sides are evaluated once and printed on failure. */
#define T_CMP_(a, op, b)                                                                      \
    do {                                                                                      \
        intmax_t t_a_ = (intmax_t)(a), t_b_ = (intmax_t)(b);                                  \
        if (!(t_a_ op t_b_))                                                                  \
            T_FAIL("T_CHECK(%s %s %s) is false: %jd vs %jd", #a, #op, #b, t_a_, t_b_);        \
    } while (0)
#define T_EQ(a, b) T_CMP_(a, ==, b)
#define T_NE(a, b) T_CMP_(a, !=, b)
#define T_LT(a, b) T_CMP_(a, <, b)
#define T_LE(a, b) T_CMP_(a, <=, b)
#define T_GT(a, b) T_CMP_(a, >, b)
#define T_GE(a, b) T_CMP_(a, >=, b)

/* rc must be 0 (a rill call's success). */
#define T_OK(rc)                                                                              \
    do {                                                                                      \
        intmax_t t_rc_ = (intmax_t)(rc);                                                      \
        if (t_rc_ != 0)                                                                       \
            T_FAIL("T_OK(%s) got %jd (%s: %s)", #rc, t_rc_, t_errname((int)t_rc_),            \
                   t_rc_ < 0 ? strerror((int)-t_rc_) : "positive");                           \
    } while (0)

/* rc must be the negative errno want (e.g. -EAGAIN). */
#define T_ERR(rc, want)                                                                       \
    do {                                                                                      \
        intmax_t t_rc_ = (intmax_t)(rc), t_w_ = (intmax_t)(want);                             \
        if (t_rc_ != t_w_)                                                                    \
            T_FAIL("%s: want %jd (-%s), got %jd (%s: %s)", #rc, t_w_, t_errname((int)t_w_),   \
                   t_rc_, t_errname((int)t_rc_), t_rc_ < 0 ? strerror((int)-t_rc_) : "ok");   \
    } while (0)

/* p must not be NULL. */
#define T_NOTNULL(p)                                                                          \
    do {                                                                                      \
        if ((p) == NULL)                                                                      \
            T_FAIL("%s is NULL", #p);                                                         \
    } while (0)

/* ---------------------------------------------------------------------------------------- */
/* Time                                                                                      */
/* ---------------------------------------------------------------------------------------- */

/* CLOCK_MONOTONIC read directly, so timing checks do not trust rill_now(). */
static inline int64_t t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sleep the calling thread (not the goroutine): for foreign threads and for simulating work. */
static inline void t_thread_sleep(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Generous scheduling slack for upper bounds: CI machines are shared and sanitizers are slow. */
#define T_SLACK (T_SANITIZER ? RILL_MS(1500) : RILL_MS(200))

/* ---------------------------------------------------------------------------------------- */
/* Environment                                                                               */
/* ---------------------------------------------------------------------------------------- */

static inline long t_env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    if (s == NULL || *s == '\0')
        return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0') {
        fprintf(stderr, "bad %s=%s, using %ld\n", name, s, dflt);
        return dflt;
    }
    return v;
}

/* Worker count for t_run(): env RILL_WORKERS (the ctest matrix sets 1 and 2), else 0 (default). */
static inline int t_workers(void)
{
    return (int)t_env_long("RILL_WORKERS", 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Running a body under the runtime                                                          */
/* ---------------------------------------------------------------------------------------- */

/* Run body(arg) as the main goroutine with the matrix's worker count; rill_run must return 0. */
#define t_run(body, arg) t_run_at(__FILE__, __LINE__, (body), (arg), 0)
/* As t_run with an explicit stack size (0 = default). */
#define t_run_stack(body, arg, stack) t_run_at(__FILE__, __LINE__, (body), (arg), (stack))

static inline void t_run_at(const char *file, int line, void (*body)(void *), void *arg,
                            size_t stack_size)
{
    struct rill_config cfg = {.workers = t_workers(), .stack_size = stack_size};
    int rc = rill_run(body, arg, &cfg);
    if (rc != 0)
        t_fail_at(file, line, "rill_run(workers=%d) returned %d (%s: %s)", cfg.workers, rc,
                  t_errname(rc), rc < 0 ? strerror(-rc) : "?");
}

/* ---------------------------------------------------------------------------------------- */
/* PRNG: xorshift64*, seeded once per process from T_SEED or the clock; the seed is printed.   */
/* Not thread-safe by design: each goroutine that needs randomness takes its own state from    */
/* t_rng_split().                                                                            */
/* ---------------------------------------------------------------------------------------- */

static uint64_t t_seed T_UNUSED;

static inline uint64_t t_rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Seed once per process; prints the seed so a failing run can be replayed with T_SEED.
 * Goroutines on several workers may call it at once: the first CAS wins. */
static inline uint64_t t_rng_seed(void)
{
    uint64_t cur = __atomic_load_n(&t_seed, __ATOMIC_ACQUIRE);
    if (cur != 0)
        return cur;
    const char *s = getenv("T_SEED");
    uint64_t v = s ? strtoull(s, NULL, 0) : ((uint64_t)t_now() ^ ((uint64_t)getpid() << 32));
    if (v == 0)
        v = 1;
    if (__atomic_compare_exchange_n(&t_seed, &cur, v, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        printf("seed: %" PRIu64 " (replay with T_SEED=%" PRIu64 ")\n", v, v);
        fflush(stdout);
        return v;
    }
    return cur;
}

/* An independent stream number k derived from the process seed. */
static inline uint64_t t_rng_split(uint64_t k)
{
    uint64_t s = t_rng_seed() + (k + 1) * 0x9E3779B97F4A7C15ULL;
    return s ? s : 1;
}

/* Uniform in [0, n). */
static inline uint64_t t_rng_below(uint64_t *s, uint64_t n)
{
    return n ? t_rng_next(s) % n : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Child processes: re-exec self with "--child <case>", capture stdout and stderr.            */
/* ---------------------------------------------------------------------------------------- */

#define T_CHILD_BUF 65536

struct t_child {
    int status;        /* waitpid status */
    bool timed_out;    /* killed by us after the timeout */
    size_t out_len, err_len;
    char out[T_CHILD_BUF]; /* NUL-terminated, truncated if longer */
    char err[T_CHILD_BUF];
};

static char t_self_path[4096];

static inline void t_child_append(char *buf, size_t *len, int fd, bool *open)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN))
            *open = false;
        return;
    }
    size_t room = T_CHILD_BUF - 1 - *len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(buf + *len, tmp, take);
    *len += take;
    buf[*len] = '\0';
}

/*
 * Run this program's child-only case `name` in a fresh process (exec, not a bare fork: the
 * parent may hold runtime threads, and a forked copy of a multithreaded runtime is not a valid
 * test subject). Kills it after timeout_ms. Returns the filled *c.
 */
static inline void t_spawn_self(const char *name, int timeout_ms, struct t_child *c)
{
    int out[2], err[2];
    memset(c, 0, sizeof *c);
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        T_FAIL("pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        T_FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        char *argv[] = {t_self_path, (char *)"--child", (char *)name, NULL};
        execv(t_self_path, argv);
        _exit(126);
    }
    close(out[1]);
    close(err[1]);
    bool out_open = true, err_open = true;
    int64_t deadline = t_now() + (int64_t)timeout_ms * 1000000LL;
    while (out_open || err_open) {
        struct pollfd p[2] = {{.fd = out_open ? out[0] : -1, .events = POLLIN},
                              {.fd = err_open ? err[0] : -1, .events = POLLIN}};
        int64_t left = (deadline - t_now()) / 1000000LL;
        if (left <= 0) {
            c->timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        int n = poll(p, 2, (int)left);
        if (n < 0 && errno != EINTR)
            T_FAIL("poll: %s", strerror(errno));
        if (n <= 0)
            continue;
        if (p[0].revents)
            t_child_append(c->out, &c->out_len, out[0], &out_open);
        if (p[1].revents)
            t_child_append(c->err, &c->err_len, err[0], &err_open);
    }
    close(out[0]);
    close(err[0]);
    while (waitpid(pid, &c->status, 0) < 0 && errno == EINTR)
        ;
}

/* Print a child's result, for failure messages. */
static inline void t_child_dump(const struct t_child *c)
{
    if (c->timed_out)
        fprintf(stderr, "child: killed after timeout\n");
    else if (WIFEXITED(c->status))
        fprintf(stderr, "child: exit %d\n", WEXITSTATUS(c->status));
    else if (WIFSIGNALED(c->status))
        fprintf(stderr, "child: signal %d (%s)\n", WTERMSIG(c->status),
                strsignal(WTERMSIG(c->status)));
    fprintf(stderr, "child stdout:\n%s\nchild stderr:\n%s\n--\n", c->out, c->err);
}

/* Does text contain "goroutine <id>" followed by a non-digit (so 2 does not match 23)? */
static inline bool t_names_goroutine(const char *text, uint64_t id)
{
    char needle[64];
    int len = snprintf(needle, sizeof needle, "goroutine %" PRIu64, id);
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
        char next = p[len];
        if (next < '0' || next > '9')
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------------------------------- */
/* Case table and main                                                                        */
/* ---------------------------------------------------------------------------------------- */

struct t_case {
    const char *name;
    int (*fn)(void); /* returns T_EXIT_PASS or T_EXIT_SKIP; failures _exit(1) */
    bool child_only; /* run only via t_spawn_self(), never directly */
};

#define T_CASE(fn) {#fn, fn, false}
#define T_CHILD(fn) {#fn, fn, true}

/* Skip the current case with a reason. */
#define T_SKIP(...)                                                                           \
    do {                                                                                      \
        printf("SKIP [%s]: ", t_case_name);                                                   \
        printf(__VA_ARGS__);                                                                  \
        printf("\n");                                                                         \
        return T_EXIT_SKIP;                                                                   \
    } while (0)

/* Run case `name` in a child process (stdout/stderr inherited), kill it after timeout_ns.
 * Returns its exit code, or -signal, or -1000 when it was killed for hanging. */
static inline int t_run_case_process(const char *name, int64_t timeout_ns)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        T_FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        char *argv[] = {t_self_path, (char *)"--child", (char *)name, NULL};
        execv(t_self_path, argv);
        _exit(126);
    }
    int64_t deadline = t_now() + timeout_ns;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            T_FAIL("waitpid: %s", strerror(errno));
        if (t_now() > deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return -1000;
        }
        t_thread_sleep(RILL_MS(5));
    }
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return WEXITSTATUS(status);
}

/*
 * Normal mode: every case (or those named on the command line) runs in its own process, so a
 * failure, crash or hang in one case is reported and the next cases still run: one broken
 * feature does not hide the state of the others. The process exits 1 if any case failed, 77 if
 * every case skipped, else 0. T_CASE_TIMEOUT (seconds, default 60) bounds each case.
 * "--child <case>" mode runs one case in this process (used by the above and by t_spawn_self).
 */
static inline int t_main(int argc, char **argv, const struct t_case *cases, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", t_self_path, sizeof t_self_path - 1);
    if (len <= 0)
        snprintf(t_self_path, sizeof t_self_path, "%s", argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (argc == 3 && strcmp(argv[1], "--child") == 0) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(cases[i].name, argv[2]) == 0) {
                t_case_name = cases[i].name;
                int rc = cases[i].fn();
                fflush(stdout);
                fflush(stderr);
                _exit(rc); /* _exit: skip LSan/atexit, the runtime may have abandoned memory */
            }
        fprintf(stderr, "no case %s\n", argv[2]);
        return T_EXIT_FAIL;
    }

    int64_t case_timeout = RILL_SEC(t_env_long("T_CASE_TIMEOUT", 60));
    int ran = 0, skipped = 0, failed = 0;
    char failures[4096] = "";
    for (size_t i = 0; i < n; i++) {
        if (cases[i].child_only)
            continue;
        if (argc > 1) { /* run only the cases named on the command line */
            bool want = false;
            for (int a = 1; a < argc; a++)
                want |= strcmp(argv[a], cases[i].name) == 0;
            if (!want)
                continue;
        }
        printf("== %s\n", cases[i].name);
        int64_t t0 = t_now();
        int rc = t_run_case_process(cases[i].name, case_timeout);
        double ms = (double)(t_now() - t0) / 1e6;
        ran++;
        if (rc == T_EXIT_PASS) {
            printf("   ok %s (%.1f ms)\n", cases[i].name, ms);
            continue;
        }
        if (rc == T_EXIT_SKIP) {
            skipped++;
            printf("   skip %s\n", cases[i].name);
            continue;
        }
        failed++;
        char why[128];
        if (rc == -1000)
            snprintf(why, sizeof why, "hung, killed after %lld s",
                     (long long)(case_timeout / 1000000000LL));
        else if (rc < 0)
            snprintf(why, sizeof why, "killed by signal %d (%s)", -rc, strsignal(-rc));
        else
            snprintf(why, sizeof why, "exit %d", rc);
        printf("   FAIL %s: %s (%.1f ms)\n", cases[i].name, why, ms);
        size_t used = strlen(failures);
        snprintf(failures + used, sizeof failures - used, "  %s: %s\n", cases[i].name, why);
    }
    if (ran == 0) {
        fprintf(stderr, "no case matched\n");
        return T_EXIT_FAIL;
    }
    if (failed) {
        printf("%d of %d cases failed:\n%s", failed, ran, failures);
        return T_EXIT_FAIL;
    }
    return skipped == ran ? T_EXIT_SKIP : T_EXIT_PASS;
}

#define T_MAIN(...)                                                                           \
    int main(int argc, char **argv)                                                           \
    {                                                                                         \
        static const struct t_case t_cases_[] = {__VA_ARGS__};                                \
        return t_main(argc, argv, t_cases_, sizeof t_cases_ / sizeof t_cases_[0]);            \
    }

/* ---------------------------------------------------------------------------------------- */
/* Small shared bodies                                                                       */
/* ---------------------------------------------------------------------------------------- */

/* Spin-yield until *flag becomes nonzero, failing after timeout ns. For "wait until the other
 * goroutine has reached point X" without relying on the primitive under test. */
#define T_WAIT_UNTIL(cond, timeout_ns)                                                        \
    do {                                                                                      \
        int64_t t_end_ = t_now() + (timeout_ns);                                              \
        while (!(cond)) {                                                                     \
            if (t_now() > t_end_)                                                             \
                T_FAIL("timed out waiting for %s", #cond);                                    \
            rill_yield();                                                                     \
        }                                                                                     \
    } while (0)

#endif /* RILL_TEST_HELPERS_H */
