/* SPDX-License-Identifier: MIT */
/* Gradient descent and SGD with (Nesterov) momentum on the flat vector. */
#include "train/optim/optim.h"

#define SGD(SUF, T)                                                          \
    static void sgd_##SUF(size_t n, T *p, const T *g, T *v, T lr, T mu, int nesterov) \
    {                                                                        \
        if (mu == 0) {                                                       \
            for (size_t i = 0; i < n; i++) p[i] -= lr * g[i];                \
            return;                                                          \
        }                                                                    \
        for (size_t i = 0; i < n; i++) {                                     \
            v[i] = mu * v[i] + g[i];                                         \
            p[i] -= lr * (nesterov ? g[i] + mu * v[i] : v[i]);               \
        }                                                                    \
    }
SGD(f32, float)
SGD(f64, double)

void mlp__sgd_step(enum mlp_dtype dt, size_t n, void *p, const void *g, void *v,
                   double lr, double mu, int nesterov)
{
    if (dt == MLP_F32)
        sgd_f32(n, p, g, v, (float)lr, (float)mu, nesterov);
    else
        sgd_f64(n, p, g, v, lr, mu, nesterov);
}
