/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the model-file reader on arbitrary bytes, and for every
 * file it accepts, a save -> load round trip that must give back the same
 * parameters bit for bit. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[128], buf2[160];
    const char *path = fuzz_file(buf, sizeof buf, ".mlp", data, size);
    if (!path) return 0;
    struct mlp_model *m = NULL, *back = NULL;
    if (mlp_model_load(&m, path, NULL) == MLP_OK) {
        snprintf(buf2, sizeof buf2, "%s.again", path);
        if (mlp_model_save(m, buf2, NULL) != MLP_OK) abort();
        if (mlp_model_load(&back, buf2, NULL) != MLP_OK) abort();
        size_t es = mlp_model_dtype(m) == MLP_F32 ? 4 : 8;
        if (mlp_model_n_params(back) != mlp_model_n_params(m) ||
            memcmp(mlp_model_params(back), mlp_model_params(m), mlp_model_n_params(m) * es) != 0)
            abort();
        mlp_model_free(back);
        unlink(buf2);
    } else if (m) {
        abort(); /* a failed load hands back nothing */
    }
    mlp_model_free(m);
    unlink(path);
    return 0;
}
