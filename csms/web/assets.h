/*
 * web/assets.h — the dashboard's files, compiled into the binary by
 * cmake/embed_assets.cmake. The table ends with an entry whose name is NULL.
 */
#ifndef LW_WEB_ASSETS_H
#define LW_WEB_ASSETS_H
#include <stddef.h>

typedef struct lw_asset {
    const char *name;
    const unsigned char *data; /* static; NUL-terminated for convenience */
    size_t len;
} lw_asset_t;

extern const lw_asset_t lw_web_assets[];

#endif
