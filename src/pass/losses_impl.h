/* SPDX-License-Identifier: MIT */
/* Output heads (last activation + loss) and accuracy, written once and
 * included by forward.c per element type.  With n rows in the whole pass and
 * K outputs:
 *   softmax-ce:  loss_i = logsumexp(z) - z[y],    dZ = (softmax(z) - onehot(y)) / n
 *   sigmoid-bce: loss_i = sum_k max(z,0) - y z + log1p(exp(-|z|)),  dZ = (a - y) / n
 *   *-mse:       loss_i = 1/(2K) sum_k (a - y)^2,  dZ = (a - y) act'(a) / (n K)
 * The BCE form above is -(y log a + (1-y) log(1-a)) written so that it never
 * takes the log of 0 and never overflows. */

/* Target k of row r: one-hot of the label (K > 1), the label itself (K = 1),
 * or the real target. */
static inline double FN(target)(const struct mlp_dataset *ds, uint64_t r, uint32_t k, uint32_t K)
{
    if (ds->labels) return K == 1 ? (double)ds->labels[r] : (double)(ds->labels[r] == (int32_t)k);
    return ds->targets[(size_t)r * K + k];
}

/* softmax-ce on rows [0, nb) of Z, in groups of 64 rows: the shifted
 * exponents of a whole group go through one vector exp loop (glibc's
 * libmvec where there is one, forward.c), instead of 2K scalar exp calls
 * a row (on W3, 15% of an iteration).  Per row, with t = z - max z:
 *   e = exp(max(t, -EXP_CLIP)),  s = sum e (in double),  a = e / s,
 *   loss = log s - t[y]. */
static double FN(softmax_head)(const struct mlp_dataset *ds, const struct mlp_pass *p, uint64_t r0, uint32_t nb,
                               uint32_t K, T *Z, T *D, double inv_n, bool have_y)
{
    double loss = 0;
    for (uint32_t i0 = 0; i0 < nb; i0 += 64) {
        const uint32_t n = nb - i0 < 64 ? nb - i0 : 64;
        T *zb = Z + (size_t)i0 * K;
        double ty[64] = {0};
        int32_t y[64] = {0};
        for (uint32_t i = 0; i < n; i++) {
            T *z = zb + (size_t)i * K;
            T zmax = z[0];
            for (uint32_t k = 1; k < K; k++) zmax = z[k] > zmax ? z[k] : zmax;
            if (have_y) {
                uint64_t r = p->rows ? p->rows[r0 + i0 + i] : p->row0 + r0 + i0 + i;
                y[i] = ds->labels[r];
                ty[i] = (double)z[y[i]] - (double)zmax;
            }
            /* clipped as in activations_impl.h: no underflow traps */
            for (uint32_t k = 0; k < K; k++) z[k] = z[k] - zmax < -EXP_CLIP ? -EXP_CLIP : z[k] - zmax;
        }
        FN(vexp)(p->m, zb, (size_t)n * K);
        for (uint32_t i = 0; i < n; i++) {
            T *z = zb + (size_t)i * K;
            double s = 0;
            for (uint32_t k = 0; k < K; k++) s += (double)z[k];
            if (have_y) loss += log(s) - ty[i];
            for (uint32_t k = 0; k < K; k++) z[k] = (T)((double)z[k] / s);
            if (D && have_y) {
                T *dz = D + (size_t)(i0 + i) * K;
                for (uint32_t k = 0; k < K; k++) dz[k] = (T)(((double)z[k] - (y[i] == (int32_t)k)) * inv_n);
            }
        }
    }
    return loss;
}

/* The output head on one block: Z (nb x K) holds the pre-activations of the
 * last layer on entry; on exit Z holds the output activations and D the
 * gradient dLoss/dZ (when D != NULL).  Returns the block's summed loss. */
static double FN(head)(const struct mlp_model *m, const struct mlp_dataset *ds,
                       struct mlp_pass *p, uint64_t r0, uint32_t nb, T *Z, T *D,
                       double inv_n, bool have_y)
{
    const uint32_t K = mlp__n_out(m);
    if (m->head == MLP_HEAD_SOFTMAX_CE) return FN(softmax_head)(ds, p, r0, nb, K, Z, D, inv_n, have_y);
    double loss = 0;
    for (uint32_t i = 0; i < nb; i++) {
        T *z = Z + (size_t)i * K;
        T *dz = D ? D + (size_t)i * K : NULL;
        uint64_t r = p->rows ? p->rows[r0 + i] : p->row0 + r0 + i;
        if (m->head == MLP_HEAD_SIGMOID_BCE) {
            for (uint32_t k = 0; k < K; k++) {
                /* clipped for T's range: no exp over/underflow, nor in the narrowing */
                double zk = (double)z[k], zc = fmin(fmax(zk, -(double)EXP_CLIP), (double)EXP_CLIP);
                double a = 1.0 / (1.0 + exp(-zc));
                if (have_y) {
                    double y = FN(target)(ds, r, k, K);
                    loss += (zk > 0 ? zk : 0) - y * zk + log1p(exp(-fabs(zc)));
                    if (dz) dz[k] = (T)((a - y) * inv_n);
                }
                z[k] = (T)a;
            }
        } else {
            FN(activate)(m, mlp__head_act(m->head), (T)m->leaky_slope, z, K);
            if (have_y) {
                double sq = 0;
                for (uint32_t k = 0; k < K; k++) {
                    double e = (double)z[k] - FN(target)(ds, r, k, K);
                    sq += e * e;
                    if (dz) dz[k] = (T)(e * inv_n / K);
                }
                loss += 0.5 * sq / K;
                if (dz) FN(mul_dact)(m, mlp__head_act(m->head), (T)m->leaky_slope, z, dz, K);
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
    if (K == 1) /* the target is the label itself, 0 or 1, whatever the head */
        return (a[0] > (T)0.5) == (ds->labels[r] == 1);
    uint32_t best = 0;
    for (uint32_t k = 1; k < K; k++)
        if (a[k] > a[best]) best = k;
    return (int32_t)best == ds->labels[r];
}
