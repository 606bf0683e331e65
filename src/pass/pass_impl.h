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

/* Elements of workspace a range of rows needs with blocks of B rows: one
 * activation buffer per layer boundary, two delta buffers as wide as the
 * widest layer output (with a gradient), then the L+1 block pointers. */
static size_t FN(ws_bytes)(const struct mlp_model *m, uint32_t B, bool grad)
{
    size_t act_elems = (size_t)B * mlp__n_in(m), max_out = 0;
    for (uint32_t l = 0; l < m->n_layers; l++) {
        act_elems += (size_t)B * m->layers[l].n_out;
        if (m->layers[l].n_out > max_out) max_out = m->layers[l].n_out;
    }
    size_t elems = act_elems + (grad ? 2 * (size_t)B * max_out : 0);
    size_t ptrs = (m->n_layers + 1) * sizeof(T *);
    return (elems * sizeof(T) + 63) / 64 * 64 + ptrs;
}

/* Z (nb x n_out) += A W^T with the outputs split over the pool (held by
 * this thread, idle): for a few rows and a big layer (batch-1 inference),
 * where one thread cannot use all the memory bandwidth and a single range
 * leaves the other threads idle.  Each task takes whole cache lines of
 * outputs, so each output is one dot product computed by one thread, the
 * same whatever the timing. */
struct FN(split_job) {
    enum mlp_backend be;
    int nb, n_out, n_in;
    const T *A, *W;
    T *Z;
    uint32_t tasks;
};

static void FN(split_task)(void *vc, uint32_t t)
{
    const struct FN(split_job) *j = vc;
    size_t lo, hi;
    mlp__pool_slice((size_t)j->n_out, t, j->tasks, 64 / sizeof(T), &lo, &hi);
    if (hi > lo)
        GEMM(j->be, false, true, j->nb, (int)(hi - lo), j->n_in, (T)1, j->A, j->n_in, j->W + lo * (size_t)j->n_in,
             j->n_in, (T)1, j->Z + lo, j->n_out);
}

/* Split when the layer's weights are large enough (>= 1 MB) that the
 * hand-off (a few microseconds) is small beside streaming them. */
static bool FN(want_split)(const struct mlp_pass *p, const struct mlp_layer *ly)
{
    return p->split_gemms && (size_t)ly->n_in * ly->n_out * sizeof(T) >= ((size_t)1 << 20) &&
           ly->n_out >= 2 * 64 / sizeof(T);
}

/* Rows [first, first + count) of the pass (indices into its row list) in
 * blocks of B, the gradient (if grad) zeroed and accumulated here.  Adds the
 * unscaled loss sum and the correct count to *loss and *correct; the head
 * scales the gradient by inv_n, 1/(rows of the whole pass). */
static void FN(run_range)(struct mlp_pass *p, uint64_t first, uint64_t count, uint32_t B, void *ws_mem, T *grad,
                          double inv_n, double *loss_out, uint64_t *correct_out, double *tf, double *tb)
{
    const struct mlp_model *m = p->m;
    const struct mlp_dataset *ds = p->ds;
    const uint32_t L = m->n_layers, K = mlp__n_out(m);
    const bool have_y = ds->labels || ds->targets;
    const T *W = m->params;
    const T slope = (T)m->leaky_slope;
    size_t ptr_off = FN(ws_bytes)(m, B, grad != NULL) - (L + 1) * sizeof(T *);
    T **A = (T **)((char *)ws_mem + ptr_off);
    size_t max_out = 0;
    for (uint32_t l = 0; l < L; l++)
        if (m->layers[l].n_out > max_out) max_out = m->layers[l].n_out;
    A[0] = ws_mem;
    for (uint32_t l = 0; l < L; l++) A[l + 1] = A[l] + (size_t)B * m->layers[l].n_in;
    T *D0 = grad ? A[L] + (size_t)B * K : NULL;
    T *D1 = grad ? D0 + (size_t)B * max_out : NULL;

    double loss = 0;
    uint64_t correct = 0;
    /* Inside a pool task the BLAS runs on one thread; in the batched stage
     * (the BLAS's own threads) this is the only caller. */
    const enum mlp_backend be = p->backend == MLP_BACKEND_REF ? MLP_BACKEND_REF : MLP_BACKEND_BLAS;

    /* uint8 rows into a narrow first layer: the fused kernel reads them in
     * place (kernels/narrow.inc, through the kernel table); A[0], unused then, holds the row pointers. */
    const bool narrow = be != MLP_BACKEND_REF && mlp__model_kernels(m) == MLP_KERNELS_FAST && ds->x_type == MLP_ELEM_U8 && !m->pre_mean &&
                        m->layers[0].n_out <= MLP_NARROW_MAX && (size_t)B * m->layers[0].n_in * sizeof(T) >=
                                                                    (size_t)B * sizeof(const uint8_t *);
    const uint8_t **xr = (const uint8_t **)(void *)A[0];

    /* The first block's weight-gradient GEMMs overwrite (beta 0), so only
     * the biases and what the fused kernel adds to need zeroing here (no pass
     * over the whole gradient before every mini-batch). */
    if (grad)
        for (uint32_t l = 0; l < L; l++) {
            const struct mlp_layer *ly = &m->layers[l];
            memset(grad + ly->b_off, 0, ly->n_out * sizeof(T));
            if (l == 0 && narrow) memset(grad + ly->w_off, 0, (size_t)ly->n_in * ly->n_out * sizeof(T));
        }

    double t0 = mlp__now();
    for (uint64_t r0 = first; r0 < first + count; r0 += B) {
        uint32_t nb = (uint32_t)(first + count - r0 < B ? first + count - r0 : B);
        if (narrow)
            for (uint32_t i = 0; i < nb; i++)
                xr[i] = (const uint8_t *)ds->x +
                        (size_t)(p->rows ? p->rows[r0 + i] : p->row0 + r0 + i) * ds->n_cols;
        else
            FN(load_block)(m, ds, p, r0, nb, A[0]);
        for (uint32_t l = 0; l < L; l++) {
            const struct mlp_layer *ly = &m->layers[l];
            T *Z = A[l + 1];
            if (l == 0 && narrow) {
                mlp__model_kt(m)->FN(narrow_fwd)(xr, nb, ly->n_in, ly->n_out, W + ly->w_off, W + ly->b_off, (T)m->input_scale, Z);
                if (L > 1) FN(activate)(m, ly->act, slope, Z, (size_t)nb * ly->n_out);
                continue;
            }
            /* Z = 1 b^T, then Z += A W^T */
            for (uint32_t i = 0; i < nb; i++) memcpy(Z + (size_t)i * ly->n_out, W + ly->b_off, ly->n_out * sizeof(T));
            if (FN(want_split)(p, ly)) {
                struct FN(split_job) sj = {.be = be, .nb = (int)nb, .n_out = (int)ly->n_out, .n_in = (int)ly->n_in,
                                           .A = A[l], .W = W + ly->w_off, .Z = Z,
                                           .tasks = (uint32_t)mlp__model_threads(m)};
                mlp__pool_run(mlp__model_pool(m), sj.tasks, FN(split_task), &sj);
            } else {
                GEMM(be, false, true, (int)nb, (int)ly->n_out, (int)ly->n_in, (T)1, A[l], (int)ly->n_in,
                     W + ly->w_off, (int)ly->n_in, (T)1, Z, (int)ly->n_out);
            }
            if (l + 1 < L) FN(activate)(m, ly->act, slope, Z, (size_t)nb * ly->n_out);
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
        *tf += t1 - t0;
        T *dZ = D0, *dA = D1;
        for (uint32_t l = L; l-- > 0;) {
            const struct mlp_layer *ly = &m->layers[l];
            /* dW += dZ^T A_l ;  db += column sums of dZ */
            if (l == 0 && narrow)
                mlp__model_kt(m)->FN(narrow_bwd)(xr, nb, ly->n_in, ly->n_out, dZ, (T)m->input_scale, grad + ly->w_off);
            else
                GEMM(be, true, false, (int)ly->n_out, (int)ly->n_in, (int)nb, (T)1, dZ, (int)ly->n_out, A[l],
                 (int)ly->n_in, r0 == first ? (T)0 : (T)1, grad + ly->w_off, (int)ly->n_in);
            T *gb = grad + ly->b_off;
            for (uint32_t i = 0; i < nb; i++)
                for (uint32_t j = 0; j < ly->n_out; j++) gb[j] += dZ[(size_t)i * ly->n_out + j];
            if (l == 0) break;
            /* dA = dZ W ; dZ_prev = dA * act'(A_l) */
            GEMM(be, false, false, (int)nb, (int)ly->n_in, (int)ly->n_out, (T)1, dZ, (int)ly->n_out,
                 W + ly->w_off, (int)ly->n_in, (T)0, dA, (int)ly->n_in);
            FN(mul_dact)(m, m->layers[l - 1].act, slope, A[l], dA, (size_t)nb * ly->n_in);
            T *t = dZ;
            dZ = dA;
            dA = t;
        }
        t0 = mlp__now();
        *tb += t0 - t1;
    }
    if (!grad) *tf += mlp__now() - t0;
    *loss_out += loss;
    *correct_out += correct;
}

/* L2 over weights only (seed 001): + l2/(2m) sum w^2, dW += (l2/m) W; and
 * the final loss and counts into p. */
static void FN(finish)(struct mlp_pass *p, T *grad, double loss, uint64_t correct)
{
    const struct mlp_model *m = p->m;
    const T *W = m->params;
    loss *= 1.0 / (double)p->n;
    if (p->l2 != 0) {
        double sq = 0, c = p->l2 / (p->l2_m > 0 ? p->l2_m : (double)p->n);
        for (uint32_t l = 0; l < m->n_layers; l++) {
            const struct mlp_layer *ly = &m->layers[l];
            size_t nw = (size_t)ly->n_in * ly->n_out;
            const T *w = W + ly->w_off;
            for (size_t i = 0; i < nw; i++) sq += (double)w[i] * (double)w[i];
            if (grad)
                for (size_t i = 0; i < nw; i++) grad[ly->w_off + i] += (T)(c * (double)w[i]);
        }
        loss += 0.5 * c * sq;
    }
    p->loss = (p->ds->labels || p->ds->targets) ? loss : 0;
    p->correct = correct;
}

static uint32_t FN(clamp_block)(const struct mlp_pass *p, uint64_t rows)
{
    uint32_t B = p->block_rows;
    if ((uint64_t)B > rows) B = (uint32_t)rows;
    return B == 0 ? 1 : B;
}

/* The batched stage: every row on the calling thread, threads only inside
 * the BLAS.  Also the fallback of the fast stage when the pool is busy. */
static enum mlp_status FN(run_pass)(struct mlp_pass *p, struct mlp_error *err)
{
    uint32_t B = FN(clamp_block)(p, p->n);
    size_t bytes = FN(ws_bytes)(p->m, B, p->grad != NULL);
    void *ws = mlp__amalloc(bytes);
    if (!ws) return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a %zu-byte workspace", bytes);
    double loss = 0;
    uint64_t correct = 0;
    FN(run_range)(p, 0, p->n, B, ws, p->grad, 1.0 / (double)p->n, &loss, &correct, &p->t_forward, &p->t_backward);
    FN(finish)(p, p->grad, loss, correct);
    mlp__afree(ws);
    return MLP_OK;
}

/* The fast stage: the rows split into one contiguous range per pool thread;
 * each thread streams its range block by block (forward and backward while
 * the block is in cache) into a private gradient, and the gradients are
 * added in task order, so results depend on the thread count only. */
struct FN(fast_ctx) {
    struct mlp_pass *p;
    uint32_t tasks, B;
    size_t ws_bytes;
    double inv_n;
    double loss[MLP_FAST_MAX_TASKS], tf[MLP_FAST_MAX_TASKS], tb[MLP_FAST_MAX_TASKS];
    uint64_t correct[MLP_FAST_MAX_TASKS];
    T *grads[MLP_FAST_MAX_TASKS];
    bool nomem;
};

static void FN(fast_task)(void *vc, uint32_t t)
{
    struct FN(fast_ctx) *c = vc;
    struct mlp_pass *p = c->p;
    uint32_t slot = t % (uint32_t)mlp__model_threads(p->m);
    uint64_t first = p->n * t / c->tasks, last = p->n * (t + 1) / c->tasks;
    void *ws = mlp__pool_scratch(mlp__model_pool(p->m), slot, 0, c->ws_bytes);
    T *g = NULL;
    if (p->grad) g = t == 0 ? p->grad : mlp__pool_scratch(mlp__model_pool(p->m), slot, 1, p->m->n_params * sizeof(T));
    c->grads[t] = g;
    if (!ws || (p->grad && !g)) {
        c->nomem = true;
        return;
    }
    FN(run_range)(p, first, last - first, c->B, ws, g, c->inv_n, &c->loss[t], &c->correct[t], &c->tf[t], &c->tb[t]);
}

/* grads[0] += grads[1] + ... in task order, one slice of the vector per
 * task. */
static void FN(reduce_task)(void *vc, uint32_t t)
{
    struct FN(fast_ctx) *c = vc;
    uint32_t nt = mlp__model_threads(c->p->m) < (int)c->tasks ? (uint32_t)mlp__model_threads(c->p->m) : c->tasks;
    size_t lo, hi;
    mlp__pool_slice(c->p->m->n_params, t, nt, 16, &lo, &hi);
    T *g0 = c->grads[0];
    for (uint32_t k = 1; k < c->tasks; k++) {
        const T *gk = c->grads[k];
        for (size_t i = lo; i < hi; i++) g0[i] += gk[i];
    }
}

static enum mlp_status FN(run_pass_fast)(struct mlp_pass *p, struct mlp_error *err)
{
    struct mlp_pool *pool = mlp__model_pool(p->m);
    uint64_t tasks = (uint64_t)mlp__model_threads(p->m);
    /* at least MLP_FAST_MIN_ROWS rows a thread, or the hand-off and the
     * gradient reduction cost more than they save */
    if (tasks > p->n / MLP_FAST_MIN_ROWS) tasks = p->n / MLP_FAST_MIN_ROWS;
    if (tasks < 1) tasks = 1;
    if (tasks > MLP_FAST_MAX_TASKS) tasks = MLP_FAST_MAX_TASKS;
    if (!mlp__pool_acquire(pool)) return FN(run_pass)(p, err);

    struct FN(fast_ctx) c = {.p = p, .tasks = (uint32_t)tasks, .inv_n = 1.0 / (double)p->n};
    c.B = FN(clamp_block)(p, (p->n + tasks - 1) / tasks);
    c.ws_bytes = FN(ws_bytes)(p->m, c.B, p->grad != NULL);
    /* A few rows without a gradient (inference, batch 1): one range on this
     * thread, its big layers split over the pool by outputs. */
    p->split_gemms = c.tasks == 1 && !p->grad && mlp__model_threads(p->m) > 1;
    if (p->split_gemms)
        FN(fast_task)(&c, 0);
    else
        mlp__pool_run(pool, c.tasks, FN(fast_task), &c);
    p->split_gemms = false;
    /* the caller may take the parts as they are (see struct mlp_pass) */
    const bool keep = !c.nomem && p->grad && c.tasks > 1 && p->keep_parts && p->l2 == 0;
    if (!c.nomem && p->grad && c.tasks > 1 && !keep) {
        uint32_t nt = (uint32_t)mlp__model_threads(p->m);
        mlp__pool_run(pool, nt < c.tasks ? nt : c.tasks, FN(reduce_task), &c);
    }
    p->n_parts = 0;
    if (keep) {
        p->n_parts = c.tasks;
        for (uint32_t t = 0; t < c.tasks; t++) p->parts[t] = c.grads[t];
    } else {
        mlp__pool_release(pool);
    }
    if (c.nomem) return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a %zu-byte workspace", c.ws_bytes);

    double loss = 0;
    uint64_t correct = 0;
    for (uint32_t t = 0; t < c.tasks; t++) {
        loss += c.loss[t];
        correct += c.correct[t];
    }
    p->t_forward += c.tf[0];
    p->t_backward += c.tb[0];
    FN(finish)(p, p->grad, loss, correct);
    return MLP_OK;
}
