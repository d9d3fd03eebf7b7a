/* SPDX-License-Identifier: Apache-2.0 */
/* ui.h - the web interface's Content-Security-Policy, made once at start from the storage
 * backends (ui.c serves the files). */
#ifndef TAMS_API_UI_H
#define TAMS_API_UI_H

#include "core/common.h"
#include "media/media.h"

/* The policy for the interface's pages: everything from this origin only, but for segments,
 * which the player may also fetch from the origins the backends' get_urls name (S3 endpoints).
 * Returns a string the caller frees. */
char *tams_ui_csp_new(struct tams_media_backend *const *backends, size_t n);

#endif
