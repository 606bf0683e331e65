/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the IDX loader (plain and gzip) on arbitrary bytes must
 * either load a consistent data set or fail with a status, never crash, leak
 * or hang; what loads whole loads as shards too, the same rows (fuzz_shards). */
#include "fuzz_common.h"

static enum mlp_status load(struct mlp_dataset *ds, const struct mlp_load_params *p, const void *ctx)
{
    return mlp_dataset_load_idx_mem(ds, ctx, NULL, p, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mlp_buffer b = {data, size, "fuzz.idx"};
    struct mlp_dataset ds;
    enum mlp_status st = load(&ds, NULL, &b);
    if (st == MLP_OK && size > 0) fuzz_shards(&ds, load, &b, data[size - 1]);
    fuzz_done(&ds, st);
    return 0;
}
