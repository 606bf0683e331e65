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
 *     struct mlp_context_params cp = mlp_context_params_default();
 *     cp.threads = 2;                                 // 0: all cores
 *     struct mlp_context *ctx;                        // pool + kernels for
 *     mlp_context_create(&ctx, &cp, &err);            // this CPU (or NULL:
 *                                                     // the default context)
 *     struct mlp_layer_spec hidden[] = {{256, MLP_ACT_RELU}, {128, MLP_ACT_RELU}};
 *     struct mlp_model_params mp = mlp_model_params_default();
 *     mp.n_in = train.n_cols; mp.n_out = 10; mp.head = MLP_HEAD_SOFTMAX_CE;
 *     mp.hidden = hidden; mp.n_hidden = 2; mp.input_scale = 1.0 / 255.0;
 *     mp.ctx = ctx;
 *     struct mlp_model *m;
 *     mlp_model_create(&m, &mp, &err);
 *     mlp_model_init(m, MLP_INIT_HE, 0, 0, 42);
 *
 *     struct mlp_train_params tp = mlp_train_params_default();   // Adam
 *     mlp_model_train(m, &train, &tp, &err);
 *
 *     mlp_model_predict(m, &train, MLP_ROWS(0, 10), probs, &err); // 10 rows
 *     mlp_model_save(m, "model.mlp", &err);
 *     mlp_model_free(m);
 *     mlp_context_free(ctx);                          // after its models
 *     mlp_dataset_free(&train);
 *
 * Conventions: every function that can fail on data, files or memory returns
 * an enum mlp_status and, when `err` is not NULL, fills err->msg with one line
 * saying what and where.  The library never prints and never exits.  Passing
 * NULL where a valid pointer is required is programmer misuse and aborts with
 * file:line (MLP_ASSERT).  Every *_free accepts NULL.  Nothing is
 * process-wide but the log sink and the BLAS's own thread count: threads,
 * the pass stage and the kernels' instruction set belong to a context, and
 * the library reads no environment variable.  Params structs come from their
 * *_default() function and end in reserved space, so that fields added later
 * keep their size.
 */
#ifndef FASTMLP_H
#define FASTMLP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* MLP_API marks every function the shared library exports.  The library is
 * compiled with -fvisibility=hidden, so that its internal functions (mlp__*)
 * stay inside it; a declaration without MLP_API is not part of the ABI.
 * Every declaration below gets it from this one-liner (safe to re-run; it
 * also indents a declaration's continuation lines to match):
 *   perl -0pi -e 's{^(?!MLP_API|typedef|extern|#)([A-Za-z_][A-Za-z0-9_ ]*[ *]mlp_[a-z0-9_]+\([^;]*;)}{my $d = $1; $d =~ s/\n/\n        /g; "MLP_API $d"}gme' include/fastmlp.h
 * and test_exports checks that each one is exported. */
#if defined(__GNUC__) || defined(__clang__)
#define MLP_API __attribute__((visibility("default")))
#else
#define MLP_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define MLP_VERSION_MAJOR 0
#define MLP_VERSION_MINOR 2
#define MLP_VERSION_PATCH 0
#define MLP_VERSION_STRING "0.2.0"

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

/* The version of the library that runs (MLP_VERSION_STRING of the build it
 * came from: a program or a binding loading it at run time compares it with
 * the header it was built against).  Static string. */
MLP_API const char *mlp_version(void);

/* A static, never-NULL name for a status ("format error", ...). */
MLP_API const char *mlp_status_str(enum mlp_status s);

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
MLP_API void mlp_set_log(mlp_log_fn fn, void *user);

/* Which BLAS and which of its kernels are active ("OpenBLAS 0.3.21 ...
 * core=Cooperlake").  Static string owned by the library. */
MLP_API const char *mlp_blas_info(void);

/* The libhdf5 the HDF5 loader was built with ("libhdf5 1.10.8"; static
 * string), or NULL when this build has no HDF5 support (built with
 * FASTMLP_HDF5=OFF: loading an HDF5 file fails with MLP_ERR_UNSUPPORTED,
 * "this fastmlp was built without HDF5 (FASTMLP_HDF5=OFF)"). */
MLP_API const char *mlp_hdf5_info(void);

/* Monotonic wall-clock seconds from an arbitrary start (CLOCK_MONOTONIC):
 * the clock behind mlp_epoch_stats.seconds and mlp_profile, for a caller
 * that times phases of its own beside them. */
MLP_API double mlp_now(void);

/* The library's random numbers, those behind mlp_model_init and the
 * trainer's shuffles: xoshiro256** seeded through splitmix64, for a caller
 * that needs a seeded stream of its own (synthetic data, a sample).  The
 * state is the caller's; the same seed gives the same stream everywhere. */
struct mlp_rng {
    uint64_t s[4];
};
MLP_API void mlp_rng_seed(struct mlp_rng *r, uint64_t seed);
MLP_API uint64_t mlp_rng_next(struct mlp_rng *r);
MLP_API double mlp_rng_uniform(struct mlp_rng *r);            /* [0, 1) */
MLP_API uint64_t mlp_rng_below(struct mlp_rng *r, uint64_t n); /* [0, n), unbiased; n > 0 */

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
MLP_API const char *mlp_schedule_name(enum mlp_schedule s);
MLP_API int mlp_schedule_parse(const char *s);

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
MLP_API const char *mlp_act_name(enum mlp_act a);
MLP_API const char *mlp_head_name(enum mlp_head h);
MLP_API const char *mlp_init_name(enum mlp_init i);
MLP_API const char *mlp_optim_name(enum mlp_optim o);
MLP_API const char *mlp_dtype_name(enum mlp_dtype d);
MLP_API int mlp_act_parse(const char *s);
MLP_API int mlp_head_parse(const char *s);
MLP_API int mlp_init_parse(const char *s);
MLP_API int mlp_optim_parse(const char *s);
MLP_API int mlp_dtype_parse(const char *s);

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
    /* How a table's text became these numbers (the CSV loader's: class
     * names, column kinds, categories, imputed values; see "tabular data"
     * below), or NULL (other formats, hand-filled sets).  Owned by the data
     * set: mlp_dataset_free releases it; read it with mlp_dataset_schema. */
    struct mlp_schema *schema;
};

MLP_API void mlp_dataset_free(struct mlp_dataset *ds);

/* Check that a data set is self-consistent (sizes, labels in range).
 * Labels are checked against n_classes. */
MLP_API enum mlp_status mlp_dataset_validate(const struct mlp_dataset *ds,
                                             struct mlp_error *err);

/*
 * Load IDX (MNIST / Fashion-MNIST) images and, when labels_path is not NULL,
 * labels.  Files may be gzip-compressed or plain.  Images keep their stored
 * element type (u8 -> MLP_ELEM_U8; other IDX types become f32/f64); every
 * dimension after the first is flattened into n_cols.  n_classes is set to
 * 1 + the largest label.  On failure *ds is zeroed and nothing is leaked.
 */
MLP_API enum mlp_status mlp_dataset_load_idx(struct mlp_dataset *ds,
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
MLP_API const char *mlp_format_name(enum mlp_format f); /* "csv", "idx", ... */
MLP_API int mlp_format_parse(const char *s);            /* -1 when unknown */

struct mlp_load_params {
    enum mlp_format format;  /* AUTO */
    /* CSV / TSV */
    int header;              /* -1 detect (default), 0 none, 1 first row is a header */
    char delimiter;          /* 0 detect among ',' ';' '\t' (default), or the byte */
    int32_t label_col;       /* label column index, -1 none; default 0 (the seeds') */
    const char *label_name;  /* label column by header name; overrides label_col */
    int real_targets;        /* the label column holds real targets (regression) */
    int threads;             /* ranges parsed at once, on ctx's thread pool;
                                <= 0: one per pool thread */
    struct mlp_context *ctx; /* whose pool parses (NULL: the default context) */
    /* HDF5 */
    const char *x_key, *y_key; /* dataset names; NULL: found when unambiguous */
    /* Every format */
    uint32_t n_cols;  /* 0: any width; else the data must have this many input
                         columns, checked from the file's header before its rows
                         are read or decompressed (MLP_ERR_SHAPE otherwise) */
    /* CSV / TSV, tabular data (see "tabular data" below) */
    const struct mlp_schema *schema; /* apply this layout (a model's, or the
                         training set's, mlp_dataset_schema) instead of
                         finding one: its delimiter, label column, column
                         names (a named header must match them), classes,
                         categories and fill values; a file without the label
                         column is read as inputs only.  The header row is
                         found as for any file, and a first row holding the
                         schema's column names is one (header above still
                         decides);
                         missing and unknown_category below still apply; the
                         other CSV fields are ignored. */
    int32_t label_from_end; /* k >= 1: the label is the k-th column from the
                               end (1: the last); overrides label_col */
    int32_t label_auto;     /* 1: a header column named target, label,
                               class, y, targets or labels (any case; the
                               first of these names found, in this order) is
                               the label, else label_col */
    int32_t task;           /* enum mlp_task [MLP_TASK_AUTO]; real_targets = 1
                               means MLP_TASK_REGRESS */
    int32_t missing;        /* enum mlp_missing [MLP_MISSING_ERROR] */
    int32_t unknown_category; /* with a schema: 0 an unseen category is all
                                 zeros (counted, mlp_schema_unknown), 1 an error */
    int32_t reserved32;
    const char *categorical;  /* "a,b,3": columns (header names or 0-based
                                 indices) read as categories even when their
                                 values are numbers; NULL: none */
    /* Every format: load only shard `shard_index` of `shard_count` (0 or 1:
       the whole file), the rows [N*i/c, N*(i+1)/c) of the file's N rows in
       file order, so that c processes holding shards 0..c-1 hold every row
       once, in order (data-parallel training, mlp_train_params.comm).  Only
       the shard's bytes are read where the format allows it: IDX and NPY
       seek to the shard's offset (a gzip file is decompressed up to the
       shard's end, the bytes before it discarded), HDF5 reads a hyperslab.
       A CSV file is parsed whole, because its layout (classes, categories,
       element type) comes from every row, and the other rows are dropped.
       A shard may be empty (more shards than rows). */
    uint32_t shard_index, shard_count;
    uint64_t reserved[2]; /* zero (what _default gives): room for fields
                             added later without changing the size */
};

MLP_API struct mlp_load_params mlp_load_params_default(void);

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
MLP_API enum mlp_status mlp_dataset_load(struct mlp_dataset *ds, const char *path, const char *labels_path,
                                         const struct mlp_load_params *p, struct mlp_error *err);
MLP_API enum mlp_status mlp_dataset_load_csv(struct mlp_dataset *ds, const char *path,
                                             const struct mlp_load_params *p, struct mlp_error *err);
MLP_API enum mlp_status mlp_dataset_load_npy(struct mlp_dataset *ds, const char *x_path, const char *y_path,
                                             struct mlp_error *err);
MLP_API enum mlp_status mlp_dataset_load_hdf5(struct mlp_dataset *ds, const char *path,
                                              const struct mlp_load_params *p, struct mlp_error *err);

/* ---------------------------------------------------------- tabular data */

/*
 * A CSV file is a table as users bring it: a label column of any values
 * (strings, negative or 1-based integers, real targets), numeric columns
 * that may have missing values, and text columns (categories).  The CSV
 * loader turns it into numbers and records how in a schema, which a model
 * keeps (mlp_model_set_schema; saved in its file) so that a test set or new
 * data are read exactly the same way (mlp_load_params.schema):
 *   - the task: a label column of strings, or of integers with at most 50
 *     distinct values or at most sqrt(rows) of them, is classification
 *     (MLP_TASK_AUTO); any other numbers are regression targets;
 *   - classes: the distinct label values in sorted order (numbers by value,
 *     then strings by their bytes), as scikit-learn's classes_; a data set's
 *     label i is the i-th class; numbers are named as %.17g writes them;
 *   - inputs: a numeric column is one input; a categorical column (every
 *     value text, or named in mlp_load_params.categorical) is one input per
 *     category (one-hot, categories sorted as classes are); a column mixing
 *     numbers and text, and one of more than 100 distinct texts in fewer
 *     than twice as many rows (an identifier), are refused unless named;
 *   - missing values (an empty field, NA, na, N/A, n/a, NaN, nan, NAN, NULL,
 *     Null, null, None, none, ?, #N/A): an error (MLP_MISSING_ERROR, the default), the row dropped, or the
 *     column's mean / median over the rows read (for a categorical column,
 *     its most frequent category), kept in the schema so that later data are
 *     filled with the training set's values.
 * A purely numeric file is parsed as before (in parallel, uint8 when every
 * input is an integer in 0..255); a file with text or missing fields is
 * parsed again by one thread into its columns (or at once, when the first
 * data row shows them or a schema asks for categories).
 */
enum mlp_task { MLP_TASK_AUTO = 0, MLP_TASK_CLASSIFY = 1, MLP_TASK_REGRESS = 2, MLP_TASK_COUNT };
enum mlp_missing { MLP_MISSING_ERROR = 0, MLP_MISSING_DROP = 1, MLP_MISSING_MEAN = 2, MLP_MISSING_MEDIAN = 3,
                   MLP_MISSING_COUNT };
enum mlp_col_kind { MLP_COL_NUMERIC = 0, MLP_COL_CATEGORICAL = 1, MLP_COL_LABEL = 2 };
/* How the loader decided about the first row. */
enum mlp_header_why {
    MLP_HEADER_NONE = 0,     /* the first row is data */
    MLP_HEADER_GIVEN = 1,    /* mlp_load_params.header = 1 */
    MLP_HEADER_NAMES = 2,    /* it holds text where the next row holds numbers
                                (or only text) */
    MLP_HEADER_SEQUENCE = 3  /* numbers 0..n-1 or 1..n, as pandas writes the
                                header of an unnamed frame */
};
MLP_API const char *mlp_task_name(enum mlp_task t);       /* "auto" "classify" "regress" */
MLP_API int mlp_task_parse(const char *s);                /* -1 when unknown */
MLP_API const char *mlp_missing_name(enum mlp_missing m); /* "error" "drop" "mean" "median" */
MLP_API int mlp_missing_parse(const char *s);

struct mlp_schema; /* opaque, read-only once made */

/* The schema of a data set (NULL when it has none). */
MLP_API const struct mlp_schema *mlp_dataset_schema(const struct mlp_dataset *ds);
MLP_API enum mlp_task mlp_schema_task(const struct mlp_schema *s); /* CLASSIFY or REGRESS */
/* Classes (0 for regression or no label column) and the name of class i. */
MLP_API uint32_t mlp_schema_n_classes(const struct mlp_schema *s);
MLP_API const char *mlp_schema_class(const struct mlp_schema *s, uint32_t i);
/* The class index of a label as written in a file ("versicolor", "-1",
 * "1.0"), or -1 when it is not one of the classes. */
MLP_API int64_t mlp_schema_class_index(const struct mlp_schema *s, const char *label);
/* The file's layout. */
MLP_API uint32_t mlp_schema_n_columns(const struct mlp_schema *s); /* fields per row, label included */
MLP_API int64_t mlp_schema_label_column(const struct mlp_schema *s); /* -1: none */
MLP_API char mlp_schema_delimiter(const struct mlp_schema *s);
MLP_API enum mlp_header_why mlp_schema_header(const struct mlp_schema *s);
MLP_API uint32_t mlp_schema_n_inputs(const struct mlp_schema *s); /* the data set's n_cols */
MLP_API enum mlp_missing mlp_schema_missing(const struct mlp_schema *s);
struct mlp_column_info {
    const char *name;       /* the header's name, or "" without a header */
    enum mlp_col_kind kind;
    uint32_t input;         /* its first input (numeric, categorical) */
    uint32_t n_categories;  /* categorical: its inputs */
    double fill;            /* numeric: the value a missing field gets (NaN: none) */
    int64_t fill_category;  /* categorical: the category a missing field gets (-1: none) */
    uint64_t n_missing;     /* fields missing in the data this schema was read with */
    uint64_t n_unknown;     /* fields of a category the schema did not know */
};
/* Column i (0-based, file order); MLP_ERR_ARG past the last. */
MLP_API enum mlp_status mlp_schema_column(const struct mlp_schema *s, uint32_t i, struct mlp_column_info *info);
MLP_API const char *mlp_schema_category(const struct mlp_schema *s, uint32_t col, uint32_t k);
/* Rows dropped (MLP_MISSING_DROP) and fields filled while loading the data
 * set that carries this schema (0 in a model's). */
MLP_API uint64_t mlp_schema_rows_dropped(const struct mlp_schema *s);
MLP_API uint64_t mlp_schema_fields_filled(const struct mlp_schema *s);
/* With rows dropped: for each row of the data set, its index among the
 * file's data rows (0-based, the header not counted), so that results can
 * be matched back to the file; NULL when none was dropped (row i is data
 * row i).  Owned by the schema; not in a model's copy. */
MLP_API const uint64_t *mlp_schema_kept_rows(const struct mlp_schema *s);

/* A schema for data that came from arrays rather than a file (a binding's
 * NumPy arrays), so that a model trained on them keeps its task and class
 * names (mlp_model_set_schema) and the command line reads files for it:
 * n_inputs numeric columns after one label column (column 0, ','
 * delimited; a file of n_inputs columns is read as inputs only).  Class
 * names must be what a CSV field holds as it is: no missing-value word
 * (NA, ?, ...), delimiter, quote, line break or spaces around it
 * (MLP_ERR_ARG otherwise, as for repeated names).  Class
 * names are sorted as the loader sorts them (numbers by value, named as
 * %.17g writes them, then text by its bytes): read them back with
 * mlp_schema_class.  *out is owned by the caller (mlp_schema_free). */
struct mlp_schema_params {
    enum mlp_task task;              /* CLASSIFY or REGRESS */
    uint32_t n_inputs;
    const char *const *input_names;  /* n_inputs header names, or NULL */
    const char *label_name;          /* the label column's, or NULL: a file's
                                        header may name it anything */
    uint32_t n_classes;              /* CLASSIFY: 2 .. MLP_MAX_CLASSES, distinct */
    const char *const *classes;
    uint64_t reserved[4];            /* zero */
};
MLP_API enum mlp_status mlp_schema_create(struct mlp_schema **out, const struct mlp_schema_params *p,
                                          struct mlp_error *err);
MLP_API void mlp_schema_free(struct mlp_schema *s);

/* Split ds into two new data sets (each owning a copy of its rows):
 * round(fraction * n_rows) rows chosen by a seeded shuffle go to *second,
 * the rest to *first, each keeping the original row order.  ds itself is
 * untouched (free it afterwards if it is no longer needed). */
struct mlp_split {
    double fraction; /* of the rows that go to *second, in (0, 1) */
    uint64_t seed;   /* of the shuffle that picks them */
};
MLP_API enum mlp_status mlp_dataset_split(const struct mlp_dataset *ds, const struct mlp_split *how,
                                          struct mlp_dataset *first, struct mlp_dataset *second,
                                          struct mlp_error *err);

/* Keep only the first n rows (a view shrink; nothing is reallocated). */
MLP_API void mlp_dataset_truncate(struct mlp_dataset *ds, uint64_t n);

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
    uint64_t reserved[8]; /* zero (what _default gives): room for fields
                             added later without changing the size */
};

MLP_API struct mlp_model_params mlp_model_params_default(void);

/* Fit p to a data set it will be trained on: n_in = its columns; n_out =
 * n_targets for real targets (which need an MSE head: MLP_ERR_ARG), else the
 * classes (ds->n_classes), but one output for two classes under a head other
 * than softmax-ce, trained against the 0/1 label (softmax-ce needs 2 classes
 * or more: MLP_ERR_RANGE); input_scale = 1/255 for uint8 data (pixels), else
 * 1.  p->head must be set first; the other fields are untouched. */
MLP_API enum mlp_status mlp_model_params_from_data(struct mlp_model_params *p, const struct mlp_dataset *ds,
                                                   struct mlp_error *err);

struct mlp_model; /* opaque */

/* Create a model with all parameters zero.  *out is owned by the caller
 * (mlp_model_free).  On failure *out is NULL. */
MLP_API enum mlp_status mlp_model_create(struct mlp_model **out,
                                         const struct mlp_model_params *p,
                                         struct mlp_error *err);
MLP_API void mlp_model_free(struct mlp_model *m);

/* Deep copy; *out owned by the caller. */
MLP_API enum mlp_status mlp_model_clone(struct mlp_model **out,
                                        const struct mlp_model *m,
                                        struct mlp_error *err);

/* Standardisation, part of the model so that predict applies exactly what
 * train did: after scaling, input j becomes (x_j - mean_j) / std_j.
 * fit computes mean and std per input over all rows of ds (fit it on the
 * training data only); a constant input (std 0) gets std 1.  set copies
 * the caller's arrays (n_in each; std must be finite and > 0); clear
 * removes it. */
MLP_API enum mlp_status mlp_model_fit_standardize(struct mlp_model *m, const struct mlp_dataset *ds,
                                                  struct mlp_error *err);
/* The same over the shards of a data-parallel group (struct mlp_comm, every
 * rank passing its shard of the training set; NULL or a group of one: as
 * mlp_model_fit_standardize): every rank gets the same mean and std, those
 * of all rows up to rounding. */
struct mlp_comm;
MLP_API enum mlp_status mlp_model_fit_standardize_group(struct mlp_model *m, const struct mlp_dataset *ds,
                                                        const struct mlp_comm *comm, struct mlp_error *err);
MLP_API enum mlp_status mlp_model_set_standardize(struct mlp_model *m, const double *mean, const double *std,
                                                  struct mlp_error *err);
MLP_API void mlp_model_clear_standardize(struct mlp_model *m);
/* The tabular layout the model was trained on (a copy of the training
 * set's schema: mlp_dataset_schema), kept in its file so that predict and
 * eval read data the same way and name the classes; NULL clears it.  Its
 * inputs must be the model's (MLP_ERR_SHAPE), and for classification its
 * classes must match the outputs. */
MLP_API enum mlp_status mlp_model_set_schema(struct mlp_model *m, const struct mlp_schema *s,
                                             struct mlp_error *err);
MLP_API const struct mlp_schema *mlp_model_schema(const struct mlp_model *m); /* NULL: none */
/* The model's arrays (n_in each), or NULL when it does not standardise. */
MLP_API const double *mlp_model_standardize_mean(const struct mlp_model *m);
MLP_API const double *mlp_model_standardize_std(const struct mlp_model *m);

/* Why the last train call ended (mlp_train_meta.stop_reason). */
enum mlp_stop_reason {
    MLP_STOP_NONE = 0,       /* not recorded (not trained, or by an older version) */
    MLP_STOP_EPOCHS = 1,     /* GD/SGD/Adam: every epoch asked for ran */
    MLP_STOP_EARLY = 2,      /* early stopping: `patience` epochs without a
                                better evaluation loss; the best weights kept */
    MLP_STOP_GTOL = 3,       /* CG/L-BFGS: max |gradient| <= gtol */
    MLP_STOP_MAX_ITER = 4,   /* CG/L-BFGS: the iterations asked for (epochs) ran */
    MLP_STOP_LINESEARCH = 5, /* CG/L-BFGS: the line search found no further
                                decrease (precision lost); the best point kept */
    MLP_STOP_DIVERGED = 6,   /* the loss or the weights became NaN or Inf;
                                the last good weights kept */
    MLP_STOP_REQUESTED = 7,  /* the caller stopped it (a callback's non-zero
                                return, mlp_trainer_request_stop: the run
                                returned MLP_ERR_STOPPED); the weights reached */
    MLP_STOP_COUNT
};
/* "none", "epochs", "early", "gtol", "max-iter", "line-search", "diverged",
 * "requested" (static string; "unknown" past the last). */
MLP_API const char *mlp_stop_reason_name(enum mlp_stop_reason r);

/* How the model was trained (kept in the model file; zero until trained;
 * epoch_kept and stop_reason are kept from model-file version 3 on and read
 * as 0 from older files). */
struct mlp_train_meta {
    uint64_t seed;
    uint32_t optim;     /* enum mlp_optim */
    uint32_t epochs;    /* epochs completed, summed over every train call */
    uint32_t batch;
    double lr, l2, momentum;
    uint64_t samples;   /* training rows of the last train call */
    uint32_t epoch_kept;  /* the epoch (counted as `epochs`) whose weights the
                             model holds: `epochs`, unless early stopping put
                             an earlier epoch's best weights back */
    uint32_t stop_reason; /* enum mlp_stop_reason: why the last train call
                             ended */
};
MLP_API struct mlp_train_meta mlp_model_train_meta(const struct mlp_model *m);

/* Initialise all parameters from `seed`.  a, b: the range for
 * MLP_INIT_UNIFORM (ignored otherwise).  Same seed, same weights. */
MLP_API enum mlp_status mlp_model_init(struct mlp_model *m, enum mlp_init init,
                                       double a, double b, uint64_t seed);

MLP_API enum mlp_dtype mlp_model_dtype(const struct mlp_model *m);
MLP_API uint32_t mlp_model_n_in(const struct mlp_model *m);
MLP_API uint32_t mlp_model_n_out(const struct mlp_model *m);
MLP_API uint32_t mlp_model_n_layers(const struct mlp_model *m); /* hidden + output */
/* Layer i (0-based, output last): its width and activation (for the output
 * layer the activation implied by the head). */
MLP_API struct mlp_layer_spec mlp_model_layer(const struct mlp_model *m, uint32_t i);
MLP_API enum mlp_head mlp_model_head(const struct mlp_model *m);
MLP_API double mlp_model_input_scale(const struct mlp_model *m);
MLP_API double mlp_model_leaky_slope(const struct mlp_model *m);

/*
 * The flat parameter vector: for each layer in order, its weights W
 * (n_out x n_in, row-major: W[j*n_in + i] links input i to unit j), then its
 * biases b (n_out).  Elements are float (MLP_F32) or double (MLP_F64).
 * The pointer is owned by the model and valid until it is freed.
 */
MLP_API size_t mlp_model_n_params(const struct mlp_model *m);
MLP_API void *mlp_model_params(struct mlp_model *m);
MLP_API const void *mlp_model_params_const(const struct mlp_model *m);

/* The context the model's passes, training and quantised copies run on
 * (NULL: the default context).  The model does not own it; it must outlive
 * the model.  A loaded model starts on the default context; a clone runs
 * on its original's. */
MLP_API void mlp_model_set_context(struct mlp_model *m, struct mlp_context *c);
MLP_API struct mlp_context *mlp_model_context(const struct mlp_model *m);
/* Offsets (in elements) of layer i's W and b in the flat vector. */
MLP_API size_t mlp_model_w_offset(const struct mlp_model *m, uint32_t i);
MLP_API size_t mlp_model_b_offset(const struct mlp_model *m, uint32_t i);

/* The class a row of n_out outputs (as mlp_model_predict writes them) stands
 * for: the index of the largest output (the first of equals); with one
 * output, 1 when it is above 0.5, else 0, since one output is trained
 * against the 0/1 label (seed 000).  The rule behind the accuracy of
 * mlp_model_evaluate and the trainer. */
MLP_API uint32_t mlp_class_of(const double *p, uint32_t n_out);

/* -------------------------------------------------------------- computing */

/* Which rows of a data set a call works on: [row0, row0 + n), or, when
 * index is not NULL, the n rows index[0], ..., index[n-1].  A NULL
 * `const struct mlp_rows *` means every row.  MLP_ROWS(row0, n) makes a
 * range in C (a compound literal). */
struct mlp_rows {
    uint64_t row0, n;
    const uint64_t *index;
};
#define MLP_ROWS(row0, n) (&(const struct mlp_rows){(row0), (n), NULL})

/* What mlp_model_loss_grad computes besides taking the rows. */
struct mlp_loss_grad {
    double l2;    /* lambda of the L2 term (0: none) */
    double *loss; /* out, may be NULL: the loss below */
    void *grad;   /* out, may be NULL: dLoss/dparams (n_params elements) */
};

/*
 * Loss and gradient over `rows` of ds (struct mlp_rows).  The loss is the mean per-sample
 * loss plus l2/(2n) * sum of squared weights (biases excluded):
 *   softmax-ce:  -log p[y]
 *   sigmoid-bce: sum_k -(y_k log a_k + (1-y_k) log(1-a_k))   (K = 1: y = label)
 *   *-mse:       1/2 * mean_k (a_k - y_k)^2
 * grad (may be NULL) receives dLoss/dparams in the flat layout and dtype of
 * the model.  Work is done in blocks of rows; activations for all n rows
 * are never held at once.
 */
MLP_API enum mlp_status mlp_model_loss_grad(const struct mlp_model *m, const struct mlp_dataset *ds,
                                            const struct mlp_rows *rows, const struct mlp_loss_grad *lg,
                                            struct mlp_error *err);

/* Check a data set against a model before using it: its width is the
 * model's input count (MLP_ERR_SHAPE), its labels are classes the model has
 * (at most n_out; one output is two classes: MLP_ERR_RANGE) and its targets
 * one per output (MLP_ERR_SHAPE).  Data without labels or targets is checked
 * for its width only.  Every computing call below checks the same. */
MLP_API enum mlp_status mlp_model_check_data(const struct mlp_model *m, const struct mlp_dataset *ds,
                                             struct mlp_error *err);

/* Mean loss (no L2 term) and accuracy over all rows of ds.  Accuracy is the
 * argmax match (K > 1) or the output against 0.5 (K = 1, where the target
 * is the 0/1 label); it is reported as -1 for regression targets. */
MLP_API enum mlp_status mlp_model_evaluate(const struct mlp_model *m,
                                           const struct mlp_dataset *ds,
                                           double *loss, double *accuracy,
                                           struct mlp_error *err);

/* Output-layer activations (probabilities for softmax/sigmoid heads) for
 * `rows` (struct mlp_rows; NULL: all) into out (n x n_out doubles,
 * caller-owned). */
MLP_API enum mlp_status mlp_model_predict(const struct mlp_model *m, const struct mlp_dataset *ds,
                                          const struct mlp_rows *rows, double *out, struct mlp_error *err);

/* --------------------------------------------------------------- training */

struct mlp_epoch_stats;

/*
 * Data-parallel training: a group of `size` processes (ranks) each holding
 * the whole model and one shard of the rows (mlp_load_params.shard_index =
 * rank, shard_count = size: contiguous shards in rank order), training one
 * model together.  The library stays free of any message-passing library:
 * the caller hands it these collectives (fastmlp_mpi.h makes them from an
 * MPI communicator).  Every rank makes the same calls in the same order.
 *
 * What the trainer does with them: the epoch order is one permutation of
 * all N rows from the seed, the same for any size; a mini-batch is the
 * global one (mlp_train_params.batch rows), and each rank passes over the
 * batch's rows it holds; the gradients are summed (allreduce) and every
 * rank applies the same update.  GD, CG and L-BFGS sum the loss and the
 * gradient of the shards.  Loss and accuracy are summed the same way, the
 * evaluation set is sharded too.  After every epoch the ranks compare a
 * checksum of their weights and fail (MLP_ERR_IO) if any differs.  Only
 * rank 0 writes checkpoints; a checkpoint does not depend on the number of
 * ranks (it resumes on any).  The results equal one process's with the
 * same batch up to the rounding of the sums' order.
 *
 * Every callback returns 0 on success, else non-zero with a message in
 * msg (cap bytes); the trainer then fails with MLP_ERR_IO quoting it.
 *
 * The sums must give every rank the same bits (Open MPI's do: one
 * algorithm per message size and group size, each sum computed once).  With
 * SGD, Adam and GD a difference is caught by the checksum; CG and L-BFGS
 * would take different line-search steps and fall out of step.
 *
 * Failures: a step or an evaluation that fails on one rank (its memory)
 * fails on every rank together, the failure riding the step's sums; a stop
 * request (mlp_trainer_request_stop, a signal on one rank) stops every rank
 * at the same step, and one asked for by on_batch at the step after.  A
 * failure the others cannot be told of (mlp_trainer_create's memory after
 * its first collective, a checkpoint rank 0 cannot write, a broken group)
 * returns on that rank alone while the others wait in a sum: the caller
 * then ends the job (MPI_Abort), as fastmlp-mpi does.
 */
struct mlp_comm {
    int rank, size;
    void *self; /* handed to every callback */
    /* Sum n elements of buf (float for MLP_F32, double for MLP_F64) over
     * the ranks, in place, every rank getting the same bits. */
    int (*allreduce)(void *self, void *buf, size_t n, enum mlp_dtype dt, char *msg, size_t cap);
    /* The same without waiting (may be NULL: the trainer then sums the
     * whole gradient once at the end of the backward pass); buf is not
     * touched by the caller until wait returns.  The trainer starts one per
     * layer, in the same order on every rank, as soon as the layer's
     * gradient is final, and then waits for all. */
    int (*iallreduce)(void *self, void *buf, size_t n, enum mlp_dtype dt, char *msg, size_t cap);
    int (*wait)(void *self, char *msg, size_t cap);
    /* Every rank's `bytes` bytes of mine into all[rank * bytes]. */
    int (*allgather)(void *self, const void *mine, void *all, size_t bytes, char *msg, size_t cap);
};

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
    const struct mlp_dataset *eval; /* evaluated after each epoch (may be
                                       NULL; early stopping needs it) */
    int (*on_epoch)(const struct mlp_epoch_stats *s, void *user); /* after each
                             epoch (may be NULL): an mlp_epoch_fn, below */
    void *user;           /* handed to on_epoch */
    const struct mlp_comm *comm; /* NULL (default) or a group of one: this
                             process trains alone.  Else data-parallel
                             training with the group (see struct mlp_comm):
                             the caller's; kept until mlp_trainer_free */
    uint64_t reserved[7]; /* zero (what _default gives): room for fields
                             added later without changing the size */
};

MLP_API struct mlp_train_params mlp_train_params_default(void);
/* MLP_OK when mlp_trainer_create would accept p's settings (its data and
 * model aside), else MLP_ERR_ARG and what is wrong: for a caller that
 * checks several settings before training with any (a sweep). */
MLP_API enum mlp_status mlp_train_params_check(const struct mlp_train_params *p, struct mlp_error *err);

struct mlp_epoch_stats {
    uint32_t epoch;      /* 1-based */
    double train_loss;   /* the data loss, as test_loss and mlp_model_evaluate
                            define it (no L2 term): the mean over the epoch's
                            batches for SGD/Adam, the full-batch loss of the
                            weights before the update for GD, that of the
                            iteration's point for CG/L-BFGS */
    double train_acc;    /* -1 when not computed */
    double test_loss;    /* -1 when no test set */
    double test_acc;     /* -1 when not computed */
    double seconds;      /* wall time of the epoch (training only) */
    double samples_per_s;
    double penalty;      /* the L2 term l2/(2m) sum w^2 over the same batches
                            (their mean), which the optimiser minimises
                            together with train_loss; 0 when l2 is 0 */
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
    /* data-parallel runs (mlp_train_params.comm): seconds spent waiting for
     * the gradient's sum over the ranks (what the backward pass did not
     * hide of it), and how many sums */
    double comm_s;
    uint64_t comm_n;
};

/* Train m in place on `train`; p->eval (may be NULL) is evaluated after each
 * epoch, p->on_epoch (may be NULL) is called after it.  Stops with
 * MLP_ERR_DIVERGED if the loss or the weights become NaN or Inf (the
 * weights of the last good epoch are restored).  On MLP_OK and
 * MLP_ERR_DIVERGED the model's mlp_train_meta says why the run ended
 * (stop_reason) and which epoch's weights it holds (epoch_kept). */
MLP_API enum mlp_status mlp_model_train(struct mlp_model *m, const struct mlp_dataset *train,
                                        const struct mlp_train_params *p, struct mlp_error *err);

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

MLP_API enum mlp_status mlp_trainer_create(struct mlp_trainer **out, struct mlp_model *m,
                                           const struct mlp_dataset *train, const struct mlp_train_params *p,
                                           struct mlp_error *err);
MLP_API void mlp_trainer_free(struct mlp_trainer *t);
/* Whether training a model of mp with tp fits in this machine's physical
 * memory: the weights and the trainer's gradient, last good and best copies
 * and optimizer moments (Adam: two, SGD with momentum: one), reckoned from
 * the params alone, so that a network too large is refused at once
 * (MLP_ERR_NOMEM, with both sizes) rather than after minutes of allocating
 * and swapping.  mp->hidden must hold mp->n_hidden layers. */
MLP_API enum mlp_status mlp_trainer_check_memory(const struct mlp_model_params *mp, const struct mlp_train_params *tp,
                                                 struct mlp_error *err);
MLP_API void mlp_trainer_set_callbacks(struct mlp_trainer *t, mlp_epoch_fn on_epoch, mlp_batch_fn on_batch,
                                       void *user);
/* What a running trainer is doing, for a caller that shows it over time
 * (the CLI's --profile memory plot). */
enum mlp_phase {
    MLP_PHASE_TRAIN = 0,      /* an epoch's training steps (or a solver's iteration) */
    MLP_PHASE_EVAL = 1,       /* the epoch's evaluation of the evaluation set (a
                                 solver's also of the training set's accuracy,
                                 when its last pass did not give it) */
    MLP_PHASE_CHECKPOINT = 2, /* writing a checkpoint (data-parallel: on rank 0,
                                 which alone writes) */
    MLP_PHASE_IDLE = 3        /* mlp_trainer_run returned, or not started */
};
/* Called on the thread running mlp_trainer_run at each change of phase
 * (or of epoch), with the 1-based epoch (0 with MLP_PHASE_IDLE): an epoch
 * runs TRAIN, then EVAL with an evaluation set, then CHECKPOINT when one is
 * written, and every run ends with IDLE, however it ends.  It must be quick
 * and must not call back into the trainer.  on_phase NULL: none (the
 * default); user is handed to it. */
typedef void (*mlp_phase_fn)(enum mlp_phase phase, uint32_t epoch, void *user);
MLP_API void mlp_trainer_set_phase_callback(struct mlp_trainer *t, mlp_phase_fn on_phase, void *user);
/* Save a checkpoint to `path` every `every` epochs, the last epoch included
 * when it is a multiple (0: only when stopped by mlp_trainer_request_stop or
 * a callback).  path NULL: never. */
MLP_API void mlp_trainer_set_checkpoint(struct mlp_trainer *t, const char *path, uint32_t every);
/* Train until the last epoch, early stopping, a stop request or an error.
 * MLP_OK also when early stopping ended it (mlp_trainer_stopped_early). */
MLP_API enum mlp_status mlp_trainer_run(struct mlp_trainer *t, struct mlp_error *err);
/* Ask the run to stop at the next batch boundary (and save its checkpoint).
 * Async-signal-safe: call it from a SIGINT handler. */
MLP_API void mlp_trainer_request_stop(struct mlp_trainer *t);
MLP_API enum mlp_status mlp_trainer_save_checkpoint(const struct mlp_trainer *t, const char *path,
                                                    struct mlp_error *err);
/* Continue from a checkpoint: the trainer must have been created with the
 * same network, parameters and data, but for the number of epochs, which
 * may extend the run (or cut it, to no fewer than the checkpoint has begun)
 * unless the schedule depends on it (cosine: MLP_ERR_ARG); with a constant
 * or step schedule the result is that of an uninterrupted run of this
 * trainer's epochs.  Replaces the model's weights.
 * Refusals: MLP_ERR_FORMAT for a corrupt file (both checksums are verified
 * before any field is read; the trainer is left as it was), MLP_ERR_SHAPE
 * for another network or data, MLP_ERR_ARG for other parameters; the
 * message names the first field that differs, with both values. */
MLP_API enum mlp_status mlp_trainer_resume(struct mlp_trainer *t, const char *path, struct mlp_error *err);
/* Go on training on another data set of the same shape for `epochs` more
 * epochs, keeping everything the run has learnt beyond the weights: the
 * optimizer's state (Adam's moments and step count, SGD's velocity), the
 * shuffling stream and the history.  What an online learner needs (the
 * Python package's partial_fit: one epoch per chunk of data).  Only between
 * epochs (after a run ended, or stopped at an epoch's end), for SGD, Adam
 * and GD, without early stopping and with a schedule that does not depend
 * on the number of epochs (not cosine): MLP_ERR_ARG otherwise; the data is
 * checked as mlp_trainer_create checks it.  `train` must outlive the
 * trainer (or the next call); the trainer no longer reads the old set.
 * Then mlp_trainer_run runs the new epochs. */
MLP_API enum mlp_status mlp_trainer_continue(struct mlp_trainer *t, const struct mlp_dataset *train, uint32_t epochs,
                                             struct mlp_error *err);
/* Epoch statistics so far (also those before a resume); owned by t. */
MLP_API const struct mlp_epoch_stats *mlp_trainer_history(const struct mlp_trainer *t, uint32_t *n);
MLP_API uint32_t mlp_trainer_epochs_done(const struct mlp_trainer *t);
MLP_API int mlp_trainer_stopped_early(const struct mlp_trainer *t);
MLP_API const struct mlp_profile *mlp_trainer_profile(const struct mlp_trainer *t);
/* Loss and accuracy (-1 without labels) of the trainer's model on ds, as
 * mlp_model_evaluate; in a data-parallel run (mlp_train_params.comm) every
 * rank passes its shard of the same set and gets the figures of the whole
 * set (a collective call: every rank makes it). */
MLP_API enum mlp_status mlp_trainer_evaluate(struct mlp_trainer *t, const struct mlp_dataset *ds, double *loss,
                                             double *accuracy, struct mlp_error *err);

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
    MLP_ISA_NEON = 6,        /* aarch64 Advanced SIMD (every aarch64 CPU); its int8 and bf16 kernels add
                                dotprod, i8mm and bf16 where the CPU has them */
};
/* "auto", "portable", "avx2", "avx512", "avx512-vnni", "avx512-bf16", "neon" */
MLP_API const char *mlp_isa_name(enum mlp_isa i);
MLP_API int mlp_isa_parse(const char *s);         /* -1 when unknown */

/* The device a context's models train and run on.  MLP_DEVICE_CPU is this
 * library's own code.  MLP_DEVICE_CUDA is an NVIDIA GPU through the CUDA
 * backend, a plugin (libfastmlp_cuda.so, built when CMake finds the CUDA
 * toolkit) that mlp_context_create loads only when asked: the library
 * itself needs no CUDA driver, and a context asking for a GPU where there
 * is none, or no plugin, fails with MLP_ERR_UNSUPPORTED and a message
 * saying which.  On a GPU the parameters, gradient, optimiser state and the
 * training and evaluation sets stay in the GPU's memory for the whole run
 * (uint8 data stays uint8 there). */
enum mlp_device { MLP_DEVICE_CPU = 0, MLP_DEVICE_CUDA = 1 };
/* Precision of a GPU's matrix products for f32 models (f64 ones are always
 * exact).  TF32 and BF16 use the tensor cores: faster, with 10- and 7-bit
 * mantissas in the products' inputs (f32 accumulation); off by default. */
enum mlp_device_math { MLP_DEVICE_MATH_EXACT = 0, MLP_DEVICE_MATH_TF32 = 1, MLP_DEVICE_MATH_BF16 = 2 };
/* "cpu", "cuda" (device 0) or "cuda:N" into *dev and *index; -1 when
 * malformed, else 0. */
MLP_API int mlp_device_parse(const char *s, enum mlp_device *dev, uint32_t *index);
/* Whether this library can run on NVIDIA GPUs here: "libfastmlp_cuda.so
 * (PATH): N device(s): 0: NAME, ..." or why not ("not available: ...").
 * Loads the plugin on first call; a static string. */
MLP_API const char *mlp_cuda_info(void);
MLP_API const char *mlp_device_math_name(enum mlp_device_math m); /* "exact", "tf32", "bf16" */
MLP_API int mlp_device_math_parse(const char *s);                 /* -1 when unknown */

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
    enum mlp_device device;   /* MLP_DEVICE_CPU */
    uint32_t device_index;    /* which GPU (CUDA's numbering) */
    enum mlp_device_math device_math; /* MLP_DEVICE_MATH_EXACT */
    uint32_t reserved[5];     /* zero */
};
MLP_API struct mlp_context_params mlp_context_params_default(void);

struct mlp_context; /* opaque */

/* *out is owned by the caller (mlp_context_free), and must outlive every
 * model, trainer and quantised model that runs on it. */
MLP_API enum mlp_status mlp_context_create(struct mlp_context **out, const struct mlp_context_params *p,
                                           struct mlp_error *err);
MLP_API void mlp_context_free(struct mlp_context *c);
/* What a context (NULL: the default one) runs with: threads >= 1. */
MLP_API int mlp_context_threads(const struct mlp_context *c);
MLP_API enum mlp_kernels mlp_context_kernels(const struct mlp_context *c);
MLP_API enum mlp_isa mlp_context_isa(const struct mlp_context *c);
/* What a context runs on: "cpu", or "cuda:N (NVIDIA H100 80GB HBM3, sm_90,
 * ...)" as the backend describes its device.  Static or the context's. */
MLP_API const char *mlp_context_device(const struct mlp_context *c);
MLP_API enum mlp_device mlp_context_device_kind(const struct mlp_context *c);
/* The variant the context's kernels run as (never AUTO: what AUTO chose). */
MLP_API enum mlp_isa mlp_context_isa_used(const struct mlp_context *c);
/* The context's kernel slots, for listing (fastmlp --version): slot i's
 * name ("gemm", "narrow", "activations", "adam", "quant-f32", "quant-bf16",
 * "quant-int8") and in *variant (may be NULL) the kernel chosen for it
 * ("portable", "avx2", "avx512", "avx512-vnni", "blas", ...); NULL past the
 * last slot.  The strings are static. */
MLP_API const char *mlp_context_kernel(const struct mlp_context *c, unsigned slot, const char **variant);
MLP_API const char *mlp_kernels_name(enum mlp_kernels k); /* "fast", "batched", "per-sample", "naive" */
MLP_API int mlp_kernels_parse(const char *s);             /* -1 when unknown */

/* ------------------------------------------------------------- model file */

/* Save as an mlp_output with MLP_OUTPUT_STREAM | MLP_OUTPUT_BINARY (below):
 * a regular file is replaced atomically, keeping its permissions, and on
 * failure the old file, if any, is untouched; a pipe or character device is
 * written in place; "-" is standard output.  Load validates everything
 * before trusting it; *out is owned by the caller. */
MLP_API enum mlp_status mlp_model_save(const struct mlp_model *m, const char *path,
                                       struct mlp_error *err);
MLP_API enum mlp_status mlp_model_load(struct mlp_model **out, const char *path,
                                       struct mlp_error *err);
/* The bytes mlp_model_save would write, in memory (*bytes malloc'd, the
 * caller frees it): what mlp_model_load_mem reads back (a Python pickle,
 * a database column). */
MLP_API enum mlp_status mlp_model_save_mem(const struct mlp_model *m, void **bytes, size_t *size,
                                           struct mlp_error *err);

/* ONNX export: the model as an ONNX graph (opset 13, IR version 7) that
 * onnxruntime and the like run: input "input" (N x n_in, float for an f32
 * model, double for f64) through the model's preprocessing (Mul by the
 * input scale, Sub the mean and Mul by 1/std when it standardises), one
 * Gemm per layer (transB = 1) and its activation, the head's Softmax,
 * Sigmoid or Tanh, to "output" (N x n_out): what mlp_model_predict writes.
 * A table's encoding (one-hot categories, fill values) is not in the graph:
 * its input is the data set's numeric row.  mlp_model_onnx gives the bytes
 * (*bytes malloc'd, the caller frees it); mlp_model_save_onnx writes them
 * as mlp_model_save writes a model. */
MLP_API enum mlp_status mlp_model_onnx(const struct mlp_model *m, void **bytes, size_t *size, struct mlp_error *err);
MLP_API enum mlp_status mlp_model_save_onnx(const struct mlp_model *m, const char *path, struct mlp_error *err);

/* ------------------------------------------------------ loading from memory */

/*
 * Every loader also reads a file's bytes from memory: an archive member, a
 * download, a Python `bytes`.  Each *_mem call runs the very parser of its
 * path twin and gives the same data set, model or trainer state, and the
 * same status and message (messages name the buffer by `name`, so naming it
 * after the file it came from gives the path variant's message word for
 * word).  What is only about files does not apply: no "cannot open", no
 * "file changed while reading"; every size a header declares is checked
 * against `size` instead of the file's, and against the machine's memory,
 * before anything is allocated or decompressed.
 *
 * Ownership: the caller owns `data` and must keep it unchanged for the
 * duration of the call; no loader writes it, keeps a pointer into it, or
 * reads it after returning.  Results are owned as with the path variants
 * (mlp_dataset_free, mlp_model_free).
 */
struct mlp_buffer {
    const void *data; /* size bytes; may be NULL when size is 0 */
    size_t size;
    const char *name; /* what messages call it ("train.csv"); NULL: "<memory>"
                         ("<memory labels>" for a labels buffer).  Its extension
                         helps mlp_dataset_load_mem tell the format. */
};

/* As mlp_dataset_load: the format from p->format, else from the first bytes
 * (and the name's extension); `labels` (may be NULL) for IDX and NPY.
 * p may be NULL for the defaults. */
MLP_API enum mlp_status mlp_dataset_load_mem(struct mlp_dataset *ds, const struct mlp_buffer *x,
                                             const struct mlp_buffer *labels, const struct mlp_load_params *p,
                                             struct mlp_error *err);
/* One format each, as their path twins; these heed p (may be NULL) where the
 * path variants of IDX and NPY take the defaults.  CSV is parsed in place,
 * without a copy; HDF5 is opened in place too, as a file image of libhdf5's
 * core driver (libhdf5 is not thread-safe: no other HDF5 call may run meanwhile). */
MLP_API enum mlp_status mlp_dataset_load_csv_mem(struct mlp_dataset *ds, const struct mlp_buffer *b,
                                                 const struct mlp_load_params *p, struct mlp_error *err);
MLP_API enum mlp_status mlp_dataset_load_idx_mem(struct mlp_dataset *ds, const struct mlp_buffer *images,
                                                 const struct mlp_buffer *labels, const struct mlp_load_params *p,
                                                 struct mlp_error *err);
MLP_API enum mlp_status mlp_dataset_load_npy_mem(struct mlp_dataset *ds, const struct mlp_buffer *x,
                                                 const struct mlp_buffer *y, const struct mlp_load_params *p,
                                                 struct mlp_error *err);
MLP_API enum mlp_status mlp_dataset_load_hdf5_mem(struct mlp_dataset *ds, const struct mlp_buffer *b,
                                                  const struct mlp_load_params *p, struct mlp_error *err);
/* A model file's bytes; *out is owned by the caller, NULL on failure. */
MLP_API enum mlp_status mlp_model_load_mem(struct mlp_model **out, const struct mlp_buffer *b, struct mlp_error *err);
/* A checkpoint's bytes, with mlp_trainer_resume's checks and refusals. */
MLP_API enum mlp_status mlp_trainer_resume_mem(struct mlp_trainer *t, const struct mlp_buffer *b, struct mlp_error *err);

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
MLP_API enum mlp_status mlp_output_check(const char *path, unsigned flags, struct mlp_error *err);
MLP_API enum mlp_status mlp_output_open(struct mlp_output **out, const char *path, unsigned flags,
                                        struct mlp_error *err);
/* The regular file an output at `path` would replace or create (a
 * symbolic link's final target; malloc'd, the caller frees), or NULL when it
 * would be written as a stream ("-", a descriptor, a FIFO or device) or
 * cannot be written at all. */
MLP_API char *mlp_output_target(const char *path);
/* The stream to write to; owned by the output. */
MLP_API FILE *mlp_output_file(const struct mlp_output *o);
/* Flush, sync and (a regular file) rename into place; on failure the
 * temporary file is removed and PATH is untouched.  Frees o. */
MLP_API enum mlp_status mlp_output_commit(struct mlp_output *o, struct mlp_error *err);
/* Drop what was written (a regular file: PATH is untouched, but for
 * MLP_OUTPUT_LIVE, which keeps what was written).  Frees o;
 * NULL is a no-op. */
MLP_API void mlp_output_abort(struct mlp_output *o);

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
MLP_API const char *mlp_qtype_name(enum mlp_qtype q); /* "f32", "bf16", "int8" */
/* "f32" "f4" "bf16" "b2" "int8" "i1" (NumPy-style sizes); -1 when unknown. */
MLP_API int mlp_qtype_parse(const char *s);

struct mlp_qmodel; /* opaque */

/* Convert m's weights for qtype q.  calib (may be NULL) calibrates the
 * int8 activation ranges over all its rows (inputs only; labels unused).
 * *out is owned by the caller (mlp_qmodel_free); NULL on failure. */
MLP_API enum mlp_status mlp_qmodel_create(struct mlp_qmodel **out, const struct mlp_model *m, enum mlp_qtype q,
                                          const struct mlp_dataset *calib, struct mlp_error *err);
MLP_API void mlp_qmodel_free(struct mlp_qmodel *q);
/* The context q runs on: its model's when it was made; this changes it
 * (not owned; NULL: the default context). */
MLP_API void mlp_qmodel_set_context(struct mlp_qmodel *q, struct mlp_context *c);

/* As mlp_model_predict: output activations for a range of rows (rows->index
 * NULL; rows NULL: all) into out (n x n_out doubles, caller-owned).  Safe to call from several threads
 * at once on one qmodel. */
MLP_API enum mlp_status mlp_qmodel_predict(const struct mlp_qmodel *q, const struct mlp_dataset *ds,
                                           const struct mlp_rows *rows, double *out, struct mlp_error *err);
/* As mlp_model_evaluate: mean loss and accuracy over all rows of ds. */
MLP_API enum mlp_status mlp_qmodel_evaluate(const struct mlp_qmodel *q, const struct mlp_dataset *ds, double *loss,
                                            double *accuracy, struct mlp_error *err);

/* The kernel mlp_qmodel_create would pick for type t on this CPU now
 * (static string; see mlp_qmodel_kernel). */
MLP_API const char *mlp_qtype_kernel(enum mlp_qtype t);

MLP_API enum mlp_qtype mlp_qmodel_qtype(const struct mlp_qmodel *q);
/* The active kernel: "avx512-bf16", "avx512-vnni", "avx512bw", "avx512f",
 * "avx-vnni", "avx2" (x86-64), "neon-bf16", "neon-i8mm", "neon-dotprod",
 * "neon" (aarch64), "portable" (static string). */
MLP_API const char *mlp_qmodel_kernel(const struct mlp_qmodel *q);
/* Bytes of packed weights one forward pass reads (padding included). */
MLP_API uint64_t mlp_qmodel_weight_bytes(const struct mlp_qmodel *q);
/* 1 when int8 activation ranges are calibrated (fixed), 0 when dynamic. */
MLP_API int mlp_qmodel_calibrated(const struct mlp_qmodel *q);

#ifdef __cplusplus
}
#endif
#endif /* FASTMLP_H */
