/* SPDX-License-Identifier: MIT */
/*
 * fastmlp.h - the one header a user of fastmlp needs.
 *
 * fastmlp trains and runs fully-connected networks (from one logistic neuron
 * to deep MLPs) on the CPU, in f32 or f64 chosen at run time.
 *
 * A tour: create -> train -> predict -> save.
 *
 *     struct mlp_error err;
 *     struct mlp_dataset train;                       // pixels stay uint8
 *     if (mlp_dataset_load_idx(&train, "train-images-idx3-ubyte.gz",
 *                              "train-labels-idx1-ubyte.gz", &err) != MLP_OK)
 *         fail(err.msg);
 *
 *     struct mlp_layer_spec hidden[] = {{256, MLP_ACT_RELU}, {128, MLP_ACT_RELU}};
 *     struct mlp_model_params mp = mlp_model_params_default();
 *     mp.n_in = train.n_cols; mp.n_out = 10; mp.head = MLP_HEAD_SOFTMAX_CE;
 *     mp.hidden = hidden; mp.n_hidden = 2; mp.input_scale = 1.0 / 255.0;
 *     struct mlp_model *m;
 *     mlp_model_create(&m, &mp, &err);
 *     mlp_model_init(m, MLP_INIT_HE, 0, 0, 42);
 *
 *     struct mlp_train_params tp = mlp_train_params_default();   // Adam
 *     mlp_model_train(m, &train, NULL, &tp, NULL, NULL, &err);
 *
 *     mlp_model_predict(m, &train, 0, 10, probs, &err);          // 10 rows
 *     mlp_model_save(m, "model.mlp", &err);
 *     mlp_model_free(m);
 *     mlp_dataset_free(&train);
 *
 * Conventions: every function that can fail on data, files or memory returns
 * an enum mlp_status and, when `err` is not NULL, fills err->msg with one line
 * saying what and where.  The library never prints and never exits.  Passing
 * NULL where a valid pointer is required is programmer misuse and aborts with
 * file:line (MLP_ASSERT).  Every *_free accepts NULL.
 */
#ifndef FASTMLP_H
#define FASTMLP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLP_VERSION_MAJOR 0
#define MLP_VERSION_MINOR 1
#define MLP_VERSION_PATCH 0
#define MLP_VERSION_STRING "0.1.0"

/* Upper bounds checked at every boundary (files, flags, params). */
#define MLP_MAX_LAYERS 4096u          /* hidden + output layers */
#define MLP_MAX_WIDTH (1u << 24)      /* units in one layer, inputs included */
#define MLP_MAX_PARAMS (1ull << 32)   /* weights + biases of one model */
#define MLP_MAX_CLASSES 65536u
#define MLP_MAX_THREADS 64           /* threads of one pool (more are refused by the CLI) */

/* ---------------------------------------------------------------- status */

enum mlp_status {
    MLP_OK = 0,
    MLP_ERR_ARG,         /* an argument or option value is invalid */
    MLP_ERR_NOMEM,       /* an allocation failed or a size is absurd */
    MLP_ERR_IO,          /* a read or write failed mid-way */
    MLP_ERR_OPEN,        /* a file cannot be opened or created */
    MLP_ERR_FORMAT,      /* a file's content is malformed */
    MLP_ERR_SHAPE,       /* shapes disagree (data vs model, images vs labels) */
    MLP_ERR_RANGE,       /* a value is out of its allowed range (e.g. label) */
    MLP_ERR_DIVERGED,    /* training produced NaN or Inf */
    MLP_ERR_UNSUPPORTED, /* valid request this build cannot do */
    MLP_ERR_STOPPED      /* the caller's callback asked to stop */
};

/* A static, never-NULL name for a status ("format error", ...). */
const char *mlp_status_str(enum mlp_status s);

/* The detail of a failure: one line, no newline. */
struct mlp_error {
    enum mlp_status status;
    char msg[512];
};

/* Library log sink (what long operations are doing; errors go through the
 * status, never the log).  Default: none, the library stays silent.  Set it
 * before training starts; it is process-wide. */
enum mlp_log_level { MLP_LOG_DEBUG = 0, MLP_LOG_INFO = 1, MLP_LOG_WARN = 2 };
typedef void (*mlp_log_fn)(int level, const char *msg, void *user);
void mlp_set_log(mlp_log_fn fn, void *user);

/* Which BLAS and which of its kernels are active ("OpenBLAS 0.3.21 ...
 * core=Cooperlake").  Static string owned by the library. */
const char *mlp_blas_info(void);

/* ----------------------------------------------------------------- enums */

enum mlp_dtype { MLP_F32 = 0, MLP_F64 = 1 };

enum mlp_act {
    MLP_ACT_IDENTITY = 0,
    MLP_ACT_SIGMOID = 1,
    MLP_ACT_TANH = 2,
    MLP_ACT_RELU = 3,
    MLP_ACT_LEAKY_RELU = 4,
    MLP_ACT_COUNT
};

/* Output head: the last layer's activation together with its loss. */
enum mlp_head {
    MLP_HEAD_SOFTMAX_CE = 0,  /* softmax + categorical cross-entropy */
    MLP_HEAD_SIGMOID_BCE = 1, /* sigmoid + binary CE summed over outputs */
    MLP_HEAD_IDENTITY_MSE = 2,
    MLP_HEAD_SIGMOID_MSE = 3,
    MLP_HEAD_TANH_MSE = 4,
    MLP_HEAD_COUNT
};

enum mlp_init {
    MLP_INIT_ZEROS = 0,   /* all zero (seed 000) */
    MLP_INIT_UNIFORM = 1, /* weights and biases ~ U(a, b) (seeds 001, 002) */
    MLP_INIT_XAVIER = 2,  /* U(+-sqrt(6/(fan_in+fan_out))), biases 0 */
    MLP_INIT_HE = 3,      /* U(+-sqrt(6/fan_in)), biases 0 */
    MLP_INIT_COUNT
};

/* Learning-rate schedules over epochs e = 1..E:
 *   constant: lr
 *   step:     lr * gamma^floor((e-1) / step_size)
 *   cosine:   lr_min + (lr - lr_min) (1 + cos(pi (e-1) / E)) / 2 */
enum mlp_schedule { MLP_SCHED_CONSTANT = 0, MLP_SCHED_STEP = 1, MLP_SCHED_COSINE = 2, MLP_SCHED_COUNT };
const char *mlp_schedule_name(enum mlp_schedule s);
int mlp_schedule_parse(const char *s);

enum mlp_optim {
    MLP_OPT_GD = 0,   /* full-batch gradient descent */
    MLP_OPT_SGD = 1,  /* mini-batch SGD, optional (Nesterov) momentum */
    MLP_OPT_ADAM = 2, /* mini-batch Adam */
    MLP_OPT_CG = 3,   /* full-batch nonlinear conjugate gradient (Polak-Ribiere+,
                         strong Wolfe line search: SciPy's fmin_cg); an
                         "epoch" is one iteration */
    MLP_OPT_LBFGS = 4, /* full-batch L-BFGS, same line search */
    MLP_OPT_COUNT
};

/* Names as used on the command line ("relu", "softmax-ce", "he", "adam").
 * *_name returns a static string; *_parse returns -1 for an unknown name. */
const char *mlp_act_name(enum mlp_act a);
const char *mlp_head_name(enum mlp_head h);
const char *mlp_init_name(enum mlp_init i);
const char *mlp_optim_name(enum mlp_optim o);
const char *mlp_dtype_name(enum mlp_dtype d);
int mlp_act_parse(const char *s);
int mlp_head_parse(const char *s);
int mlp_init_parse(const char *s);
int mlp_optim_parse(const char *s);
int mlp_dtype_parse(const char *s);

/* --------------------------------------------------------------- dataset */

enum mlp_elem { MLP_ELEM_U8 = 0, MLP_ELEM_F32 = 1, MLP_ELEM_F64 = 2 };

/*
 * A data set is a plain view: row-major inputs x (n_rows x n_cols) in their
 * stored element type (uint8 pixels stay uint8; kernels convert per block),
 * and either class labels (0 <= label < n_classes) or real targets
 * (n_rows x n_targets), or neither (prediction only).
 *
 * A caller may fill one by hand over its own arrays (owned = NULL: nothing is
 * freed).  Loaders fill `owned`; mlp_dataset_free releases it and zeroes the
 * struct.
 */
struct mlp_dataset {
    uint64_t n_rows;
    uint32_t n_cols;
    enum mlp_elem x_type;
    const void *x;
    const int32_t *labels; /* n_rows, or NULL */
    uint32_t n_classes;    /* 1 + largest label (or as declared) */
    const double *targets; /* n_rows x n_targets, or NULL */
    uint32_t n_targets;
    /* Shape of one sample when the file says it is an image (IDX 28x28,
     * HDF5 64x64x3, NPY (n, h, w[, c])): height, width, channels; all 0
     * when unknown.  Only for display (reports); n_cols is what counts. */
    uint32_t sample_shape[3];
    void *owned;           /* private: what mlp_dataset_free releases */
};

void mlp_dataset_free(struct mlp_dataset *ds);

/* Check that a data set is self-consistent (sizes, labels in range).
 * Labels are checked against n_classes. */
enum mlp_status mlp_dataset_validate(const struct mlp_dataset *ds,
                                     struct mlp_error *err);

/*
 * Load IDX (MNIST / Fashion-MNIST) images and, when labels_path is not NULL,
 * labels.  Files may be gzip-compressed or plain.  Images keep their stored
 * element type (u8 -> MLP_ELEM_U8; other IDX types become f32/f64); every
 * dimension after the first is flattened into n_cols.  n_classes is set to
 * 1 + the largest label.  On failure *ds is zeroed and nothing is leaked.
 */
enum mlp_status mlp_dataset_load_idx(struct mlp_dataset *ds,
                                     const char *images_path,
                                     const char *labels_path,
                                     struct mlp_error *err);

/* Input file formats.  MLP_FMT_AUTO picks one from the file's first bytes
 * (IDX, NPY and HDF5 magic numbers; text is CSV) and its extension. */
enum mlp_format {
    MLP_FMT_AUTO = 0,
    MLP_FMT_CSV = 1,
    MLP_FMT_IDX = 2,
    MLP_FMT_NPY = 3,
    MLP_FMT_HDF5 = 4,
    MLP_FMT_COUNT
};
const char *mlp_format_name(enum mlp_format f); /* "csv", "idx", ... */
int mlp_format_parse(const char *s);            /* -1 when unknown */

struct mlp_load_params {
    enum mlp_format format;  /* AUTO */
    /* CSV / TSV */
    int header;              /* -1 detect (default), 0 none, 1 first row is a header */
    char delimiter;          /* 0 detect among ',' ';' '\t' (default), or the byte */
    int32_t label_col;       /* label column index, -1 none; default 0 (the seeds') */
    const char *label_name;  /* label column by header name; overrides label_col */
    int real_targets;        /* the label column holds real targets (regression) */
    int threads;             /* parsing threads, <= 0 all cores */
    /* HDF5 */
    const char *x_key, *y_key; /* dataset names; NULL: found when unambiguous */
    /* Every format */
    uint32_t n_cols;  /* 0: any width; else the data must have this many input
                         columns, checked from the file's header before its rows
                         are read or decompressed (MLP_ERR_SHAPE otherwise) */
};

struct mlp_load_params mlp_load_params_default(void);

/*
 * Load a data set from `path` (inputs, and labels where the format keeps
 * them together: CSV's label column, HDF5's y dataset) and, for IDX and NPY,
 * a separate labels file `labels_path` (may be NULL).  uint8 data stays
 * uint8; CSV whose every input value is an integer in 0..255 is stored as
 * uint8 too, other numbers as f64.  On failure *ds is zeroed and nothing is
 * leaked; err->msg names the file and where (line:column or byte offset).
 * Checked before anything is allocated or decompressed: the width against
 * p->n_cols (MLP_ERR_SHAPE) and the declared size against the machine's
 * physical memory (MLP_ERR_NOMEM).  A file that shrinks or is rewritten
 * while it is read fails with MLP_ERR_IO "file changed while reading".
 * The per-format functions below take p as given; mlp_dataset_load_idx and
 * mlp_dataset_load_npy take the defaults (set p->format to give an IDX or
 * NPY load other parameters).
 */
enum mlp_status mlp_dataset_load(struct mlp_dataset *ds, const char *path, const char *labels_path,
                                 const struct mlp_load_params *p, struct mlp_error *err);
enum mlp_status mlp_dataset_load_csv(struct mlp_dataset *ds, const char *path,
                                     const struct mlp_load_params *p, struct mlp_error *err);
enum mlp_status mlp_dataset_load_npy(struct mlp_dataset *ds, const char *x_path, const char *y_path,
                                     struct mlp_error *err);
enum mlp_status mlp_dataset_load_hdf5(struct mlp_dataset *ds, const char *path,
                                      const struct mlp_load_params *p, struct mlp_error *err);

/* Split ds into two new data sets (each owning a copy of its rows):
 * round(fraction * n_rows) rows chosen by a seeded shuffle go to *second,
 * the rest to *first, each keeping the original row order.  ds itself is
 * untouched (free it afterwards if it is no longer needed). */
enum mlp_status mlp_dataset_split(const struct mlp_dataset *ds, double fraction, uint64_t seed,
                                  struct mlp_dataset *first, struct mlp_dataset *second,
                                  struct mlp_error *err);

/* Keep only the first n rows (a view shrink; nothing is reallocated). */
void mlp_dataset_truncate(struct mlp_dataset *ds, uint64_t n);

/* ----------------------------------------------------------------- model */

struct mlp_layer_spec {
    uint32_t n_out;
    enum mlp_act act;
};

struct mlp_context; /* see "context" below */

struct mlp_model_params {
    enum mlp_dtype dtype;
    uint32_t n_in;
    uint32_t n_hidden;                   /* 0 = logistic/linear regression */
    const struct mlp_layer_spec *hidden; /* n_hidden entries (copied) */
    uint32_t n_out;
    enum mlp_head head;
    double leaky_slope; /* for MLP_ACT_LEAKY_RELU, default 0.01 */
    double input_scale; /* inputs are multiplied by this (1/255 for pixels) */
    struct mlp_context *ctx; /* where the model's work runs (NULL: the default
                                context; see mlp_context_create) */
};

struct mlp_model_params mlp_model_params_default(void);

struct mlp_model; /* opaque */

/* Create a model with all parameters zero.  *out is owned by the caller
 * (mlp_model_free).  On failure *out is NULL. */
enum mlp_status mlp_model_create(struct mlp_model **out,
                                 const struct mlp_model_params *p,
                                 struct mlp_error *err);
void mlp_model_free(struct mlp_model *m);

/* Deep copy; *out owned by the caller. */
enum mlp_status mlp_model_clone(struct mlp_model **out,
                                const struct mlp_model *m,
                                struct mlp_error *err);

/* Standardisation, part of the model so that predict applies exactly what
 * train did: after scaling, input j becomes (x_j - mean_j) / std_j.
 * fit computes mean and std per input over all rows of ds (fit it on the
 * training data only); a constant input (std 0) gets std 1.  set copies
 * the caller's arrays (n_in each; std must be finite and > 0); clear
 * removes it. */
enum mlp_status mlp_model_fit_standardize(struct mlp_model *m, const struct mlp_dataset *ds,
                                          struct mlp_error *err);
enum mlp_status mlp_model_set_standardize(struct mlp_model *m, const double *mean, const double *std,
                                          struct mlp_error *err);
void mlp_model_clear_standardize(struct mlp_model *m);
/* The model's arrays (n_in each), or NULL when it does not standardise. */
const double *mlp_model_standardize_mean(const struct mlp_model *m);
const double *mlp_model_standardize_std(const struct mlp_model *m);

/* How the model was trained (kept in the model file; zero until trained). */
struct mlp_train_meta {
    uint64_t seed;
    uint32_t optim;     /* enum mlp_optim */
    uint32_t epochs;    /* epochs completed, summed over every train call */
    uint32_t batch;
    double lr, l2, momentum;
    uint64_t samples;   /* training rows of the last train call */
};
struct mlp_train_meta mlp_model_train_meta(const struct mlp_model *m);

/* Initialise all parameters from `seed`.  a, b: the range for
 * MLP_INIT_UNIFORM (ignored otherwise).  Same seed, same weights. */
enum mlp_status mlp_model_init(struct mlp_model *m, enum mlp_init init,
                               double a, double b, uint64_t seed);

enum mlp_dtype mlp_model_dtype(const struct mlp_model *m);
uint32_t mlp_model_n_in(const struct mlp_model *m);
uint32_t mlp_model_n_out(const struct mlp_model *m);
uint32_t mlp_model_n_layers(const struct mlp_model *m); /* hidden + output */
/* Layer i (0-based, output last): its width and activation (for the output
 * layer the activation implied by the head). */
struct mlp_layer_spec mlp_model_layer(const struct mlp_model *m, uint32_t i);
enum mlp_head mlp_model_head(const struct mlp_model *m);
double mlp_model_input_scale(const struct mlp_model *m);
double mlp_model_leaky_slope(const struct mlp_model *m);

/*
 * The flat parameter vector: for each layer in order, its weights W
 * (n_out x n_in, row-major: W[j*n_in + i] links input i to unit j), then its
 * biases b (n_out).  Elements are float (MLP_F32) or double (MLP_F64).
 * The pointer is owned by the model and valid until it is freed.
 */
size_t mlp_model_n_params(const struct mlp_model *m);
void *mlp_model_params(struct mlp_model *m);
const void *mlp_model_params_const(const struct mlp_model *m);

/* The context the model's passes, training and quantised copies run on
 * (NULL: the default context).  The model does not own it; it must outlive
 * the model.  A loaded model starts on the default context; a clone runs
 * on its original's. */
void mlp_model_set_context(struct mlp_model *m, struct mlp_context *c);
struct mlp_context *mlp_model_context(const struct mlp_model *m);
/* Offsets (in elements) of layer i's W and b in the flat vector. */
size_t mlp_model_w_offset(const struct mlp_model *m, uint32_t i);
size_t mlp_model_b_offset(const struct mlp_model *m, uint32_t i);

/* -------------------------------------------------------------- computing */

/*
 * Loss and gradient over rows [row0, row0 + n) of ds (or over the rows listed
 * in `rows` when it is not NULL: n entries).  The loss is the mean per-sample
 * loss plus l2/(2n) * sum of squared weights (biases excluded):
 *   softmax-ce:  -log p[y]
 *   sigmoid-bce: sum_k -(y_k log a_k + (1-y_k) log(1-a_k))   (K = 1: y = label)
 *   *-mse:       1/2 * mean_k (a_k - y_k)^2
 * grad (may be NULL) receives dLoss/dparams in the flat layout and dtype of
 * the model.  Work is done in blocks of rows; activations for all n rows
 * are never held at once.
 */
enum mlp_status mlp_model_loss_grad(const struct mlp_model *m,
                                    const struct mlp_dataset *ds,
                                    uint64_t row0, uint64_t n,
                                    const uint64_t *rows, double l2,
                                    double *loss, void *grad,
                                    struct mlp_error *err);

/* Mean loss (no L2 term) and accuracy over all rows of ds.  Accuracy is the
 * argmax match (K > 1) or the output against 0.5 (K = 1, where the target
 * is the 0/1 label); it is reported as -1 for regression targets. */
enum mlp_status mlp_model_evaluate(const struct mlp_model *m,
                                   const struct mlp_dataset *ds,
                                   double *loss, double *accuracy,
                                   struct mlp_error *err);

/* Output-layer activations (probabilities for softmax/sigmoid heads) for rows
 * [row0, row0+n) into out (n x n_out doubles, caller-owned). */
enum mlp_status mlp_model_predict(const struct mlp_model *m,
                                  const struct mlp_dataset *ds,
                                  uint64_t row0, uint64_t n, double *out,
                                  struct mlp_error *err);

/* --------------------------------------------------------------- training */

struct mlp_train_params {
    enum mlp_optim optim;
    double lr;
    double momentum;      /* SGD */
    int nesterov;         /* SGD */
    double beta1, beta2, eps; /* Adam */
    double l2;            /* lambda; penalty lambda/(2m) * sum w^2, m = the
                             batch size (GD: the training set size) */
    uint32_t batch;       /* SGD/Adam; GD always uses the whole set */
    uint32_t epochs;
    int shuffle;          /* reshuffle each epoch (SGD/Adam) */
    uint64_t seed;        /* shuffling */
    enum mlp_schedule schedule;
    uint32_t step_size;   /* step schedule: epochs between decays (>= 1) */
    double gamma;         /* step schedule: factor per decay */
    double lr_min;        /* cosine schedule: the last epoch's rate */
    double weight_decay;  /* decoupled (AdamW-style): after each step
                             w -= lr_t * weight_decay * w, weights only */
    double gtol;          /* CG/L-BFGS: stop when max |gradient| <= gtol [1e-5] */
    uint32_t history;     /* L-BFGS: correction pairs kept [10] */
    uint32_t patience;    /* > 0: early stopping on the evaluation set's
                             loss: stop after `patience` epochs without a
                             new best, and keep the best weights */
    int eval_train;       /* report train accuracy (1): for GD that of the
                             weights before the epoch's update, for SGD/Adam
                             the running accuracy over the epoch's batches;
                             it costs no extra pass either way */
};

struct mlp_train_params mlp_train_params_default(void);

struct mlp_epoch_stats {
    uint32_t epoch;      /* 1-based */
    double train_loss;   /* mean loss over the epoch's updates' batches
                            for SGD/Adam, the full loss for GD */
    double train_acc;    /* -1 when not computed */
    double test_loss;    /* -1 when no test set */
    double test_acc;     /* -1 when not computed */
    double seconds;      /* wall time of the epoch (training only) */
    double samples_per_s;
};

/* Called after each epoch; return non-zero to stop (MLP_ERR_STOPPED). */
typedef int (*mlp_epoch_fn)(const struct mlp_epoch_stats *s, void *user);

/* Progress within an epoch, after each batch. */
struct mlp_batch_info {
    uint32_t epoch, epochs;     /* 1-based epoch, and the total */
    uint64_t batch, n_batches;  /* batches done in this epoch, and per epoch */
    uint64_t rows_done;         /* rows of this epoch done */
    double loss;                /* running mean loss over this epoch */
    double accuracy;            /* running accuracy, -1 without labels */
    double seconds;             /* since this epoch started */
};
/* Return non-zero to stop after this batch (MLP_ERR_STOPPED). */
typedef int (*mlp_batch_fn)(const struct mlp_batch_info *b, void *user);

/* Where training time went (seconds and calls per phase). */
struct mlp_profile {
    double forward_s, backward_s, optim_s, eval_s, checkpoint_s;
    uint64_t forward_n, backward_n, optim_n, eval_n, checkpoint_n;
    size_t param_bytes, optim_bytes; /* weights (+ gradient, backups), optimizer moments */
};

/* Train m in place on `train`; `test` (may be NULL) is evaluated after each
 * epoch.  Stops with MLP_ERR_DIVERGED if the loss or the weights become NaN
 * or Inf (the weights of the last good epoch are restored). */
enum mlp_status mlp_model_train(struct mlp_model *m,
                                const struct mlp_dataset *train,
                                const struct mlp_dataset *test,
                                const struct mlp_train_params *p,
                                mlp_epoch_fn on_epoch, void *user,
                                struct mlp_error *err);

/*
 * A trainer owns everything a run needs beyond the model: optimizer state,
 * the shuffling RNG, the position (epoch and batch), the history of epoch
 * statistics and early-stopping state.  mlp_model_train is create + run +
 * free.  The model, train and eval sets must outlive the trainer.
 *
 * A checkpoint file holds the model and all of that state, so that a run
 * stopped at any batch boundary (or killed, and resumed from its last
 * checkpoint) ends with weights bit-identical to an uninterrupted run with
 * the same seed, build and thread count.  Resuming checks that the network,
 * the training parameters and the data (sizes and a CRC-32 of their bytes)
 * are the ones the checkpoint was made with.
 */
struct mlp_trainer;

enum mlp_status mlp_trainer_create(struct mlp_trainer **out, struct mlp_model *m,
                                   const struct mlp_dataset *train, const struct mlp_dataset *eval,
                                   const struct mlp_train_params *p, struct mlp_error *err);
void mlp_trainer_free(struct mlp_trainer *t);
void mlp_trainer_set_callbacks(struct mlp_trainer *t, mlp_epoch_fn on_epoch, mlp_batch_fn on_batch,
                               void *user);
/* Save a checkpoint to `path` every `every` epochs (0: only when stopped by
 * mlp_trainer_request_stop or a callback).  path NULL: never. */
void mlp_trainer_set_checkpoint(struct mlp_trainer *t, const char *path, uint32_t every);
/* Train until the last epoch, early stopping, a stop request or an error.
 * MLP_OK also when early stopping ended it (mlp_trainer_stopped_early). */
enum mlp_status mlp_trainer_run(struct mlp_trainer *t, struct mlp_error *err);
/* Ask the run to stop at the next batch boundary (and save its checkpoint).
 * Async-signal-safe: call it from a SIGINT handler. */
void mlp_trainer_request_stop(struct mlp_trainer *t);
enum mlp_status mlp_trainer_save_checkpoint(const struct mlp_trainer *t, const char *path,
                                            struct mlp_error *err);
/* Continue from a checkpoint: the trainer must have been created with the
 * same network, parameters and data. Replaces the model's weights.
 * Refusals: MLP_ERR_FORMAT for a corrupt file (both checksums are verified
 * before any field is read; the trainer is left as it was), MLP_ERR_SHAPE
 * for another network or data, MLP_ERR_ARG for other parameters; the
 * message names the first field that differs, with both values. */
enum mlp_status mlp_trainer_resume(struct mlp_trainer *t, const char *path, struct mlp_error *err);
/* Epoch statistics so far (also those before a resume); owned by t. */
const struct mlp_epoch_stats *mlp_trainer_history(const struct mlp_trainer *t, uint32_t *n);
uint32_t mlp_trainer_epochs_done(const struct mlp_trainer *t);
int mlp_trainer_stopped_early(const struct mlp_trainer *t);
const struct mlp_profile *mlp_trainer_profile(const struct mlp_trainer *t);

/* --------------------------------------------------------------- context */

/* Which implementation the passes (loss + gradient, evaluation, prediction)
 * use (a context's choice, below).  The stages of seeds 000/001's
 * optimisation ladder; all compute the same function and differ only in
 * speed (and in rounding). */
enum mlp_kernels {
    MLP_KERNELS_FAST = 0,      /* default: fastmlp's fastest path: rows split
                                  over its own thread pool, each thread with a
                                  private gradient, fused kernels */
    MLP_KERNELS_BATCHED = 1,   /* blocks of rows through BLAS GEMMs, threads
                                  only inside the BLAS */
    MLP_KERNELS_PERSAMPLE = 2, /* one sample at a time, vector operations
                                  (BLAS level 1 and 2) */
    MLP_KERNELS_NAIVE = 3,     /* one sample at a time, scalar loops over
                                  the weights */
};
/* The instruction-set variants of the compute kernels.  AUTO picks, slot by
 * slot, the best variant the CPU and the OS run; any other value runs that
 * variant's kernels (an error where the CPU cannot run them), which is how
 * tests and benchmarks compare them. */
enum mlp_isa {
    MLP_ISA_AUTO = 0,
    MLP_ISA_PORTABLE = 1,    /* plain C: any CPU */
    MLP_ISA_AVX2 = 2,        /* AVX2 + FMA */
    MLP_ISA_AVX512 = 3,      /* AVX-512 F, BW, DQ, VL */
    MLP_ISA_AVX512_VNNI = 4, /* + VNNI (int8 dot products) */
    MLP_ISA_AVX512_BF16 = 5, /* + VNNI and BF16 */
};
const char *mlp_isa_name(enum mlp_isa i); /* "auto", "portable", "avx2", "avx512", "avx512-vnni", "avx512-bf16" */
int mlp_isa_parse(const char *s);         /* -1 when unknown */

/* Where and how work runs: a context holds a thread pool, the pass stage and
 * the kernels' instruction set.  Models (and what is made from them:
 * trainers, quantised models) run on the context they are given
 * (mlp_model_params.ctx, mlp_model_set_context); NULL means the default
 * context: all cores, MLP_KERNELS_FAST, MLP_ISA_AUTO, made on first use and
 * never changed.  Contexts are independent of each other.  Two things stay
 * process-wide: the log sink (mlp_set_log) and the BLAS's own thread count,
 * which each pass sets to what its context asks (1 while fastmlp's own pool
 * runs the threads). */
struct mlp_context_params {
    uint32_t size;            /* sizeof(struct mlp_context_params), set by
                                 mlp_context_params_default: fields added
                                 later go before `reserved` */
    int threads;              /* <= 0: all cores (at most MLP_MAX_THREADS) */
    enum mlp_kernels kernels; /* MLP_KERNELS_FAST */
    enum mlp_isa isa;         /* MLP_ISA_AUTO */
    uint32_t reserved[8];     /* zero */
};
struct mlp_context_params mlp_context_params_default(void);

struct mlp_context; /* opaque */

/* *out is owned by the caller (mlp_context_free), and must outlive every
 * model, trainer and quantised model that runs on it. */
enum mlp_status mlp_context_create(struct mlp_context **out, const struct mlp_context_params *p,
                                   struct mlp_error *err);
void mlp_context_free(struct mlp_context *c);
/* What a context (NULL: the default one) runs with: threads >= 1. */
int mlp_context_threads(const struct mlp_context *c);
enum mlp_kernels mlp_context_kernels(const struct mlp_context *c);
enum mlp_isa mlp_context_isa(const struct mlp_context *c);
/* The variant the context's kernels run as (never AUTO: what AUTO chose). */
enum mlp_isa mlp_context_isa_used(const struct mlp_context *c);
/* The context's kernel slots, for listing (fastmlp --version): slot i's
 * name ("gemm", "narrow", "activations", "adam", "quant-f32", "quant-bf16",
 * "quant-int8") and in *variant (may be NULL) the kernel chosen for it
 * ("portable", "avx2", "avx512", "avx512-vnni", "blas", ...); NULL past the
 * last slot.  The strings are static. */
const char *mlp_context_kernel(const struct mlp_context *c, unsigned slot, const char **variant);
const char *mlp_kernels_name(enum mlp_kernels k); /* "fast", "batched", "per-sample", "naive" */
int mlp_kernels_parse(const char *s);             /* -1 when unknown */

/* ------------------------------------------------------------- model file */

/* Save as an mlp_output with MLP_OUTPUT_STREAM | MLP_OUTPUT_BINARY (below):
 * a regular file is replaced atomically, keeping its permissions, and on
 * failure the old file, if any, is untouched; a pipe or character device is
 * written in place; "-" is standard output.  Load validates everything
 * before trusting it; *out is owned by the caller. */
enum mlp_status mlp_model_save(const struct mlp_model *m, const char *path,
                               struct mlp_error *err);
enum mlp_status mlp_model_load(struct mlp_model **out, const char *path,
                               struct mlp_error *err);

/* ----------------------------------------------------------------- outputs */

/*
 * An output file, written the way fastmlp writes all of its files; what is
 * at `path` decides how:
 *   - nothing, or a regular file: the content goes to
 *     PATH.tmp.fastmlp-XXXXXX beside it, is fsynced, takes the old file's
 *     permission bits and, where the process may, its owner and group, and
 *     is renamed over PATH on commit: PATH is always the old file or the
 *     whole new one.  A hard link to the old file keeps the old content
 *     (PATH gets a new inode).  Temporary files of exactly that pattern left
 *     by killed writers are removed when they are unlocked and older than
 *     the calling process.
 *   - a symbolic link: its final target is replaced as above; the link stays.
 *   - a FIFO or character device (/dev/null, a pipe, a terminal): written in
 *     place as a stream with MLP_OUTPUT_STREAM, else refused; never unlinked.
 *   - "-" (standard output) and paths naming one of the process's open
 *     descriptors (/dev/stdout, /dev/fd/N): written through it as it is
 *     (MLP_OUTPUT_STREAM only).
 *   - a directory, block device or socket: refused.
 * MLP_OUTPUT_BINARY refuses a terminal.  Errors: MLP_ERR_ARG (an empty path,
 * "-" or a terminal where not allowed), MLP_ERR_OPEN (cannot be created,
 * refused kind of file), MLP_ERR_IO (a write, flush or sync failed).
 * The caller owns *out until commit or abort, which free it.
 */
enum mlp_output_flags {
    MLP_OUTPUT_STREAM = 1u << 0, /* accept "-", FIFOs, sockets and character devices */
    MLP_OUTPUT_BINARY = 1u << 1, /* the content is binary: refuse a terminal */
    MLP_OUTPUT_LIVE = 1u << 2    /* a log: a regular file is truncated and written in place
                                  * (not atomically), so that it can be followed as it grows */
};
struct mlp_output;
/* Check, without writing anything, that `path` could be opened with these
 * flags (for a regular file: its directory exists and is writable). */
enum mlp_status mlp_output_check(const char *path, unsigned flags, struct mlp_error *err);
enum mlp_status mlp_output_open(struct mlp_output **out, const char *path, unsigned flags,
                                struct mlp_error *err);
/* The regular file an output at `path` would replace or create (a
 * symbolic link's final target; malloc'd, the caller frees), or NULL when it
 * would be written as a stream ("-", a descriptor, a FIFO or device) or
 * cannot be written at all. */
char *mlp_output_target(const char *path);
/* The stream to write to; owned by the output. */
FILE *mlp_output_file(const struct mlp_output *o);
/* Flush, sync and (a regular file) rename into place; on failure the
 * temporary file is removed and PATH is untouched.  Frees o. */
enum mlp_status mlp_output_commit(struct mlp_output *o, struct mlp_error *err);
/* Drop what was written (a regular file: PATH is untouched, but for
 * MLP_OUTPUT_LIVE, which keeps what was written).  Frees o;
 * NULL is a no-op. */
void mlp_output_abort(struct mlp_output *o);

/* ------------------------------------------------ reduced-precision inference */

/*
 * A quantised model: a read-only copy of a model's weights converted once
 * for inference, run by kernels chosen at run time by the CPU's features
 * (AVX512_BF16, AVX512_VNNI, AVX-512, else portable C).  Independent of
 * the model it came from (which may be freed or changed afterwards).
 *
 *   f32:  weights in f32 (an f64 model's rounded), f32 sums: the batch-1
 *         inference path at memory bandwidth.
 *   bf16: weights and each layer's input rounded to bfloat16 (8 significant
 *         bits), products summed in f32 (vdpbf16ps): half the bytes of f32.
 *   int8: weights as int8 with one scale per output row (w ~ scale_j * q,
 *         |q| <= 127); each layer's input as uint8 with a scale and a zero
 *         point, q = round(x / s) + z, where 0 is exact (ReLU's zeros stay
 *         zero); products summed exactly in int32 (vpdpbusd), then scaled:
 *         a quarter of the bytes of f32.  uint8 inputs (pixels) that the
 *         model does not standardise enter the first layer as they are
 *         stored, with no rounding at all.
 *
 * Activation ranges (int8).  Without calibration data (calib NULL) each
 * sample's layer inputs are quantised over that sample's own range
 * [min(0, min x), max(0, max x)], found in a pass over the vector that costs
 * O(n_in) beside the layer's O(n_in * n_out): the finest grid there is for
 * that sample, never a clipped value, and results independent of which other
 * rows share a batch.  With calibration data (typically the training set)
 * each layer gets one fixed range, the smallest holding every calibration
 * row's values (measured through the quantised network itself); values
 * outside it are clipped.  Fixed ranges are the usual choice where a
 * per-sample reduction is costly (accelerators, fused GPU kernels); on the
 * CPU it is not, and fixed ranges are coarser for typical samples, so
 * dynamic ranges are the default (`fastmlp eval --quantize int8` reports
 * both on request).  bf16 and f32 ignore calib.
 *
 * Hidden activations and heads are the model's, computed in f32/f64 as
 * mlp_model_predict computes them (exponent clipping included).
 */
enum mlp_qtype { MLP_Q_F32 = 0, MLP_Q_BF16 = 1, MLP_Q_INT8 = 2, MLP_Q_COUNT };
const char *mlp_qtype_name(enum mlp_qtype q); /* "f32", "bf16", "int8" */
/* "f32" "f4" "bf16" "b2" "int8" "i1" (NumPy-style sizes); -1 when unknown. */
int mlp_qtype_parse(const char *s);

struct mlp_qmodel; /* opaque */

/* Convert m's weights for qtype q.  calib (may be NULL) calibrates the
 * int8 activation ranges over all its rows (inputs only; labels unused).
 * *out is owned by the caller (mlp_qmodel_free); NULL on failure. */
enum mlp_status mlp_qmodel_create(struct mlp_qmodel **out, const struct mlp_model *m, enum mlp_qtype q,
                                  const struct mlp_dataset *calib, struct mlp_error *err);
void mlp_qmodel_free(struct mlp_qmodel *q);
/* The context q runs on: its model's when it was made; this changes it
 * (not owned; NULL: the default context). */
void mlp_qmodel_set_context(struct mlp_qmodel *q, struct mlp_context *c);

/* As mlp_model_predict: output activations for rows [row0, row0 + n) into
 * out (n x n_out doubles, caller-owned).  Safe to call from several threads
 * at once on one qmodel. */
enum mlp_status mlp_qmodel_predict(const struct mlp_qmodel *q, const struct mlp_dataset *ds, uint64_t row0,
                                   uint64_t n, double *out, struct mlp_error *err);
/* As mlp_model_evaluate: mean loss and accuracy over all rows of ds. */
enum mlp_status mlp_qmodel_evaluate(const struct mlp_qmodel *q, const struct mlp_dataset *ds, double *loss,
                                    double *accuracy, struct mlp_error *err);

/* The kernel mlp_qmodel_create would pick for type t on this CPU now
 * (static string; see mlp_qmodel_kernel). */
const char *mlp_qtype_kernel(enum mlp_qtype t);

enum mlp_qtype mlp_qmodel_qtype(const struct mlp_qmodel *q);
/* The active kernel: "avx512-bf16", "avx512-vnni", "avx512bw", "avx512f",
 * "portable" (static string). */
const char *mlp_qmodel_kernel(const struct mlp_qmodel *q);
/* Bytes of packed weights one forward pass reads (padding included). */
uint64_t mlp_qmodel_weight_bytes(const struct mlp_qmodel *q);
/* 1 when int8 activation ranges are calibrated (fixed), 0 when dynamic. */
int mlp_qmodel_calibrated(const struct mlp_qmodel *q);

#ifdef __cplusplus
}
#endif
#endif /* FASTMLP_H */
