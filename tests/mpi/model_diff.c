/* SPDX-License-Identifier: MIT */
/* model_diff A B: the largest difference between two model files' weights
 * (the MPI tests compare N ranks with one process): prints
 * "max_abs_diff X identical Y" (Y: 1 when every byte of the weights is the
 * same) and exits 0, or 1 when the models cannot be compared. */
#include "fastmlp.h"
#include "params_diff.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: model_diff A.mlp B.mlp\n");
        return 1;
    }
    struct mlp_model *a = NULL, *b = NULL;
    struct mlp_error err = {0};
    if (mlp_model_load(&a, argv[1], &err) != MLP_OK || mlp_model_load(&b, argv[2], &err) != MLP_OK) {
        fprintf(stderr, "model_diff: %s\n", err.msg);
        mlp_model_free(a);
        return 1;
    }
    size_t n = mlp_model_n_params(a);
    if (n != mlp_model_n_params(b) || mlp_model_dtype(a) != mlp_model_dtype(b)) {
        fprintf(stderr, "model_diff: different networks\n");
        mlp_model_free(a);
        mlp_model_free(b);
        return 1;
    }
    printf("max_abs_diff %.3g identical %d\n", params_max_diff(a, b), params_same(a, b));
    mlp_model_free(a);
    mlp_model_free(b);
    return 0;
}
