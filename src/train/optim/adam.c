/* SPDX-License-Identifier: MIT */
/* Adam on the flat vector; moments kept in the model's dtype (as PyTorch).
 * Split over the thread pool; the element loop is the kernel table's
 * (kernels/adam.inc, one per instruction set).
 *
 * The gradient may come in per-thread parts from a fast pass (struct
 * mlp_pass, keep_parts): each task then adds its slice of the parts up as it
 * reads them, in the order the pass's own reduction would, so the numbers
 * are the same and the summed gradient is never written back (on W5, one
 * 0.94 MB write and read fewer per mini-batch). */
#include "context/context.h"
#include "train/optim/optim.h"

#include "core/pool.h"
#include "kernels/ktable.h"

#include <math.h>

struct adam_job {
    const struct mlp_ktable *kt;
    enum mlp_dtype dt;
    size_t n;
    void *p, *m, *v;
    void *const *parts;
    uint32_t n_parts;
    double lr_t, b1, b2, eps_t;
    uint32_t tasks;
};

/* More than two parts (more than two threads): add parts 1.. into part 0's
 * slice [lo, hi) first, in part order; two parts are added inside the
 * update. */
static void fold_parts(const struct adam_job *j, size_t lo, size_t hi)
{
    for (uint32_t k = 1; k < j->n_parts; k++) {
        if (j->dt == MLP_F32) {
            float *g0 = (float *)j->parts[0] + lo;
            const float *gk = (const float *)j->parts[k] + lo;
            for (size_t i = 0; i < hi - lo; i++) g0[i] += gk[i];
        } else {
            double *g0 = (double *)j->parts[0] + lo;
            const double *gk = (const double *)j->parts[k] + lo;
            for (size_t i = 0; i < hi - lo; i++) g0[i] += gk[i];
        }
    }
}

/* One slice of the vector per task, cut at multiples of 16 elements (whole
 * cache lines), so the slices and the results do not depend on timing. */
static void adam_task(void *ctx, uint32_t t)
{
    const struct adam_job *j = ctx;
    size_t lo, hi;
    mlp__pool_slice(j->n, t, j->tasks, 16, &lo, &hi);
    if (hi <= lo) return;
    if (j->n_parts > 2) fold_parts(j, lo, hi);
    const void *g2 = j->n_parts == 2 ? j->parts[1] : NULL;
    if (j->dt == MLP_F32)
        j->kt->adam_f32(hi - lo, (float *)j->p + lo, (const float *)j->parts[0] + lo, g2 ? (const float *)g2 + lo : NULL,
                 (float *)j->m + lo, (float *)j->v + lo, (float)j->lr_t, (float)j->b1, (float)j->b2,
                 (float)j->eps_t);
    else
        j->kt->adam_f64(hi - lo, (double *)j->p + lo, (const double *)j->parts[0] + lo,
                 g2 ? (const double *)g2 + lo : NULL, (double *)j->m + lo, (double *)j->v + lo, j->lr_t, j->b1,
                 j->b2, j->eps_t);
}

static struct adam_job make_job(enum mlp_dtype dt, size_t n, void *p, void *const *parts, uint32_t n_parts,
                                void *m, void *v, double lr, double b1, double b2, double eps, uint64_t t)
{
    /* Fold both bias corrections into the step size and epsilon:
     * mhat/(sqrt(vhat)+eps) = (c2/c1) m / (sqrt(v) + eps c2), with
     * c1 = 1 - b1^t and c2 = sqrt(1 - b2^t). */
    double c1 = 1 - pow(b1, (double)t), c2 = sqrt(1 - pow(b2, (double)t));
    return (struct adam_job){.dt = dt, .n = n, .p = p, .parts = parts, .n_parts = n_parts, .m = m, .v = v,
                             .lr_t = lr * c2 / c1, .b1 = b1, .b2 = b2, .eps_t = eps * c2};
}

void mlp__adam_init(struct mlp_adam *a, const struct mlp_adam_step *s, const void *g)
{
    void *parts[1] = {(void *)(uintptr_t)g};
    struct adam_job j = make_job(s->dt, 0, s->p, parts, 1, s->m, s->v, s->lr, s->b1, s->b2, s->eps, s->t);
    *a = (struct mlp_adam){.kt = mlp__ctx(s->cx)->kt, .dt = s->dt, .p = s->p, .g = g, .m = s->m, .v = s->v,
                           .lr_t = j.lr_t, .b1 = s->b1, .b2 = s->b2, .eps_t = j.eps_t};
}

void mlp__adam_range(const struct mlp_adam *a, size_t lo, size_t hi)
{
    if (hi <= lo) return;
    if (a->dt == MLP_F32)
        a->kt->adam_f32(hi - lo, (float *)a->p + lo, (const float *)a->g + lo, NULL, (float *)a->m + lo,
                 (float *)a->v + lo, (float)a->lr_t, (float)a->b1, (float)a->b2, (float)a->eps_t);
    else
        a->kt->adam_f64(hi - lo, (double *)a->p + lo, (const double *)a->g + lo, NULL, (double *)a->m + lo,
                 (double *)a->v + lo, a->lr_t, a->b1, a->b2, a->eps_t);
}

void mlp__adam_step(const struct mlp_adam_step *s, const void *g)
{
    void *parts[1] = {(void *)(uintptr_t)g}; /* read only with one part */
    struct adam_job j = make_job(s->dt, s->n, s->p, parts, 1, s->m, s->v, s->lr, s->b1, s->b2, s->eps, s->t);
    /* Elementwise, so any split gives the same numbers; below ~32K
     * parameters the hand-off costs more than it saves. */
    const struct mlp_context *cx = mlp__ctx(s->cx);
    j.kt = cx->kt;
    j.tasks = s->n < 32768 ? 1 : (uint32_t)cx->threads;
    mlp__pool_for(cx->pool, j.tasks, adam_task, &j);
}

void mlp__adam_step_parts(const struct mlp_adam_step *s, void *const *parts, uint32_t n_parts)
{
    struct adam_job j = make_job(s->dt, s->n, s->p, parts, n_parts, s->m, s->v, s->lr, s->b1, s->b2, s->eps, s->t);
    const struct mlp_context *cx = mlp__ctx(s->cx);
    j.kt = cx->kt;
    j.tasks = (uint32_t)cx->threads;
    mlp__pool_run(cx->pool, j.tasks, adam_task, &j);
    mlp__pool_release(cx->pool);
}
