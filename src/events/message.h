/* SPDX-License-Identifier: Apache-2.0 */
/* message.h - the body a webhook receives for one outbox event (notes §8.4):
 * {"event_timestamp", "event_type", "event"}.
 *
 * The event member is the outbox payload as stored, except for flows/segments_added, whose
 * segments are written without the store's "_" members and with get_urls built for this
 * registration: its accept_get_urls, accept_storage_ids, presigned and verbose_storage shape
 * them as the same query parameters shape GET .../segments (notes §8.3). A segment's
 * object_timerange goes only to a webhook registered under 8.2 with include_object_timerange
 * (and only once the store keeps it: docs/tams-8.2-changes.md 23). base_url is the one of the
 * version prefix the webhook was registered under.
 * Pure apart from signing URLs; thread-safe.
 */
#ifndef TAMS_EVENTS_MESSAGE_H
#define TAMS_EVENTS_MESSAGE_H

#include "core/common.h"
#include "core/buf.h"
#include "events/webhook.h"
#include "media/media.h"
#include "store/store.h"

/* Where the get_urls of controlled objects come from. */
struct tams_message_urls {
    struct tams_media_backend *const *backends;
    size_t nbackends;
    const char *base_url; /* the API's base URL; NULL: segments carry no get_urls at all */
};

/* Appends the message for ev, as reg wants it, to out. Returns 0, TAMS_ERR_INTERNAL when a
 * segments_added payload does not parse, or TAMS_ERR_TOOBIG (out's cap). */
int tams_message_render(struct tams_buf *out, const struct tams_event_rec *ev,
                        const struct tams_webhook_reg *reg, const struct tams_message_urls *urls);

#endif
