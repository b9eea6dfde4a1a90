/*
 * codec_int.h — the descriptor tables that tools/codegen/codegen.py emits into lib/codec/gen/
 * and that the one hand-written runtime (codec.c) interprets. Internal to lib/codec; the
 * public API is include/ladewerk/codec.h.
 *
 * A message is a tree of object descriptors. Each field says where it lives in the struct
 * (offsetof), what JSON kind it holds, and the schema constraints on it. Arrays are a flag on
 * the field: the item kind and item constraints are the field's own, plus min/max items.
 */
#ifndef LW_CODEC_INT_H
#define LW_CODEC_INT_H

#include "ladewerk/codec.h"

#include <stdint.h>

typedef enum lw_codec_kind {
    LW_CK_STRING = 1, /* char *                         */
    LW_CK_INT,        /* int64_t  (+ bool has_ if optional and not an array) */
    LW_CK_NUMBER,     /* double   (+ bool has_)         */
    LW_CK_BOOL,       /* bool     (+ bool has_)         */
    LW_CK_ENUM,       /* int-sized C enum, 0 = absent   */
    LW_CK_OBJECT,     /* struct *  (array: struct *, items inline) */
    LW_CK_ANY,        /* char *: raw JSON text of any value */
} lw_codec_kind_t;

enum {
    LW_CF_REQUIRED = 1u << 0,
    LW_CF_ARRAY = 1u << 1,
    LW_CF_MIN = 1u << 2,      /* minimum (int: min_i, number: min_s) */
    LW_CF_MAX = 1u << 3,      /* maximum */
    LW_CF_MULTIPLE = 1u << 4, /* multipleOf 10^mult_exp10 */
    LW_CF_DATETIME = 1u << 5, /* format date-time */
    LW_CF_URI = 1u << 6,      /* format uri */
    LW_CF_MINITEMS = 1u << 7,
    LW_CF_MAXITEMS = 1u << 8,
    LW_CF_MINLEN = 1u << 9,
    LW_CF_MAXLEN = 1u << 10,
};

typedef struct lw_codec_enum {
    const char *name;          /* "ConnectorStatusEnumType" */
    const char *const *values; /* JSON strings; C value i+1 is values[i] */
    const uint8_t *lens;       /* strlen of each value */
    uint32_t count;
} lw_codec_enum_t;

typedef struct lw_codec_obj lw_codec_obj_t;

typedef struct lw_codec_field {
    const char *name; /* JSON property name, also the C member name */
    uint16_t name_len;
    uint8_t kind;              /* lw_codec_kind_t */
    uint16_t flags;            /* LW_CF_* */
    uint32_t off;              /* offsetof the value (arrays: the item pointer) */
    uint32_t aux;              /* offsetof has_<name> (optional scalars) or <name>_count (arrays) */
    uint32_t min_len, max_len; /* code points */
    uint32_t min_items, max_items;
    int64_t min_i, max_i;      /* integer bounds */
    const char *min_s, *max_s; /* number bounds as JSON number text */
    int32_t mult_exp10;        /* multipleOf = 10^mult_exp10 (0.1 -> -1) */
    const lw_codec_enum_t *en; /* LW_CK_ENUM */
    const lw_codec_obj_t *obj; /* LW_CK_OBJECT */
} lw_codec_field_t;

struct lw_codec_obj {
    const char *name;               /* C type stem: "MeterValuesRequest_meterValue" */
    uint32_t size;                  /* sizeof the struct */
    const lw_codec_field_t *fields; /* schema property order */
    uint32_t nfields;               /* at most 64 (codegen checks) */
    uint64_t required;              /* bit i: fields[i] is required */
    int open;                       /* additionalProperties allowed (not false) */
    uint32_t extra_off;             /* offsetof _extra when open */
};

struct lw_codec_msg {
    const char *name; /* "BootNotificationRequest" */
    lw_ocpp_version_t version;
    const lw_codec_obj_t *root;
};

/* Per-version action tables, sorted by name (generated). */
extern const lw_codec_action_t lw_v16_actions[];
extern const size_t lw_v16_action_count;
extern const lw_codec_action_t lw_v201_actions[];
extern const size_t lw_v201_action_count;
extern const lw_codec_action_t lw_v21_actions[];
extern const size_t lw_v21_action_count;

#endif
