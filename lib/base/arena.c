/*
 * arena.c — bump allocator for decoded messages: one inline block, then heap blocks;
 * everything is released together by lw_arena_reset or lw_arena_free.
 */
#include "ladewerk/base.h"
#include "ladewerk/limits.h"

#include <stdlib.h>
#include <string.h>

struct lw_arena_block {
    lw_arena_block_t *next;
    size_t size, used;
    _Alignas(8) char data[];
};

void lw_arena_init(lw_arena_t *a, size_t max)
{
    a->head = NULL;
    a->used_total = 0;
    a->max = max ? max : LW_ARENA_DEFAULT_MAX;
    a->first_used = 0;
}

void *lw_arena_alloc(lw_arena_t *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (n == 0) n = 8;
    if (n > a->max || a->used_total > a->max - n) return NULL;
    if (a->first_used + n <= sizeof(a->first)) {
        void *p = a->first + a->first_used;
        a->first_used += n;
        a->used_total += n;
        return p;
    }
    lw_arena_block_t *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t sz = b ? b->size * 2 : 1024;
        if (sz < n) sz = n;
        lw_arena_block_t *nb = malloc(sizeof(*nb) + sz);
        if (!nb) return NULL;
        nb->next = a->head;
        nb->size = sz;
        nb->used = 0;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used_total += n;
    return p;
}

char *lw_arena_strdup(lw_arena_t *a, const char *p, size_t n)
{
    char *r = lw_arena_alloc(a, n + 1);
    if (!r) return NULL;
    if (n) memcpy(r, p, n);
    r[n] = 0;
    return r;
}

void lw_arena_free(lw_arena_t *a)
{
    lw_arena_block_t *b = a->head;
    while (b) {
        lw_arena_block_t *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->used_total = 0;
    a->first_used = 0;
}

void lw_arena_reset(lw_arena_t *a)
{
    lw_arena_free(a);
}
