/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - JSON log lines on stderr. */
#include "core/common.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"

#include <unistd.h>

static enum tams_log_level min_level = TAMS_LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void tams_log_set_level(enum tams_log_level level)
{
    min_level = level;
}

void tams_log_line(const char *json, size_t len)
{
    /* Lines are small; a single write() to stderr is not interleaved with other writers. */
    while (len) {
        ssize_t n = write(STDERR_FILENO, json, len);
        if (n <= 0)
            return;
        json += n;
        len -= (size_t)n;
    }
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
