/* SPDX-License-Identifier: MIT */
/* The HTML report (`train --report`, `eval --report`): one self-contained
 * file with inline CSS and SVG (loss and accuracy curves, the confusion
 * matrix as a heat map, a grid of image samples, or for real targets
 * predicted-vs-true and residual plots), and the per-class or regression
 * figures that `eval` prints too. */
#ifndef FASTMLP_REPORT_H
#define FASTMLP_REPORT_H

#include "fastmlp.h"
#include "memtrace.h"

/* Figures of a model on a data set with real targets (report_regress):
 * per target MSE, MAE and R^2 over every row, and a deterministic sample of
 * (true, predicted) pairs of the first target for the plots. */
struct report_regression {
    uint32_t n_targets;
    uint64_t n_rows;
    double *mse, *mae, *r2;           /* n_targets each; r2 NaN for a constant target */
    double mse_mean, mae_mean, r2_mean; /* means over the targets (R^2 as scikit-learn's uniform average) */
    uint64_t n_points;                /* sampled rows: min(n_rows, max_points), evenly spaced */
    double *truth, *pred;             /* n_points each: the first target and its prediction */
    double *buf_;                     /* the one allocation behind the arrays */
};

/* One run among several drawn on the same charts (a sweep's runs, or the
 * logs `fastmlp report --runs` compares), and its row of the runs' table. */
struct report_run {
    const char *label; /* the legend: "lr=0.01", or a file name (user text: escaped) */
    const struct mlp_epoch_stats *history;
    uint32_t n_epochs;
    const char *eval_name; /* the evaluated set of its epochs: "test", "valid" (NULL: "test") */
    /* The table's figures: the run's final ones; -1 or NaN: not known. */
    double train_loss, train_acc, eval_loss, eval_acc, seconds;
    const char *final_name; /* the set eval_loss/eval_acc are of (NULL: eval_name) */
};

/* A phase of the run and its wall time (the text profile's rows). */
struct report_phase {
    const char *name;
    double seconds;
    uint64_t calls; /* 0: not counted */
};

/* `--profile`: where the time went (bars) and resident memory over time
 * with the phases as bands (seed 001's mprof plot). */
struct report_profile {
    const struct report_phase *phases;
    uint32_t n_phases;
    double total_s;
    const struct memtrace_sample *samples; /* in time order; n_samples 0: no memory plot */
    size_t n_samples;
    double interval_s;               /* between samples */
    const char *const *phase_names;  /* a sample's phase p is phase_names[p] (p < n_phase_names) */
    uint32_t n_phase_names;
    double peak_bytes;               /* the process's peak resident size (getrusage), 0: unknown */
};

/* Everything the report shows; each part is drawn only when it is given.
 * Nothing is owned: the caller keeps every pointer valid during the call. */
struct report_data {
    const char *title;    /* NULL: "fastmlp report" */
    const char *subtitle; /* one line under the title (model summary), or NULL */
    /* Learning curves, drawn when n_epochs > 0; figures of -1 (or NaN) are
     * "not computed" and left out, a series with none left is not drawn. */
    const struct mlp_epoch_stats *history;
    uint32_t n_epochs;
    const char *eval_name; /* the evaluated set: "test", "valid" (NULL: "test") */
    /* Confusion matrix: n_classes x n_classes counts, row = true class,
     * column = predicted class; NULL: no matrix, no per-class table. */
    uint32_t n_classes;
    const uint64_t *confusion;
    /* Image samples: the first min(n_rows, n_samples_max) rows of `samples`
     * with pred[i] their predicted class, drawn when samples has labels and
     * an image sample_shape (h, w > 0, c 1 grey, 3 RGB or 4 RGBA, h*w*c =
     * n_cols).  u8 values are pixels; f32/f64 become v*input_scale*255,
     * clamped to 0..255. */
    const struct mlp_dataset *samples;
    const uint32_t *pred;
    uint32_t n_samples_max;
    double input_scale;
    /* Class names (the confusion matrix, the table, captions) and the target's
     * name, from a CSV table's schema (the model's, else the data set's);
     * NULL, or a class it does not name: the class index. */
    const struct mlp_schema *schema;
    /* Real targets: predicted-vs-true and residual plots and the figures;
     * NULL: none. */
    const struct report_regression *regression;
    /* Several runs (n_runs > 0): their curves overlaid, one colour per run
     * (train solid, evaluation dashed), a legend of their labels, the runs'
     * table, and run best_run (-1: none) marked; `history` is not drawn then.
     * best_why says how the best was chosen ("lowest test loss"). */
    const struct report_run *runs;
    uint32_t n_runs;
    int32_t best_run;
    const char *best_why;
    /* The profile section, or NULL. */
    const struct report_profile *profile;
    /* Non-NULL: each chart is also written as a standalone SVG file in this
     * directory (created if missing; loss.svg, accuracy.svg, confusion.svg,
     * predicted_vs_true.svg, residuals.svg, phases.svg, memory.svg). */
    const char *plots_dir;
};

/*
 * Write the report to `path` as an mlp_output (a regular file replaced
 * atomically, "-" or a pipe written as a stream).  MLP_ERR_OPEN when the file
 * cannot be created (the CLI's exit 73), MLP_ERR_IO when writing fails,
 * MLP_ERR_STOPPED when a signal came meanwhile, MLP_ERR_NOMEM; on failure a
 * regular file at `path` is untouched and no temporary file is left.  err
 * must not be NULL.  path NULL: only r->plots_dir's files are written.
 */
enum mlp_status report_write(const char *path, const struct report_data *r, struct mlp_error *err);

/* One class's figures from a K x K confusion matrix (row = true class).
 * precision = TP / predicted, recall = TP / support, f1 their harmonic
 * mean; each is 0 when its denominator is 0 (as scikit-learn's
 * zero_division=0). */
struct class_metrics {
    double precision, recall, f1;
    uint64_t support;   /* rows whose true class is k */
    uint64_t predicted; /* rows predicted as k */
};
struct class_metrics report_class_metrics(const uint64_t *confusion, uint32_t K, uint32_t k);

/* Macro averages over the classes that occur (support or predicted > 0),
 * as scikit-learn averages over the labels present; *n_used of them. */
void report_macro(const uint64_t *confusion, uint32_t K, double *precision, double *recall, double *f1,
                  uint32_t *n_used);

/* Rows per mlp_model_predict call for K outputs (<= 128 MiB of outputs). */
uint64_t report_chunk_rows(uint32_t K);
/* The model in one line: "784-32-10 relu, softmax-ce, f32, 25450 parameters". */
void report_model_summary(const struct mlp_model *m, char *buf, size_t len);
/* Predict every row of ds (labels bounded by K): add each to the K x K
 * confusion matrix cm (row = true class; zeroed by the caller), and write
 * the predicted class of the first n_pred rows into pred. */
enum mlp_status report_classify(const struct mlp_model *m, const struct mlp_dataset *ds, uint32_t K, uint64_t *cm,
                                uint32_t *pred, uint64_t n_pred, struct mlp_error *err);

/* Points in the regression plots: enough to show the shape, few enough
 * that the page stays small (about 50 bytes each, two plots). */
#define REPORT_POINTS 2000u

/* Predict every row of ds (which has targets, one per model output) and
 * fill *g: its figures, and at most max_points evenly spaced rows kept for
 * the plots.  g owns what it holds (report_regression_free); on failure it
 * holds nothing. */
enum mlp_status report_regress(const struct mlp_model *m, const struct mlp_dataset *ds, uint64_t max_points,
                               struct report_regression *g, struct mlp_error *err);
void report_regression_free(struct report_regression *g);

#endif
