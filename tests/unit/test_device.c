/* SPDX-License-Identifier: MIT */
/* The device paths of the library, without a GPU: a context on the host
 * device of support/dev_host.h (the backend table run by the CPU's own
 * kernels) trains and predicts exactly as a CPU context does, for every
 * optimiser, dtype, head, L2, weight decay, early stopping, a stop and
 * resume mid-epoch, continue on other rows, and the solvers; the trainer
 * keeps the data on the "device" (uploaded once per run), reads back once
 * per epoch, and its protocol (orders, slots, rows) holds.  Also: device
 * names parse, and asking for a CUDA device where there is none (or no
 * plugin) fails with MLP_ERR_UNSUPPORTED and a message that says which. */
#include "check.h"
#include "dev_host.h"
#include "fastmlp.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

static struct mlp_context *g_cpu, *g_dev;

static void make_contexts(void)
{
    struct mlp_context_params cp = mlp_context_params_default();
    cp.threads = 1;
    struct mlp_error err;
    CHECK_STATUS(mlp_context_create(&g_cpu, &cp, &err), MLP_OK);
    CHECK_STATUS(mlp_context_create(&g_dev, &cp, &err), MLP_OK);
    struct mlp_context *shadow = NULL;
    CHECK_STATUS(mlp_context_create(&shadow, &cp, &err), MLP_OK);
    g_dev_host_ctx = shadow;
    CHECK_STATUS(mlp__context_set_device(g_dev, &g_dev_host, "host", 0, 0, &err), MLP_OK);
    CHECK(strstr(mlp_context_device(g_dev), "host:0 (the CPU standing in") != NULL);
    CHECK(strcmp(mlp_context_device(g_cpu), "cpu") == 0);
    CHECK(mlp_context_device_kind(g_dev) == MLP_DEVICE_CUDA && mlp_context_device_kind(NULL) == MLP_DEVICE_CPU);
}

static void parse_names(void)
{
    enum mlp_device d;
    uint32_t i;
    CHECK(mlp_device_parse("cpu", &d, &i) == 0 && d == MLP_DEVICE_CPU && i == 0);
    CHECK(mlp_device_parse("cuda", &d, &i) == 0 && d == MLP_DEVICE_CUDA && i == 0);
    CHECK(mlp_device_parse("CUDA:3", &d, &i) == 0 && d == MLP_DEVICE_CUDA && i == 3);
    const char *bad[] = {"", "gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1a", "cuda0", "cuda:99999", "cpu:0"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        CHECK_MSG(mlp_device_parse(bad[k], &d, &i) == -1, "\"%s\" parsed", bad[k]);
    CHECK(mlp_device_math_parse("tf32") == MLP_DEVICE_MATH_TF32 && mlp_device_math_parse("exact") == 0 &&
          mlp_device_math_parse("fp16") == -1);
    CHECK(strcmp(mlp_device_math_name(MLP_DEVICE_MATH_BF16), "bf16") == 0);
    /* precision options are a GPU's; bad values are refused */
    struct mlp_context_params cp = mlp_context_params_default();
    struct mlp_context *c = NULL;
    struct mlp_error err;
    cp.device_math = MLP_DEVICE_MATH_TF32;
    CHECK_STATUS(mlp_context_create(&c, &cp, &err), MLP_ERR_ARG);
    CHECK(strstr(err.msg, "only on a GPU") != NULL);
    cp = mlp_context_params_default();
    cp.device = (enum mlp_device)7;
    CHECK_STATUS(mlp_context_create(&c, &cp, &err), MLP_ERR_ARG);
}

/* A CUDA context here: the plugin missing (a build without it, or the
 * sanitizer builds), or no driver/device: MLP_ERR_UNSUPPORTED, saying so. */
static void no_cuda_here(void)
{
    struct mlp_context_params cp = mlp_context_params_default();
    cp.device = MLP_DEVICE_CUDA;
    struct mlp_context *c = NULL;
    struct mlp_error err = {0};
    enum mlp_status st = mlp_context_create(&c, &cp, &err);
    if (st == MLP_OK) { /* a machine with a GPU: test_cuda covers it */
        printf("test_device: a CUDA device is here: %s\n", mlp_context_device(c));
        mlp_context_free(c);
        return;
    }
    CHECK_STATUS(st, MLP_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "CUDA backend cannot be loaded") || strstr(err.msg, "no cuda device"), "msg: %s",
              err.msg);
    CHECK(c == NULL);
    printf("test_device: cuda here: %s\n", err.msg);
}

/* ---------------------------------------------------------------- data */

enum { N = 101, D = 6, NE = 37 };
static double g_x[N * D], g_ex[NE * D], g_t[N * 3], g_et[NE * 3];
static uint8_t g_u8[N * D];
static int32_t g_y[N], g_ey[NE], g_yb[N], g_eyb[NE];

static void make_data(void)
{
    struct mlp_rng r;
    mlp_rng_seed(&r, 11);
    for (int i = 0; i < N + NE; i++) {
        double *x = i < N ? g_x + i * D : g_ex + (i - N) * D;
        for (int j = 0; j < D; j++) x[j] = mlp_rng_uniform(&r) * 2 - 1;
        int y = (x[0] + x[1] > 0.3) + (x[2] - x[3] > 0.2);
        double *t = i < N ? g_t + i * 3 : g_et + (i - N) * 3;
        for (int k = 0; k < 3; k++) t[k] = sin(x[k]) + 0.5 * x[k + 3];
        if (i < N) {
            g_y[i] = y;
            g_yb[i] = x[0] > 0;
            for (int j = 0; j < D; j++) g_u8[i * D + j] = (uint8_t)(x[j] * 120 + 128);
        } else {
            g_ey[i - N] = y;
            g_eyb[i - N] = x[0] > 0;
        }
    }
}

struct setup {
    const char *name;
    enum mlp_dtype dt;
    enum mlp_head head;
    enum mlp_act act;
    int u8;
};

static void sets(const struct setup *s, struct mlp_dataset *tr, struct mlp_dataset *ev, uint32_t *n_out)
{
    *tr = (struct mlp_dataset){.n_rows = N, .n_cols = D, .x_type = s->u8 ? MLP_ELEM_U8 : MLP_ELEM_F64,
                               .x = s->u8 ? (const void *)g_u8 : (const void *)g_x};
    *ev = (struct mlp_dataset){.n_rows = NE, .n_cols = D, .x_type = MLP_ELEM_F64, .x = g_ex};
    if (s->u8) *ev = (struct mlp_dataset){.n_rows = 40, .n_cols = D, .x_type = MLP_ELEM_U8, .x = g_u8 + 50 * D};
    switch (s->head) {
    case MLP_HEAD_SOFTMAX_CE:
        *n_out = 3;
        tr->labels = g_y, tr->n_classes = 3;
        ev->labels = s->u8 ? g_y + 50 : g_ey, ev->n_classes = 3;
        break;
    case MLP_HEAD_SIGMOID_BCE:
        *n_out = 1;
        tr->labels = g_yb, tr->n_classes = 2;
        ev->labels = s->u8 ? g_yb + 50 : g_eyb, ev->n_classes = 2;
        break;
    default:
        *n_out = 3;
        tr->targets = g_t, tr->n_targets = 3;
        ev->targets = s->u8 ? g_t + 150 : g_et, ev->n_targets = 3;
    }
}

static struct mlp_model *model_on(struct mlp_context *c, const struct setup *s, uint32_t n_out)
{
    struct mlp_layer_spec h[2] = {{9, s->act}, {5, MLP_ACT_TANH}};
    struct mlp_model_params p = mlp_model_params_default();
    p.dtype = s->dt;
    p.n_in = D;
    p.n_hidden = 2;
    p.hidden = h;
    p.n_out = n_out;
    p.head = s->head;
    p.input_scale = s->u8 ? 1.0 / 255 : 1;
    p.ctx = c;
    struct mlp_model *m = NULL;
    CHECK_STATUS(mlp_model_create(&m, &p, NULL), MLP_OK);
    if (m) mlp_model_init(m, MLP_INIT_XAVIER, 0, 0, 5);
    return m;
}

/* max |a - b| / (1 + |b|) over the parameters */
static double param_diff(const struct mlp_model *a, const struct mlp_model *b)
{
    const size_t n = mlp_model_n_params(a);
    const bool f32 = mlp_model_dtype(a) == MLP_F32;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double x = f32 ? ((const float *)mlp_model_params_const(a))[i] : ((const double *)mlp_model_params_const(a))[i];
        double y = f32 ? ((const float *)mlp_model_params_const(b))[i] : ((const double *)mlp_model_params_const(b))[i];
        double d = fabs(x - y) / (1 + fabs(y));
        if (!(d <= worst)) worst = d;
    }
    return worst;
}

static double rel(double a, double b) { return fabs(a - b) / (1 + fabs(b)); }

/* Train a CPU model and a device model alike; compare weights and every
 * epoch's figures.  The host device runs the same kernels on one thread:
 * weights agree to the last bits (the tolerance covers the loss sums'
 * other association: the device adds row losses, the CPU batch means). */
static void same_training(const struct setup *s, const struct mlp_train_params *tp0, const char *what)
{
    struct mlp_dataset tr, ev;
    uint32_t K;
    sets(s, &tr, &ev, &K);
    struct mlp_model *a = model_on(g_cpu, s, K), *b = model_on(g_dev, s, K);
    if (!a || !b) return;
    if (s->dt == MLP_F32 && s->u8) { /* standardised inputs: the device gets the mean and 1/std */
        struct mlp_error e;
        CHECK_STATUS(mlp_model_fit_standardize(a, &tr, &e), MLP_OK);
        CHECK_STATUS(mlp_model_fit_standardize(b, &tr, &e), MLP_OK);
    }
    struct mlp_train_params tp = *tp0;
    tp.eval = &ev;
    struct mlp_error ea = {0}, eb = {0};
    struct mlp_trainer *ta = NULL, *tb = NULL;
    struct dev_host_counts before = g_dev_counts;
    CHECK_STATUS(mlp_trainer_create(&ta, a, &tr, &tp, &ea), MLP_OK);
    CHECK_STATUS(mlp_trainer_create(&tb, b, &tr, &tp, &eb), MLP_OK);
    if (!ta || !tb) goto out;
    enum mlp_status sa = mlp_trainer_run(ta, &ea), sb = mlp_trainer_run(tb, &eb);
    CHECK_MSG(sa == sb, "%s %s: cpu %s (%s), device %s (%s)", s->name, what, mlp_status_str(sa), ea.msg,
              mlp_status_str(sb), eb.msg);
    const double tol = s->dt == MLP_F32 ? 2e-5 : 1e-11;
    double pd = param_diff(b, a);
    CHECK_MSG(pd <= tol, "%s %s: weights differ by %g", s->name, what, pd);
    uint32_t na = 0, nb = 0;
    const struct mlp_epoch_stats *ha = mlp_trainer_history(ta, &na), *hb = mlp_trainer_history(tb, &nb);
    CHECK_MSG(na == nb, "%s %s: %u and %u epochs", s->name, what, na, nb);
    for (uint32_t e = 0; e < na && e < nb; e++) {
        const double lt = s->dt == MLP_F32 ? 1e-5 : 1e-10;
        CHECK_MSG(rel(hb[e].train_loss, ha[e].train_loss) <= lt && rel(hb[e].penalty, ha[e].penalty) <= lt &&
                      rel(hb[e].test_loss, ha[e].test_loss) <= lt && hb[e].train_acc == ha[e].train_acc &&
                      hb[e].test_acc == ha[e].test_acc,
                  "%s %s epoch %u: train %.12g/%.12g pen %g/%g test %.12g/%.12g acc %g/%g %g/%g", s->name, what,
                  e + 1, hb[e].train_loss, ha[e].train_loss, hb[e].penalty, ha[e].penalty, hb[e].test_loss,
                  ha[e].test_loss, hb[e].train_acc, ha[e].train_acc, hb[e].test_acc, ha[e].test_acc);
    }
    CHECK(mlp_trainer_stopped_early(ta) == mlp_trainer_stopped_early(tb));
    /* the data went up once (training and evaluation sets), and the
     * weights came back once an epoch, not once a batch */
    struct dev_host_counts d = g_dev_counts;
    CHECK_MSG(d.uploads - before.uploads == 2, "%s %s: %u uploads", s->name, what, d.uploads - before.uploads);
    CHECK_MSG(d.get_params - before.get_params <= nb + 1, "%s %s: %u reads of the weights over %u epochs", s->name,
              what, d.get_params - before.get_params, nb);
    /* the public calls on the device model: evaluate and predict */
    double la, lb, aa, ab;
    CHECK_STATUS(mlp_model_evaluate(a, &ev, &la, &aa, &ea), MLP_OK);
    CHECK_STATUS(mlp_model_evaluate(b, &ev, &lb, &ab, &eb), MLP_OK);
    CHECK_MSG(rel(lb, la) <= (s->dt == MLP_F32 ? 1e-5 : 1e-12) && aa == ab, "%s %s: evaluate %g/%g %g/%g", s->name,
              what, lb, la, ab, aa);
    double pa[12 * 3], pb[12 * 3];
    const uint64_t idx[12] = {5, 0, 3, 3, 11, 30, 2, 7, 19, 1, 8, 4};
    const struct mlp_rows lists[2] = {{3, 12, NULL}, {0, 12, idx}};
    for (int k = 0; k < 2; k++) {
        CHECK_STATUS(mlp_model_predict(a, &ev, &lists[k], pa, &ea), MLP_OK);
        CHECK_STATUS(mlp_model_predict(b, &ev, &lists[k], pb, &eb), MLP_OK);
        for (uint32_t i = 0; i < 12 * K; i++) /* the weights' difference, through the layers */
            CHECK_MSG(rel(pb[i], pa[i]) <= 100 * tol, "%s %s: prediction %u: %.17g/%.17g", s->name, what, i, pb[i],
                      pa[i]);
    }
    /* rows out of range are refused before the device sees them */
    CHECK_STATUS(mlp_model_predict(b, &ev, MLP_ROWS(ev.n_rows, 1), pb, &eb), MLP_ERR_RANGE);
out:
    mlp_trainer_free(ta);
    mlp_trainer_free(tb);
    mlp_model_free(a);
    mlp_model_free(b);
}

static void trainings(void)
{
    const struct setup setups[] = {
        {"softmax f64", MLP_F64, MLP_HEAD_SOFTMAX_CE, MLP_ACT_RELU, 0},
        {"softmax f32 u8 standardised", MLP_F32, MLP_HEAD_SOFTMAX_CE, MLP_ACT_LEAKY_RELU, 1},
        {"bce f64 u8", MLP_F64, MLP_HEAD_SIGMOID_BCE, MLP_ACT_SIGMOID, 1},
        {"mse f32", MLP_F32, MLP_HEAD_IDENTITY_MSE, MLP_ACT_TANH, 0},
        {"tanh-mse f64", MLP_F64, MLP_HEAD_TANH_MSE, MLP_ACT_RELU, 0},
    };
    for (size_t k = 0; k < sizeof setups / sizeof setups[0]; k++) {
        struct mlp_train_params tp = mlp_train_params_default();
        tp.epochs = 4;
        tp.batch = 16;
        tp.lr = 0.01;
        tp.eval_train = 1;
        same_training(&setups[k], &tp, "adam");
        tp.optim = MLP_OPT_SGD;
        tp.lr = 0.1;
        tp.momentum = 0.9;
        tp.nesterov = 1;
        tp.l2 = 0.01;
        tp.weight_decay = 0.001;
        same_training(&setups[k], &tp, "sgd nesterov l2 decay");
        tp.optim = MLP_OPT_GD;
        tp.momentum = 0;
        tp.nesterov = 0;
        tp.weight_decay = 0;
        same_training(&setups[k], &tp, "gd l2");
        tp.optim = MLP_OPT_ADAM;
        tp.l2 = 0;
        tp.lr = 0.05;
        tp.epochs = 30;
        tp.patience = 2;
        same_training(&setups[k], &tp, "adam early stopping");
        tp.patience = 0;
        tp.epochs = 6;
        tp.optim = MLP_OPT_CG;
        tp.l2 = 0.001;
        same_training(&setups[k], &tp, "cg");
        tp.optim = MLP_OPT_LBFGS;
        same_training(&setups[k], &tp, "lbfgs");
    }
}

static int stop_at_batch_3(const struct mlp_batch_info *b, void *user)
{
    (void)user;
    return b->epoch == 2 && b->batch == 3;
}

/* A stop mid-epoch writes a checkpoint from the device's state; resumed on
 * the device (and on the CPU), the run ends where an unbroken one does. */
static void stop_and_resume(void)
{
    const struct setup s = {"resume", MLP_F64, MLP_HEAD_SOFTMAX_CE, MLP_ACT_RELU, 0};
    struct mlp_dataset tr, ev;
    uint32_t K;
    sets(&s, &tr, &ev, &K);
    struct mlp_train_params tp = mlp_train_params_default();
    tp.epochs = 4;
    tp.batch = 10;
    tp.lr = 0.01;
    struct mlp_model *whole = model_on(g_cpu, &s, K), *b = model_on(g_dev, &s, K), *c = model_on(g_dev, &s, K),
                     *d = model_on(g_cpu, &s, K);
    struct mlp_error err;
    if (!whole || !b || !c || !d) return;
    CHECK_STATUS(mlp_model_train(whole, &tr, &tp, &err), MLP_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/fastmlp-test-device-%d.ckpt", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    struct mlp_trainer *t = NULL;
    CHECK_STATUS(mlp_trainer_create(&t, b, &tr, &tp, &err), MLP_OK);
    if (!t) return;
    mlp_trainer_set_checkpoint(t, path, 100);
    mlp_trainer_set_callbacks(t, NULL, stop_at_batch_3, NULL);
    CHECK_STATUS(mlp_trainer_run(t, &err), MLP_ERR_STOPPED);
    mlp_trainer_free(t);
    struct mlp_model *targets[2] = {c, d};
    for (int k = 0; k < 2; k++) {
        t = NULL;
        CHECK_STATUS(mlp_trainer_create(&t, targets[k], &tr, &tp, &err), MLP_OK);
        if (!t) continue;
        CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_OK);
        CHECK_STATUS(mlp_trainer_run(t, &err), MLP_OK);
        double pd = param_diff(targets[k], whole);
        CHECK_MSG(pd <= 1e-12, "resumed on the %s: weights differ by %g from an unbroken run", k ? "cpu" : "device",
                  pd);
        mlp_trainer_free(t);
    }
    /* continue on other rows, as on the CPU */
    struct mlp_dataset half = tr;
    half.n_rows = 60;
    struct mlp_trainer *ta = NULL, *tb = NULL;
    CHECK_STATUS(mlp_trainer_create(&ta, whole, &tr, &tp, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_create(&tb, c, &tr, &tp, &err), MLP_OK);
    if (ta && tb) {
        CHECK_STATUS(mlp_trainer_continue(ta, &half, 2, &err), MLP_OK);
        CHECK_STATUS(mlp_trainer_continue(tb, &half, 2, &err), MLP_OK);
        CHECK_STATUS(mlp_trainer_run(ta, &err), MLP_OK);
        CHECK_STATUS(mlp_trainer_run(tb, &err), MLP_OK);
        CHECK_MSG(param_diff(c, whole) <= 1e-12, "continue on other rows: %g", param_diff(c, whole));
    }
    mlp_trainer_free(ta);
    mlp_trainer_free(tb);
    remove(path);
    mlp_model_free(whole);
    mlp_model_free(b);
    mlp_model_free(c);
    mlp_model_free(d);
}

/* A device that fails: its message reaches the caller with the status. */
static int failing_pass(struct mlp_dev *d, const struct mlp_dev_pass *p, char *msg)
{
    (void)d;
    (void)p;
    snprintf(msg, MLP_DEV_MSG, "out of memory on the device (asked 123 bytes)");
    return MLP_ERR_NOMEM;
}

static void device_errors(void)
{
    struct mlp_dev_ops bad = g_dev_host;
    bad.pass = failing_pass;
    bad.step = NULL; /* the trainer's own calls, the failing pass among them */
    struct mlp_context_params cp = mlp_context_params_default();
    cp.threads = 1;
    struct mlp_context *c = NULL;
    struct mlp_error err;
    CHECK_STATUS(mlp_context_create(&c, &cp, &err), MLP_OK);
    if (!c) return;
    CHECK_STATUS(mlp__context_set_device(c, &bad, "host", 0, 0, &err), MLP_OK);
    CHECK_STATUS(mlp__context_set_device(c, &bad, "host", 4, 0, &err), MLP_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "host:4: this machine has 1 host device (0..0)") != NULL, "msg: %s", err.msg);
    const struct setup s = {"errors", MLP_F32, MLP_HEAD_SOFTMAX_CE, MLP_ACT_RELU, 0};
    struct mlp_dataset tr, ev;
    uint32_t K;
    sets(&s, &tr, &ev, &K);
    struct mlp_model *m = model_on(c, &s, K);
    if (m) {
        struct mlp_train_params tp = mlp_train_params_default();
        tp.epochs = 1;
        CHECK_STATUS(mlp_model_train(m, &tr, &tp, &err), MLP_ERR_NOMEM);
        CHECK_MSG(strstr(err.msg, "host: training pass: out of memory on the device") != NULL, "msg: %s", err.msg);
        double loss;
        CHECK_STATUS(mlp_model_evaluate(m, &ev, &loss, NULL, &err), MLP_ERR_NOMEM);
    }
    mlp_model_free(m);
    mlp_context_free(c);
}

int main(void)
{
    parse_names();
    no_cuda_here();
    make_contexts();
    make_data();
    trainings();
    /* a backend without the one-call step: the trainer makes the three
     * calls (pass, update, weight decay) itself, to the same bits */
    struct mlp_dev_ops no_step = g_dev_host;
    no_step.step = NULL;
    CHECK_STATUS(mlp__context_set_device(g_dev, &no_step, "host", 0, 0, NULL), MLP_OK);
    {
        const struct setup s = {"softmax f32 no step", MLP_F32, MLP_HEAD_SOFTMAX_CE, MLP_ACT_RELU, 0};
        struct mlp_train_params tp = mlp_train_params_default();
        tp.epochs = 3;
        tp.batch = 16;
        same_training(&s, &tp, "adam");
        tp.optim = MLP_OPT_SGD;
        tp.momentum = 0.9;
        tp.weight_decay = 0.01;
        same_training(&s, &tp, "sgd momentum decay");
    }
    CHECK_STATUS(mlp__context_set_device(g_dev, &g_dev_host, "host", 0, 0, NULL), MLP_OK);
    stop_and_resume();
    device_errors();
    mlp_context_free(g_cpu);
    mlp_context_free(g_dev);
    mlp_context_free(g_dev_host_ctx);
    return check_report("test_device");
}
