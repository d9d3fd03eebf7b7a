/* SPDX-License-Identifier: Apache-2.0 */
/* secrets.h - webhook api keys at rest (api_key_value, notes §8.1-8.2): sealed in the store,
 * opened only to deliver.
 *
 * One 256-bit key, from the webhook_secret_key setting (64 hex digits) or else the file
 * <data_dir>/webhook.key, which is created (mode 0600, 32 random bytes as hex) when missing.
 * Two keys are derived from it with HMAC-SHA256: one seals values with AES-256-GCM (a random
 * 96-bit nonce each time, the webhook's url and api_key_name as associated data, so a sealed
 * value moved to another registration does not open), the other gives each value a stable
 * identity (HMAC-SHA256, hex) so a registration can be found by (url, api_key_name,
 * api_key_value) without the value in clear. Instances sharing a store need the same key.
 *
 * A struct tams_webhook_secrets is immutable after tams_webhook_secrets_open: every function
 * may be called from any thread.
 */
#ifndef TAMS_EVENTS_SECRETS_H
#define TAMS_EVENTS_SECRETS_H

#include "core/common.h"
#include "core/buf.h"

#define TAMS_WEBHOOK_KEY_FILE "webhook.key"
#define TAMS_WEBHOOK_SECRET_ID_HEX 64 /* characters of an identity, without the NUL */

struct tams_webhook_secrets;

/* hex_key: "" (use or create the key file in data_dir) or 64 hex digits. Returns 0, or IO /
 * BADREQUEST with the reason in why (never the key). */
int tams_webhook_secrets_open(struct tams_webhook_secrets **out, const char *hex_key,
                              const char *data_dir, struct tams_buf *why);
void tams_webhook_secrets_free(struct tams_webhook_secrets *s);

/* Appends value sealed ("v1:" and base64 of nonce, ciphertext and tag) to out. */
void tams_webhook_secret_seal(const struct tams_webhook_secrets *s, const char *url,
                              const char *name, const char *value, struct tams_buf *out);
/* Appends the value of a sealed text to out (the caller cleanses it); BADREQUEST when it is
 * not sealed with this key for this url and name. */
int tams_webhook_secret_open(const struct tams_webhook_secrets *s, const char *url,
                             const char *name, const char *sealed, struct tams_buf *out);
/* The identity of a value: lowercase hex, NUL-terminated. */
void tams_webhook_secret_id(const struct tams_webhook_secrets *s, const char *value,
                            char out[TAMS_WEBHOOK_SECRET_ID_HEX + 1]);

#endif
