/* SPDX-License-Identifier: Apache-2.0 */
/* media.c - what every user of storage backends shares. */
#include "core/common.h"
#include "media/media.h"

const struct tams_media_backend *tams_media_find(struct tams_media_backend *const *backends,
                                                 size_t n, const char *id)
{
    for (size_t i = 0; id && i < n; i++)
        if (strcmp(backends[i]->id, id) == 0)
            return backends[i];
    return NULL;
}
