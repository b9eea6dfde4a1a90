/*
 * base/mem.c — giving freed memory back to the operating system after a burst of work.
 *
 * The ladewerk executable links mimalloc (CMakeLists.txt, LW_MIMALLOC); the libraries do not
 * depend on it. mimalloc keeps a heap per thread and decommits its free pages only while that
 * thread allocates, so a station loop that goes quiet after a boot storm would hold the
 * memory of 19,000 sessions for good (measured: 39.5 MB kept, where glibc's malloc_trim gave
 * back 13 MB). mi_collect is looked up weakly: present when the executable links mimalloc,
 * NULL in the tests and in firmware that embeds the station library.
 */
#include "ladewerk/base.h"

#include <malloc.h>
#include <stdbool.h>

extern void mi_collect(bool force) __attribute__((weak));

void lw_mem_release(void)
{
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's allocator owns the heap and has nothing to give back this way. glibc's
     * malloc_trim would set up glibc's own (unused) arenas from whichever thread calls it
     * first; with several threads doing so, glibc aborted a sanitizer build at shutdown
     * ("malloc assertion failure in __malloc_arena_thread_freeres", integration/keepalive,
     * about one run in twenty when run in parallel). */
#else
    if (mi_collect)
        mi_collect(true); /* the calling thread's heap, and abandoned segments */
    else
        malloc_trim(0); /* glibc: every arena */
#endif
}
