/* SPDX-License-Identifier: MIT */
/* `fastmlp train`: build a network from flags, train it on a data set with
 * live progress, checkpoints and a clean stop on SIGINT/SIGTERM, report
 * per-epoch figures (stdout and an optional JSON-lines log) and, on request,
 * a profile of where the time went; save the model. */
#include "cli.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct train_opts {
    const char *train, *train_labels, *test, *test_labels, *valid, *valid_labels, *out, *log_json;
    const char *schedule, *checkpoint, *resume, *report;
    double gamma, lr_min, weight_decay, gtol;
    uint32_t step_size, patience, checkpoint_every, max_iter, history;
    int profile;
    const char *layers, *activation, *head, *init, *optimizer, *dtype, *init_range;
    double lr, momentum, l2, scale, leaky, valid_fraction;
    uint32_t batch, epochs, classes;
    uint64_t seed, limit;
    int threads, nesterov, quiet, standardize;
    const char *kernels;
    struct data_opts data;
};

struct log_ctx {
    struct mlp_trainer *t;
    FILE *info;            /* where the lines for people go: stdout, or stderr when an output is stdout */
    int tty;               /* info is a terminal: a live progress line */
    double last_draw;
    FILE *json;            /* --log-json: written in place as epochs end (it can be followed) */
    int json_errno;        /* set when writing it failed: training stops */
    const char *eval_name; /* "test" or "valid": the set evaluated each epoch */
    uint32_t epochs;
    int quiet;
    double total_s;
    uint64_t samples;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void json_epoch(FILE *f, const struct mlp_epoch_stats *s, const char *eval_name)
{
    fprintf(f,
            "{\"epoch\": %u, \"train_loss\": %.17g, \"train_acc\": %.17g, \"%s_loss\": %.17g, "
            "\"%s_acc\": %.17g, \"seconds\": %.6f, \"samples_per_s\": %.3f}\n",
            s->epoch, s->train_loss, s->train_acc, eval_name, s->test_loss, eval_name, s->test_acc, s->seconds,
            s->samples_per_s);
}

/* On a terminal: one line redrawn at most ten times a second, ended by the
 * epoch summary. */
static int on_batch(const struct mlp_batch_info *b, void *user)
{
    struct log_ctx *c = user;
    if (!c->tty || c->quiet) return 0;
    double t = now_s();
    if (t - c->last_draw < 0.1 && b->batch < b->n_batches) return 0;
    c->last_draw = t;
    const int W = 24;
    int fill = (int)(W * (double)b->batch / (double)b->n_batches);
    char bar[32];
    for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
    bar[W] = 0;
    double per_row = b->rows_done ? b->seconds / (double)b->rows_done : 0;
    double rows_epoch = b->n_batches ? (double)b->rows_done * b->n_batches / b->batch : 0;
    double eta = per_row * (rows_epoch - (double)b->rows_done + rows_epoch * (b->epochs - b->epoch));
    fprintf(c->info, "\r\033[Kepoch %u/%u [%s] %3.0f%%  loss %.4f", b->epoch, b->epochs, bar,
           100.0 * (double)b->batch / (double)b->n_batches, b->loss);
    if (b->accuracy >= 0) fprintf(c->info, "  acc %.4f", b->accuracy);
    fprintf(c->info, "  %.0f samples/s  %.1fs  ETA %.0fs", per_row > 0 ? 1 / per_row : 0, c->total_s + b->seconds, eta);
    fflush(c->info);
    return 0;
}

static int on_epoch(const struct mlp_epoch_stats *s, void *user)
{
    struct log_ctx *c = user;
    c->total_s += s->seconds;
    if (c->tty && !c->quiet) fprintf(c->info, "\r\033[K");
    if (!c->quiet) {
        fprintf(c->info, "epoch %u/%u  train_loss %.6f", s->epoch, c->epochs, s->train_loss);
        if (s->train_acc >= 0) fprintf(c->info, "  train_acc %.4f", s->train_acc);
        if (s->test_loss >= 0) fprintf(c->info, "  %s_loss %.6f", c->eval_name, s->test_loss);
        if (s->test_acc >= 0) fprintf(c->info, "  %s_acc %.4f", c->eval_name, s->test_acc);
        fprintf(c->info, "  %.2fs  %.0f samples/s\n", s->seconds, s->samples_per_s);
        fflush(c->info);
    }
    if (c->json) {
        /* Flushed each epoch (a pipe or '-' shows it live); a failed write
         * (a full disk) stops the run now rather than after it. */
        json_epoch(c->json, s, c->eval_name);
        errno = 0;
        if (fflush(c->json) != 0 || ferror(c->json)) {
            c->json_errno = errno ? errno : EIO;
            return 1;
        }
    }
    return 0;
}

/* The HTML report of a finished run: the curves from the trainer's history,
 * the confusion matrix and samples of the final evaluation set. */
static enum mlp_status write_report(const char *path, const struct mlp_model *m, const struct mlp_trainer *t,
                                    const struct mlp_dataset *final, const char *final_name, struct mlp_error *err)
{
    enum { SAMPLES = 48 };
    uint32_t n_hist;
    const struct mlp_epoch_stats *hist = mlp_trainer_history(t, &n_hist);
    char model[256], sub[512];
    report_model_summary(m, model, sizeof model);
    snprintf(sub, sizeof sub, "%s; %u epochs; figures on the %s set", model, n_hist, final_name);
    struct report_data rd = {.title = "fastmlp train", .subtitle = sub, .history = hist, .n_epochs = n_hist,
                             .eval_name = final_name, .input_scale = mlp_model_input_scale(m)};
    uint64_t *cm = NULL;
    uint32_t pred[SAMPLES];
    enum mlp_status st = MLP_OK;
    if (final->labels) {
        uint32_t K = mlp_model_n_out(m) == 1 ? 2 : mlp_model_n_out(m);
        if (!(cm = calloc((size_t)K * K, sizeof *cm))) {
            snprintf(err->msg, sizeof err->msg, "out of memory");
            return err->status = MLP_ERR_NOMEM;
        }
        st = report_classify(m, final, K, cm, pred, SAMPLES, err);
        rd.n_classes = K;
        rd.confusion = cm;
        rd.samples = final;
        rd.pred = pred;
        rd.n_samples_max = SAMPLES;
    }
    if (st == MLP_OK) st = report_write(path, &rd, err);
    free(cm);
    return st;
}

/* --profile: a table of wall time per phase that adds up to the total. */
struct phases {
    double load, final_eval, save, report, total;
};

static void print_profile(FILE *f, const struct mlp_profile *p, const struct phases *ph, size_t data_bytes)
{
    struct {
        const char *name;
        double s;
        uint64_t n;
    } rows[] = {{"data loading and parsing", ph->load, 0},
                {"forward", p->forward_s, p->forward_n},
                {"backward", p->backward_s, p->backward_n},
                {"optimizer step", p->optim_s, p->optim_n},
                {"evaluation", p->eval_s + ph->final_eval, p->eval_n + 1},
                {"checkpoints", p->checkpoint_s, p->checkpoint_n},
                {"saving the model", ph->save, ph->save > 0},
                {"writing the report", ph->report, ph->report > 0},
                {"other", 0, 0}};
    int nr = (int)(sizeof rows / sizeof rows[0]);
    double sum = 0;
    for (int i = 0; i < nr - 1; i++) sum += rows[i].s;
    rows[nr - 1].s = ph->total - sum > 0 ? ph->total - sum : 0;
    fprintf(f, "\nprofile                     seconds      calls   share\n");
    for (int i = 0; i < nr; i++) {
        fprintf(f, "  %-24s %9.3f", rows[i].name, rows[i].s);
        if (rows[i].n)
            fprintf(f, " %10llu", (unsigned long long)rows[i].n);
        else
            fprintf(f, " %10s", "");
        fprintf(f, "  %5.1f%%\n", ph->total > 0 ? 100 * rows[i].s / ph->total : 0);
    }
    fprintf(f, "  %-24s %9.3f %10s  100.0%%\n", "total", ph->total, "");
    struct rusage ru;
    double peak = getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0; /* KiB on Linux */
    fprintf(f, "memory: peak resident %.1f MiB; parameters (weights, gradient, backups) %.1f MiB, optimizer state %.1f "
           "MiB, data %.1f MiB\n",
           peak, (double)p->param_bytes / (1 << 20), (double)p->optim_bytes / (1 << 20), (double)data_bytes / (1 << 20));
}

/* Whether an output path is (or will be) a regular file, not "-", a
 * descriptor, a device or a pipe: only then does a checkpoint go beside it
 * by default. */
static bool writes_file(const char *path)
{
    char *target = mlp_output_target(path);
    free(target);
    return target != NULL;
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
        .leaky = 0.01, .batch = 64, .epochs = 5, .seed = 42, .threads = 0, .limit = UINT64_MAX,
        .schedule = "constant", .step_size = 10, .gamma = 0.1, .gtol = 1e-5, .history = 10};
    const struct opt opts[] = {
        {"--train", 0, OPT_STR, &o.train, "FILE", "training data: CSV, IDX (.gz or plain), NPY or HDF5", "Data"},
        {"--train-labels", 0, OPT_STR, &o.train_labels, "FILE", "training labels, for IDX and NPY", "Data"},
        {"--test", 0, OPT_STR, &o.test, "FILE", "test data, evaluated after each epoch", "Data"},
        {"--test-labels", 0, OPT_STR, &o.test_labels, "FILE", "test labels, for IDX and NPY", "Data"},
        {"--valid", 0, OPT_STR, &o.valid, "FILE", "validation data, evaluated each epoch (early stopping)", "Data"},
        {"--valid-labels", 0, OPT_STR, &o.valid_labels, "FILE", "validation labels, for IDX and NPY", "Data"},
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
        {"--optimizer", 0, OPT_STR, &o.optimizer, "NAME",
         "gd (full batch), sgd, adam, cg, lbfgs (full-batch solvers, seed 001) [adam]", "Training"},
        {"--max-iter", 0, OPT_U32, &o.max_iter, "N", "cg/lbfgs: iterations (an iteration is logged as an epoch) [--epochs]",
         "Training"},
        {"--gtol", 0, OPT_DBL, &o.gtol, "X", "cg/lbfgs: stop when max |gradient| <= X [1e-5]", "Training"},
        {"--history", 0, OPT_U32, &o.history, "N", "lbfgs: correction pairs kept [10]", "Training"},
        {"--lr", 0, OPT_DBL, &o.lr, "X", "learning rate [0.001]", "Training"},
        {"--momentum", 0, OPT_DBL, &o.momentum, "X", "SGD momentum [0.9]", "Training"},
        {"--nesterov", 0, OPT_FLAG, &o.nesterov, NULL, "Nesterov momentum (sgd) [off]", "Training"},
        {"--batch", 0, OPT_U32, &o.batch, "N", "mini-batch size (sgd, adam) [64]", "Training"},
        {"--epochs", 0, OPT_U32, &o.epochs, "N", "epochs [5]", "Training"},
        {"--l2", 0, OPT_DBL, &o.l2, "X", "L2 penalty lambda: lambda/(2m) sum w^2, biases excluded [0]", "Training"},
        {"--seed", 0, OPT_U64, &o.seed, "N", "seed for initialisation and shuffling [42]", "Training"},
        {"--threads", 0, OPT_INT, &o.threads, "N", "threads, 0 = all cores [0]", "Training"},
        {"--kernels", 0, OPT_STR, &o.kernels, "NAME",
         "fast, batched, per-sample, naive: the optimisation ladder's stages (bench ladder) [fast]", "Training"},
        {"--schedule", 0, OPT_STR, &o.schedule, "NAME", "learning-rate schedule: constant step cosine [constant]", "Schedule"},
        {"--step-size", 0, OPT_U32, &o.step_size, "N", "step: epochs between decays [10]", "Schedule"},
        {"--gamma", 0, OPT_DBL, &o.gamma, "X", "step: factor per decay [0.1]", "Schedule"},
        {"--lr-min", 0, OPT_DBL, &o.lr_min, "X", "cosine: the last epoch's learning rate [0]", "Schedule"},
        {"--weight-decay", 0, OPT_DBL, &o.weight_decay, "X", "decoupled weight decay per step, weights only [0]", "Schedule"},
        {"--patience", 0, OPT_U32, &o.patience, "N",
         "stop after N epochs without a better validation loss; keep the best weights [off]", "Schedule"},
        {"--checkpoint", 0, OPT_STR, &o.checkpoint, "FILE",
         "checkpoint file (also written on SIGINT/SIGTERM) [MODEL.ckpt with -o]", "Checkpoints"},
        {"--checkpoint-every", 0, OPT_U32, &o.checkpoint_every, "N", "write the checkpoint every N epochs [0: only on a stop]",
         "Checkpoints"},
        {"--resume", 0, OPT_STR, &o.resume, "FILE", "continue the run saved in FILE (same flags and data)", "Checkpoints"},
        {"--output", 'o', OPT_STR, &o.out, "FILE", "save the trained model to FILE", "Output"},
        {"--log-json", 0, OPT_STR, &o.log_json, "FILE", "write one JSON object per epoch to FILE", "Output"},
        {"--quiet", 'q', OPT_FLAG, &o.quiet, NULL, "print only the final summary", "Output"},
        {"--profile", 0, OPT_FLAG, &o.profile, NULL, "print where the time and memory went", "Output"},
        {"--report", 0, OPT_STR, &o.report, "FILE",
         "write an HTML report: curves, confusion matrix, test samples", "Output"},
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
    if (o.kernels) {
        int k = mlp_kernels_parse(o.kernels);
        if (k < 0)
            return cli_usage_error(cmd, "unknown --kernels '%s' (expected fast, batched, per-sample or naive)",
                                   o.kernels);
        mlp_set_kernels((enum mlp_kernels)k);
    }
    if (o.limit == 0) return cli_usage_error(cmd, "--limit must be at least 1");
    if (o.test_labels && !o.test) return cli_usage_error(cmd, "--test-labels needs --test");
    if (o.valid_labels && !o.valid) return cli_usage_error(cmd, "--valid-labels needs --valid");
    if (o.valid && o.valid_fraction > 0) return cli_usage_error(cmd, "--valid and --valid-fraction exclude each other");
    int sched = mlp_schedule_parse(o.schedule);
    if (sched < 0) return cli_usage_error(cmd, "unknown schedule '%s'", o.schedule);
    /* A checkpoint goes beside the model by default only where that is a file. */
    const bool out_is_file = o.out && writes_file(o.out);
    if (o.checkpoint_every && !o.checkpoint && !out_is_file)
        return cli_usage_error(cmd, "--checkpoint-every needs --checkpoint FILE (or -o FILE)");
    if (!(o.valid_fraction >= 0 && o.valid_fraction < 1))
        return cli_usage_error(cmd, "--valid-fraction %g must be in [0, 1)", o.valid_fraction);
    if (!isnan(o.scale) && (o.scale == 0 || !isfinite(o.scale)))
        return cli_usage_error(cmd, "--scale %g must be finite and non-zero", o.scale);
    if ((rc = cli_check_threads(cmd, o.threads)) != EXIT_OK) return rc;
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
    if (cli_parse_range(o.init_range, &ia, &ib) != 0)
        return cli_usage_error(cmd, "--init-range '%s' is not A,B with A <= B", o.init_range);
    if (o.classes > MLP_MAX_CLASSES) return cli_usage_error(cmd, "--classes %u: at most %u", o.classes, MLP_MAX_CLASSES);
    struct mlp_layer_spec *hidden;
    uint32_t n_hidden;
    char why[400];
    if (cli_parse_layers(o.layers, (enum mlp_act)act, &hidden, &n_hidden, why, sizeof why) != 0)
        return cli_usage_error(cmd, "%s", why);

    /* The checkpoint: as asked, else beside a model written to a file, so
     * that a stop by signal leaves something to resume from. */
    char *ckpt = NULL;
    if (o.checkpoint || out_is_file) {
        const char *base = o.checkpoint ? o.checkpoint : o.out;
        if (!(ckpt = malloc(strlen(base) + 6))) {
            free(hidden);
            return cli_fail(cmd, MLP_ERR_NOMEM, "out of memory");
        }
        sprintf(ckpt, o.checkpoint ? "%s" : "%s.ckpt", base);
    }
    const char *ckpt_flag = o.checkpoint ? "--checkpoint" : "the checkpoint beside -o";
    /* Before any work: no output destroys an input or another output, and
     * each can be written (not found out after an hour of training). */
    const char *config;
    cli_config_find(cmd, argc, argv, 2, opts, &config); /* cli_parse accepted it */
    const struct cli_file files[] = {{"--train", o.train, 0, NULL, NULL},
                                     {"--train-labels", o.train_labels, 0, NULL, NULL},
                                     {"--test", o.test, 0, NULL, NULL},
                                     {"--test-labels", o.test_labels, 0, NULL, NULL},
                                     {"--valid", o.valid, 0, NULL, NULL},
                                     {"--valid-labels", o.valid_labels, 0, NULL, NULL},
                                     {"--config", config, 0, NULL, NULL},
                                     {"--resume", o.resume, 0, ckpt_flag, NULL}, /* read before it is rewritten */
                                     {"-o", o.out, CLI_OUT | MLP_OUTPUT_STREAM | MLP_OUTPUT_BINARY, NULL, "the model"},
                                     {"--log-json", o.log_json, CLI_OUT | MLP_OUTPUT_STREAM | MLP_OUTPUT_LIVE, NULL, "the JSON log"},
                                     {"--report", o.report, CLI_OUT | MLP_OUTPUT_STREAM, NULL, "the report"},
                                     {ckpt_flag, ckpt, CLI_OUT, "--resume", "the checkpoint"}};
    bool stdout_used;
    if ((rc = cli_check_files(cmd, files, (int)(sizeof files / sizeof files[0]), &stdout_used)) != EXIT_OK) {
        free(ckpt);
        free(hidden);
        return rc;
    }
    /* An output on stdout keeps it to itself: the lines for people go to stderr. */
    FILE *info = stdout_used ? stderr : stdout;

    struct mlp_error err = {0};
    struct mlp_dataset train = {0}, test = {0}, valid = {0};
    struct mlp_model *m = NULL;
    struct mlp_output *log = NULL;
    if (o.max_iter) o.epochs = o.max_iter;
    struct log_ctx lc = {.info = info, .epochs = o.epochs, .quiet = o.quiet, .tty = isatty(fileno(info))};
    struct mlp_trainer *t = NULL;
    struct phases ph = {0};
    double t_start = now_s();
    char late[sizeof err.msg] = ""; /* an output that failed after the model was saved */
    enum mlp_status st = cli_load_data(&train, o.train, o.train_labels, &lp, &err);
    if (st == MLP_OK && o.test) st = cli_load_data(&test, o.test, o.test_labels, &lp, &err);
    if (st == MLP_OK && o.valid) st = cli_load_data(&valid, o.valid, o.valid_labels, &lp, &err);
    ph.load = now_s() - t_start;
    if (st != MLP_OK) goto done;
    if (o.valid && !valid.labels && !valid.targets) {
        st = MLP_ERR_ARG;
        snprintf(err.msg, sizeof err.msg, "%s has no labels: give --valid-labels", o.valid);
        goto done;
    }
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
    const bool has_valid = o.valid || o.valid_fraction > 0;
    lc.eval_name = has_valid ? "valid" : "test";
    uint32_t K = train.n_classes;
    if (test.n_classes > K) K = test.n_classes;
    if (valid.n_classes > K) K = valid.n_classes;
    if (o.classes) {
        if (K > o.classes) {
            st = MLP_ERR_RANGE;
            snprintf(err.msg, sizeof err.msg, "labels go up to %u but --classes is %u", K - 1, o.classes);
            goto done;
        }
        K = o.classes;
    }
    train.n_classes = K;
    if (o.test) test.n_classes = K;
    if (has_valid) valid.n_classes = K;
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
    tp.schedule = (enum mlp_schedule)sched;
    tp.step_size = o.step_size;
    tp.gamma = o.gamma;
    tp.lr_min = o.lr_min;
    tp.weight_decay = o.weight_decay;
    tp.patience = o.patience;
    tp.gtol = o.gtol;
    tp.history = o.history;
    if (!o.quiet)
        fprintf(info, "fastmlp %s: %llu x %u -> %s%s%u (%s, %s, %zu parameters), %s lr %g, %u epochs\n", cmd,
               (unsigned long long)train.n_rows, train.n_cols, o.layers, n_hidden ? "," : "", n_out,
               mlp_dtype_name((enum mlp_dtype)dtype), mlp_head_name((enum mlp_head)head), mlp_model_n_params(m),
               mlp_optim_name((enum mlp_optim)optim), o.lr, o.epochs);
    const struct mlp_dataset *eval = has_valid ? &valid : o.test ? &test : NULL;
    if ((st = mlp_trainer_create(&t, m, &train, eval, &tp, &err)) != MLP_OK) goto done;
    lc.t = t;
    mlp_trainer_set_callbacks(t, on_epoch, on_batch, &lc);
    if (ckpt) mlp_trainer_set_checkpoint(t, ckpt, o.checkpoint_every);
    if (o.resume) {
        if ((st = mlp_trainer_resume(t, o.resume, &err)) != MLP_OK) goto done;
        if (!o.quiet)
            fprintf(info, "resumed from %s after %u epoch%s\n", o.resume, mlp_trainer_epochs_done(t),
                    mlp_trainer_epochs_done(t) == 1 ? "" : "s");
    }
    /* The log is written in place (no temporary file): opened before the
     * signals are deferred, so that a FIFO's wait for its reader can be
     * interrupted. */
    if (o.log_json) {
        if ((st = mlp_output_open(&log, o.log_json, MLP_OUTPUT_STREAM | MLP_OUTPUT_LIVE, &err)) != MLP_OK) {
            char msg[sizeof err.msg + 16];
            snprintf(msg, sizeof msg, "%s (the JSON log)", err.msg);
            rc = cli_output_fail(cmd, st, msg);
            st = MLP_OK;
            goto done;
        }
        lc.json = mlp_output_file(log);
        /* A resumed run's log holds the epochs before the checkpoint too. */
        uint32_t n;
        const struct mlp_epoch_stats *h = mlp_trainer_history(t, &n);
        for (uint32_t i = 0; i < n; i++) json_epoch(lc.json, &h[i], lc.eval_name);
    }
    /* From here outputs are being written: SIGINT/SIGTERM stop the trainer
     * at its next batch boundary (it writes the checkpoint) instead. */
    cli_signals_defer(t);
    st = mlp_trainer_run(t, &err);
    if (lc.tty && !lc.quiet) fprintf(info, "\r\033[K");
    /* The log holds every epoch that ran, whatever ended the run. */
    if (log) {
        struct mlp_error lerr = {0};
        if (lc.json_errno) {
            mlp_output_abort(log);
            snprintf(lerr.msg, sizeof lerr.msg, "%s: cannot write the JSON log: %s", o.log_json, strerror(lc.json_errno));
        } else if (mlp_output_commit(log, &lerr) == MLP_OK) {
            lerr.msg[0] = 0;
        }
        log = NULL;
        lc.json = NULL;
        if (lerr.msg[0] && st == MLP_ERR_STOPPED && lc.json_errno) {
            fprintf(stderr, "fastmlp %s: %s\n", cmd, lerr.msg); /* it is why training stopped */
            rc = EXIT_IOERR;
            st = MLP_OK;
            goto done;
        }
        if (lerr.msg[0]) snprintf(late, sizeof late, "%s", lerr.msg);
    }
    if (st == MLP_ERR_STOPPED && cli_interrupted()) {
        fprintf(stderr, "fastmlp %s: interrupted by %s: %s\n", cmd, cli_signal_name(), err.msg);
        rc = EXIT_INTERRUPTED;
        st = MLP_OK;
        goto done;
    }
    /* Every input is loaded: a file that cannot be created is the checkpoint. */
    if (st == MLP_ERR_OPEN) {
        rc = cli_output_fail(cmd, st, err.msg);
        st = MLP_OK;
        goto done;
    }
    if (st != MLP_OK) goto done;
    if (mlp_trainer_stopped_early(t) && !o.quiet)
        fprintf(info, "early stop: no better validation loss for %u epochs; kept the best weights\n", o.patience);

    /* A signal from here on: the model is still saved (it is the run's
     * result, and quick to write); the report is skipped. */
    double loss, acc, f0 = now_s();
    const struct mlp_dataset *final = o.test ? &test : has_valid ? &valid : &train;
    const char *fname = o.test ? "test" : has_valid ? "valid" : "train";
    st = mlp_model_evaluate(m, final, &loss, &acc, &err);
    ph.final_eval = now_s() - f0;
    if (st != MLP_OK) goto done;
    if (acc >= 0)
        fprintf(info, "%s accuracy %.4f  ", fname, acc);
    fprintf(info, "%s loss %.4f  %.0f samples/s  (%.2f s training)\n", fname, loss,
            lc.total_s > 0 ? (double)train.n_rows * o.epochs / lc.total_s : 0, lc.total_s);
    if (o.out) {
        double s0 = now_s();
        cli_signals_for_output(o.out);
        st = mlp_model_save(m, o.out, &err);
        ph.save = now_s() - s0;
        if (st != MLP_OK) {
            rc = cli_output_fail(cmd, st, err.msg);
            st = MLP_OK;
            goto done;
        }
        if (!o.quiet) fprintf(info, "model saved to %s\n", strcmp(o.out, "-") ? o.out : "standard output");
    }
    if (o.report && !cli_interrupted()) {
        double r0 = now_s();
        cli_signals_for_output(o.report);
        st = write_report(o.report, m, t, final, fname, &err);
        ph.report = now_s() - r0;
        if (st != MLP_OK && !cli_interrupted()) {
            rc = cli_output_fail(cmd, st, err.msg);
            st = MLP_OK;
            goto done;
        }
        st = MLP_OK;
        if (!o.quiet && !cli_interrupted()) fprintf(info, "report written to %s\n", o.report);
    }
    if (cli_interrupted()) {
        fprintf(stderr, "fastmlp %s: interrupted by %s after training: %s%s%s\n", cmd, cli_signal_name(),
                o.out ? "the model was saved to " : "nothing was saved",
                o.out ? (strcmp(o.out, "-") ? o.out : "standard output") : "",
                o.report ? "; the report was not written" : "");
        rc = EXIT_INTERRUPTED;
        goto done;
    }
    if (o.profile) {
        ph.total = now_s() - t_start;
        size_t data_bytes = 0;
        const struct mlp_dataset *sets[3] = {&train, &test, &valid};
        for (int i = 0; i < 3; i++)
            data_bytes += (size_t)sets[i]->n_rows * sets[i]->n_cols *
                              (sets[i]->x_type == MLP_ELEM_U8 ? 1 : sets[i]->x_type == MLP_ELEM_F32 ? 4 : 8) +
                          (sets[i]->labels ? sets[i]->n_rows * 4 : 0);
        print_profile(info, mlp_trainer_profile(t), &ph, data_bytes);
    }
    if (late[0]) {
        fprintf(stderr, "fastmlp %s: %s\n", cmd, late);
        rc = EXIT_IOERR;
    }
done:
    mlp_output_abort(log); /* only before training ran: nothing to keep */
    if (st != MLP_OK) rc = cli_fail(cmd, st, err.msg);
    mlp_trainer_free(t);
    free(ckpt);
    mlp_model_free(m);
    mlp_dataset_free(&train);
    mlp_dataset_free(&test);
    mlp_dataset_free(&valid);
    free(hidden);
    return rc;
}
