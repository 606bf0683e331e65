/* SPDX-License-Identifier: MIT */
/* Shared by the loader tests (after check.h; one test program = one
 * translation unit including this): a private temporary directory whose
 * files are removed at the end, a growing byte buffer to build files in,
 * the checks every loader test makes of a load, and the memory twin: a
 * file's bytes loaded from memory must give exactly what the file gave. */
#ifndef FASTMLP_TESTS_LOADTEST_H
#define FASTMLP_TESTS_LOADTEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fastmlp.h"

/* The address-space limit trick of the memory-bound tests cannot coexist
 * with ASan's shadow memory. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

/* ------------------------------------------------------------ temp files */

#define MAX_FILES 256
static const char *g_test = "test"; /* the program's name, for messages */
static char g_dir[1024];
static char g_files[MAX_FILES][1200];
static int g_n_files;

static inline void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", g_test, what, strerror(errno));
    exit(2);
}

/* Create the directory ($TMPDIR or /tmp) that test `name` writes into. */
static inline void tmp_init(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    g_test = name;
    snprintf(g_dir, sizeof g_dir, "%s/fastmlp-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(g_dir)) die(g_dir);
}

/* Remove every file named through tmp_path (some were never created), then
 * the directory. */
static inline void tmp_cleanup(void)
{
    for (int i = 0; i < g_n_files; i++) remove(g_files[i]);
    if (rmdir(g_dir) != 0) fprintf(stderr, "%s: rmdir %s: %s\n", g_test, g_dir, strerror(errno));
}

/* Full path of `name` in the temp dir, remembered for removal at the end. */
static inline const char *tmp_path(const char *name)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    for (int i = 0; i < g_n_files; i++)
        if (strcmp(g_files[i], p) == 0) return g_files[i];
    if (g_n_files == MAX_FILES) {
        fprintf(stderr, "%s: too many temp files\n", g_test);
        exit(2);
    }
    snprintf(g_files[g_n_files], sizeof g_files[0], "%s", p);
    return g_files[g_n_files++];
}

/* Write n bytes to the temp file `name`; returns its path (exits on failure). */
static inline const char *write_file(const char *name, const void *data, size_t n)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;
    if (ok && n > 0) ok = fwrite(data, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) die(path);
    return path;
}

/* The whole of a file, malloc'd (an empty file gives a 1-byte block and
 * *n = 0); exits when it cannot be read: the data must be there. */
static inline unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    long len = -1;
    if (f && fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (f && len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (p = malloc(len ? (size_t)len : 1)) != NULL &&
        fread(p, 1, (size_t)len, f) == (size_t)len) {
        fclose(f);
        *n = (size_t)len;
        return p;
    }
    fprintf(stderr, "%s: cannot read %s\n", g_test, path);
    exit(2);
}

/* ------------------------------------------------------- building files */

/* A growing byte buffer; p stays NUL-terminated, so text can use it too. */
struct buf {
    unsigned char *p;
    size_t n, cap;
};

static inline void put(struct buf *b, const void *src, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) die("out of memory");
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
    b->p[b->n] = 0;
}

static inline void put_u8(struct buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static inline void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* v as its low `bytes` bytes, little- or big-endian (the binary formats'
 * headers and payloads). */
static inline void put_le(struct buf *b, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) put_u8(b, (unsigned)(v >> (8 * i)) & 0xFF);
}

static inline void put_be(struct buf *b, uint64_t v, unsigned bytes)
{
    for (unsigned i = bytes; i-- > 0;) put_u8(b, (unsigned)(v >> (8 * i)) & 0xFF);
}

/* An IDX header: the magic (0, 0, type, ndim), then the dimensions. */
static inline void put_idx_header(struct buf *b, unsigned type, unsigned ndim, const uint32_t *dims)
{
    put_u8(b, 0);
    put_u8(b, 0);
    put_u8(b, type);
    put_u8(b, ndim);
    for (unsigned d = 0; d < ndim; d++) put_be(b, dims[d], 4);
}

#ifdef ZLIB_H /* a test that writes gzip files includes <zlib.h> first (and links zlib) */
/* n bytes gzip-compressed into the temp file `name`; returns its path. */
static inline const char *write_gz(const char *name, const void *data, size_t n)
{
    const char *path = tmp_path(name);
    gzFile f = gzopen(path, "wb");
    int ok = f != NULL;
    if (ok && n > 0) ok = gzwrite(f, data, (unsigned)n) == (int)n;
    if (f && gzclose(f) != Z_OK) ok = 0;
    if (!ok) die(path);
    return path;
}
#endif

/* ------------------------------------------------------------- checking */

static inline int is_zeroed(const struct mlp_dataset *ds)
{
    return ds->n_rows == 0 && ds->n_cols == 0 && ds->x_type == 0 && ds->x == NULL && ds->labels == NULL &&
           ds->n_classes == 0 && ds->targets == NULL && ds->n_targets == 0 && ds->owned == NULL;
}

static inline int has(const struct mlp_error *err, const char *s) { return strstr(err->msg, s) != NULL; }

static inline double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#if defined(__linux__) && !defined(TEST_ASAN)
/* Current address-space size in bytes, 0 if unknown. */
static inline uint64_t vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    if (!f) return 0;
    if (fscanf(f, "%llu", &pages) != 1) pages = 0;
    fclose(f);
    return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}
#endif

/* Same shape, types, image shape, inputs, labels and targets, bit for bit. */
static inline int same_dataset(const struct mlp_dataset *a, const struct mlp_dataset *b)
{
    if (a->n_rows != b->n_rows || a->n_cols != b->n_cols || a->x_type != b->x_type || a->n_classes != b->n_classes ||
        a->n_targets != b->n_targets || !a->labels != !b->labels || !a->targets != !b->targets ||
        memcmp(a->sample_shape, b->sample_shape, sizeof a->sample_shape) != 0)
        return 0;
    size_t es = a->x_type == MLP_ELEM_U8 ? 1 : a->x_type == MLP_ELEM_F32 ? 4 : 8;
    size_t nx = (size_t)(a->n_rows * a->n_cols) * es;
    if (nx && memcmp(a->x, b->x, nx) != 0) return 0;
    if (a->labels && memcmp(a->labels, b->labels, (size_t)a->n_rows * 4) != 0) return 0;
    if (a->targets && memcmp(a->targets, b->targets, (size_t)(a->n_rows * a->n_targets) * 8) != 0) return 0;
    return 1;
}

/* ------------------------------------------------------- memory twins */

/* A loader under test: from `path`, or from `b` when path is NULL (the
 * labels, where the format has them apart, from y_path or yb likewise). */
typedef enum mlp_status (*twin_load_fn)(struct mlp_dataset *ds, const char *path, const struct mlp_buffer *b,
                                        const char *y_path, const struct mlp_buffer *yb, struct mlp_error *err);

static int g_twins; /* pairs compared, for the report */

/* Files larger than this (sparse ones that declare more than the machine's
 * memory) are not read into memory for a twin. */
#define TWIN_MAX_BYTES ((off_t)64 << 20)

/* x (and y, may be NULL) loaded by path and from their bytes in memory,
 * named after the paths, must give the same status, the same message word
 * for word, and the same data set; a failure leaves both zeroed.  Files
 * that are not regular (a FIFO) or too large have no twin (MLP_ERR_OPEN).
 * Returns the status. */
static inline enum mlp_status twin_check(const char *what, twin_load_fn load, const char *x, const char *y)
{
    struct stat sx, sy;
    if (stat(x, &sx) != 0 || !S_ISREG(sx.st_mode) || sx.st_size > TWIN_MAX_BYTES ||
        (y && (stat(y, &sy) != 0 || !S_ISREG(sy.st_mode) || sy.st_size > TWIN_MAX_BYTES)))
        return MLP_ERR_OPEN;
    size_t nx, ny = 0;
    unsigned char *bx = read_all(x, &nx), *by = y ? read_all(y, &ny) : NULL;
    struct mlp_buffer mx = {bx, nx, x}, my = {by, ny, y};
    struct mlp_dataset a, m;
    struct mlp_error ea = {0}, em = {0};
    memset(&m, 0xAB, sizeof m); /* garbage in: the loader must overwrite it */
    enum mlp_status sa = load(&a, x, NULL, y, NULL, &ea);
    enum mlp_status sm = load(&m, NULL, &mx, NULL, y ? &my : NULL, &em);
    CHECK_MSG(sa == sm && strcmp(ea.msg, em.msg) == 0, "%s: file %s \"%s\", memory %s \"%s\"", what,
              mlp_status_str(sa), ea.msg, mlp_status_str(sm), em.msg);
    if (sa == MLP_OK && sm == MLP_OK) CHECK_MSG(same_dataset(&a, &m), "%s: file and memory data sets differ", what);
    if (sm != MLP_OK) CHECK_MSG(is_zeroed(&m), "%s: data set not zeroed after a failure from memory", what);
    mlp_dataset_free(&a);
    mlp_dataset_free(&m);
    free(bx);
    free(by);
    g_twins++;
    return sa;
}

/* Every file this test wrote, by path and from memory alike (as a lone
 * file: inputs, without labels). */
static inline void twin_every_file(twin_load_fn load)
{
    char what[1300];
    for (int i = 0; i < g_n_files; i++) {
        snprintf(what, sizeof what, "twin of %.1200s", g_files[i]);
        twin_check(what, load, g_files[i], NULL);
    }
}

/* The first k bytes of `bytes` for k = 0, step, 2 step, ... < n, each by
 * path and from memory (twin_check); when must_fail, each must fail with
 * MLP_ERR_FORMAT (a cut file is a malformed one, never a crash). */
static inline void twin_prefixes(const char *name, twin_load_fn load, const unsigned char *bytes, size_t n, size_t step,
                                 int must_fail)
{
    char what[160];
    for (size_t k = 0; k < n; k += step) {
        const char *p = write_file(name, bytes, k);
        snprintf(what, sizeof what, "%s cut to %zu of %zu bytes", name, k, n);
        enum mlp_status st = twin_check(what, load, p, NULL);
        if (must_fail) CHECK_MSG(st == MLP_ERR_FORMAT, "%s: %s", what, mlp_status_str(st));
    }
}

#endif
