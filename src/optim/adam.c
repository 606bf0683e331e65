/* SPDX-License-Identifier: MIT */
/* Adam on the flat vector; moments kept in the model's dtype (as PyTorch).
 * Split over the thread pool; built with -fno-math-errno so that the sqrt
 * vectorises (v >= 0: it never sets errno anyway). */
#include "optim.h"

#include "../cpu/pool.h"

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

struct adam_job {
    enum mlp_dtype dt;
    size_t n;
    void *p, *m, *v;
    const void *g;
    double lr_t, b1, b2, eps_t;
    uint32_t tasks;
};

/* One slice of the vector per task, cut at multiples of 16 elements (whole
 * cache lines), so the slices and the results do not depend on timing. */
static void adam_task(void *ctx, uint32_t t)
{
    const struct adam_job *j = ctx;
    size_t lo = (j->n * t / j->tasks) & ~(size_t)15;
    size_t hi = t + 1 == j->tasks ? j->n : (j->n * (t + 1) / j->tasks) & ~(size_t)15;
    if (hi <= lo) return;
    if (j->dt == MLP_F32)
        adam_f32(hi - lo, (float *)j->p + lo, (const float *)j->g + lo, (float *)j->m + lo, (float *)j->v + lo,
                 (float)j->lr_t, (float)j->b1, (float)j->b2, (float)j->eps_t);
    else
        adam_f64(hi - lo, (double *)j->p + lo, (const double *)j->g + lo, (double *)j->m + lo, (double *)j->v + lo,
                 j->lr_t, j->b1, j->b2, j->eps_t);
}

void mlp__adam_step(enum mlp_dtype dt, size_t n, void *p, const void *g, void *m, void *v,
                    double lr, double b1, double b2, double eps, uint64_t t)
{
    /* Fold both bias corrections into the step size and epsilon:
     * mhat/(sqrt(vhat)+eps) = (c2/c1) m / (sqrt(v) + eps c2), with
     * c1 = 1 - b1^t and c2 = sqrt(1 - b2^t). */
    double c1 = 1 - pow(b1, (double)t), c2 = sqrt(1 - pow(b2, (double)t));
    struct adam_job j = {.dt = dt, .n = n, .p = p, .g = g, .m = m, .v = v, .lr_t = lr * c2 / c1, .b1 = b1,
                         .b2 = b2, .eps_t = eps * c2};
    /* Elementwise, so any split gives the same numbers; below ~32K
     * parameters the hand-off costs more than it saves. */
    j.tasks = n < 32768 ? 1 : (uint32_t)mlp__pool_size();
    mlp__pool_for(j.tasks, adam_task, &j);
}
