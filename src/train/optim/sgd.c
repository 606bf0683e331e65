/* SPDX-License-Identifier: MIT */
/* Gradient descent and SGD with (Nesterov) momentum on the flat vector: the
 * element type's instance (sgd.inc) chosen here. */
#include "train/optim/optim.h"

void mlp__sgd_step(enum mlp_dtype dt, size_t n, void *p, const void *g, void *v,
                   double lr, double mu, int nesterov)
{
    if (dt == MLP_F32)
        mlp__sgd_f32(n, p, g, v, (float)lr, (float)mu, nesterov);
    else
        mlp__sgd_f64(n, p, g, v, lr, mu, nesterov);
}
