/* SPDX-License-Identifier: MIT */
/* The CUDA engine (libfastmlp_cuda.so): struct mlp_dev_ops of
 * src/device/device.h over the CUDA runtime (linked statically: the
 * plugin needs only libcuda.so.1, which cudart opens at run time) and
 * cuBLAS.  The numbers are those of the CPU pass (src/pass/), element for
 * element up to rounding: kernels.cuh holds the kernels, dev_math.h their
 * arithmetic.
 *
 * One engine = one device, one stream, one cuBLAS handle bound to it; every
 * op first makes the engine's device current (the caller's thread may have
 * used another).  Parameters, gradient, optimiser state (s1, s2) and the
 * accumulator live on the device from open to close; data sets from
 * upload; the activations' workspace is allocated at the first pass and
 * grown when a pass needs more rows, up to `cap` rows a block.
 *
 * A pass of nb rows goes through the network in blocks of at most cap rows
 * (fixed per engine, from the model's widths: memory stays bounded for a
 * full-batch pass over a whole data set).  Per block:
 *   gather       k_gather: the block's rows through the slot's order,
 *                converted to T (uint8 stays uint8 on the device)
 *   forward      per layer l: Z = A W^T (cublas?gemm), then k_bias_act
 *                (hidden) or k_head (last: bias, head, dZ, per-row loss and
 *                correct flag)
 *   accumulate   k_acc: the block's rows into the accumulator
 *   backward     per layer from the top: gW += dZ^T A (gemm, beta 1),
 *                gb += column sums of dZ (k_colsum1/2), dA = dZ W (gemm),
 *                dZ_prev = dA * act'(A) (k_dact)
 * then the L2 term once (k_l2, k_l2_fin).  The gradient is zeroed at the
 * pass's start and summed block after block in order: the same bits for the
 * same inputs.  cuBLAS gives the same bits run after run on one GPU model
 * with one stream (its documented reproducibility); no reduction of ours
 * uses atomics (kernels.cuh).
 *
 * A training step (op_step: the pass, the update, the decay) of a small
 * batch is replayed as one CUDA graph instead of ~20 launches, its
 * changing numbers read from device memory (see "the step" below).
 *
 * Row-major matrices seen by the column-major BLAS: a row-major r x c
 * matrix with row stride c is the column-major c x r matrix (its
 * transpose) with leading dimension c.  So, with A (nb x n_in), W
 * (n_out x n_in), Z and dZ (nb x n_out), all row-major:
 *   Z^T  (n_out x nb)  = op_T(W^T) * A^T        gemm(T, N, n_out, nb, n_in, W, n_in, A, n_in, Z, n_out)
 *   gW^T (n_in x n_out) += A^T * op_T(dZ^T)     gemm(N, T, n_in, n_out, nb, A, n_in, dZ, n_out, gW, n_in)
 *   dA^T (n_in x nb)   = W^T * dZ^T             gemm(N, N, n_in, nb, n_out, W, n_in, dZ, n_out, dA, n_in)
 *
 * Errors: every CUDA and cuBLAS call is checked and a failure returns
 * MLP_ERR_NOMEM (the device's memory) or MLP_ERR_IO, through every caller
 * (TRY), with one line naming the call and the runtime's or cuBLAS's words
 * for it; arguments the engine refuses return 1 (MLP_ERR_ARG).  Nothing
 * prints, nothing exits. */
#ifdef MLP_CUDA_EMU
/* the host's emulation (tests/cuda_emu/): this file compiled as C++, the
 * kernels run on the CPU by test_cuda_emu */
#include "cuda_emu.h"
#else
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#endif

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "fastmlp.h"
#include "device/cuda/kernels.cuh"

/* MLP_LAUNCH(k, grid, block, shmem, stream, args...) is k<<<grid, block,
 * shmem, stream>>>(args...): the triple chevron under nvcc, the emulation's
 * launch in the host build (MLP_CUDA_EMU). */
#ifdef __CUDACC__
#define MLP_LAUNCH(k, grid, block, shmem, stream, ...) k<<<grid, block, shmem, stream>>>(__VA_ARGS__)
#else
#define MLP_LAUNCH(k, grid, block, shmem, stream, ...) MLP_EMU_LAUNCH(k, grid, block, shmem, stream, __VA_ARGS__)
#endif

#define MAX_BLOCK_ROWS 8192u          /* rows of one block of a pass, at most */
#define WS_BUDGET ((size_t)2 << 30)   /* bytes of activations one block may take (smaller blocks beyond) */
#define EW_THREADS 256                /* threads of the elementwise kernels' blocks */
#define HEAD_THREADS 128              /* rows per block of k_head */
#define CS_THREADS 128                /* columns per block of k_colsum */
#define MAX_L2_BLOCKS 256u            /* k_l2's blocks per layer, at most */
#define ALIGN 256                     /* every workspace buffer's alignment (cuBLAS likes 256) */
#define GRAPH_MAX_ROWS 1024u          /* op_step replays steps of at most this many rows as a graph */
#define MAX_GRAPHS 4                  /* op_step's cached graphs (shapes), at most */
#define ARGS_RING 64                  /* op_step's pinned step-argument slots */

namespace {

struct slot {
    bool present;
    uint64_t n_rows;
    int x_type;
    void *x;           /* n_rows x n_in in the stored type */
    int32_t *labels;   /* or NULL */
    double *targets;   /* n_rows x K, or NULL */
    uint64_t *order;   /* n_rows */
};

/* The activations' workspace for `rows` rows, one allocation. */
struct workspace {
    uint32_t rows; /* 0: none yet */
    char *base;
    void **act;    /* L + 1 buffers: the input block, then each layer's output (rows x width) */
    void *d0, *d1; /* the deltas (rows x max_w) */
    double *loss;  /* per row */
    uint32_t *correct;
    double *cpart; /* the bias gradient's chunk sums (chunks x max_w) */
    double *out;   /* predict's doubles (rows x K) */
    __nv_bfloat16 *bf_a, *bf_b; /* MLP_DEV_MATH_BF16's operands */
};

/* One captured step (op_step): what fixes its launches, and the graph. */
struct step_graph {
    bool used;
    int slot;
    uint64_t nb;
    bool adam, momentum, decay, l2;
    uint64_t last_use; /* for eviction: the least recently used goes */
    cudaGraphExec_t exec;
};

} // namespace

struct mlp_dev {
    int index;
    int dtype, head, math;
    uint32_t L;
    struct mlp_dev_layer *layers; /* host copy */
    size_t n_params, esz;
    double slope, input_scale;
    uint32_t n_in, K, max_w; /* input width, outputs, widest boundary */
    size_t max_nw;           /* the largest layer's weights */
    uint32_t cap;            /* rows per block */
    uint32_t l2_blocks;      /* k_l2's and k_scale's blocks per layer (fixed per engine) */
    cudaStream_t stream;
    cublasHandle_t blas;
    bool have_stream, have_blas;
    void *params, *grad, *s1, *s2;
    double *mean, *inv_std; /* NULL, or n_in each */
    dev_acc *acc;
    layer_span *spans;      /* L */
    double *l2_part;        /* L * l2_blocks */
    struct slot slots[MLP_DEV_SLOTS];
    struct workspace ws;
    void *blas_ws;            /* cuBLAS's workspace (cublasSetWorkspace) */
    size_t blas_ws_bytes;
    /* op_step */
    struct step_graph graphs[MAX_GRAPHS];
    uint64_t graph_clock;
    step_args *sargs;         /* device: the step arguments the graphs' kernels read */
    step_args *hargs;         /* pinned host memory: ARGS_RING slots copied from */
    uint32_t args_next;       /* the next slot to fill */
    uint32_t args_unsynced;   /* copies queued since the stream was last known idle */
};

/* ------------------------------------------------------------ errors */

static int fail(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char *msg, const char *fmt, ...)
{
    if (msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, MLP_DEV_MSG, fmt, ap);
        va_end(ap);
    }
    return 1;
}

/* A failed call's status for the library (device.h): the device's memory
 * is MLP_ERR_NOMEM, anything else the device did MLP_ERR_IO; fail()'s own
 * 1 (MLP_ERR_ARG) is for arguments the engine refuses. */
static int cu_fail(char *msg, const char *call, cudaError_t e)
{
    fail(msg, "%s: %s (%s)", call, cudaGetErrorString(e), cudaGetErrorName(e));
    /* The runtime also keeps e as its last error, which the next launch's
     * check (LAUNCHED) would report as that kernel's: reported here, it is
     * cleared (a sticky error stays, and fails every later call anyway). */
    cudaGetLastError();
    return e == cudaErrorMemoryAllocation ? MLP_ERR_NOMEM : MLP_ERR_IO;
}

static int blas_fail(char *msg, const char *call, cublasStatus_t s)
{
    fail(msg, "%s: %s (%s)", call, cublasGetStatusString(s), cublasGetStatusName(s));
    return s == CUBLAS_STATUS_ALLOC_FAILED ? MLP_ERR_NOMEM : MLP_ERR_IO;
}

/* CU(fn, (args)): call a runtime function, return 1 with its name on failure. */
#define CU(fn, args)                                                                                                 \
    do {                                                                                                              \
        cudaError_t cu_e_ = fn args;                                                                                  \
        if (cu_e_ != cudaSuccess) return cu_fail(msg, #fn, cu_e_);                                                    \
    } while (0)
#define BLAS(fn, args)                                                                                               \
    do {                                                                                                              \
        cublasStatus_t bl_s_ = fn args;                                                                               \
        if (bl_s_ != CUBLAS_STATUS_SUCCESS) return blas_fail(msg, #fn, bl_s_);                                        \
    } while (0)
/* After a launch: a bad configuration shows at once, a fault in the kernel
 * at the next synchronising call (which then fails with its words). */
#define LAUNCHED(name)                                                                                               \
    do {                                                                                                              \
        cudaError_t cu_e_ = cudaGetLastError();                                                                       \
        if (cu_e_ != cudaSuccess) return cu_fail(msg, "kernel " name, cu_e_);                                         \
    } while (0)
/* Every op first makes the engine's device current. */
#define ON_DEVICE(d) CU(cudaSetDevice, ((d)->index))
/* TRY(call): return the call's own status when it fails (MLP_ERR_NOMEM
 * from a helper stays MLP_ERR_NOMEM). */
#define TRY(x)                                                                                                        \
    do {                                                                                                              \
        const int try_rc_ = (x);                                                                                      \
        if (try_rc_) return try_rc_;                                                                                  \
    } while (0)

static bool mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

static bool add_ok(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return false;
    *out = a + b;
    return true;
}

static unsigned ew_grid(size_t n)
{
    size_t b = (n + EW_THREADS - 1) / EW_THREADS;
    return (unsigned)(b == 0 ? 1 : b > (1u << 20) ? (1u << 20) : b);
}

static size_t elem_size(int x_type) { return x_type == MLP_ELEM_U8 ? 1 : x_type == MLP_ELEM_F32 ? 4 : 8; }

/* ------------------------------------------------------------ devices */

static int op_count(char *msg)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorInsufficientDriver)
        /* what the runtime says also when there is no driver at all */
        fail(msg, "cudaGetDeviceCount: no NVIDIA driver (libcuda.so.1) found, or one older than CUDA %d.%d needs "
                  "(cudaErrorInsufficientDriver)",
             CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
    else if (e != cudaSuccess)
        cu_fail(msg, "cudaGetDeviceCount", e);
    if (e != cudaSuccess) return -1;
    return n;
}

static int check_index(int index, char *msg)
{
    int n = op_count(msg);
    if (n < 0) return 1;
    if (index < 0 || index >= n)
        return fail(msg, "CUDA device %d does not exist (%d device%s)", index, n, n == 1 ? "" : "s");
    return 0;
}

static int op_describe(int index, char *out, size_t cap, char *msg)
{
    if (!out || cap == 0) return fail(msg, "describe: no output buffer");
    TRY(check_index(index, msg));
    cudaDeviceProp p;
    CU(cudaGetDeviceProperties, (&p, index));
    int drv = 0, rt = 0;
    CU(cudaDriverGetVersion, (&drv));
    CU(cudaRuntimeGetVersion, (&rt));
    snprintf(out, cap, "%s, sm_%d%d, %d SMs, %zu GiB, driver %d.%d, runtime %d.%d", p.name, p.major, p.minor,
             p.multiProcessorCount, (size_t)(p.totalGlobalMem >> 30), drv / 1000, drv % 1000 / 10, rt / 1000,
             rt % 1000 / 10);
    return 0;
}

/* ------------------------------------------------------------ open, close */

static void free_slot(struct slot *s)
{
    cudaFree(s->x);
    cudaFree(s->labels);
    cudaFree(s->targets);
    cudaFree(s->order);
    memset(s, 0, sizeof *s);
}

static void free_ws(struct mlp_dev *d)
{
    cudaFree(d->ws.base);
    void **act = d->ws.act;
    memset(&d->ws, 0, sizeof d->ws);
    d->ws.act = act;
}

/* Forgets op_step's graphs: their launches hold the workspace's and the
 * slots' pointers as they were at capture, so whatever moves those (a
 * grown workspace, an upload) drops them, and the next step captures
 * anew.  An executable graph still running is freed when it completes
 * (as the driver's cuGraphExecDestroy documents); the callers here have
 * synchronised anyway. */
static void drop_graphs(struct mlp_dev *d)
{
    for (int i = 0; i < MAX_GRAPHS; i++)
        if (d->graphs[i].used) cudaGraphExecDestroy(d->graphs[i].exec);
    memset(d->graphs, 0, sizeof d->graphs);
}

static void op_close(struct mlp_dev *d)
{
    if (!d) return;
    /* Best effort from here on: a failing call cannot be reported. */
    if (cudaSetDevice(d->index) == cudaSuccess && d->have_stream) cudaStreamSynchronize(d->stream);
    drop_graphs(d);
    if (d->have_blas) cublasDestroy(d->blas);
    cudaFree(d->blas_ws);
    cudaFree(d->sargs);
    cudaFreeHost(d->hargs);
    for (int s = 0; s < MLP_DEV_SLOTS; s++) free_slot(&d->slots[s]);
    free_ws(d);
    cudaFree(d->params);
    cudaFree(d->grad);
    cudaFree(d->s1);
    cudaFree(d->s2);
    cudaFree(d->mean);
    cudaFree(d->inv_std);
    cudaFree(d->acc);
    cudaFree(d->spans);
    cudaFree(d->l2_part);
    if (d->have_stream) cudaStreamDestroy(d->stream);
    free(d->ws.act);
    free(d->layers);
    free(d);
}

/* The model's checks: what the kernels' indexing relies on. */
static int check_model(const struct mlp_dev_model *m, char *msg)
{
    if (!m) return fail(msg, "open: no model");
    if (m->dtype != MLP_F32 && m->dtype != MLP_F64) return fail(msg, "open: unknown dtype %d", m->dtype);
    if (m->head < 0 || m->head >= MLP_HEAD_COUNT) return fail(msg, "open: unknown head %d", m->head);
    if (m->math != MLP_DEV_MATH_EXACT && m->math != MLP_DEV_MATH_TF32 && m->math != MLP_DEV_MATH_BF16)
        return fail(msg, "open: unknown device math %d", m->math);
    if (m->math != MLP_DEV_MATH_EXACT && m->dtype != MLP_F32)
        return fail(msg, "open: device math %s is for f32 models (this one is f64)",
                    m->math == MLP_DEV_MATH_TF32 ? "tf32" : "bf16");
    if (m->n_layers == 0 || m->n_layers > MLP_MAX_LAYERS || !m->layers)
        return fail(msg, "open: %u layers (1..%u)", m->n_layers, MLP_MAX_LAYERS);
    if (!(isfinite(m->leaky_slope) && isfinite(m->input_scale)))
        return fail(msg, "open: leaky slope %g and input scale %g must be finite", m->leaky_slope, m->input_scale);
    if (!m->pre_mean != !m->pre_inv_std) return fail(msg, "open: standardisation needs both mean and inverse std");
    for (uint32_t l = 0; l < m->n_layers; l++) {
        const struct mlp_dev_layer *ly = &m->layers[l];
        if (ly->n_in == 0 || ly->n_out == 0 || ly->n_in > MLP_MAX_WIDTH || ly->n_out > MLP_MAX_WIDTH)
            return fail(msg, "open: layer %u is %u x %u (widths 1..%u)", l + 1, ly->n_out, ly->n_in, MLP_MAX_WIDTH);
        if (l > 0 && ly->n_in != m->layers[l - 1].n_out)
            return fail(msg, "open: layer %u takes %u inputs, layer %u gives %u", l + 1, ly->n_in, l,
                        m->layers[l - 1].n_out);
        if (l + 1 < m->n_layers && (ly->act < 0 || ly->act >= MLP_ACT_COUNT))
            return fail(msg, "open: layer %u: unknown activation %d", l + 1, ly->act);
        size_t nw, wend, bend;
        if (!mul_ok(ly->n_in, ly->n_out, &nw) || !add_ok(ly->w_off, nw, &wend) || !add_ok(ly->b_off, ly->n_out, &bend) ||
            wend > m->n_params || bend > m->n_params)
            return fail(msg, "open: layer %u's weights or biases lie outside the %zu parameters", l + 1, m->n_params);
    }
    size_t bytes;
    if (!mul_ok(m->n_params, m->dtype == MLP_F32 ? 4 : 8, &bytes) || m->n_params == 0)
        return fail(msg, "open: %zu parameters", m->n_params);
    return 0;
}

/* Rows per block: what WS_BUDGET holds, at most MAX_BLOCK_ROWS, at least 1.
 * A function of the model alone, so a pass's blocks (and so its sums'
 * order) are the same every time. */
static uint32_t block_rows(const struct mlp_dev *d)
{
    size_t per_row = d->esz * d->n_in + 2 * d->esz * d->max_w + 8 + 4 + 8 * (size_t)d->K;
    for (uint32_t l = 0; l < d->L; l++) per_row += d->esz * d->layers[l].n_out;
    if (d->math == MLP_DEV_MATH_BF16) per_row += 2 * 2 * (size_t)d->max_w;
    size_t r = WS_BUDGET / per_row;
    return r == 0 ? 1 : r > MAX_BLOCK_ROWS ? MAX_BLOCK_ROWS : (uint32_t)r;
}

static int op_open(struct mlp_dev **out, int index, const struct mlp_dev_model *m, char *msg)
{
    if (!out) return fail(msg, "open: no output pointer");
    *out = NULL;
    TRY(check_model(m, msg));
    TRY(check_index(index, msg));
    struct mlp_dev *d = (struct mlp_dev *)calloc(1, sizeof *d);
    if (!d) {
        fail(msg, "open: out of host memory");
        return MLP_ERR_NOMEM;
    }
    d->index = index;
    d->dtype = m->dtype;
    d->head = m->head;
    d->math = m->math;
    d->L = m->n_layers;
    d->n_params = m->n_params;
    d->esz = m->dtype == MLP_F32 ? 4 : 8;
    d->slope = m->leaky_slope;
    d->input_scale = m->input_scale;
    d->layers = (struct mlp_dev_layer *)malloc(d->L * sizeof *d->layers);
    d->ws.act = (void **)calloc(d->L + 1, sizeof *d->ws.act);
    layer_span *spans = (layer_span *)malloc(d->L * sizeof *spans);
    if (!d->layers || !d->ws.act || !spans) {
        free(spans);
        op_close(d);
        fail(msg, "open: out of host memory");
        return MLP_ERR_NOMEM;
    }
    memcpy(d->layers, m->layers, d->L * sizeof *d->layers);
    d->n_in = d->layers[0].n_in;
    d->K = d->layers[d->L - 1].n_out;
    d->max_w = d->n_in;
    for (uint32_t l = 0; l < d->L; l++) {
        const struct mlp_dev_layer *ly = &d->layers[l];
        if (ly->n_out > d->max_w) d->max_w = ly->n_out;
        spans[l].off = ly->w_off;
        spans[l].n = (size_t)ly->n_in * ly->n_out;
        if (spans[l].n > d->max_nw) d->max_nw = spans[l].n;
    }
    d->cap = block_rows(d);
    size_t b = (d->max_nw + RED_THREADS - 1) / RED_THREADS;
    d->l2_blocks = (uint32_t)(b > MAX_L2_BLOCKS ? MAX_L2_BLOCKS : b);

    int rc = 0;
    /* one pass through the steps; the first failure closes what was made */
    do {
        const size_t pbytes = d->n_params * d->esz;
        cudaError_t e;
        cublasStatus_t s;
#define STEP(fn, args)                                                                                               \
    if ((e = fn args) != cudaSuccess) {                                                                               \
        rc = cu_fail(msg, #fn, e);                                                                                    \
        break;                                                                                                        \
    }
        STEP(cudaSetDevice, (index));
        STEP(cudaStreamCreateWithFlags, (&d->stream, cudaStreamNonBlocking));
        d->have_stream = true;
        if ((s = cublasCreate(&d->blas)) != CUBLAS_STATUS_SUCCESS) {
            rc = blas_fail(msg, "cublasCreate", s);
            break;
        }
        d->have_blas = true;
        if ((s = cublasSetStream(d->blas, d->stream)) != CUBLAS_STATUS_SUCCESS) {
            rc = blas_fail(msg, "cublasSetStream", s);
            break;
        }
        /* TF32 only when asked; the default math of cuBLAS keeps f32 GEMMs
         * in f32 (bf16's products go through cublasGemmEx, whatever the mode). */
        if ((s = cublasSetMathMode(d->blas, d->math == MLP_DEV_MATH_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                         : CUBLAS_DEFAULT_MATH)) !=
            CUBLAS_STATUS_SUCCESS) {
            rc = blas_fail(msg, "cublasSetMathMode", s);
            break;
        }
        /* cuBLAS's workspace, ours: op_step captures GEMMs into CUDA
         * graphs, for which cuBLAS's documentation recommends a workspace
         * set by the user (cublasSetWorkspace), allocated before any
         * capture, rather than one cuBLAS allocates itself (which under
         * capture some releases did anew for every graph).  The size it
         * recommends: 32 MiB from Hopper on, 4 MiB before (its default
         * pool's, so its heuristics choose as they would without).  Set here, once, for every GEMM the engine runs,
         * so that a step replayed as a graph and the same step made of
         * plain calls run their products with the same handle state (the
         * same bits).  After cublasSetStream, which resets the workspace to
         * the default pool. */
        int major = 0;
        STEP(cudaDeviceGetAttribute, (&major, cudaDevAttrComputeCapabilityMajor, index));
        d->blas_ws_bytes = (size_t)(major >= 9 ? 32 : 4) << 20;
        STEP(cudaMalloc, (&d->blas_ws, d->blas_ws_bytes));
        if ((s = cublasSetWorkspace(d->blas, d->blas_ws, d->blas_ws_bytes)) != CUBLAS_STATUS_SUCCESS) {
            rc = blas_fail(msg, "cublasSetWorkspace", s);
            break;
        }
        STEP(cudaMalloc, (&d->sargs, sizeof *d->sargs));
        STEP(cudaMallocHost, ((void **)&d->hargs, ARGS_RING * sizeof *d->hargs));
        STEP(cudaMalloc, (&d->params, pbytes));
        STEP(cudaMalloc, (&d->grad, pbytes));
        STEP(cudaMalloc, (&d->s1, pbytes));
        STEP(cudaMalloc, (&d->s2, pbytes));
        STEP(cudaMemsetAsync, (d->params, 0, pbytes, d->stream));
        STEP(cudaMemsetAsync, (d->grad, 0, pbytes, d->stream));
        STEP(cudaMemsetAsync, (d->s1, 0, pbytes, d->stream));
        STEP(cudaMemsetAsync, (d->s2, 0, pbytes, d->stream));
        STEP(cudaMalloc, (&d->acc, sizeof *d->acc));
        STEP(cudaMemsetAsync, (d->acc, 0, sizeof *d->acc, d->stream));
        STEP(cudaMalloc, (&d->spans, d->L * sizeof *spans));
        STEP(cudaMemcpyAsync, (d->spans, spans, d->L * sizeof *spans, cudaMemcpyHostToDevice, d->stream));
        STEP(cudaMalloc, (&d->l2_part, (size_t)d->L * d->l2_blocks * sizeof(double)));
        if (m->pre_mean) {
            STEP(cudaMalloc, (&d->mean, d->n_in * sizeof(double)));
            STEP(cudaMalloc, (&d->inv_std, d->n_in * sizeof(double)));
            STEP(cudaMemcpyAsync, (d->mean, m->pre_mean, d->n_in * sizeof(double), cudaMemcpyHostToDevice, d->stream));
            STEP(cudaMemcpyAsync,
                 (d->inv_std, m->pre_inv_std, d->n_in * sizeof(double), cudaMemcpyHostToDevice, d->stream));
        }
        /* the host copies (spans, the caller's mean) may go once this returns */
        STEP(cudaStreamSynchronize, (d->stream));
#undef STEP
    } while (0);
    free(spans);
    if (rc) {
        op_close(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ------------------------------------------------------------ vectors in and out */

static int copy_in(struct mlp_dev *d, void *dst, const void *src, size_t bytes, char *msg)
{
    CU(cudaMemcpyAsync, (dst, src, bytes, cudaMemcpyHostToDevice, d->stream));
    CU(cudaStreamSynchronize, (d->stream));
    d->args_unsynced = 0; /* op_step's queued copies are done too */
    return 0;
}

static int copy_out(struct mlp_dev *d, void *dst, const void *src, size_t bytes, char *msg)
{
    CU(cudaMemcpyAsync, (dst, src, bytes, cudaMemcpyDeviceToHost, d->stream));
    CU(cudaStreamSynchronize, (d->stream));
    d->args_unsynced = 0;
    return 0;
}

static int op_set_params(struct mlp_dev *d, const void *host, char *msg)
{
    if (!d || !host) return fail(msg, "set_params: no engine or no parameters");
    ON_DEVICE(d);
    return copy_in(d, d->params, host, d->n_params * d->esz, msg);
}

static int op_get_params(struct mlp_dev *d, void *host, char *msg)
{
    if (!d || !host) return fail(msg, "get_params: no engine or no buffer");
    ON_DEVICE(d);
    return copy_out(d, host, d->params, d->n_params * d->esz, msg);
}

static int op_get_grad(struct mlp_dev *d, void *host, char *msg)
{
    if (!d || !host) return fail(msg, "get_grad: no engine or no buffer");
    ON_DEVICE(d);
    return copy_out(d, host, d->grad, d->n_params * d->esz, msg);
}

static int op_set_state(struct mlp_dev *d, const void *s1, const void *s2, char *msg)
{
    if (!d) return fail(msg, "set_state: no engine");
    ON_DEVICE(d);
    if (s1) TRY(copy_in(d, d->s1, s1, d->n_params * d->esz, msg));
    if (s2) TRY(copy_in(d, d->s2, s2, d->n_params * d->esz, msg));
    return 0;
}

static int op_get_state(struct mlp_dev *d, void *s1, void *s2, char *msg)
{
    if (!d) return fail(msg, "get_state: no engine");
    ON_DEVICE(d);
    if (s1) TRY(copy_out(d, s1, d->s1, d->n_params * d->esz, msg));
    if (s2) TRY(copy_out(d, s2, d->s2, d->n_params * d->esz, msg));
    return 0;
}

/* ------------------------------------------------------------ data */

static int fill_iota(struct mlp_dev *d, uint64_t *order, uint64_t n, char *msg)
{
    if (n == 0) return 0;
    MLP_LAUNCH(k_iota, ew_grid(n), EW_THREADS, 0, d->stream, order, n);
    LAUNCHED("k_iota");
    return 0;
}

static int op_upload(struct mlp_dev *d, int slot, const struct mlp_dev_data *ds, char *msg)
{
    if (!d || !ds) return fail(msg, "upload: no engine or no data");
    if (slot < 0 || slot >= MLP_DEV_SLOTS) return fail(msg, "upload: slot %d (0..%d)", slot, MLP_DEV_SLOTS - 1);
    if (ds->n_cols != d->n_in) return fail(msg, "upload: the data has %u columns, the model %u inputs", ds->n_cols, d->n_in);
    if (ds->x_type != MLP_ELEM_U8 && ds->x_type != MLP_ELEM_F32 && ds->x_type != MLP_ELEM_F64)
        return fail(msg, "upload: unknown element type %d", ds->x_type);
    const uint64_t n = ds->n_rows;
    size_t xb, tb, ob, cells;
    if (n > SIZE_MAX || !mul_ok((size_t)n, ds->n_cols, &cells) || !mul_ok(cells, elem_size(ds->x_type), &xb) ||
        !mul_ok((size_t)n, (size_t)d->K * sizeof(double), &tb) || !mul_ok((size_t)n, sizeof(uint64_t), &ob))
        return fail(msg, "upload: %llu rows of %u columns are too many", (unsigned long long)n, ds->n_cols);
    if (n > 0 && !ds->x) return fail(msg, "upload: no inputs");
    if (d->head == MLP_HEAD_SOFTMAX_CE && ds->targets && !ds->labels)
        return fail(msg, "upload: softmax-ce takes class labels, not real targets");
    if (ds->labels) {
        /* the softmax head indexes its row by the label: a bad one must not reach the kernel */
        const int32_t hi = d->K == 1 && d->head != MLP_HEAD_SOFTMAX_CE ? 2 : (int32_t)d->K;
        for (uint64_t i = 0; i < n; i++)
            if (ds->labels[i] < 0 || ds->labels[i] >= hi)
                return fail(msg, "upload: row %llu's label %d is outside 0..%d", (unsigned long long)i, ds->labels[i],
                            hi - 1);
    }
    ON_DEVICE(d);
    struct slot *s = &d->slots[slot];
    /* the old data may still be read by queued work */
    CU(cudaStreamSynchronize, (d->stream));
    d->args_unsynced = 0;
    drop_graphs(d); /* they read the old data's pointers */
    free_slot(s);
    if (n > 0) {
        CU(cudaMalloc, (&s->x, xb));
        TRY(copy_in(d, s->x, ds->x, xb, msg));
        if (ds->labels) {
            CU(cudaMalloc, (&s->labels, (size_t)n * sizeof(int32_t)));
            TRY(copy_in(d, s->labels, ds->labels, (size_t)n * sizeof(int32_t), msg));
        } else if (ds->targets) {
            CU(cudaMalloc, (&s->targets, tb));
            TRY(copy_in(d, s->targets, ds->targets, tb, msg));
        }
        CU(cudaMalloc, (&s->order, ob));
        TRY(fill_iota(d, s->order, n, msg));
    }
    s->n_rows = n;
    s->x_type = ds->x_type;
    s->present = true;
    return 0;
}

static int op_set_order(struct mlp_dev *d, int slot, const uint64_t *order, char *msg)
{
    if (!d) return fail(msg, "set_order: no engine");
    if (slot < 0 || slot >= MLP_DEV_SLOTS || !d->slots[slot].present)
        return fail(msg, "set_order: slot %d holds no data", slot);
    struct slot *s = &d->slots[slot];
    if (s->n_rows == 0) return 0;
    ON_DEVICE(d);
    if (!order) return fill_iota(d, s->order, s->n_rows, msg);
    for (uint64_t i = 0; i < s->n_rows; i++)
        if (order[i] >= s->n_rows)
            return fail(msg, "set_order: order[%llu] = %llu is not a row (%llu rows)", (unsigned long long)i,
                        (unsigned long long)order[i], (unsigned long long)s->n_rows);
    return copy_in(d, s->order, order, (size_t)s->n_rows * sizeof(uint64_t), msg);
}

/* ------------------------------------------------------------ workspace */

/* Lays out the workspace for `rows` rows: fills ws's pointers from base
 * (0: sizes only, the pointers then meaningless) and the total size; false
 * on overflow. */
static bool ws_layout(const struct mlp_dev *d, uint32_t rows, uintptr_t base, struct workspace *ws, size_t *total)
{
    size_t off = 0;
    bool ok = true;
    /* next buffer of `bytes`, aligned */
    auto take = [&](size_t n, size_t esz) -> void * {
        size_t bytes, end;
        if (!mul_ok(n, esz, &bytes) || !add_ok(off, bytes, &end) || !add_ok(end, ALIGN - 1, &end)) {
            ok = false;
            return NULL;
        }
        void *p = (void *)(base + off);
        off = end / ALIGN * ALIGN;
        return p;
    };
    ws->act[0] = take((size_t)rows * d->n_in, d->esz);
    for (uint32_t l = 0; l < d->L; l++) ws->act[l + 1] = take((size_t)rows * d->layers[l].n_out, d->esz);
    ws->d0 = take((size_t)rows * d->max_w, d->esz);
    ws->d1 = take((size_t)rows * d->max_w, d->esz);
    ws->loss = (double *)take(rows, sizeof(double));
    ws->correct = (uint32_t *)take(rows, sizeof(uint32_t));
    ws->cpart = (double *)take((size_t)((rows + CS_ROWS - 1) / CS_ROWS) * d->max_w, sizeof(double));
    ws->out = (double *)take((size_t)rows * d->K, sizeof(double));
    ws->bf_a = ws->bf_b = NULL;
    if (d->math == MLP_DEV_MATH_BF16) {
        size_t na = (size_t)rows * d->max_w;
        ws->bf_a = (__nv_bfloat16 *)take(na > d->max_nw ? na : d->max_nw, sizeof(__nv_bfloat16));
        ws->bf_b = (__nv_bfloat16 *)take(na, sizeof(__nv_bfloat16));
    }
    *total = off;
    return ok;
}

/* The workspace for blocks of `rows` rows (<= cap), grown when smaller. */
static int ensure_ws(struct mlp_dev *d, uint32_t rows, char *msg)
{
    if (d->ws.rows >= rows) return 0;
    size_t total;
    /* sized on a copy: the live workspace's pointers stay as they are if
     * this fails (the engine goes on with smaller passes) */
    struct workspace sizing = d->ws;
    sizing.act = (void **)calloc(d->L + 1, sizeof *sizing.act);
    if (!sizing.act) {
        fail(msg, "out of host memory sizing a workspace");
        return MLP_ERR_NOMEM;
    }
    bool fits = ws_layout(d, rows, 0, &sizing, &total);
    free(sizing.act);
    if (!fits) {
        fail(msg, "workspace for %u rows: size overflows", rows);
        return MLP_ERR_NOMEM;
    }
    /* queued work may still use the old one */
    CU(cudaStreamSynchronize, (d->stream));
    d->args_unsynced = 0;
    drop_graphs(d); /* they hold the old workspace's pointers */
    free_ws(d);
    void *base = NULL;
    cudaError_t e = cudaMalloc(&base, total);
    if (e != cudaSuccess) {
        cudaGetLastError(); /* not sticky: the engine stays usable with smaller passes */
        fail(msg, "cudaMalloc: %s (%s), for a %zu-byte workspace of %u rows", cudaGetErrorString(e),
             cudaGetErrorName(e), total, rows);
        return MLP_ERR_NOMEM;
    }
    d->ws.base = (char *)base;
    ws_layout(d, rows, (uintptr_t)d->ws.base, &d->ws, &total);
    d->ws.rows = rows;
    return 0;
}

/* ------------------------------------------------------------ GEMM */

/* C = op(A) op(B) + beta C, column-major, alpha 1 (see the top comment). */
static int gemm(struct mlp_dev *d, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc, char *msg)
{
    const float one = 1;
    if (d->math == MLP_DEV_MATH_BF16) {
        /* both operands rounded to bf16 into the workspace, the product
         * accumulated in f32 (cublasGemmEx, compute type 32F) */
        const size_t na = (size_t)lda * (size_t)(ta == CUBLAS_OP_N ? k : m);
        const size_t nb = (size_t)ldb * (size_t)(tb == CUBLAS_OP_N ? n : k);
        MLP_LAUNCH(k_to_bf16, ew_grid(na), EW_THREADS, 0, d->stream, d->ws.bf_a, A, na);
        LAUNCHED("k_to_bf16");
        MLP_LAUNCH(k_to_bf16, ew_grid(nb), EW_THREADS, 0, d->stream, d->ws.bf_b, B, nb);
        LAUNCHED("k_to_bf16");
        BLAS(cublasGemmEx, (d->blas, ta, tb, m, n, k, &one, d->ws.bf_a, CUDA_R_16BF, lda, d->ws.bf_b, CUDA_R_16BF, ldb,
                            &beta, C, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        return 0;
    }
    BLAS(cublasSgemm, (d->blas, ta, tb, m, n, k, &one, A, lda, B, ldb, &beta, C, ldc));
    return 0;
}

static int gemm(struct mlp_dev *d, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const double *A,
                int lda, const double *B, int ldb, double beta, double *C, int ldc, char *msg)
{
    const double one = 1;
    BLAS(cublasDgemm, (d->blas, ta, tb, m, n, k, &one, A, lda, B, ldb, &beta, C, ldc));
    return 0;
}

/* ------------------------------------------------------------ the pass */

/* Rows base .. base+nb of slot s through the network: act[L] ends holding
 * the output activations; with_y: D (or NULL) dLoss/dZ of the last layer,
 * ws.loss and ws.correct the rows' losses and correct flags. */
template <typename T>
static int forward(struct mlp_dev *d, const struct slot *s, uint64_t base, uint32_t nb, bool with_y, T *D, double inv_n,
                   const step_args *sa, char *msg)
{
    const T *P = (const T *)d->params;
    const T slope = (T)d->slope;
    size_t n = (size_t)nb * d->n_in;
    MLP_LAUNCH(k_gather<T>, ew_grid(n), EW_THREADS, 0, d->stream, (T *)d->ws.act[0], s->x, s->x_type, d->n_in, s->order,
               base, n, d->input_scale, d->mean, d->inv_std, sa);
    LAUNCHED("k_gather");
    for (uint32_t l = 0; l < d->L; l++) {
        const struct mlp_dev_layer *ly = &d->layers[l];
        T *Z = (T *)d->ws.act[l + 1];
        /* Z^T (n_out x nb) = W A^T */
        TRY(gemm(d, CUBLAS_OP_T, CUBLAS_OP_N, (int)ly->n_out, (int)nb, (int)ly->n_in, P + ly->w_off, (int)ly->n_in,
                 (const T *)d->ws.act[l], (int)ly->n_in, (T)0, Z, (int)ly->n_out, msg));
        if (l + 1 < d->L) {
            n = (size_t)nb * ly->n_out;
            MLP_LAUNCH(k_bias_act<T>, ew_grid(n), EW_THREADS, 0, d->stream, Z, P + ly->b_off, ly->n_out, n, ly->act,
                       slope);
            LAUNCHED("k_bias_act");
        } else {
            MLP_LAUNCH(k_head<T>, (nb + HEAD_THREADS - 1) / HEAD_THREADS, HEAD_THREADS, 0, d->stream, Z, D,
                       P + ly->b_off, d->K, nb, d->head, slope, with_y ? s->labels : NULL, with_y ? s->targets : NULL,
                       s->order, base, inv_n, with_y ? d->ws.loss : NULL, with_y ? d->ws.correct : NULL, sa);
            LAUNCHED("k_head");
        }
    }
    return 0;
}

/* gW += dZ^T A, gb += 1^T dZ, and below the first layer dZ_prev = dZ W * act'(A),
 * layer by layer from the top; the head left dZ in ws.d0. */
template <typename T> static int backward(struct mlp_dev *d, uint32_t nb, char *msg)
{
    const T *P = (const T *)d->params;
    T *G = (T *)d->grad;
    const T slope = (T)d->slope;
    T *dz = (T *)d->ws.d0, *da = (T *)d->ws.d1;
    const uint32_t chunks = (nb + CS_ROWS - 1) / CS_ROWS;
    for (uint32_t l = d->L; l-- > 0;) {
        const struct mlp_dev_layer *ly = &d->layers[l];
        /* gW^T (n_in x n_out) += A^T dZ  (A: this layer's input) */
        TRY(gemm(d, CUBLAS_OP_N, CUBLAS_OP_T, (int)ly->n_in, (int)ly->n_out, (int)nb, (const T *)d->ws.act[l],
                 (int)ly->n_in, dz, (int)ly->n_out, (T)1, G + ly->w_off, (int)ly->n_in, msg));
        const dim3 g1((ly->n_out + CS_THREADS - 1) / CS_THREADS, chunks);
        MLP_LAUNCH(k_colsum1<T>, g1, CS_THREADS, 0, d->stream, dz, nb, ly->n_out, d->ws.cpart);
        LAUNCHED("k_colsum1");
        MLP_LAUNCH(k_colsum2<T>, g1.x, CS_THREADS, 0, d->stream, G + ly->b_off, d->ws.cpart, chunks, ly->n_out);
        LAUNCHED("k_colsum2");
        if (l == 0) break;
        /* dA^T (n_in x nb) = W^T dZ^T, then times the lower layer's act' */
        TRY(gemm(d, CUBLAS_OP_N, CUBLAS_OP_N, (int)ly->n_in, (int)nb, (int)ly->n_out, P + ly->w_off, (int)ly->n_in,
                 dz, (int)ly->n_out, (T)0, da, (int)ly->n_in, msg));
        const size_t n = (size_t)nb * ly->n_in;
        MLP_LAUNCH(k_dact<T>, ew_grid(n), EW_THREADS, 0, d->stream, da, (const T *)d->ws.act[l], n,
                   d->layers[l - 1].act, slope);
        LAUNCHED("k_dact");
        T *t = dz;
        dz = da;
        da = t;
    }
    return 0;
}

/* The L2 term: pen_sum += nb c/2 sum w^2 and, with grad, gW += (T)(c w). */
template <typename T>
static int l2_term(struct mlp_dev *d, double c, uint64_t nb, bool grad, const step_args *sa, char *msg)
{
    const dim3 g(d->l2_blocks, d->L);
    MLP_LAUNCH(k_l2<T>, g, RED_THREADS, 0, d->stream, (const T *)d->params, grad ? (T *)d->grad : (T *)NULL, d->spans,
               c, d->l2_part, sa);
    LAUNCHED("k_l2");
    MLP_LAUNCH(k_l2_fin, 1, RED_THREADS, 0, d->stream, d->acc, d->l2_part, (size_t)d->L * d->l2_blocks, c, (double)nb,
               sa);
    LAUNCHED("k_l2_fin");
    return 0;
}

/* The pass's checks (op_pass's and op_step's). */
static int check_pass(struct mlp_dev *d, const struct mlp_dev_pass *p, const char *op, char *msg)
{
    if (p->slot < 0 || p->slot >= MLP_DEV_SLOTS || !d->slots[p->slot].present)
        return fail(msg, "%s: slot %d holds no data", op, p->slot);
    const uint64_t n = d->slots[p->slot].n_rows;
    if (p->b0 > n || p->nb > n - p->b0)
        return fail(msg, "%s: rows %llu..%llu of %llu", op, (unsigned long long)p->b0,
                    (unsigned long long)(p->b0 + p->nb), (unsigned long long)n);
    if (!isfinite(p->l2) || !isfinite(p->l2_m)) return fail(msg, "%s: L2 %g / %g is not finite", op, p->l2, p->l2_m);
    return 0;
}

/* The numbers of a pass that op_step's args carry (the same expressions
 * for both paths: the same bits). */
static double pass_inv_n(const struct mlp_dev_pass *p)
{
    return p->nb ? 1.0 / (double)(p->mean_n ? p->mean_n : p->nb) : 0;
}

/* Whether the pass has an L2 term, and its coefficient *c. */
static bool pass_l2(const struct mlp_dev_pass *p, double *c)
{
    *c = 0;
    if (p->l2 == 0) return false;
    const double m = p->l2_m > 0 ? p->l2_m : (double)p->nb;
    if (!(m > 0)) return false;
    *c = p->l2 / m;
    return true;
}

/* The pass; sa: its changing numbers (b0, inv_n, c) are read from the
 * device's step arguments instead (op_step's graph: p's b0 is then 0 and
 * the rest only shapes the launches). */
template <typename T> static int pass_t(struct mlp_dev *d, const struct mlp_dev_pass *p, const step_args *sa, char *msg)
{
    const struct slot *s = &d->slots[p->slot];
    const double inv_n = pass_inv_n(p);
    if (p->grad) CU(cudaMemsetAsync, (d->grad, 0, d->n_params * d->esz, d->stream));
    if (p->nb) TRY(ensure_ws(d, p->nb < d->cap ? (uint32_t)p->nb : d->cap, msg));
    for (uint64_t r = 0; r < p->nb;) {
        const uint32_t nb = p->nb - r < d->cap ? (uint32_t)(p->nb - r) : d->cap;
        TRY(forward<T>(d, s, p->b0 + r, nb, true, p->grad ? (T *)d->ws.d0 : (T *)NULL, inv_n, sa, msg));
        MLP_LAUNCH(k_acc, 1, RED_THREADS, 0, d->stream, d->acc, d->ws.loss, d->ws.correct, nb);
        LAUNCHED("k_acc"); /* without targets the head's losses and flags are 0 */
        if (p->grad) TRY(backward<T>(d, nb, msg));
        r += nb;
    }
    double c;
    if (pass_l2(p, &c)) TRY(l2_term<T>(d, c, p->nb, p->grad != 0, sa, msg));
    return 0;
}

static int op_pass(struct mlp_dev *d, const struct mlp_dev_pass *p, char *msg)
{
    if (!d || !p) return fail(msg, "pass: no engine or no pass");
    TRY(check_pass(d, p, "pass", msg));
    ON_DEVICE(d);
    return d->dtype == MLP_F32 ? pass_t<float>(d, p, nullptr, msg) : pass_t<double>(d, p, nullptr, msg);
}

static int op_read_acc(struct mlp_dev *d, struct mlp_dev_acc *acc, char *msg)
{
    if (!d || !acc) return fail(msg, "read_acc: no engine or no accumulator");
    ON_DEVICE(d);
    dev_acc a;
    CU(cudaMemcpyAsync, (&a, d->acc, sizeof a, cudaMemcpyDeviceToHost, d->stream));
    CU(cudaMemsetAsync, (d->acc, 0, sizeof a, d->stream));
    CU(cudaStreamSynchronize, (d->stream));
    d->args_unsynced = 0;
    acc->loss_sum = a.loss_sum;
    acc->pen_sum = a.pen_sum;
    acc->correct = a.correct;
    acc->rows = a.rows;
    return 0;
}

/* ------------------------------------------------------------ updates */

template <typename T>
static int sgd_t(struct mlp_dev *d, double lr, double mu, int nesterov, const step_args *sa, char *msg)
{
    /* as mlp__sgd_step: the coefficients in T, momentum 0 (in T) leaves v alone */
    const T mu_t = (T)mu;
    MLP_LAUNCH(k_sgd<T>, ew_grid(d->n_params), EW_THREADS, 0, d->stream, (T *)d->params, (const T *)d->grad,
               mu_t == 0 ? (T *)NULL : (T *)d->s1, d->n_params, (T)lr, mu_t, nesterov, sa);
    LAUNCHED("k_sgd");
    return 0;
}

static int op_sgd(struct mlp_dev *d, double lr, double momentum, int nesterov, char *msg)
{
    if (!d) return fail(msg, "sgd: no engine");
    ON_DEVICE(d);
    return d->dtype == MLP_F32 ? sgd_t<float>(d, lr, momentum, nesterov, nullptr, msg)
                               : sgd_t<double>(d, lr, momentum, nesterov, nullptr, msg);
}

template <typename T>
static int adam_t(struct mlp_dev *d, double lr_t, double b1, double b2, double eps_t, const step_args *sa, char *msg)
{
    /* as adam.c: the host's coefficients narrowed to T */
    MLP_LAUNCH(k_adam<T>, ew_grid(d->n_params), EW_THREADS, 0, d->stream, (T *)d->params, (const T *)d->grad,
               (T *)d->s1, (T *)d->s2, d->n_params, (T)lr_t, (T)b1, (T)b2, (T)eps_t, sa);
    LAUNCHED("k_adam");
    return 0;
}

static int op_adam(struct mlp_dev *d, double lr_t, double b1, double b2, double eps_t, char *msg)
{
    if (!d) return fail(msg, "adam: no engine");
    ON_DEVICE(d);
    return d->dtype == MLP_F32 ? adam_t<float>(d, lr_t, b1, b2, eps_t, nullptr, msg)
                               : adam_t<double>(d, lr_t, b1, b2, eps_t, nullptr, msg);
}

template <typename T> static int scale_t(struct mlp_dev *d, double f, const step_args *sa, char *msg)
{
    const dim3 g(d->l2_blocks, d->L);
    MLP_LAUNCH(k_scale<T>, g, RED_THREADS, 0, d->stream, (T *)d->params, d->spans, (T)f, sa);
    LAUNCHED("k_scale");
    return 0;
}

static int op_scale_weights(struct mlp_dev *d, double f, char *msg)
{
    if (!d) return fail(msg, "scale_weights: no engine");
    ON_DEVICE(d);
    return d->dtype == MLP_F32 ? scale_t<float>(d, f, nullptr, msg) : scale_t<double>(d, f, nullptr, msg);
}

/* ------------------------------------------------------------ predict */

template <typename T>
static int predict_t(struct mlp_dev *d, const struct slot *s, uint64_t row0, uint64_t n, double *out, char *msg)
{
    TRY(ensure_ws(d, n < d->cap ? (uint32_t)n : d->cap, msg));
    for (uint64_t r = 0; r < n;) {
        const uint32_t nb = n - r < d->cap ? (uint32_t)(n - r) : d->cap;
        TRY(forward<T>(d, s, row0 + r, nb, false, (T *)NULL, 0, nullptr, msg));
        const size_t m = (size_t)nb * d->K;
        MLP_LAUNCH(k_to_double<T>, ew_grid(m), EW_THREADS, 0, d->stream, d->ws.out, (const T *)d->ws.act[d->L], m);
        LAUNCHED("k_to_double");
        TRY(copy_out(d, out + (size_t)r * d->K, d->ws.out, m * sizeof(double), msg));
        r += nb;
    }
    return 0;
}

static int op_predict(struct mlp_dev *d, int slot, uint64_t row0, uint64_t n, double *out, char *msg)
{
    if (!d) return fail(msg, "predict: no engine");
    if (slot < 0 || slot >= MLP_DEV_SLOTS || !d->slots[slot].present)
        return fail(msg, "predict: slot %d holds no data", slot);
    const uint64_t rows = d->slots[slot].n_rows;
    if (row0 > rows || n > rows - row0)
        return fail(msg, "predict: rows %llu..%llu of %llu", (unsigned long long)row0, (unsigned long long)(row0 + n),
                    (unsigned long long)rows);
    if (n == 0) return 0;
    size_t bytes;
    if (!out || n > SIZE_MAX || !mul_ok((size_t)n, (size_t)d->K * sizeof(double), &bytes))
        return fail(msg, "predict: no output buffer or %llu rows too many", (unsigned long long)n);
    ON_DEVICE(d);
    return d->dtype == MLP_F32 ? predict_t<float>(d, &d->slots[slot], row0, n, out, msg)
                               : predict_t<double>(d, &d->slots[slot], row0, n, out, msg);
}

/* ------------------------------------------------------------ the step */

/* op_step: pass, update and decay as one unit.  A step of at most
 * GRAPH_MAX_ROWS rows (with the gradient) is replayed as a CUDA graph: its
 * ~20 launches (gather, per layer a GEMM and a kernel forward, three or
 * four launches and two GEMMs back, the L2 term, the update, the decay)
 * cost the host a few microseconds each, as much as the device's work on
 * a batch of 64 rows, and one cudaGraphLaunch replaces them all.  Beyond
 * 1024 rows the GEMMs' time dominates (launches are then a few per cent of
 * a step) and the plain calls cost little more, while every distinct batch
 * size would cost a capture and a cached graph: full-batch GD over a large
 * set gains nothing from a graph.
 *
 * A graph bakes in its launches' arguments, so it is captured once per
 * shape: what fixes the sequence of launches or their configurations
 * (slot, rows, Adam or SGD, SGD's momentum zero or not in T, decay or not,
 * an L2 term or not; the dtype and the math are the engine's); a training
 * run has two (its batches and its shorter last one).  The numbers that
 * change from step to step (b0, 1/mean_n, the L2 coefficient, the
 * optimiser's coefficients, the decay factor, and Nesterov's flag with
 * them) live in a device step_args (d->sargs) that the graph's kernels
 * read, written before each replay by a cudaMemcpyAsync on the same
 * stream, so ordered after the previous replay (which read the old
 * values) and before this one.
 *
 * Its source must be pinned host memory (a copy from pageable memory
 * synchronises the stream first, which would undo the point), and a
 * pinned copy is asynchronous: the host returns while the copy waits in
 * the stream behind earlier steps, so the host must not rewrite its
 * source until it has run.  Hence a ring of ARGS_RING slots, one per step:
 * a slot is rewritten ARGS_RING steps later, and before the ring wraps
 * without the stream having been waited for in between (read_acc, a copy
 * in or out, ...: args_unsynced counts the copies since) op_step waits for
 * the stream.  Those copies are then done, all slots are free again, and
 * the wait costs at most one drain of the queue every ARGS_RING steps.
 *
 * The capture uses cudaStreamCaptureModeThreadLocal: an engine is used by
 * one thread at a time, and the global mode would make another thread's
 * engine fail its cudaMalloc while this one captures.  Nothing in the
 * captured code allocates or waits: the workspace is ensured before the
 * capture, cuBLAS's workspace was set at open. */

/* The step as three calls (large batches, passes without the gradient). */
static int step_plain(struct mlp_dev *d, const struct mlp_dev_step *s, char *msg)
{
    TRY(op_pass(d, &s->pass, msg));
    TRY(s->adam ? op_adam(d, s->lr_t, s->b1, s->b2, s->eps_t, msg) : op_sgd(d, s->lr, s->momentum, s->nesterov, msg));
    if (s->decay != 1) TRY(op_scale_weights(d, s->decay, msg));
    return 0;
}

/* The step's launches into a graph (captured, not run), instantiated into
 * *exec; the numbers come from d->sargs at replay. */
template <typename T>
static int capture_step(struct mlp_dev *d, const struct mlp_dev_step *s, cudaGraphExec_t *exec, char *msg)
{
    struct mlp_dev_pass p = s->pass;
    p.b0 = 0; /* the kernels add sargs->b0 */
    CU(cudaStreamBeginCapture, (d->stream, cudaStreamCaptureModeThreadLocal));
    int rc = pass_t<T>(d, &p, d->sargs, msg);
    /* sgd_t reads the momentum only to choose whether s1 is used (the shape) */
    if (!rc) rc = s->adam ? adam_t<T>(d, 0, 0, 0, 0, d->sargs, msg) : sgd_t<T>(d, 0, s->momentum, 0, d->sargs, msg);
    if (!rc && s->decay != 1) rc = scale_t<T>(d, 1, d->sargs, msg);
    /* ended whatever happened, so that the stream leaves capture */
    cudaGraph_t g = NULL;
    const cudaError_t e = cudaStreamEndCapture(d->stream, &g);
    if (rc || e != cudaSuccess) {
        if (g) cudaGraphDestroy(g);
        return rc ? rc : cu_fail(msg, "cudaStreamEndCapture", e);
    }
    const cudaError_t ei = cudaGraphInstantiate(exec, g, 0);
    cudaGraphDestroy(g); /* the executable graph stands alone */
    if (ei != cudaSuccess) return cu_fail(msg, "cudaGraphInstantiate", ei);
    return 0;
}

template <typename T> static int step_graph_t(struct mlp_dev *d, const struct mlp_dev_step *s, char *msg)
{
    const struct mlp_dev_pass *p = &s->pass;
    /* before any capture: a grown workspace drops the graphs, and the
     * capture must not allocate (pass_t's own ensure_ws then does nothing) */
    TRY(ensure_ws(d, p->nb < d->cap ? (uint32_t)p->nb : d->cap, msg));
    double c;
    struct step_graph key = {};
    key.used = true;
    key.slot = p->slot;
    key.nb = p->nb;
    key.adam = s->adam != 0;
    key.momentum = !s->adam && (T)s->momentum != 0; /* as sgd_t decides */
    key.decay = s->decay != 1;
    key.l2 = pass_l2(p, &c);
    struct step_graph *g = NULL, *lru = &d->graphs[0];
    for (int i = 0; i < MAX_GRAPHS && !g; i++) {
        struct step_graph *e = &d->graphs[i];
        if (e->used && e->slot == key.slot && e->nb == key.nb && e->adam == key.adam && e->momentum == key.momentum &&
            e->decay == key.decay && e->l2 == key.l2)
            g = e;
        else if (!e->used || (lru->used && e->last_use < lru->last_use))
            lru = e;
    }
    if (!g) {
        /* a replay of it still queued completes first (cuGraphExecDestroy) */
        if (lru->used) cudaGraphExecDestroy(lru->exec);
        *lru = {};
        TRY(capture_step<T>(d, s, &key.exec, msg));
        *lru = key;
        g = lru;
    }
    g->last_use = ++d->graph_clock;
    /* the ring's wrap: see above */
    if (d->args_unsynced >= ARGS_RING) {
        CU(cudaStreamSynchronize, (d->stream));
        d->args_unsynced = 0;
    }
    step_args *a = &d->hargs[d->args_next];
    d->args_next = (d->args_next + 1) % ARGS_RING;
    d->args_unsynced++;
    a->b0 = p->b0;
    a->inv_n = pass_inv_n(p);
    a->c = c;
    a->lr = s->lr;
    a->mu = s->momentum;
    a->nesterov = s->nesterov;
    a->lr_t = s->lr_t;
    a->b1 = s->b1;
    a->b2 = s->b2;
    a->eps_t = s->eps_t;
    a->decay = s->decay;
    CU(cudaMemcpyAsync, (d->sargs, a, sizeof *a, cudaMemcpyHostToDevice, d->stream));
    CU(cudaGraphLaunch, (g->exec, d->stream));
    return 0;
}

static int op_step(struct mlp_dev *d, const struct mlp_dev_step *s, char *msg)
{
    if (!d || !s) return fail(msg, "step: no engine or no step");
    if (!s->pass.grad || s->pass.nb == 0 || s->pass.nb > GRAPH_MAX_ROWS) return step_plain(d, s, msg);
    TRY(check_pass(d, &s->pass, "step", msg));
    ON_DEVICE(d);
    return d->dtype == MLP_F32 ? step_graph_t<float>(d, s, msg) : step_graph_t<double>(d, s, msg);
}

/* ------------------------------------------------------------ the table */

static const struct mlp_dev_ops cuda_ops = {
    MLP_DEV_ABI,     "cuda",     op_count,       op_describe, op_open,          op_close,
    op_set_params,   op_get_params, op_get_grad, op_set_state, op_get_state,   op_upload,
    op_set_order,    op_pass,    op_read_acc,    op_sgd,      op_adam,          op_scale_weights,
    op_predict,      op_step,
};

extern "C" __attribute__((visibility("default"))) const struct mlp_dev_ops *mlp_dev_cuda_ops(void)
{
    return &cuda_ops;
}
