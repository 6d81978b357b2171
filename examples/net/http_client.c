/*
 * http_client.c - http_get(): a small HTTP/1.1 client over rill sockets, the part of Go's
 * http.Get the examples need.
 *
 * One request per connection: resolve and connect (net_dial), send "GET ... Connection: close",
 * then feed every chunk rill_recv returns to libhttp-parser (Debian's libhttp-parser-dev, the
 * parser Node.js used before llhttp) until it reports the end of the message. The parser calls
 * back with the status, each header in as many pieces as the chunks cut it into, and the body;
 * struct get collects what struct http_response reports.
 *
 * One absolute deadline covers the whole exchange: every rill call gets the same one, so a
 * server that trickles bytes cannot stretch the request past it. That is Go's
 * http.Client.Timeout, which is also one budget for the whole request.
 */
#include "net.h"

#include <errno.h>
#include <http_parser.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct get {
    http_parser parser; // parser.data points back here, for the callbacks
    struct http_response *resp;
    char field[32]; // the header name being received (truncated: only short ones matter)
    size_t field_len;
    bool in_value; // the last callback was a value: a new field starts a new header
    bool done;     // on_message_complete ran
};

static void append(char *dst, size_t cap, size_t *len, const char *at, size_t n)
{
    size_t room = cap - 1 - *len;
    if (n > room)
        n = room;
    memcpy(dst + *len, at, n);
    *len += n;
    dst[*len] = '\0';
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct get *g = p->data;
    if (g->in_value) {
        g->field_len = 0;
        g->in_value = false;
    }
    append(g->field, sizeof g->field, &g->field_len, at, n);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct get *g = p->data;
    g->in_value = true;
    if (strcasecmp(g->field, "Content-Type") == 0) {
        size_t len = strlen(g->resp->content_type);
        append(g->resp->content_type, sizeof g->resp->content_type, &len, at, n);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct get *g = p->data;
    size_t kept =
        g->resp->body_len < sizeof g->resp->body ? g->resp->body_len : sizeof g->resp->body - 1;
    append(g->resp->body, sizeof g->resp->body, &kept, at, n);
    g->resp->body_len += n;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct get *g = p->data;
    g->resp->status = (int)p->status_code;
    g->done = true;
    http_parser_pause(p, 1); // bytes after the message are not ours
    return 0;
}

static const http_parser_settings settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

int http_read_message(int fd, struct http_parser *p, const struct http_parser_settings *s,
                      const bool *done, int64_t deadline)
{
    char buf[4096];

    while (!*done) {
        ssize_t n = rill_recv(fd, buf, sizeof buf, 0, deadline);
        if (n < 0)
            return (int)n;
        size_t used = http_parser_execute(p, s, buf, (size_t)n); // n == 0 tells it of EOF
        if (*done)
            break;
        if (used != (size_t)n || HTTP_PARSER_ERRNO(p) != HPE_OK || n == 0)
            return -EPROTO; // malformed, or the peer closed before the end of the message
    }
    return 0;
}

// The pieces of url that a request needs, copied out as strings.
struct target {
    char host[128];
    char port[8];
    char path[512]; // path and query: the request target
};

static int url_field(const char *url, const struct http_parser_url *u, int f, char *dst, size_t cap)
{
    if (!(u->field_set & (1u << f)) || u->field_data[f].len >= cap)
        return -EINVAL;
    memcpy(dst, url + u->field_data[f].off, u->field_data[f].len);
    dst[u->field_data[f].len] = '\0';
    return 0;
}

static int parse_target(const char *url, struct target *t)
{
    struct http_parser_url u;
    char schema[8];

    http_parser_url_init(&u);
    if (http_parser_parse_url(url, strlen(url), 0, &u) != 0 ||
        url_field(url, &u, UF_SCHEMA, schema, sizeof schema) < 0 ||
        strcasecmp(schema, "http") != 0 || url_field(url, &u, UF_HOST, t->host, sizeof t->host) < 0)
        return -EINVAL;
    if (url_field(url, &u, UF_PORT, t->port, sizeof t->port) < 0)
        strcpy(t->port, "80");
    if (!(u.field_set & (1u << UF_PATH))) {
        strcpy(t->path, "/");
        return 0;
    }
    // The target runs from the path to the end of the query, or of the path if none.
    int last = u.field_set & (1u << UF_QUERY) ? UF_QUERY : UF_PATH;
    size_t len = u.field_data[last].off + u.field_data[last].len - u.field_data[UF_PATH].off;
    if (len >= sizeof t->path)
        return -EINVAL;
    memcpy(t->path, url + u.field_data[UF_PATH].off, len);
    t->path[len] = '\0';
    return 0;
}

int http_get(const char *url, int64_t deadline, struct http_response *resp)
{
    struct target t;
    char req[1024];

    memset(resp, 0, sizeof *resp);
    if (parse_target(url, &t) < 0)
        return -EINVAL;
    int len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: rill-example\r\n"
                       "Connection: close\r\n\r\n",
                       t.path, t.host, t.port);
    if (len < 0 || (size_t)len >= sizeof req)
        return -EINVAL;

    int fd = net_dial(t.host, t.port, deadline);
    if (fd < 0)
        return fd;
    struct get g = {.resp = resp};
    http_parser_init(&g.parser, HTTP_RESPONSE);
    g.parser.data = &g;
    ssize_t rc = net_send_all(fd, req, (size_t)len, deadline);
    if (rc >= 0)
        rc = http_read_message(fd, &g.parser, &settings, &g.done, deadline);
    rill_close(fd);
    return (int)(rc < 0 ? rc : 0);
}
