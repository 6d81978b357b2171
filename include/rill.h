/*
 * rill.h - Go's concurrency model for C: goroutines, channels, select, timers, sync.
 *
 * The one public header. Every call returns 0 (or a count) on success and a negative errno
 * on failure; rill never sets errno and keeps no thread-local error state. Times are int64_t
 * nanoseconds of CLOCK_MONOTONIC; a deadline is absolute (rill_now() + RILL_MS(5)),
 * RILL_FOREVER never expires, 0 means "do not block" (-EAGAIN where the call would block)
 * and a deadline already past gives -ETIMEDOUT.
 *
 * Calling contexts used in the comments below:
 *   goroutine   - inside a goroutine started by rill_run() or rill_go();
 *   any thread  - also from threads the runtime did not create, while a runtime is running
 *                 (the call then blocks that thread, never a worker).
 */
#ifndef RILL_H
#define RILL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(RILL_BUILDING) && defined(__GNUC__)
#define RILL_API __attribute__((visibility("default")))
#else
#define RILL_API
#endif

/* ------------------------------------------------------------------------------------------ */
/* Time                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* clang-format off */
#define RILL_FOREVER ((int64_t)-1)
#define RILL_NS(n) ((int64_t)(n))
#define RILL_US(n) ((int64_t)(n) * 1000LL)
#define RILL_MS(n) ((int64_t)(n) * 1000000LL)
#define RILL_SEC(n) ((int64_t)(n) * 1000000000LL)
/* clang-format on */

/* Monotonic time in nanoseconds (CLOCK_MONOTONIC). Any thread. */
RILL_API int64_t rill_now(void);

/* ------------------------------------------------------------------------------------------ */
/* Runtime                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* rill_config.flags */
#define RILL_CONFIG_NO_GUARD 0x1u /* no guard pages: canary-checked stacks only */

/*
 * Runtime configuration. A zero-initialised struct (or a NULL pointer) gives the defaults.
 *   workers     worker threads, one P each; 0 = the env RILL_WORKERS, else one per online CPU.
 *               At most RILL_WORKERS_MAX.
 *   stack_size  goroutine stack size in bytes; 0 = 64 KiB. Rounded up to whole pages, at
 *               least RILL_STACK_MIN. Untouched pages cost no memory.
 *   flags       RILL_CONFIG_* bits.
 */
struct rill_config {
    int workers;
    size_t stack_size;
    unsigned flags;
};

#define RILL_WORKERS_MAX 256
#define RILL_STACK_MIN (16 * 1024)

/*
 * Start the runtime, run main(arg) as goroutine 1, and return when it returns. Goroutines
 * still alive then are abandoned and their memory freed, as when Go's main returns (their I/O
 * is cancelled first, and a rill_blocking fn still running is waited for, since it may
 * write into its caller's stack). Callable again after it returns. Calling thread: any
 * thread that is not a worker.
 * Returns 0; -EDEADLK when every goroutine is blocked forever (Go's "all goroutines are
 * asleep"), after printing each blocked goroutine to stderr; -EINVAL for a bad config or NULL
 * main; -EBUSY when a runtime is already running; -ENOMEM.
 */
RILL_API int rill_run(void (*main)(void *), void *arg, const struct rill_config *cfg);

/*
 * Start a goroutine running fn(a). With arg_size > 0 the arg_size bytes at arg are copied onto
 * the new goroutine's stack and a points to the copy (so a loop variable passed by address is
 * captured by value); with arg_size == 0, a == arg. Any thread while a runtime runs.
 * Returns 0; -EINVAL (NULL fn, NULL arg with arg_size > 0, or arg_size over a quarter of the
 * stack); -ENOMEM; -ESRCH when no runtime is running. From a goroutine, the new one runs as
 * soon as the caller blocks (before older runnable ones, as in Go), unless another worker
 * takes it first; the caller yields when its worker's run queue holds 64 goroutines, or when
 * a timer of its worker is due, as Go's preemption would let them run, so a long spawning
 * loop neither keeps every new goroutine waiting (and its stack resident) until it ends nor
 * makes sleepers late.
 */
RILL_API int rill_go(void (*fn)(void *), const void *arg, size_t arg_size);

/* Let other goroutines run. A no-op outside goroutines. */
RILL_API void rill_yield(void);

/* The current goroutine's id (1 = main), 0 outside goroutines. */
RILL_API uint64_t rill_id(void);

/* Park the caller for at least ns nanoseconds (ns <= 0 just yields). A duration that reaches
 * past the end of the clock (rill_now() + ns > INT64_MAX) parks for ever. Any thread. */
RILL_API void rill_sleep(int64_t ns);

/* ------------------------------------------------------------------------------------------ */
/* Channels                                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct rill_chan rill_chan;

/*
 * Make a channel of elements of elem_size bytes. cap == 0: unbuffered (a send returns only
 * once a receiver has the value); cap > 0: a buffered FIFO of cap elements. elem_size may be 0
 * (a signal channel). Returns NULL for elem_size over RILL_CHAN_ELEM_MAX, cap over
 * RILL_CHAN_CAP_MAX, or no memory. Any thread.
 */
RILL_API struct rill_chan *rill_chan_make(size_t elem_size, size_t cap);

#define RILL_CHAN_ELEM_MAX 65536
/* The largest cap (16M). A buffered channel is a ring of cap cells that rill_chan_make()
 * writes up front, each 8 bytes beside its element (rounded up to 8), so even a signal channel
 * of cap n commits 8n bytes at once: 128 MiB at this cap. Go bounds cap by memory alone, but
 * its signal channels have no buffer; a queue longer than this wants another structure. */
#define RILL_CHAN_CAP_MAX ((size_t)1 << 24)

/* Release a channel once no goroutine is blocked in, or will start, an operation on it. As in
 * Go, a receiver may free it right after it got the last value or -EPIPE, even while the
 * sender or closer is still returning from its call: free waits for their last access.
 * NULL is a no-op. For a channel from rill_after()/rill_tick(), also stops the timer. */
RILL_API void rill_chan_free(struct rill_chan *c);

/* Send *elem; block until sent. 0; -EPIPE if the channel is or becomes closed; -EINVAL for a
 * NULL channel (or NULL elem with elem_size > 0). Any thread. */
RILL_API int rill_chan_send(struct rill_chan *c, const void *elem);

/* Receive into *elem (NULL drops the value); block until a value arrives. 0; -EPIPE once closed
 * and drained, with *elem zero-filled; -EINVAL for a NULL channel. Any thread. */
RILL_API int rill_chan_recv(struct rill_chan *c, void *elem);

/* As rill_chan_send()/rill_chan_recv() but -EAGAIN instead of blocking. Any thread. */
RILL_API int rill_chan_try_send(struct rill_chan *c, const void *elem);
RILL_API int rill_chan_try_recv(struct rill_chan *c, void *elem);

/* Close: 0; -EPIPE if already closed; -EINVAL for NULL. Wakes every blocked receiver (they
 * get -EPIPE once the buffer is drained) and every blocked sender (-EPIPE). Any thread. */
RILL_API int rill_chan_close(struct rill_chan *c);

/* Elements buffered now, and the capacity (0 for unbuffered or NULL). */
RILL_API size_t rill_chan_len(struct rill_chan *c);
RILL_API size_t rill_chan_cap(struct rill_chan *c);

/* ------------------------------------------------------------------------------------------ */
/* Select                                                                                     */
/* ------------------------------------------------------------------------------------------ */

#define RILL_SEND 1
#define RILL_RECV 2
#define RILL_SELECT_MAX 128

/* One case of rill_select(). chan NULL: never chosen (Go's nil channel). elem: the value to
 * send (NULL only for elem_size 0, as rill_chan_send), or where to receive (may be NULL for a
 * receive). result: set for the chosen case, 0 or -EPIPE (closed). */
struct rill_case {
    struct rill_chan *chan;
    int op;
    void *elem;
    int result;
};

/*
 * Wait until one case can proceed, perform it and return its index. Among several ready cases
 * the choice is uniformly random. deadline == 0 is Go's default: -EAGAIN if none is ready;
 * -ETIMEDOUT once the deadline passes; RILL_FOREVER waits for ever. -EINVAL for a bad op (a nil
 * case's too), a send case with a NULL elem on a channel with elem_size > 0, a NULL cases with
 * n > 0, or n over RILL_SELECT_MAX. With n == 0 (or only nil cases) and no deadline it blocks
 * for ever, as Go's empty select. A goroutine selecting on both ends of one unbuffered channel
 * never pairs with itself. Any thread.
 */
RILL_API int rill_select(struct rill_case *cases, size_t n, int64_t deadline);

/* ------------------------------------------------------------------------------------------ */
/* Timers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* Go's time.After: a channel (elem int64_t, cap 1) that receives the fire time once, ns from
 * now (never, if rill_now() + ns is past INT64_MAX). rill_chan_free() stops the timer if it has
 * not fired. NULL on no memory or no runtime. The timer belongs to the run that made it: when
 * that run ends it stops, and the channel may still be freed afterwards (so for rill_tick). */
RILL_API struct rill_chan *rill_after(int64_t ns);

/* Go's time.Ticker: receives the time every period (> 0); a slow reader misses ticks instead of
 * queueing them. A tick due past INT64_MAX never comes. rill_chan_free() stops it. NULL on
 * period <= 0, no memory or no runtime. */
RILL_API struct rill_chan *rill_tick(int64_t period);

/* ------------------------------------------------------------------------------------------ */
/* Sync                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Go's sync.WaitGroup. Caller-owned storage; RILL_WAITGROUP_INIT or zero-fill initialises. */
struct rill_waitgroup {
    uint64_t opaque[4];
};
/* clang-format off */
#define RILL_WAITGROUP_INIT {{0, 0, 0, 0}}
/* clang-format on */

/* Add n (may be negative) to the counter. 0; -EINVAL if the counter would go negative. */
RILL_API int rill_wg_add(struct rill_waitgroup *wg, int n);
/* rill_wg_add(wg, -1). */
RILL_API int rill_wg_done(struct rill_waitgroup *wg);
/* Park until the counter is zero. 0. Any thread. */
RILL_API int rill_wg_wait(struct rill_waitgroup *wg);

/* Go's sync.Mutex: parks the goroutine (after a short spin), never the worker. Not reentrant;
 * may be unlocked by a goroutine other than the locker, as in Go. */
struct rill_mutex {
    uint64_t opaque[4];
};
/* clang-format off */
#define RILL_MUTEX_INIT {{0, 0, 0, 0}}
/* clang-format on */

RILL_API void rill_mutex_lock(struct rill_mutex *m);
/* 0 when taken, -EBUSY when held. */
RILL_API int rill_mutex_trylock(struct rill_mutex *m);
/* Unlocking an unlocked mutex is fatal, as in Go. */
RILL_API void rill_mutex_unlock(struct rill_mutex *m);

/* ------------------------------------------------------------------------------------------ */
/* I/O                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/*
 * Blocking I/O that parks the calling goroutine, never its worker. Each call returns what the
 * system call would (a count, an fd, 0), or -errno instead of -1 and errno, and takes a final
 * absolute deadline:
 *   RILL_FOREVER    wait for ever;
 *   0               do not block: -EAGAIN when the call would have to wait;
 *   past            -ETIMEDOUT at once;
 *   otherwise       -ETIMEDOUT once it passes, with the operation cancelled: no byte of the
 *                   buffer is written after the call returns, and the fd stays usable.
 * -ECANCELED when the goroutine's bound context (rill_ctx_bind) is cancelled meanwhile.
 *
 * Operations go through the worker's io_uring, or through epoll and non-blocking system calls
 * where io_uring cannot be had (RILL_IO=epoll forces that); the semantics are the same.
 * File operations the epoll backend cannot wait on (regular files, fsync, openat) run on the
 * rill_blocking() pool there. With deadline 0 they run at once: a regular file's read, write
 * or fsync never "would block"; rill_openat opens with O_NONBLOCK and then gives the fd the
 * mode asked for, so a FIFO opened for writing with no reader gives -EAGAIN, and one opened
 * for reading returns at once (as io_uring's openat does). Any thread: outside goroutines the
 * call blocks that thread. Descriptors need not be O_NONBLOCK. rill never changes a
 * descriptor's flags, except that where a call waits for readiness instead (the epoll backend,
 * a ring without the opcode, deadline 0, a thread the runtime did not create) a blocking
 * socket is O_NONBLOCK for the duration: all of rill_connect's wait, and each accept4 attempt
 * of rill_accept (a plain accept(2) on the same listener elsewhere may meanwhile fail with
 * EAGAIN).
 * rill_send always adds MSG_NOSIGNAL: a peer that went away gives -EPIPE, never SIGPIPE (Go's
 * behaviour for network connections). rill_write and rill_writev behave as write(2) does:
 * on a socket or pipe whose reader is gone they raise SIGPIPE unless it is ignored.
 */
RILL_API ssize_t rill_read(int fd, void *buf, size_t len, int64_t deadline);
RILL_API ssize_t rill_write(int fd, const void *buf, size_t len, int64_t deadline);
RILL_API ssize_t rill_pread(int fd, void *buf, size_t len, off_t off, int64_t deadline);
RILL_API ssize_t rill_pwrite(int fd, const void *buf, size_t len, off_t off, int64_t deadline);
RILL_API ssize_t rill_readv(int fd, const struct iovec *iov, int iovcnt, int64_t deadline);
RILL_API ssize_t rill_writev(int fd, const struct iovec *iov, int iovcnt, int64_t deadline);
RILL_API ssize_t rill_recv(int fd, void *buf, size_t len, int flags, int64_t deadline);
RILL_API ssize_t rill_send(int fd, const void *buf, size_t len, int flags, int64_t deadline);
/* accept4(fd, addr, addrlen, SOCK_CLOEXEC): the new descriptor, or -errno. */
RILL_API int rill_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int64_t deadline);
/* 0 once connected (the socket's pending error as -errno otherwise). On -ETIMEDOUT the
 * connection attempt is abandoned and the socket should be closed, as after connect(2). */
RILL_API int rill_connect(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline);
/* openat(2): the new descriptor (O_CLOEXEC is not implied). */
RILL_API int rill_openat(int dirfd, const char *path, int flags, mode_t mode, int64_t deadline);
RILL_API int rill_fsync(int fd, int64_t deadline);
/* Wait until fd is ready for any of events (POLLIN, POLLOUT, ...): the ready events, which
 * include POLLERR/POLLHUP when they apply. */
RILL_API int rill_poll(int fd, short events, int64_t deadline);
/* Close fd. Goroutines blocked in I/O on fd are woken with -ECANCELED first (as Go's Close
 * wakes pending reads with ErrClosed), so closing a listener stops an accept loop. 0 or
 * -errno (-EBADF). */
RILL_API int rill_close(int fd);

/*
 * Run fn(arg) on a pool of offload threads and park the goroutine until it returns: for calls
 * io_uring cannot make (getaddrinfo, a blocking library). The pool grows to
 * RILL_BLOCKING_MAX threads on demand (callers past that queue) and idle threads exit after a
 * few seconds. fn passes results back through arg. 0 once fn has returned; -EINVAL for a
 * NULL fn; -ENOMEM/-EAGAIN when no thread can be started and none is running. Outside
 * goroutines fn runs on the calling thread. Not cancellable: fn runs to completion.
 */
#define RILL_BLOCKING_MAX 64
RILL_API int rill_blocking(void (*fn)(void *), void *arg);

/* ------------------------------------------------------------------------------------------ */
/* Contexts: cancellation and deadlines (Go's context.Context)                                */
/* ------------------------------------------------------------------------------------------ */

/*
 * A rill_ctx carries a cancel signal and an optional deadline down a tree of work. It is
 * done when it is cancelled, when its deadline passes, or when its parent is done; a done
 * context stays done. Design: docs/DESIGN.md "Contexts and cancellation".
 *
 *   struct rill_ctx *ctx = rill_ctx_new(NULL, rill_now() + RILL_SEC(2));  // WithTimeout
 *   ...
 *   case: rill_ctx_done(ctx) in a select             // <-ctx.Done()
 *   rill_ctx_bind(ctx)  // this goroutine's blocking I/O now ends with -ECANCELED when ctx is
 *                       // done (-ETIMEDOUT when its deadline passed), as if each call had
 *                       // ctx's deadline and a cancel path
 *   rill_ctx_cancel(ctx);                            // cancel()
 *   rill_ctx_free(ctx);                              // after the last user is done with it
 *
 * Channel operations and sleeps are cancelled the Go way, by selecting on rill_ctx_done()
 * beside them. rill_ctx_bind covers every I/O call above.
 */
typedef struct rill_ctx rill_ctx;
/* A context that is done when parent is (NULL: never), when rill_ctx_cancel() is called, or
 * at deadline (RILL_FOREVER: none; the earlier of its own and its parent's counts; one
 * already past gives a context done at once). It may be made before rill_run and outlive
 * it: its deadline counts in every run, and once past it counts from the first look. NULL
 * without memory. Any thread. */
RILL_API struct rill_ctx *rill_ctx_new(struct rill_ctx *parent, int64_t deadline);
/* Cancel ctx and its descendants, waking blocked I/O bound to them. Idempotent. Any thread. */
RILL_API void rill_ctx_cancel(struct rill_ctx *ctx);
/* A signal channel (element size 0) closed when ctx is done: use it in select. Owned by ctx. */
RILL_API struct rill_chan *rill_ctx_done(struct rill_ctx *ctx);
/* 0 while not done; -ECANCELED after cancel; -ETIMEDOUT after the deadline passed. */
RILL_API int rill_ctx_err(struct rill_ctx *ctx);
RILL_API int64_t rill_ctx_deadline(struct rill_ctx *ctx);
/* Bind ctx to the calling goroutine (NULL unbinds) and return the previous binding. The
 * binding holds no reference and ends with the goroutine; new goroutines start unbound (pass
 * the ctx explicitly, as in Go). Outside goroutines: nothing is bound, NULL. */
RILL_API struct rill_ctx *rill_ctx_bind(struct rill_ctx *ctx);
/* Cancel and free ctx. Its children must be freed first (-EBUSY otherwise), and no
 * goroutine may still use it. 0. */
RILL_API int rill_ctx_free(struct rill_ctx *ctx);

/* ------------------------------------------------------------------------------------------ */
/* Panic and recover                                                                          */
/* ------------------------------------------------------------------------------------------ */

#if defined(__GNUC__)
#define RILL_NORETURN_PRINTF __attribute__((noreturn, format(printf, 1, 2)))
#else
#define RILL_NORETURN_PRINTF
#endif

/*
 * Go's panic: stop the current goroutine with a message. Inside rill_recover() the panic
 * unwinds to it (no C cleanup runs on the way: free what you own before panicking, or
 * recover close to the allocation). Unrecovered, it prints "panic: <message>", the goroutine
 * id and a backtrace to stderr and aborts the process, as Go does. Any thread (outside
 * goroutines there is nothing to recover to: it prints and aborts).
 */
RILL_API void rill_panic(const char *fmt, ...) RILL_NORETURN_PRINTF;

/*
 * Go's recover, as a call: run fn(arg); if fn (or anything it calls on this goroutine)
 * panics, return -ECANCELED with the panic message copied into msg (NUL-terminated,
 * truncated to len; msg may be NULL). 0 when fn returns normally; -EINVAL for a NULL fn.
 * Calls nest: a panic goes to the innermost rill_recover of its goroutine. Goroutine
 * context (from other threads it runs fn but cannot catch a panic).
 */
RILL_API int rill_recover(void (*fn)(void *), void *arg, char *msg, size_t len);

/* ------------------------------------------------------------------------------------------ */
/* Typed channels                                                                             */
/* ------------------------------------------------------------------------------------------ */

/*
 * RILL_CHAN_DECLARE(name, T) declares a channel type that carries values of type T, so you do
 * not pass void * around. It also declares send-only and receive-only handles, like Go's
 * chan<- T and <-chan T. Use it at file scope, once per element type:
 *
 *     RILL_CHAN_DECLARE(intchan, int);        // Go: chan int
 *
 *     struct intchan ch = intchan_make(0);    // ch := make(chan int); ch.tx.c == NULL: no memory
 *     intchan_send(ch.tx, &(int){42});        // ch <- 42
 *     int v;
 *     intchan_recv(ch.rx, &v);                // v := <-ch (-EPIPE: closed and drained, v = 0)
 *     intchan_close(ch.tx);                   // close(ch)
 *     intchan_free(ch);
 *
 * The three handle types, each a struct wrapping one struct rill_chan * named c:
 *
 *     struct intchan        both directions (Go's chan int): its members tx and rx are the two
 *                           ends, so passing ch.tx or ch.rx is Go's implicit conversion of a
 *                           chan int to a chan<- int or a <-chan int.
 *     struct intchan_send   the send end (chan<- int): send, try_send, close, send_case.
 *     struct intchan_recv   the receive end (<-chan int): recv, try_recv, recv_case.
 *
 * Each function takes the one end it needs. Passing the wrong end (receiving on a send-only
 * handle, sending on or closing a receive-only one) passes a struct of another type, which is
 * a compile error in C and C++, as it is in Go. tests/typed_chan_misuse/ proves that.
 * The element is type-checked too: intchan_send() takes a const int *, intchan_recv() an
 * int *. The element type itself is named intchan_elem.
 *
 * The generated functions (static inline, one call each into the exported API; the struct tag
 * intchan_send and the function intchan_send() live in different C namespaces, as with
 * struct stat and stat()):
 *
 *     struct intchan intchan_make(size_t cap)                  rill_chan_make(sizeof(int), cap)
 *     void   intchan_free(struct intchan ch)                   rill_chan_free
 *     int    intchan_send(struct intchan_send tx, const int *v)      rill_chan_send
 *     int    intchan_try_send(struct intchan_send tx, const int *v)  rill_chan_try_send
 *     int    intchan_close(struct intchan_send tx)                   rill_chan_close
 *     int    intchan_recv(struct intchan_recv rx, int *v)            rill_chan_recv (v may be NULL)
 *     int    intchan_try_recv(struct intchan_recv rx, int *v)        rill_chan_try_recv
 *     size_t intchan_len(struct intchan ch), intchan_cap(...)  rill_chan_len, rill_chan_cap
 *     struct rill_case intchan_send_case(struct intchan_send tx, const int *v)
 *     struct rill_case intchan_recv_case(struct intchan_recv rx, int *v)
 *                           a rill_select() case for this end (v must live until select returns)
 *
 * Return values and calling contexts are those of the rill_chan_* call each one wraps. For
 * len/cap of a lone end, call rill_chan_len(rx.c) directly. T must be a type you can write as
 * "T x" (wrap an array in a struct). Zero-size signal channels (Go's chan struct{}) need no
 * element type: use rill_chan_make(0, cap) with NULL elements.
 */
#if defined(__GNUC__)
/* unused: clang warns about unused static inline functions of the main file, where the macro
 * expands, and a program rarely uses all of them. */
#define RILL_CHAN_INLINE static inline __attribute__((unused))
#else
#define RILL_CHAN_INLINE static inline
#endif

/* clang-format off */
#define RILL_CHAN_DECLARE(name, T)                                                              \
    typedef T name##_elem; /* a typedef, so that const name##_elem * works for pointer T */     \
    struct name##_send { struct rill_chan *c; };                                                \
    struct name##_recv { struct rill_chan *c; };                                                \
    struct name { struct name##_send tx; struct name##_recv rx; };                              \
                                                                                                \
    RILL_CHAN_INLINE struct name name##_make(size_t cap)                                        \
    {                                                                                           \
        struct name ch;                                                                         \
        ch.tx.c = ch.rx.c = rill_chan_make(sizeof(name##_elem), cap);                           \
        return ch;                                                                              \
    }                                                                                           \
    RILL_CHAN_INLINE void name##_free(struct name ch) { rill_chan_free(ch.tx.c); }              \
    RILL_CHAN_INLINE size_t name##_len(struct name ch) { return rill_chan_len(ch.tx.c); }       \
    RILL_CHAN_INLINE size_t name##_cap(struct name ch) { return rill_chan_cap(ch.tx.c); }       \
                                                                                                \
    RILL_CHAN_INLINE int name##_send(struct name##_send tx, const name##_elem *v)               \
    { return rill_chan_send(tx.c, v); }                                                         \
    RILL_CHAN_INLINE int name##_try_send(struct name##_send tx, const name##_elem *v)           \
    { return rill_chan_try_send(tx.c, v); }                                                     \
    RILL_CHAN_INLINE int name##_close(struct name##_send tx) { return rill_chan_close(tx.c); }  \
    RILL_CHAN_INLINE int name##_recv(struct name##_recv rx, name##_elem *v)                     \
    { return rill_chan_recv(rx.c, v); }                                                         \
    RILL_CHAN_INLINE int name##_try_recv(struct name##_recv rx, name##_elem *v)                 \
    { return rill_chan_try_recv(rx.c, v); }                                                     \
                                                                                                \
    RILL_CHAN_INLINE struct rill_case name##_send_case(struct name##_send tx,                   \
                                                       const name##_elem *v)                    \
    {                                                                                           \
        struct rill_case k;                                                                     \
        k.chan = tx.c;                                                                          \
        k.op = RILL_SEND;                                                                       \
        k.elem = (void *)(uintptr_t)v; /* select only reads a send case's element */            \
        k.result = 0;                                                                           \
        return k;                                                                               \
    }                                                                                           \
    RILL_CHAN_INLINE struct rill_case name##_recv_case(struct name##_recv rx, name##_elem *v)   \
    {                                                                                           \
        struct rill_case k;                                                                     \
        k.chan = rx.c;                                                                          \
        k.op = RILL_RECV;                                                                       \
        k.elem = v;                                                                             \
        k.result = 0;                                                                           \
        return k;                                                                               \
    }                                                                                           \
    struct name##_send /* swallows the caller's ';' without an empty declaration */
/* clang-format on */

#ifdef __cplusplus
}
#endif

#endif /* RILL_H */
