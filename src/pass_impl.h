/* SPDX-License-Identifier: MIT */
/* The forward/backward pass over a set of rows, written once and included by
 * forward.c for each element type (T, SUF, GEMM, FN defined by the includer).
 *
 * Rows go through the network in blocks of B: inputs are converted from their
 * stored type (uint8 pixels, f32, f64) and scaled into the block's first
 * buffer, every layer's activations for the block are kept for the backward
 * pass, and the gradient is accumulated into `grad` block after block, so a
 * full-batch pass never holds activations for the whole data set.
 *
 * Per layer l with input A (B x n_in) and weights W (n_out x n_in):
 *   forward:   Z = A W^T + 1 b^T,  A' = act(Z)
 *   backward:  dW += dZ^T A,  db += 1^T dZ,  dA = dZ W,
 *              dZ_prev = dA * act'(A)   (act' expressed through A = act(Z))
 * The output head and its loss are in losses_impl.h, the activations in
 * activations_impl.h.
 */

#include "rows_impl.h"

static enum mlp_status FN(run_pass)(struct mlp_pass *p, struct mlp_error *err)
{
    const struct mlp_model *m = p->m;
    const struct mlp_dataset *ds = p->ds;
    const uint32_t L = m->n_layers, K = mlp__n_out(m);
    const bool have_y = ds->labels || ds->targets;
    T *grad = p->grad;
    const T *W = m->params;
    const T slope = (T)m->leaky_slope;
    uint32_t B = p->block_rows;
    if ((uint64_t)B > p->n) B = (uint32_t)p->n;
    if (B == 0) B = 1;

    /* Workspace: one activation buffer per layer boundary, and two delta
     * buffers as wide as the widest layer output. */
    size_t act_elems = (size_t)B * mlp__n_in(m), max_out = 0;
    for (uint32_t l = 0; l < L; l++) {
        act_elems += (size_t)B * m->layers[l].n_out;
        if (m->layers[l].n_out > max_out) max_out = m->layers[l].n_out;
    }
    size_t ws_elems = act_elems + (grad ? 2 * (size_t)B * max_out : 0);
    T *ws = mlp__amalloc(ws_elems * sizeof(T));
    T **A = malloc((L + 1) * sizeof *A);
    if (!ws || !A) {
        mlp__afree(ws);
        free(A);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a %zu-element workspace", ws_elems);
    }
    A[0] = ws;
    for (uint32_t l = 0; l < L; l++) A[l + 1] = A[l] + (size_t)B * m->layers[l].n_in;
    T *D0 = grad ? A[L] + (size_t)B * K : NULL;
    T *D1 = grad ? D0 + (size_t)B * max_out : NULL;

    if (grad) memset(grad, 0, m->n_params * sizeof(T));
    const double inv_n = 1.0 / (double)p->n;
    double loss = 0;
    uint64_t correct = 0;

    double t0 = mlp__now();
    for (uint64_t r0 = 0; r0 < p->n; r0 += B) {
        uint32_t nb = (uint32_t)(p->n - r0 < B ? p->n - r0 : B);
        FN(load_block)(m, ds, p, r0, nb, A[0]);
        for (uint32_t l = 0; l < L; l++) {
            const struct mlp_layer *ly = &m->layers[l];
            T *Z = A[l + 1];
            /* Z = 1 b^T, then Z += A W^T */
            for (uint32_t i = 0; i < nb; i++) memcpy(Z + (size_t)i * ly->n_out, W + ly->b_off, ly->n_out * sizeof(T));
            GEMM(p->backend, false, true, (int)nb, (int)ly->n_out, (int)ly->n_in, (T)1, A[l], (int)ly->n_in,
                 W + ly->w_off, (int)ly->n_in, (T)1, Z, (int)ly->n_out);
            if (l + 1 < L) FN(activate)(ly->act, slope, Z, (size_t)nb * ly->n_out);
        }
        loss += FN(head)(m, ds, p, r0, nb, A[L], D0, inv_n, have_y);
        for (uint32_t i = 0; i < nb && ds->labels; i++) {
            uint64_t r = p->rows ? p->rows[r0 + i] : p->row0 + r0 + i;
            correct += FN(is_correct)(m, ds, r, A[L] + (size_t)i * K);
        }
        if (p->out)
            for (size_t i = 0; i < (size_t)nb * K; i++) p->out[(size_t)r0 * K + i] = (double)A[L][i];
        if (!grad) continue;

        double t1 = mlp__now();
        p->t_forward += t1 - t0;
        T *dZ = D0, *dA = D1;
        for (uint32_t l = L; l-- > 0;) {
            const struct mlp_layer *ly = &m->layers[l];
            /* dW += dZ^T A_l ;  db += column sums of dZ */
            GEMM(p->backend, true, false, (int)ly->n_out, (int)ly->n_in, (int)nb, (T)1, dZ, (int)ly->n_out,
                 A[l], (int)ly->n_in, (T)1, grad + ly->w_off, (int)ly->n_in);
            T *gb = grad + ly->b_off;
            for (uint32_t i = 0; i < nb; i++)
                for (uint32_t j = 0; j < ly->n_out; j++) gb[j] += dZ[(size_t)i * ly->n_out + j];
            if (l == 0) break;
            /* dA = dZ W ; dZ_prev = dA * act'(A_l) */
            GEMM(p->backend, false, false, (int)nb, (int)ly->n_in, (int)ly->n_out, (T)1, dZ, (int)ly->n_out,
                 W + ly->w_off, (int)ly->n_in, (T)0, dA, (int)ly->n_in);
            FN(mul_dact)(m->layers[l - 1].act, slope, A[l], dA, (size_t)nb * ly->n_in);
            T *t = dZ;
            dZ = dA;
            dA = t;
        }
        t0 = mlp__now();
        p->t_backward += t0 - t1;
    }
    if (!grad) p->t_forward += mlp__now() - t0;
    loss *= inv_n;

    /* L2 over weights only (seed 001): + l2/(2n) sum w^2, dW += (l2/n) W */
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

