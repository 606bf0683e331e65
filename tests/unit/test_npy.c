/* SPDX-License-Identifier: MIT */
/* NPY loader: .npy files written byte by byte (no NumPy needed) for every
 * supported dtype, format version, byte order and memory order, one test
 * per class of malformed file (status, message, zeroed data set), the
 * caller's width checked from the header, the machine's memory checked
 * before allocating, and a file that shrinks while it is read.  Every file
 * and every failure is also loaded from memory (mlp_dataset_load_npy_mem),
 * which must give the same, message and all. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/resource.h>
#endif

#include "check.h"
#include "fastmlp.h"
#include "internal.h" /* mlp__mem_bound */
#include "loadtest.h"
#include "shrink.h"

/* ------------------------------------------------------ building .npy bytes */

/* v as `bytes` bytes, big- or little-endian. */
static void put_int(struct buf *b, uint64_t v, int bytes, int big)
{
    (big ? put_be : put_le)(b, v, (unsigned)bytes);
}

static void put_f32(struct buf *b, float f, int big)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_int(b, u, 4, big);
}

static void put_f64(struct buf *b, double d, int big)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_int(b, u, 8, big);
}

/* Magic, version major.0, header length and the header text.  pad: pad with
 * spaces and a newline to a multiple of 64 bytes, as NumPy does. */
static void npy_header(struct buf *b, int major, const char *dict, int pad)
{
    size_t pre = major == 1 ? 10 : 12, len = strlen(dict);
    size_t total = len;
    if (pad) total = ((pre + len + 1 + 63) / 64) * 64 - pre;
    put(b, "\x93NUMPY", 6);
    put_u8(b, (unsigned)major);
    put_u8(b, 0);
    put_int(b, total, major == 1 ? 2 : 4, 0);
    put(b, dict, len);
    if (pad) {
        for (size_t i = len; i + 1 < total; i++) put_u8(b, ' ');
        put_u8(b, '\n');
    }
}

/* A v1 header for descr / fortran / shape, the way NumPy writes it. */
static void npy_std(struct buf *b, const char *descr, int fortran, const char *shape)
{
    char dict[256];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
             fortran ? "True" : "False", shape);
    npy_header(b, 1, dict, 1);
}

/* ------------------------------------------------------------- checking */

/* The NPY loaders for twin_check: by path, or from memory. */
static enum mlp_status twin_load(struct mlp_dataset *ds, const char *path, const struct mlp_buffer *b,
                                 const char *y_path, const struct mlp_buffer *yb, struct mlp_error *err)
{
    return path ? mlp_dataset_load_npy(ds, path, y_path, err) : mlp_dataset_load_npy_mem(ds, b, yb, NULL, err);
}

/* Load (x, y), expecting status `want` with a message that contains `needle`
 * and names `culprit` (the file at fault), and a zeroed data set. */
static void expect_fail(const char *what, const char *x, const char *y, enum mlp_status want,
                        const char *needle, const char *culprit, struct mlp_error *err)
{
    struct mlp_dataset ds;
    memset(&ds, 0xAB, sizeof ds); /* garbage in: the loader must zero it */
    memset(err, 0, sizeof *err);
    enum mlp_status st = mlp_dataset_load_npy(&ds, x, y, err);
    if (getenv("TEST_VERBOSE")) printf("  %-28s %s\n", what, err->msg);
    CHECK_MSG(st == want, "%s: got %s, want %s (msg: %s)", what, mlp_status_str(st),
              mlp_status_str(want), err->msg);
    CHECK_MSG(err->status == want, "%s: err.status %s", what, mlp_status_str(err->status));
    CHECK_MSG(strstr(err->msg, needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what, err->msg,
              needle);
    if (culprit)
        CHECK_MSG(strstr(err->msg, culprit) != NULL, "%s: message \"%s\" does not name %s", what,
                  err->msg, culprit);
    CHECK_MSG(is_zeroed(&ds), "%s: data set not zeroed after failure", what);
    if (st == MLP_OK) mlp_dataset_free(&ds);
    /* Without an error struct: same status, no crash. */
    memset(&ds, 0xAB, sizeof ds);
    CHECK_MSG(mlp_dataset_load_npy(&ds, x, y, NULL) == want, "%s: status differs with err NULL", what);
    CHECK(is_zeroed(&ds));
    /* The same bytes from memory (named as the files): the same failure. */
    twin_check(what, twin_load, x, y);
}

/* A header dict alone in front of a 12-byte u1 payload (shape (3, 4)). */
static void expect_bad_dict(const char *what, int major, const char *dict, const char *needle)
{
    struct buf b = {0};
    struct mlp_error err;
    npy_header(&b, major, dict, 1);
    for (int i = 0; i < 12; i++) put_u8(&b, (unsigned)i);
    char name[64];
    snprintf(name, sizeof name, "dict-%d.npy", g_n_files);
    const char *p = write_file(name, b.p, b.n);
    buf_free(&b);
    expect_fail(what, p, NULL, MLP_ERR_FORMAT, needle, p, &err);
    CHECK_MSG(has(&err, "byte "), "%s: no byte offset in \"%s\"", what, err.msg);
}

/* ------------------------------------------------------------ valid files */

/* 3 rows of 2 x 2 u8 pixels and labels 2, 0, 1 (i8). */
static void test_basic(void)
{
    struct buf x = {0}, y = {0};
    npy_std(&x, "|u1", 0, "(3, 2, 2)");
    for (unsigned i = 0; i < 12; i++) put_u8(&x, i * 20 + 1);
    npy_std(&y, "<i8", 0, "(3,)");
    put_int(&y, 2, 8, 0);
    put_int(&y, 0, 8, 0);
    put_int(&y, 1, 8, 0);
    const char *xp = write_file("basic-x.npy", x.p, x.n);
    const char *yp = write_file("basic-y.npy", y.p, y.n);
    CHECK(x.n % 64 == 12); /* the header is padded as NumPy pads it */

    struct mlp_dataset ds;
    struct mlp_error err = {0};
    CHECK_STATUS(mlp_dataset_load_npy(&ds, xp, yp, &err), MLP_OK);
    CHECK(ds.n_rows == 3 && ds.n_cols == 4 && ds.x_type == MLP_ELEM_U8);
    CHECK(ds.n_classes == 3 && ds.targets == NULL && ds.n_targets == 0 && ds.owned != NULL);
    CHECK(((uintptr_t)ds.x & 63) == 0);
    int ok = ds.x != NULL && ds.labels != NULL;
    for (unsigned i = 0; ok && i < 12; i++) ok = ((const uint8_t *)ds.x)[i] == i * 20 + 1;
    CHECK(ok);
    CHECK(ds.labels && ds.labels[0] == 2 && ds.labels[1] == 0 && ds.labels[2] == 1);
    CHECK_STATUS(mlp_dataset_validate(&ds, &err), MLP_OK);
    mlp_dataset_free(&ds);
    CHECK(is_zeroed(&ds));

    /* No labels. */
    CHECK_STATUS(mlp_dataset_load_npy(&ds, xp, NULL, &err), MLP_OK);
    CHECK(ds.n_rows == 3 && ds.labels == NULL && ds.n_classes == 0);
    mlp_dataset_free(&ds);

    /* Versions 2.0 and 3.0 and a header written differently: same data. */
    const char *dicts[] = {
        "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 2), }",
        "{\"shape\":(3,2,2),\"descr\":\"u1\",\"fortran_order\":False}",
        "  {  'fortran_order' : False ,\n 'shape' : ( 3L , 2 , 2L , ) ,'descr':'<u1'  }  ",
    };
    for (int v = 1; v <= 3; v++) {
        for (int d = 0; d < 3; d++) {
            struct buf b = {0};
            npy_header(&b, v, dicts[d], d != 2);
            put(&b, x.p + (x.n - 12), 12);
            char name[64];
            snprintf(name, sizeof name, "basic-v%d-%d.npy", v, d);
            const char *p = write_file(name, b.p, b.n);
            buf_free(&b);
            struct mlp_dataset dv;
            CHECK_STATUS(mlp_dataset_load_npy(&dv, p, yp, &err), MLP_OK);
            CHECK_MSG(dv.n_rows == 3 && dv.n_cols == 4 && dv.x_type == MLP_ELEM_U8 && dv.x &&
                          memcmp(dv.x, x.p + (x.n - 12), 12) == 0,
                      "version %d dict %d: %s", v, d, err.msg);
            mlp_dataset_free(&dv);
        }
    }
    buf_free(&x);
    buf_free(&y);
}

/* Every dtype in both byte orders: values land exactly, in the right type. */
static void test_dtypes(void)
{
    struct mlp_dataset ds;
    struct mlp_error err = {0};
    const int64_t iv[6] = {-2147483648LL, -1, 0, 1, 123456789, 2147483647};
    const int64_t lv[6] = {-9007199254740992LL, -5, 0, 7, 1LL << 40, 9007199254740992LL};
    const int8_t bv[6] = {-128, -1, 0, 1, 100, 127};
    const uint16_t hv[6] = {0, 1, 255, 256, 40000, 65535};
    const float fv[6] = {1.5f, -2.25f, 3e10f, 0.0f, -0.0f, 1.17549435e-38f};
    const double dv[6] = {1.0 / 3.0, -1e300, 4.9e-324, 2.0, -7.5, 1e-9};

    for (int big = 0; big <= 1; big++) {
        const char *o = big ? ">" : "<";
        char descr[8];
        struct buf b = {0};
        const char *p;
        int ok;

        snprintf(descr, sizeof descr, "%si4", o);
        npy_std(&b, descr, 0, "(2, 3)");
        for (int i = 0; i < 6; i++) put_int(&b, (uint64_t)iv[i], 4, big);
        p = write_file(big ? "i4-be.npy" : "i4-le.npy", b.p, b.n);
        buf_free(&b);
        CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
        ok = ds.x != NULL && ds.x_type == MLP_ELEM_F64 && ds.n_rows == 2 && ds.n_cols == 3;
        for (int i = 0; ok && i < 6; i++) ok = ((const double *)ds.x)[i] == (double)iv[i];
        CHECK_MSG(ok, "%s", descr);
        mlp_dataset_free(&ds);

        snprintf(descr, sizeof descr, "%si8", o);
        npy_std(&b, descr, 0, "(2, 3)");
        for (int i = 0; i < 6; i++) put_int(&b, (uint64_t)lv[i], 8, big);
        p = write_file(big ? "i8-be.npy" : "i8-le.npy", b.p, b.n);
        buf_free(&b);
        CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
        ok = ds.x != NULL && ds.x_type == MLP_ELEM_F64;
        for (int i = 0; ok && i < 6; i++) ok = ((const double *)ds.x)[i] == (double)lv[i];
        CHECK_MSG(ok, "%s", descr);
        mlp_dataset_free(&ds);

        snprintf(descr, sizeof descr, "%su2", o);
        npy_std(&b, descr, 0, "(2, 3)");
        for (int i = 0; i < 6; i++) put_int(&b, hv[i], 2, big);
        p = write_file(big ? "u2-be.npy" : "u2-le.npy", b.p, b.n);
        buf_free(&b);
        CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
        ok = ds.x != NULL && ds.x_type == MLP_ELEM_F64;
        for (int i = 0; ok && i < 6; i++) ok = ((const double *)ds.x)[i] == (double)hv[i];
        CHECK_MSG(ok, "%s", descr);
        mlp_dataset_free(&ds);

        snprintf(descr, sizeof descr, "%sf4", o);
        npy_std(&b, descr, 0, "(2, 3)");
        for (int i = 0; i < 6; i++) put_f32(&b, fv[i], big);
        p = write_file(big ? "f4-be.npy" : "f4-le.npy", b.p, b.n);
        buf_free(&b);
        CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
        CHECK_MSG(ds.x && ds.x_type == MLP_ELEM_F32 && memcmp(ds.x, fv, sizeof fv) == 0, "%s", descr);
        mlp_dataset_free(&ds);

        snprintf(descr, sizeof descr, "%sf8", o);
        npy_std(&b, descr, 0, "(2, 3)");
        for (int i = 0; i < 6; i++) put_f64(&b, dv[i], big);
        p = write_file(big ? "f8-be.npy" : "f8-le.npy", b.p, b.n);
        buf_free(&b);
        CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
        CHECK_MSG(ds.x && ds.x_type == MLP_ELEM_F64 && memcmp(ds.x, dv, sizeof dv) == 0, "%s", descr);
        mlp_dataset_free(&ds);
    }

    /* One-byte types in every spelling: u1 stays u8, i1 becomes f64. */
    const char *u1[] = {"|u1", "<u1", "u1", ">u1"};
    for (int k = 0; k < 4; k++) {
        struct buf b = {0};
        npy_std(&b, u1[k], 0, "(2, 3)");
        for (int i = 0; i < 6; i++) put_u8(&b, (unsigned)(250 + i));
        char name[32];
        snprintf(name, sizeof name, "u1-%d.npy", k);
        const char *p = write_file(name, b.p, b.n);
        buf_free(&b);
        CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
        int ok = ds.x != NULL && ds.x_type == MLP_ELEM_U8;
        for (int i = 0; ok && i < 6; i++) ok = ((const uint8_t *)ds.x)[i] == 250 + i;
        CHECK_MSG(ok, "%s", u1[k]);
        mlp_dataset_free(&ds);
    }
    struct buf b = {0};
    npy_std(&b, "|i1", 0, "(2, 3)");
    for (int i = 0; i < 6; i++) put_u8(&b, (uint8_t)bv[i]);
    const char *p = write_file("i1.npy", b.p, b.n);
    buf_free(&b);
    CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
    int ok = ds.x != NULL && ds.x_type == MLP_ELEM_F64;
    for (int i = 0; ok && i < 6; i++) ok = ((const double *)ds.x)[i] == bv[i];
    CHECK(ok);
    mlp_dataset_free(&ds);
}

/* Encoded value of element (i, j, k, l): where it must land is checkable. */
static double code4(int i, int j, int k, int l) { return 1000 * i + 100 * j + 10 * k + l; }

/* Shapes: rank 1 (one column), rank 4 in C and in Fortran order. */
static void test_shapes(void)
{
    struct mlp_dataset ds;
    struct mlp_error err = {0};
    struct buf b = {0};
    const char *p;

    /* Rank 1. */
    npy_std(&b, "<f8", 0, "(4,)");
    for (int i = 0; i < 4; i++) put_f64(&b, i + 0.5, 0);
    p = write_file("rank1.npy", b.p, b.n);
    buf_free(&b);
    CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
    CHECK(ds.n_rows == 4 && ds.n_cols == 1 && ds.x && ((const double *)ds.x)[3] == 3.5);
    mlp_dataset_free(&ds);

    /* Rank 2 Fortran: file order a00 a10 a01 a11 a02 a12. */
    npy_std(&b, ">f8", 1, "(2, 3)");
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 2; i++) put_f64(&b, code4(0, 0, i, j), 1);
    p = write_file("fortran2.npy", b.p, b.n);
    buf_free(&b);
    CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
    int ok = ds.x != NULL && ds.n_rows == 2 && ds.n_cols == 3;
    for (int i = 0; ok && i < 2; i++)
        for (int j = 0; ok && j < 3; j++) ok = ((const double *)ds.x)[i * 3 + j] == code4(0, 0, i, j);
    CHECK(ok);
    mlp_dataset_free(&ds);

    /* Rank 4 (2, 2, 3, 2): C order in u1, f4, i4; Fortran in the same. */
    const char *types[] = {"|u1", ">f4", "<i4", "<f8"};
    const enum mlp_elem want[] = {MLP_ELEM_U8, MLP_ELEM_F32, MLP_ELEM_F64, MLP_ELEM_F64};
    for (int t = 0; t < 4; t++) {
        for (int fortran = 0; fortran <= 1; fortran++) {
            npy_std(&b, types[t], fortran, "(2, 2, 3, 2)");
            for (int n = 0; n < 24; n++) {
                int i, j, k, l;
                if (fortran) {
                    i = n % 2, j = n / 2 % 2, k = n / 4 % 3, l = n / 12;
                } else {
                    l = n % 2, k = n / 2 % 3, j = n / 6 % 2, i = n / 12;
                }
                double v = code4(i, j, k, l) / 10;
                if (t == 0) put_u8(&b, (unsigned)(10 * i + 5 * j + 2 * k + l) * 2);
                if (t == 1) put_f32(&b, (float)v, 1);
                if (t == 2) put_int(&b, (uint64_t)(int64_t)code4(i, j, k, l), 4, 0);
                if (t == 3) put_f64(&b, v, 0);
            }
            char name[40];
            snprintf(name, sizeof name, "rank4-%d-%d.npy", t, fortran);
            p = write_file(name, b.p, b.n);
            buf_free(&b);
            CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
            ok = ds.x != NULL && ds.n_rows == 2 && ds.n_cols == 12 && ds.x_type == want[t];
            for (int i = 0; ok && i < 2; i++)
                for (int j = 0; ok && j < 2; j++)
                    for (int k = 0; ok && k < 3; k++)
                        for (int l = 0; ok && l < 2; l++) {
                            size_t at = (size_t)i * 12 + (size_t)j * 6 + (size_t)k * 2 + (size_t)l;
                            double v = code4(i, j, k, l) / 10;
                            if (t == 0) ok = ((const uint8_t *)ds.x)[at] == (10 * i + 5 * j + 2 * k + l) * 2;
                            if (t == 1) ok = ((const float *)ds.x)[at] == (float)v;
                            if (t == 2) ok = ((const double *)ds.x)[at] == code4(i, j, k, l);
                            if (t == 3) ok = ((const double *)ds.x)[at] == v;
                        }
            CHECK_MSG(ok, "rank 4 %s fortran=%d", types[t], fortran);
            mlp_dataset_free(&ds);
        }
    }

    /* Fortran order that is no transposition: (4, 1) and (1, 5). */
    npy_std(&b, "<f4", 1, "(4, 1)");
    for (int i = 0; i < 4; i++) put_f32(&b, (float)i, 0);
    p = write_file("fortran-col.npy", b.p, b.n);
    buf_free(&b);
    CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
    CHECK(ds.n_rows == 4 && ds.n_cols == 1 && ds.x && ((const float *)ds.x)[2] == 2.0f);
    mlp_dataset_free(&ds);

    /* Several read chunks (1 MiB each), converted: C order big-endian f8
     * and Fortran-order i4, each checked element by element. */
    const int R = 600, C = 700;
    npy_std(&b, ">f8", 0, "(600, 700)");
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) put_f64(&b, i * 1000.0 + j + 0.25, 1);
    p = write_file("big-c.npy", b.p, b.n);
    buf_free(&b);
    CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
    ok = ds.x != NULL && ds.n_rows == 600 && ds.n_cols == 700 && ds.x_type == MLP_ELEM_F64;
    for (int i = 0; ok && i < R; i++)
        for (int j = 0; ok && j < C; j++) ok = ((const double *)ds.x)[i * C + j] == i * 1000.0 + j + 0.25;
    CHECK(ok);
    mlp_dataset_free(&ds);
    npy_std(&b, "<i4", 1, "(600, 700)");
    for (int j = 0; j < C; j++)
        for (int i = 0; i < R; i++) put_int(&b, (uint64_t)(i * 1000 + j), 4, 0);
    p = write_file("big-f.npy", b.p, b.n);
    buf_free(&b);
    CHECK_STATUS(mlp_dataset_load_npy(&ds, p, NULL, &err), MLP_OK);
    ok = ds.x != NULL && ds.n_rows == 600 && ds.n_cols == 700;
    for (int i = 0; ok && i < R; i++)
        for (int j = 0; ok && j < C; j++) ok = ((const double *)ds.x)[i * C + j] == i * 1000.0 + j;
    CHECK(ok);
    mlp_dataset_free(&ds);
}

/* Labels in every accepted form. */
static void test_labels(void)
{
    struct mlp_dataset ds;
    struct mlp_error err = {0};
    struct buf b = {0};
    npy_std(&b, "|u1", 0, "(4, 2)");
    for (int i = 0; i < 8; i++) put_u8(&b, (unsigned)i);
    const char *xp = write_file("lab-x.npy", b.p, b.n);
    buf_free(&b);
    const int32_t want[4] = {3, 0, 9, 1};

    const char *descrs[] = {"|u1", "<i4", ">i4", "<i8", ">i8", "<f8", ">f4", "<u2"};
    for (int d = 0; d < 8; d++) {
        for (int col = 0; col <= 1; col++) {
            npy_std(&b, descrs[d], 0, col ? "(4, 1)" : "(4,)");
            char c = descrs[d][1];
            int size = descrs[d][2] - '0', big = descrs[d][0] == '>';
            for (int i = 0; i < 4; i++) {
                if (c == 'f' && size == 8) put_f64(&b, want[i], big);
                else if (c == 'f') put_f32(&b, (float)want[i], big);
                else put_int(&b, (uint64_t)want[i], size, big);
            }
            char name[40];
            snprintf(name, sizeof name, "lab-%d-%d.npy", d, col);
            const char *yp = write_file(name, b.p, b.n);
            buf_free(&b);
            CHECK_STATUS(mlp_dataset_load_npy(&ds, xp, yp, &err), MLP_OK);
            CHECK_MSG(ds.labels && ds.n_classes == 10 && memcmp(ds.labels, want, sizeof want) == 0,
                      "labels %s %s: %s", descrs[d], col ? "(4, 1)" : "(4,)", err.msg);
            CHECK(ds.n_rows == 4 && ds.n_cols == 2 && ds.x_type == MLP_ELEM_U8);
            mlp_dataset_free(&ds);
        }
    }

    /* The largest class id allowed. */
    npy_std(&b, "<i4", 0, "(4,)");
    for (int i = 0; i < 4; i++) put_int(&b, i == 2 ? MLP_MAX_CLASSES - 1 : 0, 4, 0);
    const char *yp = write_file("lab-max.npy", b.p, b.n);
    buf_free(&b);
    CHECK_STATUS(mlp_dataset_load_npy(&ds, xp, yp, &err), MLP_OK);
    CHECK(ds.n_classes == MLP_MAX_CLASSES);
    mlp_dataset_free(&ds);
}

/* ------------------------------------------------------------ bad files */

static void test_bad_preamble(void)
{
    struct mlp_error err;
    struct buf good = {0};
    npy_std(&good, "|u1", 0, "(3, 4)");
    for (int i = 0; i < 12; i++) put_u8(&good, (unsigned)i);
    const char *p;

    p = write_file("empty.npy", "", 0);
    expect_fail("empty file", p, NULL, MLP_ERR_FORMAT, "empty file", p, &err);

    const char *text = "label,x1,x2\n1,0.5,0.25\n0,1.5,2.5\n";
    p = write_file("text.npy", text, strlen(text));
    expect_fail("text file", p, NULL, MLP_ERR_FORMAT, "bad magic at byte 0", p, &err);
    CHECK(has(&err, "not a NumPy .npy file") && has(&err, "6C 61 62"));

    unsigned char bad[80];
    memcpy(bad, good.p, sizeof bad);
    bad[5] = 'X';
    p = write_file("bad-magic.npy", bad, sizeof bad);
    expect_fail("bad magic", p, NULL, MLP_ERR_FORMAT, "bad magic", p, &err);

    /* Short files: inside the magic, inside the version, inside the length. */
    p = write_file("cut4.npy", good.p, 4);
    expect_fail("cut in magic", p, NULL, MLP_ERR_FORMAT, "truncated header", p, &err);
    p = write_file("cut7.npy", good.p, 7);
    expect_fail("cut in version", p, NULL, MLP_ERR_FORMAT, "truncated header", p, &err);
    p = write_file("cut9.npy", good.p, 9);
    expect_fail("cut in length", p, NULL, MLP_ERR_FORMAT, "truncated header", p, &err);

    /* Versions: 4.0, 0.0, 1.1. */
    const unsigned char vers[3][2] = {{4, 0}, {0, 0}, {1, 1}};
    for (int v = 0; v < 3; v++) {
        memcpy(bad, good.p, sizeof bad);
        bad[6] = vers[v][0];
        bad[7] = vers[v][1];
        char name[32];
        snprintf(name, sizeof name, "version-%d.npy", v);
        p = write_file(name, bad, sizeof bad);
        expect_fail("unknown version", p, NULL, MLP_ERR_FORMAT, "unsupported format version", p, &err);
        CHECK(has(&err, "byte 6"));
    }
    CHECK(has(&err, "1.1"));

    /* Header length past the end of the file (v1 u16, v2 u32). */
    memcpy(bad, good.p, sizeof bad);
    bad[8] = 0xFF;
    bad[9] = 0x7F;
    p = write_file("hlen-past.npy", bad, sizeof bad);
    expect_fail("header length past EOF", p, NULL, MLP_ERR_FORMAT, "runs past the end", p, &err);
    CHECK(has(&err, "32767") && has(&err, "byte 8"));
    struct buf b = {0};
    put(&b, "\x93NUMPY\x02\x00\xF0\xFF\xFF\xFF{}", 14);
    p = write_file("hlen-past-v2.npy", b.p, b.n);
    buf_free(&b);
    expect_fail("v2 header length past EOF", p, NULL, MLP_ERR_FORMAT, "runs past the end", p, &err);

    /* Header cut short: the file ends inside the dict. */
    p = write_file("cut-header.npy", good.p, 40);
    expect_fail("cut header", p, NULL, MLP_ERR_FORMAT, "runs past the end", p, &err);

    /* A directory and a missing file. */
    expect_fail("directory", g_dir, NULL, MLP_ERR_OPEN, "directory", NULL, &err);
    p = tmp_path("does-not-exist.npy");
    expect_fail("missing", p, NULL, MLP_ERR_OPEN, "cannot open", p, &err);
    const char *xp = write_file("good.npy", good.p, good.n);
    expect_fail("missing labels", xp, p, MLP_ERR_OPEN, "cannot open", p, &err);
    buf_free(&good);
}

static void test_bad_dicts(void)
{
    expect_bad_dict("missing shape", 1, "{'descr': '|u1', 'fortran_order': False}", "'shape' is missing");
    expect_bad_dict("missing descr", 2, "{'fortran_order': False, 'shape': (3, 4)}", "'descr' is missing");
    expect_bad_dict("empty dict", 1, "{}", "missing");
    expect_bad_dict("unknown key", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4), 'x': 1}",
                    "unknown key 'x'");
    expect_bad_dict("duplicate key", 1,
                    "{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (3, 4)}",
                    "appears twice");
    expect_bad_dict("complex", 1, "{'descr': '<c16', 'fortran_order': False, 'shape': (3, 4)}",
                    "unsupported dtype '<c16'");
    expect_bad_dict("object", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (3, 4)}",
                    "unsupported dtype '|O'");
    expect_bad_dict("object bare", 3, "{'descr': 'O', 'fortran_order': False, 'shape': (3, 4)}",
                    "pickled");
    expect_bad_dict("half", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3, 4)}",
                    "unsupported dtype '<f2'");
    expect_bad_dict("string dtype", 1, "{'descr': '<U7', 'fortran_order': False, 'shape': (3, 4)}",
                    "unsupported dtype");
    expect_bad_dict("datetime", 1, "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (3, 4)}",
                    "unsupported dtype");
    expect_bad_dict("structured", 1,
                    "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3, 4)}", "structured");
    expect_bad_dict("bool fortran", 1, "{'descr': '|u1', 'fortran_order': 0, 'shape': (3, 4)}",
                    "True or False");
    expect_bad_dict("Truex", 1, "{'descr': '|u1', 'fortran_order': Truex, 'shape': (3, 4)}",
                    "True or False");
    expect_bad_dict("shape no comma", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3 4)}",
                    "',' or ')'");
    expect_bad_dict("shape (12)", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (12)}",
                    "not a tuple");
    expect_bad_dict("shape list", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': [3, 4]}",
                    "a tuple");
    expect_bad_dict("shape double comma", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,,4)}",
                    "a dimension");
    expect_bad_dict("shape float", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3.0, 4)}",
                    "',' or ')' in 'shape'");
    expect_bad_dict("negative dim", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (-3, -4)}",
                    "negative dimension");
    expect_bad_dict("leading zero", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (03, 4)}",
                    "leading zeros");
    expect_bad_dict("zero dim", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 0)}",
                    "dimension 2 is 0");
    expect_bad_dict("zero rows", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (0, 4)}",
                    "dimension 1 is 0");
    expect_bad_dict("scalar", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': ()}", "single value");
    expect_bad_dict("dim too large", 1,
                    "{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999, 4)}",
                    "exceeds 2^63 - 1");
    expect_bad_dict("no brace", 1, "'descr': '|u1', 'fortran_order': False, 'shape': (3, 4)", "'{'");
    expect_bad_dict("no closing brace", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4)",
                    "header");
    expect_bad_dict("junk after dict", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4)} x",
                    "only padding");
    expect_bad_dict("misplaced quote", 1, "{'descr: '|u1', 'fortran_order': False, 'shape': (3, 4)}",
                    "unknown key 'descr: '");
    expect_bad_dict("unterminated string", 1, "{'fortran_order': False, 'shape': (3, 4), 'descr': '|u1",
                    "string longer than 15"); /* the padding runs on inside the string */
    expect_bad_dict("no colon", 1, "{'descr' '|u1', 'fortran_order': False, 'shape': (3, 4)}", "':'");
    expect_bad_dict("escape", 1, "{'de\\scr': '|u1', 'fortran_order': False, 'shape': (3, 4)}",
                    "no escapes");
    expect_bad_dict("non-ASCII key (v3 UTF-8)", 3,
                    "{'descr': '|u1', 'fortran_order': False, 'sh\xc3\xa4pe': (3, 4)}", "ASCII");
    expect_bad_dict("NUL in header", 1, "{'descr': '|u1',\x01 'fortran_order': False, 'shape': (3, 4)}",
                    "byte 0x01");
    expect_bad_dict("double comma", 1, "{'descr': '|u1',, 'fortran_order': False, 'shape': (3, 4)}",
                    "quoted key");
    expect_bad_dict("too wide", 1,
                    "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4294967296, 4294967296)}",
                    "MLP_MAX_WIDTH");
    expect_bad_dict("product overflow", 1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 16)}",
                    "limit");

    /* Labels of the wrong shape, and a byte offset in the dict message. */
    struct mlp_error err;
    struct buf b = {0};
    npy_std(&b, "|u1", 0, "(3, 4)");
    for (int i = 0; i < 12; i++) put_u8(&b, (unsigned)i);
    const char *xp = write_file("x34.npy", b.p, b.n);
    buf_free(&b);
    npy_std(&b, "|u1", 0, "(3, 2)");
    for (int i = 0; i < 6; i++) put_u8(&b, 0);
    const char *yp = write_file("y32.npy", b.p, b.n);
    buf_free(&b);
    const char *p;
    expect_fail("labels (3, 2)", xp, yp, MLP_ERR_FORMAT, "(n,) or (n, 1)", yp, &err);
    CHECK(has(&err, "(3, 2)"));

    const char *dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4),}";
    size_t at = (size_t)(strstr(dict, "False") - dict);
    npy_header(&b, 1, dict, 0);
    b.p[10 + at] = '?'; /* the F of False: file byte 10 + at */
    struct buf u = {0};
    npy_header(&u, 1, "{'fortran_order': False, 'shape': (3, 4), 'descr': '|u", 0);
    p = write_file("unterminated.npy", u.p, u.n); /* no payload: the header fails first */
    buf_free(&u);
    expect_fail("unterminated, unpadded", p, NULL, MLP_ERR_FORMAT, "closing quote", p, &err);
    for (int i = 0; i < 12; i++) put_u8(&b, (unsigned)i);
    p = write_file("offset.npy", b.p, b.n);
    buf_free(&b);
    char want[32];
    snprintf(want, sizeof want, "at byte %zu:", 10 + at);
    expect_fail("offset", p, NULL, MLP_ERR_FORMAT, want, p, &err);
    CHECK(has(&err, "True or False") && has(&err, "got '?'"));
}


/* ~200-byte files whose headers claim a terabyte, and 64 GiB: they fail at
 * once, before anything that large is allocated. */
static void test_huge_claims(void)
{
    struct mlp_error err;
    struct buf b = {0};
    npy_std(&b, "|u1", 0, "(1099511627776,)");
    while (b.n < 200) put_u8(&b, 7);
    const char *tb = write_file("claims-1tb.npy", b.p, b.n);
    buf_free(&b);
    npy_std(&b, "<f4", 0, "(1048576, 16384)");
    while (b.n < 200) put_u8(&b, 7);
    const char *gb = write_file("claims-64gb.npy", b.p, b.n);
    buf_free(&b);

#if defined(__linux__) && !defined(TEST_ASAN)
    /* Cap the address space at what we use + 512 MiB: an up-front huge
     * allocation then fails (NOMEM) instead of silently overcommitting. */
    struct rlimit old, lim;
    uint64_t vm = vm_size();
    int limited = vm > 0 && getrlimit(RLIMIT_AS, &old) == 0 &&
                  (old.rlim_cur == RLIM_INFINITY || old.rlim_cur > vm + (512ull << 20));
    if (limited) {
        lim = old;
        lim.rlim_cur = (rlim_t)(vm + (512ull << 20));
        limited = setrlimit(RLIMIT_AS, &lim) == 0;
    }
#endif
    double t0 = now_s();
    expect_fail("1 TB claim", tb, NULL, MLP_ERR_FORMAT, "limit", tb, &err);
    CHECK(has(&err, "(1099511627776,)"));
    expect_fail("64 GiB claim", gb, NULL, MLP_ERR_FORMAT, "truncated: header promises 68719476736 bytes",
                gb, &err);
    CHECK_MSG(has(&err, "file has 72"), "%s", err.msg); /* 200 - the 128-byte header */
    CHECK(now_s() - t0 < 5.0);
#if defined(__linux__) && !defined(TEST_ASAN)
    if (limited) CHECK(setrlimit(RLIMIT_AS, &old) == 0);
#endif
}

static void test_bad_payloads(void)
{
    struct mlp_error err;
    struct buf x = {0}, y = {0}, t = {0};
    npy_std(&x, "|u1", 0, "(3, 4)");
    for (int i = 0; i < 12; i++) put_u8(&x, (unsigned)i);
    npy_std(&y, "<i4", 0, "(3,)");
    for (int i = 0; i < 3; i++) put_int(&y, (uint64_t)i, 4, 0);
    const char *xp = write_file("good-x.npy", x.p, x.n);
    const char *yp = write_file("good-y.npy", y.p, y.n);
    const char *p;

    /* Truncated payload: one byte short, and no payload at all. */
    p = write_file("short-1.npy", x.p, x.n - 1);
    expect_fail("short by 1", p, yp, MLP_ERR_FORMAT, "truncated: header promises 12 bytes", p, &err);
    char at[64];
    const size_t off = x.n - 12; /* where the payload starts */
    snprintf(at, sizeof at, "from byte %zu", off);
    CHECK(has(&err, "file has 11") && has(&err, at));
    p = write_file("short-all.npy", x.p, off);
    expect_fail("no payload", p, NULL, MLP_ERR_FORMAT, "file has 0", p, &err);
    p = write_file("short-y.npy", y.p, y.n - 2);
    expect_fail("short labels", xp, p, MLP_ERR_FORMAT, "truncated", p, &err);

    /* Trailing bytes. */
    put(&t, x.p, x.n);
    put_u8(&t, 0);
    p = write_file("trailing.npy", t.p, t.n);
    buf_free(&t);
    expect_fail("trailing", p, yp, MLP_ERR_FORMAT, "trailing data: 1 bytes", p, &err);
    snprintf(at, sizeof at, "at byte %zu", off + 12);
    CHECK(has(&err, at));

    /* Non-finite inputs with their row, column and byte. */
    npy_std(&t, "<f4", 0, "(2, 3)");
    for (int i = 0; i < 6; i++) put_f32(&t, i == 4 ? NAN : 1.0f, 0);
    p = write_file("nan-f4.npy", t.p, t.n);
    snprintf(at, sizeof at, "row 1, column 1 (byte %zu)", t.n - 24 + 16); /* element 4 of 6 */
    buf_free(&t);
    expect_fail("NaN f4", p, NULL, MLP_ERR_FORMAT, "not finite", p, &err);
    CHECK(has(&err, at));
    npy_std(&t, ">f8", 0, "(2, 3)");
    for (int i = 0; i < 6; i++) put_f64(&t, i == 0 ? -INFINITY : 1.0, 1);
    p = write_file("inf-f8.npy", t.p, t.n);
    buf_free(&t);
    expect_fail("Inf f8", p, NULL, MLP_ERR_FORMAT, "not finite", p, &err);
    CHECK(has(&err, "row 0, column 0"));
    /* Fortran order: file element 3 is (1, 1); element 4 of rank 3 (2, 2, 2)
     * is (0, 0, 1): column 1. */
    npy_std(&t, ">f4", 1, "(2, 3)");
    for (int i = 0; i < 6; i++) put_f32(&t, i == 3 ? NAN : 1.0f, 1);
    p = write_file("nan-fortran.npy", t.p, t.n);
    buf_free(&t);
    expect_fail("NaN Fortran", p, NULL, MLP_ERR_FORMAT, "row 1, column 1", p, &err);
    npy_std(&t, "<f8", 1, "(2, 2, 2)");
    for (int i = 0; i < 8; i++) put_f64(&t, i == 4 ? NAN : 1.0, 0);
    p = write_file("nan-fortran3.npy", t.p, t.n);
    buf_free(&t);
    expect_fail("NaN Fortran rank 3", p, NULL, MLP_ERR_FORMAT, "row 0, column 1", p, &err);

    /* Label count mismatch: 3 rows, 4 labels. */
    npy_std(&t, "<i4", 0, "(4,)");
    for (int i = 0; i < 4; i++) put_int(&t, 1, 4, 0);
    p = write_file("y4.npy", t.p, t.n);
    buf_free(&t);
    expect_fail("count mismatch", xp, p, MLP_ERR_SHAPE, "count mismatch", p, &err);
    CHECK(has(&err, "3 rows") && has(&err, "4 labels") && has(&err, xp));

    /* Labels out of range: i4 -1, i8 65536, u8 2^64-1, f8 -1, f8 1.5, f4 NaN. */
    struct {
        const char *descr, *name, *needle;
        enum mlp_status st;
        int64_t v;
        double f;
    } cases[] = {
        {"<i4", "y-neg.npy", "label -1 at row 1", MLP_ERR_RANGE, -1, 0},
        {">i8", "y-big.npy", "label 65536 at row 1", MLP_ERR_RANGE, 65536, 0},
        {"<u8", "y-huge.npy", "label 18446744073709551615 at row 1", MLP_ERR_RANGE, -1, 0},
        {"<f8", "y-fneg.npy", "label -1 at row 1", MLP_ERR_RANGE, 0, -1.0},
        {"<f8", "y-half.npy", "not an integer", MLP_ERR_FORMAT, 0, 1.5},
        {"<f4", "y-nan.npy", "not an integer", MLP_ERR_FORMAT, 0, NAN},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char shape[8] = "(3,)";
        npy_std(&t, cases[c].descr, 0, shape);
        int size = cases[c].descr[2] - '0', big = cases[c].descr[0] == '>';
        for (int i = 0; i < 3; i++) {
            if (cases[c].descr[1] == 'f' && size == 8) put_f64(&t, i == 1 ? cases[c].f : 0.0, big);
            else if (cases[c].descr[1] == 'f') put_f32(&t, i == 1 ? (float)cases[c].f : 0.0f, big);
            else put_int(&t, i == 1 ? (uint64_t)cases[c].v : 0, size, big);
        }
        p = write_file(cases[c].name, t.p, t.n);
        buf_free(&t);
        expect_fail(cases[c].name, xp, p, cases[c].st, cases[c].needle, p, &err);
        CHECK_MSG(has(&err, "byte "), "%s: %s", cases[c].name, err.msg);
    }
    buf_free(&x);
    buf_free(&y);
}

/* ----------------------------------------- width, memory, changing files */

/* The caller's width is checked from the header: before the header's
 * promises are checked against the file, and before any row is read. */
static void test_width(void)
{
    struct buf b = {0};
    npy_std(&b, "<f4", 0, "(10, 3)");
    for (int i = 0; i < 30; i++) put_f32(&b, (float)i, 0);
    const char *ok = write_file("width.npy", b.p, b.n);
    const char *cut = write_file("width-cut.npy", b.p, b.n - 40);
    buf_free(&b);
    struct mlp_load_params p = mlp_load_params_default();
    struct mlp_dataset ds;
    struct mlp_error err = {0};
    p.n_cols = 4;
    memset(&ds, 0xAB, sizeof ds);
    CHECK_STATUS(mlp_dataset_load(&ds, ok, NULL, &p, &err), MLP_ERR_SHAPE);
    CHECK_MSG(has(&err, "has 3 columns, the model expects 4 inputs") && has(&err, ok), "msg: %s", err.msg);
    CHECK(is_zeroed(&ds));
    CHECK_STATUS(mlp_dataset_load(&ds, cut, NULL, &p, &err), MLP_ERR_SHAPE);
    p.n_cols = 3;
    CHECK_STATUS(mlp_dataset_load(&ds, cut, NULL, &p, &err), MLP_ERR_FORMAT);
    CHECK(has(&err, "truncated"));
    CHECK_STATUS(mlp_dataset_load(&ds, ok, NULL, &p, &err), MLP_OK);
    CHECK(ds.n_rows == 10 && ds.n_cols == 3);
    mlp_dataset_free(&ds);
}

/* i1 inputs become f64, 8 bytes for each stored one: a (sparse) file whose
 * data set would need more than the machine's memory is refused before the
 * block is allocated or a row read. */
static void test_memory_bound(void)
{
    uint64_t phys = mlp__mem_bound(); /* the bound the loaders apply */
    uint64_t rows = phys / (8u << 20) + 4;
    if (phys == UINT64_MAX || rows * (8u << 20) > (1ull << 36)) {
        printf("test_npy: memory bound skipped: %llu bytes of memory is beyond the .npy limit\n",
               (unsigned long long)phys);
        return;
    }
    char shape[64];
    snprintf(shape, sizeof shape, "(%llu, 1048576)", (unsigned long long)rows);
    struct buf b = {0};
    npy_std(&b, "|i1", 0, shape);
    const char *path = write_file("bigger-than-memory.npy", b.p, b.n);
    int ok = truncate(path, (off_t)(b.n + rows * (1u << 20))) == 0; /* sparse: no disk used */
    buf_free(&b);
    CHECK_MSG(ok, "truncate: %s", strerror(errno));
    if (!ok) return;
#if defined(__linux__) && !defined(TEST_ASAN)
    struct rlimit old, lim;
    uint64_t vm = vm_size();
    int limited = vm > 0 && getrlimit(RLIMIT_AS, &old) == 0 &&
                  (old.rlim_cur == RLIM_INFINITY || old.rlim_cur > vm + (1ull << 30));
    if (limited) {
        lim = old;
        lim.rlim_cur = (rlim_t)(vm + (1ull << 30));
        limited = setrlimit(RLIMIT_AS, &lim) == 0;
    }
#endif
    struct mlp_error err;
    double t0 = now_s();
    expect_fail("more than memory", path, NULL, MLP_ERR_NOMEM, "bytes of memory", path, &err);
    CHECK(now_s() - t0 < 2.0);
#if defined(__linux__) && !defined(TEST_ASAN)
    if (limited) CHECK(setrlimit(RLIMIT_AS, &old) == 0);
#endif
    remove(path);
}

#ifdef __linux__
/* A file truncated by someone else while it is loaded (after the loader's
 * fstat: the watcher waits for the header read) is MLP_ERR_IO "file changed
 * while reading", not a truncated file; or a complete load, should the
 * truncation come after the last read.  Read straight into place ('<f4')
 * and through the conversion buffer ('>f4'). */
static void test_shrinks(void)
{
    enum { ROWS = 16384, COLS = 1024 }; /* 64 MiB */
    int seen[2][2] = {{0, 0}, {0, 0}};
    for (int big = 0; big < 2; big++) {
        struct buf b = {0};
        char shape[32];
        snprintf(shape, sizeof shape, "(%d, %d)", ROWS, COLS);
        npy_std(&b, big ? ">f4" : "<f4", 0, shape);
        size_t hdr = b.n, n = hdr + (size_t)4 * ROWS * COLS;
        unsigned char *p = realloc(b.p, n);
        if (!p) exit(2);
        for (size_t i = hdr; i < n; i += 4) {
            float v = (float)((i - hdr) / 4 % 1000);
            unsigned char q[4];
            memcpy(q, &v, 4);
            for (int k = 0; k < 4; k++) p[i + (size_t)k] = q[big ? 3 - k : k]; /* host: little-endian */
        }
        b.p = p;
        b.n = b.cap = n;
        for (int attempt = 0; attempt < 3; attempt++) {
            const char *xp = write_file(big ? "shrinks-be.npy" : "shrinks.npy", b.p, b.n);
            struct shrinker sh;
            if (shrinker_start(&sh, xp, (off_t)(n / 3), IN_ACCESS) != 0) {
                CHECK_MSG(0, "inotify: %s", strerror(errno));
                break;
            }
            struct mlp_dataset ds;
            struct mlp_error err = {0};
            enum mlp_status st = mlp_dataset_load_npy(&ds, xp, NULL, &err);
            shrinker_join(&sh);
            CHECK_MSG(st == MLP_OK || (st == MLP_ERR_IO && has(&err, "file changed while reading")),
                      "%s, attempt %d: %s: %s", big ? ">f4" : "<f4", attempt, mlp_status_str(st), err.msg);
            if (st == MLP_ERR_IO) {
                char want[96];
                snprintf(want, sizeof want, "(%zu bytes at open, %zu now)", n, n / 3);
                CHECK_MSG(has(&err, want), "msg: %s", err.msg);
            }
            if (st == MLP_OK)
                CHECK(ds.n_rows == ROWS && ((const float *)ds.x)[(size_t)ROWS * COLS - 1] ==
                                               (float)(((size_t)ROWS * COLS - 1) % 1000));
            seen[big][0] += st == MLP_OK;
            seen[big][1] += st == MLP_ERR_IO;
            mlp_dataset_free(&ds);
        }
        buf_free(&b);
    }
    printf("test_npy: shrunk while loading: <f4 %d complete, %d changed; >f4 %d complete, %d changed\n",
           seen[0][0], seen[0][1], seen[1][0], seen[1][1]);
}
#endif

/* ------------------------------------------------------ from memory */

/* mlp_dataset_load_npy_mem runs the path variant's parser: every file this
 * test wrote, a pair with labels, every prefix of a file, garbage; and p is
 * heeded. */
static void test_memory(void)
{
    struct buf x = {0}, y = {0};
    npy_std(&x, "<f4", 1, "(3, 2, 2)");
    for (int i = 0; i < 12; i++) put_f32(&x, (float)i / 8, 0);
    npy_std(&y, "<i2", 0, "(3,)");
    for (int i = 0; i < 3; i++) put_int(&y, (uint64_t)(2 - i), 2, 0);
    const char *xp = write_file("mem-x.npy", x.p, x.n), *yp = write_file("mem-y.npy", y.p, y.n);
    CHECK_STATUS(twin_check("pair", twin_load, xp, yp), MLP_OK);
    twin_prefixes("mem-cut.npy", twin_load, x.p, x.n, 1, 1);
    twin_every_file(twin_load);
    unsigned char junk[500];
    uint64_t r = 11;
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)((r = r * 6364136223846793005u + 1) >> 56);
    memcpy(junk, "\x93NUMPY\x01\x00", 8);
    CHECK_STATUS(twin_check("garbage after the magic", twin_load, write_file("mem-junk.npy", junk, sizeof junk), NULL),
                 MLP_ERR_FORMAT);

    struct mlp_buffer bx = {x.p, x.n, NULL}, by = {y.p, y.n - 1, NULL};
    struct mlp_dataset ds;
    struct mlp_error err = {0};
    CHECK_STATUS(mlp_dataset_load_npy_mem(&ds, &bx, &by, NULL, &err), MLP_ERR_FORMAT);
    CHECK_MSG(has(&err, "<memory labels>: truncated"), "msg: %s", err.msg);
    CHECK(is_zeroed(&ds));
    struct mlp_load_params p = mlp_load_params_default();
    p.n_cols = 3;
    CHECK_STATUS(mlp_dataset_load_npy_mem(&ds, &bx, NULL, &p, &err), MLP_ERR_SHAPE);
    CHECK_MSG(has(&err, "<memory> has 4 columns, the model expects 3 inputs"), "msg: %s", err.msg);
    p.n_cols = 4;
    by.size = y.n;
    CHECK_STATUS(mlp_dataset_load_npy_mem(&ds, &bx, &by, &p, &err), MLP_OK);
    CHECK(ds.n_rows == 3 && ds.n_cols == 4 && ds.x_type == MLP_ELEM_F32 && ds.labels && ds.labels[0] == 2);
    mlp_dataset_free(&ds);
    buf_free(&x);
    buf_free(&y);
    printf("test_npy: %d loads from memory matched their file\n", g_twins);
}

int main(void)
{
    tmp_init("npy");

    test_basic();
    test_dtypes();
    test_shapes();
    test_labels();
    test_bad_preamble();
    test_bad_dicts();
    test_huge_claims();
    test_bad_payloads();
    test_width();
    test_memory_bound();
#ifdef __linux__
    test_shrinks();
#endif
    test_memory();

    tmp_cleanup();
    return check_report("npy");
}
