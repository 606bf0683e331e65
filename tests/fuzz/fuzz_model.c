/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the model-file reader on arbitrary bytes, and for every
 * file it accepts, a write -> read round trip in memory that must give back
 * the same parameters bit for bit. */
#include "fuzz_common.h"

#include "internal.h" /* mlp__model_write: the model file's writer, to a stream */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mlp_buffer b = {data, size, "fuzz.mlp"};
    struct mlp_model *m = NULL, *back = NULL;
    if (mlp_model_load_mem(&m, &b, NULL) == MLP_OK) {
        char *bytes = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&bytes, &n);
        if (!f || !mlp__model_write(f, m) || fclose(f) != 0) abort();
        struct mlp_buffer again = {bytes, n, "again.mlp"};
        if (mlp_model_load_mem(&back, &again, NULL) != MLP_OK) abort();
        size_t es = mlp_model_dtype(m) == MLP_F32 ? 4 : 8;
        if (mlp_model_n_params(back) != mlp_model_n_params(m) ||
            memcmp(mlp_model_params(back), mlp_model_params(m), mlp_model_n_params(m) * es) != 0)
            abort();
        mlp_model_free(back);
        free(bytes);
    } else if (m) {
        abort(); /* a failed load hands back nothing */
    }
    mlp_model_free(m);
    return 0;
}
