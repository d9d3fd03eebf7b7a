/* SPDX-License-Identifier: Apache-2.0 */
/* conf.h - the client's config file: "key = value" lines giving defaults for the connection.
 *
 * Pure. Keys: url, token, user, password; '#' starts a comment line; blank lines are skipped.
 * Values run to the end of the line, surrounding blanks removed. Which file is read, and the
 * order of precedence (option, then environment, then file), is main.c's business.
 */
#ifndef TAMS_CLIENT_CONF_H
#define TAMS_CLIENT_CONF_H

#include "core/common.h"

struct tams_conf {
    char *url, *token, *user, *password; /* owned; NULL when not set */
};

/* Parses n bytes of text into *out (initialised here). Returns 0, or -1 with the line number in
 * *bad_line for a line that is not "key = value" or names an unknown key (out is then
 * released). */
int tams_conf_parse(const char *text, size_t n, struct tams_conf *out, int *bad_line);
void tams_conf_release(struct tams_conf *c);

#endif
