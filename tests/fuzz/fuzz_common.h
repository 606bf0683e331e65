/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz targets: each input goes to a loader's memory variant
 * as it is (the very parser of the path variant), named like a file of its
 * format. */
#ifndef FASTMLP_FUZZ_COMMON_H
#define FASTMLP_FUZZ_COMMON_H

#include "fastmlp.h"
#include "internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A loaded data set must be self-consistent; touch every byte of it so the
 * sanitizers see any out-of-bounds view. */
static inline void fuzz_check_dataset(const struct mlp_dataset *ds)
{
    if (mlp_dataset_validate(ds, NULL) != MLP_OK) abort();
    size_t es = mlp__elem_size(ds->x_type);
    size_t bytes = (size_t)ds->n_rows * ds->n_cols * es;
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < bytes; i++) sink ^= ((const unsigned char *)ds->x)[i];
    for (uint64_t i = 0; ds->labels && i < ds->n_rows; i++)
        if (ds->labels[i] < 0 || (uint32_t)ds->labels[i] >= ds->n_classes) abort();
    /* a table's schema describes the data set it came with */
    const struct mlp_schema *s = ds->schema;
    if (s && mlp_schema_n_inputs(s) != ds->n_cols) abort();
    if (s && ds->labels && mlp_schema_n_classes(s) != ds->n_classes) abort();
    if (s && ds->targets && mlp_schema_task(s) != MLP_TASK_REGRESS) abort();
    (void)sink;
}

/* After a load from memory: a consistent data set, or a failure that left
 * *ds zeroed; then free it. */
static inline void fuzz_done(struct mlp_dataset *ds, enum mlp_status st)
{
    if (st == MLP_OK)
        fuzz_check_dataset(ds);
    else if (ds->x || ds->owned || ds->n_rows || ds->schema)
        abort();
    mlp_dataset_free(ds);
}

/* The shards of a loaded data set (data-parallel ranks read shard i of c,
 * mlp_load_params): when the whole load succeeded, every shard of c must
 * load too, and their rows one after another must be the whole's, byte for
 * byte.  load(ds, p) loads the input with p; c comes from the input's last
 * byte (2..5 shards). */
typedef enum mlp_status (*fuzz_load_fn)(struct mlp_dataset *ds, const struct mlp_load_params *p, const void *ctx);

static inline void fuzz_shards(const struct mlp_dataset *whole, fuzz_load_fn load, const void *ctx, uint8_t last)
{
    const uint32_t c = 2 + last % 4;
    const size_t es = mlp__elem_size(whole->x_type);
    const size_t row = (size_t)whole->n_cols * es;
    uint64_t at = 0;
    for (uint32_t i = 0; i < c; i++) {
        struct mlp_load_params p = mlp_load_params_default();
        p.shard_index = i;
        p.shard_count = c;
        struct mlp_dataset s;
        if (load(&s, &p, ctx) != MLP_OK) abort(); /* the whole loaded: so must its shards */
        fuzz_check_dataset(&s);
        if (s.n_cols != whole->n_cols || s.x_type != whole->x_type || s.n_classes != whole->n_classes ||
            !s.labels != !whole->labels || at + s.n_rows > whole->n_rows)
            abort();
        if (s.n_rows && memcmp(s.x, (const char *)whole->x + at * row, s.n_rows * row) != 0) abort();
        if (s.labels && s.n_rows && memcmp(s.labels, whole->labels + at, s.n_rows * sizeof *s.labels) != 0) abort();
        at += s.n_rows;
        mlp_dataset_free(&s);
    }
    if (at != whole->n_rows) abort();
}

#endif
