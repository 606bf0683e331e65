/* SPDX-License-Identifier: MIT */
/* The forward/backward pass over a set of rows, written once and included by
 * forward.c for each element type (T, SUF, GEMM defined by the includer).
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
 * Output heads (n = rows in the whole pass, K = outputs):
 *   softmax-ce:  loss_i = logsumexp(z) - z[y],    dZ = (softmax(z) - onehot(y)) / n
 *   sigmoid-bce: loss_i = sum_k max(z,0) - y z + log1p(exp(-|z|)),  dZ = (a - y) / n
 *   *-mse:       loss_i = 1/(2K) sum_k (a - y)^2,  dZ = (a - y) act'(a) / (n K)
 */

#define FN_(name, suf) name##_##suf
#define FN__(name, suf) FN_(name, suf)
#define FN(name) FN__(name, SUF)

static void FN(load_block)(const struct mlp_model *m, const struct mlp_dataset *ds,
                           const struct mlp_pass *p, uint64_t r0, uint32_t nb, T *X)
{
    const uint32_t d = ds->n_cols;
    const T scale = (T)m->input_scale;
    for (uint32_t i = 0; i < nb; i++) {
        uint64_t r = p->rows ? p->rows[r0 + i] : p->row0 + r0 + i;
        T *dst = X + (size_t)i * d;
        size_t off = (size_t)r * d;
        switch (ds->x_type) {
        case MLP_ELEM_U8: {
            const uint8_t *s = (const uint8_t *)ds->x + off;
            for (uint32_t j = 0; j < d; j++) dst[j] = (T)s[j] * scale;
            break;
        }
        case MLP_ELEM_F32: {
            const float *s = (const float *)ds->x + off;
            for (uint32_t j = 0; j < d; j++) dst[j] = (T)s[j] * scale;
            break;
        }
        case MLP_ELEM_F64: {
            const double *s = (const double *)ds->x + off;
            for (uint32_t j = 0; j < d; j++) dst[j] = (T)(s[j] * m->input_scale);
            break;
        }
        }
    }
}

static void FN(activate)(enum mlp_act act, T slope, T *z, size_t n)
{
    switch (act) {
    case MLP_ACT_IDENTITY: break;
    case MLP_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) z[i] = (T)1 / ((T)1 + EXP(-z[i]));
        break;
    case MLP_ACT_TANH:
        for (size_t i = 0; i < n; i++) z[i] = TANH(z[i]);
        break;
    case MLP_ACT_RELU:
        for (size_t i = 0; i < n; i++) z[i] = z[i] > 0 ? z[i] : 0;
        break;
    case MLP_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) z[i] = z[i] > 0 ? z[i] : slope * z[i];
        break;
    case MLP_ACT_COUNT: break;
    }
}

/* d *= act'(z), with act'(z) computed from a = act(z). */
static void FN(mul_dact)(enum mlp_act act, T slope, const T *a, T *d, size_t n)
{
    switch (act) {
    case MLP_ACT_IDENTITY: break;
    case MLP_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) d[i] *= a[i] * ((T)1 - a[i]);
        break;
    case MLP_ACT_TANH:
        for (size_t i = 0; i < n; i++) d[i] *= (T)1 - a[i] * a[i];
        break;
    case MLP_ACT_RELU:
        for (size_t i = 0; i < n; i++) d[i] = a[i] > 0 ? d[i] : 0;
        break;
    case MLP_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) d[i] = a[i] > 0 ? d[i] : slope * d[i];
        break;
    case MLP_ACT_COUNT: break;
    }
}

/* Target k of row r: one-hot of the label (K > 1), the label itself (K = 1),
 * or the real target. */
static inline double FN(target)(const struct mlp_dataset *ds, uint64_t r, uint32_t k, uint32_t K)
{
    if (ds->labels) return K == 1 ? (double)ds->labels[r] : (double)(ds->labels[r] == (int32_t)k);
    return ds->targets[(size_t)r * K + k];
}

/* The output head on one block: Z (nb x K) holds the pre-activations of the
 * last layer on entry; on exit Z holds the output activations and D the
 * gradient dLoss/dZ (when D != NULL).  Returns the block's summed loss. */
static double FN(head)(const struct mlp_model *m, const struct mlp_dataset *ds,
                       struct mlp_pass *p, uint64_t r0, uint32_t nb, T *Z, T *D,
                       double inv_n, bool have_y)
{
    const uint32_t K = mlp__n_out(m);
    double loss = 0;
    for (uint32_t i = 0; i < nb; i++) {
        T *z = Z + (size_t)i * K;
        T *dz = D ? D + (size_t)i * K : NULL;
        uint64_t r = p->rows ? p->rows[r0 + i] : p->row0 + r0 + i;
        if (m->head == MLP_HEAD_SOFTMAX_CE) {
            T zmax = z[0];
            for (uint32_t k = 1; k < K; k++) zmax = z[k] > zmax ? z[k] : zmax;
            double s = 0;
            for (uint32_t k = 0; k < K; k++) s += EXP(z[k] - zmax);
            double lse = (double)zmax + log(s);
            if (have_y) loss += lse - (double)z[ds->labels[r]];
            for (uint32_t k = 0; k < K; k++) z[k] = (T)exp((double)z[k] - lse);
            if (dz)
                for (uint32_t k = 0; k < K; k++)
                    dz[k] = (T)(((double)z[k] - (ds->labels[r] == (int32_t)k)) * inv_n);
        } else if (m->head == MLP_HEAD_SIGMOID_BCE) {
            for (uint32_t k = 0; k < K; k++) {
                double zk = (double)z[k];
                double a = 1.0 / (1.0 + exp(-zk));
                if (have_y) {
                    double y = FN(target)(ds, r, k, K);
                    loss += (zk > 0 ? zk : 0) - y * zk + log1p(exp(-fabs(zk)));
                    if (dz) dz[k] = (T)((a - y) * inv_n);
                }
                z[k] = (T)a;
            }
        } else {
            FN(activate)(mlp__head_act(m->head), (T)m->leaky_slope, z, K);
            if (have_y) {
                double sq = 0;
                for (uint32_t k = 0; k < K; k++) {
                    double e = (double)z[k] - FN(target)(ds, r, k, K);
                    sq += e * e;
                    if (dz) dz[k] = (T)(e * inv_n / K);
                }
                loss += 0.5 * sq / K;
                if (dz) FN(mul_dact)(mlp__head_act(m->head), (T)m->leaky_slope, z, dz, K);
            }
        }
    }
    return loss;
}

/* Is row r classified correctly by output activations a (K values)? */
static bool FN(is_correct)(const struct mlp_model *m, const struct mlp_dataset *ds,
                           uint64_t r, const T *a)
{
    const uint32_t K = mlp__n_out(m);
    if (K == 1) {
        T thr = m->head == MLP_HEAD_TANH_MSE ? (T)0 : (T)0.5;
        return (a[0] > thr) == (ds->labels[r] == 1);
    }
    uint32_t best = 0;
    for (uint32_t k = 1; k < K; k++)
        if (a[k] > a[best]) best = k;
    return (int32_t)best == ds->labels[r];
}

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
    }
    loss *= inv_n;

    /* L2 over weights only (seed 001): + l2/(2n) sum w^2, dW += (l2/n) W */
    if (p->l2 != 0) {
        double sq = 0, c = p->l2 * inv_n;
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

#undef FN
#undef FN_
#undef FN__
