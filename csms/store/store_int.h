/*
 * store/store_int.h — internals shared by store.c and the backends (not part of the API).
 */
#ifndef LW_STORE_INT_H
#define LW_STORE_INT_H

#include "store/store.h"

/* One schema migration: csms/store/migrations/NNN_name.sql, embedded by gen_migrations.sh. */
typedef struct lw_store_migration {
    int version; /* NNN */
    const char *name;
    const char *sql;
} lw_store_migration_t;
/* Ends with {0, NULL, NULL}; versions strictly increasing. */
extern const lw_store_migration_t lw_store_migrations[];

/* Dedupe key of a write (SHA-256 over its kind-relevant fields, or a readable key such as
 * "txid:seqNo"). Writes the key into out (at most 64 bytes) and returns its length; 0 when
 * the kind is not deduplicated. Pure function of the write, so a retry gets the same key. */
size_t lw_store_dedupe_key(const lw_store_write_t *w, uint8_t out[64]);

#endif
