/* SPDX-License-Identifier: Apache-2.0 */
/* conns.c - connection caps, the request-head deadline and half-close reaping (see conns.h). */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "http/conns.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The watchdog looks at every connection this often: the deadlines hold to about this much. */
#define TICK_MS 100
/* A half-closed connection is closed once it has made no progress for this long, so a request
 * that arrived complete with the client's FIN is served, not cut. */
#define HALF_CLOSE_GRACE_US 250000
/* After a 408 the connection stays readable this long before it is closed, so the client can
 * read the answer before its further bytes meet a closed socket (which would reset it). */
#define LINGER_US 1000000
/* libmicrohttpd closes an idle kept-alive connection at its idle timeout; the guard's deadline
 * for the next head comes this much later, so the guard only closes connections that trickle. */
#define IDLE_SLACK_US 1000000

enum conn_state {
    ST_FREE,
    ST_HEAD,    /* waiting for the first request head, deadline from accept */
    ST_BUSY,    /* a request runs: its body and response are libmicrohttpd's */
    ST_IDLE,    /* kept alive, waiting for the next head, deadline from the last response */
    ST_CLOSING, /* the guard shut the socket (or is lingering before it does) */
};

struct addr_entry {
    unsigned char key[16];
    int count; /* admitted connections, including a reservation not yet opened */
    struct addr_entry *next;
};

/* One connection. The fields the serving thread writes are atomics; the rest belong to whoever
 * holds the guard's lock. */
struct tams_conn {
    int fd; /* -1: slot free */
    uint32_t gen;
    struct addr_entry *addr;
    int state;           /* enum conn_state, atomic */
    int64_t deadline_us; /* atomic; for ST_HEAD and ST_IDLE */
    int64_t idle_us;     /* the allowance for a kept-alive connection's next head */
    uint32_t progress;   /* atomic; bumped at every change of state by the serving thread */
    bool head_started;   /* atomic; the current request's request line has arrived */
    /* watchdog's own */
    bool rdhup;
    uint32_t seen_progress;
    int64_t seen_at_us;
    uint64_t idle_bytes; /* received when the watchdog first saw it idle after a request */
    int64_t linger_until_us;
    uint32_t next_free;
};

struct tams_conns {
    struct tams_conns_config cfg;
    struct tams_metrics *metrics;
    pthread_mutex_t lock;
    struct tams_conn *slots; /* cfg.max_connections */
    uint32_t free_head;      /* UINT32_MAX: none */
    uint32_t high_water;     /* slots at or past this index were never used */
    int held;                /* admitted connections, including reservations */
    int open;                /* atomic; opened and not yet closed */
    struct addr_entry **buckets;
    size_t nbuckets; /* a power of two */
    int epfd, wakefd;
    bool stop;
    pthread_t thread;
    bool thread_started;
};

/* What tams_conns_admit reserved for the tams_conns_open that follows on the same thread. */
static _Thread_local struct {
    struct tams_conns *g;
    struct addr_entry *addr;
} reserved;

/* ---- client addresses ----------------------------------------------------------------------- */

/* IPv4 as its IPv4-mapped IPv6 form; IPv6 cut to its /64 (one site's prefix). */
static void addr_key(const struct sockaddr *sa, socklen_t len, unsigned char key[16])
{
    memset(key, 0, 16);
    if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(key, &in6->sin6_addr, 16);
        if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            memset(key + 8, 0, 8);
    }
}

static size_t addr_hash(const struct tams_conns *g, const unsigned char key[16])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32)) & (g->nbuckets - 1);
}

static struct addr_entry *addr_get(struct tams_conns *g, const unsigned char key[16])
{
    size_t b = addr_hash(g, key);
    struct addr_entry *e;
    for (e = g->buckets[b]; e; e = e->next)
        if (memcmp(e->key, key, 16) == 0)
            return e;
    e = tams_calloc(1, sizeof(*e));
    memcpy(e->key, key, 16);
    e->next = g->buckets[b];
    g->buckets[b] = e;
    return e;
}

/* Drops one connection of e; the entry goes with its last one. */
static void addr_put(struct tams_conns *g, struct addr_entry *e)
{
    struct addr_entry **p;
    if (--e->count > 0)
        return;
    for (p = &g->buckets[addr_hash(g, e->key)]; *p; p = &(*p)->next) {
        if (*p == e) {
            *p = e->next;
            tams_free(e);
            return;
        }
    }
}

/* ---- admission ------------------------------------------------------------------------------ */

/* A reservation this thread made that no tams_conns_open claimed: libmicrohttpd gave up on that
 * connection between its accept policy and its notification (out of memory). */
static void drop_stale_reservation(struct tams_conns *g)
{
    if (reserved.g != g)
        return;
    if (reserved.addr)
        addr_put(g, reserved.addr);
    g->held--;
    reserved.g = NULL;
    reserved.addr = NULL;
}

bool tams_conns_admit(struct tams_conns *g, const struct sockaddr *addr, socklen_t len)
{
    unsigned char key[16];
    struct addr_entry *e = NULL;

    addr_key(addr, len, key);
    pthread_mutex_lock(&g->lock);
    drop_stale_reservation(g);
    if (g->held >= g->cfg.max_connections) {
        pthread_mutex_unlock(&g->lock);
        tams_metrics_conn_refused(g->metrics, TAMS_CONN_REFUSED_LIMIT);
        return false;
    }
    if (g->cfg.max_per_address > 0) {
        e = addr_get(g, key);
        if (e->count >= g->cfg.max_per_address) { /* so e is in use: it stays */
            pthread_mutex_unlock(&g->lock);
            tams_metrics_conn_refused(g->metrics, TAMS_CONN_REFUSED_ADDRESS);
            return false;
        }
        e->count++;
    }
    g->held++;
    reserved.g = g;
    reserved.addr = e;
    pthread_mutex_unlock(&g->lock);
    return true;
}

struct tams_conn *tams_conns_open(struct tams_conns *g, int fd)
{
    struct tams_conn *c;
    struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLET};
    uint32_t i;

    pthread_mutex_lock(&g->lock);
    if (reserved.g != g || g->free_head == UINT32_MAX) {
        pthread_mutex_unlock(&g->lock);
        return NULL;
    }
    i = g->free_head;
    c = &g->slots[i];
    g->free_head = c->next_free;
    if (i >= g->high_water)
        g->high_water = i + 1;
    c->fd = fd;
    c->gen++;
    c->addr = reserved.addr;
    reserved.g = NULL;
    reserved.addr = NULL;
    c->rdhup = false;
    c->seen_progress = 0;
    c->idle_bytes = 0;
    c->seen_at_us = tams_clock_mono_us();
    c->linger_until_us = 0;
    c->idle_us = (int64_t)g->cfg.idle_timeout_ms * 1000 + IDLE_SLACK_US;
    __atomic_store_n(&c->progress, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&c->head_started, false, __ATOMIC_RELAXED);
    __atomic_store_n(&c->deadline_us, c->seen_at_us + (int64_t)g->cfg.header_timeout_ms * 1000,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&c->state, ST_HEAD, __ATOMIC_RELEASE);
    /* The watchdog hears of the client's FIN; the data word names the slot and its use. */
    ev.data.u64 = (uint64_t)i | (uint64_t)c->gen << 32;
    if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        tams_log_warn("cannot watch connection socket %d: %s", fd, strerror(errno));
    __atomic_fetch_add(&g->open, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&g->lock);
    return c;
}

void tams_conns_close(struct tams_conns *g, struct tams_conn *c)
{
    if (!c)
        return;
    /* Under the lock, and before libmicrohttpd closes the socket: the watchdog never touches a
     * descriptor number that may already belong to another connection. */
    pthread_mutex_lock(&g->lock);
    epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->addr)
        addr_put(g, c->addr);
    c->addr = NULL;
    c->fd = -1;
    __atomic_store_n(&c->state, ST_FREE, __ATOMIC_RELAXED);
    c->next_free = g->free_head;
    g->free_head = (uint32_t)(c - g->slots);
    g->held--;
    __atomic_fetch_sub(&g->open, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&g->lock);
}

int tams_conns_open_count(struct tams_conns *g)
{
    return __atomic_load_n(&g->open, __ATOMIC_RELAXED);
}

/* ---- the serving thread's side: lock-free -------------------------------------------------- */

void tams_conns_head_started(struct tams_conn *c)
{
    if (c)
        __atomic_store_n(&c->head_started, true, __ATOMIC_RELAXED);
}

bool tams_conns_head_done(struct tams_conn *c)
{
    int st;
    if (!c)
        return true;
    st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
    /* Against the watchdog, which moves HEAD or IDLE to CLOSING: exactly one of us wins. */
    while (st == ST_HEAD || st == ST_IDLE) {
        if (__atomic_compare_exchange_n(&c->state, &st, ST_BUSY, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            __atomic_fetch_add(&c->progress, 1, __ATOMIC_RELAXED);
            return true;
        }
    }
    return st == ST_BUSY;
}

void tams_conns_request_done(struct tams_conn *c)
{
    int st = ST_BUSY;
    if (!c)
        return;
    __atomic_store_n(&c->head_started, false, __ATOMIC_RELAXED);
    __atomic_store_n(&c->deadline_us, tams_clock_mono_us() + c->idle_us, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->progress, 1, __ATOMIC_RELAXED);
    /* Only this thread leaves BUSY (release: the watchdog that sees IDLE sees the deadline); a
     * connection the guard is closing stays CLOSING. */
    __atomic_compare_exchange_n(&c->state, &st, ST_IDLE, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* ---- the watchdog --------------------------------------------------------------------------- */

#define WAKE_WORD UINT64_MAX

/* Bytes the kernel has received on the connection so far, 0 when it cannot say. */
static uint64_t bytes_received(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
        return 0;
    return ti.tcpi_bytes_received;
}

/* Bytes received that libmicrohttpd has not read yet. */
static int unread_bytes(int fd)
{
    int n = 0;
    if (ioctl(fd, FIONREAD, &n) != 0)
        return 0;
    return n;
}

/* Did part of a request head arrive? The request line (reported), or any byte at all since
 * the connection opened or, kept alive, since its last request (as far as the watchdog saw). */
static bool head_partial(struct tams_conn *c, int st)
{
    if (__atomic_load_n(&c->head_started, __ATOMIC_RELAXED))
        return true;
    return bytes_received(c->fd) > (st == ST_HEAD ? 0 : c->idle_bytes);
}

/* Writes a whole response with the spec's error body straight to the socket. Best effort: only
 * while libmicrohttpd writes nothing on it (no request runs), and never blocking. */
static void send_error(int fd, int err, const char *reason, const char *summary)
{
    struct tams_buf body = TAMS_BUF_INIT(1024), msg = TAMS_BUF_INIT(2048);
    struct tams_json j;
    char now[TAMS_RFC3339_MAX];

    tams_clock_now_rfc3339(now);
    tams_json_init(&j, &body);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "type", tams_err_type(err));
    tams_json_kstr(&j, "summary", summary);
    tams_json_kstr(&j, "time", now);
    tams_json_obj_close(&j);
    tams_buf_addf(&msg,
                  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n",
                  tams_err_http_status(err), reason, body.len);
    tams_buf_add(&msg, body.data, body.len);
    if (send(fd, msg.data, msg.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        tams_log(TAMS_LOG_DEBUG, "cannot send %d to a closing connection: %s",
                 tams_err_http_status(err), strerror(errno));
    tams_buf_release(&msg);
    tams_buf_release(&body);
}

/* The head's deadline passed: 408 when part of a head came, then the connection is closed. */
static void close_late(struct tams_conns *g, struct tams_conn *c, int st, int64_t now)
{
    if (!__atomic_compare_exchange_n(&c->state, &st, ST_CLOSING, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return; /* the head completed just now: the request runs */
    if (head_partial(c, st)) {
        send_error(c->fd, TAMS_ERR_TIMEOUT, "Request Timeout",
                   st == ST_HEAD ? "the request head (request line and headers) did not arrive "
                                   "within header_timeout of the connection"
                                 : "the request head did not arrive within connection_timeout "
                                   "of the previous response");
        shutdown(c->fd, SHUT_WR);
        c->linger_until_us = now + LINGER_US;
    } else {
        shutdown(c->fd, SHUT_RDWR);
    }
    tams_metrics_conn_closed(g->metrics, TAMS_CONN_CLOSED_HEADER_TIMEOUT);
}

/* The client shut its side and nothing is left to read or to run. */
static void close_half_closed(struct tams_conns *g, struct tams_conn *c, int st)
{
    if (!__atomic_compare_exchange_n(&c->state, &st, ST_CLOSING, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    if (head_partial(c, st))
        send_error(c->fd, TAMS_ERR_BADREQUEST, "Bad Request",
                   "the request head is incomplete: the client closed its side of the "
                   "connection before the end of the headers");
    shutdown(c->fd, SHUT_RDWR);
    tams_metrics_conn_closed(g->metrics, TAMS_CONN_CLOSED_HALF_CLOSED);
}

static void note_rdhup(struct tams_conns *g, uint64_t word)
{
    uint32_t i = (uint32_t)word, gen = (uint32_t)(word >> 32);
    /* An event read before its connection closed may name a slot used again since: the use
     * count tells. */
    if (i < g->high_water && g->slots[i].fd >= 0 && g->slots[i].gen == gen)
        g->slots[i].rdhup = true;
}

static void scan(struct tams_conns *g, int64_t now)
{
    for (uint32_t i = 0; i < g->high_water; i++) {
        struct tams_conn *c = &g->slots[i];
        uint32_t progress;
        int st;

        if (c->fd < 0)
            continue;
        st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
        if (st == ST_CLOSING) {
            /* Lingering ends when the client has closed too (it read the answer) or at its
             * time. */
            if (c->linger_until_us && (c->rdhup || now >= c->linger_until_us)) {
                c->linger_until_us = 0;
                shutdown(c->fd, SHUT_RD); /* libmicrohttpd sees the hang-up and closes */
            }
            continue;
        }
        progress = __atomic_load_n(&c->progress, __ATOMIC_RELAXED);
        if (progress != c->seen_progress) {
            c->seen_progress = progress;
            c->seen_at_us = now;
            /* Read here, not on the request's path: a few calls a tick, not one per request. */
            if (st == ST_IDLE)
                c->idle_bytes = bytes_received(c->fd);
        }
        if (st != ST_HEAD && st != ST_IDLE)
            continue;
        if (now >= __atomic_load_n(&c->deadline_us, __ATOMIC_RELAXED))
            close_late(g, c, st, now);
        else if (c->rdhup && now - c->seen_at_us >= HALF_CLOSE_GRACE_US && unread_bytes(c->fd) == 0)
            close_half_closed(g, c, st);
    }
}

static void *watchdog_main(void *arg)
{
    struct tams_conns *g = arg;
    struct epoll_event ev[256];
    int64_t next_scan = 0;

    for (;;) {
        int n = epoll_wait(g->epfd, ev, (int)TAMS_ARRAY_SIZE(ev), TICK_MS);
        int64_t now = tams_clock_mono_us();
        bool stop;

        pthread_mutex_lock(&g->lock);
        stop = g->stop;
        for (int k = 0; !stop && k < n; k++)
            if (ev[k].data.u64 != WAKE_WORD)
                note_rdhup(g, ev[k].data.u64);
        if (!stop && now >= next_scan) {
            scan(g, now);
            next_scan = now + TICK_MS * 1000;
        }
        pthread_mutex_unlock(&g->lock);
        if (stop)
            return NULL;
    }
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

int tams_conns_new(struct tams_conns **out, const struct tams_conns_config *cfg,
                   struct tams_metrics *metrics, struct tams_buf *why)
{
    struct tams_conns *g = tams_calloc(1, sizeof(*g));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_WORD};
    sigset_t all, old;
    int rc;

    g->cfg = *cfg;
    if (g->cfg.max_connections < 1)
        g->cfg.max_connections = 1;
    g->metrics = metrics;
    g->epfd = g->wakefd = -1;
    pthread_mutex_init(&g->lock, NULL);
    g->slots = tams_calloc((size_t)g->cfg.max_connections, sizeof(*g->slots));
    for (int i = 0; i < g->cfg.max_connections; i++) {
        g->slots[i].fd = -1;
        g->slots[i].next_free = i + 1 < g->cfg.max_connections ? (uint32_t)i + 1 : UINT32_MAX;
    }
    g->free_head = 0;
    g->nbuckets = 64;
    while (g->nbuckets < (size_t)g->cfg.max_connections / 2 && g->nbuckets < (1u << 16))
        g->nbuckets *= 2;
    g->buckets = tams_calloc(g->nbuckets, sizeof(*g->buckets));
    g->epfd = epoll_create1(EPOLL_CLOEXEC);
    g->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (g->epfd < 0 || g->wakefd < 0 || epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->wakefd, &ev) != 0) {
        tams_buf_addf(why, "cannot set up the connection watchdog: %s", strerror(errno));
        tams_conns_free(g);
        return TAMS_ERR_IO;
    }
    /* The watchdog takes no signal: main waits for them with sigwait. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&g->thread, NULL, watchdog_main, g);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        tams_buf_addf(why, "cannot start the connection watchdog: %s", strerror(rc));
        tams_conns_free(g);
        return TAMS_ERR_IO;
    }
    g->thread_started = true;
    *out = g;
    return 0;
}

void tams_conns_free(struct tams_conns *g)
{
    if (!g)
        return;
    if (g->thread_started) {
        uint64_t one = 1;
        pthread_mutex_lock(&g->lock);
        g->stop = true;
        pthread_mutex_unlock(&g->lock);
        if (write(g->wakefd, &one, sizeof(one)) < 0)
            tams_log_warn("cannot wake the connection watchdog: %s", strerror(errno));
        pthread_join(g->thread, NULL);
    }
    for (size_t b = 0; g->buckets && b < g->nbuckets; b++) {
        while (g->buckets[b]) {
            struct addr_entry *e = g->buckets[b];
            g->buckets[b] = e->next;
            tams_free(e);
        }
    }
    if (reserved.g == g)
        reserved.g = NULL;
    if (g->epfd >= 0)
        close(g->epfd);
    if (g->wakefd >= 0)
        close(g->wakefd);
    pthread_mutex_destroy(&g->lock);
    tams_free(g->buckets);
    tams_free(g->slots);
    tams_free(g);
}
