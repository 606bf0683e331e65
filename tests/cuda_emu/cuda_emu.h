/* SPDX-License-Identifier: MIT */
/* A CUDA emulation for the host: just enough of the CUDA runtime, cuBLAS
 * and cuda_bf16.h for the CUDA backend's own code (src/device/cuda/
 * engine.cu, kernels.cuh) to compile as host C++ (-DMLP_CUDA_EMU) and run
 * on the CPU, so that `make test` runs the engine's orchestration and its
 * kernels (tests/CMakeLists.txt: test_cuda_emu) on every machine, the
 * sanitizer builds included, where the toolkit and the GPU are absent.
 * It includes no CUDA header and needs none.
 *
 * The model (cuda_emu.cpp has the details):
 *   memory    "device" memory is malloc'd host memory in a table of
 *             allocations; copies, sets, kernels' pointer arguments and
 *             the GEMMs' operands are checked against the table; fresh
 *             allocations hold 0xff bytes (NaN, huge integers), as the
 *             GPU's hold garbage, not zeros.
 *   streams   every call runs to its end before it returns, in call order
 *             (so a missing synchronisation goes unseen).
 *   kernels   MLP_EMU_LAUNCH checks the configuration as the runtime does,
 *             then runs the blocks one after another; a block's threads are
 *             fibers on the calling thread, each run until it returns or
 *             calls __syncthreads (the barrier: the next phase starts when
 *             every thread has reached it); __shared__ is a function-local
 *             `static thread_local`, one per block since blocks never
 *             overlap.
 *   cuBLAS    the documented column-major gemm, a plain loop summing in
 *             the element type (TF32: inputs rounded to 10-bit mantissas).
 *   graphs    while a stream captures (cudaStreamBeginCapture), the
 *             launches, copies, sets and GEMMs queued on it are recorded,
 *             not run: a launch's arguments as converted at the call (its
 *             scalars by value, pointers as pointers), a GEMM's alpha and
 *             beta by value; cudaStreamEndCapture makes them a graph,
 *             cudaGraphInstantiate an executable one, and cudaGraphLaunch
 *             replays its calls in order, each checked as it runs (its
 *             pointers must still be device memory then).  What CUDA
 *             forbids during a capture faults and invalidates it (the end
 *             then fails and gives no graph): an allocating or
 *             synchronising call (cudaMalloc, cudaFree, cudaMallocHost,
 *             cudaFreeHost, cudaMemcpy, cudaMemset, cudaStreamSynchronize,
 *             cudaDeviceSynchronize) from a thread the capture's mode
 *             covers, work on the legacy default stream, a captured copy
 *             to or from pageable host memory (not cudaMallocHost's), a
 *             GEMM captured on a handle without cublasSetWorkspace (cuBLAS
 *             recommends one under graphs, the emulation insists;
 *             cublasSetStream resets it, as cuBLAS does), a graph
 *             launched into a capturing stream (child graphs are not
 *             emulated);
 *             also ending a capture that is not one, a capturing stream
 *             destroyed, instantiating what is not a graph (a failed
 *             capture's NULL), launching what is not an executable graph.
 *
 * What it breaks (a bad pointer, an out-of-range copy, a bad launch, a
 * barrier some threads skip) returns the runtime's error, prints one line
 * "cuda_emu: ..." on stderr and counts a fault that the test reads
 * (mlp_cuda_emu_faults) and fails on.
 *
 * The test's hooks below are plain C (test_cuda.c includes this header);
 * the rest is C++ and only for engine.cu. */
#ifndef MLP_CUDA_EMU_H
#define MLP_CUDA_EMU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Misuses seen so far (each also printed on stderr). */
unsigned long mlp_cuda_emu_faults(void);
/* Device allocations not yet freed. */
size_t mlp_cuda_emu_live_allocs(void);
/* The n-th cudaMalloc from now fails with cudaErrorMemoryAllocation (1:
 * the next one; 0: none), for the engine's error paths. */
void mlp_cuda_emu_fail_malloc(unsigned long n);
/* Kernel launches, blocks run and GEMMs so far (for the test's summary);
 * replayed ones count as they run. */
void mlp_cuda_emu_counts(unsigned long *launches, unsigned long *blocks, unsigned long *gemms);
/* Captures ended into a graph, graph launches so far, and what is live:
 * graphs, executable graphs and streams still capturing. */
void mlp_cuda_emu_graph_counts(unsigned long *captures, unsigned long *graph_launches, size_t *live);
/* The capture checks' own test: misuses made on purpose, each of which
 * must fault (their faults are not counted in mlp_cuda_emu_faults);
 * returns how many did not, with a line on stderr for each. */
unsigned long mlp_cuda_emu_selftest(void);

#ifdef __cplusplus
}

#include <string.h>

#include <tuple>
#include <type_traits>
#include <utility>

/* ------------------------------------------------------------ qualifiers */

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
/* one per block (blocks run one at a time) and per host thread (two
 * engines may run in two host threads) */
#define __shared__ static thread_local

/* ------------------------------------------------------------ runtime */

#define CUDART_VERSION 13000 /* what the emulation answers as its runtime's version */

/* The runtime's numbers for the errors it may give. */
enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorInsufficientDriver = 35,
    cudaErrorInvalidDevice = 101,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorIllegalState = 401,
    cudaErrorIllegalAddress = 700,
    cudaErrorLaunchFailure = 719,
    cudaErrorStreamCaptureUnsupported = 900,
    cudaErrorStreamCaptureInvalidated = 901,
    cudaErrorStreamCaptureImplicit = 906,
    cudaErrorStreamCaptureWrongThread = 908
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
};

#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01

struct mlp_emu_stream;
typedef struct mlp_emu_stream *cudaStream_t;

enum cudaStreamCaptureMode {
    cudaStreamCaptureModeGlobal = 0,
    cudaStreamCaptureModeThreadLocal = 1,
    cudaStreamCaptureModeRelaxed = 2
};
enum cudaStreamCaptureStatus {
    cudaStreamCaptureStatusNone = 0,
    cudaStreamCaptureStatusActive = 1,
    cudaStreamCaptureStatusInvalidated = 2
};
struct mlp_emu_graph;
struct mlp_emu_graph_exec;
typedef struct mlp_emu_graph *cudaGraph_t;
typedef struct mlp_emu_graph_exec *cudaGraphExec_t;

enum cudaDeviceAttr { cudaDevAttrComputeCapabilityMajor = 75, cudaDevAttrComputeCapabilityMinor = 76 };

struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem, sharedMemPerBlock;
    int major, minor, multiProcessorCount, maxThreadsPerBlock, warpSize;
    int maxThreadsDim[3], maxGridSize[3];
};

struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};

/* The running thread's coordinates, set by the launch for each fiber.
 * Defined here, constant-initialised (C++17 inline variables), and of a
 * trivial type (blockDim and gridDim are dim3 in CUDA; a kernel only reads
 * their members): an `extern thread_local` would be read through a check of
 * its TLS init function, after which GCC 12 under -fsanitize=undefined
 * tests stale flags and reports a NULL member access. */
inline thread_local uint3 threadIdx{}, blockIdx{}, blockDim{}, gridDim{};

void __syncthreads(void);

cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaSetDevice(int index);
cudaError_t cudaGetDevice(int *index);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int index);
cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr, int index);
cudaError_t cudaDriverGetVersion(int *v);
cudaError_t cudaRuntimeGetVersion(int *v);
const char *cudaGetErrorString(cudaError_t e);
const char *cudaGetErrorName(cudaError_t e);
cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);

cudaError_t cudaMalloc(void **p, size_t bytes);
/* the runtime's typed overload (cuda_runtime.h has it too) */
template <typename T> static inline cudaError_t cudaMalloc(T **p, size_t bytes)
{
    return cudaMalloc((void **)p, bytes);
}
cudaError_t cudaFree(void *p);
cudaError_t cudaMallocHost(void **p, size_t bytes);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s = 0);
cudaError_t cudaMemset(void *p, int v, size_t bytes);
cudaError_t cudaMemsetAsync(void *p, int v, size_t bytes, cudaStream_t s = 0);

cudaError_t cudaStreamCreate(cudaStream_t *s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaDeviceSynchronize(void);

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g);
cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus *status);
/* nvcc 13's signature (cuda_runtime_api.h): flags, no error node or log */
cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t g, unsigned long long flags = 0);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphDestroy(cudaGraph_t g);

/* ------------------------------------------------------------ bf16 */

struct __nv_bfloat16 {
    unsigned short __x;
};

/* To nearest, ties to even, as the device's cvt.rn.bf16.f32; a NaN becomes
 * the canonical 0x7fff, as cuda_bf16.h's host code makes it. */
static inline __nv_bfloat16 __float2bfloat16_rn(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    __nv_bfloat16 h;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        h.__x = 0x7fffu;
        return h;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    h.__x = (unsigned short)(u >> 16);
    return h;
}

static inline float __bfloat162float(__nv_bfloat16 h)
{
    const uint32_t u = (uint32_t)h.__x << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ------------------------------------------------------------ cuBLAS */

typedef enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_ARCH_MISMATCH = 8,
    CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_INTERNAL_ERROR = 14,
    CUBLAS_STATUS_NOT_SUPPORTED = 15
} cublasStatus_t;

typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 } cublasOperation_t;

typedef enum {
    CUBLAS_DEFAULT_MATH = 0,
    CUBLAS_TENSOR_OP_MATH = 1,
    CUBLAS_PEDANTIC_MATH = 2,
    CUBLAS_TF32_TENSOR_OP_MATH = 3
} cublasMath_t;

typedef enum { CUDA_R_32F = 0, CUDA_R_64F = 1, CUDA_R_16F = 2, CUDA_R_16BF = 14 } cudaDataType;

typedef enum {
    CUBLAS_COMPUTE_32F = 68,
    CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
    CUBLAS_COMPUTE_64F = 70
} cublasComputeType_t;

typedef enum { CUBLAS_GEMM_DEFAULT = -1 } cublasGemmAlgo_t;

struct mlp_emu_blas;
typedef struct mlp_emu_blas *cublasHandle_t;

cublasStatus_t cublasCreate(cublasHandle_t *h);
cublasStatus_t cublasDestroy(cublasHandle_t h);
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s);
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t mode);
cublasStatus_t cublasSetWorkspace(cublasHandle_t h, void *workspace, size_t bytes);
const char *cublasGetStatusString(cublasStatus_t s);
const char *cublasGetStatusName(cublasStatus_t s);
cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc);
cublasStatus_t cublasDgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double *alpha, const double *A, int lda, const double *B, int ldb,
                           const double *beta, double *C, int ldc);
cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType at, int lda, const void *B,
                            cudaDataType bt, int ldb, const void *beta, void *C, cudaDataType ct, int ldc,
                            cublasComputeType_t compute, cublasGemmAlgo_t algo);

/* ------------------------------------------------------------ launches */

namespace mlp_emu {

/* Runs grid x block threads of run(ctx) (cuda_emu.cpp), after checking the
 * configuration and that each of the n_ptrs pointer arguments is NULL or
 * inside a device allocation; a failure sets the last error.  On a
 * capturing stream it records the launch instead: ctx copied by clone
 * (freed by drop when the last graph holding it goes). */
void launch(const char *name, dim3 grid, dim3 block, size_t shmem, cudaStream_t s, void (*run)(const void *),
            const void *ctx, const void *const *ptrs, size_t n_ptrs, void *(*clone)(const void *),
            void (*drop)(void *));

template <typename A> static inline void pointer_arg(const void **ptrs, size_t *n, const A &a)
{
    if constexpr (std::is_pointer_v<A>) ptrs[(*n)++] = (const void *)a;
}

/* The kernel's arguments converted to its parameters' types once, as the
 * launch copies them, then every thread calls it on its own copies. */
template <typename... P, typename... A>
static inline void launch_kernel(const char *name, void (*k)(P...), dim3 grid, dim3 block, size_t shmem,
                                 cudaStream_t s, A &&...a)
{
    static_assert(sizeof...(P) == sizeof...(A), "a kernel launched with the wrong number of arguments");
    struct pack {
        void (*k)(P...);
        std::tuple<P...> args;
    };
    const pack p{k, std::tuple<P...>(std::forward<A>(a)...)};
    const void *ptrs[sizeof...(P) + 1];
    size_t n = 0;
    std::apply([&](const auto &...x) { (pointer_arg(ptrs, &n, x), ...); }, p.args);
    launch(
        name, grid, block, shmem, s,
        [](const void *c) {
            const pack *q = (const pack *)c;
            std::apply(q->k, q->args);
        },
        &p, ptrs, n, [](const void *c) -> void * { return new pack(*(const pack *)c); },
        [](void *c) { delete (pack *)c; });
}

} // namespace mlp_emu

/* k<<<grid, block, shmem, stream>>>(args...) */
#define MLP_EMU_LAUNCH(k, grid, block, shmem, stream, ...)                                                          \
    mlp_emu::launch_kernel(#k, k, grid, block, shmem, stream, __VA_ARGS__)

#endif /* __cplusplus */

#endif /* MLP_CUDA_EMU_H */
