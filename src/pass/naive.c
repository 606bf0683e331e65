/* SPDX-License-Identifier: MIT */
/* The first two stages of the optimisation ladder (seeds 000 and 001): the
 * pass of mlp__run_pass computed one sample at a time.
 *   naive:      scalar loops over the weights (the seeds' nested loops);
 *   per-sample: one loop over the samples, each layer of a sample through
 *               BLAS level 1/2 (dot, axpy, gemv, ger): "vectorised over
 *               the features".
 * Rows are read, activated and scored by the same code as the batched pass
 * (rows.inc, activations.inc, losses.inc with a block of one row),
 * so the stages differ only in how the products are computed.
 *
 * This file holds the entry points; the pass is written once in naive.inc
 * and instantiated by naive_f32.c and naive_f64.c (core/tmpl.h). */
#include "kernels/kernels.h"
#include "pass/pass.h"

static enum mlp_status pass_one_at_a_time(struct mlp_pass *p, bool vec, struct mlp_error *err)
{
    /* The rows were checked by mlp__run_pass, the one entry point. */
    MLP_ASSERT(p && p->m && p->ds && p->n > 0);
    p->loss = 0;
    p->correct = 0;
    return p->m->dtype == MLP_F32 ? mlp__pass_rows_f32(p, vec, err) : mlp__pass_rows_f64(p, vec, err);
}

enum mlp_status mlp__pass_naive(struct mlp_pass *p, struct mlp_error *err)
{
    return pass_one_at_a_time(p, false, err);
}

enum mlp_status mlp__pass_persample(struct mlp_pass *p, struct mlp_error *err)
{
    return pass_one_at_a_time(p, true, err);
}
