/* SPDX-License-Identifier: MIT */
/* `fastmlp train`: build a network from flags, train it on a data set, report
 * per-epoch figures (stdout and an optional JSON-lines log), save the model. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct train_opts {
    const char *train, *train_labels, *test, *test_labels, *out, *log_json;
    const char *layers, *activation, *head, *init, *optimizer, *dtype, *init_range;
    double lr, momentum, l2, scale, leaky, valid_fraction;
    uint32_t batch, epochs, classes;
    uint64_t seed, limit;
    int threads, nesterov, quiet, standardize;
    struct data_opts data;
};

struct log_ctx {
    FILE *json;
    const char *json_path; /* opened at the first epoch, once the data has passed every check */
    int json_errno;        /* set when it could not be created */
    const char *eval_name; /* "test" or "valid": the set evaluated each epoch */
    uint32_t epochs;
    int quiet;
    double total_s;
    uint64_t samples;
};

static int on_epoch(const struct mlp_epoch_stats *s, void *user)
{
    struct log_ctx *c = user;
    if (c->json_path && !c->json && !(c->json = fopen(c->json_path, "w"))) {
        c->json_errno = errno;
        return 1; /* stop: reported as "cannot create the JSON log" */
    }
    c->total_s += s->seconds;
    if (!c->quiet) {
        printf("epoch %u/%u  train_loss %.6f", s->epoch, c->epochs, s->train_loss);
        if (s->train_acc >= 0) printf("  train_acc %.4f", s->train_acc);
        if (s->test_loss >= 0) printf("  %s_loss %.6f", c->eval_name, s->test_loss);
        if (s->test_acc >= 0) printf("  %s_acc %.4f", c->eval_name, s->test_acc);
        printf("  %.2fs  %.0f samples/s\n", s->seconds, s->samples_per_s);
        fflush(stdout);
    }
    if (c->json) {
        fprintf(c->json,
                "{\"epoch\": %u, \"train_loss\": %.17g, \"train_acc\": %.17g, \"%s_loss\": %.17g, "
                "\"%s_acc\": %.17g, \"seconds\": %.6f, \"samples_per_s\": %.3f}\n",
                s->epoch, s->train_loss, s->train_acc, c->eval_name, s->test_loss, c->eval_name, s->test_acc,
                s->seconds, s->samples_per_s);
        fflush(c->json);
    }
    return 0;
}

/* Refuse up front a network whose weights, gradient, last good copy and
 * optimizer state cannot fit in this machine's memory, rather than failing
 * (or swapping) after minutes of allocation. */
static enum mlp_status check_memory(const struct mlp_model_params *mp, enum mlp_optim optim, double momentum,
                                    struct mlp_error *err)
{
    double n = 0, prev = mp->n_in;
    for (uint32_t i = 0; i <= mp->n_hidden; i++) {
        double w = i < mp->n_hidden ? mp->hidden[i].n_out : mp->n_out;
        n += prev * w + w;
        prev = w;
    }
    int copies = 3 + (optim == MLP_OPT_ADAM ? 2 : optim == MLP_OPT_SGD && momentum > 0 ? 1 : 0);
    double need = n * copies * (mp->dtype == MLP_F32 ? 4 : 8);
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    double have = pages > 0 && psize > 0 ? (double)pages * (double)psize : 0;
    if (have > 0 && need > have) {
        snprintf(err->msg, sizeof err->msg,
                 "the network has %.0f parameters: training needs %.1f GiB, this machine has %.1f GiB", n,
                 need / (1u << 30), have / (1u << 30));
        return err->status = MLP_ERR_NOMEM;
    }
    return MLP_OK;
}

int cmd_train(int argc, char **argv)
{
    const char *cmd = "train";
    struct train_opts o = {
        .layers = "256,128", .activation = "relu", .head = "softmax-ce", .init = "he", .optimizer = "adam",
        .dtype = "f32", .init_range = "-0.5,0.5", .lr = 1e-3, .momentum = 0.9, .scale = NAN,
        .leaky = 0.01, .batch = 64, .epochs = 5, .seed = 42, .threads = 0, .limit = UINT64_MAX};
    const struct opt opts[] = {
        {"--train", 0, OPT_STR, &o.train, "FILE", "training data: CSV, IDX (.gz or plain), NPY or HDF5", "Data"},
        {"--train-labels", 0, OPT_STR, &o.train_labels, "FILE", "training labels, for IDX and NPY", "Data"},
        {"--test", 0, OPT_STR, &o.test, "FILE", "test data, evaluated after each epoch", "Data"},
        {"--test-labels", 0, OPT_STR, &o.test_labels, "FILE", "test labels, for IDX and NPY", "Data"},
        {"--valid-fraction", 0, OPT_DBL, &o.valid_fraction, "F",
         "hold out this fraction of the training rows (by --seed) and evaluate it each epoch [0]", "Data"},
        {"--limit", 0, OPT_U64, &o.limit, "N", "use only the first N training rows [all]", "Data"},
        {"--scale", 0, OPT_DBL, &o.scale, "X", "multiply inputs by X [1/255 for uint8 data, else 1]", "Data"},
        {"--standardize", 0, OPT_FLAG, &o.standardize, NULL,
         "standardise each input by the training data's mean and std (kept in the model) [off]", "Data"},
        {"--classes", 0, OPT_U32, &o.classes, "K", "number of classes [1 + largest label]", "Data"},
        {"--layers", 0, OPT_STR, &o.layers, "W,W,..", "hidden layer widths, 'none' for none [256,128]", "Network"},
        {"--activation", 0, OPT_STR, &o.activation, "NAME", "hidden activation: identity sigmoid tanh relu leaky-relu [relu]", "Network"},
        {"--leaky-slope", 0, OPT_DBL, &o.leaky, "X", "slope of leaky-relu below 0 [0.01]", "Network"},
        {"--head", 0, OPT_STR, &o.head, "NAME", "output head: softmax-ce sigmoid-bce identity-mse sigmoid-mse tanh-mse [softmax-ce]", "Network"},
        {"--dtype", 0, OPT_STR, &o.dtype, "f32|f64", "precision [f32]", "Network"},
        {"--init", 0, OPT_STR, &o.init, "NAME", "initialiser: zeros uniform xavier he [he]", "Network"},
        {"--init-range", 0, OPT_STR, &o.init_range, "A,B", "range for --init uniform [-0.5,0.5]", "Network"},
        {"--optimizer", 0, OPT_STR, &o.optimizer, "NAME", "gd (full batch), sgd, adam [adam]", "Training"},
        {"--lr", 0, OPT_DBL, &o.lr, "X", "learning rate [0.001]", "Training"},
        {"--momentum", 0, OPT_DBL, &o.momentum, "X", "SGD momentum [0.9]", "Training"},
        {"--nesterov", 0, OPT_FLAG, &o.nesterov, NULL, "Nesterov momentum (sgd) [off]", "Training"},
        {"--batch", 0, OPT_U32, &o.batch, "N", "mini-batch size (sgd, adam) [64]", "Training"},
        {"--epochs", 0, OPT_U32, &o.epochs, "N", "epochs [5]", "Training"},
        {"--l2", 0, OPT_DBL, &o.l2, "X", "L2 penalty lambda: lambda/(2m) sum w^2, biases excluded [0]", "Training"},
        {"--seed", 0, OPT_U64, &o.seed, "N", "seed for initialisation and shuffling [42]", "Training"},
        {"--threads", 0, OPT_INT, &o.threads, "N", "threads, 0 = all cores [0]", "Training"},
        {"--output", 'o', OPT_STR, &o.out, "FILE", "save the trained model to FILE", "Output"},
        {"--log-json", 0, OPT_STR, &o.log_json, "FILE", "write one JSON object per epoch to FILE", "Output"},
        {"--quiet", 'q', OPT_FLAG, &o.quiet, NULL, "print only the final summary", "Output"},
        DATA_OPTIONS(o.data),
        {0}};
    const char *pos[1];
    int n_pos;
    bool help;
    int rc = cli_parse(cmd, argc, argv, 2, opts, pos, 0, &n_pos, &help);
    if (rc != EXIT_OK) return rc;
    if (help) {
        cli_print_help(stdout, "usage: fastmlp train --train FILE [--train-labels FILE] [options]", opts);
        return EXIT_OK;
    }
    if (!o.train) return cli_usage_error(cmd, "--train FILE is required");
    if (o.epochs == 0) return cli_usage_error(cmd, "--epochs must be at least 1");
    if (o.limit == 0) return cli_usage_error(cmd, "--limit must be at least 1");
    if (o.test_labels && !o.test) return cli_usage_error(cmd, "--test-labels needs --test");
    if (!(o.valid_fraction >= 0 && o.valid_fraction < 1))
        return cli_usage_error(cmd, "--valid-fraction %g must be in [0, 1)", o.valid_fraction);
    if (!isnan(o.scale) && (o.scale == 0 || !isfinite(o.scale)))
        return cli_usage_error(cmd, "--scale %g must be finite and non-zero", o.scale);
    struct mlp_load_params lp;
    if ((rc = cli_load_params(cmd, &o.data, &lp)) != EXIT_OK) return rc;
    lp.threads = o.threads;
    int act = mlp_act_parse(o.activation), head = mlp_head_parse(o.head), init = mlp_init_parse(o.init);
    int optim = mlp_optim_parse(o.optimizer), dtype = mlp_dtype_parse(o.dtype);
    if (act < 0) return cli_usage_error(cmd, "unknown activation '%s'", o.activation);
    if (head < 0) return cli_usage_error(cmd, "unknown head '%s'", o.head);
    if (init < 0) return cli_usage_error(cmd, "unknown initialiser '%s'", o.init);
    if (optim < 0) return cli_usage_error(cmd, "unknown optimizer '%s'", o.optimizer);
    if (dtype < 0) return cli_usage_error(cmd, "unknown dtype '%s'", o.dtype);
    double ia = 0, ib = 0;
    {
        char *end;
        ia = strtod(o.init_range, &end);
        if (end == o.init_range || *end != ',') return cli_usage_error(cmd, "--init-range '%s' is not A,B", o.init_range);
        const char *b = end + 1;
        ib = strtod(b, &end);
        if (end == b || *end || !(ia <= ib)) return cli_usage_error(cmd, "--init-range '%s' is not A,B with A <= B", o.init_range);
    }
    if (o.classes > MLP_MAX_CLASSES) return cli_usage_error(cmd, "--classes %u: at most %u", o.classes, MLP_MAX_CLASSES);
    struct mlp_layer_spec *hidden;
    uint32_t n_hidden;
    if (cli_parse_layers(o.layers, (enum mlp_act)act, &hidden, &n_hidden) != 0)
        return cli_usage_error(cmd, "--layers '%s' is not a comma-separated list of widths 1..%u", o.layers, MLP_MAX_WIDTH);

    struct mlp_error err = {0};
    struct mlp_dataset train = {0}, test = {0}, valid = {0};
    struct mlp_model *m = NULL;
    struct log_ctx lc = {.epochs = o.epochs, .quiet = o.quiet};
    /* Find out now, not after an hour of training, that the model or the
     * log cannot be written (without touching either file yet). */
    const char *outs[2] = {o.out, o.log_json};
    for (int i = 0; i < 2; i++) {
        struct out_file probe;
        if (!outs[i]) continue;
        if (out_open(&probe, outs[i], &err) != MLP_OK) {
            free(hidden);
            fprintf(stderr, "fastmlp %s: %s%s\n", cmd, err.msg, i ? " (the JSON log)" : "");
            return err.status == MLP_ERR_OPEN ? EXIT_CANTCREAT : cli_exit_code(err.status);
        }
        out_abort(&probe);
    }
    lc.json_path = o.log_json;
    enum mlp_status st = cli_load_data(&train, o.train, o.train_labels, &lp, &err);
    if (st == MLP_OK && o.test) st = cli_load_data(&test, o.test, o.test_labels, &lp, &err);
    if (st != MLP_OK) goto done;
    if (!train.labels && !train.targets) {
        st = MLP_ERR_ARG;
        snprintf(err.msg, sizeof err.msg, "%s has no labels: give --train-labels (IDX, NPY), a label column (CSV) "
                 "or --y-key (HDF5)", o.train);
        goto done;
    }
    if (o.test && !test.labels && !test.targets) {
        st = MLP_ERR_ARG;
        snprintf(err.msg, sizeof err.msg, "%s has no labels: give --test-labels", o.test);
        goto done;
    }
    if (o.limit < train.n_rows) mlp_dataset_truncate(&train, o.limit);
    if (o.valid_fraction > 0) {
        struct mlp_dataset rest;
        if ((st = mlp_dataset_split(&train, o.valid_fraction, o.seed, &rest, &valid, &err)) != MLP_OK) goto done;
        mlp_dataset_free(&train);
        train = rest;
    }
    lc.eval_name = o.valid_fraction > 0 ? "valid" : "test";
    if (o.classes) {
        if (train.n_classes > o.classes || (o.test && test.n_classes > o.classes)) {
            st = MLP_ERR_RANGE;
            snprintf(err.msg, sizeof err.msg, "labels go up to %u but --classes is %u",
                     (train.n_classes > test.n_classes ? train.n_classes : test.n_classes) - 1, o.classes);
            goto done;
        }
        train.n_classes = test.n_classes = o.classes;
    }
    uint32_t K = train.n_classes > test.n_classes ? train.n_classes : test.n_classes;
    if (train.targets) K = train.n_targets;
    if (train.targets && head < MLP_HEAD_IDENTITY_MSE) {
        st = MLP_ERR_ARG;
        snprintf(err.msg, sizeof err.msg, "real targets need an MSE head (--head identity-mse), not %s", o.head);
        goto done;
    }
    if (head == MLP_HEAD_SOFTMAX_CE && K < 2) {
        st = MLP_ERR_RANGE;
        snprintf(err.msg, sizeof err.msg, "softmax-ce needs at least 2 classes, the labels have %u", K);
        goto done;
    }
    /* Two classes with a sigmoid or MSE head: one output unit (seed 000). */
    uint32_t n_out = !train.targets && head != MLP_HEAD_SOFTMAX_CE && K <= 2 ? 1 : K;

    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = (enum mlp_dtype)dtype;
    mp.n_in = train.n_cols;
    mp.n_hidden = n_hidden;
    mp.hidden = hidden;
    mp.n_out = n_out;
    mp.head = (enum mlp_head)head;
    mp.leaky_slope = o.leaky;
    mp.input_scale = !isnan(o.scale) ? o.scale : train.x_type == MLP_ELEM_U8 ? 1.0 / 255.0 : 1.0;
    if ((st = check_memory(&mp, (enum mlp_optim)optim, o.momentum, &err)) != MLP_OK) goto done;
    if ((st = mlp_model_create(&m, &mp, &err)) != MLP_OK) goto done;
    if ((st = mlp_model_init(m, (enum mlp_init)init, ia, ib, o.seed)) != MLP_OK) {
        snprintf(err.msg, sizeof err.msg, "cannot initialise the model");
        goto done;
    }
    /* Fitted on the training rows only: validation and test stay unseen. */
    if (o.standardize && (st = mlp_model_fit_standardize(m, &train, &err)) != MLP_OK) goto done;
    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = (enum mlp_optim)optim;
    tp.lr = o.lr;
    tp.momentum = o.momentum;
    tp.nesterov = o.nesterov;
    tp.l2 = o.l2;
    tp.batch = o.batch;
    tp.epochs = o.epochs;
    tp.seed = o.seed;
    tp.threads = o.threads;
    if (!o.quiet)
        printf("fastmlp %s: %llu x %u -> %s%s%u (%s, %s, %zu parameters), %s lr %g, %u epochs\n", cmd,
               (unsigned long long)train.n_rows, train.n_cols, o.layers, n_hidden ? "," : "", n_out,
               mlp_dtype_name((enum mlp_dtype)dtype), mlp_head_name((enum mlp_head)head), mlp_model_n_params(m),
               mlp_optim_name((enum mlp_optim)optim), o.lr, o.epochs);
    const struct mlp_dataset *eval = o.valid_fraction > 0 ? &valid : o.test ? &test : NULL;
    st = mlp_model_train(m, &train, eval, &tp, on_epoch, &lc, &err);
    if (st == MLP_ERR_STOPPED && lc.json_errno) {
        fprintf(stderr, "fastmlp %s: %s: cannot create the JSON log: %s\n", cmd, o.log_json, strerror(lc.json_errno));
        rc = EXIT_CANTCREAT;
        st = MLP_OK;
        goto done;
    }
    if (st != MLP_OK) goto done;

    double loss, acc;
    const struct mlp_dataset *final = o.test ? &test : o.valid_fraction > 0 ? &valid : &train;
    const char *fname = o.test ? "test" : o.valid_fraction > 0 ? "valid" : "train";
    if ((st = mlp_model_evaluate(m, final, &loss, &acc, &err)) != MLP_OK) goto done;
    if (acc >= 0)
        printf("%s accuracy %.4f  ", fname, acc);
    printf("%s loss %.4f  %.0f samples/s  (%.2f s training)\n", fname, loss,
           lc.total_s > 0 ? (double)train.n_rows * o.epochs / lc.total_s : 0, lc.total_s);
    if (o.out) {
        if ((st = mlp_model_save(m, o.out, &err)) != MLP_OK) {
            rc = st == MLP_ERR_OPEN ? EXIT_CANTCREAT : cli_exit_code(st);
            fprintf(stderr, "fastmlp %s: %s\n", cmd, err.msg);
            st = MLP_OK;
            goto done;
        }
        if (!o.quiet) printf("model saved to %s\n", o.out);
    }
done:
    if (lc.json && fclose(lc.json) != 0 && st == MLP_OK) {
        st = MLP_ERR_IO;
        snprintf(err.msg, sizeof err.msg, "%s: cannot write the JSON log", o.log_json);
    }
    if (st != MLP_OK) rc = cli_fail(cmd, st, err.msg);
    mlp_model_free(m);
    mlp_dataset_free(&train);
    mlp_dataset_free(&test);
    mlp_dataset_free(&valid);
    free(hidden);
    return rc;
}
