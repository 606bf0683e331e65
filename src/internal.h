/* SPDX-License-Identifier: MIT */
/* Private structures and helpers shared by the library's translation units:
 * the model layout, error filling, checked size arithmetic and MLP_ASSERT. */
#ifndef MLP_INTERNAL_H
#define MLP_INTERNAL_H

#include "fastmlp.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Programmer misuse only (NULL where a pointer is required, an index out of
 * range): never for bad data, which returns a status. */
#define MLP_ASSERT(c)                                                        \
    do {                                                                     \
        if (!(c)) mlp__assert_fail(#c, __FILE__, __LINE__);                  \
    } while (0)
_Noreturn void mlp__assert_fail(const char *expr, const char *file, int line);

/* Fill err (if not NULL) with status s and a printf-style message; returns s
 * so that callers can `return mlp__fail(err, MLP_ERR_FORMAT, "...", ...)`. */
enum mlp_status mlp__fail(struct mlp_error *err, enum mlp_status s,
                          const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Send one formatted line to the caller's log sink, if any. */
void mlp__log(enum mlp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The tail of a long path (at most 200 bytes), so that what went wrong still
 * fits in err->msg; *ellipsis is "..." when it was cut, else "". */
const char *mlp__short_path(const char *path, const char **ellipsis);

/* mlp__fail with "PATH: " (shortened) in front of the message. */
enum mlp_status mlp__fail_file(struct mlp_error *err, enum mlp_status s, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum mlp_status mlp__vfail_file(struct mlp_error *err, enum mlp_status s, const char *path, const char *fmt,
                                va_list ap) __attribute__((format(printf, 4, 0)));

/* MLP_ERR_SHAPE: "count mismatch: X has N <x_noun> but Y has M labels",
 * for loaders that read inputs and labels from two files. */
enum mlp_status mlp__fail_count(struct mlp_error *err, const char *x_path, uint64_t nx, const char *x_noun,
                                const char *y_path, uint64_t ny);

/* For a loader whose read of a regular file came up short (or found more
 * than it should): MLP_ERR_IO "PATH: file changed while reading (N bytes at
 * open, M now)" when the file behind fd no longer has the size or the
 * modification time it had at open (at_open, its fstat then), else MLP_OK,
 * and the caller reports its own error (a truncated file stays a format
 * error).  Loaders also call it after a whole read, to catch a file that
 * was rewritten in place. */
struct stat;
enum mlp_status mlp__file_changed(int fd, const char *path, const struct stat *at_open, struct mlp_error *err);

/* The most memory one data set may take: the machine's physical memory
 * (UINT64_MAX when unknown).  Loaders check a header's declared size
 * against it before they allocate or decompress anything, so a small file
 * that declares more than the machine holds (a gzip bomb) fails at once. */
uint64_t mlp__mem_bound(void);

/* MLP_ERR_SHAPE "PATH has N columns<note>, the model expects M inputs": a
 * file whose width differs from mlp_load_params.n_cols, found from its
 * header before any row is read. */
enum mlp_status mlp__fail_width(struct mlp_error *err, const char *path, uint64_t have, uint32_t want,
                                const char *note);

/* a * b into *out unless it exceeds `limit` (or 64 bits). */
static inline bool mlp__mul_ok(uint64_t a, uint64_t b, uint64_t limit,
                               uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a) return false;
    if (a * b > limit) return false;
    *out = a * b;
    return true;
}

/* Little-endian fields of the model and checkpoint files, whatever the host. */
static inline void mlp__put_le32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static inline void mlp__put_le64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t mlp__get_le32(const unsigned char *b)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)b[i] << (8 * i);
    return v;
}
static inline uint64_t mlp__get_le64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static inline size_t mlp__dtype_size(enum mlp_dtype d)
{
    return d == MLP_F32 ? sizeof(float) : sizeof(double);
}

static inline size_t mlp__elem_size(enum mlp_elem e)
{
    return e == MLP_ELEM_U8 ? 1 : e == MLP_ELEM_F32 ? sizeof(float) : sizeof(double);
}

/* The mode a new output file gets: 0666 less the process umask (read from
 * /proc without touching the umask, which other threads may rely on). */
unsigned mlp__new_file_mode(void);

/* 64-byte aligned allocation (AVX-512 lines); free with mlp__afree. */
void *mlp__amalloc(size_t bytes);
void *mlp__acalloc(size_t bytes);
void mlp__afree(void *p);
/* A large buffer (packed weights, a file's text): from MLP_BIG_MIN bytes its
 * own anonymous mapping (zero-filled, page-aligned) asked for 2 MiB pages,
 * which spare a read of it a TLB miss every 4 KiB and a filling of it a
 * page fault and a zeroing every 4 KiB; below that, or where the mapping is
 * refused, mlp__amalloc (mlp__acalloc when `zeroed`).  *mapped says which;
 * free with mlp__big_free and the same size. */
#define MLP_BIG_MIN ((size_t)4 << 20)
void *mlp__big_alloc(size_t bytes, bool zeroed, bool *mapped);
void mlp__big_free(void *p, size_t bytes, bool mapped);

/* ------------------------------------------------------------------ RNG */
/* xoshiro256** seeded through splitmix64 (struct mlp_rng: fastmlp.h, whose
 * mlp_rng_* are these): small, fast, and its stream is fixed by the seed
 * alone (never rand()). */
void mlp__rng_seed(struct mlp_rng *r, uint64_t seed);
uint64_t mlp__rng_next(struct mlp_rng *r);
double mlp__rng_uniform(struct mlp_rng *r);            /* [0, 1) */
uint64_t mlp__rng_below(struct mlp_rng *r, uint64_t n); /* [0, n) unbiased */

/* ---------------------------------------------------------------- clock */
/* Monotonic wall-clock seconds, what the library times with (the
 * trainer's profile, the passes' forward/backward split, quant.c's jobs). */
double mlp__now(void);

/* ---------------------------------------------------------------- dataset */

/* Allocate the one `owned` block every loader uses (see dataset.c) for
 * n_rows x n_cols inputs of x_type, plus n_rows int32 labels (with_labels)
 * or n_rows x n_targets doubles, and point ds->x / labels / targets into it.
 * Sizes are overflow-checked, and a block larger than mlp__mem_bound() is
 * refused (MLP_ERR_NOMEM) without trying.  On failure nothing is allocated
 * and *ds is zeroed.  The caller fills the arrays, then sets n_classes. */
enum mlp_status mlp__dataset_alloc(struct mlp_dataset *ds, uint64_t n_rows, uint32_t n_cols,
                                   enum mlp_elem x_type, bool with_labels, uint32_t n_targets,
                                   struct mlp_error *err);

/* The IDX and NPY loaders with the load parameters they heed (n_cols; p may
 * be NULL for the defaults): mlp_dataset_load passes its own through, the
 * public mlp_dataset_load_idx / _npy pass NULL. */
enum mlp_status mlp__load_idx(struct mlp_dataset *ds, const char *images_path, const char *labels_path,
                              const struct mlp_load_params *p, struct mlp_error *err);
enum mlp_status mlp__load_npy(struct mlp_dataset *ds, const char *x_path, const char *y_path,
                              const struct mlp_load_params *p, struct mlp_error *err);

/* The CSV loader's reader of a regular file (csv.c; declared here for the
 * tests): exactly at_open->st_size bytes of fd into buf (that many bytes,
 * the caller's), by up to `threads` threads, then MLP_ERR_IO "file changed
 * while reading" when fewer arrived or the file's size or modification time
 * differ from at_open. */
struct mlp_pool;
enum mlp_status mlp__csv_read_regular(struct mlp_pool *pool, int fd, const char *path, const struct stat *at_open,
                                      unsigned char *buf, unsigned threads, struct mlp_error *err);

/* ---------------------------------------------------------------- model */

struct mlp_layer {
    uint32_t n_in, n_out;
    enum mlp_act act; /* hidden layers; the output layer uses the head */
    size_t w_off, b_off; /* element offsets into the flat vectors */
};

struct mlp_model {
    enum mlp_dtype dtype;
    enum mlp_head head;
    uint32_t n_layers; /* hidden + output */
    uint32_t max_width;
    double leaky_slope;
    double input_scale;
    size_t n_params;
    /* Standardisation (NULL when off): one block of 3 * n_in doubles,
     * mean, std, and 1/std (what the kernels multiply by). */
    double *pre_mean, *pre_std, *pre_inv_std;
    struct mlp_schema *schema; /* the table's layout (schema.h), or NULL */
    struct mlp_train_meta meta;
    struct mlp_layer *layers; /* n_layers */
    void *params;             /* n_params elements of dtype, 64-byte aligned */
    struct mlp_context *ctx;  /* not owned; NULL: the default context */
    /* On a GPU: the engine mlp_model_predict/evaluate keep for the model
     * between calls (pass/devrun.c), freed by mlp_model_free through the
     * function it came with (the model room knows nothing of devices). */
    void *dev_cache;
    void (*dev_cache_free)(void *cache);
};

/* Set the BLAS's (process-wide) thread count to n, if it is not n already. */
void mlp__blas_threads(int n);

static inline uint32_t mlp__n_in(const struct mlp_model *m) { return m->layers[0].n_in; }
static inline uint32_t mlp__n_out(const struct mlp_model *m) { return m->layers[m->n_layers - 1].n_out; }

/* Output-layer activation implied by a head. */
enum mlp_act mlp__head_act(enum mlp_head h);

/* ---------------------------------------------------------------- kernels */

/* Which implementation of the matrix products a computation uses: the fast
 * path (BLAS) or the plain-loop reference kept as the test oracle. */
enum mlp_backend { MLP_BACKEND_BLAS = 0, MLP_BACKEND_REF = 1 };

/* Rows processed together by the forward/backward passes: large enough to
 * make the GEMMs efficient, small enough to keep a block's activations in
 * cache (see src/pass/pass.inc). */
#define MLP_BLOCK_ROWS 256u

/* The engine behind mlp_model_loss_grad / evaluate / predict, with the
 * backend and the block size exposed for tests.  `grad` may be NULL;
 * `out` (may be NULL) receives output activations as doubles (n x n_out);
 * `correct` (may be NULL) receives the number of correctly classified rows. */
#define MLP_PASS_MAX_PARTS 64
struct mlp_pass {
    const struct mlp_model *m;
    const struct mlp_dataset *ds;
    uint64_t row0, n;
    const uint64_t *rows;
    double l2;
    double l2_m;      /* m in l2/(2m) sum w^2; 0 means n (this pass's rows) */
    uint64_t mean_n;  /* the loss and the gradient are sums over the rows
                       * divided by this (0: n): a data-parallel rank's part
                       * of a global batch divides by the batch's rows */
    /* with grad: called with l = L-1, ..., 0 as soon as layer l's gradient
     * (its weights and biases, contiguous in the flat vector) is final, in
     * the same order whatever the stage (a data-parallel step starts its
     * sum over the ranks there); may be NULL */
    void (*layer_done)(void *ctx, uint32_t l);
    void *layer_ctx;
    enum mlp_backend backend;
    uint32_t block_rows;
    bool split_gemms; /* internal: the fast pass runs one small range on the
                       * calling thread and splits its layers' outputs over
                       * the pool instead (pass.inc) */
    /* outputs */
    double t_forward, t_backward; /* seconds spent, added to by the pass */
    double loss;      /* mean loss (+ L2 term if l2 > 0) */
    uint64_t correct;
    void *grad;
    double *out;
    /* in: a fast pass over several threads may leave its gradient as
     * per-thread parts instead of adding them up (no L2 term).  out: when it
     * did, n_parts > 1, the gradient is ((parts[0] + parts[1]) + ...) element
     * by element, parts[0] == grad, and the pool is still held: the caller
     * consumes the parts with mlp__pool_run and then calls
     * mlp__pool_release (the optimiser adds them up as it reads them, which
     * saves a pass over the gradient).  Otherwise n_parts is 0. */
    bool keep_parts;
    uint32_t n_parts;
    void *parts[MLP_PASS_MAX_PARTS];
};
enum mlp_status mlp__run_pass(struct mlp_pass *p, struct mlp_error *err);

/* A whole training step on a mini-batch, split over the pool's threads by
 * units (model-parallel, step.inc): the pass p (with grad, no L2 term,
 * no out) and, on each thread, update(ctx, lo, hi) on the ranges [lo, hi)
 * of the flat parameter vector that thread owns, each called once their
 * gradient (in p->grad) is final and no thread reads them again in this
 * step; the ranges cover every parameter once.  Runs only where it pays
 * (fast kernels, several threads, a batch of at most a few hundred rows,
 * layers wide enough to share evenly); *done says whether it ran, and when
 * it did not, nothing was done and the caller runs mlp__run_pass and its
 * own update.  Results depend on the thread count only. */
enum mlp_status mlp__run_step(struct mlp_pass *p, void (*update)(void *ctx, size_t lo, size_t hi), void *ctx,
                              bool *done, struct mlp_error *err);

/* Write a whole file through an mlp_output (src/core/output.c): `write`
 * fills it, and it is committed only when write returns true.  On any
 * failure a regular file at `path` is untouched and no temporary file is
 * left.  `what` names the content in messages ("the model"). */
typedef bool (*mlp_write_fn)(FILE *f, const void *ctx);
enum mlp_status mlp__atomic_write(const char *path, const char *what, unsigned flags, mlp_write_fn write,
                                  const void *ctx, struct mlp_error *err);

/* The model file's writer and reader, for files that embed a model (the
 * checkpoint): write the bytes of a model file to f; read one from exactly
 * `size` bytes in memory (the caller's; `name` for messages; a version-2
 * model file's size is mlp__model_file_size).  *out is the caller's. */
bool mlp__model_write(FILE *f, const struct mlp_model *m);
uint64_t mlp__model_file_size(const struct mlp_model *m);
enum mlp_status mlp__model_read(const void *bytes, uint64_t size, const char *name, struct mlp_model **out,
                                struct mlp_error *err);

/* Check a data set against a model (widths, labels/targets present). */
enum mlp_status mlp__check_data(const struct mlp_model *m,
                                const struct mlp_dataset *ds, bool need_y,
                                struct mlp_error *err);

/* ds without its labels and targets: what a prediction reads.  Checking
 * this view instead of ds also skips the labels' validation, a scan of
 * every row's label (W6's 10000 on every batch-1 prediction). */
static inline struct mlp_dataset mlp__x_only(const struct mlp_dataset *ds)
{
    struct mlp_dataset x = *ds;
    x.labels = NULL;
    x.targets = NULL;
    x.n_targets = 0;
    return x;
}

/* mlp_class_of over a row of K outputs of either element type (the passes
 * hold f32 or f64 activations): one rule for the library and its callers. */
uint32_t mlp__class_of(const void *out, enum mlp_dtype dt, uint32_t K);

#endif /* MLP_INTERNAL_H */
