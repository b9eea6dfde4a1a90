/*
 * store/walbuf.c — an SQLite VFS that gathers the writer's WAL frames into one write per
 * commit (see walbuf.h).
 *
 * SQLite writes each WAL frame as two calls: its 24-byte header, then the page. A commit of
 * 30 pages is 60 pwrite calls, each a syscall that locks the inode, looks up and dirties one
 * or two page-cache folios and returns; in a boot storm they were ~5% of the server's core.
 * Here, frames appended one after the other are kept in a buffer and written with one call
 * when the commit frame's page arrives (the WAL file format: a frame header whose bytes 4-7
 * are not zero marks the last frame of a transaction), before SQLite goes on to sync the file
 * (synchronous=FULL) and to publish the commit in the wal-index. So:
 *  - what SQLite has committed is in the file (the page cache) before any other connection
 *    can see the commit, and before xSync returns, exactly as without this layer: a process
 *    crash after a commit loses nothing, a power loss after a FULL commit nothing;
 *  - frames of a transaction not yet committed may sit in the buffer: SQLite never lets
 *    another connection read those, and a crash loses them as it would lose the transaction;
 *  - any other use of the WAL file (a read, sync, truncate, size, lock or file control, a
 *    write that does not continue the buffer, closing) first writes the buffer out, so this
 *    connection reads its own frames back and SQLite's in-place rewrites (checksums, a frame
 *    overwritten within its transaction) land after the frames they follow, as they would.
 * Only the file SQLite opens with SQLITE_OPEN_WAL is buffered; every other file (the
 * database, the wal-index, temporary files) goes straight to the wrapped VFS.
 */
#include "store/walbuf.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Bytes gathered before they are written even without a commit (a bigger transaction is
 * written in pieces of up to this size): the unix VFS writes at most 128 KiB - 1 bytes per
 * call (SQLite masks the count to 17 bits; a longer write fails as "disk full"). 31 frames of
 * 4 KiB pages. */
#define WALBUF_CAP 0x1ffff
#define FRAME_HDR  24 /* WAL frame header (sqlite.org/fileformat2.html#walformat) */

typedef struct wb_file {
    sqlite3_file base;  /* pMethods: &wb_io_methods, or NULL if the wrapped open failed */
    sqlite3_file *real; /* the wrapped VFS's file, in the same allocation right after this */
    bool wal;           /* opened with SQLITE_OPEN_WAL: writes are gathered */
    unsigned char *buf; /* WALBUF_CAP bytes, allocated at the first gathered write */
    size_t len;         /* bytes in buf, which go at file offset off */
    sqlite3_int64 off;
    sqlite3_int64 next;   /* the offset right after the last write: appends continue it */
    sqlite3_int64 commit; /* where the page of a commit frame goes (its header's end), or -1 */
} wb_file_t;

static sqlite3_vfs wb_vfs;
static sqlite3_vfs *wb_real_vfs;
static sqlite3_io_methods wb_io_methods;

#define REAL(f) (((wb_file_t *)(f))->real)

/* Writes the buffer out. On failure the buffer is dropped: SQLite sees the write fail and
 * abandons the transaction those frames belonged to. */
static int wb_flush(wb_file_t *f)
{
    if (!f->len) return SQLITE_OK;
    int rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
    f->len = 0;
    if (rc != SQLITE_OK) f->next = f->commit = -1;
    return rc;
}

static int wb_close(sqlite3_file *file)
{
    wb_file_t *f = (wb_file_t *)file;
    int rc = wb_flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
    wb_file_t *f = (wb_file_t *)file;
    int rc = wb_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amt, off);
}

static int wb_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
    wb_file_t *f = (wb_file_t *)file;
    if (!f->wal) return f->real->pMethods->xWrite(f->real, data, amt, off);
    int rc;
    bool ends_commit = off == f->commit;
    /* a frame header that marks a commit: the page written right after it ends the
     * transaction */
    const unsigned char *d = data;
    f->commit = amt == FRAME_HDR && (d[4] | d[5] | d[6] | d[7]) ? off + FRAME_HDR : -1;
    bool append = off == f->next && amt > 0 && (size_t)amt <= WALBUF_CAP;
    f->next = off + amt;
    if (f->len && (!append || f->len + (size_t)amt > WALBUF_CAP) && (rc = wb_flush(f))) return rc;
    if (!append) return f->real->pMethods->xWrite(f->real, data, amt, off);
    if (!f->buf && !(f->buf = malloc(WALBUF_CAP)))
        return f->real->pMethods->xWrite(f->real, data, amt, off);
    if (!f->len) f->off = off;
    memcpy(f->buf + f->len, data, (size_t)amt);
    f->len += (size_t)amt;
    return ends_commit ? wb_flush(f) : SQLITE_OK;
}

static int wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    wb_file_t *f = (wb_file_t *)file;
    int rc = wb_flush(f);
    f->next = f->commit = -1;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *file, int flags)
{
    wb_file_t *f = (wb_file_t *)file;
    int rc = wb_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    wb_file_t *f = (wb_file_t *)file;
    int rc = wb_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int wb_lock(sqlite3_file *file, int lock)
{
    wb_file_t *f = (wb_file_t *)file;
    int rc = wb_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xLock(f->real, lock);
}

static int wb_unlock(sqlite3_file *file, int lock)
{
    wb_file_t *f = (wb_file_t *)file;
    int rc = wb_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xUnlock(f->real, lock);
}

static int wb_check_reserved(sqlite3_file *file, int *out)
{
    return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

static int wb_file_control(sqlite3_file *file, int op, void *arg)
{
    wb_file_t *f = (wb_file_t *)file;
    int rc = wb_flush(f);
    if (rc != SQLITE_OK) return rc;
    rc = f->real->pMethods->xFileControl(f->real, op, arg);
    /* the VFS name SQLite reports (PRAGMA vfs_list, errors) names this layer too */
    if (op == SQLITE_FCNTL_VFSNAME && rc == SQLITE_OK) {
        char *inner = *(char **)arg;
        *(char **)arg = sqlite3_mprintf("%s/%s", wb_vfs.zName, inner ? inner : "?");
        sqlite3_free(inner);
    }
    return rc;
}

static int wb_sector_size(sqlite3_file *file)
{
    return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int wb_device_characteristics(sqlite3_file *file)
{
    return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

/* The wal-index (shared memory) calls go to the database file: passed through unchanged. */
static int wb_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
    return REAL(file)->pMethods->xShmMap(REAL(file), region, size, extend, out);
}

static int wb_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

static void wb_shm_barrier(sqlite3_file *file)
{
    REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int wb_shm_unmap(sqlite3_file *file, int del)
{
    return REAL(file)->pMethods->xShmUnmap(REAL(file), del);
}

static int wb_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
    wb_file_t *f = (wb_file_t *)file;
    int rc = wb_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int wb_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    return REAL(file)->pMethods->xUnfetch(REAL(file), off, p);
}

static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                   int *out_flags)
{
    (void)vfs;
    wb_file_t *f = (wb_file_t *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int rc = wb_real_vfs->xOpen(wb_real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        /* SQLite calls xClose only if pMethods is set; the wrapped open cleaned up itself */
        f->base.pMethods = NULL;
        return rc;
    }
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->next = f->commit = -1;
    f->base.pMethods = &wb_io_methods;
    return SQLITE_OK;
}

/* The rest of the VFS (names, delete, access, randomness, time) is the wrapped one's. */
static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return wb_real_vfs->xDelete(wb_real_vfs, name, sync_dir);
}

static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return wb_real_vfs->xAccess(wb_real_vfs, name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return wb_real_vfs->xFullPathname(wb_real_vfs, name, n, out);
}

static void *wb_dl_open(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return wb_real_vfs->xDlOpen(wb_real_vfs, name);
}

static void wb_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    wb_real_vfs->xDlError(wb_real_vfs, n, out);
}

static void (*wb_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    (void)vfs;
    return wb_real_vfs->xDlSym(wb_real_vfs, h, sym);
}

static void wb_dl_close(sqlite3_vfs *vfs, void *h)
{
    (void)vfs;
    wb_real_vfs->xDlClose(wb_real_vfs, h);
}

static int wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return wb_real_vfs->xRandomness(wb_real_vfs, n, out);
}

static int wb_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return wb_real_vfs->xSleep(wb_real_vfs, us);
}

static int wb_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return wb_real_vfs->xCurrentTime(wb_real_vfs, out);
}

static int wb_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return wb_real_vfs->xGetLastError ? wb_real_vfs->xGetLastError(wb_real_vfs, n, out) : 0;
}

static int wb_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return wb_real_vfs->xCurrentTimeInt64(wb_real_vfs, out);
}

static int wb_rc = SQLITE_ERROR;

static void wb_register_once(void)
{
    wb_real_vfs = sqlite3_vfs_find(NULL);
    /* xShm* and xFetch are passed through: the wrapped VFS must have them (unix does) */
    if (!wb_real_vfs || wb_real_vfs->iVersion < 2 || !wb_real_vfs->xCurrentTimeInt64) return;
    wb_io_methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = wb_close,
        .xRead = wb_read,
        .xWrite = wb_write,
        .xTruncate = wb_truncate,
        .xSync = wb_sync,
        .xFileSize = wb_file_size,
        .xLock = wb_lock,
        .xUnlock = wb_unlock,
        .xCheckReservedLock = wb_check_reserved,
        .xFileControl = wb_file_control,
        .xSectorSize = wb_sector_size,
        .xDeviceCharacteristics = wb_device_characteristics,
        .xShmMap = wb_shm_map,
        .xShmLock = wb_shm_lock,
        .xShmBarrier = wb_shm_barrier,
        .xShmUnmap = wb_shm_unmap,
        .xFetch = wb_fetch,
        .xUnfetch = wb_unfetch,
    };
    wb_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(wb_file_t) + wb_real_vfs->szOsFile,
        .mxPathname = wb_real_vfs->mxPathname,
        .zName = LW_WALBUF_VFS,
        .xOpen = wb_open,
        .xDelete = wb_delete,
        .xAccess = wb_access,
        .xFullPathname = wb_full_pathname,
        .xDlOpen = wb_dl_open,
        .xDlError = wb_dl_error,
        .xDlSym = wb_dl_sym,
        .xDlClose = wb_dl_close,
        .xRandomness = wb_randomness,
        .xSleep = wb_sleep,
        .xCurrentTime = wb_current_time,
        .xGetLastError = wb_get_last_error,
        .xCurrentTimeInt64 = wb_current_time_int64,
    };
    wb_rc = sqlite3_vfs_register(&wb_vfs, 0);
}

int lw_walbuf_register(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, wb_register_once);
    return wb_rc;
}
