/* SPDX-License-Identifier: MIT */
/* The CUDA backend on a real GPU against the CPU backend: every pass
 * (each head, hidden activation, dtype, uint8/f64 inputs, standardisation,
 * mean_n, L2) gives the CPU's loss, correct count and gradient; every
 * update (SGD with momentum and Nesterov, Adam, weight scaling) the CPU's
 * parameters; predict the CPU's outputs; whole training runs (Adam f32,
 * GD f64, CG f64, L-BFGS f64) end near the CPU's weights and exactly at
 * their own on a second run (determinism on one GPU); the step op (a CUDA
 * graph for small batches) gives pass + update's bits exactly, and a run
 * through it (Adam, batches of 64) ends near the CPU's.
 *
 * Tolerances (relative to 1 + |value|): f64 1e-11 for one pass (cuBLAS
 * sums each product in another order than OpenBLAS; the rounding of 10^3
 * terms is ~1e-13); f32 2e-4 for one pass (the same, at 2^-24 ~ 6e-8 a term
 * over sums of up to 10^3 terms, then exp/log in the head); TF32 3e-2 (10-bit
 * mantissas in the products' inputs, 2^-11 ~ 5e-4 a term); BF16 3e-2 too
 * (8-bit mantissas, 2^-9 ~ 2e-3 a term; the emulation differs by 2e-3);
 * whole runs: f64 1e-7 (differences of 1e-13 a step, grown by the
 * training's own sensitivity over a few hundred steps), f32 5e-3 and the
 * same test accuracy within 2 rows in 100.
 *
 * Without a GPU (or without the plugin) it prints one line,
 * "SKIPPED: no CUDA device (why)", and exits 77, which ctest reports as
 * skipped; bench/gpu.sh runs it on a lent GPU machine.
 *
 * Built with TEST_CUDA_EMU (test_cuda_emu, every build) it runs the same
 * checks on the engine's own code compiled for the host against
 * tests/cuda_emu/ (kernels run by the CPU, cuBLAS a plain loop), on CPU
 * contexts given the emulated engine's table; then the error paths a GPU
 * seldom takes, by failing one cudaMalloc after another (emu_failures); at
 * the end the emulation must have seen no misuse (bad pointers, copies,
 * launches, barriers) and every device allocation must be freed.  The same
 * tolerances hold: the emulated GEMM sums in order, as neither cuBLAS nor
 * OpenBLAS does. */
#include "check.h"
#include "context/context.h"
#include "fastmlp.h"
#include "pass/devrun.h"
#ifdef TEST_CUDA_EMU
#include "cuda_emu.h"
const struct mlp_dev_ops *mlp_dev_cuda_ops(void); /* the emulated engine's (fastmlp_cuda_emu) */
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct mlp_context *g_cpu, *g_gpu, *g_tf32, *g_bf16;

enum { N = 333, D = 20, K = 4 };
static double g_x[N * D], g_t[N * K];
static uint8_t g_u8[N * D];
static int32_t g_y[N], g_yb[N];

static void make_data(void)
{
    struct mlp_rng r;
    mlp_rng_seed(&r, 7);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) {
            g_x[i * D + j] = mlp_rng_uniform(&r) * 4 - 2;
            g_u8[i * D + j] = (uint8_t)(mlp_rng_uniform(&r) * 256);
        }
        g_y[i] = (int32_t)((g_x[i * D] > 0) + 2 * (g_x[i * D + 1] + g_x[i * D + 2] > 0));
        g_yb[i] = g_x[i * D + 3] > 0.1;
        for (int k = 0; k < K; k++) g_t[i * K + k] = tanh(g_x[i * D + k] - 0.5 * g_x[i * D + k + 4]);
    }
}

static double rel(double a, double b) { return fabs(a - b) / (1 + fabs(b)); }

static double elem(const struct mlp_model *m, const void *v, size_t i)
{
    return mlp_model_dtype(m) == MLP_F32 ? ((const float *)v)[i] : ((const double *)v)[i];
}

static double vec_diff(const struct mlp_model *m, const void *a, const void *b)
{
    double worst = 0;
    for (size_t i = 0; i < mlp_model_n_params(m); i++) {
        double d = rel(elem(m, a, i), elem(m, b, i));
        if (!(d <= worst)) worst = d;
    }
    return worst;
}

struct setup {
    enum mlp_dtype dt;
    enum mlp_head head;
    enum mlp_act act;
    int u8, standardise;
};

static struct mlp_dataset data_for(const struct setup *s, uint32_t *n_out)
{
    struct mlp_dataset ds = {.n_rows = N, .n_cols = D, .x_type = s->u8 ? MLP_ELEM_U8 : MLP_ELEM_F64,
                             .x = s->u8 ? (const void *)g_u8 : (const void *)g_x};
    if (s->head == MLP_HEAD_SOFTMAX_CE) {
        ds.labels = g_y, ds.n_classes = K, *n_out = K;
    } else if (s->head == MLP_HEAD_SIGMOID_BCE) {
        ds.labels = g_yb, ds.n_classes = 2, *n_out = 1;
    } else {
        ds.targets = g_t, ds.n_targets = K, *n_out = K;
    }
    return ds;
}

static struct mlp_model *model_on(struct mlp_context *c, const struct setup *s, uint32_t n_out,
                                  const struct mlp_dataset *ds)
{
    struct mlp_layer_spec h[2] = {{33, s->act}, {17, MLP_ACT_TANH}};
    struct mlp_model_params p = mlp_model_params_default();
    p.dtype = s->dt;
    p.n_in = D;
    p.n_hidden = 2;
    p.hidden = h;
    p.n_out = n_out;
    p.head = s->head;
    p.input_scale = s->u8 ? 1.0 / 255 : 1;
    p.leaky_slope = 0.1;
    p.ctx = c;
    struct mlp_model *m = NULL;
    CHECK_STATUS(mlp_model_create(&m, &p, NULL), MLP_OK);
    if (!m) return NULL;
    mlp_model_init(m, MLP_INIT_XAVIER, 0, 0, 3);
    if (s->standardise) CHECK_STATUS(mlp_model_fit_standardize(m, ds, NULL), MLP_OK);
    return m;
}

static const char *name_of(const struct setup *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s %s/%s%s%s", mlp_dtype_name(s->dt), mlp_head_name(s->head), mlp_act_name(s->act),
             s->u8 ? " u8" : "", s->standardise ? " std" : "");
    return buf;
}

/* One pass with gradient, on rows given by an order, against the CPU's
 * mlp_model_loss_grad over the same rows. */
static void one_pass(const struct setup *s, struct mlp_context *gpu_ctx, double tol)
{
    char nm[128];
    name_of(s, nm, sizeof nm);
    uint32_t n_out;
    struct mlp_dataset ds = data_for(s, &n_out);
    struct mlp_model *a = model_on(g_cpu, s, n_out, &ds), *b = model_on(gpu_ctx, s, n_out, &ds);
    if (!a || !b) return;
    const size_t np = mlp_model_n_params(a), es = s->dt == MLP_F32 ? 4 : 8;
    void *ga = malloc(np * es), *gb = malloc(np * es);
    uint64_t *order = malloc(N * sizeof *order);
    for (uint64_t i = 0; i < N; i++) order[i] = (i * 97 + 13) % N; /* a permutation: 97 is prime to 333 */
    struct mlp_devrun r;
    struct mlp_error err;
    if (mlp__dev_open(&r, b, &err) != MLP_OK) {
        CHECK_MSG(0, "%s: open: %s", nm, err.msg);
        goto out;
    }
    CHECK_STATUS(mlp__dev_upload(&r, 0, &ds, &err), MLP_OK);
    CHECK_STATUS(mlp__dev_order(&r, 0, order, &err), MLP_OK);
    const uint64_t b0 = 40, nb = 150;
    for (int l2 = 0; l2 < 2; l2++) {
        char msg[MLP_DEV_MSG] = "";
        struct mlp_dev_pass ps = {.slot = 0, .b0 = b0, .nb = nb, .grad = 1, .mean_n = l2 ? 200 : 0,
                                  .l2 = l2 ? 0.3 : 0, .l2_m = l2 ? 64 : 0};
        struct mlp_dev_acc acc;
        int rc = r.ops->pass(r.d, &ps, msg);
        if (!rc) rc = r.ops->read_acc(r.d, &acc, msg);
        if (!rc) rc = r.ops->get_grad(r.d, gb, msg);
        CHECK_MSG(rc == 0, "%s: pass: %s", nm, msg);
        if (rc) break;
        /* the CPU: the same rows through mlp_model_loss_grad (mean over nb;
         * rescaled to mean_n, and the L2 term with its own m) */
        double loss_a = 0;
        struct mlp_loss_grad lg = {.l2 = 0, .loss = &loss_a, .grad = ga};
        CHECK_STATUS(mlp_model_loss_grad(a, &ds, &(struct mlp_rows){0, nb, order + b0}, &lg, &err), MLP_OK);
        const double scale = ps.mean_n ? (double)nb / (double)ps.mean_n : 1, c = ps.l2 / (ps.l2_m ? ps.l2_m : nb);
        double sq = 0;
        for (size_t i = 0; i < np; i++) {
            double g = elem(a, ga, i) * scale;
            if (s->dt == MLP_F32) ((float *)ga)[i] = (float)g;
            else ((double *)ga)[i] = g;
        }
        for (uint32_t l = 0; l < mlp_model_n_layers(a) && ps.l2 != 0; l++) {
            const struct mlp_layer *ly = &a->layers[l];
            for (size_t i = 0; i < (size_t)ly->n_in * ly->n_out; i++) {
                double w = elem(a, mlp_model_params_const(a), ly->w_off + i);
                sq += w * w;
                if (s->dt == MLP_F32) ((float *)ga)[ly->w_off + i] += (float)(c * w);
                else ((double *)ga)[ly->w_off + i] += c * w;
            }
        }
        double gd = vec_diff(a, gb, ga);
        CHECK_MSG(gd <= tol, "%s%s: gradient differs by %g", nm, l2 ? " l2 mean_n" : "", gd);
        CHECK_MSG(rel(acc.loss_sum / (double)nb, loss_a) <= tol, "%s: loss %.17g, cpu %.17g", nm,
                  acc.loss_sum / (double)nb, loss_a);
        CHECK_MSG(rel(acc.pen_sum, 0.5 * c * sq * (double)nb) <= tol, "%s: L2 term %.17g, cpu %.17g", nm, acc.pen_sum,
                  0.5 * c * sq * (double)nb);
        if (ds.labels) {
            double acc_a = 0;
            struct mlp_dataset sub = ds; /* the correct count over the same rows */
            (void)sub;
            double *out = malloc(nb * n_out * sizeof *out);
            CHECK_STATUS(mlp_model_predict(a, &ds, &(struct mlp_rows){0, nb, order + b0}, out, &err), MLP_OK);
            for (uint64_t i = 0; i < nb; i++)
                acc_a += (int32_t)mlp_class_of(out + i * n_out, n_out) == ds.labels[order[b0 + i]];
            CHECK_MSG(fabs((double)acc.correct - acc_a) <= 1, "%s: %llu correct, cpu %g", nm,
                      (unsigned long long)acc.correct, acc_a);
            free(out);
        }
    }
    /* predict, all rows in their own order, against the CPU */
    double *pa = malloc(N * n_out * sizeof *pa), *pb = malloc(N * n_out * sizeof *pb);
    CHECK_STATUS(mlp_model_predict(a, &ds, NULL, pa, &err), MLP_OK);
    CHECK_STATUS(mlp_model_predict(b, &ds, NULL, pb, &err), MLP_OK);
    double pd = 0;
    for (size_t i = 0; i < (size_t)N * n_out; i++) pd = fmax(pd, rel(pb[i], pa[i]));
    CHECK_MSG(pd <= tol, "%s: predictions differ by %g", nm, pd);
    free(pa);
    free(pb);
    mlp__dev_close(&r);
out:
    free(order);
    free(ga);
    free(gb);
    mlp_model_free(a);
    mlp_model_free(b);
}

static void passes(void)
{
    const enum mlp_head heads[] = {MLP_HEAD_SOFTMAX_CE, MLP_HEAD_SIGMOID_BCE, MLP_HEAD_IDENTITY_MSE,
                                   MLP_HEAD_SIGMOID_MSE, MLP_HEAD_TANH_MSE};
    const enum mlp_act acts[] = {MLP_ACT_RELU, MLP_ACT_LEAKY_RELU, MLP_ACT_SIGMOID, MLP_ACT_TANH, MLP_ACT_IDENTITY};
    for (int dt = 0; dt < 2; dt++)
        for (size_t h = 0; h < 5; h++)
            for (size_t a = 0; a < 5; a++) {
                struct setup s = {dt ? MLP_F64 : MLP_F32, heads[h], acts[a], (int)((h + a) % 2), (int)(a == 2)};
                one_pass(&s, g_gpu, dt ? 1e-11 : 2e-4);
            }
    if (g_tf32) {
        struct setup s = {MLP_F32, MLP_HEAD_SOFTMAX_CE, MLP_ACT_RELU, 1, 0};
        one_pass(&s, g_tf32, 3e-2);
    }
    if (g_bf16) {
        struct setup s = {MLP_F32, MLP_HEAD_SOFTMAX_CE, MLP_ACT_RELU, 1, 0};
        one_pass(&s, g_bf16, 3e-2);
    }
}

/* The updates, element for element, against the library's CPU kernels. */
static void updates(void)
{
    for (int dt = 0; dt < 2; dt++) {
        struct setup s = {dt ? MLP_F64 : MLP_F32, MLP_HEAD_SOFTMAX_CE, MLP_ACT_RELU, 0, 0};
        uint32_t n_out;
        struct mlp_dataset ds = data_for(&s, &n_out);
        for (int opt = 0; opt < 3; opt++) {
            struct mlp_model *a = model_on(g_cpu, &s, n_out, &ds), *b = model_on(g_gpu, &s, n_out, &ds);
            if (!a || !b) return;
            struct mlp_train_params tp = mlp_train_params_default();
            tp.epochs = 1;
            tp.batch = 50;
            tp.optim = opt == 0 ? MLP_OPT_ADAM : MLP_OPT_SGD;
            tp.lr = opt == 0 ? 0.01 : 0.1;
            tp.momentum = opt == 2 ? 0.9 : 0;
            tp.nesterov = opt == 2;
            tp.weight_decay = opt == 1 ? 0.01 : 0;
            tp.shuffle = 1;
            struct mlp_error ea, eb;
            CHECK_STATUS(mlp_model_train(a, &ds, &tp, &ea), MLP_OK);
            CHECK_STATUS(mlp_model_train(b, &ds, &tp, &eb), MLP_OK);
            double d = vec_diff(a, mlp_model_params_const(b), mlp_model_params_const(a));
            /* 7 steps, each from gradients within a pass's tolerance */
            CHECK_MSG(d <= (dt ? 1e-10 : 1e-3), "%s %s: one epoch's weights differ by %g", mlp_dtype_name(s.dt),
                      opt == 0 ? "adam" : opt == 1 ? "sgd decay" : "sgd nesterov", d);
            mlp_model_free(a);
            mlp_model_free(b);
        }
    }
}

/* Whole runs: near the CPU, and bit-identical twice on the GPU. */
static void runs(void)
{
    const struct {
        enum mlp_optim opt;
        enum mlp_dtype dt;
        uint32_t epochs;
    } cases[] = {{MLP_OPT_ADAM, MLP_F32, 5}, {MLP_OPT_GD, MLP_F64, 50}, {MLP_OPT_CG, MLP_F64, 30},
                 {MLP_OPT_LBFGS, MLP_F64, 30}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct setup s = {cases[k].dt, MLP_HEAD_SOFTMAX_CE, MLP_ACT_RELU, 1, 0};
        uint32_t n_out;
        struct mlp_dataset ds = data_for(&s, &n_out);
        struct mlp_model *a = model_on(g_cpu, &s, n_out, &ds), *b = model_on(g_gpu, &s, n_out, &ds),
                         *c = model_on(g_gpu, &s, n_out, &ds);
        if (!a || !b || !c) return;
        struct mlp_train_params tp = mlp_train_params_default();
        tp.optim = cases[k].opt;
        tp.epochs = cases[k].epochs;
        tp.batch = 32;
        tp.lr = cases[k].opt == MLP_OPT_ADAM ? 0.003 : 0.5;
        tp.l2 = 0.01;
        struct mlp_error err;
        CHECK_STATUS(mlp_model_train(a, &ds, &tp, &err), MLP_OK);
        CHECK_STATUS(mlp_model_train(b, &ds, &tp, &err), MLP_OK);
        CHECK_STATUS(mlp_model_train(c, &ds, &tp, &err), MLP_OK);
        double d = vec_diff(a, mlp_model_params_const(b), mlp_model_params_const(a));
        CHECK_MSG(d <= (s.dt == MLP_F64 ? 1e-7 : 5e-3), "%s run: weights differ from the CPU's by %g",
                  mlp_optim_name(tp.optim), d);
        CHECK_MSG(memcmp(mlp_model_params_const(b), mlp_model_params_const(c),
                         mlp_model_n_params(b) * (s.dt == MLP_F32 ? 4 : 8)) == 0,
                  "%s run: two runs on the GPU differ", mlp_optim_name(tp.optim));
        double acc_a, acc_b;
        CHECK_STATUS(mlp_model_evaluate(a, &ds, NULL, &acc_a, &err), MLP_OK);
        CHECK_STATUS(mlp_model_evaluate(b, &ds, NULL, &acc_b, &err), MLP_OK);
        CHECK_MSG(fabs(acc_a - acc_b) <= 0.02, "%s run: accuracy %g, cpu %g", mlp_optim_name(tp.optim), acc_b, acc_a);
        mlp_model_free(a);
        mlp_model_free(b);
        mlp_model_free(c);
    }
}

/* The step op (one call: CUDA replays small batches as a graph) against
 * the same step made of pass, sgd/adam and scale_weights on a second
 * engine from the same start: the same bits in the parameters, the
 * optimiser's state, the gradient and the accumulator, step after step.
 * Two epochs of batches of 64 over 333 rows in a shuffled order: b0 moves,
 * the last batch of each epoch is 13 rows (two shapes), the learning rate
 * and Adam's corrections change every step; the data are uploaded anew
 * before the very last step.  Under the emulation, every step went
 * through a graph launch, and each engine captured one graph per shape
 * and the last shape again after the upload (which moves the buffers the
 * graphs read). */
static void steps(void)
{
    const struct {
        int adam;
        double momentum;
        int nesterov;
        double wd, l2;
        uint64_t mean_n;
        const char *name;
    } cases[] = {{1, 0, 0, 0, 0.01, 0, "adam l2"},
                 {1, 0, 0, 0.01, 0, 100, "adamw mean_n"},
                 {0, 0, 0, 0, 0, 0, "sgd"},
                 {0, 0.9, 0, 0, 0.01, 0, "sgd momentum l2"},
                 {0, 0.9, 1, 0.01, 0, 0, "sgd nesterov decay"}};
    enum { BS = 64, EPOCHS = 2 };
    uint64_t *order = malloc(N * sizeof *order);
    for (uint64_t i = 0; i < N; i++) order[i] = (i * 97 + 13) % N;
    for (int dt = 0; dt < 2; dt++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            struct setup su = {dt ? MLP_F64 : MLP_F32, MLP_HEAD_SOFTMAX_CE, MLP_ACT_TANH, 0, 0};
            char nm[64];
            snprintf(nm, sizeof nm, "step %s %s", mlp_dtype_name(su.dt), cases[k].name);
            uint32_t n_out;
            struct mlp_dataset ds = data_for(&su, &n_out);
            struct mlp_model *m = model_on(g_gpu, &su, n_out, &ds);
            if (!m) return;
            const size_t bytes = mlp_model_n_params(m) * (su.dt == MLP_F32 ? 4 : 8);
            struct mlp_devrun ra, rb;
            struct mlp_error err;
            if (mlp__dev_open(&ra, m, &err) != MLP_OK) {
                CHECK_MSG(0, "%s: open: %s", nm, err.msg);
                mlp_model_free(m);
                continue;
            }
            if (mlp__dev_open(&rb, m, &err) != MLP_OK) {
                CHECK_MSG(0, "%s: open: %s", nm, err.msg);
                mlp__dev_close(&ra);
                mlp_model_free(m);
                continue;
            }
            CHECK_MSG(ra.ops->step != NULL, "%s: the engine has no step", nm);
            CHECK_STATUS(mlp__dev_upload(&ra, 0, &ds, &err), MLP_OK);
            CHECK_STATUS(mlp__dev_upload(&rb, 0, &ds, &err), MLP_OK);
            CHECK_STATUS(mlp__dev_order(&ra, 0, order, &err), MLP_OK);
            CHECK_STATUS(mlp__dev_order(&rb, 0, order, &err), MLP_OK);
#ifdef TEST_CUDA_EMU
            unsigned long cap0, gl0;
            size_t live;
            mlp_cuda_emu_graph_counts(&cap0, &gl0, &live);
#endif
            char msg[MLP_DEV_MSG] = "";
            int rc = 0;
            unsigned n_steps = 0;
            for (int ep = 0; ep < EPOCHS && !rc; ep++)
                for (uint64_t b0 = 0; b0 < N && !rc; b0 += BS) {
                    const uint64_t nb = N - b0 < BS ? N - b0 : BS;
                    const double lr = 0.05 / (1 + 0.1 * n_steps), t = n_steps + 1;
                    const double c1 = 1 - pow(0.9, t), c2 = sqrt(1 - pow(0.999, t));
                    struct mlp_dev_step st = {
                        .pass = {.slot = 0, .b0 = b0, .nb = nb, .grad = 1, .mean_n = cases[k].mean_n,
                                 .l2 = cases[k].l2, .l2_m = BS},
                        .adam = cases[k].adam, .lr = lr, .momentum = cases[k].momentum,
                        .nesterov = cases[k].nesterov, .lr_t = lr * c2 / c1, .b1 = 0.9, .b2 = 0.999,
                        .eps_t = 1e-8 * c2, .decay = cases[k].wd > 0 ? 1 - lr * cases[k].wd : 1};
                    rc = ra.ops->step(ra.d, &st, msg);
                    if (!rc) rc = rb.ops->pass(rb.d, &st.pass, msg);
                    if (!rc)
                        rc = st.adam ? rb.ops->adam(rb.d, st.lr_t, st.b1, st.b2, st.eps_t, msg)
                                     : rb.ops->sgd(rb.d, st.lr, st.momentum, st.nesterov, msg);
                    if (!rc && st.decay != 1) rc = rb.ops->scale_weights(rb.d, st.decay, msg);
                    n_steps++;
                    /* the data uploaded anew before the last step (its
                     * buffers move: a graph must not replay the old ones) */
                    if (!rc && ep == EPOCHS - 1 && b0 + 2 * BS >= N && b0 + BS < N) {
                        const struct mlp_dev_data dd = {.n_rows = N, .n_cols = D, .x_type = ds.x_type, .x = ds.x,
                                                        .labels = ds.labels, .targets = ds.targets};
                        rc = ra.ops->upload(ra.d, 0, &dd, msg);
                        if (!rc) rc = rb.ops->upload(rb.d, 0, &dd, msg);
                        if (!rc) rc = ra.ops->set_order(ra.d, 0, order, msg);
                        if (!rc) rc = rb.ops->set_order(rb.d, 0, order, msg);
                    }
                }
            CHECK_MSG(rc == 0, "%s: %s", nm, msg);
            void *va = malloc(bytes), *vb = malloc(bytes);
            const char *what[4] = {"parameters", "gradient", "first moment / velocity", "second moment"};
            for (int w = 0; w < 4 && !rc; w++) {
                int ea = w == 0   ? ra.ops->get_params(ra.d, va, msg)
                         : w == 1 ? ra.ops->get_grad(ra.d, va, msg)
                         : w == 2 ? ra.ops->get_state(ra.d, va, NULL, msg)
                                  : ra.ops->get_state(ra.d, NULL, va, msg);
                int eb = w == 0   ? rb.ops->get_params(rb.d, vb, msg)
                         : w == 1 ? rb.ops->get_grad(rb.d, vb, msg)
                         : w == 2 ? rb.ops->get_state(rb.d, vb, NULL, msg)
                                  : rb.ops->get_state(rb.d, NULL, vb, msg);
                CHECK_MSG(ea == 0 && eb == 0, "%s: reading the %s: %s", nm, what[w], msg);
                CHECK_MSG(memcmp(va, vb, bytes) == 0, "%s: the %s differ from pass + update's", nm, what[w]);
            }
            struct mlp_dev_acc aa, ab;
            if (!rc) {
                rc = ra.ops->read_acc(ra.d, &aa, msg);
                if (!rc) rc = rb.ops->read_acc(rb.d, &ab, msg);
                CHECK_MSG(rc == 0, "%s: read_acc: %s", nm, msg);
                CHECK_MSG(!rc && memcmp(&aa, &ab, sizeof aa) == 0 && aa.rows == (uint64_t)N * EPOCHS,
                          "%s: accumulators differ: loss %.17g / %.17g, pen %.17g / %.17g, correct %llu / %llu", nm,
                          aa.loss_sum, ab.loss_sum, aa.pen_sum, ab.pen_sum, (unsigned long long)aa.correct,
                          (unsigned long long)ab.correct);
            }
#ifdef TEST_CUDA_EMU
            unsigned long cap1, gl1;
            mlp_cuda_emu_graph_counts(&cap1, &gl1, &live);
            CHECK_MSG(gl1 - gl0 == n_steps, "%s: %lu graph launches for %u steps", nm, gl1 - gl0, n_steps);
            /* two shapes, the last one captured again after the upload */
            CHECK_MSG(cap1 - cap0 == 3, "%s: %lu captures for 2 shapes and an upload", nm, cap1 - cap0);
#endif
            free(va);
            free(vb);
            mlp__dev_close(&ra);
            mlp__dev_close(&rb);
            mlp_model_free(m);
        }
    free(order);
}

/* A whole training run through the trainer, which calls step where the
 * backend has it (Adam, batches of 64: a graph per shape under CUDA),
 * near the CPU's within runs()'s tolerances; under the emulation, the
 * graph path taken. */
static void step_run(void)
{
    struct setup s = {MLP_F32, MLP_HEAD_SOFTMAX_CE, MLP_ACT_RELU, 1, 0};
    uint32_t n_out;
    struct mlp_dataset ds = data_for(&s, &n_out);
    struct mlp_model *a = model_on(g_cpu, &s, n_out, &ds), *b = model_on(g_gpu, &s, n_out, &ds);
    if (!a || !b) return;
    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = MLP_OPT_ADAM;
    tp.epochs = 4;
    tp.batch = 64;
    tp.lr = 0.003;
    tp.l2 = 0.01;
    struct mlp_error err;
#ifdef TEST_CUDA_EMU
    unsigned long cap0, gl0, cap1, gl1;
    size_t live;
    mlp_cuda_emu_graph_counts(&cap0, &gl0, &live);
#endif
    CHECK_STATUS(mlp_model_train(a, &ds, &tp, &err), MLP_OK);
    CHECK_STATUS(mlp_model_train(b, &ds, &tp, &err), MLP_OK);
    double d = vec_diff(a, mlp_model_params_const(b), mlp_model_params_const(a));
    CHECK_MSG(d <= 5e-3, "adam batch 64 run: weights differ from the CPU's by %g", d);
    double acc_a, acc_b;
    CHECK_STATUS(mlp_model_evaluate(a, &ds, NULL, &acc_a, &err), MLP_OK);
    CHECK_STATUS(mlp_model_evaluate(b, &ds, NULL, &acc_b, &err), MLP_OK);
    CHECK_MSG(fabs(acc_a - acc_b) <= 0.02, "adam batch 64 run: accuracy %g, cpu %g", acc_b, acc_a);
#ifdef TEST_CUDA_EMU
    mlp_cuda_emu_graph_counts(&cap1, &gl1, &live);
    /* 4 epochs of 6 batches (5 of 64, 1 of 13) */
    CHECK_MSG(gl1 - gl0 == 24, "adam batch 64 run: %lu graph launches, 24 steps", gl1 - gl0);
    CHECK_MSG(cap1 - cap0 == 2, "adam batch 64 run: %lu captures for 2 shapes", cap1 - cap0);
#endif
    mlp_model_free(a);
    mlp_model_free(b);
}

#ifdef TEST_CUDA_EMU
/* One pass with gradient over every row on an open engine: its loss, or
 * NAN with the engine's message printed. */
static double emu_pass_loss(struct mlp_devrun *r)
{
    char msg[MLP_DEV_MSG] = "";
    struct mlp_dev_pass ps = {.slot = 0, .b0 = 0, .nb = N, .grad = 1, .l2 = 0.1};
    struct mlp_dev_acc acc;
    int rc = r->ops->pass(r->d, &ps, msg);
    if (!rc) rc = r->ops->read_acc(r->d, &acc, msg);
    CHECK_MSG(rc == 0, "pass: %s", msg);
    return rc ? NAN : acc.loss_sum + acc.pen_sum;
}

/* The engine's error paths, which a GPU seldom takes, by the emulation
 * failing the k-th cudaMalloc from a point on: open fails with
 * MLP_ERR_NOMEM whichever of its allocations fails and leaves nothing
 * allocated; so do upload and a pass's workspace, after which the engine
 * goes on (device.h): the same upload or pass again gives the loss of an
 * engine that never failed, bit for bit. */
static void emu_failures(void)
{
    struct setup s = {MLP_F64, MLP_HEAD_SOFTMAX_CE, MLP_ACT_TANH, 0, 1};
    uint32_t n_out;
    struct mlp_dataset ds = data_for(&s, &n_out);
    struct mlp_model *b = model_on(g_gpu, &s, n_out, &ds);
    if (!b) return;
    const size_t live = mlp_cuda_emu_live_allocs();
    struct mlp_error err;
    struct mlp_devrun r;
    double want = NAN;
    if (mlp__dev_open(&r, b, &err) == MLP_OK) {
        CHECK_STATUS(mlp__dev_upload(&r, 0, &ds, &err), MLP_OK);
        want = emu_pass_loss(&r);
        mlp__dev_close(&r);
    }
    CHECK_MSG(isfinite(want), "no reference loss: %s", err.msg);
    int opened = 0;
    for (unsigned long k = 1; k < 100 && !opened; k++) {
        mlp_cuda_emu_fail_malloc(k);
        enum mlp_status st = mlp__dev_open(&r, b, &err);
        mlp_cuda_emu_fail_malloc(0);
        if (st == MLP_OK) {
            opened = 1;
            mlp__dev_close(&r);
            break;
        }
        CHECK_MSG(st == MLP_ERR_NOMEM, "open, cudaMalloc %lu failing: %s (%s)", k, mlp_status_str(st), err.msg);
        CHECK_MSG(mlp_cuda_emu_live_allocs() == live, "open, cudaMalloc %lu failing: %zu allocations left", k,
                  mlp_cuda_emu_live_allocs() - live);
    }
    CHECK(opened);
    /* upload (k = 1..), then the workspace (k = 0: the pass's first) */
    for (unsigned long k = 1; k < 10; k++) {
        if (mlp__dev_open(&r, b, &err) != MLP_OK) {
            CHECK_MSG(0, "open: %s", err.msg);
            break;
        }
        mlp_cuda_emu_fail_malloc(k);
        enum mlp_status st = mlp__dev_upload(&r, 0, &ds, &err);
        mlp_cuda_emu_fail_malloc(0);
        int last = st == MLP_OK;
        if (!last) {
            CHECK_MSG(st == MLP_ERR_NOMEM, "upload, cudaMalloc %lu failing: %s (%s)", k, mlp_status_str(st), err.msg);
            st = mlp__dev_upload(&r, 0, &ds, &err);
            CHECK_MSG(st == MLP_OK, "upload after a failed one (cudaMalloc %lu): %s (%s)", k, mlp_status_str(st),
                      err.msg);
        } else {
            char msg[MLP_DEV_MSG] = "";
            struct mlp_dev_pass ps = {.slot = 0, .b0 = 0, .nb = N, .grad = 1};
            mlp_cuda_emu_fail_malloc(1);
            int rc = r.ops->pass(r.d, &ps, msg);
            mlp_cuda_emu_fail_malloc(0);
            CHECK_MSG(rc == MLP_ERR_NOMEM, "pass, its workspace's cudaMalloc failing: %d (%s)", rc, msg);
        }
        double got = emu_pass_loss(&r);
        CHECK_MSG(got == want, "after a failed %s: loss %.17g, %.17g without", last ? "pass" : "upload", got, want);
        mlp__dev_close(&r);
        CHECK_MSG(mlp_cuda_emu_live_allocs() == live, "%zu allocations left", mlp_cuda_emu_live_allocs() - live);
        if (last) break;
    }
    mlp_model_free(b);
}

/* A CPU context on the emulated engine, as mlp_context_create makes a GPU's
 * once it has loaded the plugin. */
static struct mlp_context *emu_context(enum mlp_device_math math)
{
    struct mlp_context_params cp = mlp_context_params_default();
    struct mlp_context *c = NULL;
    struct mlp_error err = {0};
    CHECK_STATUS(mlp_context_create(&c, &cp, &err), MLP_OK);
    if (c) CHECK_STATUS(mlp__context_set_device(c, mlp_dev_cuda_ops(), "cuda-emu", 0, (int)math, &err), MLP_OK);
    return c;
}
#endif

int main(void)
{
    struct mlp_context_params cp = mlp_context_params_default();
    struct mlp_error err = {0};
#ifdef TEST_CUDA_EMU
    g_gpu = emu_context(MLP_DEVICE_MATH_EXACT);
    g_tf32 = emu_context(MLP_DEVICE_MATH_TF32);
    g_bf16 = emu_context(MLP_DEVICE_MATH_BF16);
    if (!g_gpu) return check_report("test_cuda_emu");
#else
    cp.device = MLP_DEVICE_CUDA;
    if (mlp_context_create(&g_gpu, &cp, &err) != MLP_OK) {
        printf("SKIPPED: no CUDA device (%s)\n", err.msg);
        return 77;
    }
    cp.device_math = MLP_DEVICE_MATH_TF32;
    if (mlp_context_create(&g_tf32, &cp, &err) != MLP_OK) printf("test_cuda: no TF32 context: %s\n", err.msg);
    cp.device_math = MLP_DEVICE_MATH_BF16;
    if (mlp_context_create(&g_bf16, &cp, &err) != MLP_OK) printf("test_cuda: no BF16 context: %s\n", err.msg);
#endif
    printf("test_cuda: on %s\n", mlp_context_device(g_gpu));
    cp = mlp_context_params_default();
    cp.threads = 1;
    CHECK_STATUS(mlp_context_create(&g_cpu, &cp, &err), MLP_OK);
    make_data();
    passes();
    updates();
    runs();
    steps();
    step_run();
#ifdef TEST_CUDA_EMU
    emu_failures();
    CHECK_MSG(mlp_cuda_emu_selftest() == 0, "the emulation's capture checks missed misuses (lines above)");
#endif
    mlp_context_free(g_cpu);
    mlp_context_free(g_gpu);
    mlp_context_free(g_tf32);
    mlp_context_free(g_bf16);
#ifdef TEST_CUDA_EMU
    unsigned long launches, blocks, gemms;
    mlp_cuda_emu_counts(&launches, &blocks, &gemms);
    printf("test_cuda_emu: %lu launches, %lu blocks, %lu GEMMs emulated\n", launches, blocks, gemms);
    unsigned long captures, graph_launches;
    size_t live_graphs;
    mlp_cuda_emu_graph_counts(&captures, &graph_launches, &live_graphs);
    printf("test_cuda_emu: %lu captures, %lu graph launches\n", captures, graph_launches);
    CHECK_MSG(live_graphs == 0, "%zu graphs, executable graphs or captures never ended or destroyed", live_graphs);
    CHECK_MSG(mlp_cuda_emu_faults() == 0, "the emulation saw %lu misuses (cuda_emu: lines above)",
              mlp_cuda_emu_faults());
    CHECK_MSG(mlp_cuda_emu_live_allocs() == 0, "%zu device allocations never freed", mlp_cuda_emu_live_allocs());
    return check_report("test_cuda_emu");
#else
    return check_report("test_cuda");
#endif
}
