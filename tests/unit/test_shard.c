/* SPDX-License-Identifier: MIT */
/* Sharded loads (mlp_load_params.shard_index / shard_count): for every
 * format (CSV tables, IDX plain and gzip, NPY in C and Fortran order,
 * HDF5 contiguous and chunked when built with it), the shards 0..c-1 of a
 * file, for c in {1, 2, 3, 7, N + 2}, hold exactly rows [N i / c,
 * N (i + 1) / c) and concatenate, bit for bit, to the whole file's load,
 * with the same width, element type, n_classes, schema width and image
 * shape (n_classes from every row: the largest label sits in the last row
 * only).  From memory as from the file.  An index past the count is
 * MLP_ERR_ARG; a bad label outside the shard still fails it (every process
 * agrees).  And a plain IDX shard reads only the shard's bytes, a gzip one
 * no further than the shard's end: counted by /proc/self/io's rchar. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#ifdef TEST_SHARD_HDF5
#include <hdf5.h>
#endif

#include "check.h"
#include "fastmlp.h"
#include "internal.h"
#include "loadtest.h"

/* ------------------------------------------------------------- checking */

/* Load x (and y) with p, from the files or from their bytes in memory
 * (named as the files, so that the format is told alike). */
static enum mlp_status load(struct mlp_dataset *ds, const char *x, const char *y, const struct mlp_load_params *p,
                            int from_mem, struct mlp_error *err)
{
    memset(err, 0, sizeof *err);
    if (!from_mem) return mlp_dataset_load(ds, x, y, p, err);
    size_t nx, ny = 0;
    unsigned char *bx = read_all(x, &nx), *by = y ? read_all(y, &ny) : NULL;
    struct mlp_buffer mx = {bx, nx, x}, my = {by, ny, y};
    enum mlp_status st = mlp_dataset_load_mem(ds, &mx, y ? &my : NULL, p, err);
    free(bx);
    free(by);
    return st;
}

static uint32_t schema_inputs(const struct mlp_dataset *ds)
{
    const struct mlp_schema *s = mlp_dataset_schema(ds);
    return s ? mlp_schema_n_inputs(s) : 0;
}

/* Every shard of x (y) under base, for each count, against the whole load. */
static void check_shards(const char *what, const char *x, const char *y, const struct mlp_load_params *base)
{
    for (int from_mem = 0; from_mem < 2; from_mem++) {
        struct mlp_dataset whole;
        struct mlp_error err;
        struct mlp_load_params p = *base;
        p.shard_index = 0;
        p.shard_count = 0;
        enum mlp_status st = load(&whole, x, y, &p, from_mem, &err);
        CHECK_MSG(st == MLP_OK, "%s: whole load: %s", what, err.msg);
        if (st != MLP_OK) return;
        uint64_t N = whole.n_rows;
        size_t row_bytes = whole.n_cols * mlp__elem_size(whole.x_type);
        const uint32_t counts[] = {1, 2, 3, 7, (uint32_t)N + 2};
        for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
            uint32_t c = counts[k];
            uint64_t next = 0; /* the row the next shard must start at */
            for (uint32_t i = 0; i < c; i++) {
                struct mlp_dataset s;
                p.shard_index = i;
                p.shard_count = c;
                st = load(&s, x, y, &p, from_mem, &err);
                CHECK_MSG(st == MLP_OK, "%s (%s): shard %u of %u: %s", what, from_mem ? "memory" : "file", i, c,
                          err.msg);
                if (st != MLP_OK) continue;
                uint64_t lo = N * i / c, hi = N * (i + 1) / c;
                CHECK_MSG(lo == next && s.n_rows == hi - lo, "%s: shard %u of %u has %llu rows, expected %llu..%llu",
                          what, i, c, (unsigned long long)s.n_rows, (unsigned long long)lo, (unsigned long long)hi);
                CHECK_MSG(s.n_cols == whole.n_cols && s.x_type == whole.x_type && s.n_classes == whole.n_classes &&
                              s.n_targets == whole.n_targets && !s.labels == !whole.labels &&
                              !s.targets == !whole.targets &&
                              memcmp(s.sample_shape, whole.sample_shape, sizeof s.sample_shape) == 0 &&
                              schema_inputs(&s) == schema_inputs(&whole),
                          "%s: shard %u of %u: layout differs (cols %u/%u, type %d/%d, classes %u/%u, shape "
                          "%ux%ux%u/%ux%ux%u)",
                          what, i, c, s.n_cols, whole.n_cols, (int)s.x_type, (int)whole.x_type, s.n_classes,
                          whole.n_classes, s.sample_shape[0], s.sample_shape[1], s.sample_shape[2],
                          whole.sample_shape[0], whole.sample_shape[1], whole.sample_shape[2]);
                if (s.n_rows == hi - lo && s.n_cols == whole.n_cols && s.x_type == whole.x_type) {
                    size_t n = (size_t)s.n_rows;
                    CHECK_MSG(!n || memcmp(s.x, (const unsigned char *)whole.x + lo * row_bytes, n * row_bytes) == 0,
                              "%s: shard %u of %u: inputs differ from rows %llu.. of the whole", what, i, c,
                              (unsigned long long)lo);
                    if (s.labels && whole.labels)
                        CHECK_MSG(!n || memcmp(s.labels, whole.labels + lo, n * 4) == 0,
                                  "%s: shard %u of %u: labels differ", what, i, c);
                    if (s.targets && whole.targets)
                        CHECK_MSG(!n || memcmp(s.targets, whole.targets + lo * whole.n_targets,
                                               n * whole.n_targets * 8) == 0,
                                  "%s: shard %u of %u: targets differ", what, i, c);
                }
                CHECK_MSG(mlp_dataset_validate(&s, &err) == MLP_OK, "%s: shard %u of %u: %s", what, i, c, err.msg);
                next = lo + s.n_rows;
                mlp_dataset_free(&s);
            }
            CHECK_MSG(next == N, "%s: %u shards hold %llu of %llu rows", what, c, (unsigned long long)next,
                      (unsigned long long)N);
            /* shard_count 1 is the whole file whatever the index says;
             * from 2 on, an index past the last shard is the caller's error. */
            if (c < 2) continue;
            for (uint32_t bad = c; bad <= c + 5; bad += 5) {
                struct mlp_dataset s;
                memset(&s, 0xAB, sizeof s);
                p.shard_index = bad;
                p.shard_count = c;
                CHECK_STATUS(load(&s, x, y, &p, from_mem, &err), MLP_ERR_ARG);
                CHECK_MSG(has(&err, "shard index") && is_zeroed(&s), "%s: index %u of %u: \"%s\"", what, bad, c,
                          err.msg);
            }
        }
        mlp_dataset_free(&whole);
    }
}

/* ----------------------------------------------------------------- data */

/* xorshift64*: test data that does not compress. */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1Dull;
}

/* u8 labels of n rows: rnd() % top, with top - 1 only in the last row. */
static void idx_labels(struct buf *b, uint32_t n, unsigned top)
{
    put_idx_header(b, 0x08, 1, &n);
    for (uint32_t i = 0; i < n; i++) put_u8(b, i + 1 == n ? top - 1 : (unsigned)(rnd() % (top - 1)));
}

/* A .npy header (version 1.0), padded so the payload starts at 64 bytes. */
static void npy_header(struct buf *b, const char *descr, int fortran, const char *shape)
{
    char h[256];
    int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                     fortran ? "True" : "False", shape);
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    put(b, "\x93NUMPY\x01\x00", 8);
    uint16_t hl = (uint16_t)(n + pad + 1);
    put_u8(b, hl & 0xFF);
    put_u8(b, hl >> 8);
    put(b, h, (size_t)n);
    for (size_t i = 0; i < pad; i++) put_u8(b, ' ');
    put_u8(b, '\n');
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* A value for a float input: varied, exact, never NaN. */
static double val(void) { return (double)(int64_t)(rnd() % 20001 - 10000) / 64.0; }

/* ----------------------------------------------------------------- tests */

static void test_csv(void)
{
    struct mlp_load_params p = mlp_load_params_default();
    /* String labels and a categorical column; "zebra" and "violet" only in
     * the last row: every shard must still know them. */
    static const char *const names[] = {"cat", "dog", "eel"}, *const colors[] = {"red", "green", "blue"};
    struct buf b = {0};
    char line[256];
    put(&b, "label,a,color,b\n", 16);
    const int N = 23;
    for (int i = 0; i < N; i++) {
        int last = i == N - 1;
        int n = snprintf(line, sizeof line, "%s,%.6g,%s,%d\n", last ? "zebra" : names[rnd() % 3], val(),
                         last ? "violet" : colors[rnd() % 3], (int)(rnd() % 1000) - 500);
        put(&b, line, (size_t)n);
    }
    check_shards("csv table", write_file("table.csv", b.p, b.n), NULL, &p);
    buf_free(&b);

    /* Regression targets (real-valued label column), f64 inputs. */
    put(&b, "y,x1,x2\n", 8);
    for (int i = 0; i < N; i++) {
        int n = snprintf(line, sizeof line, "%.9g,%.9g,%.9g\n", val() / 7, val(), val());
        put(&b, line, (size_t)n);
    }
    check_shards("csv regression", write_file("regress.csv", b.p, b.n), NULL, &p);
    buf_free(&b);

    /* Integer labels, u8 inputs (the fast numeric parse); missing values
     * dropped: N counts the rows kept. */
    struct mlp_load_params pd = p;
    pd.missing = MLP_MISSING_DROP;
    for (int i = 0; i < N; i++) {
        int n = i == 5 ? snprintf(line, sizeof line, "1,,2,3\n")
                       : snprintf(line, sizeof line, "%d,%d,%d,%d\n", i == N - 1 ? 9 : (int)(rnd() % 5),
                                  (int)(rnd() % 256), (int)(rnd() % 256), (int)(rnd() % 256));
        put(&b, line, (size_t)n);
    }
    check_shards("csv u8", write_file("u8.csv", b.p, b.n), NULL, &pd);
    buf_free(&b);
}

static void test_idx(void)
{
    struct mlp_load_params p = mlp_load_params_default();
    const uint32_t N = 29;
    struct buf x = {0}, y = {0};
    /* u8 images 3x4 (grey), labels 0..6 with 6 only in the last row. */
    uint32_t d3[3] = {N, 3, 4};
    put_idx_header(&x, 0x08, 3, d3);
    for (uint32_t i = 0; i < N * 12; i++) put_u8(&x, (unsigned)(rnd() & 0xFF));
    idx_labels(&y, N, 7);
    const char *xp = write_file("u8-images-idx3-ubyte", x.p, x.n), *yp = write_file("u8-labels-idx1-ubyte", y.p, y.n);
    const char *xg = write_gz("u8-images-idx3-ubyte.gz", x.p, x.n), *yg = write_gz("u8-labels-idx1-ubyte.gz", y.p, y.n);
    check_shards("idx u8 plain", xp, yp, &p);
    check_shards("idx u8 gzip", xg, yg, &p);
    check_shards("idx u8 gzip images, plain labels", xg, yp, &p);
    check_shards("idx u8 images alone", xp, NULL, &p);
    buf_free(&x);

    /* f32 rows of 5 (through the converting reader), plain and gzip. */
    uint32_t d2[2] = {N, 5};
    put_idx_header(&x, 0x0D, 2, d2);
    for (uint32_t i = 0; i < N * 5; i++) put_be(&x, f32_bits((float)val()), 4);
    xp = write_file("f32-images.idx", x.p, x.n);
    xg = write_gz("f32-images.idx.gz", x.p, x.n);
    check_shards("idx f32 plain", xp, yp, &p);
    check_shards("idx f32 gzip", xg, yg, &p);

    /* The largest label in row 0 alone: every shard, not only the first,
     * has its n_classes (the labels are read whole, so processes agree). */
    y.p[8] = 200;
    const char *ybig = write_file("big-label.idx", y.p, y.n);
    for (uint32_t i = 0; i < 3; i++) {
        struct mlp_dataset ds;
        struct mlp_error err;
        p.shard_index = i;
        p.shard_count = 3;
        enum mlp_status st = load(&ds, xp, ybig, &p, 0, &err);
        CHECK_MSG(st == MLP_OK && ds.n_classes == 201, "idx: shard %u of 3 with label 200 in row 0: %s, %u classes",
                  i, mlp_status_str(st), ds.n_classes);
        mlp_dataset_free(&ds);
    }
    p.shard_count = 0;
    p.shard_index = 0;
    buf_free(&x);
    buf_free(&y);

    /* Trailing bytes after a plain file's payload fail every shard, also
     * those that stop short of the end (the file's size tells). */
    put_idx_header(&x, 0x08, 2, d2);
    for (uint32_t i = 0; i < N * 5; i++) put_u8(&x, i & 0xFF);
    put_u8(&x, 0x55);
    xp = write_file("trailing.idx", x.p, x.n);
    for (uint32_t i = 0; i < 2; i++) {
        struct mlp_dataset ds;
        struct mlp_error err;
        p.shard_index = i;
        p.shard_count = 2;
        CHECK_STATUS(load(&ds, xp, NULL, &p, 0, &err), MLP_ERR_FORMAT);
        CHECK_MSG(has(&err, "trailing data"), "idx trailing, shard %u of 2: \"%s\"", i, err.msg);
    }
    p.shard_count = 0;
    p.shard_index = 0;
    buf_free(&x);
}

/* Every prefix of a gzip IDX file, from memory: where the whole loads, its
 * shards load the same rows (fuzz_idx's property, over every cut).  Small
 * reads near a cut stream's end once missed output zlib still held after
 * taking the last input byte: a shard then failed as "truncated" where the
 * whole loaded, and the whole missed the trailing bytes a cut stream still
 * held (fuzz_idx found it).  With and without trailing bytes in the stream. */
static void test_idx_gzip_cuts(void)
{
    for (int k = 0; k < 32; k++) {
        const int trailing = k & 1;
        struct buf x = {0};
        uint32_t d2[2] = {k & 2 ? 7 : 3, 3};
        put_idx_header(&x, 0x08, 2, d2);
        for (uint32_t i = 0; i < d2[0] * 3 + 4u * (uint32_t)trailing; i++) put_u8(&x, (unsigned)(rnd() % 4));
        size_t n;
        unsigned char *gz = read_all(write_gz("cuts.idx.gz", x.p, x.n), &n);
        int loaded = 0;
        for (size_t cut = 1; cut <= n; cut++) {
            struct mlp_buffer b = {gz, cut, "cuts.idx.gz"};
            struct mlp_dataset whole;
            struct mlp_error err = {0};
            if (mlp_dataset_load_idx_mem(&whole, &b, NULL, NULL, &err) != MLP_OK) continue;
            loaded++;
            for (uint32_t c = 2; c <= 5; c++) {
                uint64_t at = 0;
                for (uint32_t i = 0; i < c; i++) {
                    struct mlp_load_params p = mlp_load_params_default();
                    p.shard_index = i;
                    p.shard_count = c;
                    struct mlp_dataset s;
                    enum mlp_status st = mlp_dataset_load_idx_mem(&s, &b, NULL, &p, &err);
                    CHECK_MSG(st == MLP_OK, "gzip cut at %zu of %zu: shard %u of %u: %s", cut, n, i, c, err.msg);
                    if (st != MLP_OK) continue;
                    CHECK_MSG(at + s.n_rows <= whole.n_rows &&
                                  (!s.n_rows || memcmp(s.x, (const unsigned char *)whole.x + at * 3, s.n_rows * 3) == 0),
                              "gzip cut at %zu: shard %u of %u differs from the whole", cut, i, c);
                    at += s.n_rows;
                    mlp_dataset_free(&s);
                }
            }
            mlp_dataset_free(&whole);
        }
        /* Without trailing bytes, the prefixes that cut only the 8-byte
         * trailer load (a stream cut after its payload loads, as through
         * gzread); with them, a prefix loads only if it holds none of them. */
        CHECK_MSG(trailing || loaded >= 8, "%d prefixes of the gzip file loaded, expected the 8 that cut its trailer",
                  loaded);
        free(gz);
        buf_free(&x);
    }
}

/* Bytes the process has read through read() so far (/proc/self/io), or
 * UINT64_MAX where that is not known. */
static uint64_t rchar(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    if (!f) return UINT64_MAX;
    char key[64];
    unsigned long long v;
    uint64_t r = UINT64_MAX;
    while (fscanf(f, "%63s %llu", key, &v) == 2)
        if (strcmp(key, "rchar:") == 0) r = v;
    fclose(f);
    return r;
}

/* A shard of a plain IDX file reads the shard (and the header's
 * read-ahead), not the file; a gzip one stops at the shard's end.  The
 * whole load's count shows the measure works. */
static void test_idx_reads_only_the_shard(void)
{
    if (rchar() == UINT64_MAX) {
        printf("test_shard: no /proc/self/io: the bytes-read check is skipped\n");
        return;
    }
    const uint32_t N = 4096, W = 1024; /* 4 MiB */
    struct buf x = {0};
    uint32_t d[2] = {N, W};
    put_idx_header(&x, 0x08, 2, d);
    for (uint32_t i = 0; i < N * W / 8; i++) {
        uint64_t r = rnd();
        put(&x, &r, 8);
    }
    const char *xp = write_file("big.idx", x.p, x.n), *xg = write_gz("big.idx.gz", x.p, x.n);
    struct stat sg;
    if (stat(xg, &sg) != 0) die(xg);
    struct mlp_load_params p = mlp_load_params_default();
    struct mlp_dataset ds;
    struct mlp_error err;
    uint64_t r0 = rchar();
    CHECK_STATUS(mlp_dataset_load(&ds, xp, NULL, &p, &err), MLP_OK);
    uint64_t whole = rchar() - r0;
    CHECK_MSG(whole >= x.n, "the whole load read %llu bytes of %zu", (unsigned long long)whole, x.n);
    mlp_dataset_free(&ds);

    /* Shard 9 of 16: 256 KiB in the middle. */
    p.shard_index = 9;
    p.shard_count = 16;
    r0 = rchar();
    CHECK_STATUS(mlp_dataset_load(&ds, xp, NULL, &p, &err), MLP_OK);
    uint64_t part = rchar() - r0;
    CHECK_MSG(part < x.n / 8, "plain shard 9 of 16 read %llu bytes of the %zu-byte file", (unsigned long long)part,
              x.n);
    CHECK(ds.n_rows == N / 16 && memcmp(ds.x, x.p + 12 + (size_t)9 * (N / 16) * W, (size_t)(N / 16) * W) == 0);
    mlp_dataset_free(&ds);

    /* Shard 1 of 16 of the gzip file: inflated up to 2/16 of the way. */
    p.shard_index = 1;
    r0 = rchar();
    CHECK_STATUS(mlp_dataset_load(&ds, xg, NULL, &p, &err), MLP_OK);
    part = rchar() - r0;
    CHECK_MSG(part < (uint64_t)sg.st_size / 4, "gzip shard 1 of 16 read %llu bytes of the %lld-byte file",
              (unsigned long long)part, (long long)sg.st_size);
    CHECK(ds.n_rows == N / 16 && memcmp(ds.x, x.p + 12 + (size_t)(N / 16) * W, (size_t)(N / 16) * W) == 0);
    mlp_dataset_free(&ds);
    buf_free(&x);
}

/* A shard through a pipe: streamed, the rows before it read and dropped. */
static void test_idx_pipe(void)
{
    const uint32_t N = 40;
    struct buf x = {0};
    uint32_t d[2] = {N, 300};
    put_idx_header(&x, 0x08, 2, d);
    for (uint32_t i = 0; i < N * 300; i++) put_u8(&x, (unsigned)(rnd() & 0xFF));
    const char *fp = tmp_path("pipe-images");
    if (mkfifo(fp, 0600) != 0) {
        CHECK_MSG(0, "mkfifo %s: %s", fp, strerror(errno));
        buf_free(&x);
        return;
    }
    for (uint32_t i = 0; i < 3; i++) {
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            signal(SIGPIPE, SIG_IGN); /* the reader may stop at its shard's end */
            FILE *f = fopen(fp, "wb");
            if (f) {
                fwrite(x.p, 1, x.n, f);
                fclose(f);
            }
            _exit(0);
        }
        struct mlp_load_params p = mlp_load_params_default();
        p.format = MLP_FMT_IDX;
        p.shard_index = i;
        p.shard_count = 3;
        struct mlp_dataset ds;
        struct mlp_error err;
        enum mlp_status st = mlp_dataset_load(&ds, fp, NULL, &p, &err);
        CHECK_MSG(st == MLP_OK, "pipe shard %u of 3: %s", i, err.msg);
        uint64_t lo = N * i / 3, hi = N * (i + 1) / 3;
        if (st == MLP_OK)
            CHECK_MSG(ds.n_rows == hi - lo && memcmp(ds.x, x.p + 12 + lo * 300, (size_t)(hi - lo) * 300) == 0,
                      "pipe shard %u of 3: wrong rows", i);
        mlp_dataset_free(&ds);
        waitpid(pid, NULL, 0);
    }
    buf_free(&x);
}

static void test_npy(void)
{
    struct mlp_load_params p = mlp_load_params_default();
    const unsigned N = 31;
    char shape[64];
    struct buf x = {0}, y = {0};

    /* int64 labels 0..4, 4 only in the last row; u1 labels likewise. */
    snprintf(shape, sizeof shape, "(%u,)", N);
    npy_header(&y, "<i8", 0, shape);
    for (unsigned i = 0; i < N; i++) put_le(&y, i + 1 == N ? 4 : rnd() % 4, 8);
    const char *y8 = write_file("y-i8.npy", y.p, y.n);
    buf_free(&y);
    npy_header(&y, "|u1", 0, shape);
    for (unsigned i = 0; i < N; i++) put_u8(&y, i + 1 == N ? 11 : (unsigned)(rnd() % 11));
    const char *y1 = write_file("y-u1.npy", y.p, y.n);

    /* f32 (N, 5): read straight into place. */
    snprintf(shape, sizeof shape, "(%u, 5)", N);
    npy_header(&x, "<f4", 0, shape);
    for (unsigned i = 0; i < N * 5; i++) put_le(&x, f32_bits((float)val()), 4);
    check_shards("npy f32", write_file("x-f32.npy", x.p, x.n), y8, &p);
    buf_free(&x);

    /* f64 (N, 2, 3), big-endian: converted chunk by chunk. */
    snprintf(shape, sizeof shape, "(%u, 2, 3)", N);
    npy_header(&x, ">f8", 0, shape);
    for (unsigned i = 0; i < N * 6; i++) put_be(&x, f64_bits(val()), 8);
    check_shards("npy f64 big-endian", write_file("x-f64be.npy", x.p, x.n), y1, &p);
    buf_free(&x);

    /* u8 images (N, 4, 4, 3): sample_shape 4x4x3. */
    snprintf(shape, sizeof shape, "(%u, 4, 4, 3)", N);
    npy_header(&x, "|u1", 0, shape);
    for (unsigned i = 0; i < N * 48; i++) put_u8(&x, (unsigned)(rnd() & 0xFF));
    check_shards("npy u8 images", write_file("x-u8.npy", x.p, x.n), y8, &p);
    check_shards("npy u8 alone", write_file("x-u8.npy", x.p, x.n), NULL, &p);
    buf_free(&x);

    /* f64 (N, 3, 2) in Fortran order: a shard is a run in every column. */
    snprintf(shape, sizeof shape, "(%u, 3, 2)", N);
    npy_header(&x, "<f8", 1, shape);
    for (unsigned i = 0; i < N * 6; i++) put_le(&x, f64_bits(val()), 8);
    check_shards("npy f64 fortran", write_file("x-f64f.npy", x.p, x.n), y1, &p);
    buf_free(&x);

    /* i2 (N, 3) in Fortran order, becoming f64. */
    snprintf(shape, sizeof shape, "(%u, 3)", N);
    npy_header(&x, "<i2", 1, shape);
    for (unsigned i = 0; i < N * 3; i++) put_le(&x, rnd() & 0xFFFF, 2);
    check_shards("npy i16 fortran", write_file("x-i16f.npy", x.p, x.n), y8, &p);
    buf_free(&x);

    /* A negative label in row 0 fails every shard. */
    snprintf(shape, sizeof shape, "(%u, 5)", N);
    npy_header(&x, "<f4", 0, shape);
    for (unsigned i = 0; i < N * 5; i++) put_le(&x, f32_bits(1.0f), 4);
    const char *xp = write_file("x-ones.npy", x.p, x.n);
    buf_free(&y);
    snprintf(shape, sizeof shape, "(%u,)", N);
    npy_header(&y, "<i8", 0, shape);
    for (unsigned i = 0; i < N; i++) put_le(&y, i == 0 ? (uint64_t)-1 : 1, 8);
    const char *ybad = write_file("y-bad.npy", y.p, y.n);
    for (uint32_t i = 0; i < 3; i++) {
        struct mlp_dataset ds;
        struct mlp_error err;
        p.shard_index = i;
        p.shard_count = 3;
        CHECK_STATUS(load(&ds, xp, ybad, &p, 0, &err), MLP_ERR_RANGE);
        CHECK_MSG(has(&err, "row 0"), "npy: shard %u of 3, label -1 in row 0: \"%s\"", i, err.msg);
    }
    buf_free(&x);
    buf_free(&y);
}

#ifdef TEST_SHARD_HDF5
static void h5_put(hid_t f, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                   const void *data, int chunked)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) {
        hsize_t chunk[H5S_MAX_RANK];
        for (int d = 0; d < rank; d++) chunk[d] = d == 0 ? 4 : dims[d]; /* 4 rows a chunk: shards cut chunks */
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_deflate(dcpl, 1);
    }
    hid_t d = H5Dcreate2(f, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int ok = space >= 0 && dcpl >= 0 && d >= 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (!ok) {
        fprintf(stderr, "test_shard: cannot write data set %s\n", name);
        exit(2);
    }
}

static void test_hdf5(void)
{
    enum { N = 27 };
    static float xf[N][4][3];
    static unsigned char xu[N][6][5][3];
    static int32_t y[N];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 12; j++) xf[i][j / 3][j % 3] = (float)val();
        for (int j = 0; j < 90; j++) xu[i][j / 15][(j / 3) % 5][j % 3] = (unsigned char)(rnd() & 0xFF);
        y[i] = i + 1 == N ? 8 : (int32_t)(rnd() % 8);
    }
    for (int chunked = 0; chunked < 2; chunked++) {
        char name[64];
        snprintf(name, sizeof name, "f32-%d.h5", chunked);
        hid_t f = H5Fcreate(tmp_path(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        if (f < 0) die(name);
        hsize_t dx[3] = {N, 4, 3}, dy[1] = {N};
        h5_put(f, "train_x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, dx, xf, chunked);
        h5_put(f, "train_y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dy, y, chunked);
        H5Fclose(f);
        struct mlp_load_params p = mlp_load_params_default();
        check_shards(chunked ? "hdf5 f32 chunked" : "hdf5 f32", tmp_path(name), NULL, &p);

        snprintf(name, sizeof name, "u8-%d.h5", chunked);
        f = H5Fcreate(tmp_path(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        if (f < 0) die(name);
        hsize_t du[4] = {N, 6, 5, 3};
        h5_put(f, "images", H5T_STD_U8LE, H5T_NATIVE_UINT8, 4, du, xu, chunked);
        h5_put(f, "labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dy, y, chunked);
        H5Fclose(f);
        p.x_key = "images";
        p.y_key = "labels";
        check_shards(chunked ? "hdf5 u8 chunked" : "hdf5 u8", tmp_path(name), NULL, &p);
    }
}
#endif

int main(void)
{
    tmp_init("shard");
    test_csv();
    test_idx();
    test_idx_gzip_cuts();
    test_idx_reads_only_the_shard();
    test_idx_pipe();
    test_npy();
#ifdef TEST_SHARD_HDF5
    test_hdf5();
#else
    printf("test_shard: built without HDF5: its shards are not checked\n");
#endif
    tmp_cleanup();
    return check_report("test_shard");
}
