/* SPDX-License-Identifier: MIT */
/* HDF5 loader: the cat/non-cat files of seed 000 (keys found and given),
 * truncated, corrupt and non-HDF5 files, and small files written here with
 * libhdf5 for the cases the seed files lack (ambiguous keys, f32 and i16
 * inputs, float labels, bad values, huge declared sizes).  Also checks that
 * no HDF5 handle is left open and that the error printer is restored.
 *
 * Every load is also made from the file's bytes in memory
 * (mlp_dataset_load_hdf5_mem), which must give the same.
 *
 * Reads train_catvnoncat.h5 and test_catvnoncat.h5 from the data directory
 * (support/datadir.h); missing data is a failure, not a skip. */
#include <errno.h>
#include <hdf5.h>
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
#include "datadir.h"
#include "fastmlp.h"
#include "loadtest.h"

#define TRAIN_H5 test_data_path("train_catvnoncat.h5")
#define TEST_H5 test_data_path("test_catvnoncat.h5")

/* --------------------------------------------------- writing HDF5 files */

static hid_t h5_create(const char *name)
{
    hid_t f = H5Fcreate(tmp_path(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "test_hdf5: cannot create %s\n", tmp_path(name));
        exit(2);
    }
    return f;
}

/* Data set `name` of file type ftype and shape dims, written from `data`
 * (memory type mtype) unless data is NULL; chunked: never-written chunks. */
static void h5_put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                   const hsize_t *dims, const void *data, int chunked)
{
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) {
        hsize_t chunk[H5S_MAX_RANK];
        for (int d = 0; d < rank; d++) chunk[d] = dims[d] < 64 ? dims[d] : 64;
        H5Pset_chunk(dcpl, rank, chunk);
    }
    hid_t d = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int ok = space >= 0 && dcpl >= 0 && d >= 0;
    if (ok && data) ok = H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (!ok) {
        fprintf(stderr, "test_hdf5: cannot write data set %s\n", name);
        exit(2);
    }
}

static const char *h5_done(hid_t f, const char *name)
{
    if (H5Fclose(f) < 0) {
        fprintf(stderr, "test_hdf5: cannot close %s\n", name);
        exit(2);
    }
    return tmp_path(name);
}

/* ------------------------------------------------------------- checking */

/* Nothing of any file may stay open after a load, whatever its outcome. */
static void check_no_handles(const char *what)
{
    ssize_t n = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
    CHECK_MSG(n == 0, "%s: %zd HDF5 handles left open", what, n);
}

static struct mlp_load_params keys(const char *x, const char *y)
{
    struct mlp_load_params p;
    memset(&p, 0, sizeof p); /* mlp_load_params_default lives elsewhere */
    p.x_key = x;
    p.y_key = y;
    return p;
}

/* The parameters load() passes to the memory twin. */
static const struct mlp_load_params *g_twin_params;

static enum mlp_status twin_load(struct mlp_dataset *ds, const char *path, const struct mlp_buffer *b,
                                 const char *y_path, const struct mlp_buffer *yb, struct mlp_error *err)
{
    (void)y_path, (void)yb;
    enum mlp_status st = path ? mlp_dataset_load_hdf5(ds, path, g_twin_params, err)
                              : mlp_dataset_load_hdf5_mem(ds, b, g_twin_params, err);
    check_no_handles(path ? path : "a file image");
    return st;
}

/* Load path with keys (x, y) (p NULL when both are NULL), expecting OK. */
static enum mlp_status load(struct mlp_dataset *ds, const char *path, const char *x, const char *y,
                            struct mlp_error *err)
{
    struct mlp_load_params p = keys(x, y);
    memset(err, 0, sizeof *err);
    enum mlp_status st = mlp_dataset_load_hdf5(ds, path, x || y ? &p : NULL, err);
    check_no_handles(path);
    /* Its bytes from memory (under the same name) give the same, message and all. */
    g_twin_params = x || y ? &p : NULL;
    twin_check(path, twin_load, path, NULL);
    return st;
}

/* Expect status `want` with `needle` in the message, the file named, and a
 * zeroed data set; the message stays in *err. */
static void expect_fail(const char *what, const char *path, const char *x, const char *y,
                        enum mlp_status want, const char *needle, struct mlp_error *err)
{
    struct mlp_dataset ds;
    memset(&ds, 0xAB, sizeof ds); /* garbage in: the loader must zero it */
    enum mlp_status st = load(&ds, path, x, y, err);
    if (getenv("TEST_VERBOSE")) printf("  %-28s %s\n", what, err->msg);
    CHECK_MSG(st == want, "%s: got %s, want %s (msg: %s)", what, mlp_status_str(st),
              mlp_status_str(want), err->msg);
    CHECK_MSG(err->status == want, "%s: err.status %s", what, mlp_status_str(err->status));
    CHECK_MSG(strstr(err->msg, needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what, err->msg,
              needle);
    CHECK_MSG(strstr(err->msg, path) != NULL, "%s: message \"%s\" does not name the file", what,
              err->msg);
    CHECK_MSG(is_zeroed(&ds), "%s: data set not zeroed after failure", what);
    if (st == MLP_OK) mlp_dataset_free(&ds);
    /* Without an error struct: same status, no crash. */
    struct mlp_load_params p = keys(x, y);
    memset(&ds, 0xAB, sizeof ds);
    CHECK_MSG(mlp_dataset_load_hdf5(&ds, path, &p, NULL) == want, "%s: status differs with err NULL", what);
    CHECK(is_zeroed(&ds));
}

/* ------------------------------------------------------- the seed files */

static void test_cat_files(void)
{
    struct mlp_dataset ds, dk;
    struct mlp_error err;

    /* Keys found: train_set_x (209, 64, 64, 3) u8 and train_set_y (209,)
     * int64; list_classes (2,) S7 is ignored. */
    CHECK_STATUS(load(&ds, TRAIN_H5, NULL, NULL, &err), MLP_OK);
    CHECK_MSG(ds.n_rows == 209 && ds.n_cols == 12288 && ds.x_type == MLP_ELEM_U8, "%s", err.msg);
    CHECK(ds.labels != NULL && ds.n_classes == 2 && ds.owned != NULL);
    CHECK(((uintptr_t)ds.x & 63) == 0);
    long sum = 0;
    for (uint64_t i = 0; ds.labels && i < ds.n_rows; i++) sum += ds.labels[i];
    CHECK_MSG(sum == 72, "label sum %ld", sum);
    /* h5py: f['train_set_x'][0, 0, 0] is [17, 31, 56]. */
    const uint8_t *px = ds.x;
    CHECK(px && px[0] == 17 && px[1] == 31 && px[2] == 56);
    CHECK_STATUS(mlp_dataset_validate(&ds, &err), MLP_OK);

    /* Keys given: the same data. */
    CHECK_STATUS(load(&dk, TRAIN_H5, "train_set_x", "train_set_y", &err), MLP_OK);
    CHECK(dk.n_rows == 209 && dk.n_cols == 12288 && dk.x_type == MLP_ELEM_U8 && dk.n_classes == 2);
    CHECK(dk.x && ds.x && memcmp(dk.x, ds.x, 209u * 12288u) == 0);
    CHECK(dk.labels && ds.labels && memcmp(dk.labels, ds.labels, 209 * sizeof(int32_t)) == 0);
    mlp_dataset_free(&dk);
    /* Only x given: the labels are still found; "/path" form too. */
    CHECK_STATUS(load(&dk, TRAIN_H5, "/train_set_x", NULL, &err), MLP_OK);
    CHECK(dk.labels && ds.labels && memcmp(dk.labels, ds.labels, 209 * sizeof(int32_t)) == 0);
    mlp_dataset_free(&dk);
    /* Only y given. */
    CHECK_STATUS(load(&dk, TRAIN_H5, NULL, "train_set_y", &err), MLP_OK);
    CHECK(dk.n_cols == 12288 && dk.n_classes == 2);
    mlp_dataset_free(&dk);
    mlp_dataset_free(&ds);

    CHECK_STATUS(load(&ds, TEST_H5, NULL, NULL, &err), MLP_OK);
    CHECK_MSG(ds.n_rows == 50 && ds.n_cols == 12288 && ds.x_type == MLP_ELEM_U8 && ds.n_classes == 2,
              "%s", err.msg);
    sum = 0;
    for (uint64_t i = 0; ds.labels && i < ds.n_rows; i++) sum += ds.labels[i];
    CHECK_MSG(sum == 33, "label sum %ld", sum);
    mlp_dataset_free(&ds);

    /* Wrong keys: ARG, listing what is there. */
    expect_fail("x key not found", TRAIN_H5, "train_x", NULL, MLP_ERR_ARG, "no data set named 'train_x'", &err);
    CHECK(has(&err, "train_set_x (209, 64, 64, 3) u8") && has(&err, "train_set_y (209,) i64") &&
          has(&err, "list_classes (2,) string"));
    expect_fail("y key not found", TRAIN_H5, NULL, "labels", MLP_ERR_ARG, "no data set named 'labels'", &err);
    CHECK(has(&err, "train_set_x"));
    expect_fail("empty key", TRAIN_H5, "", NULL, MLP_ERR_ARG, "no data set named ''", &err);
    expect_fail("key into missing group", TRAIN_H5, "/g/x", NULL, MLP_ERR_ARG, "'/g/x'", &err);
    /* Keys naming the wrong kind of data set. */
    expect_fail("string labels", TRAIN_H5, NULL, "list_classes", MLP_ERR_FORMAT, "expected integers", &err);
    CHECK(has(&err, "list_classes (2,) string"));
    expect_fail("string inputs", TRAIN_H5, "list_classes", NULL, MLP_ERR_FORMAT, "expected integers", &err);
    expect_fail("x as labels", TRAIN_H5, NULL, "train_set_x", MLP_ERR_FORMAT, "(n,) or (n, 1)", &err);
}

/* Truncated, corrupt and foreign files: clean failures, no crash. */
static void test_bad_files(void)
{
    struct mlp_error err;
    size_t n;
    unsigned char *all = read_all(TRAIN_H5, &n);
    const char *p;

    p = write_file("cut-1000.h5", all, 1000);
    expect_fail("first 1000 bytes", p, NULL, NULL, MLP_ERR_FORMAT, "truncated", &err);
    p = write_file("cut-half.h5", all, n / 2);
    expect_fail("first half", p, NULL, NULL, MLP_ERR_FORMAT, "truncated", &err);
    p = write_file("cut-8.h5", all, 8);
    expect_fail("signature only", p, NULL, NULL, MLP_ERR_FORMAT, "HDF5", &err);
    p = write_file("cut-7.h5", all, 7);
    expect_fail("part of the signature", p, NULL, NULL, MLP_ERR_FORMAT, "not an HDF5 file", &err);

    /* Half the file with the superblock's end-of-file address patched to
     * match (version 0 superblock: EOF address at byte 40), so that the
     * failure comes later, from the missing objects or data. */
    CHECK(all[8] == 0);
    if (all[8] == 0) {
        unsigned char *half = malloc(n / 2);
        CHECK(half != NULL);
        if (half) {
            memcpy(half, all, n / 2);
            for (int i = 0; i < 8; i++) half[40 + i] = (unsigned char)((uint64_t)(n / 2) >> (8 * i));
            p = write_file("cut-half-patched.h5", half, n / 2);
            free(half);
            expect_fail("half, EOF patched", p, NULL, NULL, MLP_ERR_FORMAT, "", &err);
        }
    }

    /* Corrupt superblock: size of offsets 3 (must be 2, 4, 8, 16 or 32). */
    unsigned char saved = all[13];
    all[13] = 3;
    p = write_file("bad-superblock.h5", all, 4096);
    all[13] = saved;
    expect_fail("bad superblock", p, NULL, NULL, MLP_ERR_FORMAT, "", &err);
    /* Garbage over the metadata after the superblock. */
    unsigned char *junk = malloc(n);
    CHECK(junk != NULL);
    if (junk) {
        memcpy(junk, all, n);
        for (size_t i = 96; i < 4096 && i < n; i++) junk[i] = (unsigned char)(i * 131 + 7);
        p = write_file("junk-metadata.h5", junk, n);
        free(junk);
        expect_fail("junk metadata", p, NULL, NULL, MLP_ERR_FORMAT, "", &err);
    }
    free(all);

    const char *text = "label,x1,x2\n1,0.5,0.25\n";
    p = write_file("text.h5", text, strlen(text));
    expect_fail("text file", p, NULL, NULL, MLP_ERR_FORMAT, "not an HDF5 file", &err);
    CHECK(has(&err, "6C 61 62"));
    p = write_file("empty.h5", "", 0);
    expect_fail("empty file", p, NULL, NULL, MLP_ERR_FORMAT, "not an HDF5 file", &err);
    p = tmp_path("does-not-exist.h5");
    expect_fail("missing file", p, NULL, NULL, MLP_ERR_OPEN, "cannot open", &err);
    expect_fail("directory", g_dir, NULL, NULL, MLP_ERR_OPEN, "directory", &err);
}

/* ------------------------------------------------- files written here */

static void test_written(void)
{
    struct mlp_dataset ds;
    struct mlp_error err;
    hid_t f;
    const char *p;

    /* Two rank-2 data sets: ambiguous. */
    const double d12[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    hsize_t d34[2] = {3, 4};
    f = h5_create("two.h5");
    h5_put(f, "a", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d34, d12, 0);
    h5_put(f, "b", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, 2, d34, d12, 0);
    p = h5_done(f, "two.h5");
    expect_fail("ambiguous x", p, NULL, NULL, MLP_ERR_ARG, "2 data sets could be the inputs", &err);
    CHECK(has(&err, "a (3, 4) f64") && has(&err, "b (3, 4) f64") && has(&err, "--x-key"));
    CHECK_STATUS(load(&ds, p, "b", NULL, &err), MLP_OK);
    CHECK(ds.n_rows == 3 && ds.n_cols == 4 && ds.x_type == MLP_ELEM_F64 && ds.labels == NULL &&
          ds.n_classes == 0 && ds.x && memcmp(ds.x, d12, sizeof d12) == 0);
    mlp_dataset_free(&ds);
    /* A rank-1 data set is one column when asked for by name. */
    const int32_t y3[3] = {2, 0, 1};
    hsize_t d3[1] = {3};
    f = h5_create("rank1.h5");
    h5_put(f, "v", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d3, y3, 0);
    p = h5_done(f, "rank1.h5");
    CHECK_STATUS(load(&ds, p, "v", NULL, &err), MLP_OK);
    CHECK(ds.n_rows == 3 && ds.n_cols == 1 && ds.x_type == MLP_ELEM_F64 && ds.x &&
          ((const double *)ds.x)[0] == 2.0);
    mlp_dataset_free(&ds);
    expect_fail("no rank-2 data set", p, NULL, NULL, MLP_ERR_FORMAT, "no numeric data set of rank >= 2", &err);
    CHECK(has(&err, "v (3,) i32") && has(&err, "--x-key"));

    /* f32 inputs stored big-endian, rank 3, with i32 labels: found, exact. */
    float fx[24];
    for (int i = 0; i < 24; i++) fx[i] = (float)i * 0.375f - 4.0f;
    const int32_t y4[4] = {3, 1, 0, 3};
    hsize_t d423[3] = {4, 2, 3}, d4[1] = {4};
    f = h5_create("f32.h5");
    h5_put(f, "features", H5T_IEEE_F32BE, H5T_NATIVE_FLOAT, 3, d423, fx, 0);
    h5_put(f, "labels", H5T_STD_I32BE, H5T_NATIVE_INT32, 1, d4, y4, 0);
    hsize_t d2[1] = {2};
    h5_put(f, "other_count", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d2, y4, 0); /* 2 rows: no candidate */
    p = h5_done(f, "f32.h5");
    CHECK_STATUS(load(&ds, p, NULL, NULL, &err), MLP_OK);
    CHECK(ds.n_rows == 4 && ds.n_cols == 6 && ds.x_type == MLP_ELEM_F32 && ds.x &&
          memcmp(ds.x, fx, sizeof fx) == 0);
    CHECK(ds.labels && memcmp(ds.labels, y4, sizeof y4) == 0 && ds.n_classes == 4);
    mlp_dataset_free(&ds);
    /* Labels of the wrong count, given by name. */
    expect_fail("label count", p, NULL, "other_count", MLP_ERR_SHAPE, "count mismatch", &err);
    CHECK(has(&err, "4 rows") && has(&err, "have 2"));

    /* Names decide among several: data_x over other (rank 2), data_y (the
     * pair of data_x) over y_a; i16 inputs become f64, float labels ints. */
    const int16_t xi[6] = {-32768, -1, 0, 1, 300, 32767};
    const uint8_t xo[15] = {0};
    const double yd[3] = {1.0, 0.0, 4.0};
    hsize_t d32[2] = {3, 2}, d35[2] = {3, 5};
    f = h5_create("named.h5");
    h5_put(f, "data_x", H5T_STD_I16BE, H5T_NATIVE_INT16, 2, d32, xi, 0);
    h5_put(f, "other", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, d35, xo, 0);
    h5_put(f, "y_a", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d3, y3, 0);
    h5_put(f, "data_y", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, d3, yd, 0);
    p = h5_done(f, "named.h5");
    CHECK_STATUS(load(&ds, p, NULL, NULL, &err), MLP_OK);
    int ok = ds.x != NULL && ds.n_rows == 3 && ds.n_cols == 2 && ds.x_type == MLP_ELEM_F64;
    for (int i = 0; ok && i < 6; i++) ok = ((const double *)ds.x)[i] == xi[i];
    CHECK(ok);
    CHECK(ds.labels && ds.labels[0] == 1 && ds.labels[1] == 0 && ds.labels[2] == 4 && ds.n_classes == 5);
    mlp_dataset_free(&ds);

    /* Two label candidates and no name to tell them apart. */
    f = h5_create("ambig-y.h5");
    h5_put(f, "pixels", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, d35, xo, 0);
    h5_put(f, "p", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d3, y3, 0);
    h5_put(f, "q", H5T_STD_I64LE, H5T_NATIVE_INT32, 1, d3, y3, 0);
    p = h5_done(f, "ambig-y.h5");
    expect_fail("ambiguous y", p, NULL, NULL, MLP_ERR_ARG, "2 data sets could be the labels", &err);
    CHECK(has(&err, "p (3,) i32") && has(&err, "q (3,) i64") && has(&err, "--y-key"));
    CHECK_STATUS(load(&ds, p, NULL, "q", &err), MLP_OK);
    CHECK(ds.labels && memcmp(ds.labels, y3, sizeof y3) == 0 && ds.n_classes == 3 && ds.x_type == MLP_ELEM_U8);
    mlp_dataset_free(&ds);

    /* A data set in a group, by path; (n, 1) labels by name. */
    f = h5_create("group.h5");
    hid_t g = H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    h5_put(g, "x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d34, d12, 0);
    hsize_t d31[2] = {3, 1};
    h5_put(g, "y", H5T_STD_U8LE, H5T_NATIVE_INT32, 2, d31, y3, 0);
    H5Gclose(g);
    p = h5_done(f, "group.h5");
    CHECK_STATUS(load(&ds, p, "/g/x", "g/y", &err), MLP_OK);
    CHECK(ds.n_rows == 3 && ds.n_cols == 4 && ds.labels && memcmp(ds.labels, y3, sizeof y3) == 0);
    mlp_dataset_free(&ds);
    expect_fail("nothing at the root", p, NULL, NULL, MLP_ERR_FORMAT, "data sets: none", &err);

    /* Bad values. */
    double xn[6] = {1, 2, 3, 4, 5, NAN};
    f = h5_create("nan.h5");
    h5_put(f, "x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d32, xn, 0);
    p = h5_done(f, "nan.h5");
    expect_fail("NaN input", p, NULL, NULL, MLP_ERR_FORMAT, "not finite", &err);
    CHECK(has(&err, "row 2, column 1"));

    const int64_t yneg[3] = {0, -1, 1}, ybig[3] = {0, 1, 70000};
    const float yhalf[3] = {0.0f, 1.5f, 1.0f};
    f = h5_create("badlab.h5");
    h5_put(f, "x", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, d35, xo, 0);
    h5_put(f, "neg", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, d3, yneg, 0);
    h5_put(f, "big", H5T_STD_I64BE, H5T_NATIVE_INT64, 1, d3, ybig, 0);
    h5_put(f, "half", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d3, yhalf, 0);
    p = h5_done(f, "badlab.h5");
    expect_fail("label -1", p, NULL, "neg", MLP_ERR_RANGE, "label -1 at row 1", &err);
    expect_fail("label 70000", p, NULL, "big", MLP_ERR_RANGE, "label 70000 at row 2", &err);
    expect_fail("label 1.5", p, NULL, "half", MLP_ERR_FORMAT, "label 1.5 at row 1", &err);
    CHECK(has(&err, "not an integer"));

    /* Declared sizes: checked before any allocation.  Chunked data sets
     * whose chunks were never written take no room in the file. */
    hsize_t dbig[2] = {1u << 17, 1u << 14}, dtb[2] = {1u << 20, 1u << 20}, dwide[2] = {4, 1u << 25};
    hsize_t d0[2] = {0, 3};
    f = h5_create("huge.h5");
    h5_put(f, "gigs", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, dbig, NULL, 1);
    h5_put(f, "tera", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, dtb, NULL, 1);
    h5_put(f, "wide", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, dwide, NULL, 1);
    h5_put(f, "empty", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, d0, NULL, 0);
    h5_put(f, "scalar", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, d12, 0);
    hid_t s7 = H5Tcopy(H5T_C_S1);
    H5Tset_size(s7, 7);
    h5_put(f, "names", s7, s7, 1, d2, "cat\0\0\0\0non-cat", 0);
    H5Tclose(s7);
    p = h5_done(f, "huge.h5");
#if defined(__linux__) && !defined(TEST_ASAN)
    /* Cap the address space at what we use + 512 MiB: an up-front 2 GiB
     * allocation then fails instead of silently overcommitting. */
    struct rlimit old, lim;
    uint64_t vm = 0;
    FILE *sf = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    if (sf) {
        if (fscanf(sf, "%llu", &pages) == 1) vm = pages * (uint64_t)sysconf(_SC_PAGESIZE);
        fclose(sf);
    }
    int limited = vm > 0 && getrlimit(RLIMIT_AS, &old) == 0 &&
                  (old.rlim_cur == RLIM_INFINITY || old.rlim_cur > vm + (512ull << 20));
    if (limited) {
        lim = old;
        lim.rlim_cur = (rlim_t)(vm + (512ull << 20));
        limited = setrlimit(RLIMIT_AS, &lim) == 0;
    }
#endif
    expect_fail("2 GiB never written", p, "gigs", NULL, MLP_ERR_FORMAT, "stores only 0", &err);
    expect_fail("1 TiB declared", p, "tera", NULL, MLP_ERR_FORMAT, "68719476736-byte limit", &err);
#if defined(__linux__) && !defined(TEST_ASAN)
    if (limited) CHECK(setrlimit(RLIMIT_AS, &old) == 0);
#endif
    expect_fail("too wide", p, "wide", NULL, MLP_ERR_FORMAT, "MLP_MAX_WIDTH", &err);
    expect_fail("zero rows", p, "empty", NULL, MLP_ERR_FORMAT, "dimension 1 is 0", &err);
    expect_fail("scalar", p, "scalar", NULL, MLP_ERR_FORMAT, "at least one dimension", &err);
    expect_fail("ambiguous among huge", p, NULL, NULL, MLP_ERR_ARG, "could be the inputs", &err);
    CHECK(has(&err, "names") == 0); /* strings are never candidates */
}

/* The caller's HDF5 error printer is left as it was, and never called. */
static int g_printer_calls;
static herr_t printer(hid_t stack, void *data)
{
    (void)stack;
    (void)data;
    g_printer_calls++;
    return 0;
}

static void test_error_printer(void)
{
    int token = 0;
    H5E_auto2_t fn0 = NULL;
    void *data0 = NULL;
    CHECK(H5Eget_auto2(H5E_DEFAULT, &fn0, &data0) >= 0);
    CHECK(H5Eset_auto2(H5E_DEFAULT, printer, &token) >= 0);
    struct mlp_error err;
    struct mlp_dataset ds;
    size_t n;
    unsigned char *all = read_all(TRAIN_H5, &n);
    const char *p = write_file("cut-1000.h5", all, 1000);
    free(all);
    CHECK_STATUS(load(&ds, p, NULL, NULL, &err), MLP_ERR_FORMAT);
    CHECK_STATUS(load(&ds, TRAIN_H5, "nope", NULL, &err), MLP_ERR_ARG);
    CHECK_STATUS(load(&ds, TRAIN_H5, NULL, NULL, &err), MLP_OK);
    mlp_dataset_free(&ds);
    H5E_auto2_t fn = NULL;
    void *data = NULL;
    CHECK(H5Eget_auto2(H5E_DEFAULT, &fn, &data) >= 0);
    CHECK(fn == printer && data == &token);
    CHECK(g_printer_calls == 0);
    H5Eset_auto2(H5E_DEFAULT, fn0, data0);
}

/* The caller's width is checked from the dataspace, before the storage is
 * looked at or a value read: a huge data set that was never written (which
 * the storage check refuses) reports the width first. */
static void test_width(void)
{
    struct mlp_dataset ds;
    struct mlp_error err = {0};
    const double d12[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    hsize_t d34[2] = {3, 4}, huge[2] = {1u << 22, 4}; /* 128 MiB declared */
    hid_t f = h5_create("width.h5");
    h5_put(f, "x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d34, d12, 0);
    h5_put(f, "empty", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, huge, NULL, 1);
    const char *p = h5_done(f, "width.h5");
    struct mlp_load_params lp = keys("x", NULL);
    lp.n_cols = 5;
    memset(&ds, 0xAB, sizeof ds);
    CHECK_STATUS(mlp_dataset_load_hdf5(&ds, p, &lp, &err), MLP_ERR_SHAPE);
    CHECK_MSG(has(&err, "has 4 columns, the model expects 5 inputs") && has(&err, p), "msg: %s", err.msg);
    CHECK(is_zeroed(&ds));
    check_no_handles(p);
    lp.x_key = "empty";
    CHECK_STATUS(mlp_dataset_load_hdf5(&ds, p, &lp, &err), MLP_ERR_SHAPE);
    lp.n_cols = 4;
    CHECK_STATUS(mlp_dataset_load_hdf5(&ds, p, &lp, &err), MLP_ERR_FORMAT); /* the storage check */
    lp.x_key = "x";
    CHECK_STATUS(mlp_dataset_load_hdf5(&ds, p, &lp, &err), MLP_OK);
    CHECK(ds.n_rows == 3 && ds.n_cols == 4);
    mlp_dataset_free(&ds);
    check_no_handles(p);
}

/* ------------------------------------------------------ from memory */

/* mlp_dataset_load_hdf5_mem opens the bytes as a file image and then runs
 * the file's search, checks and reads (every load() above compares the
 * two): here every file this test wrote, cuts of the seed file, an empty
 * and an unnamed buffer, and mlp_dataset_load_mem telling HDF5 from the
 * bytes.  The caller's buffer is never written. */
static void test_memory(void)
{
    g_twin_params = NULL;
    twin_every_file(twin_load);
    size_t n;
    unsigned char *cats = read_all(TEST_H5, &n), *copy = malloc(n);
    CHECK(copy != NULL);
    if (!copy) return;
    memcpy(copy, cats, n);
    twin_prefixes("cut-mem.h5", twin_load, cats, n, n / 19, 1);

    struct mlp_dataset ds, ref;
    struct mlp_error err = {0};
    struct mlp_buffer b = {NULL, 0, NULL};
    CHECK_STATUS(mlp_dataset_load_hdf5_mem(&ds, &b, NULL, &err), MLP_ERR_FORMAT);
    CHECK_MSG(has(&err, "<memory>: not an HDF5 file: empty file"), "msg: %s", err.msg);
    b = (struct mlp_buffer){cats, 100, NULL};
    CHECK_STATUS(mlp_dataset_load_hdf5_mem(&ds, &b, NULL, &err), MLP_ERR_FORMAT);
    CHECK_MSG(has(&err, "<memory>: truncated or corrupt HDF5 file"), "msg: %s", err.msg);
    CHECK(is_zeroed(&ds));
    check_no_handles("a cut image");

    CHECK_STATUS(load(&ref, TEST_H5, NULL, NULL, &err), MLP_OK);
    b = (struct mlp_buffer){cats, n, NULL};
    CHECK_STATUS(mlp_dataset_load_mem(&ds, &b, NULL, NULL, &err), MLP_OK);
    CHECK(same_dataset(&ref, &ds) && ds.n_rows == 50 && ds.n_cols == 12288);
    mlp_dataset_free(&ds);
    mlp_dataset_free(&ref);
    check_no_handles("an image");
    CHECK_MSG(memcmp(copy, cats, n) == 0, "the caller's buffer was written");
    free(copy);
    free(cats);
    printf("test_hdf5: %d loads from memory matched their file\n", g_twins);
}

int main(void)
{
    tmp_init("hdf5");
    /* The test's own file writing must not print either. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    test_cat_files();
    test_bad_files();
    test_written();
    test_width();
    test_error_printer();
    test_memory();

    tmp_cleanup();
    /* Release libhdf5's global state, so that LeakSanitizer sees only ours. */
    H5close();
    return check_report("hdf5");
}
