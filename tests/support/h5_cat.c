/* SPDX-License-Identifier: MIT */
/* Test-only HDF5 reader for the cat/non-cat data of seed 000 (see h5_cat.h). */
#include "h5_cat.h"

#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Generous bound on one file's pixels (the training file has 2.5 M). */
#define H5_CAT_MAX_BYTES (1ull << 32)

static void set_msg(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(char *msg, size_t len, const char *fmt, ...)
{
    if (!msg || len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

/* Rank and dimensions of an open data set; -1 (msg set) on failure. */
static int get_dims(hid_t dset, const char *what, int *rank, hsize_t dims[H5S_MAX_RANK],
                    char *msg, size_t msg_len)
{
    hid_t space = H5Dget_space(dset);
    if (space < 0) {
        set_msg(msg, msg_len, "%s: cannot get the dataspace", what);
        return -1;
    }
    int r = H5Sget_simple_extent_ndims(space);
    int ok = r >= 1 && r <= H5S_MAX_RANK && H5Sget_simple_extent_dims(space, dims, NULL) == r;
    H5Sclose(space);
    if (!ok) {
        set_msg(msg, msg_len, "%s: not a simple dataspace (rank %d)", what, r);
        return -1;
    }
    *rank = r;
    return 0;
}

/* Integer type check: class H5T_INTEGER and (when want_size != 0) that size. */
static int check_int_type(hid_t dset, const char *what, size_t want_size, int want_unsigned,
                          char *msg, size_t msg_len)
{
    hid_t t = H5Dget_type(dset);
    if (t < 0) {
        set_msg(msg, msg_len, "%s: cannot get the datatype", what);
        return -1;
    }
    H5T_class_t cls = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    H5T_sign_t sign = H5Tget_sign(t);
    H5Tclose(t);
    if (cls != H5T_INTEGER) {
        set_msg(msg, msg_len, "%s: not an integer data set", what);
        return -1;
    }
    if (want_size && (size != want_size || (want_unsigned && sign != H5T_SGN_NONE))) {
        set_msg(msg, msg_len, "%s: expected %zu-byte %s integers, found %zu-byte %s", what,
                want_size, want_unsigned ? "unsigned" : "", size,
                sign == H5T_SGN_NONE ? "unsigned" : "signed");
        return -1;
    }
    return 0;
}

int h5_cat_load(struct h5_cat *c, const char *path, const char *prefix, char *msg,
                size_t msg_len)
{
    memset(c, 0, sizeof *c);
    set_msg(msg, msg_len, "no error");
    if (!path || !prefix) {
        set_msg(msg, msg_len, "h5_cat_load: NULL path or prefix");
        return -1;
    }
    char xname[64], yname[64];
    if (snprintf(xname, sizeof xname, "%s_set_x", prefix) >= (int)sizeof xname ||
        snprintf(yname, sizeof yname, "%s_set_y", prefix) >= (int)sizeof yname) {
        set_msg(msg, msg_len, "h5_cat_load: prefix too long");
        return -1;
    }

    /* Keep HDF5 from printing its error stack; errors are reported in msg. */
    H5E_auto2_t old_fn = NULL;
    void *old_data = NULL;
    int restore = H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data) >= 0;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    int rc = -1;
    hid_t file = -1, dx = -1, dy = -1;
    uint8_t *x = NULL;
    int64_t *y64 = NULL;
    int32_t *labels = NULL;
    int rank_x = 0, rank_y = 0;
    hsize_t dims_x[H5S_MAX_RANK], dims_y[H5S_MAX_RANK];

    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        set_msg(msg, msg_len, "%s: cannot open as HDF5 (missing or not HDF5)", path);
        goto out;
    }
    dx = H5Dopen2(file, xname, H5P_DEFAULT);
    if (dx < 0) {
        set_msg(msg, msg_len, "%s: no data set '%s'", path, xname);
        goto out;
    }
    dy = H5Dopen2(file, yname, H5P_DEFAULT);
    if (dy < 0) {
        set_msg(msg, msg_len, "%s: no data set '%s'", path, yname);
        goto out;
    }
    if (get_dims(dx, xname, &rank_x, dims_x, msg, msg_len) ||
        get_dims(dy, yname, &rank_y, dims_y, msg, msg_len) ||
        check_int_type(dx, xname, 1, 1, msg, msg_len) ||
        check_int_type(dy, yname, 0, 0, msg, msg_len))
        goto out;
    if (rank_x < 2) {
        set_msg(msg, msg_len, "%s: '%s' has rank %d, expected >= 2", path, xname, rank_x);
        goto out;
    }
    if (rank_y != 1 && !(rank_y == 2 && (dims_y[0] == 1 || dims_y[1] == 1))) {
        set_msg(msg, msg_len, "%s: '%s' is not a vector (rank %d)", path, yname, rank_y);
        goto out;
    }

    uint64_t n_rows = dims_x[0], n_cols = 1;
    for (int i = 1; i < rank_x; i++) {
        if (dims_x[i] == 0 || n_cols > UINT32_MAX / dims_x[i]) {
            set_msg(msg, msg_len, "%s: '%s' has a zero or too large row size", path, xname);
            goto out;
        }
        n_cols *= dims_x[i];
    }
    uint64_t n_y = rank_y == 1 ? dims_y[0] : dims_y[0] * dims_y[1];
    if (n_y != n_rows) {
        set_msg(msg, msg_len, "%s: %llu images but %llu labels", path,
                (unsigned long long)n_rows, (unsigned long long)n_y);
        goto out;
    }
    if (n_rows == 0 || n_rows > H5_CAT_MAX_BYTES / n_cols || n_cols > MLP_MAX_WIDTH) {
        set_msg(msg, msg_len, "%s: absurd size %llu x %llu", path,
                (unsigned long long)n_rows, (unsigned long long)n_cols);
        goto out;
    }

    x = malloc((size_t)(n_rows * n_cols));
    y64 = malloc((size_t)n_rows * sizeof *y64);
    labels = malloc((size_t)n_rows * sizeof *labels);
    if (!x || !y64 || !labels) {
        set_msg(msg, msg_len, "%s: out of memory for %llu x %llu", path,
                (unsigned long long)n_rows, (unsigned long long)n_cols);
        goto out;
    }
    /* HDF5 converts the stored integer types to the native memory types. */
    if (H5Dread(dx, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0) {
        set_msg(msg, msg_len, "%s: reading '%s' failed", path, xname);
        goto out;
    }
    if (H5Dread(dy, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y64) < 0) {
        set_msg(msg, msg_len, "%s: reading '%s' failed", path, yname);
        goto out;
    }
    for (uint64_t i = 0; i < n_rows; i++) {
        if (y64[i] != 0 && y64[i] != 1) {
            set_msg(msg, msg_len, "%s: label %llu is %lld, expected 0 or 1", path,
                    (unsigned long long)i, (long long)y64[i]);
            goto out;
        }
        labels[i] = (int32_t)y64[i];
    }

    c->x = x;
    c->labels = labels;
    c->ds.n_rows = n_rows;
    c->ds.n_cols = (uint32_t)n_cols;
    c->ds.x_type = MLP_ELEM_U8;
    c->ds.x = x;
    c->ds.labels = labels;
    c->ds.n_classes = 2;
    c->ds.targets = NULL;
    c->ds.n_targets = 0;
    c->ds.owned = NULL;
    x = NULL;
    labels = NULL;
    rc = 0;

out:
    free(x);
    free(y64);
    free(labels);
    if (dy >= 0 && H5Dclose(dy) < 0 && rc == 0) {
        set_msg(msg, msg_len, "%s: closing '%s' failed", path, yname);
        rc = -1;
    }
    if (dx >= 0 && H5Dclose(dx) < 0 && rc == 0) {
        set_msg(msg, msg_len, "%s: closing '%s' failed", path, xname);
        rc = -1;
    }
    if (file >= 0 && H5Fclose(file) < 0 && rc == 0) {
        set_msg(msg, msg_len, "%s: closing the file failed", path);
        rc = -1;
    }
    if (rc != 0) h5_cat_free(c);
    if (restore) H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    return rc;
}

void h5_cat_free(struct h5_cat *c)
{
    if (!c) return;
    free(c->x);
    free(c->labels);
    memset(c, 0, sizeof *c);
}
