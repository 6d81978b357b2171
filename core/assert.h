/*
 * assert.h - fatal invariant checks.
 *
 * rill_throw() prints "rill: fatal: <what>" with the goroutine id and a backtrace, then
 * aborts; it is never compiled out (GO proc.go throw). rill_assert() is the same with the
 * expression as the message. rill_dassert() is compiled only with -DRILL_DEBUG, for checks
 * too costly for release builds.
 */
#ifndef RILL_CORE_ASSERT_H
#define RILL_CORE_ASSERT_H

__attribute__((noreturn, cold, format(printf, 1, 2))) void rilli_throw(const char *fmt, ...);
#define rill_throw(...) rilli_throw(__VA_ARGS__)

#define rill_assert(cond)                                                                          \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            rilli_throw("%s:%d: invariant broken: %s", __FILE__, __LINE__, #cond);                \
    } while (0)

#if defined(RILL_DEBUG) && RILL_DEBUG
#define rill_dassert(cond) rill_assert(cond)
#else
#define rill_dassert(cond) ((void)0)
#endif

#endif
