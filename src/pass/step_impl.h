/* SPDX-License-Identifier: MIT */
/* One training step on a mini-batch with every layer split over the pool's
 * threads by output units (model-parallel), the optimiser's update included.
 * Written once and included by forward.c per element type (T, SUF, GEMM, FN
 * defined there), after pass_impl.h, whose helpers it uses.
 *
 * Why: split by rows (pass_impl.h's fast stage), each thread of a 64-row
 * batch reads all the weights, writes a whole private gradient, and the
 * optimiser then reads the parts of both threads after a second hand-off.
 * On W5 (235k parameters, 2 threads) that is ~6 MB of traffic a step
 * beyond the weights, and Adam ran at DRAM speed.  Split by units, thread t
 * owns the units U_t of every layer: it reads only their weights forward,
 * writes only their gradient (over the whole batch, so there are no parts
 * to add), and updates them itself right after, while they are in its cache.
 *
 * Per layer l (weights W: n_out x n_in), thread t owning units U_t of l and
 * V_t of l-1 (the slices of mlp__pool_slice, whole cache lines each):
 *   forward:  Z[:, U_t] = A W[U_t]^T + b[U_t], act            barrier
 *   head:     rows split over the threads                        barrier
 *   backward: dW[U_t] = dZ[:, U_t]^T A,  db[U_t] = column sums of dZ[:, U_t]
 *             dZ_prev[:, V_t] = (dZ W[:, V_t]) * act'(A[:, V_t])  barrier
 *             update(W[U_t], b[U_t]): no thread reads them again this step
 * Each thread converts the whole batch's inputs itself (cheap beside the
 * first layer), so the inputs need no barrier.  Every element is computed
 * by one thread with fixed shapes, so the results depend on the thread count
 * only (not on timing). */

struct FN(step_ctx) {
    struct mlp_pass *p;
    void (*update)(void *ctx, size_t lo, size_t hi);
    void *update_ctx;
    uint32_t nt;
    T **A, **D;                   /* shared: A[l+1], D[l+1] = layer l's output and its dLoss/dZ */
    T *in[MLP_FAST_MAX_TASKS];    /* each thread's copy of the inputs (A[0]) */
    struct mlp_barrier bar;
    double loss[MLP_FAST_MAX_TASKS], tf, tb;
    uint64_t correct[MLP_FAST_MAX_TASKS];
};

/* Bytes of the shared buffers: A[1..L] and D[1..L] (B x n_out each), then
 * the two pointer arrays. */
static size_t FN(step_shared_bytes)(const struct mlp_model *m, uint32_t B)
{
    size_t elems = 0;
    for (uint32_t l = 0; l < m->n_layers; l++) elems += 2 * (size_t)B * ((m->layers[l].n_out + 15) / 16 * 16);
    return elems * sizeof(T) + 2 * (m->n_layers + 1) * sizeof(T *);
}

static void FN(step_task)(void *vc, uint32_t t)
{
    struct FN(step_ctx) *c = vc;
    struct mlp_pass *p = c->p;
    const struct mlp_model *m = p->m;
    const uint32_t L = m->n_layers, nt = c->nt, B = (uint32_t)p->n, K = mlp__n_out(m);
    const size_t line = 64 / sizeof(T);
    const T *W = m->params;
    T *grad = p->grad;
    const T slope = (T)m->leaky_slope;
    size_t lo, hi;

    double t0 = mlp__now();
    FN(load_block)(m, p->ds, p, 0, B, c->in[t]);
    for (uint32_t l = 0; l < L; l++) {
        const struct mlp_layer *ly = &m->layers[l];
        const T *A = l ? c->A[l] : c->in[t];
        T *Z = c->A[l + 1];
        mlp__pool_slice(ly->n_out, t, nt, line, &lo, &hi);
        if (hi > lo) {
            for (uint32_t i = 0; i < B; i++)
                memcpy(Z + (size_t)i * ly->n_out + lo, W + ly->b_off + lo, (hi - lo) * sizeof(T));
            GEMM(MLP_BACKEND_BLAS, false, true, (int)B, (int)(hi - lo), (int)ly->n_in, (T)1, A, (int)ly->n_in,
                 W + ly->w_off + lo * ly->n_in, (int)ly->n_in, (T)1, Z + lo, (int)ly->n_out);
            if (l + 1 < L)
                for (uint32_t i = 0; i < B; i++) FN(activate)(m, ly->act, slope, Z + (size_t)i * ly->n_out + lo, hi - lo);
        }
        mlp__barrier_wait(&c->bar);
    }

    /* the head, split by rows */
    mlp__pool_slice(B, t, nt, 1, &lo, &hi);
    if (hi > lo) {
        T *Z = c->A[L] + lo * K;
        c->loss[t] = FN(head)(m, p->ds, p, lo, (uint32_t)(hi - lo), Z, c->D[L] + lo * K, 1.0 / (double)B, true);
        for (size_t i = 0; i < hi - lo && p->ds->labels; i++) {
            uint64_t r = p->rows ? p->rows[lo + i] : p->row0 + lo + i;
            c->correct[t] += FN(is_correct)(m, p->ds, r, Z + i * K);
        }
    }
    mlp__barrier_wait(&c->bar);
    double t1 = mlp__now();

    for (uint32_t l = L; l-- > 0;) {
        const struct mlp_layer *ly = &m->layers[l];
        const T *A = l ? c->A[l] : c->in[t];
        const T *dZ = c->D[l + 1];
        size_t ulo, uhi;
        mlp__pool_slice(ly->n_out, t, nt, line, &ulo, &uhi);
        if (uhi > ulo) {
            GEMM(MLP_BACKEND_BLAS, true, false, (int)(uhi - ulo), (int)ly->n_in, (int)B, (T)1, dZ + ulo,
                 (int)ly->n_out, A, (int)ly->n_in, (T)0, grad + ly->w_off + ulo * ly->n_in, (int)ly->n_in);
            T *gb = grad + ly->b_off;
            memset(gb + ulo, 0, (uhi - ulo) * sizeof(T));
            for (uint32_t i = 0; i < B; i++)
                for (size_t j = ulo; j < uhi; j++) gb[j] += dZ[(size_t)i * ly->n_out + j];
        }
        if (l > 0) {
            T *dA = c->D[l];
            mlp__pool_slice(ly->n_in, t, nt, line, &lo, &hi);
            if (hi > lo) {
                GEMM(MLP_BACKEND_BLAS, false, false, (int)B, (int)(hi - lo), (int)ly->n_out, (T)1, dZ,
                     (int)ly->n_out, W + ly->w_off + lo, (int)ly->n_in, (T)0, dA + lo, (int)ly->n_in);
                for (uint32_t i = 0; i < B; i++)
                    FN(mul_dact)(m, m->layers[l - 1].act, slope, c->A[l] + (size_t)i * ly->n_in + lo,
                                 dA + (size_t)i * ly->n_in + lo, hi - lo);
            }
            /* dZ_prev complete, and W read for the last time this step */
            mlp__barrier_wait(&c->bar);
        }
        if (uhi > ulo) {
            c->update(c->update_ctx, ly->w_off + ulo * ly->n_in, ly->w_off + uhi * ly->n_in);
            c->update(c->update_ctx, ly->b_off + ulo, ly->b_off + uhi);
        }
    }
    if (t == 0) {
        c->tf = t1 - t0;
        c->tb = mlp__now() - t1;
    }
}

/* Run the step when its conditions hold (see mlp__run_step); *done says
 * whether it ran. */
static enum mlp_status FN(run_step)(struct mlp_pass *p, void (*update)(void *, size_t, size_t), void *update_ctx,
                                    bool *done, struct mlp_error *err)
{
    const struct mlp_model *m = p->m;
    const uint32_t L = m->n_layers, B = (uint32_t)p->n;
    *done = false;
    struct mlp_pool *pool = mlp__model_pool(m);
    if (!mlp__pool_acquire(pool)) return MLP_OK;
    uint32_t nt = mlp__pool_gang(pool);
    if (nt > MLP_FAST_MAX_TASKS) nt = MLP_FAST_MAX_TASKS;
    if (nt < 2 || !step_pays(m, B, nt, sizeof(T))) {
        mlp__pool_release(pool);
        return MLP_OK;
    }
    struct FN(step_ctx) c = {.p = p, .update = update, .update_ctx = update_ctx, .nt = nt};
    mlp__barrier_init(&c.bar, nt);
    size_t shared = FN(step_shared_bytes)(m, B), in_bytes = (size_t)B * mlp__n_in(m) * sizeof(T);
    char *s = mlp__pool_scratch(pool, 0, 1, shared);
    bool ok = s != NULL;
    for (uint32_t t = 0; t < nt && ok; t++) ok = (c.in[t] = mlp__pool_scratch(pool, t, 0, in_bytes)) != NULL;
    if (!ok) {
        mlp__pool_release(pool);
        return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate a %zu-byte workspace", shared + nt * in_bytes);
    }
    c.A = (T **)(void *)(s + shared - 2 * (L + 1) * sizeof(T *));
    c.D = c.A + L + 1;
    T *e = (T *)(void *)s;
    for (uint32_t l = 0; l < L; l++) {
        size_t n = (size_t)B * ((m->layers[l].n_out + 15) / 16 * 16);
        c.A[l + 1] = e;
        c.D[l + 1] = e + n;
        e += 2 * n;
    }
    mlp__pool_run(pool, nt, FN(step_task), &c);
    mlp__pool_release(pool);

    double loss = 0;
    uint64_t correct = 0;
    for (uint32_t t = 0; t < nt; t++) {
        loss += c.loss[t];
        correct += c.correct[t];
    }
    p->t_forward += c.tf;
    p->t_backward += c.tb;
    FN(finish)(p, p->grad, loss, correct);
    *done = true;
    return MLP_OK;
}
