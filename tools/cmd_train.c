/* SPDX-License-Identifier: MIT */
/* `fastmlp train`: build a network from flags, train it on a data set with
 * live progress, checkpoints and a clean stop on SIGINT/SIGTERM, report
 * per-epoch figures (stdout and an optional JSON-lines log) and, on request,
 * a profile of where the time went; save the model. */
#include "cli.h"
#include "cli_dist.h"
#include "memtrace.h"
#include "report.h"
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* A count flag not given (its default then comes from the data). */
#define UNSET UINT32_MAX

struct train_opts {
    const char *train, *train_labels, *test, *test_labels, *valid, *valid_labels, *out, *log_json;
    const char *schedule, *checkpoint, *resume, *report, *plots;
    struct cli_list sweep;
    double gamma, lr_min, weight_decay, gtol;
    uint32_t step_size, patience, checkpoint_every, max_iter, history;
    int profile;
    const char *optimizer;
    double lr, momentum, l2, scale, valid_fraction;
    uint32_t batch, epochs, classes;
    uint64_t seed, limit;
    int threads, nesterov, quiet, standardize, no_standardize;
    const char *kernels;
    const char *allreduce;
    struct net_opts net;
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
    uint32_t n_epochs; /* epochs this run trained (fewer than asked after an early stop) */
    uint64_t samples;
};

static void json_epoch(FILE *f, const struct mlp_epoch_stats *s, const char *eval_name)
{
    fprintf(f,
            "{\"epoch\": %u, \"train_loss\": %.17g, \"train_acc\": %.17g, \"%s_loss\": %.17g, "
            "\"%s_acc\": %.17g, \"seconds\": %.6f, \"samples_per_s\": %.3f, \"penalty\": %.17g}\n",
            s->epoch, s->train_loss, s->train_acc, eval_name, s->test_loss, eval_name, s->test_acc, s->seconds,
            s->samples_per_s, s->penalty);
}

/* A number in the shortest form that reads back as the same double (0.01,
 * not 0.010000000000000000208); null when it is not finite. */
static void json_num(FILE *f, double v)
{
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    char b[40];
    if (v == floor(v) && fabs(v) < 1e15) { /* a count: 10, not 1e+01 */
        fprintf(f, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v) break;
    }
    fputs(b, f);
}

/* ", \"KEY\": V" for the members after an object's first. */
static void json_key_num(FILE *f, const char *key, double v)
{
    fprintf(f, ", \"%s\": ", key);
    json_num(f, v);
}

/* Phases of the command for --profile's memory plot: the CLI's own, and
 * the trainer's (mlp_phase) while it runs.  Their names are the text
 * profile's rows, so that the report's bars and bands agree. */
enum cli_phase { PH_LOAD, PH_SETUP, PH_TRAIN, PH_EVAL, PH_CHECKPOINT, PH_FINAL_EVAL, PH_SAVE, PH_REPORT, PH_COUNT };
static const char *const PHASE_NAMES[PH_COUNT] = {"data loading and parsing", "setting up", "training",
                                                  "evaluation", "checkpoints", "final evaluation",
                                                  "saving the model", "writing the report"};

/* Where the command is, for the sampling thread (memtrace). */
struct phase_now {
    _Atomic int32_t phase;
    _Atomic uint32_t epoch;
};

static void phase_set(struct phase_now *p, enum cli_phase ph, uint32_t epoch)
{
    atomic_store_explicit(&p->epoch, epoch, memory_order_relaxed);
    atomic_store_explicit(&p->phase, (int32_t)ph, memory_order_relaxed);
}

/* The trainer's phases, on its thread. */
static void on_phase(enum mlp_phase phase, uint32_t epoch, void *user)
{
    static const enum cli_phase map[] = {[MLP_PHASE_TRAIN] = PH_TRAIN, [MLP_PHASE_EVAL] = PH_EVAL,
                                         [MLP_PHASE_CHECKPOINT] = PH_CHECKPOINT, [MLP_PHASE_IDLE] = PH_SETUP};
    phase_set(user, (unsigned)phase < sizeof map / sizeof map[0] ? map[phase] : PH_SETUP, epoch);
}

/* The sampling thread's view of it. */
static void phase_read(void *user, int32_t *phase, uint32_t *epoch)
{
    struct phase_now *p = user;
    *phase = atomic_load_explicit(&p->phase, memory_order_relaxed);
    *epoch = atomic_load_explicit(&p->epoch, memory_order_relaxed);
}

/* On a terminal: one line redrawn at most ten times a second, ended by the
 * epoch summary. */
static int on_batch(const struct mlp_batch_info *b, void *user)
{
    struct log_ctx *c = user;
    if (!c->tty || c->quiet) return 0;
    double t = mlp_now();
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
    c->n_epochs++;
    if (c->tty && !c->quiet) fprintf(c->info, "\r\033[K");
    if (!c->quiet) {
        /* train_loss is the data loss, as the evaluation set's; the L2 term
         * the optimiser minimises with it is shown beside it */
        fprintf(c->info, "epoch %u/%u  train_loss %.6f", s->epoch, c->epochs, s->train_loss);
        if (s->penalty > 0) fprintf(c->info, "  penalty %.6f", s->penalty);
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

/* The HTML report: the curves (of rd's history, or of rd's runs
 * overlaid), and for model m on the final evaluation set its confusion
 * matrix and samples, or for real targets its predicted-vs-true and
 * residual plots.  rd comes with the title, curves, runs, profile and
 * plots directory set; the rest is filled here. */
static enum mlp_status write_report(const char *path, struct report_data *rd, const struct mlp_model *m,
                                    const struct mlp_dataset *final, const char *final_name, struct mlp_error *err)
{
    enum { SAMPLES = 48 };
    rd->eval_name = final_name;
    rd->input_scale = mlp_model_input_scale(m);
    /* class names: the model's schema, else the one the final set was read with */
    rd->schema = mlp_model_schema(m) ? mlp_model_schema(m) : mlp_dataset_schema(final);
    struct report_regression reg = {0};
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
        rd->n_classes = K;
        rd->confusion = cm;
        rd->samples = final;
        rd->pred = pred;
        rd->n_samples_max = SAMPLES;
    } else if (final->targets) {
        st = report_regress(m, final, REPORT_POINTS, &reg, err);
        rd->regression = &reg;
    }
    if (st == MLP_OK) st = report_write(path, rd, err);
    rd->confusion = NULL, rd->pred = NULL, rd->regression = NULL; /* they die here */
    free(cm);
    report_regression_free(&reg);
    return st;
}

/* --profile: a table of wall time per phase that adds up to the total. */
struct phases {
    double load, final_eval, save, report, total;
    uint32_t runs; /* a sweep's: final evaluations */
};

enum { PROFILE_ROWS = 10 };

/* The profile's rows, "other" last (what the rest leaves of the total);
 * the sums over the ranks only when there were several.  The count. */
static uint32_t profile_rows(const struct mlp_profile *p, const struct phases *ph, struct report_phase *rows)
{
    const struct report_phase all[PROFILE_ROWS] = {
        {"data loading and parsing", ph->load, 0},
        {"forward", p->forward_s, p->forward_n},
        {"backward", p->backward_s, p->backward_n},
        {"optimizer step", p->optim_s, p->optim_n},
        {"evaluation", p->eval_s + ph->final_eval, p->eval_n + (ph->runs ? ph->runs : 1)},
        {"checkpoints", p->checkpoint_s, p->checkpoint_n},
        {"saving the model", ph->save, ph->save > 0 ? (ph->runs ? ph->runs : 1) : 0},
        {"writing the report", ph->report, ph->report > 0},
        /* several ranks: waiting for the sums of a step's (or a solver
         * evaluation's) gradient, loss and counts: what the backward pass
         * did not hide; one call a step */
        {"sums over the ranks", p->comm_s, p->comm_n},
        {"other", 0, 0}};
    uint32_t n = 0;
    double sum = 0;
    for (int i = 0; i < PROFILE_ROWS; i++) {
        if (i == PROFILE_ROWS - 2 && p->comm_n == 0) continue; /* alone: no sums */
        rows[n] = all[i];
        if (i < PROFILE_ROWS - 1) sum += all[i].seconds;
        n++;
    }
    rows[n - 1].seconds = ph->total - sum > 0 ? ph->total - sum : 0;
    return n;
}

static double peak_rss_bytes(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss * 1024.0 : 0; /* KiB on Linux */
}

static void print_profile(FILE *f, const struct mlp_profile *p, const struct phases *ph, size_t data_bytes)
{
    struct report_phase rows[PROFILE_ROWS];
    uint32_t n = profile_rows(p, ph, rows);
    fprintf(f, "\nprofile                     seconds      calls   share\n");
    for (uint32_t i = 0; i < n; i++) {
        fprintf(f, "  %-24s %9.3f", rows[i].name, rows[i].seconds);
        if (rows[i].calls)
            fprintf(f, " %10llu", (unsigned long long)rows[i].calls);
        else
            fprintf(f, " %10s", "");
        fprintf(f, "  %5.1f%%\n", ph->total > 0 ? 100 * rows[i].seconds / ph->total : 0);
    }
    fprintf(f, "  %-24s %9.3f %10s  100.0%%\n", "total", ph->total, "");
    fprintf(f, "memory: peak resident %.1f MiB; parameters (weights, gradient, backups) %.1f MiB, optimizer state %.1f "
           "MiB, data %.1f MiB\n",
           peak_rss_bytes() / (1 << 20), (double)p->param_bytes / (1 << 20), (double)p->optim_bytes / (1 << 20),
           (double)data_bytes / (1 << 20));
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

/* ---------------------------------------------------------------- the run */

/* A finished run of a sweep: what its table row, curves and legend need. */
struct sweep_result {
    char label[160];
    struct mlp_epoch_stats *history; /* owned */
    uint32_t n_epochs;
    double train_loss, train_acc, loss, acc, seconds; /* loss, acc: on the final set */
    double crit; /* what picks the best: sweep_by's loss */
};

/* Everything one run holds; run_free releases it. */
struct train_run {
    const char *cmd;
    struct train_opts o;
    struct net_spec net;
    struct mlp_load_params lp;
    enum mlp_optim optim;
    enum mlp_schedule sched;
    char *ckpt;            /* the checkpoint's path, or NULL */
    const char *ckpt_flag; /* how messages name it */
    FILE *info;            /* the lines for people */
    struct mlp_dataset train, test, valid;
    uint64_t rows; /* training rows: of every rank's shard */
    bool regress;  /* real targets (some rank's shard has them) */
    const struct mlp_comm *comm; /* fastmlp-mpi on several ranks, else NULL */
    bool synced; /* several ranks: start's agreement passed, the next one is due */
    bool has_valid;
    struct mlp_model *m;
    struct mlp_trainer *t;
    struct mlp_output *log;
    struct log_ctx lc;
    struct phases ph;
    double t_start;
    struct mlp_error err;
    char late[sizeof(struct mlp_error){0}.msg]; /* an output that failed after the model was saved */
    /* --profile */
    struct phase_now pn;     /* where the command is, for the sampler */
    struct memtrace *mt;     /* the sampler, or NULL */
    struct mlp_profile prof; /* the runs' trainer profiles, added */
    double final_loss, final_acc; /* the last run's figures on the final set */
    /* --sweep */
    bool sweeping;
    struct sweep sw;
    uint32_t run;                        /* the run going, 0-based */
    char **run_out, **run_log, **run_ckpt; /* each run's outputs (NULL: none) */
    struct sweep_result *res;            /* the runs done */
    uint32_t n_res;
    int32_t best;             /* of res, -1: none yet */
    struct mlp_model *best_m; /* its model, kept for the report */
    struct mlp_dataset full;  /* a sweep of seeds with a hold-out: the rows before the split */
    bool has_full;
    uint64_t split_seed; /* the seed r->train and r->valid were split with */
};

/* Free one run's model and trainer (a sweep's next run makes new ones). */
static void run_end(struct train_run *r)
{
    /* the signal handler must not ask a freed trainer to stop (a sweep's
     * next run, or the end of the command, may still see a signal) */
    if (r->t) cli_signals_defer(NULL);
    mlp_trainer_free(r->t);
    r->t = NULL;
    if (r->m != r->best_m) mlp_model_free(r->m);
    r->m = NULL;
}

static void free_paths(char **p, uint32_t n)
{
    for (uint32_t i = 0; p && i < n; i++) free(p[i]);
    free(p);
}

static void run_free(struct train_run *r)
{
    mlp_output_abort(r->log); /* only before training ran: nothing to keep */
    run_end(r);
    mlp_model_free(r->best_m);
    memtrace_free(r->mt);
    if (!r->sweeping) free(r->ckpt); /* a sweep's is run_ckpt's */
    if (r->sweeping) {
        free_paths(r->run_out, r->sw.n_runs);
        free_paths(r->run_log, r->sw.n_runs);
        free_paths(r->run_ckpt, r->sw.n_runs);
        for (uint32_t i = 0; i < r->n_res; i++) free(r->res[i].history);
        free(r->res);
    }
    mlp_dataset_free(&r->full);
    mlp_dataset_free(&r->train);
    mlp_dataset_free(&r->test);
    mlp_dataset_free(&r->valid);
    net_spec_free(&r->net);
}

/* The flags --sweep may vary: the numeric ones of the optimiser and its
 * schedule (the data, network and outputs stay those of the command). */
#define REAL(name, field) {name, SWEEP_REAL, offsetof(struct train_opts, field), -HUGE_VAL}
#define WHOLE(name, field, kind, min) {name, kind, offsetof(struct train_opts, field), min}
static const struct sweep_flag SWEEPABLE[] = {
    REAL("lr", lr),          REAL("l2", l2),
    REAL("momentum", momentum), WHOLE("batch", batch, SWEEP_U32, 1),
    WHOLE("epochs", epochs, SWEEP_U32, 1), WHOLE("seed", seed, SWEEP_U64, 0),
    REAL("gamma", gamma),    REAL("lr-min", lr_min),
    REAL("weight-decay", weight_decay), WHOLE("step-size", step_size, SWEEP_U32, 0),
    WHOLE("patience", patience, SWEEP_U32, 0), REAL("gtol", gtol),
    WHOLE("history", history, SWEEP_U32, 0), WHOLE("max-iter", max_iter, SWEEP_U32, 1),
    {0}};
#undef REAL
#undef WHOLE

/* r->o: the command's options with run k's values, as if they had been
 * given on the command line (--max-iter sets the epochs, as check_opts). */
static void sweep_point(struct train_run *r, const struct train_opts *base, uint32_t k)
{
    r->o = *base;
    sweep_set(&r->sw, k, &r->o);
    if (r->o.max_iter) r->o.epochs = r->o.max_iter;
}

static bool sweeps(const struct train_run *r, const char *flag)
{
    for (uint32_t d = 0; r->sweeping && d < r->sw.n_dims; d++)
        if (!strcmp(r->sw.dims[d].flag->name, flag)) return true;
    return false;
}

/* The set whose loss picks a sweep's best run: the validation set when
 * there is one, else the final figures' set. */
static const char *sweep_by(const struct train_run *r, const char *fname)
{
    return r->has_valid ? "valid" : fname;
}

/* The command line into r->o: CLI_RUN, or the exit code to return. */
static int train_args(struct train_run *r, int argc, char **argv, struct cli_args *a)
{
    struct train_opts *o = &r->o;
    *o = (struct train_opts){
        .optimizer = "adam", .lr = 1e-3, .momentum = 0.9, .scale = NAN, .batch = UNSET, .epochs = UNSET, .seed = 42,
        .threads = 0, .limit = UINT64_MAX, .schedule = "constant", .step_size = 10, .gamma = 0.1, .gtol = 1e-5,
        .history = 10, .l2 = NAN, .valid_fraction = NAN, .patience = UNSET, .net = net_opts_default("f32"),
        .allreduce = "overlap"};
    /* chosen from the data when not given (choose_defaults) */
    o->net.layers = o->net.head = o->net.init = NULL;
    const struct opt opts[] = {
        {"--train", 0, OPT_STR, &o->train, "FILE", "training data: CSV, IDX (.gz or plain), NPY or HDF5", "Data"},
        {"--train-labels", 0, OPT_STR, &o->train_labels, "FILE", "training labels, for IDX and NPY", "Data"},
        {"--test", 0, OPT_STR, &o->test, "FILE", "test data, evaluated after each epoch", "Data"},
        {"--test-labels", 0, OPT_STR, &o->test_labels, "FILE", "test labels, for IDX and NPY", "Data"},
        {"--valid", 0, OPT_STR, &o->valid, "FILE", "validation data, evaluated each epoch (early stopping)", "Data"},
        {"--valid-labels", 0, OPT_STR, &o->valid_labels, "FILE", "validation labels, for IDX and NPY", "Data"},
        {"--valid-fraction", 0, OPT_DBL, &o->valid_fraction, "F",
         "hold out this fraction of the training rows (by --seed) and evaluate it each epoch [0; 0.1 for a table of "
         "2000 rows or more]", "Data"},
        {"--limit", 0, OPT_U64, &o->limit, "N", "use only the first N training rows [all]", "Data"},
        {"--scale", 0, OPT_DBL, &o->scale, "X", "multiply inputs by X [1/255 for uint8 data, else 1]", "Data"},
        {"--standardize", 0, OPT_FLAG, &o->standardize, NULL,
         "standardise each input by the training data's mean and std (kept in the model) [on for CSV, else off]",
         "Data"},
        {"--no-standardize", 0, OPT_FLAG, &o->no_standardize, NULL, "CSV: leave the inputs as they are", "Data"},
        {"--classes", 0, OPT_U32, &o->classes, "K",
         "number of classes, for labels that are class indices (IDX, NPY, HDF5) [1 + largest label]", "Data"},
        NET_OPTIONS(o->net, "precision [f32]"),
        {"--optimizer", 0, OPT_STR, &o->optimizer, "NAME",
         "gd (full batch), sgd, adam, cg, lbfgs (full-batch solvers, seed 001) [adam]", "Training"},
        {"--max-iter", 0, OPT_U32, &o->max_iter, "N", "cg/lbfgs: iterations (an iteration is logged as an epoch) [--epochs]",
         "Training"},
        {"--gtol", 0, OPT_DBL, &o->gtol, "X", "cg/lbfgs: stop when max |gradient| <= X [1e-5]", "Training"},
        {"--history", 0, OPT_U32, &o->history, "N", "lbfgs: correction pairs kept [10]", "Training"},
        {"--lr", 0, OPT_DBL, &o->lr, "X", "learning rate [0.001]", "Training"},
        {"--momentum", 0, OPT_DBL, &o->momentum, "X", "SGD momentum [0.9]", "Training"},
        {"--nesterov", 0, OPT_FLAG, &o->nesterov, NULL, "Nesterov momentum (sgd) [off]", "Training"},
        {"--batch", 0, OPT_U32, &o->batch, "N", "mini-batch size (sgd, adam) [64; a CSV table: min(200, rows)]",
         "Training"},
        {"--epochs", 0, OPT_U32, &o->epochs, "N", "epochs [5; a CSV table: 200]", "Training"},
        {"--l2", 0, OPT_DBL, &o->l2, "X",
         "L2 penalty lambda: lambda/(2m) sum w^2, biases excluded [0; a CSV table: 1e-4]", "Training"},
        {"--seed", 0, OPT_U64, &o->seed, "N", "seed for initialisation and shuffling [42]", "Training"},
        {"--threads", 0, OPT_INT, &o->threads, "N", "threads, 0 = all cores [0]", "Training"},
        {"--kernels", 0, OPT_STR, &o->kernels, "NAME",
         "fast, batched, per-sample, naive: the optimisation ladder's stages (bench ladder) [fast]", "Training"},
        {"--schedule", 0, OPT_STR, &o->schedule, "NAME", "learning-rate schedule: constant step cosine [constant]",
         "Schedule"},
        {"--step-size", 0, OPT_U32, &o->step_size, "N", "step: epochs between decays [10]", "Schedule"},
        {"--gamma", 0, OPT_DBL, &o->gamma, "X", "step: factor per decay [0.1]", "Schedule"},
        {"--lr-min", 0, OPT_DBL, &o->lr_min, "X", "cosine: the last epoch's learning rate [0]", "Schedule"},
        {"--weight-decay", 0, OPT_DBL, &o->weight_decay, "X", "decoupled weight decay per step, weights only [0]",
         "Schedule"},
        {"--patience", 0, OPT_U32, &o->patience, "N",
         "stop after N epochs without a better validation loss; keep the best weights [off; 10 with the default "
         "--valid-fraction]",
         "Schedule"},
        {"--checkpoint", 0, OPT_STR, &o->checkpoint, "FILE",
         "checkpoint file (also written on SIGINT/SIGTERM) [MODEL.ckpt with -o]", "Checkpoints"},
        {"--checkpoint-every", 0, OPT_U32, &o->checkpoint_every, "N",
         "write the checkpoint every N epochs [0: only on a stop]", "Checkpoints"},
        {"--resume", 0, OPT_STR, &o->resume, "FILE", "continue the run saved in FILE (same flags and data)",
         "Checkpoints"},
        {"--output", 'o', OPT_STR, &o->out, "FILE", "save the trained model to FILE", "Output"},
        {"--log-json", 0, OPT_STR, &o->log_json, "FILE", "write a header line (the run's settings), then one JSON object per epoch, to FILE",
         "Output"},
        {"--quiet", 'q', OPT_FLAG, &o->quiet, NULL, "print only the final summary", "Output"},
        {"--profile", 0, OPT_FLAG, &o->profile, NULL, "print where the time and memory went", "Output"},
        {"--report", 0, OPT_STR, &o->report, "FILE",
         "write an HTML report: curves, confusion matrix, test samples (with --profile: time and memory)", "Output"},
        {"--plots", 0, OPT_STR, &o->plots, "DIR", "also write each chart of the report as DIR/NAME.svg", "Output"},
        {"--sweep", 0, OPT_LIST, &o->sweep, "FLAG=V,V,..",
         "train once per value of a numeric training flag (lr l2 batch momentum epochs seed ...), everything else "
         "equal: each run's model and log beside -o with the value in the name, a table, one --report; repeat "
         "(or separate by spaces) to cross flags", "Sweeps"},
        {"--allreduce", 0, OPT_STR, &o->allreduce, "HOW",
         "fastmlp-mpi on several ranks: sum each layer's gradient over the ranks as soon as it is done (overlap) "
         "or the whole gradient after the backward pass (blocking) [overlap]", "Cluster"},
        DATA_OPTIONS(o->data),
        {0}};
    *a = (struct cli_args){.cmd = r->cmd, .first = 2, .opts = opts,
                           .usage = "usage: fastmlp train --train FILE [--train-labels FILE] [options]\n"
                                    "       mpirun -np N fastmlp-mpi train ... (data-parallel, docs/distributed.md)"};
    int rc = cli_args_parse(a, argc, argv);
    a->opts = NULL; /* the table dies here */
    return rc;
}

/* The options checked together, in the order of the messages: CLI_RUN, or
 * EXIT_USAGE after one line. */
static int check_opts(struct train_run *r)
{
    const char *cmd = r->cmd;
    struct train_opts *o = &r->o;
    if (!o->train) return cli_usage_error(cmd, "--train FILE is required");
    if (o->epochs == 0) return cli_usage_error(cmd, "--epochs must be at least 1");
    if (o->batch == 0) return cli_usage_error(cmd, "--batch must be at least 1");
    if (o->standardize && o->no_standardize)
        return cli_usage_error(cmd, "--standardize and --no-standardize contradict each other");
    int stage = MLP_KERNELS_FAST;
    if (o->kernels) {
        stage = mlp_kernels_parse(o->kernels);
        if (stage < 0)
            return cli_usage_error(cmd, "unknown --kernels '%s' (expected fast, batched, per-sample or naive)",
                                   o->kernels);
    }
    if (o->limit == 0) return cli_usage_error(cmd, "--limit must be at least 1");
    if (o->test_labels && !o->test) return cli_usage_error(cmd, "--test-labels needs --test");
    if (o->valid_labels && !o->valid) return cli_usage_error(cmd, "--valid-labels needs --valid");
    if (o->valid && !isnan(o->valid_fraction) && o->valid_fraction > 0)
        return cli_usage_error(cmd, "--valid and --valid-fraction exclude each other");
    int sched = mlp_schedule_parse(o->schedule);
    if (sched < 0) return cli_usage_error(cmd, "unknown schedule '%s'", o->schedule);
    r->sched = (enum mlp_schedule)sched;
    if (o->checkpoint_every && !o->checkpoint && !(o->out && writes_file(o->out)))
        return cli_usage_error(cmd, "--checkpoint-every needs --checkpoint FILE (or -o FILE)");
    if (!isnan(o->valid_fraction) && !(o->valid_fraction >= 0 && o->valid_fraction < 1))
        return cli_usage_error(cmd, "--valid-fraction %g must be in [0, 1)", o->valid_fraction);
    if (!isnan(o->scale) && (o->scale == 0 || !isfinite(o->scale)))
        return cli_usage_error(cmd, "--scale %g must be finite and non-zero", o->scale);
    int rc;
    if ((rc = cli_check_threads(cmd, o->threads)) != EXIT_OK) return rc;
    if ((rc = cli_load_params(cmd, &o->data, &r->lp)) != EXIT_OK) return rc;
    r->lp.threads = o->threads;
    /* the run's threads and stage; the CLI frees it after the command */
    if ((rc = cli_context(cmd, o->threads, (enum mlp_kernels)stage, &r->lp.ctx)) != EXIT_OK) return rc;
    /* The names are checked now, with the defaults where the data chooses
     * (choose_defaults parses them again once it has). */
    struct net_opts probe = o->net;
    const struct net_opts dflt = net_opts_default("f32");
    if (!probe.layers) probe.layers = dflt.layers;
    if (!probe.head) probe.head = dflt.head;
    if (!probe.init) probe.init = dflt.init;
    if ((rc = net_spec_parse(cmd, &probe, &r->net)) != EXIT_OK) return rc;
    net_spec_free(&r->net);
    int optim = mlp_optim_parse(o->optimizer);
    if (optim < 0) return cli_usage_error(cmd, "unknown optimizer '%s'", o->optimizer);
    r->optim = (enum mlp_optim)optim;
    if (o->classes > MLP_MAX_CLASSES) return cli_usage_error(cmd, "--classes %u: at most %u", o->classes, MLP_MAX_CLASSES);
    if (o->max_iter) o->epochs = o->max_iter;
    if (strcmp(o->allreduce, "overlap") != 0 && strcmp(o->allreduce, "blocking") != 0)
        return cli_usage_error(cmd, "unknown --allreduce '%s' (expected overlap or blocking)", o->allreduce);
    if (o->sweep.n) {
        char why[600];
        if (sweep_parse(o->sweep.v, (uint32_t)o->sweep.n, SWEEPABLE, &r->sw, why, sizeof why))
            return cli_usage_error(cmd, "%s", why);
        r->sweeping = true;
        if (o->resume) return cli_usage_error(cmd, "--sweep and --resume exclude each other (resume one run's checkpoint alone)");
        /* several outputs per flag: each must be a file of its own */
        const char *one[][2] = {{"-o", o->out}, {"--log-json", o->log_json}, {"--checkpoint", o->checkpoint}};
        for (int i = 0; i < 3; i++)
            if (one[i][1] && !writes_file(one[i][1]))
                return cli_usage_error(cmd, "--sweep writes one %s per run: %s must name a file, not '%s'",
                                       one[i][0], one[i][0], one[i][1]);
    }
    return CLI_RUN;
}

/* fastmlp-mpi on several ranks: each rank loads its shard of every set
 * (the rows [N*rank/size, N*(rank+1)/size) of each file), rank 0 alone
 * prints, logs and writes; flags that need every row on one rank are
 * refused.  CLI_RUN, or EXIT_USAGE after one line. */
static int dist_opts(struct train_run *r)
{
    struct train_opts *o = &r->o;
    if (cli_dist.size < 2) return CLI_RUN;
    const char *cmd = r->cmd;
    if (o->limit != UINT64_MAX)
        return cli_usage_error(cmd, "--limit is not available on several ranks (each holds a shard of the rows)");
    if (!isnan(o->valid_fraction) && o->valid_fraction > 0)
        return cli_usage_error(cmd, "--valid-fraction is not available on several ranks: give the held-out rows as "
                                    "--valid FILE");
    if (o->report || o->plots)
        return cli_usage_error(cmd, "--%s is not available on several ranks (its confusion matrix and samples "
                                    "need every test row on one rank): train alone, or run fastmlp eval on the model",
                               o->report ? "report" : "plots");
    if (r->sweeping) return cli_usage_error(cmd, "--sweep is not available on several ranks: train alone");
    r->lp.shard_index = (uint32_t)cli_dist.rank;
    r->lp.shard_count = (uint32_t)cli_dist.size;
    if (isnan(o->valid_fraction)) o->valid_fraction = 0; /* no automatic hold-out either */
    if (cli_dist.rank > 0) { /* rank 0 writes the model, the log and the checkpoints */
        o->quiet = 1;
        o->out = o->log_json = o->checkpoint = NULL;
        o->profile = 0;
    }
    return CLI_RUN;
}

/* The checkpoint beside a model file: MODEL.ckpt (malloc'd, NULL when out
 * of memory). */
static char *ckpt_beside(const char *model)
{
    size_t len = strlen(model) + 6;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s.ckpt", model);
    return p;
}

/* A sweep's outputs, run by run: -o, --log-json and --checkpoint with
 * "-lr0.01" (each swept flag and value) before the extension; the log
 * beside the model when --log-json is not given ("m-lr0.01.jsonl"), the
 * checkpoint beside the model as for one run.  CLI_RUN, or the exit code. */
static int sweep_paths(struct train_run *r)
{
    const struct train_opts *o = &r->o;
    const uint32_t n = r->sw.n_runs;
    r->run_out = calloc(n, sizeof *r->run_out);
    r->run_log = calloc(n, sizeof *r->run_log);
    r->run_ckpt = calloc(n, sizeof *r->run_ckpt);
    if (!r->run_out || !r->run_log || !r->run_ckpt) return cli_fail(r->cmd, MLP_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < n; k++) {
        char suffix[200];
        sweep_suffix(&r->sw, k, suffix, sizeof suffix);
        bool oom = false;
        if (o->out) oom |= !(r->run_out[k] = sweep_path(o->out, suffix, NULL));
        if (o->log_json)
            oom |= !(r->run_log[k] = sweep_path(o->log_json, suffix, NULL));
        else if (o->out) /* the model's name with .jsonl for its extension */
            oom |= !(r->run_log[k] = sweep_path(o->out, suffix, ".jsonl"));
        if (o->checkpoint)
            oom |= !(r->run_ckpt[k] = sweep_path(o->checkpoint, suffix, NULL));
        else if (o->out)
            oom |= !(r->run_ckpt[k] = ckpt_beside(r->run_out[k]));
        if (oom) return cli_fail(r->cmd, MLP_ERR_NOMEM, "out of memory");
    }
    return CLI_RUN;
}

/* The checkpoint (as asked, else beside a model written to a file, so that
 * a stop by signal leaves something to resume from), then every file the
 * run reads and writes checked before any work: no output destroys an input
 * or another output, and each can be written (not found out after an hour of
 * training).  CLI_RUN, or the exit code. */
static int check_files(struct train_run *r, const char *config)
{
    const struct train_opts *o = &r->o;
    if (r->sweeping) {
        int rc = sweep_paths(r);
        if (rc != CLI_RUN) return rc;
    } else if (o->checkpoint || (o->out && writes_file(o->out))) {
        if (!(r->ckpt = o->checkpoint ? strdup(o->checkpoint) : ckpt_beside(o->out)))
            return cli_fail(r->cmd, MLP_ERR_NOMEM, "out of memory");
    }
    r->ckpt_flag = o->checkpoint ? "--checkpoint" : "the checkpoint beside -o";
    const struct cli_file fixed[] = {
        {"--train", o->train, 0, NULL, NULL},
        {"--train-labels", o->train_labels, 0, NULL, NULL},
        {"--test", o->test, 0, NULL, NULL},
        {"--test-labels", o->test_labels, 0, NULL, NULL},
        {"--valid", o->valid, 0, NULL, NULL},
        {"--valid-labels", o->valid_labels, 0, NULL, NULL},
        {"--config", config, 0, NULL, NULL},
        {"--resume", o->resume, 0, r->ckpt_flag, NULL}}; /* read before it is rewritten */
    const int nf = (int)(sizeof fixed / sizeof fixed[0]);
    /* the model and log, the report, then the checkpoint (the order of the
     * messages, as before sweeps): this run's, or each run's of a sweep */
    const uint32_t runs = r->sweeping ? r->sw.n_runs : 1;
    struct cli_file *files = malloc(((size_t)nf + 1 + 3 * runs) * sizeof *files);
    if (!files) return cli_fail(r->cmd, MLP_ERR_NOMEM, "out of memory");
    memcpy(files, fixed, sizeof fixed);
    int n = nf;
    for (uint32_t k = 0; k < runs; k++) {
        files[n++] = (struct cli_file){"-o", r->sweeping ? r->run_out[k] : o->out,
                                       CLI_OUT | MLP_OUTPUT_STREAM | MLP_OUTPUT_BINARY, NULL, "the model"};
        files[n++] = (struct cli_file){"--log-json", r->sweeping ? r->run_log[k] : o->log_json,
                                       CLI_OUT | MLP_OUTPUT_STREAM | MLP_OUTPUT_LIVE, NULL, "the JSON log"};
    }
    files[n++] = (struct cli_file){"--report", o->report, CLI_OUT | MLP_OUTPUT_STREAM, NULL, "the report"};
    for (uint32_t k = 0; k < runs; k++)
        files[n++] = (struct cli_file){r->ckpt_flag, r->sweeping ? r->run_ckpt[k] : r->ckpt, CLI_OUT, "--resume",
                                       "the checkpoint"};
    bool stdout_used;
    int rc = cli_check_files(r->cmd, files, n, &stdout_used);
    free(files);
    /* An output on stdout keeps it to itself: the lines for people go to stderr. */
    r->info = stdout_used ? stderr : stdout;
    return rc == EXIT_OK ? CLI_RUN : rc;
}

/* What was chosen for flags not given, for the banner. */
struct chosen {
    char text[400];
    size_t n;
};

static void chose(struct chosen *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void chose(struct chosen *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->n < sizeof c->text) {
        int w = vsnprintf(c->text + c->n, sizeof c->text - c->n, fmt, ap);
        if (w > 0) c->n += (size_t)w;
    }
    va_end(ap);
}

/* Defaults that fit the data, for every flag not given: a CSV table gets
 * scikit-learn's MLP defaults (one hidden layer of 100, 200 epochs of Adam
 * in batches of min(200, rows), L2 1e-4) on standardised inputs, and a
 * validation split with early stopping once it has 2000 rows or more
 * (smaller tables keep every row for training); other data (images) the defaults the
 * Fashion-MNIST workloads were tuned with.  The head follows the task, the
 * initialiser the activation (He for ReLU, Xavier/Glorot otherwise). */
static int choose_defaults(struct train_run *r, struct chosen *c)
{
    struct train_opts *o = &r->o;
    const bool table = mlp_dataset_schema(&r->train) != NULL, regress = r->regress;
    uint64_t rows = r->rows < o->limit ? r->rows : o->limit;
    if (!o->net.layers) {
        o->net.layers = table ? "100" : "256,128";
        chose(c, " --layers %s", o->net.layers);
    }
    if (!o->net.head) {
        o->net.head = regress ? "identity-mse" : "softmax-ce";
        if (regress) chose(c, " --head %s", o->net.head);
    }
    if (!o->net.init) {
        int act = mlp_act_parse(o->net.activation);
        o->net.init = act == MLP_ACT_RELU || act == MLP_ACT_LEAKY_RELU ? "he" : "xavier";
        if (strcmp(o->net.init, "he")) chose(c, " --init %s", o->net.init);
    }
    if (o->epochs == UNSET) {
        o->epochs = table ? 200 : 5;
        if (table) chose(c, " --epochs %u", o->epochs);
    }
    if (o->batch == UNSET) {
        o->batch = table ? (uint32_t)(rows < 200 ? rows : 200) : 64;
        if (table) chose(c, " --batch %u", o->batch);
    }
    if (isnan(o->l2)) {
        o->l2 = table ? 1e-4 : 0;
        if (table) chose(c, " --l2 %g", o->l2);
    }
    bool split = table && rows >= 2000 && !o->valid && isnan(o->valid_fraction);
    if (isnan(o->valid_fraction)) {
        o->valid_fraction = split ? 0.1 : 0;
        if (split) chose(c, " --valid-fraction 0.1");
    }
    if (o->patience == UNSET) {
        o->patience = split ? 10 : 0;
        if (split) chose(c, " --patience 10");
    }
    if (table && !o->no_standardize && !o->standardize) {
        o->standardize = 1;
        chose(c, " --standardize");
    }
    if (o->max_iter) o->epochs = o->max_iter;
    r->lc.epochs = o->epochs;
    return net_spec_parse(r->cmd, &o->net, &r->net) == EXIT_OK ? CLI_RUN : EXIT_USAGE;
}

/* The data sets: loaded (the evaluation sets read with the training
 * table's schema: its classes, categories and fill values), checked for
 * labels, the defaults chosen from them, cut to --limit, the validation
 * rows split off, their classes shared.  *rc: the exit code when a flag
 * chosen is refused. */
static enum mlp_status load_files(struct train_run *r)
{
    struct train_opts *o = &r->o;
    struct mlp_error *err = &r->err;
    double t0 = mlp_now();
    enum mlp_status st = cli_load_data(&r->train, o->train, o->train_labels, &r->lp, err);
    struct mlp_load_params lp = r->lp;
    lp.schema = st == MLP_OK ? mlp_dataset_schema(&r->train) : NULL;
    if (st == MLP_OK && o->test) st = cli_load_data(&r->test, o->test, o->test_labels, &lp, err);
    if (st == MLP_OK && o->valid) st = cli_load_data(&r->valid, o->valid, o->valid_labels, &lp, err);
    r->ph.load = mlp_now() - t0;
    if (st == MLP_OK && o->valid) st = cli_need_labels(&r->valid, o->valid, "--valid-labels", err);
    if (st == MLP_OK)
        st = cli_need_labels(&r->train, o->train, "--train-labels (IDX, NPY), a label column (CSV) or --y-key (HDF5)",
                             err);
    if (st == MLP_OK && o->test) st = cli_need_labels(&r->test, o->test, "--test-labels", err);
    return st;
}

/* The loaded sets: checked against each other, the defaults chosen from
 * them, cut to --limit, the validation rows split off, their classes
 * shared.  *rc: the exit code when a flag chosen is refused. */
static enum mlp_status prepare_sets(struct train_run *r, struct chosen *ch, int *rc)
{
    struct train_opts *o = &r->o;
    struct mlp_error *err = &r->err;
    *rc = CLI_RUN;
    /* Sets that cannot share a model: said before their labels are compared. */
    const struct mlp_dataset *ev[] = {o->test ? &r->test : NULL, o->valid ? &r->valid : NULL};
    const char *evp[] = {o->test, o->valid};
    for (int i = 0; i < 2; i++)
        if (ev[i] && ev[i]->n_cols != r->train.n_cols) {
            snprintf(err->msg, sizeof err->msg, "%.200s has %u input columns, the training data %.200s has %u", evp[i],
                     ev[i]->n_cols, o->train, r->train.n_cols);
            return err->status = MLP_ERR_SHAPE;
        }
    if (o->classes && mlp_dataset_schema(&r->train)) {
        snprintf(err->msg, sizeof err->msg,
                 "--classes is for labels that are class indices: a table's classes are its distinct labels (%u here)",
                 r->train.n_classes);
        return err->status = MLP_ERR_ARG;
    }
    if (o->test) cli_warn_schema(r->cmd, &r->test);
    if (o->valid) cli_warn_schema(r->cmd, &r->valid);
    if ((*rc = choose_defaults(r, ch)) != CLI_RUN) return MLP_OK;
    if (o->limit < r->train.n_rows) mlp_dataset_truncate(&r->train, o->limit);
    if (o->valid_fraction > 0) {
        struct mlp_dataset rest;
        const struct mlp_split how = {.fraction = o->valid_fraction, .seed = o->seed};
        enum mlp_status st;
        if ((st = mlp_dataset_split(&r->train, &how, &rest, &r->valid, err)) != MLP_OK) return st;
        if (sweeps(r, "seed")) { /* each seed splits the rows its own way, as its own run would */
            r->full = r->train;
            r->has_full = true;
        } else {
            mlp_dataset_free(&r->train);
        }
        r->train = rest;
        r->split_seed = o->seed;
    }
    r->has_valid = o->valid || o->valid_fraction > 0;
    struct mlp_dataset *sets[] = {&r->train, o->test ? &r->test : NULL, r->has_valid ? &r->valid : NULL};
    return cli_share_classes(sets, 3, o->classes, err);
}

/* The lines that say how the table was read (a CSV file's schema): the
 * header found, the task and classes, categorical columns, missing values,
 * and the defaults chosen. */
static void data_banner(const struct train_run *r, const struct chosen *ch)
{
    FILE *f = r->info;
    const struct mlp_schema *s = mlp_dataset_schema(&r->train);
    if (s) {
        enum mlp_header_why h = mlp_schema_header(s);
        if (h == MLP_HEADER_SEQUENCE)
            fprintf(f, "header: the first row (0..n-1 or 1..n, as pandas writes an unnamed frame) is a header\n");
        else if (h == MLP_HEADER_NAMES)
            fprintf(f, "header: the first row names the columns\n");
        int64_t lc = mlp_schema_label_column(s);
        struct mlp_column_info li = {0};
        if (lc >= 0) mlp_schema_column(s, (uint32_t)lc, &li);
        if (mlp_schema_task(s) == MLP_TASK_REGRESS) {
            fprintf(f, "task: regression on column %lld%s%s%s (real targets)\n", (long long)lc + 1, *li.name ? " '" : "",
                    li.name, *li.name ? "'" : "");
        } else if (lc >= 0) {
            uint32_t K = mlp_schema_n_classes(s);
            fprintf(f, "task: classification on column %lld%s%s%s, %u classes:", (long long)lc + 1, *li.name ? " '" : "",
                    li.name, *li.name ? "'" : "", K);
            for (uint32_t k = 0; k < K && k < 12; k++) fprintf(f, " %s", mlp_schema_class(s, k));
            fprintf(f, "%s\n", K > 12 ? " ..." : "");
        }
        uint32_t n_cat = 0;
        uint64_t missing = 0;
        for (uint32_t i = 0; i < mlp_schema_n_columns(s); i++) {
            struct mlp_column_info c;
            mlp_schema_column(s, i, &c);
            missing += c.n_missing;
            if (c.kind != MLP_COL_CATEGORICAL) continue;
            if (*c.name)
                fprintf(f, "%s %s (%u)", n_cat++ ? "," : "categorical:", c.name, c.n_categories);
            else
                fprintf(f, "%s column %u (%u)", n_cat++ ? "," : "categorical:", i + 1, c.n_categories);
        }
        if (n_cat) fprintf(f, " -> %u inputs, one-hot\n", mlp_schema_n_inputs(s));
        if (missing)
            fprintf(f, "missing values: %llu (%s: %llu rows dropped, %llu fields filled)\n", (unsigned long long)missing,
                    mlp_missing_name(mlp_schema_missing(s)), (unsigned long long)mlp_schema_rows_dropped(s),
                    (unsigned long long)mlp_schema_fields_filled(s));
    }
    if (ch->n) fprintf(f, "defaults chosen from the data:%s\n", ch->text);
}

static struct mlp_train_params train_params(const struct train_run *r)
{
    const struct train_opts *o = &r->o;
    struct mlp_train_params tp = mlp_train_params_default();
    tp.eval = r->has_valid ? &r->valid : o->test ? &r->test : NULL;
    tp.optim = r->optim;
    tp.lr = o->lr;
    tp.momentum = o->momentum;
    tp.nesterov = o->nesterov;
    tp.l2 = o->l2;
    tp.batch = o->batch;
    tp.epochs = o->epochs;
    tp.seed = o->seed;
    tp.schedule = r->sched;
    tp.step_size = o->step_size;
    tp.gamma = o->gamma;
    tp.lr_min = o->lr_min;
    tp.weight_decay = o->weight_decay;
    tp.patience = o->patience;
    tp.gtol = o->gtol;
    tp.history = o->history;
    return tp;
}

/* The banner's training part: only the knobs the chosen optimiser reads
 * (the solvers take no learning rate, batch or schedule). */
static void banner_optim(const struct train_run *r, char *b, size_t n)
{
    const struct train_opts *o = &r->o;
    size_t k = 0;
#define PUT(...) (void)(k < n && (k += (size_t)snprintf(b + k, n - k, __VA_ARGS__)))
    PUT("%s", mlp_optim_name(r->optim));
    if (r->optim == MLP_OPT_CG || r->optim == MLP_OPT_LBFGS) {
        if (r->optim == MLP_OPT_LBFGS) PUT(" history %u", o->history);
        PUT(", gtol %g, at most %u iterations", o->gtol, o->epochs);
    } else {
        PUT(" lr %g", o->lr);
        if (r->sched == MLP_SCHED_STEP) PUT(" (x%g every %u epochs)", o->gamma, o->step_size);
        if (r->sched == MLP_SCHED_COSINE) PUT(" (cosine to %g)", o->lr_min);
        if (r->optim == MLP_OPT_SGD && o->momentum > 0) PUT(" momentum %g%s", o->momentum, o->nesterov ? " nesterov" : "");
        if (r->optim != MLP_OPT_GD) PUT(" batch %u", o->batch);
        if (o->weight_decay > 0) PUT(" weight decay %g", o->weight_decay);
        PUT(", %u epochs", o->epochs);
    }
    if (o->l2 > 0) PUT(", l2 %g", o->l2);
    if (o->patience) PUT(", patience %u", o->patience);
#undef PUT
}

/* The output layer's biases set to the mean of each target over ds. */
static enum mlp_status init_output_bias(struct mlp_model *m, const struct mlp_dataset *ds, const struct mlp_comm *comm,
                                        struct mlp_error *err)
{
    const uint32_t L = mlp_model_n_layers(m), K = mlp_model_n_out(m);
    /* several ranks: every shard's sums and rows, added up (a rank's
     * shard may be empty; the sums are over every rank's rows) */
    double *sum = calloc((size_t)K + 1, sizeof *sum);
    if (!sum) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return err->status = MLP_ERR_NOMEM;
    }
    if (ds->targets && ds->n_targets == K) {
        for (uint32_t k = 0; k < K; k++)
            for (uint64_t r = 0; r < ds->n_rows; r++) sum[k] += ds->targets[r * K + k];
        sum[K] = (double)ds->n_rows;
    }
    char msg[160] = "";
    if (comm && comm->allreduce(comm->self, sum, (size_t)K + 1, MLP_F64, msg, sizeof msg)) {
        free(sum);
        snprintf(err->msg, sizeof err->msg, "summing the targets over the ranks failed: %s", msg);
        return err->status = MLP_ERR_IO;
    }
    const size_t b = mlp_model_b_offset(m, L - 1);
    for (uint32_t k = 0; k < K && sum[K] > 0; k++) {
        double mean = sum[k] / sum[K];
        if (mlp_model_dtype(m) == MLP_F32)
            ((float *)mlp_model_params(m))[b + k] = (float)mean;
        else
            ((double *)mlp_model_params(m))[b + k] = mean;
    }
    free(sum);
    return MLP_OK;
}

/* The model (refused up front when training it cannot fit in memory,
 * rather than failing or swapping after minutes of allocation), then the
 * trainer with its callbacks, checkpoint and resumed state. */
static enum mlp_status start(struct train_run *r, const struct chosen *ch, int *rc)
{
    const struct train_opts *o = &r->o;
    struct mlp_error *err = &r->err;
    struct mlp_train_params tp = train_params(r);
    tp.comm = r->comm;
    struct mlp_model_params mp;
    enum mlp_status st = net_params(&r->net, &r->train, o->scale, &mp, err);
    mp.ctx = r->lp.ctx;
    if (st == MLP_OK) st = mlp_trainer_check_memory(&mp, &tp, err);
    if (st == MLP_OK) st = net_create(&r->net, &mp, o->seed, &r->m, err);
    /* several ranks: what failed on one so far ends every rank here, before
     * the sums below that the others would wait in */
    if (cli_dist.size > 1) {
        *rc = cli_dist_agree(r->cmd, st == MLP_OK ? CLI_RUN : cli_fail(r->cmd, st, err->msg));
        if (*rc != CLI_RUN) return MLP_OK; /* said: by this rank, or by rank 0 for another */
        r->synced = true;
    }
    /* Fitted on the training rows only: validation and test stay unseen. */
    if (st == MLP_OK && o->standardize) st = mlp_model_fit_standardize_group(r->m, &r->train, r->comm, err);
    /* Regression (an identity head, whose output is its bias plus the sum):
     * the output biases start at the targets' means, so that
     * the first epochs learn the shape rather than the offset (a target
     * around 150, as diabetes', is out of reach of 200 epochs of Adam at
     * 1e-3 from an output near 0).  A deterministic function of the data. */
    if (st == MLP_OK && r->regress && !o->resume &&
        r->net.head == MLP_HEAD_IDENTITY_MSE)
        st = init_output_bias(r->m, &r->train, r->comm, err);
    /* The table's layout goes with the model: predict and eval read the same. */
    if (st == MLP_OK && mlp_dataset_schema(&r->train))
        st = mlp_model_set_schema(r->m, mlp_dataset_schema(&r->train), err);
    /* several ranks: from the agreement above to the trainer's creation the
     * ranks take part in sums together, so a failure here (mostly memory)
     * ends the job rather than leave the others waiting in one */
    if (st != MLP_OK && cli_dist.size > 1) *rc = cli_dist_abort(cli_fail(r->cmd, st, err->msg));
    if (st != MLP_OK) return st;
    if (!o->quiet && r->run == 0) data_banner(r, ch);
    if (!o->quiet) {
        char net[600], optim[200];
        struct mlp_dataset all = r->train; /* the rows of every rank's shard */
        all.n_rows = r->rows;
        net_summary(&r->net, &all, r->m, net, sizeof net);
        banner_optim(r, optim, sizeof optim);
        fprintf(r->info, "fastmlp %s: %s, %s\n", r->cmd, net, optim);
    }
    if ((st = mlp_trainer_create(&r->t, r->m, &r->train, &tp, err)) != MLP_OK) {
        if (cli_dist.size > 1) *rc = cli_dist_abort(cli_fail(r->cmd, st, err->msg));
        return st;
    }
    r->lc.t = r->t;
    mlp_trainer_set_callbacks(r->t, on_epoch, on_batch, &r->lc);
    if (r->mt) mlp_trainer_set_phase_callback(r->t, on_phase, &r->pn);
    if (r->ckpt) mlp_trainer_set_checkpoint(r->t, r->ckpt, o->checkpoint_every);
    if (o->resume) {
        if ((st = mlp_trainer_resume(r->t, o->resume, err)) != MLP_OK) return st;
        uint32_t done = mlp_trainer_epochs_done(r->t);
        if (!o->quiet) fprintf(r->info, "resumed from %s after %u epoch%s\n", o->resume, done, done == 1 ? "" : "s");
    }
    return MLP_OK;
}

/* The log's first line: what the run was (the version, data, model and
 * every training setting, and a sweep's values), so that `fastmlp report
 * --runs` can tell runs apart.  The epoch lines after it are unchanged. */
static void log_header(const struct train_run *r, FILE *f)
{
    const struct train_opts *o = &r->o;
    char model[256];
    report_model_summary(r->m, model, sizeof model);
    fputs("{\"fastmlp_log\": 1, \"version\": ", f);
    cli_json_str(f, mlp_version());
    fputs(", \"command\": ", f);
    cli_json_str(f, r->cmd);
    fputs(", \"data\": ", f);
    cli_json_str(f, o->train);
    if (r->has_valid || o->test) { /* the set the epochs' figures are of; none: no key */
        fputs(", \"eval\": ", f);
        cli_json_str(f, r->lc.eval_name);
    }
    fputs(", \"model\": ", f);
    cli_json_str(f, model);
    fputs(", \"hyperparameters\": {\"optimizer\": ", f);
    cli_json_str(f, mlp_optim_name(r->optim));
    json_key_num(f, "lr", o->lr);
    json_key_num(f, "momentum", o->momentum);
    fprintf(f, ", \"nesterov\": %s", o->nesterov ? "true" : "false");
    json_key_num(f, "batch", o->batch);
    json_key_num(f, "epochs", o->epochs);
    json_key_num(f, "l2", o->l2);
    json_key_num(f, "seed", (double)o->seed);
    fputs(", \"schedule\": ", f);
    cli_json_str(f, mlp_schedule_name(r->sched));
    json_key_num(f, "step_size", o->step_size);
    json_key_num(f, "gamma", o->gamma);
    json_key_num(f, "lr_min", o->lr_min);
    json_key_num(f, "weight_decay", o->weight_decay);
    json_key_num(f, "patience", o->patience);
    json_key_num(f, "gtol", o->gtol);
    json_key_num(f, "history", o->history);
    fputs(", \"layers\": ", f);
    cli_json_str(f, o->net.layers);
    fputs(", \"activation\": ", f);
    cli_json_str(f, mlp_act_name(r->net.act));
    fputs(", \"head\": ", f);
    cli_json_str(f, mlp_head_name(r->net.head));
    fputs(", \"init\": ", f);
    cli_json_str(f, mlp_init_name(r->net.init));
    fputs(", \"dtype\": ", f);
    cli_json_str(f, mlp_dtype_name(r->net.dtype));
    fprintf(f, ", \"standardize\": %s", o->standardize ? "true" : "false");
    json_key_num(f, "valid_fraction", o->valid_fraction);
    fputs(", \"limit\": ", f);
    if (o->limit == UINT64_MAX)
        fputs("null", f);
    else
        fprintf(f, "%llu", (unsigned long long)o->limit);
    fprintf(f, ", \"threads\": %d}", o->threads);
    if (r->sweeping) {
        fputs(", \"sweep\": {", f);
        for (uint32_t d = 0; d < r->sw.n_dims; d++) {
            fprintf(f, "%s\"%s\": ", d ? ", " : "", r->sw.dims[d].flag->name);
            json_num(f, r->sw.dims[d].values[sweep_index(&r->sw, r->run, d)]);
        }
        fputc('}', f);
    }
    fputs("}\n", f);
}

/* The JSON log, written in place (no temporary file): opened before the
 * signals are deferred, so that a FIFO's wait for its reader can be
 * interrupted; a resumed run's log holds the epochs before the checkpoint
 * too.  CLI_RUN, or the exit code. */
static int open_log(struct train_run *r)
{
    if (!r->o.log_json) return CLI_RUN;
    struct mlp_error *err = &r->err;
    enum mlp_status st = mlp_output_open(&r->log, r->o.log_json, MLP_OUTPUT_STREAM | MLP_OUTPUT_LIVE, err);
    if (st != MLP_OK) {
        char msg[sizeof err->msg + 16];
        snprintf(msg, sizeof msg, "%s (the JSON log)", err->msg);
        return cli_output_fail(r->cmd, st, msg);
    }
    r->lc.json = mlp_output_file(r->log);
    log_header(r, r->lc.json);
    uint32_t n;
    const struct mlp_epoch_stats *h = mlp_trainer_history(r->t, &n);
    for (uint32_t i = 0; i < n; i++) json_epoch(r->lc.json, &h[i], r->lc.eval_name);
    return CLI_RUN;
}

/* The log holds every epoch that ran, whatever ended the run: committed
 * here.  CLI_RUN, or EXIT_IOERR when its failure is why training stopped. */
static int close_log(struct train_run *r, enum mlp_status st)
{
    if (!r->log) return CLI_RUN;
    struct mlp_error lerr = {0};
    if (r->lc.json_errno) {
        mlp_output_abort(r->log);
        snprintf(lerr.msg, sizeof lerr.msg, "%s: cannot write the JSON log: %s", r->o.log_json,
                 strerror(r->lc.json_errno));
    } else if (mlp_output_commit(r->log, &lerr) == MLP_OK) {
        lerr.msg[0] = 0;
    }
    r->log = NULL;
    r->lc.json = NULL;
    if (lerr.msg[0] && st == MLP_ERR_STOPPED && r->lc.json_errno) {
        fprintf(stderr, "fastmlp %s: %s\n", r->cmd, lerr.msg);
        return EXIT_IOERR;
    }
    if (lerr.msg[0]) snprintf(r->late, sizeof r->late, "%s", lerr.msg);
    return CLI_RUN;
}

/* Why the run ended, when the epoch lines do not say it: early stopping
 * (and which epoch's weights were kept), or what stopped a solver. */
static void print_stop(const struct train_run *r)
{
    const struct mlp_train_meta tm = mlp_model_train_meta(r->m);
    uint32_t n_hist;
    const struct mlp_epoch_stats *h = mlp_trainer_history(r->t, &n_hist);
    const uint32_t done = mlp_trainer_epochs_done(r->t), asked = r->o.epochs;
    const char *solver = mlp_optim_name(r->optim);
    switch ((enum mlp_stop_reason)tm.stop_reason) {
    case MLP_STOP_EARLY:
        fprintf(r->info, "early stop after epoch %u: no better %s loss for %u epochs; kept the weights of epoch %u",
                done, r->lc.eval_name, r->o.patience, tm.epoch_kept);
        /* the history counts the epochs of this run's checkpoints too, as epoch_kept does */
        for (uint32_t i = 0; i < n_hist; i++)
            if (h[i].epoch == tm.epoch_kept) fprintf(r->info, " (%s_loss %.6f)", r->lc.eval_name, h[i].test_loss);
        fprintf(r->info, "\n");
        break;
    case MLP_STOP_GTOL:
        fprintf(r->info, "%s converged after %u of at most %u iterations: max |gradient| <= gtol %g\n", solver, done,
                asked, r->o.gtol);
        break;
    case MLP_STOP_MAX_ITER:
        fprintf(r->info, "%s stopped after %u iterations, the most asked for: max |gradient| still above gtol %g\n",
                solver, done, r->o.gtol);
        break;
    case MLP_STOP_LINESEARCH:
        fprintf(r->info,
                "%s stopped after %u of at most %u iterations: the line search found no further decrease (precision "
                "lost before max |gradient| <= gtol %g); the last point kept\n",
                solver, done, asked, r->o.gtol);
        break;
    default: break; /* every epoch ran: the epoch lines say so */
    }
}

/* Train: from here outputs are being written, and SIGINT/SIGTERM stop the
 * trainer at its next batch boundary (it writes the checkpoint) instead.
 * CLI_RUN, or the exit code. */
static int ended(struct train_run *r, enum mlp_status st, bool signalled);

static int train(struct train_run *r)
{
    cli_signals_defer(r->t);
    enum mlp_status st = mlp_trainer_run(r->t, &r->err);
    if (r->lc.tty && !r->lc.quiet) fprintf(r->info, "\r\033[K");
    /* Several ranks end a run together (finished, stopped or diverged at
     * the same step: the trainer agrees on those); any other failure may
     * be this rank's alone (its checkpoint, its memory) while the others
     * wait in a sum: it ends the job. */
    const bool joint = st == MLP_OK || st == MLP_ERR_STOPPED || st == MLP_ERR_DIVERGED;
    if (cli_dist.size > 1 && !joint)
        return cli_dist_abort(st == MLP_ERR_OPEN ? cli_output_fail(r->cmd, st, r->err.msg)
                                                 : cli_fail(r->cmd, st, r->err.msg));
    /* a signal that reached any rank stopped them all */
    const bool signalled = cli_dist.size > 1 ? cli_dist_sum_u64(cli_interrupted()) > 0 : cli_interrupted();
    int rc = close_log(r, st);
    if (rc == CLI_RUN) rc = ended(r, st, signalled);
    /* several ranks: one exit code, rank 0's when it has one */
    return cli_dist.size > 1 ? cli_dist_agree(r->cmd, rc) : rc;
}

/* How a run that ended jointly ends the command: CLI_RUN, or the exit code
 * after one line. */
static int ended(struct train_run *r, enum mlp_status st, bool signalled)
{
    if (st == MLP_ERR_STOPPED && signalled) {
        fprintf(stderr, "fastmlp %s: interrupted by %s: %s\n", r->cmd, cli_signal_name(), r->err.msg);
        return EXIT_INTERRUPTED;
    }
    /* Every input is loaded: a file that cannot be created is the checkpoint. */
    if (st == MLP_ERR_OPEN) return cli_output_fail(r->cmd, st, r->err.msg);
    if (st == MLP_ERR_DIVERGED) {
        /* the trainer put the last good weights back, but a diverged run
         * saves nothing: say so rather than which weights were kept */
        char msg[sizeof r->err.msg + 300];
        snprintf(msg, sizeof msg, "%s; no model was saved%s%s%s", r->err.msg, r->o.out ? " (-o " : "",
                 r->o.out ? r->o.out : "", r->o.out ? " was not written)" : "");
        return cli_fail(r->cmd, st, msg);
    }
    if (st != MLP_OK) return cli_fail(r->cmd, st, r->err.msg);
    if (!r->o.quiet) print_stop(r);
    return CLI_RUN;
}

static void prof_add(struct mlp_profile *sum, const struct mlp_profile *p)
{
    sum->forward_s += p->forward_s, sum->backward_s += p->backward_s, sum->optim_s += p->optim_s;
    sum->eval_s += p->eval_s, sum->checkpoint_s += p->checkpoint_s, sum->comm_s += p->comm_s;
    sum->forward_n += p->forward_n, sum->backward_n += p->backward_n, sum->optim_n += p->optim_n;
    sum->eval_n += p->eval_n, sum->checkpoint_n += p->checkpoint_n, sum->comm_n += p->comm_n;
    /* held at once: a run's, not the runs' sum */
    if (p->param_bytes > sum->param_bytes) sum->param_bytes = p->param_bytes;
    if (p->optim_bytes > sum->optim_bytes) sum->optim_bytes = p->optim_bytes;
}

/* The report (--report, --plots) of the run, or of a sweep's runs with
 * model m (the best run's) on the final set: with --profile, the phases'
 * times so far and memory over time, whose sampling ends here.  CLI_RUN,
 * or the exit code. */
static int report_out(struct train_run *r, const struct mlp_model *m, const struct mlp_dataset *final,
                      const char *fname)
{
    const struct train_opts *o = &r->o;
    double r0 = mlp_now();
    char model[256], sub[700];
    report_model_summary(m, model, sizeof model);
    struct report_data rd = {.title = "fastmlp train", .subtitle = sub, .plots_dir = o->plots, .best_run = -1};
    struct report_run *runs = NULL;
    char why[64];
    if (r->sweeping) {
        if (!(runs = calloc(r->n_res ? r->n_res : 1, sizeof *runs))) return cli_fail(r->cmd, MLP_ERR_NOMEM, "out of memory");
        for (uint32_t i = 0; i < r->n_res; i++) {
            const struct sweep_result *x = &r->res[i];
            runs[i] = (struct report_run){.label = x->label, .history = x->history, .n_epochs = x->n_epochs,
                                          .eval_name = r->lc.eval_name, .train_loss = x->train_loss,
                                          .train_acc = x->train_acc, .eval_loss = x->loss, .eval_acc = x->acc,
                                          .seconds = x->seconds,
                                          .final_name = strcmp(fname, "train") ? fname : "final train"};
        }
        rd.runs = runs, rd.n_runs = r->n_res, rd.best_run = r->best;
        snprintf(why, sizeof why, "lowest %s loss", sweep_by(r, fname));
        rd.best_why = why;
        snprintf(sub, sizeof sub, "%s; %u runs; the figures below the curves are the best run's (%s), on the %s set",
                 model, r->n_res, r->best >= 0 ? r->res[r->best].label : "none", fname);
    } else {
        rd.history = mlp_trainer_history(r->t, &rd.n_epochs);
        snprintf(sub, sizeof sub, "%s; %u epochs; figures on the %s set", model, rd.n_epochs, fname);
    }
    struct report_profile prof = {0};
    struct report_phase rows[PROFILE_ROWS];
    if (o->profile) {
        memtrace_stop(r->mt);
        struct phases ph = r->ph;
        ph.total = mlp_now() - r->t_start;
        prof.phases = rows;
        prof.n_phases = profile_rows(&r->prof, &ph, rows);
        prof.total_s = ph.total;
        if (r->mt) prof.samples = memtrace_samples(r->mt, &prof.n_samples, &prof.interval_s);
        prof.phase_names = PHASE_NAMES;
        prof.n_phase_names = PH_COUNT;
        prof.peak_bytes = peak_rss_bytes();
        rd.profile = &prof;
    }
    phase_set(&r->pn, PH_REPORT, 0);
    if (o->report) cli_signals_for_output(o->report);
    enum mlp_status st = write_report(o->report, &rd, m, final, fname, &r->err);
    free(runs);
    r->ph.report = mlp_now() - r0;
    if (st != MLP_OK && !cli_interrupted()) return cli_output_fail(r->cmd, st, r->err.msg);
    if (!o->quiet && !cli_interrupted()) {
        if (o->report) fprintf(r->info, "report written to %s\n", o->report);
        if (o->plots) fprintf(r->info, "plots written to %s/\n", o->plots);
    }
    return CLI_RUN;
}

/* The set the final figures are of: the test set, else the validation
 * set, else the training set; *name its name. */
static const struct mlp_dataset *final_set(const struct train_run *r, const char **name)
{
    *name = r->o.test ? "test" : r->has_valid ? "valid" : "train";
    return r->o.test ? &r->test : r->has_valid ? &r->valid : &r->train;
}

/* The outputs of a finished run: the final figures, the model and the
 * report.  A signal from here on: the model is still saved (it is the run's
 * result, and quick to write); the report is skipped.  CLI_RUN, or the exit
 * code. */
static int outputs(struct train_run *r)
{
    const struct train_opts *o = &r->o;
    struct mlp_error *err = &r->err;
    double loss, acc, f0 = mlp_now();
    const char *fname;
    const struct mlp_dataset *final = final_set(r, &fname);
    /* several ranks: over every rank's shard of the set */
    phase_set(&r->pn, PH_FINAL_EVAL, 0);
    enum mlp_status st = mlp_trainer_evaluate(r->t, final, &loss, &acc, err);
    r->ph.final_eval += mlp_now() - f0;
    r->final_loss = loss, r->final_acc = acc;
    if (st != MLP_OK) return cli_dist_abort(cli_fail(r->cmd, st, err->msg));
    double rm[3];
    /* MAE and R2 want every row on one rank: several ranks print the loss */
    const bool regress_metrics = final->targets && cli_dist.size < 2;
    if (regress_metrics && (st = cli_regress_metrics(r->m, final, rm, err)) != MLP_OK)
        return cli_fail(r->cmd, st, err->msg);
    if (acc >= 0) fprintf(r->info, "%s accuracy %.4f  ", fname, acc);
    if (regress_metrics)
        fprintf(r->info, "%s MSE %.6g  MAE %.6g  R2 %.4f  (%.2f s training)\n", fname, rm[0], rm[1], rm[2],
                r->lc.total_s);
    else
        fprintf(r->info, "%s loss %.4f  %.0f samples/s  (%.2f s training)\n", fname, loss,
            r->lc.total_s > 0 ? (double)r->rows * r->lc.n_epochs / r->lc.total_s : 0, r->lc.total_s);
    if (o->out) {
        double s0 = mlp_now();
        phase_set(&r->pn, PH_SAVE, 0);
        cli_signals_for_output(o->out);
        st = mlp_model_save(r->m, o->out, err);
        r->ph.save += mlp_now() - s0;
        if (st != MLP_OK) return cli_output_fail(r->cmd, st, err->msg);
        if (!o->quiet) fprintf(r->info, "model saved to %s\n", strcmp(o->out, "-") ? o->out : "standard output");
    }
    /* a sweep's report is of every run: after the last */
    if ((o->report || o->plots) && !r->sweeping && !cli_interrupted()) {
        int rc = report_out(r, r->m, final, fname);
        if (rc != CLI_RUN) return rc;
    }
    if (cli_interrupted()) {
        fprintf(stderr, "fastmlp %s: interrupted by %s after training: %s%s%s\n", r->cmd, cli_signal_name(),
                o->out ? "the model was saved to " : "nothing was saved",
                o->out ? (strcmp(o->out, "-") ? o->out : "standard output") : "",
                o->report ? "; the report was not written" : "");
        return EXIT_INTERRUPTED;
    }
    return CLI_RUN;
}

/* One training run from the loaded sets: the model, the log, training,
 * the final figures and the outputs.  CLI_RUN, or the exit code. */
static int one_run(struct train_run *r, const struct chosen *ch)
{
    int rc = CLI_RUN;
    phase_set(&r->pn, PH_SETUP, 0);
    enum mlp_status st = start(r, ch, &rc);
    if (st != MLP_OK) rc = cli_fail(r->cmd, st, r->err.msg);
    if (rc == CLI_RUN) rc = open_log(r);
    /* several ranks: a checkpoint that one cannot resume from, or the log
     * rank 0 cannot open, ends every rank before the first step */
    if (cli_dist.size > 1 && r->synced) rc = cli_dist_agree(r->cmd, rc);
    if (rc == CLI_RUN) rc = train(r);
    if (r->t) prof_add(&r->prof, mlp_trainer_profile(r->t));
    if (rc == CLI_RUN) rc = outputs(r);
    return rc;
}

/* Every run of a sweep is checked before the first trains: its settings,
 * as the trainer checks them (sweep_parse has refused counts below their
 * flag's least).  CLI_RUN, or EXIT_USAGE after one line. */
static int sweep_check(struct train_run *r)
{
    const struct train_opts base = r->o;
    int rc = CLI_RUN;
    for (uint32_t k = 0; k < r->sw.n_runs && rc == CLI_RUN; k++) {
        sweep_point(r, &base, k);
        struct mlp_train_params tp = train_params(r);
        char label[160];
        sweep_label(&r->sw, k, label, sizeof label);
        if (mlp_train_params_check(&tp, &r->err) != MLP_OK)
            rc = cli_usage_error(r->cmd, "--sweep, run %s: %s", label, r->err.msg);
    }
    r->o = base;
    return rc;
}

/* A sweep of seeds with a hold-out: the training and validation rows of
 * this run's seed, split from the rows before the split as one run with
 * that seed splits them. */
static enum mlp_status resplit(struct train_run *r)
{
    if (!r->has_full || r->o.seed == r->split_seed) return MLP_OK;
    mlp_dataset_free(&r->train);
    mlp_dataset_free(&r->valid);
    const struct mlp_split how = {.fraction = r->o.valid_fraction, .seed = r->o.seed};
    enum mlp_status st = mlp_dataset_split(&r->full, &how, &r->train, &r->valid, &r->err);
    if (st != MLP_OK) return st;
    r->split_seed = r->o.seed;
    r->rows = r->train.n_rows;
    struct mlp_dataset *sets[] = {&r->train, r->o.test ? &r->test : NULL, &r->valid};
    return cli_share_classes(sets, 3, r->o.classes, &r->err);
}

/* A finished run into the sweep's results: its curves, the training
 * figures of the epoch whose weights it kept, its figures on the final set
 * and time; the best so far (lowest final loss) keeps its model for the
 * report.  CLI_RUN, or the exit code. */
static int sweep_record(struct train_run *r)
{
    struct sweep_result *x = &r->res[r->n_res];
    uint32_t n;
    const struct mlp_epoch_stats *h = mlp_trainer_history(r->t, &n);
    if (n && !(x->history = malloc(n * sizeof *h))) return cli_fail(r->cmd, MLP_ERR_NOMEM, "out of memory");
    if (n) memcpy(x->history, h, n * sizeof *h);
    x->n_epochs = n;
    sweep_label(&r->sw, r->run, x->label, sizeof x->label);
    const uint32_t kept = mlp_model_train_meta(r->m).epoch_kept;
    const struct mlp_epoch_stats *e = n ? &h[n - 1] : NULL;
    for (uint32_t i = 0; i < n; i++)
        if (h[i].epoch == kept) e = &h[i];
    x->train_loss = e ? e->train_loss : NAN;
    x->train_acc = e ? e->train_acc : -1;
    x->loss = r->final_loss, x->acc = r->final_acc, x->seconds = r->lc.total_s;
    /* with a validation set the best is picked on it, not on the test set
     * (which would then no longer be unseen): the kept epoch's figure */
    x->crit = r->has_valid ? (e ? e->test_loss : NAN) : x->loss;
    bool better = isfinite(x->crit) && x->crit >= 0 && (r->best < 0 || x->crit < r->res[r->best].crit);
    if (better) {
        r->best = (int32_t)r->n_res;
        if (r->o.report || r->o.plots) { /* the report's confusion matrix and samples */
            mlp_model_free(r->best_m);
            r->best_m = r->m;
        }
    }
    r->n_res++;
    return CLI_RUN;
}

/* The sweep's table: a row per run, the best marked. */
static void sweep_table(const struct train_run *r, const char *fname)
{
    FILE *f = r->info;
    const struct sweep *sw = &r->sw;
    fprintf(f, "\nsweep: %u runs", r->n_res);
    if (r->best >= 0) fprintf(f, ", best %s (lowest %s loss)", r->res[r->best].label, sweep_by(r, fname));
    fputc('\n', f);
    int w[SWEEP_MAX_DIMS];
    for (uint32_t d = 0; d < sw->n_dims; d++) {
        w[d] = (int)strlen(sw->dims[d].flag->name);
        for (uint32_t i = 0; i < sw->dims[d].n; i++)
            if ((int)strlen(sw->dims[d].texts[i]) > w[d]) w[d] = (int)strlen(sw->dims[d].texts[i]);
        fprintf(f, "%s%-*s", d ? "  " : "  ", w[d], sw->dims[d].flag->name);
    }
    /* the final figures on the training set, beside the epochs' running ones */
    const char *fin = strcmp(fname, "train") ? fname : "final";
    /* the validation loss that picked the best, when the final figures are the test set's */
    const bool by_valid = r->has_valid && strcmp(fname, "valid");
    fprintf(f, "  epochs  train_loss  train_acc%s  %5s_loss  %5s_acc   seconds\n", by_valid ? "  valid_loss" : "", fin,
            fin);
    for (uint32_t k = 0; k < r->n_res; k++) {
        const struct sweep_result *x = &r->res[k];
        for (uint32_t d = 0; d < sw->n_dims; d++) fprintf(f, "  %-*s", w[d], sw->dims[d].texts[sweep_index(sw, k, d)]);
        fprintf(f, "  %6u  %10.6f", x->n_epochs ? x->history[x->n_epochs - 1].epoch : 0, x->train_loss);
        if (x->train_acc >= 0)
            fprintf(f, "  %9.4f", x->train_acc);
        else
            fprintf(f, "  %9s", "-");
        if (by_valid) fprintf(f, "  %10.6f", x->crit);
        fprintf(f, "  %10.6f", x->loss);
        if (x->acc >= 0)
            fprintf(f, "  %9.4f", x->acc);
        else
            fprintf(f, "  %9s", "-");
        fprintf(f, "  %8.2f%s\n", x->seconds, (int32_t)k == r->best ? "  best" : "");
    }
}

/* The runs of a sweep, one after the other on the data loaded once; then
 * the table and the report of them all.  CLI_RUN, or the exit code. */
static int sweep_run(struct train_run *r, const struct chosen *ch)
{
    int rc = sweep_check(r);
    if (rc != CLI_RUN) return rc;
    const struct train_opts base = r->o;
    const struct log_ctx lc0 = r->lc;
    if (!(r->res = calloc(r->sw.n_runs, sizeof *r->res))) return cli_fail(r->cmd, MLP_ERR_NOMEM, "out of memory");
    r->best = -1;
    for (uint32_t k = 0; k < r->sw.n_runs && rc == CLI_RUN; k++) {
        if (cli_interrupted()) { /* between two runs: the next is not started */
            fprintf(stderr, "fastmlp %s: interrupted by %s before run %u/%u\n", r->cmd, cli_signal_name(), k + 1,
                    r->sw.n_runs);
            rc = EXIT_INTERRUPTED;
            break;
        }
        r->run = k;
        sweep_point(r, &base, k);
        r->o.out = r->run_out[k], r->o.log_json = r->run_log[k], r->ckpt = r->run_ckpt[k];
        r->lc = lc0;
        r->lc.epochs = r->o.epochs;
        char label[160];
        sweep_label(&r->sw, k, label, sizeof label);
        if (!r->o.quiet) fprintf(r->info, "%srun %u/%u: %s\n", k ? "\n" : "", k + 1, r->sw.n_runs, label);
        enum mlp_status st = resplit(r);
        if (st != MLP_OK) rc = cli_fail(r->cmd, st, r->err.msg);
        if (rc == CLI_RUN) rc = one_run(r, ch);
        if (rc == CLI_RUN) rc = sweep_record(r);
        run_end(r);
        r->ckpt = NULL; /* run_ckpt's */
    }
    r->ph.runs = r->n_res;
    const struct train_opts *o = &r->o;
    const char *fname;
    const struct mlp_dataset *final = final_set(r, &fname);
    if (rc == CLI_RUN) sweep_table(r, fname);
    if (rc == CLI_RUN && (o->report || o->plots) && r->best_m && !cli_interrupted())
        rc = report_out(r, r->best_m, final, fname);
    r->o = base;
    return rc;
}

static size_t data_bytes(const struct mlp_dataset *ds)
{
    size_t esz = ds->x_type == MLP_ELEM_U8 ? 1 : ds->x_type == MLP_ELEM_F32 ? 4 : 8;
    return (size_t)ds->n_rows * ds->n_cols * esz + (ds->labels ? ds->n_rows * 4 : 0);
}

int cmd_train(int argc, char **argv)
{
    struct train_run r = {.cmd = "train", .best = -1};
    struct cli_args a;
    int rc = train_args(&r, argc, argv, &a);
    if (rc == CLI_RUN) rc = check_opts(&r);
    if (rc == CLI_RUN) rc = dist_opts(&r);
    if (rc == CLI_RUN) rc = check_files(&r, a.config);
    const struct train_opts *o = &r.o;
    r.lc = (struct log_ctx){.info = r.info, .quiet = o->quiet, .tty = r.info && isatty(fileno(r.info))};
    r.t_start = mlp_now();
    phase_set(&r.pn, PH_LOAD, 0);
    /* --profile: memory over time, sampled from here (10 ms: a few hundred
     * samples in a run of seconds; long runs thin them out) */
    if (rc == CLI_RUN && o->profile) {
        struct mlp_error merr = {0};
        if (memtrace_start(&r.mt, 0.01, phase_read, &r.pn, &merr) != MLP_OK)
            fprintf(stderr, "fastmlp %s: --profile: memory over time is not sampled: %s\n", r.cmd, merr.msg);
    }
    enum mlp_status st = MLP_OK;
    struct chosen ch = {0};
    if (rc == CLI_RUN && (st = load_files(&r)) != MLP_OK) rc = cli_fail(r.cmd, st, r.err.msg);
    /* Several ranks: whatever failed on one (its shard, its files) ends
     * every rank here, with rank 0 saying why; from here on they take
     * part in sums together. */
    rc = cli_dist_agree(r.cmd, rc);
    st = MLP_OK;
    if (rc == CLI_RUN && cli_dist.size > 1 && !(r.comm = cli_dist_comm(strcmp(o->allreduce, "overlap") == 0, &r.err)))
        rc = cli_dist_abort(cli_fail(r.cmd, r.err.status, r.err.msg));
    if (rc == CLI_RUN) {
        r.rows = cli_dist_sum_u64(r.train.n_rows);
        r.regress = cli_dist_sum_u64(r.train.targets != NULL) > 0;
    }
    if (rc == CLI_RUN) st = prepare_sets(&r, &ch, &rc);
    if (rc == CLI_RUN && cli_dist.size < 2) r.rows = r.train.n_rows; /* after --limit and the hold-out */
    r.lc.eval_name = r.has_valid ? "valid" : "test";
    if (st != MLP_OK) rc = cli_fail(r.cmd, st, r.err.msg);
    if (rc == CLI_RUN) rc = r.sweeping ? sweep_run(&r, &ch) : one_run(&r, &ch);
    if (rc == CLI_RUN && o->profile) {
        memtrace_stop(r.mt);
        r.ph.total = mlp_now() - r.t_start;
        print_profile(r.info, &r.prof, &r.ph, data_bytes(&r.train) + data_bytes(&r.test) + data_bytes(&r.valid));
    }
    if (rc == CLI_RUN && r.late[0]) {
        fprintf(stderr, "fastmlp %s: %s\n", r.cmd, r.late);
        rc = EXIT_IOERR;
    }
    run_free(&r);
    return rc == CLI_RUN ? EXIT_OK : rc;
}
