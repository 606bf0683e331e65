/* SPDX-License-Identifier: MIT */
/* The CUDA backend's kernels (engine.cu launches them), written once for
 * T = float / double.  Every number they compute comes from dev_math.h's
 * functions, the ones tests/unit/test_dev_math.c checks on the host against
 * the CPU's code; the kernels only decide which element goes where.
 *
 * Determinism: no atomics anywhere.  Every sum goes through a fixed order
 * that depends on the sizes only: one thread sums a fixed stride of
 * elements in index order, then a tree of fixed shape in one block of
 * RED_THREADS; the per-pass sums (losses, correct rows, bias gradients, the
 * L2 term) land in fixed slots that a later single kernel adds up in order.
 * So the same inputs give the same bits on the same GPU, whatever the
 * scheduling. */
#ifndef MLP_CUDA_KERNELS_CUH
#define MLP_CUDA_KERNELS_CUH

#ifdef MLP_CUDA_EMU
#include "cuda_emu.h" /* the host's emulation (tests/cuda_emu/) */
#else
#include <cuda_bf16.h>
#endif
#include <stdint.h>

#include "device/cuda/dev_math.h"

#define RED_THREADS 256 /* threads of every reducing block (the trees below assume it) */
#define CS_ROWS 256     /* rows one thread sums per slot in the bias gradient's first stage */

/* The accumulator of struct mlp_dev_acc, on the device. */
struct dev_acc {
    double loss_sum, pen_sum;
    unsigned long long correct, rows;
};

/* A step's numbers that change from step to step (engine.cu's op_step):
 * read from device memory by the kernels of a step replayed as a CUDA
 * graph, which bakes its launches' arguments in at capture; written before
 * each replay by a copy ordered before it on the stream.  Each kernel that
 * takes one reads its numbers from it when it is not NULL and uses its own
 * arguments otherwise (the plain ops: the same kernels, the same
 * arithmetic, so both give the same bits).  Doubles, as the host computes
 * them; a kernel narrows them to T as the host's launch would. */
struct step_args {
    uint64_t b0;         /* the pass's first row (k_gather, k_head add it to their base) */
    double inv_n;        /* 1 / mean_n (k_head) */
    double c;            /* the L2 coefficient l2 / l2_m (k_l2, k_l2_fin) */
    double lr, mu;       /* sgd */
    double lr_t, b1, b2, eps_t; /* adam */
    double decay;        /* k_scale's factor */
    int nesterov;
};

/* A layer's weights in the flat vector: elements off .. off + n. */
struct layer_span {
    size_t off, n;
};

/* dev_math.h's functions by element type, for the templates below. */
template <typename T> struct dm;
#define MLP_DM_TRAITS(T, S)                                                                                          \
    template <> struct dm<T> {                                                                                        \
        static __device__ __forceinline__ T input(int xt, const void *x, size_t i, double sc, const double *mu,      \
                                                  const double *inv, uint32_t j)                                     \
        {                                                                                                             \
            return mlp_dm_input_##S(xt, x, i, sc, mu, inv, j);                                                        \
        }                                                                                                             \
        static __device__ __forceinline__ T act(int a, T slope, T z) { return mlp_dm_act_##S(a, slope, z); }         \
        static __device__ __forceinline__ T dact(int a, T slope, T y, T d) { return mlp_dm_dact_##S(a, slope, y, d); } \
        static __device__ __forceinline__ double head_row(int head, T slope, uint32_t K, T *z, T *dz, int have_y,    \
                                                          int32_t y, const double *tgt, double inv_n)                 \
        {                                                                                                             \
            return mlp_dm_head_row_##S(head, slope, K, z, dz, have_y, y, tgt, inv_n);                                 \
        }                                                                                                             \
        static __device__ __forceinline__ uint32_t class_of(uint32_t K, const T *a) { return mlp_dm_class_of_##S(K, a); } \
        static __device__ __forceinline__ void sgd(T *p, T g, T *v, T lr, T mu, int nesterov)                        \
        {                                                                                                             \
            mlp_dm_sgd_##S(p, g, v, lr, mu, nesterov);                                                                \
        }                                                                                                             \
        static __device__ __forceinline__ void adam(T *p, T g, T *m, T *v, T lr_t, T b1, T b2, T eps_t)              \
        {                                                                                                             \
            mlp_dm_adam_##S(p, g, m, v, lr_t, b1, b2, eps_t);                                                         \
        }                                                                                                             \
        static __device__ __forceinline__ T l2_grad(T g, T w, double c) { return mlp_dm_l2_grad_##S(g, w, c); }      \
        static __device__ __forceinline__ double sq(T w) { return mlp_dm_sq_##S(w); }                                 \
        static __device__ __forceinline__ T scale(T w, T f) { return mlp_dm_scale_##S(w, f); }                       \
    };
MLP_DM_TRAITS(float, f32)
MLP_DM_TRAITS(double, f64)
#undef MLP_DM_TRAITS

/* Grid-stride loops: elementwise kernels may run on any grid (each element
 * is computed alone), so their grids are sized for throughput. */
#define GRID_STRIDE(i, n)                                                                                            \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* A fixed-shape tree over RED_THREADS values of sh (one block); the sum
 * ends in sh[0].  Called by every thread of the block. */
template <typename U> __device__ __forceinline__ void block_tree(U *sh)
{
    const unsigned t = threadIdx.x;
    __syncthreads();
    for (unsigned w = RED_THREADS / 2; w > 0; w >>= 1) {
        if (t < w) sh[t] += sh[t + w];
        __syncthreads();
    }
}

/* order[i] = i: a slot's rows in their stored order. */
__global__ void k_iota(uint64_t *order, uint64_t n)
{
    GRID_STRIDE(i, n) order[i] = i;
}

/* X (nb x d) = the rows order[base .. base+nb) of x (d columns of x_type),
 * converted as pass/rows.inc does: the uint8 (f32, f64) data stays in its
 * stored type on the device and is converted here. */
template <typename T>
__global__ void k_gather(T *X, const void *x, int x_type, uint32_t d, const uint64_t *order, uint64_t base,
                         size_t n, double scale, const double *mean, const double *inv_std, const step_args *sa)
{
    if (sa) base += sa->b0;
    GRID_STRIDE(e, n)
    {
        const size_t i = e / d, j = e - i * d;
        const uint64_t r = order[base + i];
        X[e] = dm<T>::input(x_type, x, (size_t)r * d + j, scale, mean, inv_std, (uint32_t)j);
    }
}

/* Z (rows x n_out, row-major) = act(Z + b): a hidden layer's bias and
 * activation after its GEMM. */
template <typename T> __global__ void k_bias_act(T *Z, const T *b, uint32_t n_out, size_t n, int act, T slope)
{
    GRID_STRIDE(e, n) Z[e] = dm<T>::act(act, slope, Z[e] + b[e % n_out]);
}

/* D *= act'(A) elementwise, A the layer's output activations. */
template <typename T> __global__ void k_dact(T *D, const T *A, size_t n, int act, T slope)
{
    GRID_STRIDE(e, n) D[e] = dm<T>::dact(act, slope, A[e], D[e]);
}

/* The output head, one thread per row: Z (nb x K) gets the last bias
 * added and becomes the output activations; D (NULL: none) dLoss/dZ; the
 * row's loss and whether it is classified correctly go to loss_row and
 * correct_row (NULL: not wanted).  Labels win over targets, as on the CPU;
 * softmax-ce reads labels only (upload refuses it targets alone). */
template <typename T>
__global__ void k_head(T *Z, T *D, const T *b, uint32_t K, uint32_t nb, int head, T slope, const int32_t *labels,
                       const double *targets, const uint64_t *order, uint64_t base, double inv_n, double *loss_row,
                       uint32_t *correct_row, const step_args *sa)
{
    if (sa) {
        base += sa->b0;
        inv_n = sa->inv_n;
    }
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= nb) return;
    T *z = Z + (size_t)i * K;
    for (uint32_t k = 0; k < K; k++) z[k] = z[k] + b[k];
    int have_y = 0;
    int32_t y = 0;
    const double *tgt = NULL;
    if (labels) {
        y = labels[order[base + i]];
        have_y = 1;
    } else if (targets && head != MLP_HEAD_SOFTMAX_CE) {
        tgt = targets + (size_t)order[base + i] * K;
        have_y = 1;
    }
    const double loss = dm<T>::head_row(head, slope, K, z, D ? D + (size_t)i * K : NULL, have_y, y, tgt, inv_n);
    if (loss_row) loss_row[i] = loss;
    if (correct_row) correct_row[i] = labels ? dm<T>::class_of(K, z) == (uint32_t)y : 0u;
}

/* acc += the block's rows: losses and correct flags of nb rows summed in a
 * fixed order (thread t: rows t, t + RED_THREADS, ... in order; then the
 * tree), one block of RED_THREADS, launched once per block of rows so the
 * accumulator's additions come in stream order. */
__global__ void k_acc(dev_acc *acc, const double *loss_row, const uint32_t *correct_row, uint32_t nb)
{
    __shared__ double sl[RED_THREADS];
    __shared__ unsigned long long sc[RED_THREADS];
    const unsigned t = threadIdx.x;
    double l = 0;
    unsigned long long c = 0;
    for (uint32_t i = t; i < nb; i += RED_THREADS) {
        l += loss_row[i];
        c += correct_row[i];
    }
    sl[t] = l;
    sc[t] = c;
    block_tree(sl);
    block_tree(sc);
    if (t == 0) {
        acc->loss_sum += sl[0];
        acc->correct += sc[0];
        acc->rows += nb;
    }
}

/* Bias gradient, first stage: part[c][j] = sum of D[r][j] over the rows r
 * of chunk c (CS_ROWS rows, in order), in double; grid (columns / blockDim,
 * chunks).  One thread per column and chunk: neighbouring threads read
 * neighbouring columns of a row (coalesced). */
template <typename T> __global__ void k_colsum1(const T *D, uint32_t nb, uint32_t n_out, double *part)
{
    const uint32_t j = blockIdx.x * blockDim.x + threadIdx.x, c = blockIdx.y;
    if (j >= n_out) return;
    const uint32_t r0 = c * CS_ROWS, r1 = nb - r0 < CS_ROWS ? nb : r0 + CS_ROWS;
    double s = 0;
    for (uint32_t r = r0; r < r1; r++) s += (double)D[(size_t)r * n_out + j];
    part[(size_t)c * n_out + j] = s;
}

/* Second stage: gb[j] += (T)(the chunks' sums in chunk order). */
template <typename T> __global__ void k_colsum2(T *gb, const double *part, uint32_t n_chunks, uint32_t n_out)
{
    const uint32_t j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n_out) return;
    double s = 0;
    for (uint32_t c = 0; c < n_chunks; c++) s += part[(size_t)c * n_out + j];
    gb[j] = gb[j] + (T)s;
}

/* The L2 term over the weights (not the biases): grid (blocks, layers);
 * block x of layer y sums w^2 over its fixed stride of the layer's weights
 * into part[y * gridDim.x + x], and with G adds (T)(c w) to the gradient. */
template <typename T>
__global__ void k_l2(const T *W, T *G, const layer_span *ly, double c, double *part, const step_args *sa)
{
    if (sa) c = sa->c;
    __shared__ double sh[RED_THREADS];
    const layer_span s = ly[blockIdx.y];
    const T *w = W + s.off;
    T *g = G ? G + s.off : NULL;
    double acc = 0;
    for (size_t i = (size_t)blockIdx.x * RED_THREADS + threadIdx.x; i < s.n; i += (size_t)gridDim.x * RED_THREADS) {
        const T wi = w[i];
        acc += dm<T>::sq(wi);
        if (g) g[i] = dm<T>::l2_grad(g[i], wi, c);
    }
    sh[threadIdx.x] = acc;
    block_tree(sh);
    if (threadIdx.x == 0) part[(size_t)blockIdx.y * gridDim.x + blockIdx.x] = sh[0];
}

/* pen_sum += nb * (c/2 sum w^2) from k_l2's n partial sums (one block). */
__global__ void k_l2_fin(dev_acc *acc, const double *part, size_t n, double c, double nb, const step_args *sa)
{
    if (sa) c = sa->c;
    __shared__ double sh[RED_THREADS];
    double s = 0;
    for (size_t i = threadIdx.x; i < n; i += RED_THREADS) s += part[i];
    sh[threadIdx.x] = s;
    block_tree(sh);
    if (threadIdx.x == 0) acc->pen_sum += nb * (0.5 * c * sh[0]);
}

/* w *= f over each layer's weights: grid (blocks, layers). */
template <typename T> __global__ void k_scale(T *W, const layer_span *ly, T f, const step_args *sa)
{
    if (sa) f = (T)sa->decay;
    const layer_span s = ly[blockIdx.y];
    T *w = W + s.off;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < s.n; i += (size_t)gridDim.x * blockDim.x)
        w[i] = dm<T>::scale(w[i], f);
}

template <typename T>
__global__ void k_sgd(T *P, const T *G, T *V, size_t n, T lr, T mu, int nesterov, const step_args *sa)
{
    if (sa) {
        lr = (T)sa->lr;
        mu = (T)sa->mu;
        nesterov = sa->nesterov;
    }
    GRID_STRIDE(i, n)
    {
        T p = P[i], v = V ? V[i] : (T)0;
        dm<T>::sgd(&p, G[i], &v, lr, mu, nesterov);
        P[i] = p;
        if (V) V[i] = v;
    }
}

template <typename T>
__global__ void k_adam(T *P, const T *G, T *M, T *V, size_t n, T lr_t, T b1, T b2, T eps_t, const step_args *sa)
{
    if (sa) {
        lr_t = (T)sa->lr_t;
        b1 = (T)sa->b1;
        b2 = (T)sa->b2;
        eps_t = (T)sa->eps_t;
    }
    GRID_STRIDE(i, n)
    {
        T p = P[i], m = M[i], v = V[i];
        dm<T>::adam(&p, G[i], &m, &v, lr_t, b1, b2, eps_t);
        P[i] = p;
        M[i] = m;
        V[i] = v;
    }
}

/* predict's output: the activations widened to double. */
template <typename T> __global__ void k_to_double(double *out, const T *a, size_t n)
{
    GRID_STRIDE(i, n) out[i] = (double)a[i];
}

/* MLP_DEV_MATH_BF16: a GEMM operand rounded to bf16 (to nearest even). */
__global__ void k_to_bf16(__nv_bfloat16 *out, const float *a, size_t n)
{
    GRID_STRIDE(i, n) out[i] = __float2bfloat16_rn(a[i]);
}

#endif /* MLP_CUDA_KERNELS_CUH */
