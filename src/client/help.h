/* SPDX-License-Identifier: Apache-2.0 */
/* help.h - what each tams command does and which options it takes: "tams help [COMMAND]". */
#ifndef TAMS_CLIENT_HELP_H
#define TAMS_CLIENT_HELP_H

#include "core/common.h"

/* Prints the overview (command NULL) or one command's help to f. Returns TAMS_EXIT_OK, or
 * TAMS_EXIT_USAGE (with a message on stderr) for an unknown command. */
int tams_help(FILE *f, const char *command);

/* Whether command takes option (a long name from cli.c; the connection and output options are
 * taken by every command). */
bool tams_help_allows(const char *command, const char *option);

#endif
