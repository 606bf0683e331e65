/* SPDX-License-Identifier: MIT */
/* Finite-difference gradient checks: every hidden activation x output head x
 * dtype, with the L2 term, on deterministic weights, with a guard against an
 * all-zero gradient; then a whole-network random-direction check. */
#include "check.h"
#include "internal.h"

#include <math.h>
#include <string.h>

#define N_ROWS 7
#define N_IN 5

struct data {
    double x[N_ROWS * N_IN];
    int32_t labels[N_ROWS];
    double targets[N_ROWS * 3];
    struct mlp_dataset ds;
};

static void make_data(struct data *d, enum mlp_head head, uint32_t K, uint64_t seed)
{
    struct mlp_rng r;
    mlp__rng_seed(&r, seed);
    for (int i = 0; i < N_ROWS * N_IN; i++) d->x[i] = 2 * mlp__rng_uniform(&r) - 1;
    memset(&d->ds, 0, sizeof d->ds);
    d->ds.n_rows = N_ROWS;
    d->ds.n_cols = N_IN;
    d->ds.x_type = MLP_ELEM_F64;
    d->ds.x = d->x;
    bool mse = head >= MLP_HEAD_IDENTITY_MSE;
    if (!mse) {
        uint32_t classes = K == 1 ? 2 : K;
        for (int i = 0; i < N_ROWS; i++) d->labels[i] = (int32_t)mlp__rng_below(&r, classes);
        d->ds.labels = d->labels;
        d->ds.n_classes = classes;
    } else {
        double lo = head == MLP_HEAD_SIGMOID_MSE ? 0.05 : -0.9, hi = 0.9;
        for (uint32_t i = 0; i < N_ROWS * K; i++) d->targets[i] = lo + (hi - lo) * mlp__rng_uniform(&r);
        d->ds.targets = d->targets;
        d->ds.n_targets = K;
    }
}

static struct mlp_model *make_model(enum mlp_dtype dt, enum mlp_act act, enum mlp_head head, uint32_t K)
{
    struct mlp_layer_spec hidden[2] = {{4, act}, {3, act}};
    struct mlp_model_params p = mlp_model_params_default();
    p.dtype = dt;
    p.n_in = N_IN;
    p.n_hidden = 2;
    p.hidden = hidden;
    p.n_out = K;
    p.head = head;
    p.leaky_slope = 0.1;
    struct mlp_model *m = NULL;
    CHECK_STATUS(mlp_model_create(&m, &p, NULL), MLP_OK);
    if (m) CHECK_STATUS(mlp_model_init(m, MLP_INIT_UNIFORM, -0.9, 0.9, 1234), MLP_OK);
    return m;
}

static double loss_at(struct mlp_model *m, const struct mlp_dataset *ds, double l2)
{
    double L = NAN;
    CHECK_STATUS(mlp_model_loss_grad(m, ds, MLP_ROWS(0, ds->n_rows),
                                     &(struct mlp_loss_grad){.l2 = l2, .loss = &L, .grad = NULL}, NULL), MLP_OK);
    return L;
}

/* Central differences in f64 against the analytic gradient. */
static void check_f64(enum mlp_act act, enum mlp_head head, uint32_t K)
{
    const double l2 = 0.3, h = 1e-5;
    struct data d;
    make_data(&d, head, K, 77 + act * 10 + head);
    struct mlp_model *m = make_model(MLP_F64, act, head, K);
    if (!m) return;
    size_t n = mlp_model_n_params(m);
    double *g = calloc(n, sizeof *g), *w = mlp_model_params(m);
    double L;
    CHECK_STATUS(mlp_model_loss_grad(m, &d.ds, MLP_ROWS(0, N_ROWS),
                                     &(struct mlp_loss_grad){.l2 = l2, .loss = &L, .grad = g}, NULL), MLP_OK);
    double gnorm = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        double w0 = w[i];
        w[i] = w0 + h;
        double lp = loss_at(m, &d.ds, l2);
        w[i] = w0 - h;
        double lm = loss_at(m, &d.ds, l2);
        w[i] = w0;
        double num = (lp - lm) / (2 * h);
        double e = fabs(num - g[i]) / (fabs(num) + fabs(g[i]) + 1e-7);
        if (e > worst) worst = e;
        gnorm += g[i] * g[i];
    }
    CHECK_MSG(worst < 1e-6, "f64 %s/%s K=%u: worst relative error %.3g", mlp_act_name(act), mlp_head_name(head), K,
              worst);
    CHECK_MSG(sqrt(gnorm) > 1e-3, "f64 %s/%s: gradient is (nearly) zero: %.3g", mlp_act_name(act),
              mlp_head_name(head), sqrt(gnorm));
    free(g);
    mlp_model_free(m);
}

/* f32: the analytic f32 gradient must match the f64 gradient of the same
 * weights (f32 finite differences would only measure rounding). */
static void check_f32(enum mlp_act act, enum mlp_head head, uint32_t K)
{
    const double l2 = 0.3;
    struct data d;
    make_data(&d, head, K, 91 + act * 10 + head);
    struct mlp_model *m32 = make_model(MLP_F32, act, head, K), *m64 = make_model(MLP_F64, act, head, K);
    if (!m32 || !m64) goto out;
    size_t n = mlp_model_n_params(m32);
    const float *w32 = mlp_model_params(m32);
    double *w64 = mlp_model_params(m64);
    for (size_t i = 0; i < n; i++) w64[i] = w32[i];
    float *g32 = calloc(n, sizeof *g32);
    double *g64 = calloc(n, sizeof *g64), L32, L64, gnorm = 0, worst = 0;
    CHECK_STATUS(mlp_model_loss_grad(m32, &d.ds, MLP_ROWS(0, N_ROWS),
                                     &(struct mlp_loss_grad){.l2 = l2, .loss = &L32, .grad = g32}, NULL), MLP_OK);
    CHECK_STATUS(mlp_model_loss_grad(m64, &d.ds, MLP_ROWS(0, N_ROWS),
                                     &(struct mlp_loss_grad){.l2 = l2, .loss = &L64, .grad = g64}, NULL), MLP_OK);
    for (size_t i = 0; i < n; i++) {
        double e = fabs(g32[i] - g64[i]) / (fabs(g64[i]) + 1e-3);
        if (e > worst) worst = e;
        gnorm += g64[i] * g64[i];
    }
    CHECK_MSG(worst < 1e-4, "f32 %s/%s K=%u: worst error vs f64 %.3g", mlp_act_name(act), mlp_head_name(head), K, worst);
    CHECK_NEAR(L32, L64, 1e-5 * (1 + fabs(L64)));
    CHECK(sqrt(gnorm) > 1e-3);
    free(g32);
    free(g64);
out:
    mlp_model_free(m32);
    mlp_model_free(m64);
}

/* A larger network, over more than one block of rows: d/dt L(w + t v) at
 * t = 0 equals g . v for a random direction v.  The finite difference is
 * always taken in f64 (on a twin holding the same weights), since f32 losses
 * differenced at a small step measure only rounding. */
static struct mlp_model *direction_model(enum mlp_dtype dt)
{
    static const struct mlp_layer_spec hidden[3] = {{16, MLP_ACT_TANH}, {9, MLP_ACT_LEAKY_RELU}, {8, MLP_ACT_SIGMOID}};
    struct mlp_model_params p = mlp_model_params_default();
    p.dtype = dt;
    p.n_in = 20;
    p.n_hidden = 3;
    p.hidden = hidden;
    p.n_out = 5;
    struct mlp_model *m = NULL;
    CHECK_STATUS(mlp_model_create(&m, &p, NULL), MLP_OK);
    if (m) mlp_model_init(m, MLP_INIT_XAVIER, 0, 0, 5);
    return m;
}

static void check_direction(enum mlp_dtype dt)
{
    enum { R = 300 };
    static double x[R * 20];
    static int32_t y[R];
    struct mlp_rng r;
    mlp__rng_seed(&r, 9);
    for (int i = 0; i < R * 20; i++) x[i] = mlp__rng_uniform(&r) * 2 - 1;
    for (int i = 0; i < R; i++) y[i] = (int32_t)mlp__rng_below(&r, 5);
    struct mlp_dataset ds = {.n_rows = R, .n_cols = 20, .x_type = MLP_ELEM_F64, .x = x, .labels = y, .n_classes = 5};
    struct mlp_model *m = direction_model(dt), *t = direction_model(MLP_F64);
    if (!m || !t) goto out;
    size_t n = mlp_model_n_params(m);
    double *w = mlp_model_params(t), *w0 = malloc(n * 8), *v = malloc(n * 8), *g64 = malloc(n * 8);
    void *g = dt == MLP_F32 ? malloc(n * 4) : (void *)g64;
    for (size_t i = 0; i < n; i++) w[i] = dt == MLP_F32 ? ((float *)mlp_model_params(m))[i] : ((double *)mlp_model_params(m))[i];
    memcpy(w0, w, n * 8);
    double L, gv = 0, vn = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = mlp__rng_uniform(&r) - 0.5;
        vn += v[i] * v[i];
    }
    for (size_t i = 0; i < n; i++) v[i] /= sqrt(vn);
    CHECK_STATUS(mlp_model_loss_grad(m, &ds, MLP_ROWS(0, R),
                                     &(struct mlp_loss_grad){.l2 = 0.1, .loss = &L, .grad = g}, NULL), MLP_OK);
    for (size_t i = 0; i < n; i++) gv += v[i] * (dt == MLP_F32 ? ((float *)g)[i] : ((double *)g)[i]);
    const double h = 1e-5;
    double Ls[2];
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < n; i++) w[i] = w0[i] + (s ? -h : h) * v[i];
        Ls[s] = loss_at(t, &ds, 0.1);
    }
    double num = (Ls[0] - Ls[1]) / (2 * h);
    double tol = dt == MLP_F32 ? 1e-4 : 1e-7;
    CHECK_MSG(fabs(num - gv) <= tol * fabs(gv), "%s direction check: numeric %.10g analytic %.10g",
              mlp_dtype_name(dt), num, gv);
    CHECK(fabs(gv) > 1e-4);
    if (g != g64) free(g);
    free(g64);
    free(w0);
    free(v);
out:
    mlp_model_free(m);
    mlp_model_free(t);
}

int main(void)
{
    for (int h = 0; h < MLP_HEAD_COUNT; h++)
        for (int a = 0; a < MLP_ACT_COUNT; a++) {
            uint32_t Ks[2] = {3, 1};
            for (int k = 0; k < 2; k++) {
                if (h == MLP_HEAD_SOFTMAX_CE && Ks[k] == 1) continue;
                check_f64((enum mlp_act)a, (enum mlp_head)h, Ks[k]);
                check_f32((enum mlp_act)a, (enum mlp_head)h, Ks[k]);
            }
        }
    check_direction(MLP_F64);
    check_direction(MLP_F32);
    return check_report("gradcheck");
}
