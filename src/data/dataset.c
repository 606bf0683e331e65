/* SPDX-License-Identifier: MIT */
/* The data set as a plain view: releasing what a loader owns, shrinking the
 * view, and checking that a (possibly hand-filled) data set is consistent. */
#include "data/schema.h"
#include "data/shard.h"
#include "internal.h"

#include <inttypes.h>
#include <string.h>

/*
 * Layout of `owned` (the contract every loader follows): NULL, or ONE block
 * from mlp__amalloc that holds everything the view points into, e.g. x at
 * the start and labels/targets at later 64-byte-aligned offsets.  One block
 * keeps the free path trivial and lets any loader comply without sharing a
 * private struct: it sizes the block once the data has been read and
 * validated, fills it, and points x/labels/targets inside it.
 */
void mlp_dataset_free(struct mlp_dataset *ds)
{
    if (!ds) return;
    mlp__afree(ds->owned);
    mlp__schema_free(ds->schema);
    memset(ds, 0, sizeof *ds);
}

enum mlp_status mlp__dataset_alloc(struct mlp_dataset *ds, uint64_t n_rows, uint32_t n_cols,
                                   enum mlp_elem x_type, bool with_labels, uint32_t n_targets,
                                   struct mlp_error *err)
{
    MLP_ASSERT(ds);
    memset(ds, 0, sizeof *ds);
    uint64_t x_bytes, y_bytes = 0;
    const uint64_t limit = (uint64_t)1 << 40; /* 1 TiB: far past any RAM here */
    bool ok = mlp__mul_ok(n_rows, n_cols, limit, &x_bytes) &&
              mlp__mul_ok(x_bytes, mlp__elem_size(x_type), limit, &x_bytes);
    if (ok && with_labels) ok = mlp__mul_ok(n_rows, sizeof(int32_t), limit, &y_bytes);
    if (ok && !with_labels && n_targets)
        ok = mlp__mul_ok(n_rows, n_targets, limit, &y_bytes) && mlp__mul_ok(y_bytes, sizeof(double), limit, &y_bytes);
    uint64_t y_off = (x_bytes + 63) & ~(uint64_t)63;
    if (!ok || y_off + y_bytes > SIZE_MAX)
        return mlp__fail(err, MLP_ERR_NOMEM, "data set of %" PRIu64 " rows x %" PRIu32 " columns is too large",
                         n_rows, n_cols);
    /* More than the machine holds cannot be filled: refuse before the
     * loader reads (or decompresses) a byte of it. */
    uint64_t mem = mlp__mem_bound();
    if (y_off + y_bytes > mem)
        return mlp__fail(err, MLP_ERR_NOMEM,
                         "out of memory: the data set needs %" PRIu64 " bytes, more than this machine's %" PRIu64
                         " bytes of memory",
                         y_off + y_bytes, mem);
    unsigned char *block = mlp__amalloc((size_t)(y_off + y_bytes));
    if (!block)
        return mlp__fail(err, MLP_ERR_NOMEM, "out of memory: %" PRIu64 " bytes for the data set", y_off + y_bytes);
    ds->owned = block;
    ds->x = block;
    ds->x_type = x_type;
    ds->n_rows = n_rows;
    ds->n_cols = n_cols;
    if (with_labels)
        ds->labels = (const int32_t *)(void *)(block + y_off);
    else if (n_targets) {
        ds->targets = (const double *)(void *)(block + y_off);
        ds->n_targets = n_targets;
    }
    return MLP_OK;
}

enum mlp_status mlp__dataset_keep_rows(struct mlp_dataset *ds, uint64_t lo, uint64_t hi, struct mlp_error *err)
{
    MLP_ASSERT(ds && lo <= hi && hi <= ds->n_rows);
    if (lo == 0 && hi == ds->n_rows) return MLP_OK;
    /* A new block of the shard's size, not the old one's head: the rows
     * dropped are the bulk of it, and they would stay allocated otherwise. */
    struct mlp_dataset out;
    enum mlp_status st = mlp__dataset_alloc(&out, hi - lo, ds->n_cols, ds->x_type, ds->labels != NULL,
                                            ds->labels ? 0 : ds->n_targets, err);
    if (st != MLP_OK) {
        mlp_dataset_free(ds);
        return st;
    }
    size_t row_bytes = (size_t)ds->n_cols * mlp__elem_size(ds->x_type), n = (size_t)(hi - lo);
    if (n) {
        memcpy(out.owned, (const unsigned char *)ds->x + (size_t)lo * row_bytes, n * row_bytes);
        if (ds->labels) memcpy((int32_t *)out.labels, ds->labels + lo, n * sizeof(int32_t));
        if (ds->targets && !ds->labels)
            memcpy((double *)out.targets, ds->targets + (size_t)lo * ds->n_targets,
                   n * ds->n_targets * sizeof(double));
    }
    out.n_classes = ds->n_classes;
    memcpy(out.sample_shape, ds->sample_shape, sizeof out.sample_shape);
    out.schema = ds->schema; /* moved, not copied */
    ds->schema = NULL;
    mlp_dataset_free(ds);
    *ds = out;
    return MLP_OK;
}

void mlp_dataset_truncate(struct mlp_dataset *ds, uint64_t n)
{
    MLP_ASSERT(ds);
    /* Only ever shrinks: growing the view would expose memory it never had. */
    if (n < ds->n_rows) ds->n_rows = n;
}

enum mlp_status mlp_dataset_validate(const struct mlp_dataset *ds, struct mlp_error *err)
{
    MLP_ASSERT(ds);
    uint64_t bytes;

    if (ds->x_type != MLP_ELEM_U8 && ds->x_type != MLP_ELEM_F32 && ds->x_type != MLP_ELEM_F64)
        return mlp__fail(err, MLP_ERR_ARG, "data set: unknown input element type %d",
                         (int)ds->x_type);
    if (ds->n_cols < 1 || ds->n_cols > MLP_MAX_WIDTH)
        return mlp__fail(err, MLP_ERR_RANGE, "data set: %" PRIu32 " columns (expected 1..%u)",
                         ds->n_cols, MLP_MAX_WIDTH);
    /* Kernels index x with size_t: n_rows * n_cols * elem must be addressable. */
    if (!mlp__mul_ok(ds->n_rows, ds->n_cols, SIZE_MAX, &bytes) ||
        !mlp__mul_ok(bytes, mlp__elem_size(ds->x_type), SIZE_MAX, &bytes))
        return mlp__fail(err, MLP_ERR_NOMEM,
                         "data set: %" PRIu64 " rows x %" PRIu32 " columns is too large to address",
                         ds->n_rows, ds->n_cols);
    if (ds->n_rows > 0 && !ds->x)
        return mlp__fail(err, MLP_ERR_ARG, "data set: %" PRIu64 " rows but no inputs (x is NULL)",
                         ds->n_rows);
    if (ds->n_classes > MLP_MAX_CLASSES)
        return mlp__fail(err, MLP_ERR_RANGE, "data set: %" PRIu32 " classes (at most %u)",
                         ds->n_classes, MLP_MAX_CLASSES);
    if (ds->labels && ds->targets)
        return mlp__fail(err, MLP_ERR_ARG,
                         "data set: has both class labels and real targets (expected one or neither)");

    if (ds->labels) {
        if (ds->n_classes == 0)
            return mlp__fail(err, MLP_ERR_RANGE, "data set: has labels but n_classes is 0");
        for (uint64_t i = 0; i < ds->n_rows; i++) {
            int32_t y = ds->labels[i];
            if (y < 0 || (uint32_t)y >= ds->n_classes)
                return mlp__fail(err, MLP_ERR_RANGE,
                                 "data set: label %" PRId32 " at row %" PRIu64
                                 " is outside [0, %" PRIu32 ")",
                                 y, i, ds->n_classes);
        }
    }

    if (ds->targets || ds->n_targets > 0) {
        if (ds->n_targets < 1 || ds->n_targets > MLP_MAX_WIDTH)
            return mlp__fail(err, MLP_ERR_RANGE, "data set: %" PRIu32 " targets per row (expected 1..%u)",
                             ds->n_targets, MLP_MAX_WIDTH);
        if (!mlp__mul_ok(ds->n_rows, ds->n_targets, SIZE_MAX / sizeof(double), &bytes))
            return mlp__fail(err, MLP_ERR_NOMEM,
                             "data set: %" PRIu64 " rows x %" PRIu32 " targets is too large to address",
                             ds->n_rows, ds->n_targets);
        if (ds->n_rows > 0 && !ds->targets)
            return mlp__fail(err, MLP_ERR_ARG,
                             "data set: %" PRIu32 " targets per row declared but targets is NULL",
                             ds->n_targets);
    }
    return MLP_OK;
}

/* Copy the rows flagged (or not) in `pick` into a new owned data set. */
static enum mlp_status copy_rows(const struct mlp_dataset *ds, const uint8_t *pick, uint8_t want, uint64_t n,
                                 struct mlp_dataset *out, struct mlp_error *err)
{
    enum mlp_status st = mlp__dataset_alloc(out, n, ds->n_cols, ds->x_type, ds->labels != NULL,
                                            ds->labels ? 0 : ds->n_targets, err);
    if (st != MLP_OK) return st;
    size_t row_bytes = (size_t)ds->n_cols * mlp__elem_size(ds->x_type);
    uint64_t k = 0;
    for (uint64_t r = 0; r < ds->n_rows; r++) {
        if (pick[r] != want) continue;
        memcpy((unsigned char *)out->owned + k * row_bytes, (const unsigned char *)ds->x + r * row_bytes, row_bytes);
        if (ds->labels) ((int32_t *)out->labels)[k] = ds->labels[r];
        if (ds->targets && !ds->labels)
            memcpy((double *)out->targets + k * ds->n_targets, ds->targets + r * ds->n_targets,
                   ds->n_targets * sizeof(double));
        k++;
    }
    out->n_classes = ds->n_classes;
    memcpy(out->sample_shape, ds->sample_shape, sizeof out->sample_shape);
    if (ds->schema && !(out->schema = mlp__schema_copy(ds->schema))) {
        mlp_dataset_free(out);
        return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    }
    return MLP_OK;
}

enum mlp_status mlp_dataset_split(const struct mlp_dataset *ds, const struct mlp_split *how,
                                  struct mlp_dataset *first, struct mlp_dataset *second, struct mlp_error *err)
{
    MLP_ASSERT(ds && how && first && second);
    const double fraction = how->fraction;
    const uint64_t seed = how->seed;
    memset(first, 0, sizeof *first);
    memset(second, 0, sizeof *second);
    enum mlp_status st = mlp_dataset_validate(ds, err);
    if (st != MLP_OK) return st;
    if (!(fraction > 0 && fraction < 1))
        return mlp__fail(err, MLP_ERR_ARG, "split fraction %g must be strictly between 0 and 1", fraction);
    uint64_t n2 = (uint64_t)((double)ds->n_rows * fraction + 0.5);
    if (n2 == 0 || n2 >= ds->n_rows)
        return mlp__fail(err, MLP_ERR_ARG, "a fraction of %g of %" PRIu64 " rows leaves one side empty", fraction,
                         ds->n_rows);
    uint8_t *pick = calloc(ds->n_rows, 1);
    uint64_t *perm = malloc(ds->n_rows * sizeof *perm);
    if (!pick || !perm) {
        free(pick);
        free(perm);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate the split of %" PRIu64 " rows", ds->n_rows);
    }
    /* The first n2 entries of a seeded Fisher-Yates shuffle are the second set. */
    struct mlp_rng rng;
    mlp__rng_seed(&rng, seed);
    for (uint64_t i = 0; i < ds->n_rows; i++) perm[i] = i;
    for (uint64_t i = 0; i < n2; i++) {
        uint64_t j = i + mlp__rng_below(&rng, ds->n_rows - i), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        pick[perm[i]] = 1;
    }
    free(perm);
    st = copy_rows(ds, pick, 0, ds->n_rows - n2, first, err);
    if (st == MLP_OK) st = copy_rows(ds, pick, 1, n2, second, err);
    free(pick);
    if (st != MLP_OK) {
        mlp_dataset_free(first);
        mlp_dataset_free(second);
    }
    return st;
}
