/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the CSV loader on arbitrary bytes must either load a
 * consistent data set or fail with a status, never crash, leak or hang.
 * The input's size picks the tabular options (missing values, the label
 * found by name, columns forced categorical, the task), so that the table
 * reader's every path runs without changing the bytes' meaning; a table
 * that loads is read again with its own schema applied, as predict and
 * eval read later data. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mlp_buffer b = {data, size, "fuzz.csv"};
    struct mlp_dataset ds, again;
    struct mlp_load_params p = mlp_load_params_default();
    p.threads = 1;
    const unsigned o = (unsigned)(size % 97);
    p.missing = (int)(o % MLP_MISSING_COUNT);
    p.label_auto = (o / 4) % 2;
    p.categorical = (o / 8) % 3 == 1 ? "0" : (o / 8) % 3 == 2 ? "1,x" : NULL;
    p.task = (int)((o / 24) % MLP_TASK_COUNT);
    enum mlp_status st = mlp_dataset_load_csv_mem(&ds, &b, &p, NULL);
    if (st == MLP_OK && ds.schema) {
        struct mlp_load_params a = mlp_load_params_default();
        a.threads = 1;
        a.schema = mlp_dataset_schema(&ds);
        a.unknown_category = (int)(o % 2);
        a.missing = (int)(o % MLP_MISSING_COUNT);
        fuzz_done(&again, mlp_dataset_load_csv_mem(&again, &b, &a, NULL));
    }
    fuzz_done(&ds, st);
    return 0;
}
