/* SPDX-License-Identifier: MIT */
/* Hidden-layer activations and their derivatives for the passes: thin calls
 * into the model's kernel table (the bodies, with the derivatives' formulas,
 * are kernels/act.inc, one build per instruction set).  Included by pass.c,
 * naive.c and quant.c per element type (T, FN defined there). */
#include "kernels/ktable.h"

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

/* d *= act'(z), with act'(z) computed from a = act(z): the table's too
 * (an FMA in tanh's 1 - a^2 where the variant has them). */
static inline void FN(mul_dact)(const struct mlp_model *m, enum mlp_act act, T slope, const T *a, T *d, size_t n)
{
    _Generic((T)0, float: mlp__model_kt(m)->dact_f32, double: mlp__model_kt(m)->dact_f64)(act, slope, a, d, n);
}
