/* SPDX-License-Identifier: MIT */
/*
 * h5_cat.h - test-only reader for the cat/non-cat HDF5 files of seed 000
 * (train_catvnoncat.h5 / test_catvnoncat.h5).
 *
 * Reads `<prefix>_set_x` (m x 64 x 64 x 3 uint8; any rank >= 2 is accepted and
 * every dimension after the first is flattened in C order, so row i is image i)
 * and `<prefix>_set_y` (m integers, each 0 or 1), and fills a struct
 * mlp_dataset over them: x_type MLP_ELEM_U8, labels int32, n_classes 2.
 * The arrays belong to the struct h5_cat (ds.owned stays NULL: free them with
 * h5_cat_free, never with mlp_dataset_free).
 */
#ifndef FASTMLP_TESTS_H5_CAT_H
#define FASTMLP_TESTS_H5_CAT_H

#include <stddef.h>
#include <stdint.h>

#include "fastmlp.h"

struct h5_cat {
    struct mlp_dataset ds; /* a view over x and labels below */
    uint8_t *x;            /* n_rows x n_cols */
    int32_t *labels;       /* n_rows */
};

/* Load `<prefix>_set_x` / `<prefix>_set_y` ("train" or "test") from path.
 * Returns 0 on success; on failure returns -1, writes one line (no newline)
 * into msg[0..msg_len) and leaves *c zeroed with nothing allocated. */
int h5_cat_load(struct h5_cat *c, const char *path, const char *prefix,
                char *msg, size_t msg_len);

/* Release what h5_cat_load allocated and zero *c.  Accepts a zeroed struct. */
void h5_cat_free(struct h5_cat *c);

#endif /* FASTMLP_TESTS_H5_CAT_H */
