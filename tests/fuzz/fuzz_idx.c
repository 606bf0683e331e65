/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the IDX loader (plain and gzip) on arbitrary bytes must
 * either load a consistent data set or fail with a status, never crash, leak
 * or hang. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mlp_buffer b = {data, size, "fuzz.idx"};
    struct mlp_dataset ds;
    fuzz_done(&ds, mlp_dataset_load_idx_mem(&ds, &b, NULL, NULL, NULL));
    return 0;
}
