/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the CSV loader on arbitrary bytes must either load a
 * consistent data set or fail with a status, never crash, leak or hang. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mlp_buffer b = {data, size, "fuzz.csv"};
    struct mlp_dataset ds;
    struct mlp_load_params p = mlp_load_params_default();
    p.threads = 1;
    fuzz_done(&ds, mlp_dataset_load_csv_mem(&ds, &b, &p, NULL));
    return 0;
}
