/* SPDX-License-Identifier: MIT */
/* Training end to end: XOR converges, a small real data set (Fashion-MNIST)
 * learns, runs are bit-identical for the same seed and thread count,
 * save -> load gives identical predictions, divergence is caught and the
 * caller can stop training. */
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
    mlp_dataset_truncate(&f->train, 3000);
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
            CHECK_MSG(acc > 0.72, "Fashion-MNIST 3000 rows, 3 epochs: test accuracy %.3f", acc);

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

    mlp_model_init(m, MLP_INIT_ZEROS, 0, 0, 0);
    tp.lr = 1e-3;
    int calls = 0;
    tp.on_epoch = stop_after_two;
    tp.user = &calls;
    CHECK_STATUS(mlp_model_train(m, &ds, &tp, &err), MLP_ERR_STOPPED);
    CHECK(calls == 2);
    mlp_model_free(m);
}

static void count_log(int level, const char *msg, void *user)
{
    int *n = user;
    if (level == MLP_LOG_INFO && strncmp(msg, "train: 4 rows", 13) == 0) ++*n;
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
    return check_report("train");
}
