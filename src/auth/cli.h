/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h - `tamsd user ...` and `tamsd token ...`: manage the credentials file.
 *
 *   tamsd user add NAME --scopes LIST [settings]     password read from stdin (one line)
 *   tamsd user delete NAME [settings]
 *   tamsd user list [settings]
 *   tamsd token create --name NAME --scopes LIST [settings]   prints the token once
 *   tamsd token revoke NAME [settings]
 *   tamsd token list [settings]
 *
 * [settings] are the server's own options (--data-dir, --config, ...), resolved exactly as the
 * server resolves them (defaults < config file < TAMS_* environment < command line); only
 * data_dir is used. Changes are written atomically under a lock, and a running server picks
 * them up within a second. Exit status: 0 done, 1 failed (exists, not found, I/O), 2 usage.
 */
#ifndef TAMS_AUTH_CLI_H
#define TAMS_AUTH_CLI_H

#include "core/common.h"

/* True when argv[1] names a credentials subcommand. */
bool tams_auth_cli_wants(int argc, char **argv);
/* Runs it; returns the process exit status. in is where passwords are read from. */
int tams_auth_cli(int argc, char **argv, char **envp, FILE *in, FILE *out, FILE *err);

#endif
