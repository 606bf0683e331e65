/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz targets: the loaders take paths, so each input is
 * written to a private temporary file first. */
#ifndef FASTMLP_FUZZ_COMMON_H
#define FASTMLP_FUZZ_COMMON_H

#include "fastmlp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write data to a fresh file named with `suffix` (the extension matters to
 * format detection); returns its path in buf, or NULL. */
static inline const char *fuzz_file(char *buf, size_t n, const char *suffix, const uint8_t *data, size_t size)
{
    snprintf(buf, n, "/tmp/fastmlp-fuzz-%ld%s", (long)getpid(), suffix);
    FILE *f = fopen(buf, "wb");
    if (!f) return NULL;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    return buf;
}

/* A loaded data set must be self-consistent; touch every byte of it so the
 * sanitizers see any out-of-bounds view. */
static inline void fuzz_check_dataset(const struct mlp_dataset *ds)
{
    if (mlp_dataset_validate(ds, NULL) != MLP_OK) abort();
    size_t es = ds->x_type == MLP_ELEM_U8 ? 1 : ds->x_type == MLP_ELEM_F32 ? 4 : 8;
    size_t bytes = (size_t)ds->n_rows * ds->n_cols * es;
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < bytes; i++) sink ^= ((const unsigned char *)ds->x)[i];
    for (uint64_t i = 0; ds->labels && i < ds->n_rows; i++)
        if (ds->labels[i] < 0 || (uint32_t)ds->labels[i] >= ds->n_classes) abort();
    (void)sink;
}

#endif
