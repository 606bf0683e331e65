/* SPDX-License-Identifier: MIT */
/* The CUDA backend's per-element arithmetic (src/device/cuda/dev_math.h,
 * the functions its kernels call) run on the host against the library's
 * CPU code, f32 and f64: input conversion and the heads through the real
 * CPU pass (an identity layer in front, so the pass's numbers are the
 * function's), activations and Adam through the portable kernel table, SGD
 * through train/optim, the class of a row through mlp__class_of.
 *
 * Tolerances: bit-exact wherever both sides do the same operations in the
 * same order and type (conversion, derivatives, relu/leaky relu, the BCE
 * head (both call glibc's double exp/log1p), identity-MSE, class, SGD,
 * Adam); a few ulp where the CPU goes through glibc's vector exp/tanh
 * (libmvec, kernels/mvec.h) and dev_math.h through the scalar ones, which
 * may differ in the last bit or two (sigmoid, tanh, softmax, sigmoid/tanh
 * MSE).  With FMA in the build (-march=native) the library's loops may
 * contract a multiply-add that this test's strict C11 does not: then a
 * couple of ulp there too.  The GPU's own exp/tanh/log (CUDA's libdevice,
 * within 1-2 ulp) cannot be checked here: that waits for a GPU. */
#include "check.h"
#include "testutil.h"

#include "device/cuda/dev_math.h"
#include "internal.h"
#include "kernels/ktable.h"
#include "train/optim/optim.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#ifdef __FMA__
#define FMA_ULP 2 /* the library's loops may fuse a multiply-add (see the top) */
#else
#define FMA_ULP 0
#endif

static const struct mlp_ktable *kt;

/* Distance in units in the last place (0 for equal values, -0 == +0;
 * NaN against NaN counts as equal): magnitudes of the bit patterns,
 * subtracted on one side of zero, added across it. */
static uint64_t ulp_f32(float a, float b)
{
    if ((a != a && b != b) || a == b) return 0;
    uint32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    const uint64_t ma = ia & 0x7fffffffu, mb = ib & 0x7fffffffu;
    if ((ia >> 31) != (ib >> 31)) return ma + mb;
    return ma > mb ? ma - mb : mb - ma;
}

static uint64_t ulp_f64(double a, double b)
{
    if ((a != a && b != b) || a == b) return 0;
    uint64_t ia, ib;
    memcpy(&ia, &a, 8);
    memcpy(&ib, &b, 8);
    const uint64_t ma = ia & 0x7fffffffffffffffull, mb = ib & 0x7fffffffffffffffull;
    if ((ia >> 63) != (ib >> 63)) return ma + mb;
    return ma > mb ? ma - mb : mb - ma;
}

/* Values for the element functions: the clipping bounds of both types and
 * either side of them, zeros, tiny and huge ones, then random ones. */
#define N_VALS 3000
static double vals[N_VALS];

static void make_vals(void)
{
    static const double hand[] = {0.0, -0.0, 1e-30, -1e-30, 1e-5, -1e-5, 0.5, -0.5, 1, -1, 3, -3, 10, -10,
                                  20, -20, 79.5, -79.5, 80, -80, 80.5, -80.5, 88, -88, 100, -100, 699.5,
                                  -699.5, 700, -700, 700.5, -700.5, 1000, -1000, 1e30, -1e30};
    struct mlp_rng r;
    mlp__rng_seed(&r, 17);
    size_t n = sizeof hand / sizeof hand[0];
    memcpy(vals, hand, sizeof hand);
    for (size_t i = n; i < N_VALS; i++) {
        double u = mlp__rng_uniform(&r) * 2 - 1;
        vals[i] = i % 3 == 0 ? u * 1000 : i % 3 == 1 ? u * 20 : u * 3;
    }
}

/* ------------------------------------------------------------ activations */

static void act_cases(void)
{
    const double slope = 0.01;
    static float zf[N_VALS], df[N_VALS], gf[N_VALS];
    static double zd[N_VALS], dd[N_VALS], gd[N_VALS];
    struct mlp_rng r;
    mlp__rng_seed(&r, 5);
    for (int act = 0; act < MLP_ACT_COUNT; act++) {
        /* sigmoid and tanh: glibc's vector exp/tanh on the CPU, the scalar ones here */
        /* (measured: up to 3 ulp f32, 4 f64, with glibc 2.36) */
        const uint64_t tol = act == MLP_ACT_SIGMOID || act == MLP_ACT_TANH ? 8 : 0;
        for (size_t i = 0; i < N_VALS; i++) {
            zf[i] = (float)vals[i];
            zd[i] = vals[i];
        }
        kt->act_f32((enum mlp_act)act, (float)slope, zf, N_VALS);
        kt->act_f64((enum mlp_act)act, slope, zd, N_VALS);
        uint64_t wf = 0, wd = 0;
        size_t at_f = 0, at_d = 0;
        for (size_t i = 0; i < N_VALS; i++) {
            uint64_t uf = ulp_f32(mlp_dm_act_f32(act, (float)slope, (float)vals[i]), zf[i]);
            uint64_t ud = ulp_f64(mlp_dm_act_f64(act, slope, vals[i]), zd[i]);
            if (uf > wf) wf = uf, at_f = i;
            if (ud > wd) wd = ud, at_d = i;
        }
        CHECK_MSG(wf <= tol, "act %d f32: %llu ulp at z = %.9g (tolerance %llu)", act, (unsigned long long)wf,
                  vals[at_f], (unsigned long long)tol);
        CHECK_MSG(wd <= tol, "act %d f64: %llu ulp at z = %.17g (tolerance %llu)", act, (unsigned long long)wd,
                  vals[at_d], (unsigned long long)tol);

        /* the derivative from the CPU's own outputs: the same operations, bit-exact */
        for (size_t i = 0; i < N_VALS; i++) {
            double u = mlp__rng_uniform(&r) * 2 - 1;
            df[i] = gf[i] = (float)u;
            dd[i] = gd[i] = u;
        }
        kt->dact_f32((enum mlp_act)act, (float)slope, zf, df, N_VALS);
        kt->dact_f64((enum mlp_act)act, slope, zd, dd, N_VALS);
        wf = wd = 0;
        for (size_t i = 0; i < N_VALS; i++) {
            uint64_t uf = ulp_f32(mlp_dm_dact_f32(act, (float)slope, zf[i], gf[i]), df[i]);
            uint64_t ud = ulp_f64(mlp_dm_dact_f64(act, slope, zd[i], gd[i]), dd[i]);
            if (uf > wf) wf = uf;
            if (ud > wd) wd = ud;
        }
        CHECK_MSG(wf <= FMA_ULP && wd <= FMA_ULP, "dact %d: %llu / %llu ulp (f32 / f64)", act,
                  (unsigned long long)wf, (unsigned long long)wd);
    }
}

/* ------------------------------------------------------------ a model with an identity layer */

/* A model of one K x K layer with identity weights and zero biases on a
 * portable-kernel context: its pre-activations are its inputs exactly
 * (1 * x plus zeros), so a pass shows the head's numbers and predict (with
 * an identity head) the input conversion's. */
static struct mlp_model *identity_model(enum mlp_dtype dt, uint32_t K, enum mlp_head head, double input_scale)
{
    struct mlp_model *m = test_model(dt, K, 0, NULL, K, head, input_scale);
    if (!m) return NULL;
    void *w = mlp_model_params(m);
    memset(w, 0, mlp_model_n_params(m) * (dt == MLP_F32 ? 4 : 8));
    const size_t wo = m->layers[0].w_off;
    for (uint32_t k = 0; k < K; k++) {
        if (dt == MLP_F32)
            ((float *)w)[wo + (size_t)k * K + k] = 1;
        else
            ((double *)w)[wo + (size_t)k * K + k] = 1;
    }
    return m;
}

/* ------------------------------------------------------------ input conversion */

static void input_case(enum mlp_dtype dt, enum mlp_elem xt, double scale, bool standardise)
{
    /* 20 inputs: more than pass.h's MLP_NARROW_MAX, so uint8 data takes the
     * plain conversion (the fused kernel scales the dot product instead) */
    enum { D = 20, ROWS = 50 };
    struct mlp_model *m = identity_model(dt, D, MLP_HEAD_IDENTITY_MSE, scale);
    if (!m) return;
    struct mlp_rng r;
    mlp__rng_seed(&r, (uint64_t)xt * 7 + (uint64_t)standardise);
    static uint8_t xu[ROWS * D];
    static float xf[ROWS * D];
    static double xd[ROWS * D], out[ROWS * D];
    for (size_t i = 0; i < ROWS * D; i++) {
        double u = (mlp__rng_uniform(&r) * 2 - 1) * (i % 5 == 0 ? 3e4 : 7);
        xu[i] = (uint8_t)mlp__rng_below(&r, 256);
        xf[i] = (float)u;
        xd[i] = u;
    }
    if (standardise) {
        double mean[D], sd[D];
        for (int j = 0; j < D; j++) {
            mean[j] = (mlp__rng_uniform(&r) - 0.5) * 10;
            sd[j] = 0.1 + mlp__rng_uniform(&r) * 30;
        }
        CHECK_STATUS(mlp_model_set_standardize(m, mean, sd, NULL), MLP_OK);
    }
    const void *x = xt == MLP_ELEM_U8 ? (const void *)xu : xt == MLP_ELEM_F32 ? (const void *)xf : (const void *)xd;
    struct mlp_dataset ds = {.n_rows = ROWS, .n_cols = D, .x_type = xt, .x = x};
    CHECK_STATUS(mlp_model_predict(m, &ds, NULL, out, NULL), MLP_OK);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < ROWS * D; i++) {
        const uint32_t j = (uint32_t)(i % D);
        double v = dt == MLP_F32 ? (double)mlp_dm_input_f32(xt, x, i, scale, m->pre_mean, m->pre_inv_std, j)
                                 : mlp_dm_input_f64(xt, x, i, scale, m->pre_mean, m->pre_inv_std, j);
        if (v != out[i] && !bad++) first = i;
    }
    CHECK_MSG(bad == 0, "input %s x_type %d scale %g standardise %d: %zu values differ, first %.17g vs %.17g",
              mlp_dtype_name(dt), (int)xt, scale, (int)standardise, bad, out[first],
              dt == MLP_F32 ? (double)mlp_dm_input_f32(xt, x, first, scale, m->pre_mean, m->pre_inv_std,
                                                       (uint32_t)(first % D))
                            : mlp_dm_input_f64(xt, x, first, scale, m->pre_mean, m->pre_inv_std, (uint32_t)(first % D)));
    mlp_model_free(m);
}

/* ------------------------------------------------------------ heads */

/* Tolerance (absolute, for values of size about 1) of the head's outputs
 * and deltas: 0 where both sides compute the same, else a few ulp of T
 * (the CPU's vector exp/tanh against the scalar ones). */
static double head_tol(enum mlp_dtype dt, enum mlp_head h)
{
    const double eps = dt == MLP_F32 ? FLT_EPSILON : DBL_EPSILON;
    if (h == MLP_HEAD_SOFTMAX_CE || h == MLP_HEAD_SIGMOID_MSE || h == MLP_HEAD_TANH_MSE) return 8 * eps;
    return FMA_ULP * eps;
}

/* Rows of logits through the CPU pass one row at a time (so the pass's
 * loss is the row's, its bias gradient the row's dz) and through
 * mlp_dm_head_row. */
static void head_case(enum mlp_dtype dt, enum mlp_head h, uint32_t K, bool targets)
{
    enum { ROWS = 300 };
    struct mlp_model *m = identity_model(dt, K, h, 1.0);
    if (!m) return;
    struct mlp_rng r;
    mlp__rng_seed(&r, (uint64_t)h * 100 + K);
    const size_t n = (size_t)ROWS * K;
    double *xd = malloc(n * 8), *tg = malloc(n * 8), *out = malloc(K * 8);
    float *xf = malloc(n * 4);
    int32_t *y = malloc(ROWS * 4);
    const size_t es = dt == MLP_F32 ? 4 : 8, np = mlp_model_n_params(m);
    void *g = malloc(np * es);
    float *zf = malloc(K * 4), *dzf = malloc(K * 4);
    double *zd = malloc(K * 8), *dzd = malloc(K * 8);
    for (uint32_t i = 0; i < ROWS; i++) {
        y[i] = (int32_t)mlp__rng_below(&r, K == 1 ? 2 : K);
        for (uint32_t k = 0; k < K; k++) {
            double u = mlp__rng_uniform(&r) * 2 - 1, v;
            switch (i % 8) {
            case 0: v = 0; break;                                    /* all equal */
            case 1: v = k == 0 ? 1000 : k == 1 ? -1000 : u; break;    /* extreme logits */
            case 2: v = k % 2 ? 1000 : -1000; break;
            case 3: v = (k % 2 ? 1 : -1) * (dt == MLP_F32 ? 80.5 : 700.5); break; /* around the clip */
            case 4: v = u * 1000; break;
            case 5: v = u * 30; break;
            default: v = u * 3; break;
            }
            xd[(size_t)i * K + k] = v;
            xf[(size_t)i * K + k] = (float)v;
            /* targets inside the head's range: (0, 1) for sigmoid, (-1, 1) for tanh */
            tg[(size_t)i * K + k] = h == MLP_HEAD_TANH_MSE ? u * 0.9 : h == MLP_HEAD_SIGMOID_MSE ? (u + 1) / 2 : u * 5;
        }
    }
    struct mlp_dataset ds = {.n_rows = ROWS, .n_cols = K, .x_type = dt == MLP_F32 ? MLP_ELEM_F32 : MLP_ELEM_F64,
                             .x = dt == MLP_F32 ? (const void *)xf : (const void *)xd};
    if (targets) {
        ds.targets = tg;
        ds.n_targets = K;
    } else {
        ds.labels = y;
        ds.n_classes = K == 1 ? 2 : K;
    }
    const double tol = head_tol(dt, h), eps = dt == MLP_F32 ? FLT_EPSILON : DBL_EPSILON;
    const size_t bo = m->layers[0].b_off;
    double worst_a = 0, worst_dz = 0, worst_loss = 0;
    int bad_class = 0;
    for (uint32_t i = 0; i < ROWS; i++) {
        struct mlp_pass p = {.m = m, .ds = &ds, .row0 = i, .n = 1, .backend = MLP_BACKEND_REF, .grad = g, .out = out};
        CHECK_STATUS(mlp__run_pass(&p, NULL), MLP_OK);
        const double *tgt = targets ? tg + (size_t)i * K : NULL;
        const int have_y = 1;
        double loss;
        uint32_t cls = 0;
        for (uint32_t k = 0; k < K; k++) {
            zf[k] = xf[(size_t)i * K + k];
            zd[k] = xd[(size_t)i * K + k];
        }
        if (dt == MLP_F32) {
            loss = mlp_dm_head_row_f32(h, 0.01f, K, zf, dzf, have_y, y[i], tgt, 1.0);
            cls = mlp_dm_class_of_f32(K, zf);
        } else {
            loss = mlp_dm_head_row_f64(h, 0.01, K, zd, dzd, have_y, y[i], tgt, 1.0);
            cls = mlp_dm_class_of_f64(K, zd);
        }
        for (uint32_t k = 0; k < K; k++) {
            double a = dt == MLP_F32 ? zf[k] : zd[k], dz = dt == MLP_F32 ? dzf[k] : dzd[k];
            double ga = dt == MLP_F32 ? ((float *)g)[bo + k] : ((double *)g)[bo + k];
            worst_a = fmax(worst_a, fabs(a - out[k]));
            worst_dz = fmax(worst_dz, fabs(dz - ga));
        }
        /* the loss in double from T values: off by the outputs' error, K of them */
        worst_loss = fmax(worst_loss, fabs(loss - p.loss) / (1 + fabs(p.loss)));
        if (!targets && (p.correct != 0) != ((int32_t)cls == y[i])) bad_class++;
    }
    const double tol_loss = tol == 0 ? 0 : (K + 1) * tol + 4 * eps;
    CHECK_MSG(worst_a <= tol && worst_dz <= tol && worst_loss <= tol_loss && bad_class == 0,
              "head %s %s K=%u %s: outputs off by %.3g, dz by %.3g (tolerance %.3g), loss by %.3g (%.3g), %d wrong "
              "classes",
              mlp_head_name(h), mlp_dtype_name(dt), K, targets ? "targets" : "labels", worst_a, worst_dz, tol,
              worst_loss, tol_loss, bad_class);
    free(xd), free(tg), free(out), free(xf), free(y), free(g), free(zf), free(dzf), free(zd), free(dzd);
    mlp_model_free(m);
}

/* Without targets the heads give the outputs alone: no loss, dz zeroed. */
static void head_no_y(void)
{
    float z[3] = {1, -2, 0.5f}, dz[3] = {7, 7, 7};
    for (int h = 0; h < MLP_HEAD_COUNT; h++) {
        float zz[3];
        memcpy(zz, z, sizeof z);
        double loss = mlp_dm_head_row_f32(h, 0.01f, 3, zz, dz, 0, 0, NULL, 1.0);
        CHECK_MSG(loss == 0 && dz[0] == 0 && dz[1] == 0 && dz[2] == 0, "head %d without targets: loss %g, dz %g %g %g",
                  h, loss, dz[0], dz[1], dz[2]);
        dz[0] = dz[1] = dz[2] = 7;
    }
}

/* ------------------------------------------------------------ class of a row */

static void class_cases(void)
{
    struct mlp_rng r;
    mlp__rng_seed(&r, 11);
    for (int t = 0; t < 2000; t++) {
        uint32_t K = 1 + (uint32_t)mlp__rng_below(&r, 12);
        float af[12];
        double ad[12];
        for (uint32_t k = 0; k < K; k++) {
            /* few distinct values: ties, where the first one must win */
            ad[k] = K == 1 ? 0.5 + (double)((int)mlp__rng_below(&r, 3) - 1) * 1e-9 : (double)mlp__rng_below(&r, 4) / 4;
            af[k] = (float)ad[k];
        }
        CHECK(mlp_dm_class_of_f32(K, af) == mlp__class_of(af, MLP_F32, K));
        CHECK(mlp_dm_class_of_f64(K, ad) == mlp__class_of(ad, MLP_F64, K));
    }
}

/* ------------------------------------------------------------ optimisers */

#define N_OPT 4096

static void sgd_cases(void)
{
    static float pf[N_OPT], gf[N_OPT], vf[N_OPT], qf[N_OPT], wf[N_OPT];
    static double pd[N_OPT], gd[N_OPT], vd[N_OPT], qd[N_OPT], wd[N_OPT];
    const double mus[] = {0, 0.9, 0.5};
    struct mlp_rng r;
    mlp__rng_seed(&r, 23);
    for (size_t c = 0; c < 3; c++)
        for (int nest = 0; nest < 2; nest++) {
            for (size_t i = 0; i < N_OPT; i++) {
                pd[i] = qd[i] = mlp__rng_uniform(&r) * 2 - 1;
                gd[i] = (mlp__rng_uniform(&r) * 2 - 1) * (i % 7 == 0 ? 1e3 : 1e-2);
                vd[i] = wd[i] = mlp__rng_uniform(&r) - 0.5;
                pf[i] = qf[i] = (float)pd[i];
                gf[i] = (float)gd[i];
                vf[i] = wf[i] = (float)vd[i];
            }
            const double lr = 0.0371, mu = mus[c];
            /* twice: the second step starts from the first's velocity */
            for (int step = 0; step < 2; step++) {
                mlp__sgd_f32(N_OPT, pf, gf, vf, (float)lr, (float)mu, nest);
                mlp__sgd_f64(N_OPT, pd, gd, vd, lr, mu, nest);
                for (size_t i = 0; i < N_OPT; i++) {
                    mlp_dm_sgd_f32(&qf[i], gf[i], &wf[i], (float)lr, (float)mu, nest);
                    mlp_dm_sgd_f64(&qd[i], gd[i], &wd[i], lr, mu, nest);
                }
            }
            uint64_t worst = 0;
            for (size_t i = 0; i < N_OPT; i++) {
                uint64_t u = ulp_f32(pf[i], qf[i]);
                u = u > ulp_f32(vf[i], wf[i]) ? u : ulp_f32(vf[i], wf[i]);
                u = u > ulp_f64(pd[i], qd[i]) ? u : ulp_f64(pd[i], qd[i]);
                u = u > ulp_f64(vd[i], wd[i]) ? u : ulp_f64(vd[i], wd[i]);
                if (u > worst) worst = u;
            }
            CHECK_MSG(worst <= FMA_ULP, "sgd mu %g nesterov %d: %llu ulp", mu, nest, (unsigned long long)worst);
        }
}

static void adam_cases(void)
{
    static float pf[N_OPT], gf[N_OPT], mf[N_OPT], vf[N_OPT], qf[N_OPT], nf[N_OPT], wf[N_OPT];
    static double pd[N_OPT], gd[N_OPT], md[N_OPT], vd[N_OPT], qd[N_OPT], nd[N_OPT], wd[N_OPT];
    struct mlp_rng r;
    mlp__rng_seed(&r, 29);
    for (size_t i = 0; i < N_OPT; i++) {
        pd[i] = qd[i] = mlp__rng_uniform(&r) * 2 - 1;
        gd[i] = (mlp__rng_uniform(&r) * 2 - 1) * (i % 7 == 0 ? 1e3 : i % 7 == 1 ? 1e-8 : 1e-2);
        md[i] = nd[i] = i % 3 ? (mlp__rng_uniform(&r) - 0.5) * 1e-2 : 0;
        vd[i] = wd[i] = i % 3 ? mlp__rng_uniform(&r) * 1e-4 : 0;
        pf[i] = qf[i] = (float)pd[i];
        gf[i] = (float)gd[i];
        mf[i] = nf[i] = (float)md[i];
        vf[i] = wf[i] = (float)vd[i];
    }
    for (uint64_t t = 1; t <= 3; t++) {
        /* lr_t and eps_t as adam.c computes them */
        const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        const double c1 = 1 - pow(b1, (double)t), c2 = sqrt(1 - pow(b2, (double)t));
        const double lr_t = lr * c2 / c1, eps_t = eps * c2;
        kt->adam_f32(N_OPT, pf, gf, NULL, mf, vf, (float)lr_t, (float)b1, (float)b2, (float)eps_t);
        kt->adam_f64(N_OPT, pd, gd, NULL, md, vd, lr_t, b1, b2, eps_t);
        for (size_t i = 0; i < N_OPT; i++) {
            mlp_dm_adam_f32(&qf[i], gf[i], &nf[i], &wf[i], (float)lr_t, (float)b1, (float)b2, (float)eps_t);
            mlp_dm_adam_f64(&qd[i], gd[i], &nd[i], &wd[i], lr_t, b1, b2, eps_t);
        }
    }
    uint64_t worst = 0;
    for (size_t i = 0; i < N_OPT; i++) {
        const uint64_t u[6] = {ulp_f32(pf[i], qf[i]), ulp_f32(mf[i], nf[i]), ulp_f32(vf[i], wf[i]),
                               ulp_f64(pd[i], qd[i]), ulp_f64(md[i], nd[i]), ulp_f64(vd[i], wd[i])};
        for (int k = 0; k < 6; k++)
            if (u[k] > worst) worst = u[k];
    }
    CHECK_MSG(worst <= FMA_ULP, "adam: %llu ulp", (unsigned long long)worst);
}

/* The L2 term's pieces and the weight scaling, against naive.inc's and
 * train.c's expressions (written out here: they are one operation each). */
static void small_cases(void)
{
    struct mlp_rng r;
    mlp__rng_seed(&r, 31);
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        const double w = mlp__rng_uniform(&r) * 2 - 1, g = mlp__rng_uniform(&r) - 0.5, c = mlp__rng_uniform(&r) * 1e-3;
        const float wf = (float)w, gf = (float)g;
        float gf2 = gf;
        gf2 += (float)(c * (double)wf);
        double gd2 = g;
        gd2 += (double)(c * w);
        bad += mlp_dm_l2_grad_f32(gf, wf, c) != gf2;
        bad += mlp_dm_l2_grad_f64(g, w, c) != gd2;
        bad += mlp_dm_sq_f32(wf) != (double)wf * (double)wf;
        bad += mlp_dm_sq_f64(w) != w * w;
        float sf = wf;
        sf *= (float)(1 - c);
        bad += mlp_dm_scale_f32(wf, (float)(1 - c)) != sf;
        bad += mlp_dm_scale_f64(w, 1 - c) != w * (1 - c);
    }
    CHECK_MSG(bad == 0, "l2/scale: %d differences", bad);
}

int main(void)
{
    struct mlp_error err = {0};
    kt = mlp__ktable(MLP_ISA_PORTABLE, &err);
    CHECK_MSG(kt != NULL, "portable kernel table: %s", err.msg);
    if (!kt) return check_report("test_dev_math");
    /* the models' passes and predictions on the portable kernels, one thread */
    if (!test_use_isa(1, MLP_KERNELS_BATCHED, MLP_ISA_PORTABLE)) test_use(1, MLP_KERNELS_BATCHED);
    make_vals();
    act_cases();
    const enum mlp_elem xts[3] = {MLP_ELEM_U8, MLP_ELEM_F32, MLP_ELEM_F64};
    const double scales[3] = {1.0 / 255, 1.0, 0.3};
    for (int dt = 0; dt < 2; dt++)
        for (int x = 0; x < 3; x++)
            for (int s = 0; s < 3; s++)
                for (int st = 0; st < 2; st++) input_case((enum mlp_dtype)dt, xts[x], scales[s], st);
    const uint32_t Ks[] = {1, 2, 3, 10, 37};
    for (int dt = 0; dt < 2; dt++)
        for (size_t k = 0; k < sizeof Ks / sizeof Ks[0]; k++)
            for (int h = 0; h < MLP_HEAD_COUNT; h++) {
                if (h == MLP_HEAD_SOFTMAX_CE && Ks[k] < 2) continue;
                head_case((enum mlp_dtype)dt, (enum mlp_head)h, Ks[k], false);
                if (h >= MLP_HEAD_IDENTITY_MSE) head_case((enum mlp_dtype)dt, (enum mlp_head)h, Ks[k], true);
            }
    head_no_y();
    class_cases();
    sgd_cases();
    adam_cases();
    small_cases();
    return check_report("test_dev_math");
}
