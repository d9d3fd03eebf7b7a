/* SPDX-License-Identifier: Apache-2.0 */
/* http.h - one connection to a TAMS server over libcurl: requests, auth, error reports.
 *
 * The base URL, credentials and verbosity are fixed at init. Credentials (a bearer token, or a
 * user and password for Basic) go only to URLs under the base URL, never to another origin such
 * as a presigned storage URL. Single-threaded: one struct per thread.
 */
#ifndef TAMS_CLIENT_HTTP_H
#define TAMS_CLIENT_HTTP_H

#include "core/common.h"
#include "core/buf.h"

/* Exit statuses of the tams program (documented in docs/client.md). */
enum tams_exit {
    TAMS_EXIT_OK = 0,
    TAMS_EXIT_FAIL = 1,     /* local failure: a file, the media, an inconsistency found */
    TAMS_EXIT_USAGE = 2,    /* the command line is wrong */
    TAMS_EXIT_CONNECT = 3,  /* the server could not be reached */
    TAMS_EXIT_AUTH = 4,     /* 401 or 403 */
    TAMS_EXIT_NOTFOUND = 5, /* 404 */
    TAMS_EXIT_REFUSED = 6,  /* another 4xx */
    TAMS_EXIT_SERVER = 7,   /* 5xx or an answer that is not TAMS */
};

struct tams_http {
    void *_curl;
    char *base; /* read-only: without a trailing slash */
    char *_auth_header;
    char *_user, *_password;
    bool verbose;    /* log each request on stderr */
    int api_version; /* the server's TAMS version, major * 100 + minor (tams_api_version); 0 until
                        learnt */
};

struct tams_http_resp {
    long status;          /* 0 when no answer came */
    struct tams_buf body; /* the answer's body, capped at 256 MiB */
    char *next;           /* Link rel="next" made absolute, or NULL */
    char *location;       /* Location header, or NULL */
    char *content_type;   /* Content-Type header, or NULL */
    char error[512];      /* on failure: what happened, for the user */
};

/* Prepares h for base (http[s]://host[:port][/prefix]). token, or user+password, may be NULL.
 * Returns 0 or TAMS_ERR_BADREQUEST for a base URL that is not http(s). */
int tams_http_init(struct tams_http *h, const char *base, const char *token, const char *user,
                   const char *password);
void tams_http_release(struct tams_http *h);

/* Prepares h for another server, base, with src's credentials and verbosity. Returns as
 * tams_http_init. */
int tams_http_init_like(struct tams_http *h, const struct tams_http *src, const char *base);

void tams_http_resp_init(struct tams_http_resp *r);
void tams_http_resp_release(struct tams_http_resp *r);

/* Sends method to target (a path under the base, starting with '/', or an absolute URL) with an
 * optional body (n bytes of content type ctype) and fills *r (released first). Returns an exit
 * status: TAMS_EXIT_OK for a 2xx; otherwise r->error says why, with the server's error
 * summary when it sent one. */
int tams_http_do(struct tams_http *h, const char *method, const char *target, const void *body,
                 size_t n, const char *ctype, struct tams_http_resp *r);

/* The exit status of an HTTP status. */
int tams_http_exit_of(long status);

#endif
