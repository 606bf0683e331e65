/* SPDX-License-Identifier: MIT */
/* Reduced-precision inference (struct mlp_qmodel, fastmlp.h): weights packed
 * once into f32, bf16 or int8 panels (cpu/qkernels.h), a forward pass over a
 * few samples at a time through the kernel the CPU supports, and the model's
 * own activations, heads and row loading, included from the files that
 * define them for the training passes so that the two cannot drift apart.
 * int8 weights are packed a second time for the batch kernel (twice the
 * int8 memory): many rows go through every layer a block of QB at a time
 * (forward_block), with the same bits as the panel path. */
#include "context/context.h"
#include "core/pool.h"
#include "kernels/ktable.h"
#include "internal.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

/* The f32 instances of the shared pass pieces (FN(activate) is activate_f32
 * here, as in pass_f32.c), built with this file's flags. */
#define SUF f32
#include "core/tmpl.h"
#include "pass/activations.inc"
#include "pass/losses.inc"
#include "pass/rows.inc"

#define R MLP_QK_ROWS
#define NS MLP_QK_MAX_NS
/* Samples per block of the batch path: their activations (QB x 784 bytes
 * in, QB x 256 floats out for W5) stay in L2 through every layer. */
#define QB 96u

/* One layer, packed.  Rows are padded to whole panels and inputs to whole
 * chunks with zero weights, so padding adds nothing to any sum. */
struct qlayer {
    uint32_t n_in, n_out;
    uint32_t kp;          /* n_in rounded up to a chunk (64 bytes of weights) */
    uint32_t n_panels;    /* ceil(n_out / R) */
    size_t panel_stride;  /* elements per panel: R * kp */
    enum mlp_act act;     /* hidden layers; the last one is the head's */
    void *w;              /* into the qmodel's one weight block */
    float *bias;          /* n_out */
    float *wscale;        /* int8: per row, w ~ wscale * q */
    int64_t *rowsum;      /* int8: per row, sum of q (for the zero point) */
    float cal_s;          /* int8, calibrated: the input's fixed scale and zero point */
    int32_t cal_z;
    struct mlp_qk_i8g_layer g; /* int8: the batch kernel's copy (qkernels.h) */
};

/* Rows per task from which the batch path is taken (mlp__qmodel_set_gemm_min,
 * and the measurements behind it, below). */
#define GEMM_MIN_ROWS 4

struct mlp_qmodel {
    enum mlp_qtype qtype;
    struct mlp_qk k;
    /* The model's description without its parameters: what the shared row
     * loader and head read (widths, head, slope, scale, standardisation). */
    struct mlp_model shell;
    struct qlayer *ql;
    uint32_t wmax;        /* the widest vector, rounded up to 64 elements */
    bool calibrated;
    uint32_t gemm_min;    /* see mlp__qmodel_set_gemm_min */
    uint64_t weight_bytes;
    void *block;          /* all packed weights */
    size_t block_bytes;
    bool block_mmapped;
    float *fblock;        /* biases, scales */
    int64_t *rowsums;
    struct qsplit *split; /* when to split a layer's rows (forward_group) */
    /* int8 batches (forward_block): the layers in the batch layout, one
     * block for all of them, and the widths of a block's buffers */
    bool batch;
    bool splits;          /* a layer is large enough for forward_group to split */
    void *gblock;
    size_t g_ldu, g_ldy;  /* bytes per sample of input, floats of output */
};

/* The split's back-off, shared by the calls on one qmodel: layers to run
 * unsplit before trying again, the current penalty, and whether the next
 * split only wakes the workers (not judged). */
struct qsplit {
    atomic_uint skip, penalty, warm;
};

/* ------------------------------------------------------------- names */

static const char *const qtype_names[MLP_Q_COUNT] = {"f32", "bf16", "int8"};

const char *mlp_qtype_name(enum mlp_qtype q) { return (unsigned)q < MLP_Q_COUNT ? qtype_names[q] : "?"; }

int mlp_qtype_parse(const char *s)
{
    if (!s) return -1;
    /* NumPy-style sizes: f4 = 4-byte float, b2 = 2-byte bfloat, i1 = 1-byte int */
    static const char *const alias[MLP_Q_COUNT] = {"f4", "b2", "i1"};
    for (int i = 0; i < MLP_Q_COUNT; i++)
        if (strcmp(s, qtype_names[i]) == 0 || strcmp(s, alias[i]) == 0) return i;
    return -1;
}

const char *mlp_qtype_kernel(enum mlp_qtype t)
{
    const char *n = (unsigned)t < MLP_Q_COUNT ? mlp__ctx(NULL)->kt->qk[t].name : NULL;
    return n ? n : "?";
}

enum mlp_qtype mlp_qmodel_qtype(const struct mlp_qmodel *q)
{
    MLP_ASSERT(q);
    return q->qtype;
}
const char *mlp_qmodel_kernel(const struct mlp_qmodel *q)
{
    MLP_ASSERT(q);
    return q->k.name;
}
uint64_t mlp_qmodel_weight_bytes(const struct mlp_qmodel *q)
{
    MLP_ASSERT(q);
    return q->weight_bytes;
}
int mlp_qmodel_calibrated(const struct mlp_qmodel *q)
{
    MLP_ASSERT(q);
    return q->calibrated;
}

/* ------------------------------------------------------------ packing */

static size_t elem_bytes(enum mlp_qtype t) { return t == MLP_Q_F32 ? 4 : t == MLP_Q_BF16 ? 2 : 1; }

static uint32_t round_up(uint32_t n, uint32_t m) { return (n + m - 1) / m * m; }

static double weight_at(const struct mlp_model *m, size_t i)
{
    return m->dtype == MLP_F32 ? (double)((const float *)m->params)[i] : ((const double *)m->params)[i];
}

/* Where W[j][i] goes in a packed layer (elements). */
static size_t packed_index(const struct qlayer *L, uint32_t j, uint32_t i, uint32_t ce)
{
    return (size_t)(j / R) * L->panel_stride + ((size_t)(i / ce) * R + j % R) * ce + i % ce;
}

static void pack_layer(struct mlp_qmodel *q, const struct mlp_model *m, uint32_t l)
{
    const struct mlp_layer *ml = &m->layers[l];
    struct qlayer *L = &q->ql[l];
    const uint32_t ce = MLP_QK_CHUNK / (uint32_t)elem_bytes(q->qtype);
    for (uint32_t j = 0; j < L->n_out; j++) {
        size_t row = ml->w_off + (size_t)j * L->n_in;
        L->bias[j] = (float)weight_at(m, ml->b_off + j);
        switch (q->qtype) {
        case MLP_Q_F32:
            for (uint32_t i = 0; i < L->n_in; i++)
                ((float *)L->w)[packed_index(L, j, i, ce)] = (float)weight_at(m, row + i);
            break;
        case MLP_Q_BF16:
            for (uint32_t i = 0; i < L->n_in; i++)
                ((uint16_t *)L->w)[packed_index(L, j, i, ce)] = mlp__f32_to_bf16((float)weight_at(m, row + i));
            break;
        case MLP_Q_INT8: {
            /* symmetric per row: the largest |w| maps to 127 */
            double amax = 0;
            /* NaN weights are skipped, as fmax would; written as a compare
             * because GCC 12's aarch64 vectoriser crashes on this fmax
             * reduction (internal compiler error in vect_transform_reduction) */
            for (uint32_t i = 0; i < L->n_in; i++) {
                const double a = fabs(weight_at(m, row + i));
                if (a > amax) amax = a;
            }
            double sc = amax / 127.0, inv = amax > 0 ? 127.0 / amax : 0;
            int64_t sum = 0;
            for (uint32_t i = 0; i < L->n_in; i++) {
                double v = nearbyint(weight_at(m, row + i) * inv);
                v = v > 127 ? 127 : v < -127 ? -127 : v; /* NaN weights have no int8 form: 0 */
                int8_t qv = v == v ? (int8_t)v : 0;
                ((int8_t *)L->w)[packed_index(L, j, i, ce)] = qv;
                sum += qv;
            }
            L->wscale[j] = (float)sc;
            L->rowsum[j] = sum;
            break;
        }
        case MLP_Q_COUNT: break;
        }
    }
}

/* One zeroed block for every layer's panels: the weights are read as one
 * stream (mlp__big_alloc: huge pages from 4 MiB). */
static enum mlp_status alloc_block(struct mlp_qmodel *q, size_t bytes, struct mlp_error *err)
{
    q->block_bytes = bytes;
    q->block = mlp__big_alloc(bytes, true, &q->block_mmapped);
    if (!q->block) return mlp__fail(err, MLP_ERR_NOMEM, "cannot allocate %zu bytes of packed weights", bytes);
    return MLP_OK;
}

void mlp_qmodel_free(struct mlp_qmodel *q)
{
    if (!q) return;
    if (q->block) mlp__big_free(q->block, q->block_bytes, q->block_mmapped);
    mlp__afree(q->fblock);
    mlp__afree(q->gblock);
    free(q->rowsums);
    free(q->split);
    free(q->ql);
    free(q->shell.layers);
    free(q->shell.pre_mean);
    free(q);
}

/* ------------------------------------------------------- the forward pass */

/* Scratch for one group of up to NS samples, each vector wmax long. */
struct qwork {
    float *f[2];   /* layer input and output, f32 */
    uint16_t *b[2]; /* bf16 input of even and odd layers */
    uint8_t *u;    /* int8 input */
    int32_t *acc;  /* int8 block sums */
    int64_t *acc64;
    float *z;      /* NS x n_out for the head */
    /* the batch path's block of QB samples (forward_block) */
    uint8_t *gu;   /* int8 input, g_ldu bytes per sample */
    float *gy;     /* layer output, g_ldy per sample */
    float *gf;     /* the first layer's input in f32, n_in per sample */
    float *gz;     /* QB x n_out for the head */
    void *mem;
};

/* batch: with the batch path's buffers (written before they are read, so
 * not zeroed: a batch-1 call would pay for clearing them). */
static bool work_alloc(struct qwork *wk, const struct mlp_qmodel *q, bool batch)
{
    const size_t n = (size_t)NS * q->wmax, K = mlp__n_out(&q->shell);
    const size_t bytes = n * (4 + 4 + 2 + 2 + 1 + 4 + 8) + (size_t)NS * K * 4 + 8 * 64;
    const size_t gb = batch ? QB : 0;
    char *p = mlp__amalloc(bytes + gb * (q->g_ldu + 4 * (q->g_ldy + q->ql[0].n_in + K)) + 4 * 64);
    wk->mem = p;
    if (!p) return false;
    memset(p, 0, bytes);
#define TAKE(dst, type, count)                                                 \
    do {                                                                       \
        dst = (type *)(void *)p;                                               \
        p += ((count) * sizeof(type) + 63) / 64 * 64;                          \
    } while (0)
    TAKE(wk->acc64, int64_t, n);
    TAKE(wk->f[0], float, n);
    TAKE(wk->f[1], float, n);
    TAKE(wk->acc, int32_t, n);
    TAKE(wk->b[0], uint16_t, n);
    TAKE(wk->b[1], uint16_t, n);
    TAKE(wk->u, uint8_t, n);
    TAKE(wk->z, float, (size_t)NS * K);
    TAKE(wk->gu, uint8_t, gb * q->g_ldu);
    TAKE(wk->gy, float, gb * q->g_ldy);
    TAKE(wk->gf, float, gb * q->ql[0].n_in);
    TAKE(wk->gz, float, gb * K);
#undef TAKE
    return true;
}

/* The grid for one vector: its range, widened to hold 0 so that 0 is
 * exact, split in 255 steps.  NaN or an infinite range: s = NaN, so the
 * outputs become NaN as in f32 (never a wrong finite number). */
static void qparams(float lo, float hi, bool bad, float *s, int32_t *z)
{
    lo = lo < 0 ? lo : 0;
    hi = hi > 0 ? hi : 0;
    double range = (double)hi - (double)lo;
    if (bad || !isfinite(range)) {
        *s = NAN;
        *z = 0;
    } else if ((float)(range / 255) == 0) {
        /* all zero, or a range so tiny (< 255 x the least subnormal) that
         * its step underflows: the values are zero to within 1e-43, and
         * -lo/s would be NaN, converted to int32 (undefined) */
        *s = 1;
        *z = 0;
    } else {
        *s = (float)(range / 255);
        double zz = nearbyint(-(double)lo / *s);
        *z = zz < 0 ? 0 : zz > 255 ? 255 : (int32_t)zz;
    }
}

static void vec_range(const float *x, uint32_t n, float *lo, float *hi, bool *bad)
{
    int b;
    mlp__qk_range_portable(x, n, lo, hi, &b);
    *bad = b;
}

/* A sample's input to int8 layer L: its scale and zero point (the layer's
 * fixed ones when calibrated, else from the sample's range) and q =
 * round(x / s) + z clipped to 0..255 (qkernels.h; NaN -> 0, and its
 * sample's s is NaN). */
static void quantize_input(const struct mlp_qmodel *q, const struct qlayer *L, const float *x, float *s, int32_t *z,
                           uint8_t *u)
{
    if (q->calibrated) {
        *s = L->cal_s;
        *z = L->cal_z;
    } else {
        float lo, hi;
        int bad;
        q->k.range(x, L->n_in, &lo, &hi, &bad);
        qparams(lo, hi, bad, s, z);
    }
    q->k.u8q(x, L->n_in, *s, *z, u);
}

/* Per-layer input ranges seen during calibration. */
struct qrange {
    float lo, hi;
    bool bad;
};

/* One layer's output rows for the panels [p0, p1): the kernel, then the
 * epilogue (int8 scales, bias) and the hidden activation on those rows.
 * The layer's input is ready in x (f32), wk->b[l & 1] (bf16) or wk->u
 * (int8).
 *
 * Small batches split the rows of layers of at least SPLIT_BYTES of
 * weights over the pool, one hand-off per layer.  Measured on W4 (100
 * sigmoid layers of 1024, 2 cores): one thread streams f32 weights at
 * 29-30 GB/s, two at 32-34 (the read bandwidth is 30-35); int8 3.8 ->
 * 3.2 ms per pass.  Below 1 MiB the hand-off is not paid back.
 *
 * The risk: where another process keeps a core busy, a layer waits for a
 * descheduled worker for a time slice (W4 f32 with one busy process: 17 ms
 * per pass on one thread, 200-400 ms split).  So each split layer is timed,
 * and when the tasks ended more than half the caller's own share (+ 50 us)
 * after the caller's, the next `penalty` large layers run unsplit; the
 * penalty doubles on each late split (16 up to 65536 layers) and is
 * forgotten on a timely one.  The first split after a pause (workers asleep
 * after 5 ms idle take ~0.1 ms to wake) is not judged. */
#define SPLIT_BYTES ((size_t)1 << 20)
#define SPLIT_PENALTY_MIN 16u
#define SPLIT_PENALTY_MAX 65536u

/* Whether to skip this split (and count it). */
static bool split_skip(struct qsplit *sp)
{
    unsigned v = atomic_load(&sp->skip);
    while (v > 0)
        if (atomic_compare_exchange_weak(&sp->skip, &v, v - 1)) {
            if (v == 1) atomic_store(&sp->warm, 0); /* the next one wakes the workers */
            return true;
        }
    return false;
}

static void split_judge(struct qsplit *sp, const double (*tm)[2], uint32_t tasks)
{
    if (atomic_exchange(&sp->warm, 1) == 0) return;
    double own = tm[0][1] - tm[0][0], late = 0;
    for (uint32_t t = 1; t < tasks; t++) late = fmax(late, tm[t][1] - tm[0][1]);
    unsigned pen = atomic_load(&sp->penalty);
    if (late > own / 2 + 50e-6) {
        pen = pen < SPLIT_PENALTY_MIN ? SPLIT_PENALTY_MIN : pen >= SPLIT_PENALTY_MAX / 2 ? SPLIT_PENALTY_MAX : 2 * pen;
        atomic_store(&sp->penalty, pen);
        atomic_store(&sp->skip, pen);
    } else {
        atomic_store(&sp->penalty, 0);
    }
}

struct layer_job {
    const struct mlp_qmodel *q;
    uint32_t l, ns;
    struct qwork *wk;
    float *y;
    const float *x, *sx;
    const int32_t *zx;
    double (*times)[2]; /* split: each task's start and end */
};

static void layer_rows(const struct layer_job *jb, uint32_t p0, uint32_t p1)
{
    const struct mlp_qmodel *q = jb->q;
    const struct qlayer *L = &q->ql[jb->l];
    struct qwork *wk = jb->wk;
    const size_t ld = q->wmax;
    const uint32_t ns = jb->ns, kp = L->kp, j0 = p0 * R, j1 = p1 * R < L->n_out ? p1 * R : L->n_out;
    float *y = jb->y;
    if (j0 >= j1) return;
    switch (q->qtype) {
    case MLP_Q_F32:
        q->k.f32(L->w, L->panel_stride, kp / 16, p0, p1, jb->x, ld, ns, y, ld);
        break;
    case MLP_Q_BF16:
        q->k.bf16(L->w, L->panel_stride, kp / 32, p0, p1, wk->b[jb->l & 1], ld, ns, y, ld);
        break;
    case MLP_Q_INT8:
        /* blocks of at most MLP_QK_I8_MAX_K columns: exact int32 sums */
        for (uint32_t c0 = 0; c0 < kp; c0 += MLP_QK_I8_MAX_K) {
            uint32_t cols = kp - c0 < MLP_QK_I8_MAX_K ? kp - c0 : MLP_QK_I8_MAX_K;
            q->k.i8((const int8_t *)L->w + (size_t)c0 * R, L->panel_stride, cols / 64, p0, p1, wk->u + c0, ld, ns,
                    wk->acc, ld);
            for (uint32_t s = 0; s < ns; s++)
                for (uint32_t j = j0; j < j1; j++)
                    wk->acc64[s * ld + j] = (c0 ? wk->acc64[s * ld + j] : 0) + wk->acc[s * ld + j];
        }
        /* y = wscale * s * (sum q_x q_w - z * sum q_w) + b, the integer
         * part exact, then three f32 roundings (2^-22 relative) */
        for (uint32_t s = 0; s < ns; s++) {
            const int64_t *a = wk->acc64 + s * ld;
            const int64_t zs = jb->zx[s];
            const float sc = jb->sx[s];
            float *ys = y + s * ld;
            for (uint32_t j = j0; j < j1; j++)
                ys[j] = (float)(a[j] - zs * L->rowsum[j]) * (L->wscale[j] * sc) + L->bias[j];
        }
        break;
    case MLP_Q_COUNT: break;
    }
    const bool last = jb->l + 1 == q->shell.n_layers;
    for (uint32_t s = 0; s < ns; s++) {
        float *ys = y + s * ld;
        if (q->qtype != MLP_Q_INT8)
            for (uint32_t j = j0; j < j1; j++) ys[j] += L->bias[j];
        if (last) continue;
        if (L->act == MLP_ACT_SIGMOID && q->k.sigmoid)
            q->k.sigmoid(ys + j0, j1 - j0);
        else
            FN(activate)(&q->shell, L->act, (float)q->shell.leaky_slope, ys + j0, j1 - j0);
        /* bf16: these rows of the next layer's input, here where they are
         * made (on the task's own thread when the rows are split) */
        if (q->qtype == MLP_Q_BF16) {
            uint16_t *b = wk->b[(jb->l + 1) & 1] + s * ld;
            for (uint32_t j = j0; j < j1; j++) b[j] = mlp__f32_to_bf16(ys[j]);
        }
    }
}

/* Task t of a layer split over the pool: an even share of the panels. */
static void layer_task(void *ctx, uint32_t t)
{
    const struct layer_job *jb = ctx;
    const uint32_t tasks = (uint32_t)mlp__model_threads(&jb->q->shell);
    const uint64_t np = jb->q->ql[jb->l].n_panels;
    jb->times[t][0] = mlp__now();
    layer_rows(jb, (uint32_t)(np * t / tasks), (uint32_t)(np * (t + 1) / tasks));
    jb->times[t][1] = mlp__now();
}

/* uint8 pixels enter an int8 first layer as stored: q = pixel, s = the
 * input scale, z = 0 -- exact. */
static bool exact_u8_input(const struct mlp_qmodel *q, const struct mlp_dataset *ds)
{
    const struct mlp_model *sh = &q->shell;
    return q->qtype == MLP_Q_INT8 && ds->x_type == MLP_ELEM_U8 && !sh->pre_mean && sh->input_scale > 0 &&
           isfinite(sh->input_scale);
}

/* The forward pass of ns samples, rows r .. r+ns-1 of ds: on return
 * wk->z holds the last layer's pre-activations (ns x n_out).  rec (may be
 * NULL) widens each layer's input range by these samples'. */
static void forward_group(const struct mlp_qmodel *q, const struct mlp_dataset *ds, uint64_t r, uint32_t ns,
                          struct qwork *wk, struct qrange *rec, bool split)
{
    const size_t ld = q->wmax;
    const uint32_t n_in = q->ql[0].n_in;
    float *x = wk->f[0], *y = wk->f[1];
    const struct mlp_model *sh = &q->shell;
    const bool exact_u8 = exact_u8_input(q, ds);
    float sx[NS];
    int32_t zx[NS];
    if (exact_u8) {
        for (uint32_t s = 0; s < ns; s++) {
            memcpy(wk->u + s * ld, (const uint8_t *)ds->x + (size_t)(r + s) * n_in, n_in);
            sx[s] = (float)sh->input_scale;
            zx[s] = 0;
        }
    }
    if (!exact_u8 || rec) {
        struct mlp_pass p = {.m = sh, .ds = ds, .row0 = r};
        for (uint32_t s = 0; s < ns; s++) FN(load_block)(sh, ds, &p, s, 1, x + s * ld);
    }
    for (uint32_t l = 0; l < sh->n_layers; l++) {
        const struct qlayer *L = &q->ql[l];
        const uint32_t K = L->n_in, kp = L->kp;
        if (rec)
            for (uint32_t s = 0; s < ns; s++) {
                float lo, hi;
                bool bad;
                vec_range(x + s * ld, K, &lo, &hi, &bad);
                rec[l].lo = lo < rec[l].lo ? lo : rec[l].lo;
                rec[l].hi = hi > rec[l].hi ? hi : rec[l].hi;
                rec[l].bad |= bad;
            }
        /* the layer's input in its type, zero (or defined) where the
         * weights are padding */
        for (uint32_t s = 0; s < ns; s++) {
            float *xs = x + s * ld;
            if (q->qtype == MLP_Q_F32) {
                memset(xs + K, 0, (kp - K) * sizeof *xs);
            } else if (q->qtype == MLP_Q_BF16) {
                uint16_t *b = wk->b[l & 1] + s * ld;
                if (l == 0) /* later layers' inputs come from the previous epilogue */
                    for (uint32_t i = 0; i < K; i++) b[i] = mlp__f32_to_bf16(xs[i]);
                memset(b + K, 0, (kp - K) * sizeof *b);
            } else {
                if (!(l == 0 && exact_u8)) quantize_input(q, L, xs, &sx[s], &zx[s], wk->u + s * ld);
                memset(wk->u + s * ld + K, 0, kp - K);
            }
        }
        struct layer_job jb = {.q = q, .l = l, .ns = ns, .wk = wk, .y = y, .x = x, .sx = sx, .zx = zx};
        const uint32_t threads = split ? (uint32_t)mlp__model_threads(&q->shell) : 1;
        const size_t bytes = (size_t)L->n_panels * L->panel_stride * elem_bytes(q->qtype);
        if (threads > 1 && threads <= 64 && L->n_panels >= threads && bytes >= SPLIT_BYTES &&
            !split_skip(q->split)) {
            double times[64][2];
            jb.times = times;
            mlp__pool_for(mlp__model_pool(&q->shell), threads, layer_task, &jb);
            split_judge(q->split, (const double(*)[2])times, threads);
        } else {
            layer_rows(&jb, 0, L->n_panels);
        }
        if (l + 1 == sh->n_layers)
            for (uint32_t s = 0; s < ns; s++) memcpy(wk->z + (size_t)s * L->n_out, y + s * ld, L->n_out * sizeof *y);
        float *t = x;
        x = y;
        y = t;
    }
}

/* The batch path (int8, q->batch): nb <= QB samples, rows r .. r+nb-1 of
 * ds, through every layer with the batch kernel, their activations kept in
 * the task's block buffers; on return wk->gz holds the last layer's
 * pre-activations (nb x n_out).  Each sample meets the same arithmetic as
 * in forward_group: the same quantisation of its inputs, exact int32 sums,
 * the same epilogue and activation, so the outputs are the same bits. */
static void forward_block(const struct mlp_qmodel *q, const struct mlp_dataset *ds, uint64_t r, uint32_t nb,
                          struct qwork *wk)
{
    const struct mlp_model *sh = &q->shell;
    const uint32_t n_in = q->ql[0].n_in;
    const size_t ldu = q->g_ldu, ldy = q->g_ldy;
    float sx[QB];
    int32_t zx[QB];
    const uint8_t *x = wk->gu;
    size_t ldx = ldu;
    if (exact_u8_input(q, ds)) {
        const uint8_t *px = (const uint8_t *)ds->x + (size_t)r * n_in;
        if (n_in % 4 == 0) { /* the kernel reads whole steps of 4: the rows as stored */
            x = px;
            ldx = n_in;
        } else {
            for (uint32_t s = 0; s < nb; s++) {
                memcpy(wk->gu + s * ldu, px + (size_t)s * n_in, n_in);
                memset(wk->gu + s * ldu + n_in, 0, 4 * (size_t)q->ql[0].g.k4 - n_in);
            }
        }
        for (uint32_t s = 0; s < nb; s++) {
            sx[s] = (float)sh->input_scale;
            zx[s] = 0;
        }
    } else {
        struct mlp_pass p = {.m = sh, .ds = ds, .row0 = r};
        FN(load_block)(sh, ds, &p, 0, nb, wk->gf);
        for (uint32_t s = 0; s < nb; s++) {
            quantize_input(q, &q->ql[0], wk->gf + (size_t)s * n_in, &sx[s], &zx[s], wk->gu + s * ldu);
            memset(wk->gu + s * ldu + n_in, 0, 4 * (size_t)q->ql[0].g.k4 - n_in);
        }
    }
    for (uint32_t l = 0; l < sh->n_layers; l++) {
        const struct qlayer *L = &q->ql[l];
        const bool last = l + 1 == sh->n_layers, relu = !last && L->act == MLP_ACT_RELU;
        q->k.i8g(&L->g, x, ldx, nb, sx, zx, relu, wk->gy, ldy);
        if (last) {
            for (uint32_t s = 0; s < nb; s++)
                memcpy(wk->gz + (size_t)s * L->n_out, wk->gy + s * ldy, L->n_out * sizeof *wk->gy);
            break;
        }
        const struct qlayer *N = &q->ql[l + 1];
        for (uint32_t s = 0; s < nb; s++) {
            float *ys = wk->gy + s * ldy;
            if (!relu) { /* as layer_rows; ReLU was the kernel's */
                if (L->act == MLP_ACT_SIGMOID && q->k.sigmoid)
                    q->k.sigmoid(ys, L->n_out);
                else
                    FN(activate)(sh, L->act, (float)sh->leaky_slope, ys, L->n_out);
            }
            quantize_input(q, N, ys, &sx[s], &zx[s], wk->gu + s * ldu);
            memset(wk->gu + s * ldu + N->n_in, 0, 4 * (size_t)N->g.k4 - N->n_in);
        }
        x = wk->gu;
        ldx = ldu;
    }
}

/* ------------------------------------------------------------- create */

/* The int8 layers again in the batch layout (qkernels.h), from the panels
 * (the same int8 values), when every layer's sums fit the kernel's int32
 * and there is a batch kernel. */
static enum mlp_status pack_batch(struct mlp_qmodel *q)
{
    const uint32_t nl = q->shell.n_layers;
    size_t bytes = 0, ldu = 64, ldy = 16;
    for (uint32_t l = 0; l < nl; l++) {
        const struct qlayer *L = &q->ql[l];
        if (L->n_in > MLP_QK_I8_MAX_K) return MLP_OK;
        const size_t k4 = (L->n_in + 3) / 4, ng = (L->n_out + 15) / 16;
        bytes += ng * k4 * 64 + 3 * ng * 64; /* weights; row sums, scales, biases */
        ldu = 4 * k4 > ldu ? 4 * k4 : ldu;
        ldy = 16 * ng > ldy ? 16 * ng : ldy;
    }
    char *p = mlp__acalloc(bytes);
    if (!p) return MLP_ERR_NOMEM;
    q->gblock = p;
    q->g_ldu = (ldu + 63) / 64 * 64;
    q->g_ldy = ldy;
    for (uint32_t l = 0; l < nl; l++) {
        struct qlayer *L = &q->ql[l];
        const uint32_t k4 = (L->n_in + 3) / 4, ng = (L->n_out + 15) / 16;
        int8_t *w = (int8_t *)p;
        int32_t *rs = (int32_t *)(void *)(p + (size_t)ng * k4 * 64);
        float *ws = (float *)(void *)(rs + 16 * (size_t)ng), *b = ws + 16 * (size_t)ng;
        p = (char *)(b + 16 * (size_t)ng);
        for (uint32_t j = 0; j < L->n_out; j++) {
            for (uint32_t i = 0; i < L->n_in; i++)
                w[((size_t)(j / 16) * k4 + i / 4) * 64 + (j % 16) * 4 + i % 4] =
                    ((const int8_t *)L->w)[packed_index(L, j, i, MLP_QK_CHUNK)];
            rs[j] = (int32_t)L->rowsum[j]; /* |rowsum| <= 65536 * 127 */
            ws[j] = L->wscale[j];
            b[j] = L->bias[j];
        }
        L->g = (struct mlp_qk_i8g_layer){.w = w, .k4 = k4, .ng = ng, .rowsum = rs, .wscale = ws, .bias = b};
    }
    q->batch = true;
    return MLP_OK;
}

/* Run calib through the (dynamic) int8 network, then fix each layer's
 * input grid to the widest range seen. */
static enum mlp_status calibrate(struct mlp_qmodel *q, const struct mlp_dataset *calib, struct mlp_error *err)
{
    enum mlp_status st = mlp__check_data(&q->shell, calib, false, err);
    if (st != MLP_OK) return st;
    if (calib->n_rows == 0) return mlp__fail(err, MLP_ERR_ARG, "the calibration data has no rows");
    const uint32_t nl = q->shell.n_layers;
    struct qrange *rec = calloc(nl, sizeof *rec);
    struct qwork wk;
    if (!rec || !work_alloc(&wk, q, false)) {
        free(rec);
        return mlp__fail(err, MLP_ERR_NOMEM, "out of memory for calibration");
    }
    for (uint64_t r = 0; r < calib->n_rows; r += NS) {
        uint32_t ns = calib->n_rows - r < NS ? (uint32_t)(calib->n_rows - r) : NS;
        forward_group(q, calib, r, ns, &wk, rec, false);
    }
    for (uint32_t l = 0; l < nl; l++) qparams(rec[l].lo, rec[l].hi, rec[l].bad, &q->ql[l].cal_s, &q->ql[l].cal_z);
    q->calibrated = true;
    mlp__afree(wk.mem);
    free(rec);
    return MLP_OK;
}

enum mlp_status mlp_qmodel_create(struct mlp_qmodel **out, const struct mlp_model *m, enum mlp_qtype qt,
                                  const struct mlp_dataset *calib, struct mlp_error *err)
{
    MLP_ASSERT(out && m);
    *out = NULL;
    if ((unsigned)qt >= MLP_Q_COUNT) return mlp__fail(err, MLP_ERR_ARG, "unknown quantisation type %d", (int)qt);
    struct mlp_qmodel *q = calloc(1, sizeof *q);
    if (!q) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    q->qtype = qt;
    q->gemm_min = GEMM_MIN_ROWS;
    q->k = mlp__model_kt(m)->qk[qt];
    const uint32_t nl = m->n_layers, n_in0 = mlp__n_in(m);

    /* the shell: the model's description, no parameters */
    q->shell = *m;
    q->shell.params = NULL;
    q->shell.pre_mean = q->shell.pre_std = q->shell.pre_inv_std = NULL;
    q->shell.layers = malloc(nl * sizeof *q->shell.layers);
    q->ql = calloc(nl, sizeof *q->ql);
    q->split = calloc(1, sizeof *q->split);
    if (!q->shell.layers || !q->ql || !q->split) goto nomem;
    memcpy(q->shell.layers, m->layers, nl * sizeof *m->layers);
    if (m->pre_mean) {
        if (!(q->shell.pre_mean = malloc(3 * (size_t)n_in0 * sizeof(double)))) goto nomem;
        memcpy(q->shell.pre_mean, m->pre_mean, (size_t)n_in0 * sizeof(double));
        memcpy(q->shell.pre_mean + n_in0, m->pre_std, (size_t)n_in0 * sizeof(double));
        memcpy(q->shell.pre_mean + 2 * (size_t)n_in0, m->pre_inv_std, (size_t)n_in0 * sizeof(double));
        q->shell.pre_std = q->shell.pre_mean + n_in0;
        q->shell.pre_inv_std = q->shell.pre_mean + 2 * (size_t)n_in0;
    }

    /* layouts and sizes (each layer's panels start on a 256-byte boundary) */
    const size_t eb = elem_bytes(qt);
    const uint32_t ce = MLP_QK_CHUNK / (uint32_t)eb;
    size_t wbytes = 0, nrows = 0;
    uint32_t wmax = n_in0;
    for (uint32_t l = 0; l < nl; l++) {
        struct qlayer *L = &q->ql[l];
        L->n_in = m->layers[l].n_in;
        L->n_out = m->layers[l].n_out;
        L->act = m->layers[l].act;
        L->kp = round_up(L->n_in, ce);
        L->n_panels = (L->n_out + R - 1) / R;
        L->panel_stride = (size_t)R * L->kp;
        wbytes += (size_t)L->n_panels * L->panel_stride * eb;
        nrows += L->n_out;
        wmax = L->n_out > wmax ? L->n_out : wmax;
    }
    q->wmax = round_up(wmax, 64);
    q->weight_bytes = wbytes;
    if (alloc_block(q, wbytes, err) != MLP_OK) goto fail;
    /* biases, and for int8 the row scales and sums */
    if (!(q->fblock = mlp__amalloc(2 * nrows * sizeof(float)))) goto nomem;
    if (qt == MLP_Q_INT8 && !(q->rowsums = malloc(nrows * sizeof(int64_t)))) goto nomem;
    size_t woff = 0, roff = 0;
    for (uint32_t l = 0; l < nl; l++) {
        struct qlayer *L = &q->ql[l];
        L->w = (char *)q->block + woff;
        L->bias = q->fblock + roff;
        L->wscale = q->fblock + nrows + roff;
        L->rowsum = q->rowsums ? q->rowsums + roff : NULL;
        woff += (size_t)L->n_panels * L->panel_stride * eb;
        roff += L->n_out;
        pack_layer(q, m, l);
    }
    if (qt == MLP_Q_INT8 && q->k.i8g && pack_batch(q) != MLP_OK) goto nomem;
    for (uint32_t l = 0; l < nl; l++)
        q->splits |= (size_t)q->ql[l].n_panels * q->ql[l].panel_stride * eb >= SPLIT_BYTES;
    if (calib && qt == MLP_Q_INT8) {
        enum mlp_status st = calibrate(q, calib, err);
        if (st != MLP_OK) {
            mlp_qmodel_free(q);
            return st;
        }
    }
    *out = q;
    return MLP_OK;
nomem:
    mlp__fail(err, MLP_ERR_NOMEM, "out of memory for a quantised model");
fail:
    mlp_qmodel_free(q);
    return err ? err->status : MLP_ERR_NOMEM;
}

/* ------------------------------------------------- predict and evaluate */

static enum mlp_status check_rows(const struct mlp_dataset *ds, uint64_t row0, uint64_t n, struct mlp_error *err)
{
    if (n == 0) return mlp__fail(err, MLP_ERR_ARG, "no rows to process");
    if (row0 > ds->n_rows || n > ds->n_rows - row0)
        return mlp__fail(err, MLP_ERR_RANGE, "rows %llu..%llu out of range (data has %llu rows)",
                         (unsigned long long)row0, (unsigned long long)(row0 + n), (unsigned long long)ds->n_rows);
    return MLP_OK;
}

/* The pass behind predict and evaluate: out (may be NULL) gets the output
 * activations; with have_y, the summed loss and the correct count.
 *
 * Threads: with at least NS samples per pool thread the samples are split
 * (each task runs whole groups through every layer, with its own buffers:
 * one hand-off per call); fewer samples run on the calling thread (see
 * layer_job).  int8 tasks of gemm_min rows or more take the batch path,
 * which gives the same outputs and the same summed loss.  Each sample's
 * arithmetic is the same either way, so outputs do not depend on the
 * thread count or on which rows share a call; only the summed loss's
 * rounding does. */
struct run_job {
    const struct mlp_qmodel *q;
    const struct mlp_dataset *ds;
    uint64_t row0, n, per_task;
    double *out;
    bool have_y, split;
    bool batch;    /* the tasks have the batch path's buffers */
    uint32_t bmin; /* and take it for ranges of this many rows */
    struct qwork *wk;
    double *loss;
    uint64_t *right;
};

/* The head on ns samples from row i (of the call) whose pre-activations
 * are in z: their outputs and correct count; returns their summed loss. */
static double finish_rows(const struct run_job *rj, uint64_t i, uint32_t ns, float *z, uint64_t *right)
{
    const struct mlp_qmodel *q = rj->q;
    const struct mlp_dataset *ds = rj->ds;
    const uint32_t K = mlp__n_out(&q->shell);
    struct mlp_pass p = {.m = &q->shell, .ds = ds, .row0 = rj->row0, .n = rj->n};
    double sum = FN(head)(&q->shell, ds, &p, i, ns, z, NULL, 0, rj->have_y);
    for (uint32_t s = 0; s < ns; s++) {
        const float *a = z + (size_t)s * K;
        if (rj->out)
            for (uint32_t k = 0; k < K; k++) rj->out[(i + s) * K + k] = a[k];
        if (rj->have_y && ds->labels && FN(is_correct)(&q->shell, ds, rj->row0 + i + s, a)) ++*right;
    }
    return sum;
}

/* Rows per task from which the batch path is taken.  Measured on W5, one
 * thread, microseconds per row in calls of n rows (panel path / batch
 * path): n = 1: 7.7 / 9.3, 3: 3.7 / 3.8, 4: 3.4 / 3.0, 8: 2.7 / 2.2, 96:
 * 2.2 / 1.3. */
void mlp__qmodel_set_gemm_min(struct mlp_qmodel *q, uint32_t rows) { q->gemm_min = rows; }

void mlp_qmodel_set_context(struct mlp_qmodel *q, struct mlp_context *c)
{
    MLP_ASSERT(q);
    q->shell.ctx = c;
}

static void run_range(const struct run_job *rj, uint32_t t, uint64_t i0, uint64_t i1)
{
    const struct mlp_qmodel *q = rj->q;
    const struct mlp_dataset *ds = rj->ds;
    struct qwork *wk = &rj->wk[t];
    double sum = 0;
    uint64_t right = 0;
    if (rj->batch && i1 - i0 >= rj->bmin) {
        const uint32_t K = mlp__n_out(&q->shell);
        for (uint64_t i = i0; i < i1; i += QB) {
            uint32_t nb = i1 - i < QB ? (uint32_t)(i1 - i) : QB;
            forward_block(q, ds, rj->row0 + i, nb, wk);
            /* the head on groups of NS rows, as below: the loss is summed
             * in the same order on both paths, so it too is the same bits */
            for (uint32_t c = 0; c < nb; c += NS)
                sum += finish_rows(rj, i + c, nb - c < NS ? nb - c : NS, wk->gz + (size_t)c * K, &right);
        }
    } else {
        for (uint64_t i = i0; i < i1; i += NS) {
            uint32_t ns = i1 - i < NS ? (uint32_t)(i1 - i) : NS;
            forward_group(q, ds, rj->row0 + i, ns, wk, NULL, rj->split);
            sum += finish_rows(rj, i, ns, wk->z, &right);
        }
    }
    rj->loss[t] = sum;
    rj->right[t] = right;
}

static void run_task(void *ctx, uint32_t t)
{
    const struct run_job *rj = ctx;
    uint64_t i0 = rj->per_task * t, i1 = i0 + rj->per_task < rj->n ? i0 + rj->per_task : rj->n;
    rj->loss[t] = 0;
    rj->right[t] = 0;
    if (i0 < i1) run_range(rj, t, i0, i1);
}

static enum mlp_status run(const struct mlp_qmodel *q, const struct mlp_dataset *ds, uint64_t row0, uint64_t n,
                           double *out, bool have_y, double *loss, uint64_t *correct, struct mlp_error *err)
{
    const uint32_t threads = (uint32_t)mlp__model_threads(&q->shell);
    const uint32_t tasks = threads > 1 && n >= (uint64_t)NS * threads ? threads : 1;
    struct qwork wk[64];
    double sums[64];
    uint64_t rights[64];
    MLP_ASSERT(tasks <= 64);
    /* per task: whole groups of NS rows; enough of them take the batch path */
    uint64_t per = (n + tasks - 1) / tasks;
    per = (per + NS - 1) / NS * NS;
    const uint32_t bmin = q->gemm_min;
    /* a call on one task whose large layers the panel path would split
     * over the pool stays there */
    const bool batch = q->batch && per >= bmin && (tasks > 1 || threads == 1 || !q->splits);
    uint32_t made = 0;
    for (; made < tasks; made++)
        if (!work_alloc(&wk[made], q, batch)) break;
    enum mlp_status st = MLP_OK;
    if (made < tasks) {
        st = mlp__fail(err, MLP_ERR_NOMEM, "out of memory for inference buffers");
    } else {
        struct run_job rj = {.q = q, .ds = ds, .row0 = row0, .n = n, .per_task = per, .out = out, .have_y = have_y,
                             .split = tasks == 1, .batch = batch, .bmin = bmin, .wk = wk, .loss = sums,
                             .right = rights};
        if (tasks > 1)
            mlp__pool_for(mlp__model_pool(&q->shell), tasks, run_task, &rj);
        else
            run_range(&rj, 0, 0, n);
        double sum = 0;
        uint64_t right = 0;
        for (uint32_t t = 0; t < tasks; t++) {
            sum += sums[t];
            right += rights[t];
        }
        if (loss) *loss = sum;
        if (correct) *correct = right;
    }
    for (uint32_t t = 0; t < made; t++) mlp__afree(wk[t].mem);
    return st;
}

enum mlp_status mlp_qmodel_predict(const struct mlp_qmodel *q, const struct mlp_dataset *ds,
                                   const struct mlp_rows *rows, double *out, struct mlp_error *err)
{
    MLP_ASSERT(q && ds && out);
    if (rows && rows->index)
        return mlp__fail(err, MLP_ERR_ARG, "a quantised model predicts a range of rows (rows->index must be NULL)");
    const uint64_t row0 = rows ? rows->row0 : 0, n = rows ? rows->n : ds->n_rows;
    /* a prediction needs no targets, and checks none (mlp__x_only: the
     * labels' check was 40% of a batch-1 call on W6) */
    const struct mlp_dataset x_only = mlp__x_only(ds);
    enum mlp_status st = mlp__check_data(&q->shell, &x_only, false, err);
    if (st == MLP_OK) st = check_rows(ds, row0, n, err);
    if (st != MLP_OK) return st;
    return run(q, &x_only, row0, n, out, false, NULL, NULL, err);
}

enum mlp_status mlp_qmodel_evaluate(const struct mlp_qmodel *q, const struct mlp_dataset *ds, double *loss,
                                    double *accuracy, struct mlp_error *err)
{
    MLP_ASSERT(q && ds);
    enum mlp_status st = mlp__check_data(&q->shell, ds, true, err);
    if (st == MLP_OK) st = check_rows(ds, 0, ds->n_rows, err);
    if (st != MLP_OK) return st;
    double sum = 0;
    uint64_t right = 0;
    if ((st = run(q, ds, 0, ds->n_rows, NULL, true, &sum, &right, err)) != MLP_OK) return st;
    if (loss) *loss = sum / (double)ds->n_rows;
    if (accuracy) *accuracy = ds->labels ? (double)right / (double)ds->n_rows : -1.0;
    return MLP_OK;
}
