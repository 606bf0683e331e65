/* SPDX-License-Identifier: MIT */
/* Tiny networks whose loss and one update step are worked out by hand here,
 * in closed form, independently of the library's code paths. */
#include "testutil.h"
#include "fastmlp.h"

#include <math.h>
#include <stdlib.h>

static double sigm(double z) { return 1 / (1 + exp(-z)); }

/* One logistic neuron, two samples, then one GD step with lr 0.1. */
static void single_neuron(void)
{
    struct mlp_model *m = test_model(MLP_F64, 2, 0, NULL, 1, MLP_HEAD_SIGMOID_BCE, 1);
    if (!m) return;
    double *w = mlp_model_params(m);
    w[0] = 0.5, w[1] = -0.25, w[2] = 0.1; /* W then b */
    double x[4] = {1, 2, -1, 0.5};
    int32_t y[2] = {1, 0};
    struct mlp_dataset ds = {.n_rows = 2, .n_cols = 2, .x_type = MLP_ELEM_F64, .x = x, .labels = y, .n_classes = 2};
    /* z1 = 0.5 - 0.5 + 0.1 = 0.1;  z2 = -0.5 - 0.125 + 0.1 = -0.525 */
    double a1 = sigm(0.1), a2 = sigm(-0.525);
    double loss = -(log(a1) + log(1 - a2)) / 2;
    double gw0 = ((a1 - 1) * 1 + a2 * -1) / 2, gw1 = ((a1 - 1) * 2 + a2 * 0.5) / 2, gb = ((a1 - 1) + a2) / 2;
    double L, g[3];
    CHECK_STATUS(mlp_model_loss_grad(m, &ds, MLP_ROWS(0, 2),
                                     &(struct mlp_loss_grad){.l2 = 0, .loss = &L, .grad = g}, NULL), MLP_OK);
    CHECK_NEAR(L, loss, 1e-15);
    CHECK_NEAR(g[0], gw0, 1e-15);
    CHECK_NEAR(g[1], gw1, 1e-15);
    CHECK_NEAR(g[2], gb, 1e-15);

    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = MLP_OPT_GD;
    tp.lr = 0.1;
    tp.epochs = 1;
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
    CHECK_NEAR(w[0], 0.5 - 0.1 * gw0, 1e-15);
    CHECK_NEAR(w[1], -0.25 - 0.1 * gw1, 1e-15);
    CHECK_NEAR(w[2], 0.1 - 0.1 * gb, 1e-15);
    mlp_model_free(m);
}

/* Linear regression y = 2x + 1 at x = 3 against a target of 5, with and
 * without L2 (lambda 0.5, m 1): every number is exact in binary. */
static void linear_mse(enum mlp_dtype dt)
{
    struct mlp_model *m = test_model(dt, 1, 0, NULL, 1, MLP_HEAD_IDENTITY_MSE, 1);
    if (!m) return;
    if (dt == MLP_F32) {
        float *w = mlp_model_params(m);
        w[0] = 2, w[1] = 1;
    } else {
        double *w = mlp_model_params(m);
        w[0] = 2, w[1] = 1;
    }
    double x = 3, t = 5;
    struct mlp_dataset ds = {.n_rows = 1, .n_cols = 1, .x_type = MLP_ELEM_F64, .x = &x, .targets = &t, .n_targets = 1};
    double L, g64[2];
    float g32[2];
    void *g = dt == MLP_F32 ? (void *)g32 : (void *)g64;
#define G(i) (dt == MLP_F32 ? (double)g32[i] : g64[i])
    /* pred 7, error 2: loss 1/2 * 4 = 2, dL/dw = 2 * 3 = 6, dL/db = 2 */
    CHECK_STATUS(mlp_model_loss_grad(m, &ds, MLP_ROWS(0, 1),
                                     &(struct mlp_loss_grad){.l2 = 0, .loss = &L, .grad = g}, NULL), MLP_OK);
    CHECK(L == 2 && G(0) == 6 && G(1) == 2);
    /* + 0.5/2 * 2^2 = 1 -> 3;  dL/dw += 0.5 * 2 = 1 -> 7;  bias untouched */
    CHECK_STATUS(mlp_model_loss_grad(m, &ds, MLP_ROWS(0, 1),
                                     &(struct mlp_loss_grad){.l2 = 0.5, .loss = &L, .grad = g}, NULL), MLP_OK);
    CHECK(L == 3 && G(0) == 7 && G(1) == 2);
#undef G
    mlp_model_free(m);
}

/* 1 input -> 1 relu unit -> 2-way softmax. */
static void relu_softmax(void)
{
    struct mlp_layer_spec h[1] = {{1, MLP_ACT_RELU}};
    struct mlp_model *m = test_model(MLP_F64, 1, 1, h, 2, MLP_HEAD_SOFTMAX_CE, 1);
    if (!m) return;
    double *w = mlp_model_params(m);
    /* layer 1: W=[1.5] b=[-0.5]; layer 2: W=[[2],[-1]] b=[0.25, 0] */
    w[0] = 1.5, w[1] = -0.5, w[2] = 2, w[3] = -1, w[4] = 0.25, w[5] = 0;
    double x = 1;
    int32_t y = 1;
    struct mlp_dataset ds = {.n_rows = 1, .n_cols = 1, .x_type = MLP_ELEM_F64, .x = &x, .labels = &y, .n_classes = 2};
    /* h = relu(1.5 - 0.5) = 1;  z = (2.25, -1) */
    double e0 = exp(2.25), e1 = exp(-1), p0 = e0 / (e0 + e1), p1 = e1 / (e0 + e1);
    double loss = -log(p1);
    double dz0 = p0, dz1 = p1 - 1;         /* p - onehot(1) */
    double dh = dz0 * 2 + dz1 * -1;        /* W2^T dz, relu' = 1 */
    double L, g[6];
    CHECK_STATUS(mlp_model_loss_grad(m, &ds, MLP_ROWS(0, 1),
                                     &(struct mlp_loss_grad){.l2 = 0, .loss = &L, .grad = g}, NULL), MLP_OK);
    CHECK_NEAR(L, loss, 1e-14);
    CHECK_NEAR(g[0], dh * x, 1e-14);
    CHECK_NEAR(g[1], dh, 1e-14);
    CHECK_NEAR(g[2], dz0 * 1, 1e-14);
    CHECK_NEAR(g[3], dz1 * 1, 1e-14);
    CHECK_NEAR(g[4], dz0, 1e-14);
    CHECK_NEAR(g[5], dz1, 1e-14);
    double pr[2];
    CHECK_STATUS(mlp_model_predict(m, &ds, MLP_ROWS(0, 1), pr, NULL), MLP_OK);
    CHECK_NEAR(pr[0], p0, 1e-15);
    CHECK_NEAR(pr[1], p1, 1e-15);
    /* A dead relu (x = -1: z = -2) passes no gradient to layer 1. */
    x = -1;
    CHECK_STATUS(mlp_model_loss_grad(m, &ds, MLP_ROWS(0, 1),
                                     &(struct mlp_loss_grad){.l2 = 0, .loss = &L, .grad = g}, NULL), MLP_OK);
    CHECK(g[0] == 0 && g[1] == 0);
    mlp_model_free(m);
}

/* One step of SGD with momentum, Nesterov, and Adam, on the linear model
 * above (gradient (6, 2) at w = (2, 1)). */
static void optimizer_steps(void)
{
    double x = 3, t = 5;
    struct mlp_dataset ds = {.n_rows = 1, .n_cols = 1, .x_type = MLP_ELEM_F64, .x = &x, .targets = &t, .n_targets = 1};
    struct { enum mlp_optim o; int nesterov; double w_expect, b_expect; } cases[] = {
        {MLP_OPT_SGD, 0, 2 - 0.01 * 6, 1 - 0.01 * 2},                 /* v = g */
        {MLP_OPT_SGD, 1, 2 - 0.01 * (6 + 0.9 * 6), 1 - 0.01 * (2 + 0.9 * 2)},
        /* Adam, t = 1: mhat = g, vhat = g^2: step = lr * g / (|g| + eps) */
        {MLP_OPT_ADAM, 0, 2 - 0.01 * 6 / (6 + 1e-8), 1 - 0.01 * 2 / (2 + 1e-8)},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct mlp_model *m = test_model(MLP_F64, 1, 0, NULL, 1, MLP_HEAD_IDENTITY_MSE, 1);
        if (!m) return;
        double *w = mlp_model_params(m);
        w[0] = 2, w[1] = 1;
        struct mlp_train_params tp = mlp_train_params_default();
        tp.optim = cases[c].o;
        tp.nesterov = cases[c].nesterov;
        tp.lr = 0.01;
        tp.epochs = 1;
        tp.batch = 1;
        CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
        CHECK_NEAR(w[0], cases[c].w_expect, 1e-15);
        CHECK_NEAR(w[1], cases[c].b_expect, 1e-15);
        mlp_model_free(m);
    }
}

/* Worked out by hand:
 * - L2 in mini-batches: every batch, the short last one too, decays weights
 *   by lr * l2 / batch.  With x = 0 and targets 0 only the penalty acts:
 *   3 rows, batch 2 -> two steps, w = (1 - 0.1 * 1 / 2)^2.
 * - one tanh-mse output is judged against 0.5, like any single output. */
static void l2_batches_and_threshold(void)
{
    double x[3] = {0, 0, 0}, t[3] = {0, 0, 0};
    struct mlp_dataset ds = {.n_rows = 3, .n_cols = 1, .x_type = MLP_ELEM_F64, .x = x, .targets = t, .n_targets = 1};
    struct mlp_model *m = test_model(MLP_F64, 1, 0, NULL, 1, MLP_HEAD_IDENTITY_MSE, 1);
    if (!m) return;
    double *w = mlp_model_params(m);
    w[0] = 1, w[1] = 0;
    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = MLP_OPT_SGD;
    tp.momentum = 0;
    tp.lr = 0.1;
    tp.l2 = 1;
    tp.batch = 2;
    tp.epochs = 1;
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
    CHECK_NEAR(w[0], 0.95 * 0.95, 1e-15);
    mlp_model_free(m);

    struct mlp_model *th = test_model(MLP_F64, 1, 0, NULL, 1, MLP_HEAD_TANH_MSE, 1);
    if (!th) return;
    w = mlp_model_params(th);
    w[0] = 1, w[1] = 0;
    double xs[2] = {0.7, 0.3}; /* tanh: 0.604 (> 0.5), 0.291 (< 0.5) */
    int32_t ys[2] = {1, 0};
    struct mlp_dataset d2 = {.n_rows = 2, .n_cols = 1, .x_type = MLP_ELEM_F64, .x = xs, .labels = ys, .n_classes = 2};
    double loss, acc;
    CHECK_STATUS(mlp_model_evaluate(th, &d2, &loss, &acc, NULL), MLP_OK);
    CHECK(acc == 1.0);
    CHECK_NEAR(loss, 0.5 * (pow(tanh(0.7) - 1, 2) + pow(tanh(0.3), 2)) / 2, 1e-15);
    /* An empty test set is refused before any weight moves. */
    struct mlp_dataset empty = d2;
    empty.n_rows = 0;
    struct mlp_train_params gd = mlp_train_params_default();
    gd.optim = MLP_OPT_GD;
    gd.eval = &empty;
    CHECK_STATUS(mlp_model_train(th, &d2, &gd, NULL), MLP_ERR_ARG);
    CHECK(w[0] == 1 && w[1] == 0);
    mlp_model_free(th);
}

/* Standardisation: fitted mean/std are those of the scaled inputs, and the
 * model computes on (x * scale - mean) / std exactly as if the data had been
 * transformed beforehand. */
static void standardize(void)
{
    double x[6] = {1, 10, 3, 10, 5, 10}; /* column 0: 1 3 5, column 1 constant */
    int32_t y[3] = {0, 1, 1};
    struct mlp_dataset ds = {.n_rows = 3, .n_cols = 2, .x_type = MLP_ELEM_F64, .x = x, .labels = y, .n_classes = 2};
    struct mlp_model *m = test_model(MLP_F64, 2, 0, NULL, 1, MLP_HEAD_SIGMOID_BCE, 0.5);
    struct mlp_model *plain = test_model(MLP_F64, 2, 0, NULL, 1, MLP_HEAD_SIGMOID_BCE, 1);
    if (!m || !plain) return;
    CHECK_STATUS(mlp_model_fit_standardize(m, &ds, NULL), MLP_OK);
    const double *mu = mlp_model_standardize_mean(m), *sd = mlp_model_standardize_std(m);
    CHECK(mu && sd);
    if (!mu || !sd) return;
    /* scaled column 0: 0.5 1.5 2.5 -> mean 1.5, population std sqrt(2/3); column 1: 5, std -> 1 */
    CHECK_NEAR(mu[0], 1.5, 1e-15);
    CHECK_NEAR(sd[0], sqrt(2.0 / 3.0), 1e-15);
    CHECK_NEAR(mu[1], 5, 1e-15);
    CHECK(sd[1] == 1);
    double *w = mlp_model_params(m), *wp = mlp_model_params(plain);
    w[0] = wp[0] = 0.7, w[1] = wp[1] = -0.3, w[2] = wp[2] = 0.2;
    double xt[6];
    for (int i = 0; i < 3; i++) {
        xt[2 * i] = (x[2 * i] * 0.5 - 1.5) / sqrt(2.0 / 3.0);
        xt[2 * i + 1] = x[2 * i + 1] * 0.5 - 5;
    }
    struct mlp_dataset dt = ds;
    dt.x = xt;
    double L1, L2, g1[3], g2[3];
    CHECK_STATUS(mlp_model_loss_grad(m, &ds, MLP_ROWS(0, 3),
                                     &(struct mlp_loss_grad){.l2 = 0, .loss = &L1, .grad = g1}, NULL), MLP_OK);
    CHECK_STATUS(mlp_model_loss_grad(plain, &dt, MLP_ROWS(0, 3),
                                     &(struct mlp_loss_grad){.l2 = 0, .loss = &L2, .grad = g2}, NULL), MLP_OK);
    CHECK_NEAR(L1, L2, 1e-15);
    for (int i = 0; i < 3; i++) CHECK_NEAR(g1[i], g2[i], 1e-15);
    double bad[2] = {0, 0}, zero_sd[2] = {1, 0};
    CHECK_STATUS(mlp_model_set_standardize(m, bad, zero_sd, NULL), MLP_ERR_ARG);
    mlp_model_clear_standardize(m);
    CHECK(mlp_model_standardize_mean(m) == NULL);
    mlp_model_free(m);
    mlp_model_free(plain);
}

int main(void)
{
    standardize();
    l2_batches_and_threshold();
    single_neuron();
    linear_mse(MLP_F64);
    linear_mse(MLP_F32);
    relu_softmax();
    optimizer_steps();
    return check_report("hand");
}
