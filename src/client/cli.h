/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h - the tams command line, parsed: positional words and named options.
 *
 * Pure: no I/O, no allocation; the parsed form points into argv. Options are "--name VALUE",
 * "--name=VALUE" or a flag "--name", and may appear anywhere after the program name ("--" ends
 * them). Which names exist and which take a value is the table in cli.c, shared by every
 * command; a command then asks for the ones it understands (tams_cli_unused lists the others).
 */
#ifndef TAMS_CLIENT_CLI_H
#define TAMS_CLIENT_CLI_H

#include "core/common.h"

#define TAMS_CLI_MAXPOS 16
#define TAMS_CLI_MAXOPT 64

struct tams_cli_opt {
    const char *name;  /* canonical long name, without "--" (static) */
    const char *value; /* NULL for a flag */
    bool used;         /* set by tams_cli_get/has/next: the command understood it */
};

struct tams_cli {
    const char *pos[TAMS_CLI_MAXPOS]; /* positional words, the command first */
    size_t npos;
    struct tams_cli_opt opt[TAMS_CLI_MAXOPT];
    size_t nopt;
};

/* Parses argv[1..argc-1] into *out. Returns 0, or -1 with a message for the user in err
 * (unknown option, missing value, a value given to a flag, too many words). */
int tams_cli_parse(int argc, char *const *argv, struct tams_cli *out, char *err, size_t errlen);

/* The value of the last --name given, or NULL; marks every --name as used. */
const char *tams_cli_get(struct tams_cli *c, const char *name);

/* Whether --name was given (flag or with value); marks it used. */
bool tams_cli_has(struct tams_cli *c, const char *name);

/* Iterates repeated options: returns the value of the first --name after index *it (start with
 * *it = 0) and advances *it past it; NULL at the end. */
const char *tams_cli_next(struct tams_cli *c, const char *name, size_t *it);

/* The name of the first option no tams_cli_get/has/next asked for, or NULL. */
const char *tams_cli_unused(const struct tams_cli *c);

/* Positional word i, or NULL. */
static inline const char *tams_cli_pos(const struct tams_cli *c, size_t i)
{
    return i < c->npos ? c->pos[i] : NULL;
}

#endif
