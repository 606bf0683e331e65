/* SPDX-License-Identifier: MIT */
#include "kernels/ktable.h"

/* Hidden-layer activations and their derivatives, written once and included
 * by pass.c per element type (T, SUF, FN defined there); the activations
 * themselves run through the kernel table (kernels/ktable.h).
 * Derivatives are taken from the activation's output a = act(z):
 *   sigmoid' = a (1 - a),  tanh' = 1 - a^2,  relu' = [a > 0],
 *   leaky'   = [a > 0] + slope [a <= 0]   (slope >= 0, so a > 0 iff z > 0) */

/* x = exp(x) and z = act(z) over n values: the kernels of m's context's
 * table (kernels/act.inc, one per instruction set). */
static inline void FN(vexp)(const struct mlp_model *m, T *x, size_t n)
{
    _Generic((T)0, float: mlp__model_kt(m)->vexp_f32, double: mlp__model_kt(m)->vexp_f64)(x, n);
}

static inline void FN(activate)(const struct mlp_model *m, enum mlp_act act, T slope, T *z, size_t n)
{
    _Generic((T)0, float: mlp__model_kt(m)->act_f32, double: mlp__model_kt(m)->act_f64)(act, slope, z, n);
}

/* d *= act'(z), with act'(z) computed from a = act(z). */
static void FN(mul_dact)(enum mlp_act act, T slope, const T *a, T *d, size_t n)
{
    switch (act) {
    case MLP_ACT_IDENTITY: break;
    case MLP_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) d[i] *= a[i] * ((T)1 - a[i]);
        break;
    case MLP_ACT_TANH:
        for (size_t i = 0; i < n; i++) d[i] *= (T)1 - a[i] * a[i];
        break;
    case MLP_ACT_RELU:
        for (size_t i = 0; i < n; i++) d[i] = a[i] > 0 ? d[i] : 0;
        break;
    case MLP_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) d[i] = a[i] > 0 ? d[i] : slope * d[i];
        break;
    case MLP_ACT_COUNT: break;
    }
}
