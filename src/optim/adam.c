/* SPDX-License-Identifier: MIT */
/* Adam on the flat vector; moments kept in the model's dtype (as PyTorch). */
#include "optim.h"

#include <math.h>

#define ADAM(SUF, T, SQRT)                                                   \
    static void adam_##SUF(size_t n, T *p, const T *g, T *m, T *v, T lr_t, T b1, T b2, \
                           T eps_t)                                          \
    {                                                                        \
        for (size_t i = 0; i < n; i++) {                                     \
            m[i] = b1 * m[i] + (1 - b1) * g[i];                              \
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];                       \
            p[i] -= lr_t * m[i] / (SQRT(v[i]) + eps_t);                      \
        }                                                                    \
    }
ADAM(f32, float, sqrtf)
ADAM(f64, double, sqrt)

void mlp__adam_step(enum mlp_dtype dt, size_t n, void *p, const void *g, void *m, void *v,
                    double lr, double b1, double b2, double eps, uint64_t t)
{
    /* Fold both bias corrections into the step size and epsilon:
     * mhat/(sqrt(vhat)+eps) = (c2/c1) m / (sqrt(v) + eps c2), with
     * c1 = 1 - b1^t and c2 = sqrt(1 - b2^t). */
    double c1 = 1 - pow(b1, (double)t), c2 = sqrt(1 - pow(b2, (double)t));
    double lr_t = lr * c2 / c1, eps_t = eps * c2;
    if (dt == MLP_F32)
        adam_f32(n, p, g, m, v, (float)lr_t, (float)b1, (float)b2, (float)eps_t);
    else
        adam_f64(n, p, g, m, v, lr_t, b1, b2, eps_t);
}
