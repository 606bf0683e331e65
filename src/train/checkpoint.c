/* SPDX-License-Identifier: MIT */
/* Checkpoints: the model plus every piece of trainer state a run depends on
 * (optimizer moments, RNG states, position, accumulators, early stopping,
 * history), written atomically, so that a resumed run continues bit for bit.
 * This file reads and writes a snapshot of the run (struct mlp_ckpt,
 * checkpoint.h), which the trainer fills and consumes; it knows nothing of
 * the trainer itself.
 *
 * Layout (little-endian):
 *   "FMLPCKPT"  u32 version (2)  u32 0x01020304  u64 model bytes  u64 state bytes
 *   the model, exactly as a model file (docs/model-format.md), with its CRC
 *   the state (fields below, in write order), then u32 CRC-32 of the state
 * Version 2 added the L2 term beside the data loss: the epoch in progress's
 * pen_sum after epoch_s, and each history entry's penalty after its
 * samples_per_s.  Version 1 files still load: their loss_sum and history
 * losses include the L2 term, and their penalties read as 0.
 * The number of epochs may differ from this run's (a resume may extend or
 * shorten a run) unless the schedule depends on it (cosine).
 * Resuming parses the checkpoint's bytes in memory (mlp_trainer_resume reads
 * the file whole first, once its header has passed; mlp_trainer_resume_mem
 * takes the caller's).  Both sections are checked against their CRC-32 (the
 * model's own, the state's) first, so that a flipped byte is reported as
 * corruption and never as a field that differs; only then are the fields
 * parsed, and a checkpoint whose network, training parameters or data (sizes
 * and CRC-32 of their bytes) differ from this run's is refused with the
 * first field that differs and both values. */
#include "train/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CK_MAGIC "FMLPCKPT"
#define CK_VERSION 2u     /* written */
#define CK_VERSION_MIN 1u /* read */
#define CK_ENDIAN 0x01020304u

/* ------------------------------------------------------- fingerprints */

uint32_t mlp__ckpt_crc(const void *p, uint64_t n)
{
    uLong c = crc32(0, Z_NULL, 0);
    const unsigned char *b = p;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, k);
        b += k;
        n -= k;
    }
    return (uint32_t)c;
}

void mlp__ckpt_fp_bytes(const struct mlp_dataset *ds, uint64_t *x_bytes, uint64_t *y_bytes)
{
    *x_bytes = ds->n_rows * ds->n_cols * mlp__elem_size(ds->x_type);
    *y_bytes = ds->labels ? ds->n_rows * sizeof(int32_t)
               : ds->targets ? ds->n_rows * ds->n_targets * sizeof(double) : 0;
}

struct mlp_ckpt_fp mlp__ckpt_fingerprint(const struct mlp_dataset *ds)
{
    struct mlp_ckpt_fp f = {0};
    if (!ds) return f;
    uint64_t xb, yb;
    mlp__ckpt_fp_bytes(ds, &xb, &yb);
    f.rows = ds->n_rows;
    f.cols = ds->n_cols;
    f.x_type = (uint32_t)ds->x_type;
    f.crc_x = mlp__ckpt_crc(ds->x, xb);
    if (ds->labels)
        f.crc_y = mlp__ckpt_crc(ds->labels, yb);
    else if (ds->targets)
        f.crc_y = mlp__ckpt_crc(ds->targets, yb);
    return f;
}

struct mlp_ckpt_fp mlp__ckpt_fp_join(struct mlp_ckpt_fp a, struct mlp_ckpt_fp b, uint64_t b_x_bytes,
                                     uint64_t b_y_bytes)
{
    /* zlib's combination: the CRC of the concatenation from the two CRCs
     * and the second part's length, without the bytes */
    /* z_off_t is 64-bit on LP64 (and with _FILE_OFFSET_BITS=64); a 32-bit
     * build without it would wrap a shard over 2 GiB (crc32_combine64
     * needs _LARGEFILE64_SOURCE, which this project does not set) */
    a.crc_x = (uint32_t)crc32_combine(a.crc_x, b.crc_x, (z_off_t)b_x_bytes);
    a.crc_y = (uint32_t)crc32_combine(a.crc_y, b.crc_y, (z_off_t)b_y_bytes);
    a.rows += b.rows;
    a.cols = b.cols;
    a.x_type = b.x_type;
    return a;
}

/* --------------------------------------------------------------- writing */

/* A writer that only counts when f is NULL (to size the state section). */
struct cw {
    FILE *f;
    uLong crc;
    uint64_t n;
    bool ok;
};

static void cw_bytes(struct cw *w, const void *p, size_t n)
{
    w->n += n;
    if (!w->f || !w->ok) return;
    if (fwrite(p, 1, n, w->f) != n) w->ok = false;
    const unsigned char *b = p;
    for (size_t done = 0; done < n;) {
        uInt k = n - done > (1u << 30) ? (1u << 30) : (uInt)(n - done);
        w->crc = crc32(w->crc, b + done, k);
        done += k;
    }
}
static void cw_u32(struct cw *w, uint32_t v)
{
    unsigned char b[4];
    mlp__put_le32(b, v);
    cw_bytes(w, b, 4);
}
static void cw_u64(struct cw *w, uint64_t v)
{
    unsigned char b[8];
    mlp__put_le64(b, v);
    cw_bytes(w, b, 8);
}
static void cw_f64(struct cw *w, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    cw_u64(w, v);
}
/* Parameter-sized arrays in the model's dtype.  The file is little-endian;
 * so is every machine this builds on (checked at compile time below). */
static void cw_array(struct cw *w, const void *p, size_t bytes) { cw_bytes(w, p, bytes); }

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c writes arrays in native order: add byte swapping for big-endian hosts"
#endif

static void write_fp(struct cw *w, struct mlp_ckpt_fp f)
{
    cw_u64(w, f.rows);
    cw_u32(w, f.cols);
    cw_u32(w, f.x_type);
    cw_u32(w, f.crc_x);
    cw_u32(w, f.crc_y);
}

static void write_state(struct cw *w, const struct mlp_ckpt *c)
{
    const struct mlp_train_params *p = &c->params;
    const size_t nb = c->model->n_params * mlp__dtype_size(c->model->dtype);
    cw_u32(w, (uint32_t)p->optim);
    cw_u32(w, (uint32_t)p->schedule);
    cw_u32(w, p->batch);
    cw_u32(w, p->epochs);
    cw_u32(w, p->patience);
    cw_u32(w, p->step_size);
    cw_u32(w, (uint32_t)p->nesterov);
    cw_u32(w, (uint32_t)p->shuffle);
    cw_u64(w, p->seed);
    const double f[9] = {p->lr, p->momentum, p->beta1, p->beta2, p->eps, p->l2, p->gamma, p->lr_min, p->weight_decay};
    for (int i = 0; i < 9; i++) cw_f64(w, f[i]);
    write_fp(w, c->train_fp);
    write_fp(w, c->eval_fp);
    cw_u32(w, c->pos.epoch_done);
    cw_u64(w, c->pos.batch_pos);
    cw_u64(w, c->pos.step);
    for (int i = 0; i < 4; i++) cw_u64(w, c->pos.rng.s[i]);
    for (int i = 0; i < 4; i++) cw_u64(w, c->pos.rng_epoch.s[i]);
    cw_f64(w, c->pos.loss_sum);
    cw_u64(w, c->pos.correct);
    cw_f64(w, c->pos.epoch_s);
    cw_f64(w, c->pos.pen_sum);
    cw_f64(w, c->pos.best_loss);
    cw_u32(w, c->pos.best_epoch);
    cw_u32(w, c->pos.bad_epochs);
    cw_u32(w, (uint32_t)c->pos.stopped_early);
    cw_u32(w, c->pos.n_hist);
    for (uint32_t i = 0; i < c->pos.n_hist; i++) {
        const struct mlp_epoch_stats *e = &c->pos.hist[i];
        cw_u32(w, e->epoch);
        const double v[7] = {e->train_loss, e->train_acc, e->test_loss, e->test_acc, e->seconds, e->samples_per_s,
                             e->penalty};
        for (int k = 0; k < 7; k++) cw_f64(w, v[k]);
    }
    /* good always; best, s1, s2 when the run keeps them (see checkpoint.h) */
    const void *const vec[4] = {c->good, c->best, c->s1, c->s2};
    for (int i = 0; i < 4; i++)
        if (vec[i]) cw_array(w, vec[i], nb);
}

struct ck_ctx {
    const struct mlp_ckpt *c;
    uint64_t state_bytes;
};

static bool write_checkpoint(FILE *f, const void *vctx)
{
    const struct ck_ctx *k = vctx;
    struct cw h = {.f = f, .crc = crc32(0, Z_NULL, 0), .ok = true};
    cw_bytes(&h, CK_MAGIC, 8);
    cw_u32(&h, CK_VERSION);
    cw_u32(&h, CK_ENDIAN);
    cw_u64(&h, mlp__model_file_size(k->c->model));
    cw_u64(&h, k->state_bytes);
    if (!h.ok || !mlp__model_write(f, k->c->model)) return false;
    struct cw w = {.f = f, .crc = crc32(0, Z_NULL, 0), .ok = true};
    write_state(&w, k->c);
    unsigned char crc[4];
    mlp__put_le32(crc, (uint32_t)w.crc);
    return w.ok && fwrite(crc, 1, 4, f) == 4;
}

enum mlp_status mlp__ckpt_write(const char *path, const struct mlp_ckpt *c, struct mlp_error *err)
{
    MLP_ASSERT(c && c->model && c->good && path);
    struct ck_ctx k = {.c = c};
    struct cw count = {.ok = true}; /* sizes the state section for the header */
    write_state(&count, c);
    k.state_bytes = count.n;
    /* A file only: a checkpoint is there to be read back (--resume). */
    return mlp__atomic_write(path, "the checkpoint", 0, write_checkpoint, &k, err);
}

/* --------------------------------------------------------------- reading */

/* Header (32 bytes) as laid out above. */
#define CK_HEADER 32u

/* ---------------------------------------------- the header, the checksums */

/* The header of a checkpoint of `size` bytes, `got` of its first bytes in h:
 * its section sizes, or why it is no checkpoint. */
static enum mlp_status check_header(const unsigned char *h, size_t got, uint64_t size, const char *path,
                                    uint64_t *model_bytes, uint64_t *state_bytes, uint32_t *version,
                                    struct mlp_error *err)
{
    unsigned char hh[CK_HEADER] = {0};
    memcpy(hh, h, got < CK_HEADER ? got : CK_HEADER);
    uint32_t ver = mlp__get_le32(hh + 8), endian = mlp__get_le32(hh + 12);
    uint64_t mb = mlp__get_le64(hh + 16), sbytes = mlp__get_le64(hh + 24);
    if (got < 8 || memcmp(hh, CK_MAGIC, 8) != 0)
        return mlp__fail_file(err, MLP_ERR_FORMAT, path, "not a fastmlp checkpoint (bad magic at byte 0)");
    if (got < CK_HEADER)
        return mlp__fail_file(err, MLP_ERR_FORMAT, path, "truncated checkpoint header (%zu of 32 bytes)", got);
    if (ver < CK_VERSION_MIN || ver > CK_VERSION)
        return mlp__fail_file(err, MLP_ERR_FORMAT, path,
                              "checkpoint version %u not supported (this build reads %u..%u)", ver, CK_VERSION_MIN,
                              CK_VERSION);
    if (endian != CK_ENDIAN) return mlp__fail_file(err, MLP_ERR_FORMAT, path, "bad endianness marker 0x%08x", endian);
    if (mb > size || sbytes > size || CK_HEADER + mb + sbytes + 4 != size)
        return mlp__fail_file(err, MLP_ERR_FORMAT, path,
                              "checkpoint sections (%llu + %llu bytes) do not match its size %llu: the file is "
                              "truncated or corrupt",
                              (unsigned long long)mb, (unsigned long long)sbytes, (unsigned long long)size);
    *model_bytes = mb;
    *state_bytes = sbytes;
    *version = ver;
    return MLP_OK;
}

/* Each section against the CRC-32 stored after it: the model section ends
 * with the model file's own (every checkpoint has held a v2 model, which has
 * one), the state section is followed by the state's.  b holds the whole
 * checkpoint, its sizes checked by check_header. */
static enum mlp_status verify_checksums(const unsigned char *b, const char *path, uint64_t model_bytes,
                                        uint64_t state_bytes, struct mlp_error *err)
{
    if (model_bytes < 4)
        return mlp__fail_file(err, MLP_ERR_FORMAT, path,
                              "the checkpoint's model section (%llu bytes) cannot hold its checksum: the file is "
                              "corrupt",
                              (unsigned long long)model_bytes);
    static const char *const section[2] = {"model", "state"};
    const uint64_t len[2] = {model_bytes - 4, state_bytes};
    const unsigned char *p = b + CK_HEADER;
    for (int s = 0; s < 2; s++) {
        uint32_t crc = mlp__ckpt_crc(p, len[s]), stored = mlp__get_le32(p + len[s]);
        if (stored != crc)
            return mlp__fail_file(err, MLP_ERR_FORMAT, path,
                                  "checkpoint checksum mismatch in the %s section (stored 0x%08x, computed 0x%08x): "
                                  "the file is corrupt",
                                  section[s], stored, crc);
        p += len[s] + 4;
    }
    return MLP_OK;
}

/* The checkpoint at path, whole, into *out (malloc'd, the caller frees):
 * its header is checked before the rest is read, so that a large file of
 * another kind is refused at once, and a file that changes while it is
 * read is MLP_ERR_IO "file changed while reading". */
static enum mlp_status read_checkpoint(const char *path, unsigned char **out, uint64_t *size, struct mlp_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot open: not a regular file");
    }
    uint64_t n = (uint64_t)sb.st_size, mb, sbytes, got = 0;
    uint32_t ver;
    unsigned char h[CK_HEADER];
    ssize_t k = pread(fd, h, sizeof h, 0);
    enum mlp_status st = k < 0 ? mlp__fail_file(err, MLP_ERR_IO, path, "read error in the checkpoint at byte 0")
                               : check_header(h, (size_t)k, n, path, &mb, &sbytes, &ver, err);
    unsigned char *b = NULL;
    if (st == MLP_OK && (n > SIZE_MAX || n > mlp__mem_bound() || !(b = malloc((size_t)n))))
        st = mlp__fail_file(err, MLP_ERR_NOMEM, path, "out of memory: %llu bytes to read the checkpoint into",
                            (unsigned long long)n);
    while (st == MLP_OK && got < n) {
        size_t want = n - got > (1u << 30) ? (1u << 30) : (size_t)(n - got);
        k = pread(fd, b + got, want, (off_t)got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0)
            st = mlp__fail_file(err, MLP_ERR_IO, path, "read error in the checkpoint at byte %llu",
                                (unsigned long long)got);
        if (k <= 0) break;
        got += (uint64_t)k;
    }
    /* Short (it shrank after the fstat), or grown or rewritten meanwhile. */
    if (st == MLP_OK) st = mlp__file_changed(fd, path, &sb, err);
    if (st == MLP_OK && got < n)
        st = mlp__fail_file(err, MLP_ERR_IO, path,
                            "file changed while reading (%llu bytes at open, but byte %llu could not be read)",
                            (unsigned long long)n, (unsigned long long)got);
    close(fd);
    if (st != MLP_OK) {
        free(b);
        return st;
    }
    *out = b;
    *size = n;
    return MLP_OK;
}

/* ------------------------------------------------ second pass: the fields */

/* A reader of the state section: b[off ..], left bytes of it to go. */
struct cr {
    const unsigned char *b;
    const char *path;
    uint32_t version; /* the file's */
    uint64_t off, left;
    enum mlp_status st;
    struct mlp_error *err;
};

static void cr_bytes(struct cr *r, void *p, size_t n)
{
    if (r->st != MLP_OK) return;
    if (n > r->left) {
        r->st = mlp__fail_file(r->err, MLP_ERR_FORMAT, r->path, "truncated checkpoint state at byte %llu",
                               (unsigned long long)r->off);
        return;
    }
    memcpy(p, r->b + r->off, n);
    r->off += n;
    r->left -= n;
}
static uint32_t cr_u32(struct cr *r)
{
    unsigned char b[4] = {0};
    cr_bytes(r, b, 4);
    return mlp__get_le32(b);
}
static uint64_t cr_u64(struct cr *r)
{
    unsigned char b[8] = {0};
    cr_bytes(r, b, 8);
    return mlp__get_le64(b);
}
static double cr_f64(struct cr *r)
{
    uint64_t v = cr_u64(r);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

/* Two values of a field as text: with %g, or with all 17 digits where %g
 * prints them alike (beta1 0.9 against 0.9000000001). */
static void two_doubles(char *a, char *b, size_t n, double x, double y)
{
    snprintf(a, n, "%g", x);
    snprintf(b, n, "%g", y);
    if (strcmp(a, b) == 0) {
        snprintf(a, n, "%.17g", x);
        snprintf(b, n, "%.17g", y);
    }
}

/* snprintf that answers true, for network_diff's "found it" returns. */
static bool say(char *d, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool say(char *d, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, n, fmt, ap);
    va_end(ap);
    return true;
}

/* The first field in which the checkpoint's network a differs from this
 * run's b, as "FIELD: checkpoint A, this run B" in d; *pre: the field is
 * preprocessing rather than the network proper.  False when none does. */
static bool network_diff(const struct mlp_model *a, const struct mlp_model *b, char *d, size_t n, bool *pre)
{
    char x[40], y[40];
    *pre = false;
    if (mlp__n_in(a) != mlp__n_in(b))
        return say(d, n, "inputs: checkpoint %u, this run %u", mlp__n_in(a), mlp__n_in(b));
    if (a->dtype != b->dtype)
        return say(d, n, "dtype: checkpoint %s, this run %s", mlp_dtype_name(a->dtype), mlp_dtype_name(b->dtype));
    /* The head before the layers: it sets the output layer's activation. */
    if (a->head != b->head)
        return say(d, n, "head: checkpoint %s, this run %s", mlp_head_name(a->head), mlp_head_name(b->head));
    if (a->n_layers != b->n_layers)
        return say(d, n, "hidden layers: checkpoint %u, this run %u", a->n_layers - 1, b->n_layers - 1);
    for (uint32_t l = 0; l < a->n_layers; l++) {
        const struct mlp_layer *la = &a->layers[l], *lb = &b->layers[l];
        if (la->n_out != lb->n_out && l + 1 == a->n_layers)
            return say(d, n, "outputs: checkpoint %u, this run %u", la->n_out, lb->n_out);
        if (la->n_out != lb->n_out)
            return say(d, n, "layer %u width: checkpoint %u, this run %u", l + 1, la->n_out, lb->n_out);
        if (la->act != lb->act)
            return say(d, n, "layer %u activation: checkpoint %s, this run %s", l + 1, mlp_act_name(la->act),
                       mlp_act_name(lb->act));
    }
    if (a->leaky_slope != b->leaky_slope) {
        two_doubles(x, y, sizeof x, a->leaky_slope, b->leaky_slope);
        return say(d, n, "leaky slope: checkpoint %s, this run %s", x, y);
    }
    *pre = true;
    if (a->input_scale != b->input_scale) {
        two_doubles(x, y, sizeof x, a->input_scale, b->input_scale);
        return say(d, n, "input scale: checkpoint %s, this run %s", x, y);
    }
    if ((a->pre_mean != NULL) != (b->pre_mean != NULL))
        return say(d, n, "standardisation: %s",
                   a->pre_mean ? "checkpoint has it, this run not" : "checkpoint has none, this run has it");
    for (uint32_t j = 0; a->pre_mean && j < mlp__n_in(a); j++) {
        static const char *const stat[2] = {"mean", "std"};
        const double va[2] = {a->pre_mean[j], a->pre_std[j]}, vb[2] = {b->pre_mean[j], b->pre_std[j]};
        for (int k = 0; k < 2; k++)
            if (memcmp(&va[k], &vb[k], sizeof(double)) != 0) { /* bit for bit, as the weights */
                two_doubles(x, y, sizeof x, va[k], vb[k]);
                return say(d, n, "standardisation %s of input %u: checkpoint %s, this run %s", stat[k], j, x, y);
            }
    }
    return false;
}

static enum mlp_status same_network(const struct mlp_model *a, const struct mlp_model *b, const char *path,
                                    struct mlp_error *err)
{
    char d[200];
    bool pre;
    if (!network_diff(a, b, d, sizeof d, &pre)) return MLP_OK;
    return mlp__fail_file(err, MLP_ERR_SHAPE, path, "the checkpoint holds %s (%s)",
                          pre ? "different preprocessing" : "a different network", d);
}

/* The first field in which the checkpoint's data set a differs from this
 * run's b, as "FIELD: checkpoint A, this run B" in d; false when none does.
 * Rows 0 is no data set (an evaluation set is never empty). */
static bool fp_diff(struct mlp_ckpt_fp a, struct mlp_ckpt_fp b, char *d, size_t n)
{
    static const char *const types[3] = {"u8", "f32", "f64"};
    if ((a.rows == 0) != (b.rows == 0))
        return say(d, n, "%s", a.rows ? "the checkpoint has one, this run none" : "the checkpoint has none, this run has one");
    if (a.rows != b.rows)
        return say(d, n, "rows: checkpoint %llu, this run %llu", (unsigned long long)a.rows, (unsigned long long)b.rows);
    if (a.cols != b.cols) return say(d, n, "columns: checkpoint %u, this run %u", a.cols, b.cols);
    if (a.x_type != b.x_type)
        return say(d, n, "element type: checkpoint %s, this run %s", a.x_type < 3 ? types[a.x_type] : "?",
                   b.x_type < 3 ? types[b.x_type] : "?");
    if (a.crc_x != b.crc_x)
        return say(d, n, "inputs' CRC-32: checkpoint %08x, this run %08x (same size, other values)", a.crc_x, b.crc_x);
    if (a.crc_y != b.crc_y)
        return say(d, n, "labels' CRC-32: checkpoint %08x, this run %08x (same inputs, other labels or targets)",
                   a.crc_y, b.crc_y);
    return false;
}

static struct mlp_ckpt_fp read_fp(struct cr *r)
{
    struct mlp_ckpt_fp f;
    f.rows = cr_u64(r);
    f.cols = cr_u32(r);
    f.x_type = cr_u32(r);
    f.crc_x = cr_u32(r);
    f.crc_y = cr_u32(r);
    return f;
}

/* The run's parameters as the checkpoint holds them, each against this
 * run's: a difference is a usage error naming the parameter and both
 * values (enums by name, doubles with %.17g where %g prints them alike).
 * The number of epochs may differ (a run extended or cut short: the
 * position is checked against it by read_position) unless the schedule's
 * rates depend on it.  *ck_epochs: the checkpoint's. */
static void check_run_params(struct cr *r, const struct mlp_train_params *p, uint32_t *ck_epochs)
{
    uint32_t u[8];
    for (int i = 0; i < 8; i++) u[i] = cr_u32(r);
    uint64_t seed = cr_u64(r);
    double d[9];
    for (int i = 0; i < 9; i++) d[i] = cr_f64(r);
    const uint32_t want_u[8] = {(uint32_t)p->optim, (uint32_t)p->schedule, p->batch,          p->epochs,
                                p->patience,        p->step_size,         (uint32_t)p->nesterov, (uint32_t)p->shuffle};
    const double want_d[9] = {p->lr, p->momentum, p->beta1, p->beta2, p->eps, p->l2, p->gamma, p->lr_min, p->weight_decay};
    static const char *const un[8] = {"optimizer", "schedule", "batch size", "epochs", "patience", "step size",
                                      "nesterov", "shuffle"};
    static const char *const dn[9] = {"learning rate", "momentum", "beta1", "beta2", "eps", "l2", "gamma", "lr_min",
                                      "weight decay"};
    char x[40], y[40];
    *ck_epochs = u[3];
    for (int i = 0; i < 8 && r->st == MLP_OK; i++) {
        if (u[i] == want_u[i]) continue;
        if (i == 3 && p->schedule == MLP_SCHED_COSINE) { /* the schedule, checked before, is the same */
            r->st = mlp__fail_file(r->err, MLP_ERR_ARG, r->path,
                                   "the checkpoint was made with epochs %u, this run asks for %u: the cosine "
                                   "schedule's learning rates depend on the number of epochs, so only %u can "
                                   "continue it",
                                   u[i], want_u[i], u[i]);
            break;
        }
        if (i == 3) continue; /* constant or step: any number of epochs continues it */
        if (i == 0) {
            snprintf(x, sizeof x, "%s", mlp_optim_name((enum mlp_optim)u[i]));
            snprintf(y, sizeof y, "%s", mlp_optim_name((enum mlp_optim)want_u[i]));
        } else if (i == 1) {
            snprintf(x, sizeof x, "%s", mlp_schedule_name((enum mlp_schedule)u[i]));
            snprintf(y, sizeof y, "%s", mlp_schedule_name((enum mlp_schedule)want_u[i]));
        } else {
            snprintf(x, sizeof x, "%u", u[i]);
            snprintf(y, sizeof y, "%u", want_u[i]);
        }
        r->st = mlp__fail_file(r->err, MLP_ERR_ARG, r->path, "the checkpoint was made with %s %s, this run asks for %s",
                               un[i], x, y);
    }
    if (r->st == MLP_OK && seed != p->seed)
        r->st = mlp__fail_file(r->err, MLP_ERR_ARG, r->path,
                               "the checkpoint was made with seed %llu, this run asks for %llu",
                               (unsigned long long)seed, (unsigned long long)p->seed);
    for (int i = 0; i < 9 && r->st == MLP_OK; i++)
        if (memcmp(&d[i], &want_d[i], sizeof(double)) != 0) {
            two_doubles(x, y, sizeof x, d[i], want_d[i]);
            r->st = mlp__fail_file(r->err, MLP_ERR_ARG, r->path,
                                   "the checkpoint was made with %s %s, this run asks for %s", dn[i], x, y);
        }
}

/* The data sets the checkpoint was made on against this run's. */
static void check_data(struct cr *r, const struct mlp_ckpt *c)
{
    struct mlp_ckpt_fp ftrain = read_fp(r), feval = read_fp(r);
    char d[160];
    if (r->st == MLP_OK && fp_diff(ftrain, c->train_fp, d, sizeof d))
        r->st = mlp__fail_file(r->err, MLP_ERR_SHAPE, r->path, "the checkpoint was made on a different training set (%s)",
                               d);
    if (r->st == MLP_OK && fp_diff(feval, c->eval_fp, d, sizeof d))
        r->st = mlp__fail_file(r->err, MLP_ERR_SHAPE, r->path,
                               "the checkpoint was made with a different evaluation set (%s)", d);
}

/* Position and accumulators into *pos, checked for consistency with the
 * checkpoint's epochs and the batches per epoch (c), then against this
 * run's epochs; the history is read after. */
static void read_position(struct cr *r, const struct mlp_ckpt *c, uint32_t ck_epochs, struct mlp_ckpt_pos *pos)
{
    pos->epoch_done = cr_u32(r);
    pos->batch_pos = cr_u64(r);
    pos->step = cr_u64(r);
    for (int i = 0; i < 4; i++) pos->rng.s[i] = cr_u64(r);
    for (int i = 0; i < 4; i++) pos->rng_epoch.s[i] = cr_u64(r);
    pos->loss_sum = cr_f64(r);
    pos->correct = cr_u64(r);
    pos->epoch_s = cr_f64(r);
    pos->pen_sum = r->version >= 2 ? cr_f64(r) : 0;
    pos->best_loss = cr_f64(r);
    pos->best_epoch = cr_u32(r);
    pos->bad_epochs = cr_u32(r);
    uint32_t stopped_early = cr_u32(r);
    pos->stopped_early = stopped_early == 1;
    pos->n_hist = cr_u32(r);
    if (r->st == MLP_OK && (pos->epoch_done > ck_epochs || pos->batch_pos >= c->n_batches ||
                            pos->n_hist != pos->epoch_done || stopped_early > 1 ||
                            (pos->epoch_done == ck_epochs && pos->batch_pos != 0)))
        r->st = mlp__fail_file(r->err, MLP_ERR_FORMAT, r->path, "inconsistent checkpoint position (epoch %u, batch %llu)",
                               pos->epoch_done, (unsigned long long)pos->batch_pos);
    /* A run cut shorter than the checkpoint already went (an epoch begun
     * counts): its weights cannot be those of fewer epochs. */
    const uint32_t epochs = c->params.epochs;
    if (r->st == MLP_OK && (pos->epoch_done > epochs || (pos->epoch_done == epochs && pos->batch_pos != 0)))
        r->st = mlp__fail_file(r->err, MLP_ERR_ARG, r->path,
                               "the checkpoint is %s epoch %u, this run asks for %u epoch%s in all",
                               pos->batch_pos ? "in" : "past", pos->batch_pos ? pos->epoch_done + 1 : pos->epoch_done,
                               epochs, epochs == 1 ? "" : "s");
}

/* The n epochs' statistics, in a new array of n + 1 (NULL on failure). */
static struct mlp_epoch_stats *read_history(struct cr *r, uint32_t n)
{
    if (r->st != MLP_OK) return NULL;
    struct mlp_epoch_stats *hist = calloc((size_t)n + 1, sizeof *hist);
    if (!hist) {
        r->st = mlp__fail(r->err, MLP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < n && r->st == MLP_OK; i++) {
        hist[i].epoch = cr_u32(r);
        hist[i].train_loss = cr_f64(r);
        hist[i].train_acc = cr_f64(r);
        hist[i].test_loss = cr_f64(r);
        hist[i].test_acc = cr_f64(r);
        hist[i].seconds = cr_f64(r);
        hist[i].samples_per_s = cr_f64(r);
        hist[i].penalty = r->version >= 2 ? cr_f64(r) : 0;
    }
    return hist;
}

/* The parse of a checkpoint's bytes b[0 .. size) (path names them in
 * messages) into c, whose model, vectors and position change only when all
 * of it is good. */
static enum mlp_status ckpt_parse(const unsigned char *b, uint64_t size, const char *path, struct mlp_ckpt *c,
                                  struct mlp_error *err)
{
    uint64_t model_bytes = 0, state_bytes = 0;
    uint32_t version = 0, ck_epochs = 0;
    enum mlp_status st = check_header(b, size < CK_HEADER ? (size_t)size : CK_HEADER, size, path, &model_bytes,
                                      &state_bytes, &version, err);
    if (st == MLP_OK) st = verify_checksums(b, path, model_bytes, state_bytes, err);
    if (st != MLP_OK) return st;
    /* From here on every byte is as it was written. */
    struct mlp_model *m = NULL;
    st = mlp__model_read(b + CK_HEADER, model_bytes, path, &m, err);
    if (st == MLP_OK) st = same_network(m, c->model, path, err);

    struct cr r = {.b = b, .path = path, .version = version, .off = CK_HEADER + model_bytes, .left = state_bytes,
                   .st = st, .err = err};
    check_run_params(&r, &c->params, &ck_epochs);
    check_data(&r, c);
    struct mlp_ckpt_pos pos = {0};
    read_position(&r, c, ck_epochs, &pos);
    pos.hist = read_history(&r, pos.n_hist);
    const size_t nb = c->model->n_params * mlp__dtype_size(c->model->dtype);
    /* Straight into the caller's buffers: the checksums held, so nothing
     * fails from here but sizes that do not add up, and then it must not
     * be run. */
    void *const vec[4] = {c->good, c->best, c->s1, c->s2};
    for (int i = 0; i < 4; i++)
        if (vec[i]) cr_bytes(&r, vec[i], nb);
    /* The CRC after the section was checked by the first pass. */
    if (r.st == MLP_OK && r.left != 0)
        r.st = mlp__fail_file(err, MLP_ERR_FORMAT, path, "%llu unexpected bytes in the checkpoint state",
                              (unsigned long long)r.left);
    if (r.st == MLP_OK) {
        memcpy(c->model->params, m->params, nb);
        c->model->meta = m->meta;
        c->pos = pos;
    } else {
        free(pos.hist);
    }
    mlp_model_free(m);
    return r.st;
}

enum mlp_status mlp__ckpt_read(const char *path, struct mlp_ckpt *c, struct mlp_error *err)
{
    MLP_ASSERT(c && c->model && c->good && path);
    unsigned char *b = NULL;
    uint64_t size = 0;
    enum mlp_status st = read_checkpoint(path, &b, &size, err);
    if (st != MLP_OK) return st;
    st = ckpt_parse(b, size, path, c, err);
    free(b);
    return st;
}

enum mlp_status mlp__ckpt_read_mem(const struct mlp_buffer *b, struct mlp_ckpt *c, struct mlp_error *err)
{
    MLP_ASSERT(c && c->model && c->good && b && (b->data || b->size == 0));
    static const unsigned char none[1];
    return ckpt_parse(b->size ? b->data : none, b->size, b->name ? b->name : "<memory>", c, err);
}
