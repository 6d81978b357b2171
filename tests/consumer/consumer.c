/*
 * consumer.c - a C program built against an *installed* rill, never against the build tree.
 *
 * tools/test.sh (step "consumer") installs the plain build into a temporary prefix and builds this
 * file through find_package(rill) and through pkg-config rill. It proves that the installed
 * rill.h compiles on its own under strict warnings, and that the link line the package hands out
 * is complete: rill_run() pulls in the scheduler, the io_uring ring and Concurrency Kit, and
 * rill_after() the timers. Semantics are the test suite's job; this program only checks enough to
 * know the library it linked really runs.
 *
 * Exit status: 0 when every check holds, 1 otherwise; one line on stdout or stderr says which.
 */
#include <rill.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { PRODUCERS = 4, PER_PRODUCER = 1000 };

/* One producer's instructions; rill_go() copies it onto the producer's stack. */
struct producer {
    struct rill_chan *out;
    struct rill_waitgroup *wg;
    int64_t first; /* sends first .. first + PER_PRODUCER - 1 */
};

/* What the collector goroutine adds up, sent back over a channel once `in` is closed. */
struct tally {
    int64_t sum;
    int64_t count;
};

struct collector {
    struct rill_chan *in;
    struct rill_chan *done; /* carries one struct tally */
};

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "consumer_c: check failed at line %d: %s\n", __LINE__, #cond);         \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void produce(void *arg)
{
    const struct producer *p = arg;

    for (int64_t v = p->first; v < p->first + PER_PRODUCER; v++)
        if (rill_chan_send(p->out, &v) != 0)
            break;
    rill_wg_done(p->wg);
}

static void collect(void *arg)
{
    const struct collector *c = arg;
    struct tally t = {0, 0};
    int64_t v;

    while (rill_chan_recv(c->in, &v) == 0) {
        t.sum += v;
        t.count++;
    }
    rill_chan_send(c->done, &t);
}

/* Fan-in: PRODUCERS goroutines send into one buffered channel, one goroutine adds it all up. */
static void check_fan_in(void)
{
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct rill_chan *values = rill_chan_make(sizeof(int64_t), 16);
    struct rill_chan *done = rill_chan_make(sizeof(struct tally), 0);
    struct tally t = {0, 0};
    int64_t n = (int64_t)PRODUCERS * PER_PRODUCER;

    CHECK(values != NULL && done != NULL);
    if (values == NULL || done == NULL)
        return;
    struct collector c = {values, done};
    CHECK(rill_go(collect, &c, sizeof(c)) == 0);
    for (int i = 0; i < PRODUCERS; i++) {
        struct producer p = {values, &wg, (int64_t)i * PER_PRODUCER};
        CHECK(rill_wg_add(&wg, 1) == 0);
        CHECK(rill_go(produce, &p, sizeof(p)) == 0);
    }
    CHECK(rill_wg_wait(&wg) == 0);
    CHECK(rill_chan_close(values) == 0);
    CHECK(rill_chan_recv(done, &t) == 0);
    CHECK(t.count == n);
    CHECK(t.sum == n * (n - 1) / 2);
    rill_chan_free(done);
    rill_chan_free(values);
}

/* Select between a channel nobody sends on and a timer: the timer must win, and not early. */
static void check_timer_select(void)
{
    struct rill_chan *never = rill_chan_make(sizeof(int), 0);
    int64_t t0 = rill_now();
    struct rill_chan *timer = rill_after(RILL_MS(2));
    int64_t fired = 0;
    int unused = 0;
    struct rill_case cases[2] = {
        {never, RILL_RECV, &unused, 0},
        {timer, RILL_RECV, &fired, 0},
    };

    CHECK(never != NULL && timer != NULL);
    if (never == NULL || timer == NULL)
        return;
    CHECK(rill_select(cases, 2, 0) == -EAGAIN);
    CHECK(rill_select(cases, 2, rill_now() + RILL_SEC(10)) == 1);
    CHECK(cases[1].result == 0);
    CHECK(fired >= t0);
    CHECK(rill_now() - t0 >= RILL_MS(2));
    rill_chan_free(timer);
    rill_chan_free(never);
}

static void main_goroutine(void *arg)
{
    (void)arg;
    CHECK(rill_id() == 1);
    check_fan_in();
    check_timer_select();
}

int main(int argc, char **argv)
{
    const char *name = argc > 0 ? argv[0] : "consumer_c"; /* also built as consumer_c_shared */
    const char *slash = strrchr(name, '/');
    int rc;

    if (slash != NULL)
        name = slash + 1;
    rc = rill_run(main_goroutine, NULL, NULL);

    if (rc != 0) {
        fprintf(stderr, "%s: rill_run returned %d\n", name, rc);
        return 1;
    }
    if (failures != 0) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}
