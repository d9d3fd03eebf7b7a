/* SPDX-License-Identifier: Apache-2.0 */
/* ui_assets.h - the web interface's files, built into the binary.
 *
 * The table is generated at build time from web/ by cmake/EmbedWeb.cmake (ui_assets.c in the
 * build directory). Read-only, static: any thread may read it. */
#ifndef TAMS_API_UI_ASSETS_H
#define TAMS_API_UI_ASSETS_H

#include "core/common.h"

struct tams_ui_asset {
    const char *path;          /* relative to /ui/, e.g. "index.html", "js/app.js" */
    const unsigned char *data; /* len bytes, followed by a NUL */
    size_t len;
    const char *etag; /* quoted, as sent in the ETag header */
};

extern const struct tams_ui_asset tams_ui_assets[];
extern const size_t tams_ui_nassets;

#endif
