/*
 * ladewerk/base.h — the base layer every other layer stands on: one error model,
 * string views, bounded growable buffers, arenas, the injectable clock and logging.
 *
 * Ownership rules used throughout Ladewerk's public headers:
 *   "borrows"        the callee reads the memory only during the call;
 *   "takes"          the callee becomes the owner and frees it;
 *   "returns owned"  the caller frees the result with the function named;
 *   "valid until"    a view into memory owned by somebody else, with its end of life.
 */
#ifndef LADEWERK_BASE_H
#define LADEWERK_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors -------------------------------------------------------------------------------
 * One error model: functions return int, 0 on success or a negative LW_E* code from this
 * list. A call that fails never fires its callback. */
#define LW_ERRNO_MAP(X)                                                                            \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(INVAL, -2, "invalid argument")                                                               \
    X(TOOBIG, -3, "value exceeds a configured limit")                                              \
    X(PARSE, -4, "malformed input")                                                                \
    X(SCHEMA, -5, "message violates its schema")                                                   \
    X(NOTFOUND, -6, "not found")                                                                   \
    X(EXISTS, -7, "already exists")                                                                \
    X(BUSY, -8, "resource busy")                                                                   \
    X(TIMEDOUT, -9, "timed out")                                                                   \
    X(CLOSED, -10, "connection closed")                                                            \
    X(IO, -11, "input/output error")                                                               \
    X(TLS, -12, "TLS error")                                                                       \
    X(AUTH, -13, "authentication failed")                                                          \
    X(PROTO, -14, "protocol violation")                                                            \
    X(NOTSUP, -15, "not supported")                                                                \
    X(AGAIN, -16, "try again")                                                                     \
    X(STORE, -17, "store error")                                                                   \
    X(CANCELED, -18, "operation canceled")

enum {
#define LW_ERR_ENUM(name, code, text) LW_E##name = (code),
    LW_ERRNO_MAP(LW_ERR_ENUM)
#undef LW_ERR_ENUM
};

/* Returns a static string (never NULL) describing err. */
const char *lw_strerror(int err);
/* Returns the symbolic name ("LW_ENOMEM") of err, static, never NULL. */
const char *lw_err_name(int err);

/* ---- string views (non-owning) ------------------------------------------------------------ */
typedef struct lw_str {
    const char *p; /* not NUL-terminated in general */
    size_t len;
} lw_str_t;

#define LW_STR(lit)   ((lw_str_t){(lit), sizeof(lit) - 1})
#define LW_STR_NULL   ((lw_str_t){NULL, 0})
#define LW_STR_FMT(s) (int)(s).len, (s).p /* printf("%.*s", LW_STR_FMT(s)) */

/* Borrows s. Returns a view of the NUL-terminated string (NULL gives an empty view). */
lw_str_t lw_str_c(const char *s);
/* Comparisons borrow their arguments. */
bool lw_str_eq(lw_str_t a, lw_str_t b);
bool lw_str_eq_c(lw_str_t a, const char *c);
bool lw_str_case_eq_c(lw_str_t a, const char *c);
/* Returns owned, NUL-terminated copy (free with free()), or NULL on ENOMEM. */
char *lw_str_dup(lw_str_t s);
/* Copies s (borrowed) into dst (caller's, size bytes, size >= 1), cut to size - 1 bytes and
 * NUL-terminated: snprintf(dst, size, "%.*s", ...) without the formatting cost. Returns the
 * bytes copied. lw_cstr_copy does the same for a NUL-terminated src (NULL copies ""). */
size_t lw_str_copy(char *dst, size_t size, lw_str_t s);
size_t lw_cstr_copy(char *dst, size_t size, const char *src);
/* Writes the IPv4 address a (4 bytes, network order) as a dotted quad and a NUL into out
 * (caller's, 16 bytes); returns its length. */
size_t lw_ip4_text(const uint8_t a[4], char out[16]);

/* ---- owned growable buffer with a hard cap ------------------------------------------------ */
typedef struct lw_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap; /* allocated bytes */
    size_t max; /* hard cap on len; appends beyond it fail with LW_ETOOBIG */
} lw_buf_t;

/* Initializes an empty buffer that will never exceed max bytes. Allocates nothing. */
void lw_buf_init(lw_buf_t *b, size_t max);
/* Frees the storage; b may be reused after lw_buf_init. */
void lw_buf_free(lw_buf_t *b);
void lw_buf_reset(lw_buf_t *b); /* len = 0, storage kept */
/* Appends borrow their sources (copied into b) and return 0, LW_ETOOBIG past b->max (b is
 * left unchanged) or LW_ENOMEM. b owns its storage; free it with lw_buf_free. */
int lw_buf_reserve(lw_buf_t *b, size_t extra);
int lw_buf_append(lw_buf_t *b, const void *p, size_t n);
int lw_buf_append_str(lw_buf_t *b, lw_str_t s);
int lw_buf_append_c(lw_buf_t *b, const char *s);
int lw_buf_putc(lw_buf_t *b, char c);
int lw_buf_append_u64(lw_buf_t *b, uint64_t v); /* decimal, as printf's %llu */
/* Writes v in decimal (as printf's %llu, no NUL) into out (caller's, 20 bytes); returns the
 * digits written. */
size_t lw_u64_text(uint64_t v, char out[20]);
int lw_buf_printf(lw_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lw_buf_vprintf(lw_buf_t *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal with quotes and escapes. */
int lw_buf_append_json_str(lw_buf_t *b, lw_str_t s);
/* The JSON escape of byte c, as cJSON writes it: '"' and '\\' and bytes below 0x20 (the short
 * forms \b \f \n \r \t, else \u00xx); written into esc (caller's), its length returned. 0:
 * c goes as it is ('/', DEL and UTF-8 bytes too). */
size_t lw_json_escape(unsigned char c, char esc[6]);
/* How many leading bytes of p[0..n) lw_json_escape leaves as they are (n: none to escape).
 * Borrows p. */
size_t lw_json_plain_prefix(const char *p, size_t n);
/* Makes data NUL-terminated (terminator not counted in len). */
int lw_buf_cstr(lw_buf_t *b);
/* Removes the first n bytes. */
void lw_buf_consume(lw_buf_t *b, size_t n);
lw_str_t lw_buf_view(const lw_buf_t *b); /* valid until the next change of b */

/* ---- arena: many small allocations, freed at once ----------------------------------------- */
typedef struct lw_arena_block lw_arena_block_t;
typedef struct lw_arena {
    lw_arena_block_t *head;
    size_t used_total; /* bytes handed out */
    size_t max;        /* hard cap on bytes handed out; 0 = LW_ARENA_DEFAULT_MAX */
    char first[256];   /* inline first block: small messages allocate nothing */
    size_t first_used;
} lw_arena_t;

/* The arena owns every block it hands out; callers never free them one by one. */
void lw_arena_init(lw_arena_t *a, size_t max);
/* Returns memory valid until lw_arena_reset/lw_arena_free, aligned to 8; NULL on ENOMEM or
 * when the cap is reached. */
void *lw_arena_alloc(lw_arena_t *a, size_t n);
/* Returns a NUL-terminated copy in the arena. */
char *lw_arena_strdup(lw_arena_t *a, const char *p, size_t n);
void lw_arena_reset(lw_arena_t *a);
void lw_arena_free(lw_arena_t *a);

/* ---- clock (injectable) ------------------------------------------------------------------- */
typedef struct lw_clock {
    /* Milliseconds on a monotonic scale. */
    uint64_t (*mono_ms)(void *ctx);
    /* Wall-clock time, milliseconds since the Unix epoch (UTC). */
    int64_t (*wall_ms)(void *ctx);
    void *ctx;
} lw_clock_t;

/* Returns the process-wide real clock (static, never NULL; never freed). A manual clock is
 * owned by the test that embeds it and must outlive every user of &mc->clock. */
const lw_clock_t *lw_clock_real(void);

/* A manual clock for tests: time moves only when told to. */
typedef struct lw_manual_clock {
    lw_clock_t clock; /* pass &mc->clock wherever a clock is wanted */
    uint64_t mono;
    int64_t wall;
} lw_manual_clock_t;
void lw_manual_clock_init(lw_manual_clock_t *mc, int64_t wall_ms);
void lw_manual_clock_advance(lw_manual_clock_t *mc, uint64_t ms);

static inline uint64_t lw_clock_mono(const lw_clock_t *c)
{
    return c->mono_ms(c->ctx);
}
static inline int64_t lw_clock_wall(const lw_clock_t *c)
{
    return c->wall_ms(c->ctx);
}

/* Formats ms since epoch as RFC 3339 UTC with milliseconds ("2026-01-02T03:04:05.678Z")
 * into out (at least 25 bytes). Returns the length written. */
size_t lw_time_format(int64_t wall_ms, char *out, size_t outsz);
/* Parses an RFC 3339 date-time (timezone required). Returns 0 and ms since epoch, or
 * LW_EPARSE. Second 60 is accepted only at 23:59:60 UTC (RFC 3339 §5.7, after the offset)
 * and reads as 23:59:59 plus the fraction. Borrows s. */
int lw_time_parse(lw_str_t s, int64_t *wall_ms);

/* ---- logging (structured: key=value on one line) ------------------------------------------- */
typedef enum { LW_LOG_DEBUG, LW_LOG_INFO, LW_LOG_WARN, LW_LOG_ERROR } lw_log_level_t;
void lw_log_set_level(lw_log_level_t lvl);
lw_log_level_t lw_log_get_level(void);
/* lw_log(LW_LOG_INFO, "session", "station=%s event=connected", id) */
void lw_log(lw_log_level_t lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
/* ---- memory ------------------------------------------------------------------------------ */
/* Gives the allocator's free memory back to the operating system: with mimalloc (linked by the
 * ladewerk executable) the calling thread's heap, so each thread that went quiet calls it
 * itself; with glibc every arena (malloc_trim). Owns nothing; costs a walk of the heap, so
 * call it after a burst, not per message. */
void lw_mem_release(void);

#endif
