/*
 * ctx.c - rill_ctx, Go's context.Context: cancellation and deadlines down a tree of work.
 * Design: docs/DESIGN.md "Contexts and cancellation".
 *
 * A ctx holds its error (0 until done), its deadline (the earlier of its own and its
 * parent's), a signal channel closed once it is done (for select), its children, and the I/O
 * ops in flight of goroutines bound to it (rill_ctx_bind). Cancelling walks that tree under
 * each node's lock, parent before child (the one lock order), stores the error in every op
 * and cancels it: a ring op through its ring's mailbox (ring.c), a readiness wait directly
 * (epoll.c). An op checks the error after it is registered where a canceller can find it, so
 * a cancel is either seen by the op or finds the op (see uring_wait() and
 * rilli_netpoll_wait()).
 *
 * An op is linked before it is started and unlinked by its goroutine after it resumes, under
 * the ctx lock, so a canceller holding that lock only ever touches live ops.
 *
 * The deadline is a timer that cancels with -ETIMEDOUT; bound I/O needs no timer of its
 * own for it, because the ctx deadline is merged into each call's deadline.
 */
#include <errno.h>
#include <stdlib.h>

#include "io/io.h"
#include "sched/sched.h"

struct rill_ctx {
    rilli_lock lock;
    int err;                     /* 0 until done; written once under lock (rel), read acq */
    int64_t deadline;            /* absolute ns or RILL_FOREVER; fixed at creation */
    struct rill_chan *done;      /* closed once err is set */
    struct rill_ctx *parent;     /* fixed */
    struct rill_ctx *child;      /* first child; lock */
    struct rill_ctx *next, *prev; /* siblings; parent's lock */
    struct rilli_io_op *ops;     /* bound ops in flight; lock */
    struct rilli_timer timer;    /* the deadline */
    int timed;                   /* timer added and not yet deleted; deadlines.lock */
    struct rill_ctx *dnext;      /* deadlines.list; deadlines.lock */
    struct rill_ctx **dpprev;    /* the link that points at us, NULL: not listed; same lock */
};

/*
 * Contexts with a deadline still to come. A timer lives on a P, and Ps exist only while a
 * runtime runs; a context may be made before rill_run, or outlive one run and be used in the
 * next. So every such context is listed here: rill_run arms the timers of the listed ones as
 * it starts (rilli_ctx_run_start), its heaps' teardown leaves them stopped, and a context
 * made while a run is up is armed at once. Lock order: a
 * ctx's lock, then this one, then a timer heap's.
 */
static void ctx_cancel(struct rill_ctx *c, int err);
static struct rilli_g *ctx_fire(struct rilli_timer *t);

static struct {
    rilli_lock lock;
    int armed; /* a run is up: listed contexts have their timers queued */
    struct rill_ctx *list;
} deadlines;

/* deadlines.lock held */
static void deadline_arm(struct rill_ctx *c)
{
    c->timer.fn = ctx_fire;
    c->timer.arg = c;
    c->timed = rilli_timer_add(&c->timer, c->deadline) == 0;
}

static void deadline_list(struct rill_ctx *c)
{
    rilli_lock_acquire(&deadlines.lock);
    c->dnext = deadlines.list;
    if (c->dnext)
        c->dnext->dpprev = &c->dnext;
    c->dpprev = &deadlines.list;
    deadlines.list = c;
    if (deadlines.armed)
        deadline_arm(c);
    rilli_lock_release(&deadlines.lock);
}

/* Off the list: done (ctx_cancel), or freed. For ctx_cancel the timer stays queued until it
 * fires, or until rill_ctx_free or the end of the run takes it off; take: also hand over the
 * timer to stop (1 if it is queued), in the same step, so a run starting meanwhile cannot
 * arm it again. */
static int deadline_unlist(struct rill_ctx *c, int take)
{
    rilli_lock_acquire(&deadlines.lock);
    if (c->dpprev) {
        *c->dpprev = c->dnext;
        if (c->dnext)
            c->dnext->dpprev = c->dpprev;
        c->dpprev = NULL;
    }
    int timed = take && c->timed;
    if (take)
        c->timed = 0;
    rilli_lock_release(&deadlines.lock);
    return timed;
}

void rilli_ctx_run_start(void)
{
    rilli_lock_acquire(&deadlines.lock);
    deadlines.armed = 1;
    /* one that passed while no runtime ran fires at the first timer check */
    for (struct rill_ctx *c = deadlines.list; c; c = c->dnext)
        deadline_arm(c);
    rilli_lock_release(&deadlines.lock);
}

void rilli_ctx_run_end(void)
{
    /* Nothing is armed from here on. The timers still queued are left stopped by the heaps'
     * teardown (rilli_timer_heap_fini), and a later rilli_timer_del of one returns at once. */
    rilli_lock_acquire(&deadlines.lock);
    deadlines.armed = 0;
    rilli_lock_release(&deadlines.lock);
}

static void ctx_cancel(struct rill_ctx *c, int err)
{
    rilli_lock_acquire(&c->lock);
    if (c->err) {
        rilli_lock_release(&c->lock);
        return;
    }
    rill_store_rel(&c->err, err); /* rel: pairs with the acq load in rill_ctx_err() */
    if (c->deadline != RILL_FOREVER)
        deadline_unlist(c, 0);
    for (struct rilli_io_op *op = c->ops; op; op = op->cnext) {
        /* rel: pairs with the acq loads in uring_wait() and rilli_netpoll_wait() */
        rill_store_rel(&op->cancel, err);
        if (rill_load_acq(&op->ring)) /* acq: pairs with the rel store in uring_wait() */
            rilli_io_cancel_op(op);
        else
            rilli_netpoll_cancel_op(op, err);
    }
    for (struct rill_ctx *k = c->child; k; k = k->next)
        ctx_cancel(k, err);
    rilli_lock_release(&c->lock);
    rill_chan_close(c->done);
}

static struct rilli_g *ctx_fire(struct rilli_timer *t)
{
    ctx_cancel(t->arg, -ETIMEDOUT);
    return NULL;
}

struct rill_ctx *rill_ctx_new(struct rill_ctx *parent, int64_t deadline)
{
    if (deadline < 0 && deadline != RILL_FOREVER)
        deadline = 1; /* already past (rill.h): done at once, with -ETIMEDOUT */
    struct rill_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->done = rill_chan_make(0, 0);
    if (!c->done) {
        free(c);
        return NULL;
    }
    c->deadline = deadline;
    int perr = 0;
    if (parent) {
        if (parent->deadline != RILL_FOREVER &&
            (deadline == RILL_FOREVER || parent->deadline < deadline))
            c->deadline = parent->deadline;
        c->parent = parent;
        rilli_lock_acquire(&parent->lock);
        c->next = parent->child;
        if (parent->child)
            parent->child->prev = c;
        parent->child = c;
        perr = parent->err;
        rilli_lock_release(&parent->lock);
    }
    if (perr) {
        ctx_cancel(c, perr);
    } else if (c->deadline != RILL_FOREVER) {
        if (c->deadline <= rill_now())
            ctx_cancel(c, -ETIMEDOUT);
        else
            deadline_list(c); /* armed now if a run is up, else when one starts */
    }
    return c;
}

void rill_ctx_cancel(struct rill_ctx *ctx)
{
    if (ctx)
        ctx_cancel(ctx, -ECANCELED);
}

/* A deadline that has passed before its timer fired (or with no runtime up to fire it) counts
 * from the first look: the context is done from then on, with -ETIMEDOUT for good. */
static int ctx_settle(struct rill_ctx *ctx)
{
    int e = rill_load_acq(&ctx->err); /* acq: pairs with the rel store in ctx_cancel() */
    if (!e && ctx->deadline != RILL_FOREVER && rill_now() >= ctx->deadline) {
        ctx_cancel(ctx, -ETIMEDOUT);
        e = rill_load_acq(&ctx->err); /* acq: as above; a racing cancel may have won */
    }
    return e;
}

struct rill_chan *rill_ctx_done(struct rill_ctx *ctx)
{
    if (!ctx)
        return NULL;
    ctx_settle(ctx);
    return ctx->done;
}

int rill_ctx_err(struct rill_ctx *ctx)
{
    return ctx ? ctx_settle(ctx) : -EINVAL;
}

int64_t rill_ctx_deadline(struct rill_ctx *ctx)
{
    return ctx ? ctx->deadline : RILL_FOREVER;
}

struct rill_ctx *rill_ctx_bind(struct rill_ctx *ctx)
{
    struct rilli_g *g = rilli_cur_g();
    if (!g)
        return NULL;
    struct rill_ctx *old = g->ctx;
    g->ctx = ctx;
    return old;
}

int rill_ctx_free(struct rill_ctx *ctx)
{
    if (!ctx)
        return 0;
    rilli_lock_acquire(&ctx->lock);
    int busy = ctx->child != NULL || ctx->ops != NULL;
    rilli_lock_release(&ctx->lock);
    if (busy)
        return -EBUSY;
    if (deadline_unlist(ctx, 1))
        rilli_timer_del(&ctx->timer); /* waits for a firing ctx_fire() */
    ctx_cancel(ctx, -ECANCELED);
    struct rill_ctx *p = ctx->parent;
    if (p) {
        rilli_lock_acquire(&p->lock); /* a cancelling parent holds it while it walks us */
        if (ctx->prev)
            ctx->prev->next = ctx->next;
        else
            p->child = ctx->next;
        if (ctx->next)
            ctx->next->prev = ctx->prev;
        rilli_lock_release(&p->lock);
    }
    rill_chan_free(ctx->done);
    free(ctx);
    return 0;
}

int rilli_ctx_link(struct rilli_io_op *op, int64_t *deadline)
{
    struct rill_ctx *c = op->g->ctx;
    rilli_lock_acquire(&c->lock);
    int err = c->err;
    if (!err && c->deadline != RILL_FOREVER) {
        if (c->deadline <= rill_now())
            err = -ETIMEDOUT;
        else if (*deadline == RILL_FOREVER || c->deadline < *deadline)
            *deadline = c->deadline;
    }
    if (!err) {
        op->ctx = c;
        op->cprev = NULL;
        op->cnext = c->ops;
        if (c->ops)
            c->ops->cprev = op;
        c->ops = op;
    }
    rilli_lock_release(&c->lock);
    return err;
}

void rilli_ctx_unlink(struct rilli_io_op *op)
{
    struct rill_ctx *c = op->ctx;
    rilli_lock_acquire(&c->lock);
    if (op->cprev)
        op->cprev->cnext = op->cnext;
    else
        c->ops = op->cnext;
    if (op->cnext)
        op->cnext->cprev = op->cprev;
    rilli_lock_release(&c->lock);
    op->ctx = NULL;
}
