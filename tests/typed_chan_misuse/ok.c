/*
 * ok.c - every function RILL_CHAN_DECLARE generates, used correctly. It must compile without
 * a warning as C (-Wall -Wextra -Wpedantic -Werror) and as C++, so that the misuse files fail
 * for their misuse and not because the macro itself is broken. Pointer and struct element
 * types check the typedef that keeps "const T *" right for T = const char *.
 */
#include <rill.h>

struct job {
    int id;
    const char *data;
};

RILL_CHAN_DECLARE(intchan, int);
RILL_CHAN_DECLARE(strchan, const char *);
RILL_CHAN_DECLARE(jobchan, struct job);

int use_all(void);

static int produce(struct strchan_send tx)
{
    const char *msg = "hello";
    int rc = strchan_send(tx, &msg);
    if (rc == 0)
        rc = strchan_try_send(tx, &msg);
    return rc ? rc : strchan_close(tx);
}

static int consume(struct strchan_recv rx)
{
    const char *msg = 0;
    int rc = strchan_recv(rx, &msg);
    if (rc == 0)
        rc = strchan_try_recv(rx, &msg);
    return rc ? rc : strchan_recv(rx, 0);
}

int use_all(void)
{
    struct intchan ints = intchan_make(4);
    struct strchan strs = strchan_make(0);
    struct jobchan jobs = jobchan_make(2);
    if (!ints.tx.c || !strs.rx.c || !jobs.tx.c)
        return -1;

    int one = 1, got = 0;
    struct job j = {1, "task-1"}, out;
    intchan_send(ints.tx, &one);
    jobchan_send(jobs.tx, &j);
    jobchan_recv(jobs.rx, &out);
    struct rill_case cases[2] = {intchan_recv_case(ints.rx, &got), jobchan_send_case(jobs.tx, &j)};
    int r = rill_select(cases, 2, 0);

    int rc = produce(strs.tx) + consume(strs.rx);
    size_t n = intchan_len(ints) + intchan_cap(ints) + rill_chan_len(ints.rx.c);
    intchan_elem e = got;
    intchan_free(ints);
    strchan_free(strs);
    jobchan_free(jobs);
    return r + rc + (int)n + e + out.id;
}
