/*
 * net.c - listen, dial and send-all over rill's socket calls (Go's net.Listen, net.Dial and
 * conn.Write).
 *
 * Sockets are ordinary blocking descriptors: rill parks the goroutine, never the worker, and
 * needs no O_NONBLOCK. The one call rill cannot make without blocking a worker is
 * getaddrinfo(), which may read files and talk to a DNS server; it runs on rill_blocking()'s
 * offload threads while the goroutine is parked, the way Go's cgo resolver runs on a thread of
 * its own.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int net_listen(const char *host, int port, int *bound_port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof sa;
    int one = 1;

    if (port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    *bound_port = ntohs(sa.sin_port);
    return fd;
}

struct resolve {
    const char *host, *port;
    struct addrinfo *list; // getaddrinfo's answer, freed by the caller
    int rc;                // 0 or -errno
};

static void resolve_blocking(void *arg) // on an offload thread
{
    struct resolve *r = arg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int rc = getaddrinfo(r->host, r->port, &hints, &r->list);

    // errno is read here, on the thread that set it: it means nothing on the goroutine's.
    if (rc == EAI_SYSTEM)
        r->rc = -errno;
    else if (rc == EAI_MEMORY)
        r->rc = -ENOMEM;
    else if (rc != 0)
        r->rc = -ENXIO; // Go: "no such host"
}

static int dial_one(const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int rc = rill_connect(fd, ai->ai_addr, ai->ai_addrlen, deadline);
    if (rc < 0) {
        rill_close(fd);
        return rc;
    }
    return fd;
}

int net_dial(const char *host, const char *port, int64_t deadline)
{
    struct resolve r = {host, port, NULL, 0};
    int rc = rill_blocking(resolve_blocking, &r);
    if (rc < 0)
        return rc;
    if (r.rc < 0)
        return r.rc;

    rc = -ENXIO; // an empty answer
    for (const struct addrinfo *ai = r.list; ai; ai = ai->ai_next) {
        rc = dial_one(ai, deadline); // like Go, try each address in turn
        if (rc >= 0 || rc == -ETIMEDOUT || rc == -ECANCELED)
            break;
    }
    freeaddrinfo(r.list);
    return rc;
}

ssize_t net_send_all(int fd, const void *buf, size_t len, int64_t deadline)
{
    const char *p = buf;
    size_t left = len;

    while (left > 0) {
        ssize_t n = rill_send(fd, p, left, MSG_NOSIGNAL, deadline);
        if (n < 0)
            return n;
        p += n;
        left -= (size_t)n;
    }
    return (ssize_t)len;
}
