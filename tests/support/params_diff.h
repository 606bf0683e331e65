/* SPDX-License-Identifier: MIT */
/* Two models' weights compared (the data-parallel tests: N ranks against
 * one process): the largest absolute difference, and whether every byte is
 * the same.  The models must have the same network and dtype. */
#ifndef FASTMLP_TESTS_PARAMS_DIFF_H
#define FASTMLP_TESTS_PARAMS_DIFF_H

#include "fastmlp.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

static inline double params_max_diff(struct mlp_model *a, struct mlp_model *b)
{
    size_t n = mlp_model_n_params(a);
    const bool f32 = mlp_model_dtype(a) == MLP_F32;
    const void *pa = mlp_model_params(a), *pb = mlp_model_params(b);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double x = f32 ? ((const float *)pa)[i] : ((const double *)pa)[i];
        double y = f32 ? ((const float *)pb)[i] : ((const double *)pb)[i];
        if (!(fabs(x - y) <= worst)) worst = fabs(x - y); /* NaN counts as the worst */
    }
    return worst;
}

static inline bool params_same(struct mlp_model *a, struct mlp_model *b)
{
    return memcmp(mlp_model_params(a), mlp_model_params(b),
                  mlp_model_n_params(a) * (mlp_model_dtype(a) == MLP_F32 ? 4 : 8)) == 0;
}

#endif
