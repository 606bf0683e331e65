/* SPDX-License-Identifier: MIT */
/* Reading rows of a data set into a block of the model's element type:
 * stored type (uint8 pixels, f32, f64) converted, scaled by the model's input
 * scale, and standardised when the model carries a mean and std.  Written
 * once and included (T, SUF, FN defined by the includer) by every pass: the
 * batched one (pass_impl.h) and the ladder's per-sample stages. */

static void FN(load_block)(const struct mlp_model *m, const struct mlp_dataset *ds,
                           const struct mlp_pass *p, uint64_t r0, uint32_t nb, T *X)
{
    const uint32_t d = ds->n_cols;
    const T scale = (T)m->input_scale;
    for (uint32_t i = 0; i < nb; i++) {
        uint64_t r = p->rows ? p->rows[r0 + i] : p->row0 + r0 + i;
        T *dst = X + (size_t)i * d;
        size_t off = (size_t)r * d;
        if (m->pre_mean) {
            /* In double from the stored value: an input near the f32 limit
             * (1e300 in an f64 CSV) is only representable once standardised. */
            const double *mu = m->pre_mean, *inv = m->pre_inv_std, sc = m->input_scale;
            for (uint32_t j = 0; j < d; j++) {
                double v = ds->x_type == MLP_ELEM_U8 ? ((const uint8_t *)ds->x)[off + j]
                           : ds->x_type == MLP_ELEM_F32 ? ((const float *)ds->x)[off + j]
                                                        : ((const double *)ds->x)[off + j];
                dst[j] = (T)((v * sc - mu[j]) * inv[j]);
            }
            continue;
        }
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
