/* SPDX-License-Identifier: Apache-2.0 */
/* cmd.h - the tams commands, each run with the parsed command line and a connection.
 *
 * A command returns an exit status (enum tams_exit in http.h) after telling the user on stderr
 * what went wrong. Results go to stdout: a table (or an indented document) by default, the
 * server's JSON with --json (one document; for lists, one element per line).
 */
#ifndef TAMS_CLIENT_CMD_H
#define TAMS_CLIENT_CMD_H

#include "core/common.h"
#include "client/cli.h"
#include "client/http.h"

struct tams_ctx {
    struct tams_cli *cli;
    struct tams_http http;
    bool json;    /* --json */
    bool quiet;   /* --quiet: errors only */
    bool verbose; /* --verbose: every request on stderr */
    bool tty;     /* stderr is a terminal: progress may be drawn there */
};

int tams_cmd_sources(struct tams_ctx *c);  /* sources list|show */
int tams_cmd_flows(struct tams_ctx *c);    /* flows list|show */
int tams_cmd_segments(struct tams_ctx *c); /* segments list FLOW */
int tams_cmd_delete(struct tams_ctx *c);   /* delete flow|source ID */
int tams_cmd_webhooks(struct tams_ctx *c); /* webhooks list|add|remove */
int tams_cmd_ingest(struct tams_ctx *c);   /* ingest FILE */
int tams_cmd_export(struct tams_ctx *c);   /* export ID -o OUT */
int tams_cmd_copy(struct tams_ctx *c);     /* copy ID --from URL --to URL */

/* Prints "tams: " and the message on stderr; returns TAMS_EXIT_USAGE. */
int tams_cmd_usage(const char *fmt, ...) TAMS_PRINTF(1, 2);

#endif
