/* SPDX-License-Identifier: Apache-2.0 */
/* config_values.h - the parsers of setting values that config.c applies to every source (file,
 * environment, argv). Each returns 0, or -1 with the reason (never the value itself when it may
 * be a secret) written into why (whylen bytes), and leaves its outputs alone on failure. */
#ifndef TAMS_CORE_CONFIG_VALUES_H
#define TAMS_CORE_CONFIG_VALUES_H

#include "core/common.h"

#define TAMS_CONFIG_VALUE_MAX (8 * 1024) /* bytes in one value from any source */

/* 64 hex digits, either case (webhook_secret_key). */
bool tams_cfg_hex_key_valid(const char *s);
/* host:port, [v6]:port, or (need_port false) either without the port (*port = -1). On success
 * *host (if not NULL) gets a copy of the host without brackets, which the caller frees. */
int tams_cfg_parse_hostport(const char *s, size_t n, bool need_port, char **host, int *port,
                            char *why, size_t whylen);
/* An absolute http(s) URL with no user, query or fragment, only printable ASCII; *keep gets its
 * length without trailing slashes. */
int tams_cfg_check_url(const char *v, size_t *keep, char *why, size_t whylen);
/* "", "*" or a comma-separated list of http(s) origins; *out (freed first) gets the list
 * normalised. */
int tams_cfg_parse_origins(const char *v, char **out, char *why, size_t whylen);
/* A decimal integer in [min, max]. */
int tams_cfg_parse_int(const char *v, long long min, long long max, long long *out, char *why,
                       size_t whylen);
/* A byte count with an optional k, M or G (powers of 1024), in [min, max]. */
int tams_cfg_parse_size(const char *v, long long min, long long max, size_t *out, char *why,
                        size_t whylen);
/* true/false/yes/no/on/off/1/0, any case. */
int tams_cfg_parse_bool(const char *v, bool *out, char *why, size_t whylen);
/* "", sqlite:PATH, postgresql://... or postgres://... */
int tams_cfg_parse_database(const char *v, char *why, size_t whylen);

#endif
