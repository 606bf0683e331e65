/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the NPY loader on arbitrary bytes must either load a
 * consistent data set or fail with a status, never crash, leak or hang. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[128];
    const char *path = fuzz_file(buf, sizeof buf, ".npy", data, size);
    if (!path) return 0;
    struct mlp_dataset ds;
    enum mlp_status st = mlp_dataset_load_npy(&ds, path, NULL, NULL);
    if (st == MLP_OK) fuzz_check_dataset(&ds);
    else if (ds.x || ds.owned || ds.n_rows) abort(); /* a failure leaves *ds zeroed */
    mlp_dataset_free(&ds);
    unlink(path);
    return 0;
}
