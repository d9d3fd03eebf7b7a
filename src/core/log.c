/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - JSON log lines on stderr. */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define ACCESS_BUF_CAP (16u << 10)

static enum tams_log_level min_level = TAMS_LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void tams_log_set_level(enum tams_log_level level)
{
    min_level = level;
}

static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

static void write_all(const char *json, size_t len)
{
    while (len) {
        ssize_t n = write(STDERR_FILENO, json, len);
        if (n <= 0)
            return;
        json += n;
        len -= (size_t)n;
    }
}

void tams_log_line(const char *json, size_t len)
{
    /* One writer at a time, so lines never interleave whatever stderr is. */
    pthread_mutex_lock(&write_mu);
    write_all(json, len);
    pthread_mutex_unlock(&write_mu);
}

/* One buffer per logging thread, all on a list so the flusher can reach them. */
struct access_buf {
    pthread_mutex_t mu;
    size_t len;
    struct access_buf *next;
    char data[ACCESS_BUF_CAP];
};

static pthread_mutex_t bufs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct access_buf *bufs;
static _Thread_local struct access_buf *my_buf;
static pthread_t flusher;
static bool flusher_running;
static pthread_mutex_t flusher_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flusher_cv = PTHREAD_COND_INITIALIZER;

/* Caller holds b->mu. */
static void drain(struct access_buf *b)
{
    if (!b->len)
        return;
    tams_log_line(b->data, b->len);
    b->len = 0;
}

void tams_log_access(const char *json, size_t len)
{
    struct access_buf *b = my_buf;
    if (len > ACCESS_BUF_CAP / 2) {
        tams_log_line(json, len);
        return;
    }
    if (!b) {
        b = tams_calloc(1, sizeof(*b));
        pthread_mutex_init(&b->mu, NULL);
        pthread_mutex_lock(&bufs_mu);
        b->next = bufs;
        bufs = b;
        pthread_mutex_unlock(&bufs_mu);
        my_buf = b;
    }
    pthread_mutex_lock(&b->mu);
    if (b->len + len > ACCESS_BUF_CAP)
        drain(b);
    memcpy(b->data + b->len, json, len);
    b->len += len;
    pthread_mutex_unlock(&b->mu);
}

void tams_log_flush(void)
{
    pthread_mutex_lock(&bufs_mu);
    for (struct access_buf *b = bufs; b; b = b->next) {
        pthread_mutex_lock(&b->mu);
        drain(b);
        pthread_mutex_unlock(&b->mu);
    }
    pthread_mutex_unlock(&bufs_mu);
}

static void *flush_loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&flusher_mu);
    while (flusher_running) {
        struct timespec until;
        tams_clock_deadline(&until, TAMS_LOG_FLUSH_MS);
        pthread_cond_timedwait(&flusher_cv, &flusher_mu, &until);
        pthread_mutex_unlock(&flusher_mu);
        tams_log_flush();
        pthread_mutex_lock(&flusher_mu);
    }
    pthread_mutex_unlock(&flusher_mu);
    return NULL;
}

void tams_log_start_flusher(void)
{
    flusher_running = true;
    if (pthread_create(&flusher, NULL, flush_loop, NULL) != 0)
        TAMS_BUG("cannot start the log flusher thread");
}

void tams_log_stop_flusher(void)
{
    struct access_buf *b;
    pthread_mutex_lock(&flusher_mu);
    if (!flusher_running) {
        pthread_mutex_unlock(&flusher_mu);
        return;
    }
    flusher_running = false;
    pthread_cond_signal(&flusher_cv);
    pthread_mutex_unlock(&flusher_mu);
    pthread_join(flusher, NULL);
    tams_log_flush();
    pthread_mutex_lock(&bufs_mu);
    while ((b = bufs)) {
        bufs = b->next;
        pthread_mutex_destroy(&b->mu);
        tams_free(b);
    }
    pthread_mutex_unlock(&bufs_mu);
}

void tams_log(enum tams_log_level level, const char *fmt, ...)
{
    struct tams_buf msg = TAMS_BUF_INIT(4096), line = TAMS_BUF_INIT(8192);
    struct tams_json j;
    char ts[TAMS_RFC3339_MAX];
    va_list ap;

    if (level < min_level)
        return;
    va_start(ap, fmt);
    tams_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    tams_clock_now_rfc3339(ts);
    tams_json_init(&j, &line);
    tams_json_obj_open(&j);
    tams_json_kstr(&j, "time", ts);
    tams_json_kstr(&j, "level", level_names[level]);
    tams_json_key(&j, "msg");
    tams_json_strn(&j, msg.data, msg.len);
    tams_json_obj_close(&j);
    tams_buf_addch(&line, '\n');
    tams_log_line(line.data, line.len);
    tams_buf_release(&msg);
    tams_buf_release(&line);
}
