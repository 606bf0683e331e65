/* SPDX-License-Identifier: MIT */
/* Training end to end: XOR converges, a small real data set (Fashion-MNIST)
 * learns, runs are bit-identical for the same seed and thread count,
 * save -> load gives identical predictions, divergence is caught and the
 * caller can stop training; the reported train loss is the data loss that
 * evaluation computes, with the L2 term apart, and the model records why
 * its run ended and which epoch's weights it holds. */
#include "datadir.h"
#include "testutil.h"
#include "fastmlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int count_epochs(const struct mlp_epoch_stats *e, void *user)
{
    (void)e;
    ++*(int *)user;
    return 0;
}

/* The statistics of the last epoch reported. */
static int keep_last(const struct mlp_epoch_stats *e, void *user)
{
    *(struct mlp_epoch_stats *)user = *e;
    return 0;
}

static void xor_converges(enum mlp_dtype dt, enum mlp_optim opt)
{
    static const double x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const int32_t y[4] = {0, 1, 1, 0};
    struct mlp_dataset ds = {.n_rows = 4, .n_cols = 2, .x_type = MLP_ELEM_F64, .x = x, .labels = y, .n_classes = 2};
    struct mlp_layer_spec h[1] = {{4, MLP_ACT_TANH}};
    struct mlp_model *m = test_model(dt, 2, 1, h, 1, MLP_HEAD_SIGMOID_BCE, 1);
    if (!m) return;
    mlp_model_init(m, MLP_INIT_UNIFORM, -1, 1, 7);
    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = opt;
    tp.lr = opt == MLP_OPT_GD ? 0.5 : 0.05;
    tp.batch = 4;
    tp.epochs = opt == MLP_OPT_CG || opt == MLP_OPT_LBFGS ? 200 : 2000; /* iterations of the solvers */
    int calls = 0;
    tp.on_epoch = count_epochs;
    tp.user = &calls;
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
    CHECK(calls >= 1 && (uint32_t)calls <= tp.epochs);
    double loss, acc;
    CHECK_STATUS(mlp_model_evaluate(m, &ds, &loss, &acc, NULL), MLP_OK);
    CHECK_MSG(loss < 0.05 && acc == 1.0, "XOR %s %s: loss %g acc %g", mlp_dtype_name(dt), mlp_optim_name(opt), loss, acc);
    if (opt == MLP_OPT_CG || opt == MLP_OPT_LBFGS) {
        /* The solvers report the training accuracy of each accepted point
         * from the objective's own pass when it was the last evaluated:
         * it must be the accuracy of the weights the iteration ends with. */
        mlp_model_init(m, MLP_INIT_UNIFORM, -1, 1, 11);
        tp.epochs = 3;
        struct mlp_epoch_stats last = {0};
        tp.on_epoch = keep_last;
        tp.user = &last;
        CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
        CHECK_STATUS(mlp_model_evaluate(m, &ds, &loss, &acc, NULL), MLP_OK);
        CHECK_MSG(last.epoch == 3 && last.train_acc == acc && fabs(last.train_loss - loss) < 1e-6,
                  "%s: epoch %u train_acc %g loss %g, evaluated %g %g", mlp_optim_name(opt), last.epoch,
                  last.train_acc, last.train_loss, acc, loss);
    }
    mlp_model_free(m);
}

struct fm {
    struct mlp_dataset train, test;
};

/* Fashion-MNIST rows for real_data's twelve runs, and the accuracy they
 * reach in 3 epochs.  Under an emulator (the aarch64 cross build's tests,
 * FASTMLP_TEST_EMULATED: qemu-aarch64, twice) a third of them: the same
 * determinism and save/load checks, a lower bar. */
#ifdef FASTMLP_TEST_EMULATED
#define FM_ROWS 1000
#define FM_ACC 0.65
#else
#define FM_ROWS 3000
#define FM_ACC 0.72
#endif

static int load_fm(struct fm *f)
{
    struct mlp_error err;
    memset(f, 0, sizeof *f);
    if (mlp_dataset_load_idx(&f->train, test_fmnist_path("train-images-idx3-ubyte.gz"),
                             test_fmnist_path("train-labels-idx1-ubyte.gz"), &err) != MLP_OK ||
        mlp_dataset_load_idx(&f->test, test_fmnist_path("t10k-images-idx3-ubyte.gz"),
                             test_fmnist_path("t10k-labels-idx1-ubyte.gz"), &err) != MLP_OK) {
        CHECK_MSG(0, "Fashion-MNIST (installed by make setup) cannot be loaded: %s", err.msg);
        return -1;
    }
    mlp_dataset_truncate(&f->train, FM_ROWS);
    mlp_dataset_truncate(&f->test, 1000);
    return 0;
}

static struct mlp_model *train_fm(const struct fm *f, enum mlp_dtype dt, int threads, uint64_t seed)
{
    struct mlp_layer_spec h[1] = {{64, MLP_ACT_RELU}};
    test_use(threads, MLP_KERNELS_FAST);
    struct mlp_model *m = test_model(dt, 784, 1, h, 10, MLP_HEAD_SOFTMAX_CE, 1.0 / 255);
    if (!m) return NULL;
    mlp_model_init(m, MLP_INIT_HE, 0, 0, seed);
    struct mlp_train_params tp = mlp_train_params_default();
    tp.epochs = 3;
    tp.seed = seed;
    tp.eval = &f->test;
    CHECK_STATUS(mlp_model_train(m, &f->train, &tp, NULL), MLP_OK);
    return m;
}

static void real_data(const struct fm *f)
{
    for (int d = 0; d < 2; d++) {
        enum mlp_dtype dt = d ? MLP_F64 : MLP_F32;
        size_t es = d ? 8 : 4;
        for (int threads = 1; threads <= 2; threads++) {
            struct mlp_model *a = train_fm(f, dt, threads, 11), *b = train_fm(f, dt, threads, 11);
            struct mlp_model *c = train_fm(f, dt, threads, 12);
            if (!a || !b || !c) goto next;
            size_t n = mlp_model_n_params(a);
            CHECK_MSG(memcmp(mlp_model_params(a), mlp_model_params(b), n * es) == 0,
                      "%s, %d threads: two runs with the same seed differ", mlp_dtype_name(dt), threads);
            CHECK(memcmp(mlp_model_params(a), mlp_model_params(c), n * es) != 0);
            double loss, acc;
            CHECK_STATUS(mlp_model_evaluate(a, &f->test, &loss, &acc, NULL), MLP_OK);
            CHECK_MSG(acc > FM_ACC, "Fashion-MNIST %d rows, 3 epochs: test accuracy %.3f", FM_ROWS, acc);

            /* save -> load -> identical predictions */
            char path[] = "/tmp/fastmlp_test_XXXXXX";
            int fd = mkstemp(path);
            CHECK(fd >= 0);
            if (fd >= 0) close(fd);
            struct mlp_model *l = NULL;
            CHECK_STATUS(mlp_model_save(a, path, NULL), MLP_OK);
            CHECK_STATUS(mlp_model_load(&l, path, NULL), MLP_OK);
            unlink(path);
            if (l) {
                mlp_model_set_context(l, mlp_model_context(a)); /* the same threads */
                double *p1 = malloc(1000 * 10 * 8), *p2 = malloc(1000 * 10 * 8);
                CHECK_STATUS(mlp_model_predict(a, &f->test, MLP_ROWS(0, 1000), p1, NULL), MLP_OK);
                CHECK_STATUS(mlp_model_predict(l, &f->test, MLP_ROWS(0, 1000), p2, NULL), MLP_OK);
                CHECK(memcmp(p1, p2, 1000 * 10 * 8) == 0);
                CHECK(mlp_model_dtype(l) == dt && mlp_model_n_layers(l) == 2 && mlp_model_input_scale(l) == 1.0 / 255);
                free(p1);
                free(p2);
            }
            mlp_model_free(l);
        next:
            mlp_model_free(a);
            mlp_model_free(b);
            mlp_model_free(c);
        }
    }
}

static int stop_after_two(const struct mlp_epoch_stats *s, void *user)
{
    int *calls = user;
    ++*calls;
    return s->epoch >= 2;
}

static void divergence_and_stop(void)
{
    static const double x[4] = {1, 2, 3, 4}, t[4] = {10, 20, 30, 40};
    struct mlp_dataset ds = {.n_rows = 4, .n_cols = 1, .x_type = MLP_ELEM_F64, .x = x, .targets = t, .n_targets = 1};
    struct mlp_model *m = test_model(MLP_F64, 1, 0, NULL, 1, MLP_HEAD_IDENTITY_MSE, 1);
    if (!m) return;
    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = MLP_OPT_GD;
    tp.lr = 1e6;
    tp.epochs = 200;
    struct mlp_error err = {0};
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, &err), MLP_ERR_DIVERGED);
    CHECK(strstr(err.msg, "diverged") != NULL);
    const double *w = mlp_model_params(m);
    CHECK(isfinite(w[0]) && isfinite(w[1]));
    /* the weights of the last good epoch, and the model says which (the
     * message does not claim it: a CLI run saves none) */
    struct mlp_train_meta tm = mlp_model_train_meta(m);
    CHECK_MSG(tm.stop_reason == MLP_STOP_DIVERGED && tm.epoch_kept == tm.epochs && strstr(err.msg, "kept") == NULL,
              "diverged: %s, weights of epoch %u of %u; %s", mlp_stop_reason_name((enum mlp_stop_reason)tm.stop_reason),
              tm.epoch_kept, tm.epochs, err.msg);
    char want[64];
    snprintf(want, sizeof want, "diverged in epoch %u ", tm.epochs + 1);
    CHECK_MSG(strstr(err.msg, want) != NULL, "%s (wanted \"%s\")", err.msg, want);

    mlp_model_init(m, MLP_INIT_ZEROS, 0, 0, 0);
    tp.lr = 1e-3;
    int calls = 0;
    tp.on_epoch = stop_after_two;
    tp.user = &calls;
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, &err), MLP_ERR_STOPPED);
    CHECK(calls == 2);
    mlp_model_free(m);
}

/* The L2 term l2/(2n) sum w^2 of a model's weights (biases excluded),
 * by hand. */
static double penalty_of(struct mlp_model *m, double l2, double n)
{
    const double *w = mlp_model_params(m);
    double sq = 0;
    for (uint32_t l = 0; l < mlp_model_n_layers(m); l++) {
        size_t o = mlp_model_w_offset(m, l), nw = mlp_model_b_offset(m, l) - o;
        for (size_t i = 0; i < nw; i++) sq += w[o + i] * w[o + i];
    }
    return l2 / (2 * n) * sq;
}

/* train_loss is the data loss, as test_loss and mlp_model_evaluate define
 * it; the L2 term is reported apart as penalty.  GD's epoch figures are
 * those of the weights before its update, so one epoch's are the initial
 * model's; a solver's are those of the point it ends the iteration at. */
static void loss_definitions(void)
{
    enum { N = 40 };
    double x[N * 3];
    int32_t y[N];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 3; j++) x[i * 3 + j] = sin(1.7 * i + j) * 2;
        y[i] = x[i * 3] + 0.5 * x[i * 3 + 1] > 0;
    }
    struct mlp_dataset ds = {.n_rows = N, .n_cols = 3, .x_type = MLP_ELEM_F64, .x = x, .labels = y, .n_classes = 2};
    struct mlp_layer_spec h[1] = {{5, MLP_ACT_TANH}};
    for (int opt = 0; opt < 3; opt++) {
        const enum mlp_optim o = opt == 0 ? MLP_OPT_GD : opt == 1 ? MLP_OPT_LBFGS : MLP_OPT_ADAM;
        struct mlp_model *m = test_model(MLP_F64, 3, 1, h, 2, MLP_HEAD_SOFTMAX_CE, 1), *m0 = NULL;
        if (!m) return;
        mlp_model_init(m, MLP_INIT_UNIFORM, -2, 2, 3); /* large weights: a large penalty */
        CHECK_STATUS(mlp_model_clone(&m0, m, NULL), MLP_OK);
        struct mlp_train_params tp = mlp_train_params_default();
        tp.optim = o;
        tp.l2 = 3;
        tp.lr = 0.1;
        tp.epochs = o == MLP_OPT_LBFGS ? 2 : 1;
        tp.batch = N;
        struct mlp_epoch_stats last = {0};
        tp.on_epoch = keep_last;
        tp.user = &last;
        CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
        /* GD and one-batch Adam: the initial weights; L-BFGS: the final ones */
        struct mlp_model *at = o == MLP_OPT_LBFGS ? m : m0;
        double loss, acc;
        CHECK_STATUS(mlp_model_evaluate(at, &ds, &loss, &acc, NULL), MLP_OK);
        const double pen = penalty_of(at, tp.l2, N);
        CHECK_MSG(pen > 0.1, "%s: the test needs a penalty well above the tolerance (%g)", mlp_optim_name(o), pen);
        CHECK_MSG(fabs(last.train_loss - loss) <= 1e-12 * (pen + loss) && fabs(last.penalty - pen) <= 1e-12 * pen,
                  "%s, l2 %g: train_loss %.17g penalty %.17g; evaluated loss %.17g, penalty by hand %.17g",
                  mlp_optim_name(o), tp.l2, last.train_loss, last.penalty, loss, pen);
        /* without L2 the penalty is 0 */
        tp.l2 = 0;
        CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
        CHECK(last.penalty == 0);
        mlp_model_free(m);
        mlp_model_free(m0);
    }
}

/* Why a run ended and which epoch's weights the model holds
 * (mlp_train_meta.stop_reason, epoch_kept), and the names. */
static void stop_reasons(void)
{
    static const double x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const int32_t y[4] = {0, 1, 1, 0};
    struct mlp_dataset ds = {.n_rows = 4, .n_cols = 2, .x_type = MLP_ELEM_F64, .x = x, .labels = y, .n_classes = 2};
    struct mlp_layer_spec h[1] = {{4, MLP_ACT_TANH}};
    struct mlp_model *m = test_model(MLP_F64, 2, 1, h, 1, MLP_HEAD_SIGMOID_BCE, 1);
    if (!m) return;
    struct mlp_train_meta tm = mlp_model_train_meta(m);
    CHECK(tm.stop_reason == MLP_STOP_NONE && tm.epoch_kept == 0);
    mlp_model_init(m, MLP_INIT_UNIFORM, -1, 1, 7);
    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = MLP_OPT_GD;
    tp.lr = 0.5;
    tp.epochs = 5;
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
    tm = mlp_model_train_meta(m);
    CHECK_MSG(tm.stop_reason == MLP_STOP_EPOCHS && tm.epochs == 5 && tm.epoch_kept == 5, "gd: %s, %u of %u",
              mlp_stop_reason_name((enum mlp_stop_reason)tm.stop_reason), tm.epoch_kept, tm.epochs);
    /* L-BFGS: the most iterations, then a tolerance met at once */
    tp.optim = MLP_OPT_LBFGS;
    tp.epochs = 3;
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
    tm = mlp_model_train_meta(m);
    CHECK_MSG(tm.stop_reason == MLP_STOP_MAX_ITER && tm.epochs == 8 && tm.epoch_kept == 8, "lbfgs: %s, %u of %u",
              mlp_stop_reason_name((enum mlp_stop_reason)tm.stop_reason), tm.epoch_kept, tm.epochs);
    tp.gtol = 1e3;
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_OK);
    tm = mlp_model_train_meta(m);
    CHECK_MSG(tm.stop_reason == MLP_STOP_GTOL, "lbfgs, gtol 1e3: %s",
              mlp_stop_reason_name((enum mlp_stop_reason)tm.stop_reason));
    /* stopped by the caller: the run is recorded all the same */
    tp.optim = MLP_OPT_ADAM;
    tp.lr = 0.01;
    tp.batch = 2;
    tp.epochs = 50;
    tp.on_epoch = stop_after_two;
    int calls = 0;
    tp.user = &calls;
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, NULL), MLP_ERR_STOPPED);
    tm = mlp_model_train_meta(m);
    CHECK_MSG(tm.stop_reason == MLP_STOP_REQUESTED && tm.optim == MLP_OPT_ADAM && tm.lr == 0.01 && tm.batch == 2 &&
                  tm.epochs == 8 + 2 && tm.epoch_kept == tm.epochs && tm.samples == 4,
              "stopped: %s, optim %u, lr %g, %u of %u", mlp_stop_reason_name((enum mlp_stop_reason)tm.stop_reason),
              tm.optim, tm.lr, tm.epoch_kept, tm.epochs);
    CHECK(strcmp(mlp_stop_reason_name(MLP_STOP_REQUESTED), "requested") == 0);
    CHECK(strcmp(mlp_stop_reason_name(MLP_STOP_GTOL), "gtol") == 0 &&
          strcmp(mlp_stop_reason_name(MLP_STOP_EARLY), "early") == 0 &&
          strcmp(mlp_stop_reason_name(MLP_STOP_LINESEARCH), "line-search") == 0 &&
          strcmp(mlp_stop_reason_name(MLP_STOP_COUNT), "unknown") == 0);
    mlp_model_free(m);
}

static void count_log(int level, const char *msg, void *user)
{
    int *n = user;
    if (level == MLP_LOG_INFO && strncmp(msg, "train: 4 rows", 13) == 0) ++*n;
}

/* mlp_trainer_continue: a run of 3 epochs continued by 2 on the same data is
 * the run of 5, bit for bit (Adam's moments and step, the shuffle stream
 * kept); another data set of other rows goes on too; what it refuses. */
static int stop_at_first_batch(const struct mlp_batch_info *b, void *user);

static void continue_runs(void)
{
    enum { N = 40, D = 3 };
    double x[N * D];
    int32_t y[N];
    struct mlp_rng r;
    mlp_rng_seed(&r, 3);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) x[i * D + j] = mlp_rng_uniform(&r) * 2 - 1;
        y[i] = x[i * D] + x[i * D + 1] > 0;
    }
    struct mlp_dataset ds = {.n_rows = N, .n_cols = D, .x_type = MLP_ELEM_F64, .x = x, .labels = y, .n_classes = 2};
    struct mlp_dataset half = ds;
    half.n_rows = N / 2 + 3;
    struct mlp_layer_spec h[1] = {{5, MLP_ACT_TANH}};
    struct mlp_model *a = test_model(MLP_F64, D, 1, h, 1, MLP_HEAD_SIGMOID_BCE, 1);
    struct mlp_model *b = test_model(MLP_F64, D, 1, h, 1, MLP_HEAD_SIGMOID_BCE, 1);
    if (!a || !b) return;
    mlp_model_init(a, MLP_INIT_XAVIER, 0, 0, 1);
    mlp_model_init(b, MLP_INIT_XAVIER, 0, 0, 1);
    struct mlp_train_params tp = mlp_train_params_default();
    tp.batch = 7;
    tp.epochs = 5;
    tp.lr = 0.05;
    struct mlp_error err;
    CHECK_STATUS(mlp_model_train(a, &ds, &tp, &err), MLP_OK);
    tp.epochs = 3;
    struct mlp_trainer *t = NULL;
    CHECK_STATUS(mlp_trainer_create(&t, b, &ds, &tp, &err), MLP_OK);
    if (!t) return;
    CHECK_STATUS(mlp_trainer_run(t, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_continue(t, &ds, 2, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_run(t, &err), MLP_OK);
    CHECK(mlp_trainer_epochs_done(t) == 5);
    CHECK(memcmp(mlp_model_params_const(a), mlp_model_params_const(b), mlp_model_n_params(a) * sizeof(double)) == 0);
    uint32_t nh = 0;
    mlp_trainer_history(t, &nh);
    CHECK(nh == 5);
    /* other rows, another count of them */
    CHECK_STATUS(mlp_trainer_continue(t, &half, 1, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_run(t, &err), MLP_OK);
    CHECK(mlp_trainer_epochs_done(t) == 6);
    /* refusals: another width, zero epochs */
    struct mlp_dataset wide = ds;
    wide.n_cols = D - 1;
    CHECK_STATUS(mlp_trainer_continue(t, &wide, 1, &err), MLP_ERR_SHAPE);
    CHECK_STATUS(mlp_trainer_continue(t, &ds, 0, &err), MLP_ERR_ARG);
    mlp_trainer_free(t);
    /* mid-epoch: a stop asked for at a batch boundary */
    t = NULL;
    CHECK_STATUS(mlp_trainer_create(&t, b, &ds, &tp, &err), MLP_OK);
    if (t) {
        mlp_trainer_set_callbacks(t, NULL, stop_at_first_batch, NULL);
        CHECK_STATUS(mlp_trainer_run(t, &err), MLP_ERR_STOPPED);
        CHECK_STATUS(mlp_trainer_continue(t, &ds, 1, &err), MLP_ERR_ARG);
        CHECK(strstr(err.msg, "middle of epoch 1") != NULL);
        mlp_trainer_free(t);
    }
    /* CG and the cosine schedule */
    tp.optim = MLP_OPT_CG;
    t = NULL;
    CHECK_STATUS(mlp_trainer_create(&t, b, &ds, &tp, &err), MLP_OK);
    if (t) CHECK_STATUS(mlp_trainer_continue(t, &ds, 1, &err), MLP_ERR_ARG);
    mlp_trainer_free(t);
    tp.optim = MLP_OPT_ADAM;
    tp.schedule = MLP_SCHED_COSINE;
    t = NULL;
    CHECK_STATUS(mlp_trainer_create(&t, b, &ds, &tp, &err), MLP_OK);
    if (t) CHECK_STATUS(mlp_trainer_continue(t, &ds, 1, &err), MLP_ERR_ARG);
    mlp_trainer_free(t);
    mlp_model_free(a);
    mlp_model_free(b);
}

static int stop_at_first_batch(const struct mlp_batch_info *b, void *user)
{
    (void)user;
    return b->batch == 1;
}

int main(void)
{
    /* The log sink sees what training does; the library itself prints nothing. */
    int logged = 0;
    mlp_set_log(count_log, &logged);
    xor_converges(MLP_F64, MLP_OPT_GD);
    mlp_set_log(NULL, NULL);
    CHECK(logged == 1);
    xor_converges(MLP_F32, MLP_OPT_ADAM);
    xor_converges(MLP_F64, MLP_OPT_SGD);
    xor_converges(MLP_F64, MLP_OPT_CG);
    xor_converges(MLP_F32, MLP_OPT_LBFGS);
    struct fm f;
    if (load_fm(&f) == 0) real_data(&f);
    mlp_dataset_free(&f.train);
    mlp_dataset_free(&f.test);
    divergence_and_stop();
    loss_definitions();
    stop_reasons();
    continue_runs();
    return check_report("train");
}
