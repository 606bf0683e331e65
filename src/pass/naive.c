/* SPDX-License-Identifier: MIT */
/* The first two stages of the optimisation ladder (seeds 000 and 001): the
 * pass of mlp__run_pass computed one sample at a time.
 *   naive:      scalar loops over the weights (the seeds' nested loops);
 *   per-sample: one loop over the samples, each layer of a sample through
 *               BLAS level 1/2 (dot, axpy, gemv, ger): "vectorised over
 *               the features".
 * Rows are read, activated and scored by the same code as the batched pass
 * (rows_impl.h, activations_impl.h, losses_impl.h with a block of one row),
 * so the stages differ only in how the products are computed.
 *
 * The pass body is written once, below the #else, and instantiated for f32
 * and f64 by this file including itself with T/SUF/... defined, as forward.c
 * does with pass_impl.h; it stays in this file so that the stage is one
 * file. */
#ifndef MLP_NAIVE_BODY

#include "kernels/kernels.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* FN(name) -> name_f32 / name_f64 */
#define FN_(name, suf) name##_##suf
#define FN__(name, suf) FN_(name, suf)
#define FN(name) FN__(name, SUF)

#define MLP_NAIVE_BODY
#define T float
#define SUF f32
#define EXP expf
#define TANH tanhf
#define EXP_CLIP 80.0f /* as forward.c: e^80 < FLT_MAX and e^-80 > FLT_MIN */
#define DOT cblas_sdot
#define AXPY cblas_saxpy
#define GEMV cblas_sgemv
#define GER cblas_sger
#include "naive.c"
#undef T
#undef SUF
#undef EXP
#undef TANH
#undef EXP_CLIP
#undef DOT
#undef AXPY
#undef GEMV
#undef GER

#define T double
#define SUF f64
#define EXP exp
#define TANH tanh
#define EXP_CLIP 700.0 /* e^700 < DBL_MAX and e^-700 > DBL_MIN */
#define DOT cblas_ddot
#define AXPY cblas_daxpy
#define GEMV cblas_dgemv
#define GER cblas_dger
#include "naive.c"
#undef T
#undef SUF
#undef EXP
#undef TANH
#undef EXP_CLIP
#undef DOT
#undef AXPY
#undef GEMV
#undef GER
#undef MLP_NAIVE_BODY

static enum mlp_status pass_one_at_a_time(struct mlp_pass *p, bool vec, struct mlp_error *err)
{
    /* The rows were checked by mlp__run_pass, the one entry point. */
    MLP_ASSERT(p && p->m && p->ds && p->n > 0);
    p->loss = 0;
    p->correct = 0;
    return p->m->dtype == MLP_F32 ? pass_rows_f32(p, vec, err) : pass_rows_f64(p, vec, err);
}

enum mlp_status mlp__pass_naive(struct mlp_pass *p, struct mlp_error *err)
{
    return pass_one_at_a_time(p, false, err);
}

enum mlp_status mlp__pass_persample(struct mlp_pass *p, struct mlp_error *err)
{
    return pass_one_at_a_time(p, true, err);
}

#else /* MLP_NAIVE_BODY: the pass for one element type */

#include "activations_impl.h"
#include "losses_impl.h"
#include "rows_impl.h"

/* One row through one layer: z = b + W a  (W is n_out x n_in, row-major). */
static void FN(layer_forward)(bool vec, const T *W, const T *b, uint32_t n_out, uint32_t n_in, const T *a, T *z)
{
    if (!vec) {
        for (uint32_t j = 0; j < n_out; j++) {
            const T *w = W + (size_t)j * n_in;
            T s = 0;
            for (uint32_t i = 0; i < n_in; i++) s += w[i] * a[i];
            z[j] = b[j] + s;
        }
        return;
    }
    memcpy(z, b, n_out * sizeof(T));
    if (n_out == 1) /* one unit (seed 000's neuron): a dot product */
        z[0] += DOT((int)n_in, W, 1, a, 1);
    else
        GEMV(CblasRowMajor, CblasNoTrans, (int)n_out, (int)n_in, (T)1, W, (int)n_in, a, 1, (T)1, z, 1);
}

/* One row back through one layer, from dz = dLoss/dz (n_out):
 *   gW += dz a^T,  gb += dz,  and when da is not NULL  da = W^T dz. */
static void FN(layer_backward)(bool vec, const T *W, uint32_t n_out, uint32_t n_in, const T *a, const T *dz, T *gW,
                               T *gb, T *da)
{
    if (!vec) {
        for (uint32_t j = 0; j < n_out; j++) {
            T *g = gW + (size_t)j * n_in;
            for (uint32_t i = 0; i < n_in; i++) g[i] += dz[j] * a[i];
            gb[j] += dz[j];
        }
        if (!da) return;
        for (uint32_t i = 0; i < n_in; i++) da[i] = 0;
        for (uint32_t j = 0; j < n_out; j++) {
            const T *w = W + (size_t)j * n_in;
            for (uint32_t i = 0; i < n_in; i++) da[i] += dz[j] * w[i];
        }
        return;
    }
    if (n_out == 1)
        AXPY((int)n_in, dz[0], a, 1, gW, 1);
    else
        GER(CblasRowMajor, (int)n_out, (int)n_in, (T)1, dz, 1, a, 1, gW, (int)n_in);
    AXPY((int)n_out, (T)1, dz, 1, gb, 1);
    if (da) GEMV(CblasRowMajor, CblasTrans, (int)n_out, (int)n_in, (T)1, W, (int)n_in, dz, 1, (T)0, da, 1);
}

static enum mlp_status FN(pass_rows)(struct mlp_pass *p, bool vec, struct mlp_error *err)
{
    const struct mlp_model *m = p->m;
    const struct mlp_dataset *ds = p->ds;
    const uint32_t L = m->n_layers, K = mlp__n_out(m);
    const bool have_y = ds->labels || ds->targets;
    T *grad = p->grad;
    const T *W = m->params;
    const T slope = (T)m->leaky_slope;

    /* One row's activations at every layer boundary (kept for the backward
     * pass), and two deltas as wide as the widest layer. */
    size_t act_elems = mlp__n_in(m), max_out = 0;
    for (uint32_t l = 0; l < L; l++) {
        act_elems += m->layers[l].n_out;
        if (m->layers[l].n_out > max_out) max_out = m->layers[l].n_out;
    }
    size_t ws_elems = act_elems + (grad ? 2 * max_out : 0);
    T *ws = mlp__amalloc(ws_elems * sizeof(T));
    T **A = malloc((L + 1) * sizeof *A);
    if (!ws || !A) {
        mlp__afree(ws);
        free(A);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a %zu-element workspace", ws_elems);
    }
    A[0] = ws;
    for (uint32_t l = 0; l < L; l++) A[l + 1] = A[l] + m->layers[l].n_in;
    T *D0 = grad ? A[L] + K : NULL;
    T *D1 = grad ? D0 + max_out : NULL;

    if (grad) memset(grad, 0, m->n_params * sizeof(T));
    const double inv_n = 1.0 / (double)p->n;
    double loss = 0;
    uint64_t correct = 0;

    double t0 = mlp__now();
    for (uint64_t s = 0; s < p->n; s++) {
        FN(load_block)(m, ds, p, s, 1, A[0]);
        for (uint32_t l = 0; l < L; l++) {
            const struct mlp_layer *ly = &m->layers[l];
            FN(layer_forward)(vec, W + ly->w_off, W + ly->b_off, ly->n_out, ly->n_in, A[l], A[l + 1]);
            if (l + 1 < L) FN(activate)(m, ly->act, slope, A[l + 1], ly->n_out);
        }
        /* zeroed: without targets the head leaves its delta untouched */
        if (grad) memset(D0, 0, K * sizeof(T));
        loss += FN(head)(m, ds, p, s, 1, A[L], D0, inv_n, have_y);
        if (ds->labels) correct += FN(is_correct)(m, ds, p->rows ? p->rows[s] : p->row0 + s, A[L]);
        if (p->out)
            for (uint32_t k = 0; k < K; k++) p->out[(size_t)s * K + k] = (double)A[L][k];
        if (!grad) continue;

        double t1 = mlp__now();
        p->t_forward += t1 - t0;
        T *dz = D0, *da = D1;
        for (uint32_t l = L; l-- > 0;) {
            const struct mlp_layer *ly = &m->layers[l];
            FN(layer_backward)(vec, W + ly->w_off, ly->n_out, ly->n_in, A[l], dz, grad + ly->w_off,
                               grad + ly->b_off, l > 0 ? da : NULL);
            if (l == 0) break;
            /* dz of the layer below = W^T dz * act'(its output) */
            FN(mul_dact)(m, m->layers[l - 1].act, slope, A[l], da, ly->n_in);
            T *t = dz;
            dz = da;
            da = t;
        }
        t0 = mlp__now();
        p->t_backward += t0 - t1;
    }
    if (!grad) p->t_forward += mlp__now() - t0;
    loss *= inv_n;

    /* L2 over weights only, as in pass_impl.h: + l2/(2m) sum w^2, dW += (l2/m) W */
    if (p->l2 != 0) {
        double sq = 0, c = p->l2 / (p->l2_m > 0 ? p->l2_m : (double)p->n);
        for (uint32_t l = 0; l < L; l++) {
            const struct mlp_layer *ly = &m->layers[l];
            size_t nw = (size_t)ly->n_in * ly->n_out;
            const T *w = W + ly->w_off;
            for (size_t i = 0; i < nw; i++) sq += (double)w[i] * (double)w[i];
            if (grad)
                for (size_t i = 0; i < nw; i++) grad[ly->w_off + i] += (T)(c * (double)w[i]);
        }
        loss += 0.5 * c * sq;
    }
    p->loss = have_y ? loss : 0;
    p->correct = correct;
    mlp__afree(ws);
    free(A);
    return MLP_OK;
}

#endif /* MLP_NAIVE_BODY */
