/* SPDX-License-Identifier: MIT */
/* Hidden-layer activations and their derivatives, written once and included
 * by forward.c per element type (T, SUF, EXP, TANH, FN defined there).
 * Derivatives are taken from the activation's output a = act(z):
 *   sigmoid' = a (1 - a),  tanh' = 1 - a^2,  relu' = [a > 0],
 *   leaky'   = [a > 0] + slope [a <= 0]   (slope >= 0, so a > 0 iff z > 0) */

/* x = exp(x) over n values: a loop the vectoriser turns into calls of
 * glibc's SIMD exp (libmvec, declared in forward.c) where there is one. */
static void FN(vexp)(T *x, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) x[i] = EXP(x[i]);
}

static void FN(activate)(enum mlp_act act, T slope, T *z, size_t n)
{
    switch (act) {
    case MLP_ACT_IDENTITY: break;
    case MLP_ACT_SIGMOID:
        /* The exponent is clipped (seed 003) so exp never overflows or
         * underflows, which would raise FP exceptions; inside the clip the
         * result is unchanged, outside it differs from the exact value by
         * less than the type can tell (sigmoid(80) == 1 in f32).
         * The clip is a loop of its own: in one loop the vectoriser would
         * compute exp of the unclipped value and select afterwards, which
         * overflows (test_fpe). */
        for (size_t i = 0; i < n; i++) z[i] = z[i] < -EXP_CLIP ? -EXP_CLIP : z[i] > EXP_CLIP ? EXP_CLIP : z[i];
#pragma omp simd
        for (size_t i = 0; i < n; i++) z[i] = (T)1 / ((T)1 + EXP(-z[i]));
        break;
    case MLP_ACT_TANH:
#pragma omp simd
        for (size_t i = 0; i < n; i++) z[i] = TANH(z[i]);
        break;
    case MLP_ACT_RELU:
        for (size_t i = 0; i < n; i++) z[i] = z[i] > 0 ? z[i] : 0;
        break;
    case MLP_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) z[i] = z[i] > 0 ? z[i] : slope * z[i];
        break;
    case MLP_ACT_COUNT: break;
    }
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
