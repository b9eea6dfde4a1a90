/*
 * store/walbuf.h — an SQLite VFS over the default one that writes the WAL frames of a
 * transaction with one write call instead of two per frame (walbuf.c says what it keeps).
 */
#ifndef LW_STORE_WALBUF_H
#define LW_STORE_WALBUF_H

#include <sqlite3.h>

/* The name to pass to sqlite3_open_v2 once lw_walbuf_register returned SQLITE_OK. */
#define LW_WALBUF_VFS "lw-walbuf"

/* Registers the VFS (not as the default), once per process; thread-safe. Returns SQLITE_OK,
 * or an SQLite error code if the default VFS cannot be wrapped (then open without it). */
int lw_walbuf_register(void);

#endif
