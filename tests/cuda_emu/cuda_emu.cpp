/* SPDX-License-Identifier: MIT */
/* The CUDA emulation of cuda_emu.h: the runtime's memory, streams and
 * launches, cuBLAS's GEMMs and the checks a GPU would make (or would fail
 * on) that a host can make too.
 *
 * Threads of a block.  A kernel that calls __syncthreads needs its threads
 * to run side by side up to the barrier.  Real threads (one per CUDA
 * thread, a pool reused across launches) cost ~60 ms per block of 256
 * threads going through k_acc's 18 barriers on 2 cores (measured): seconds
 * per pass, far too slow for a test.  So each CUDA thread of a block is a
 * fiber on the calling host thread, from a pool of fibers kept across
 * launches (own stacks, mmap'd, with a guard page below): the scheduler
 * runs every thread of the block until it returns or reaches
 * __syncthreads, then the next phase, until all have returned.  A switch is
 * a few instructions of our own on x86-64 (mlp_emu_switch), elsewhere a
 * _setjmp/_longjmp pair (ucontext only starts those fibers: swapcontext
 * also sets the signal mask, a system call per switch; and ASan's longjmp
 * interceptor costs a system call too, hence our own switch where we can).
 * test_cuda_emu runs ~70 000 blocks in ~1 s.  Every kernel runs this way,
 * barrier or not: no list of which kernels synchronise to keep up to date.
 * Phases run the threads in ascending order, then descending, and so on: a
 * value read in the phase another thread writes it (a missing
 * __syncthreads) is then read before the write in one phase and after it
 * in the next, which tends to show as a wrong sum.  A barrier that some
 * threads of the block return without reaching is a fault (on a GPU it
 * hangs or is undefined).
 *
 * Under AddressSanitizer the fibers' stacks are announced to it at each
 * switch (__sanitizer_start/finish_switch_fiber), as its documentation asks
 * of programs that switch stacks by hand.
 *
 * What this cannot show: timing (warps, races that need real concurrency,
 * other blocks running at the same time: blocks here run one after
 * another, so a kernel that relies on an order of blocks, or on two blocks
 * not racing, passes), shared memory's size limit (a static cannot be
 * measured) and its garbage (static storage starts zeroed), warp-level
 * behaviour, cuBLAS's own order of summation and FMAs, the device's libm
 * (the host's runs), and any missing stream synchronisation (every call
 * completes before it returns).  Device memory is host memory, so host
 * code that dereferences a device pointer works here and would fault on a
 * GPU; and the checks (ours and ASan's) see allocations, not the buffers an
 * engine carves out of one (its workspace): an overrun from one such buffer
 * into the next goes unseen.
 *
 * Graphs.  A recorded call is a closure that makes the call again at
 * replay, into the stream the graph is launched into, through the same
 * checks as an ordinary call (so a pointer freed since the capture
 * faults).  A launch keeps a copy of its converted arguments (the pack
 * launch_kernel made), shared by the graphs holding it.  Since every call
 * here completes before it returns, a copy from pinned memory queued
 * before a graph launch has always run by then: whether the host rewrites
 * a pinned buffer while a real copy from it is still queued goes unseen. */
#undef _FORTIFY_SOURCE /* its longjmp check refuses a jump to another stack, which is the point here */

#include "cuda_emu.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#ifdef EMU_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
/* The fibers' switch: a few instructions of our own on x86-64, else
 * _setjmp/_longjmp (MLP_CUDA_EMU_SETJMP asks for those everywhere). */
#if defined(__x86_64__) && defined(__ELF__) && !defined(MLP_CUDA_EMU_SETJMP)
#define EMU_ASM_SWITCH 1
#else
#define EMU_ASM_SWITCH 0
#endif

/* A recorded call (a graph's node): makes the call into a stream, gives its error. */
typedef std::function<cudaError_t(cudaStream_t)> emu_node;

struct mlp_emu_stream {
    unsigned flags;
    /* a capture under way: the graph it builds (NULL: none), its mode and
     * thread, and whether a prohibited call invalidated it.  cap, mode and
     * thread change under the table's lock (another thread's prohibited
     * call reads them), invalid may be set from another thread. */
    mlp_emu_graph *cap;
    cudaStreamCaptureMode mode;
    std::thread::id thread;
    std::atomic<bool> invalid;
};

struct mlp_emu_graph {
    std::vector<emu_node> nodes;
};

struct mlp_emu_blas {
    cudaStream_t stream = nullptr;
    cublasMath_t math = CUBLAS_DEFAULT_MATH;
    void *ws = nullptr; /* cublasSetWorkspace's (NULL: cuBLAS's default pool) */
    size_t ws_bytes = 0;
};

struct mlp_emu_graph_exec {
    std::vector<emu_node> nodes;
};

/* The emulated device's compute capability: 8.0 (see cudaGetDeviceProperties). */
#define EMU_CC_MAJOR 8

namespace {

/* ------------------------------------------------------------ faults, errors */

std::atomic<unsigned long> g_faults{0}, g_fail_malloc{0}, g_launches{0}, g_blocks{0}, g_gemms{0}, g_captures{0},
    g_graph_launches{0};
thread_local bool t_quiet = false; /* mlp_cuda_emu_selftest's misuses: counted, not printed */
/* A fault inside a kernel (a bad pointer argument) is sticky, as a GPU's
 * illegal address is: every later call returns it. */
std::atomic<int> g_sticky{cudaSuccess};
thread_local cudaError_t t_last = cudaSuccess;
thread_local int t_device = 0;

__attribute__((format(printf, 1, 2))) void fault(const char *fmt, ...)
{
    g_faults++;
    if (t_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("cuda_emu: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* A call's result, remembered as the last error when it is one. */
cudaError_t ret(cudaError_t e)
{
    if (e != cudaSuccess) t_last = e;
    return e;
}

cudaError_t sticky() { return (cudaError_t)g_sticky.load(); }

/* ------------------------------------------------------------ allocations */

struct alloc_table {
    std::mutex mu;
    std::map<uintptr_t, size_t> m; /* base -> bytes */
    std::map<uintptr_t, size_t> pinned; /* cudaMallocHost's: base -> bytes */
    std::set<const void *> streams, blas, graphs, execs;
};

alloc_table &table()
{
    static alloc_table *t = new alloc_table; /* never destroyed: static destructors may still free */
    return *t;
}

/* The allocation of m holding [p, p + bytes) (p + bytes may be its end),
 * as its base and size; false when there is none.  Under the table's lock. */
bool find_in(const std::map<uintptr_t, size_t> &m, const void *p, size_t bytes, uintptr_t *base, size_t *size)
{
    const uintptr_t a = (uintptr_t)p;
    auto it = m.upper_bound(a);
    if (it == m.begin()) return false;
    --it;
    if (a > it->first + it->second || bytes > it->first + it->second - a) return false;
    if (base) *base = it->first;
    if (size) *size = it->second;
    return true;
}

/* The device allocation holding [p, p + bytes). */
bool find_alloc(const void *p, size_t bytes, uintptr_t *base = nullptr, size_t *size = nullptr)
{
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    return find_in(t.m, p, bytes, base, size);
}

/* [p, p + bytes) lies inside one cudaMallocHost allocation. */
bool is_pinned(const void *p, size_t bytes)
{
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    return find_in(t.pinned, p, bytes, nullptr, nullptr);
}

/* p lies inside some allocation (its end excluded). */
bool is_device(const void *p)
{
    uintptr_t b;
    size_t n;
    return p && find_alloc(p, 0, &b, &n) && (uintptr_t)p < b + n;
}

bool stream_ok(cudaStream_t s)
{
    if (!s) return true; /* the default stream */
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    return t.streams.count(s) != 0;
}

/* s when it is capturing (s a live stream), else NULL. */
mlp_emu_stream *capturing(cudaStream_t s) { return s && s->cap ? s : nullptr; }

/* A call CUDA prohibits while a capture is under way: cudaStreamCaptureModeGlobal
 * captures prohibit it in every thread, ThreadLocal ones in their own thread,
 * Relaxed ones nowhere (every_mode: a call that waits for every stream, the
 * capturing one included, prohibited whatever the mode).  When one is, the
 * call faults, the captures are invalidated (their end then fails) and the
 * caller returns an error; false when the call may go on. */
bool prohibited(const char *call, bool every_mode = false)
{
    bool hit = false;
    {
        alloc_table &t = table();
        std::lock_guard<std::mutex> lk(t.mu);
        for (const void *p : t.streams) {
            mlp_emu_stream *s = (mlp_emu_stream *)p;
            if (!s->cap) continue;
            const bool other_thread = s->thread != std::this_thread::get_id();
            if (!every_mode && (s->mode == cudaStreamCaptureModeRelaxed ||
                                (s->mode == cudaStreamCaptureModeThreadLocal && other_thread)))
                continue;
            s->invalid = true;
            hit = true;
        }
    }
    if (hit)
        fault("%s while a stream captures: prohibited (it allocates, waits or uses the legacy stream); the capture "
              "is invalidated",
              call);
    return hit;
}

/* A call queued on a capturing stream whose capture is already invalidated:
 * CUDA's answer, no new fault (the first misuse was reported). */
cudaError_t invalidated(void) { return ret(cudaErrorStreamCaptureInvalidated); }

bool overlap(const void *a, size_t na, const void *b, size_t nb)
{
    const uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return na && nb && x < y + nb && y < x + na;
}

const char *kind_name(cudaMemcpyKind k)
{
    switch (k) {
    case cudaMemcpyHostToHost: return "HostToHost";
    case cudaMemcpyHostToDevice: return "HostToDevice";
    case cudaMemcpyDeviceToHost: return "DeviceToHost";
    case cudaMemcpyDeviceToDevice: return "DeviceToDevice";
    default: return "Default";
    }
}

/* One side of a copy: device memory (its whole range inside one
 * allocation) where the kind says so, else not device memory. */
bool side_ok(const char *call, const char *side, const void *p, size_t bytes, bool device, bool either)
{
    if (either) return true;
    if (device && !find_alloc(p, bytes)) {
        fault("%s: %s %p + %zu bytes is not inside a device allocation", call, side, p, bytes);
        return false;
    }
    if (!device && is_device(p)) {
        fault("%s: %s %p is device memory, but the kind says host", call, side, p);
        return false;
    }
    return true;
}

cudaError_t copy(const char *call, void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s)
{
    if (sticky()) return ret(sticky());
    if (!stream_ok(s)) {
        fault("%s: stream %p was not created (or was destroyed)", call, (void *)s);
        return ret(cudaErrorInvalidResourceHandle);
    }
    if ((unsigned)kind > cudaMemcpyDefault) return ret(cudaErrorInvalidMemcpyDirection);
    if (bytes == 0) return cudaSuccess;
    if (!dst || !src) {
        fault("%s: NULL %s", call, dst ? "source" : "destination");
        return ret(cudaErrorInvalidValue);
    }
    const bool dd = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool sd = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    const bool any = kind == cudaMemcpyDefault;
    if (!side_ok(call, "destination", dst, bytes, dd, any) || !side_ok(call, "source", src, bytes, sd, any)) {
        fprintf(stderr, "cuda_emu:   (a %zu-byte %s copy)\n", bytes, kind_name(kind));
        return ret(cudaErrorInvalidValue);
    }
    if (overlap(dst, bytes, src, bytes)) {
        fault("%s: source and destination overlap", call);
        return ret(cudaErrorInvalidValue);
    }
    if (!s && prohibited(call)) return ret(cudaErrorStreamCaptureImplicit);
    if (mlp_emu_stream *c = capturing(s)) {
        if (c->invalid) return invalidated();
        /* a copy node's host memory must be pinned: a pageable one is
         * staged through the driver at the call, which a replay cannot do */
        const bool bad_dst = !dd && !any && !is_pinned(dst, bytes), bad_src = !sd && !any && !is_pinned(src, bytes);
        if (bad_dst || bad_src) {
            fault("%s captured with pageable host memory (%s %p, %zu bytes; only cudaMallocHost's may be): the "
                  "capture is invalidated",
                  call, bad_dst ? "destination" : "source", bad_dst ? dst : (void *)src, bytes);
            c->invalid = true;
            return ret(cudaErrorStreamCaptureUnsupported);
        }
        c->cap->nodes.push_back([=](cudaStream_t rs) { return copy(call, dst, src, bytes, kind, rs); });
        return cudaSuccess;
    }
    memcpy(dst, src, bytes);
    return cudaSuccess;
}

cudaError_t set(const char *call, void *p, int v, size_t bytes, cudaStream_t s)
{
    if (sticky()) return ret(sticky());
    if (!stream_ok(s)) {
        fault("%s: stream %p was not created (or was destroyed)", call, (void *)s);
        return ret(cudaErrorInvalidResourceHandle);
    }
    if (bytes == 0) return cudaSuccess;
    if (!find_alloc(p, bytes)) {
        fault("%s: %p + %zu bytes is not inside a device allocation", call, p, bytes);
        return ret(cudaErrorInvalidValue);
    }
    if (!s && prohibited(call)) return ret(cudaErrorStreamCaptureImplicit);
    if (mlp_emu_stream *c = capturing(s)) {
        if (c->invalid) return invalidated();
        c->cap->nodes.push_back([=](cudaStream_t rs) { return set(call, p, v, bytes, rs); });
        return cudaSuccess;
    }
    memset(p, v, bytes);
    return cudaSuccess;
}

/* ------------------------------------------------------------ fibers */

constexpr size_t STACK_BYTES = (size_t)256 << 10; /* a kernel thread's stack (ASan's redzones included) */

enum fiber_state { F_IDLE, F_READY, F_BARRIER, F_DONE };

struct fiber {
    char *stack; /* lowest usable byte (the guard page lies below) */
    size_t size;
#if EMU_ASM_SWITCH
    void *sp; /* its saved stack pointer while switched out */
#else
    jmp_buf env;
#endif
    void *fake = nullptr; /* ASan's fake stack while switched out */
    fiber_state state = F_IDLE;
};

void free_fiber(fiber *f);

/* One per host thread: the fibers, and the launch they run. */
struct scheduler {
    std::vector<fiber *> fibers;
#if EMU_ASM_SWITCH
    void *sp;
#else
    jmp_buf env;
#endif
    void *fake = nullptr;
    const void *stack_bottom = nullptr; /* the host thread's stack, for ASan */
    size_t stack_size = 0;
    fiber *cur = nullptr;
    void (*run)(const void *) = nullptr;
    const void *ctx = nullptr;
    ~scheduler()
    {
        for (fiber *f : fibers) free_fiber(f);
    }
};
thread_local scheduler S;

inline void start_switch(void **save, const void *bottom, size_t size)
{
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(save, bottom, size);
#else
    (void)save, (void)bottom, (void)size;
#endif
}

inline void finish_switch(void *save, const void **bottom_old, size_t *size_old)
{
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(save, bottom_old, size_old);
#else
    (void)save, (void)bottom_old, (void)size_old;
#endif
}

/* A fiber's life: park; then, each time it is resumed, run one CUDA
 * thread of the current launch and park again. */
[[noreturn]] void fiber_main(fiber *f);

#if EMU_ASM_SWITCH
} // namespace

/* x86-64: save the callee-saved registers on the current stack, store the
 * stack pointer in *save, load `to`, restore that stack's registers and
 * return into it.  A fresh stack (new_fiber) holds registers and a return
 * address into mlp_emu_fiber_start, which calls fiber_main with r12.  The
 * SSE/x87 control words, callee-saved too, are never changed here. */
extern "C" void mlp_emu_switch(void **save, void *to);
extern "C" void mlp_emu_fiber_start(void);
extern "C" [[noreturn]] __attribute__((used, visibility("hidden"))) void mlp_emu_fiber_entry(void *f)
{
    fiber_main((fiber *)f);
}
__asm__(".text\n"
        ".globl mlp_emu_switch\n"
        ".hidden mlp_emu_switch\n"
        ".type mlp_emu_switch, @function\n"
        "mlp_emu_switch:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size mlp_emu_switch, .-mlp_emu_switch\n"
        ".globl mlp_emu_fiber_start\n"
        ".hidden mlp_emu_fiber_start\n"
        ".type mlp_emu_fiber_start, @function\n"
        "mlp_emu_fiber_start:\n"
        "  movq %r12, %rdi\n"
        "  call mlp_emu_fiber_entry\n"
        "  ud2\n"
        ".size mlp_emu_fiber_start, .-mlp_emu_fiber_start\n");

namespace {

void switch_to(void **save, void *to) { mlp_emu_switch(save, to); }

/* The fiber's first stack: six registers (r12 = f), then the return
 * address mlp_emu_switch's ret takes; after it the stack pointer is a
 * multiple of 16, as mlp_emu_fiber_start's call needs. */
void prepare(fiber *f)
{
    const uintptr_t top = ((uintptr_t)f->stack + f->size) & ~(uintptr_t)15;
    void **sp = (void **)(top - 72);
    for (int i = 0; i < 9; i++) sp[i] = nullptr;
    sp[3] = f;                            /* r12 */
    sp[6] = (void *)&mlp_emu_fiber_start; /* the return address */
    f->sp = sp;
}

/* The scheduler gives the host thread to f until f suspends. */
void resume(fiber *f)
{
    S.cur = f;
    start_switch(&S.fake, f->stack, f->size);
    switch_to(&S.sp, f->sp);
    finish_switch(S.fake, nullptr, nullptr);
    S.cur = nullptr;
}

/* f gives the host thread back to the scheduler, in `state`. */
void suspend(fiber *f, fiber_state state)
{
    f->state = state;
    start_switch(&f->fake, S.stack_bottom, S.stack_size);
    switch_to(&f->sp, S.sp);
    finish_switch(f->fake, nullptr, nullptr);
}
#else
/* Elsewhere: ucontext starts a fiber, _setjmp/_longjmp switch (no system
 * call; under ASan its longjmp interceptor makes them slower). */
void resume(fiber *f)
{
    S.cur = f;
    if (!_setjmp(S.env)) {
        start_switch(&S.fake, f->stack, f->size);
        _longjmp(f->env, 1);
    }
    finish_switch(S.fake, nullptr, nullptr);
    S.cur = nullptr;
}

void suspend(fiber *f, fiber_state state)
{
    f->state = state;
    if (!_setjmp(f->env)) {
        start_switch(&f->fake, S.stack_bottom, S.stack_size);
        _longjmp(S.env, 1);
    }
    finish_switch(f->fake, nullptr, nullptr);
}

void fiber_start(unsigned hi, unsigned lo) { fiber_main((fiber *)(((uintptr_t)hi << 32) | lo)); }
#endif

void fiber_main(fiber *f)
{
    finish_switch(nullptr, &S.stack_bottom, &S.stack_size);
    fiber_state st = F_IDLE;
    for (;;) {
        suspend(f, st);
        S.run(S.ctx);
        st = F_DONE;
    }
}

fiber *new_fiber()
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *m = (char *)mmap(nullptr, STACK_BYTES + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m, page, PROT_NONE) != 0) {
        perror("cuda_emu: a fiber's stack");
        abort();
    }
    fiber *f = new fiber;
    f->stack = m + page;
    f->size = STACK_BYTES;
#if EMU_ASM_SWITCH
    prepare(f);
    resume(f); /* it parks at once (F_IDLE) */
#else
    ucontext_t uc, here;
    if (getcontext(&uc) != 0) abort();
    uc.uc_stack.ss_sp = f->stack;
    uc.uc_stack.ss_size = f->size;
    uc.uc_link = nullptr; /* fiber_main never returns */
    const uintptr_t a = (uintptr_t)f;
    makecontext(&uc, (void (*)(void))fiber_start, 2, (unsigned)(a >> 32), (unsigned)(a & 0xffffffffu));
    /* enter it once: it parks at once, its jmp_buf set */
    S.cur = f;
    if (!_setjmp(S.env)) {
        start_switch(&S.fake, f->stack, f->size);
        swapcontext(&here, &uc);
    }
    finish_switch(S.fake, nullptr, nullptr);
    S.cur = nullptr;
#endif
    return f;
}

/* At the host thread's end (every fiber parked). */
void free_fiber(fiber *f)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    munmap(f->stack - page, f->size + page);
    delete f;
}

/* One block (blockIdx set) of n threads. */
void run_block(const char *name, unsigned n)
{
    while (S.fibers.size() < n) S.fibers.push_back(new_fiber());
    for (unsigned t = 0; t < n; t++) S.fibers[t]->state = F_READY;
    bool told = false;
    for (unsigned phase = 0;; phase++) {
        for (unsigned i = 0; i < n; i++) {
            const unsigned t = phase & 1 ? n - 1 - i : i;
            fiber *f = S.fibers[t];
            if (f->state != F_READY) continue;
            threadIdx.x = t % blockDim.x;
            threadIdx.y = t / blockDim.x % blockDim.y;
            threadIdx.z = t / (blockDim.x * blockDim.y);
            resume(f);
        }
        unsigned waiting = 0, done = 0;
        for (unsigned t = 0; t < n; t++) {
            waiting += S.fibers[t]->state == F_BARRIER;
            done += S.fibers[t]->state == F_DONE;
        }
        if (waiting == 0) return;
        if (done && !told) {
            fault("kernel %s, block (%u,%u,%u): %u of %u threads returned without reaching __syncthreads #%u", name,
                  blockIdx.x, blockIdx.y, blockIdx.z, done, n, phase + 1);
            told = true;
        }
        for (unsigned t = 0; t < n; t++)
            if (S.fibers[t]->state == F_BARRIER) S.fibers[t]->state = F_READY;
    }
}

/* ------------------------------------------------------------ GEMM */

bool blas_ok(cublasHandle_t h)
{
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    return t.blas.count(h) != 0;
}

/* TF32: the mantissa rounded to its top 10 bits, to nearest with ties away
 * from zero (PTX's cvt.rna.tf32.f32, what cuBLAS's TF32 kernels convert
 * with); infinities and NaNs as they are.  (Some tensor-core paths
 * truncate instead; test_cuda's TF32 tolerance covers either.) */
float to_tf32(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) return x;
    u = (u + 0x1000u) & 0xffffe000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

inline float widen(float x, bool tf32) { return tf32 ? to_tf32(x) : x; }
inline float widen(__nv_bfloat16 x, bool) { return __bfloat162float(x); }
inline double widen(double x, bool) { return x; }

/* The elements a column-major rows x cols operand with leading dimension
 * ld spans (0 when empty). */
size_t span(int rows, int cols, int ld) { return rows && cols ? (size_t)ld * (size_t)(cols - 1) + (size_t)rows : 0; }

/* C = alpha op(A) op(B) + beta C, cuBLAS's column-major gemm: op(A) m x k,
 * op(B) k x n, C m x n; S the type the products are summed in (a plain
 * loop over k, in order); beta 0: C is only written. */
template <typename S, typename TA, typename TC>
cublasStatus_t gemm_run(const char *call, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, S al,
                        const TA *A, int lda, const TA *B, int ldb, S be, TC *C, int ldc, bool tf32);

template <typename S, typename TA, typename TC>
cublasStatus_t gemm(const char *call, cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                    int k, const S *alpha, const TA *A, int lda, const TA *B, int ldb, const S *beta, TC *C, int ldc,
                    bool tf32)
{
    if (!blas_ok(h)) {
        fault("%s: handle %p was not created (or was destroyed)", call, (void *)h);
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    const int ar = ta == CUBLAS_OP_N ? m : k, br = tb == CUBLAS_OP_N ? k : n;
    if ((ta != CUBLAS_OP_N && ta != CUBLAS_OP_T) || (tb != CUBLAS_OP_N && tb != CUBLAS_OP_T) || m < 0 || n < 0 ||
        k < 0 || lda < (ar > 1 ? ar : 1) || ldb < (br > 1 ? br : 1) || ldc < (m > 1 ? m : 1)) {
        fault("%s: bad arguments: op %d %d, m %d n %d k %d, lda %d ldb %d ldc %d", call, (int)ta, (int)tb, m, n, k,
              lda, ldb, ldc);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (!alpha || !beta || is_device(alpha) || is_device(beta)) {
        fault("%s: alpha and beta must be host pointers (CUBLAS_POINTER_MODE_HOST)", call);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (sticky()) return CUBLAS_STATUS_EXECUTION_FAILED;
    const S al = *alpha, be = *beta; /* host scalars: read at the call, captured or not */
    if (!h->stream && prohibited(call)) return CUBLAS_STATUS_EXECUTION_FAILED;
    if (mlp_emu_stream *c = stream_ok(h->stream) ? capturing(h->stream) : nullptr) {
        if (c->invalid) return CUBLAS_STATUS_EXECUTION_FAILED;
        if (!h->ws) {
            /* cuBLAS's documentation recommends a workspace of the user's
             * under graphs (else it allocates its own, in some releases
             * per capture); the engine follows it, and here it is a rule */
            fault("%s captured on a handle without cublasSetWorkspace (set after its cublasSetStream): the capture is "
                  "invalidated",
                  call);
            c->invalid = true;
            return CUBLAS_STATUS_NOT_SUPPORTED;
        }
        c->cap->nodes.push_back([=](cudaStream_t) {
            if (!blas_ok(h) || (h->ws && !find_alloc(h->ws, h->ws_bytes))) {
                fault("%s replayed: its handle or the handle's workspace is gone", call);
                g_sticky = cudaErrorIllegalAddress;
                return ret(cudaErrorIllegalAddress);
            }
            return gemm_run(call, ta, tb, m, n, k, al, A, lda, B, ldb, be, C, ldc, tf32) == CUBLAS_STATUS_SUCCESS
                       ? cudaSuccess
                       : ret(sticky() ? sticky() : cudaErrorLaunchFailure);
        });
        return CUBLAS_STATUS_SUCCESS;
    }
    return gemm_run(call, ta, tb, m, n, k, al, A, lda, B, ldb, be, C, ldc, tf32);
}

/* The GEMM itself, its arguments checked but for its operands' memory. */
template <typename S, typename TA, typename TC>
cublasStatus_t gemm_run(const char *call, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, S al,
                        const TA *A, int lda, const TA *B, int ldb, S be, TC *C, int ldc, bool tf32)
{
    if (sticky()) return CUBLAS_STATUS_EXECUTION_FAILED;
    const int ar = ta == CUBLAS_OP_N ? m : k, ac = ta == CUBLAS_OP_N ? k : m;
    const int br = tb == CUBLAS_OP_N ? k : n, bc = tb == CUBLAS_OP_N ? n : k;
    (void)ar, (void)br; /* gemm checked them against the leading dimensions */
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    const size_t na = k ? span(ar, ac, lda) : 0, nb = k ? span(br, bc, ldb) : 0, nc = span(m, n, ldc);
    const bool bad_a = na && !find_alloc(A, na * sizeof *A), bad_b = nb && !find_alloc(B, nb * sizeof *B),
               bad_c = !find_alloc(C, nc * sizeof *C);
    if (bad_a || bad_b || bad_c) {
        fault("%s: operand %s (%p) reaches outside its device allocation (m %d n %d k %d, ld %d %d %d)", call,
              bad_a ? "A" : bad_b ? "B" : "C", bad_a ? (const void *)A : bad_b ? (const void *)B : (const void *)C, m,
              n, k, lda, ldb, ldc);
        g_sticky = cudaErrorIllegalAddress;
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    if (overlap(C, nc * sizeof *C, A, na * sizeof *A) || overlap(C, nc * sizeof *C, B, nb * sizeof *B)) {
        fault("%s: C overlaps A or B", call);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    g_gemms++;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            S s = 0;
            for (int p = 0; p < k; p++) {
                const TA a = ta == CUBLAS_OP_N ? A[i + (size_t)p * lda] : A[p + (size_t)i * lda];
                const TA b = tb == CUBLAS_OP_N ? B[p + (size_t)j * ldb] : B[j + (size_t)p * ldb];
                s += (S)widen(a, tf32) * (S)widen(b, tf32);
            }
            TC *c = &C[i + (size_t)j * ldc];
            *c = (TC)(be == 0 ? al * s : al * s + be * (S)*c);
        }
    return CUBLAS_STATUS_SUCCESS;
}

} // namespace

/* ------------------------------------------------------------ the test's hooks */

extern "C" unsigned long mlp_cuda_emu_faults(void) { return g_faults.load(); }

extern "C" size_t mlp_cuda_emu_live_allocs(void)
{
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    return t.m.size() + t.pinned.size();
}

extern "C" void mlp_cuda_emu_graph_counts(unsigned long *captures, unsigned long *graph_launches, size_t *live)
{
    *captures = g_captures.load();
    *graph_launches = g_graph_launches.load();
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    size_t n = t.graphs.size() + t.execs.size();
    for (const void *p : t.streams) n += ((const mlp_emu_stream *)p)->cap != nullptr;
    *live = n;
}

extern "C" void mlp_cuda_emu_fail_malloc(unsigned long n) { g_fail_malloc = n; }

extern "C" void mlp_cuda_emu_counts(unsigned long *launches, unsigned long *blocks, unsigned long *gemms)
{
    *launches = g_launches.load();
    *blocks = g_blocks.load();
    *gemms = g_gemms.load();
}

/* ------------------------------------------------------------ runtime: devices */

cudaError_t cudaGetDeviceCount(int *n)
{
    if (!n) return ret(cudaErrorInvalidValue);
    *n = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int index)
{
    if (index != 0) return ret(cudaErrorInvalidDevice);
    t_device = index;
    return sticky() ? ret(sticky()) : cudaSuccess;
}

cudaError_t cudaGetDevice(int *index)
{
    if (!index) return ret(cudaErrorInvalidValue);
    *index = t_device;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr, int index)
{
    if (!value) return ret(cudaErrorInvalidValue);
    if (index != 0) return ret(cudaErrorInvalidDevice);
    switch (attr) {
    case cudaDevAttrComputeCapabilityMajor: *value = EMU_CC_MAJOR; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; return cudaSuccess;
    }
    return ret(cudaErrorInvalidValue);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int index)
{
    if (!p) return ret(cudaErrorInvalidValue);
    if (index != 0) return ret(cudaErrorInvalidDevice);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "CUDA emulation on the host");
    p->totalGlobalMem = (size_t)16 << 30;
    p->sharedMemPerBlock = 48 << 10;
    /* sm_80: the engine sizes cuBLAS's workspace by the major version (4
     * MiB before Hopper, 32 from it), and 32 MiB filled per engine opened
     * would be most of test_cuda_emu's time */
    p->major = EMU_CC_MAJOR;
    p->minor = 0;
    p->multiProcessorCount = 1;
    p->maxThreadsPerBlock = 1024;
    p->warpSize = 32;
    p->maxThreadsDim[0] = p->maxThreadsDim[1] = 1024;
    p->maxThreadsDim[2] = 64;
    p->maxGridSize[0] = 0x7fffffff;
    p->maxGridSize[1] = p->maxGridSize[2] = 65535;
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *v)
{
    if (!v) return ret(cudaErrorInvalidValue);
    *v = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *v)
{
    if (!v) return ret(cudaErrorInvalidValue);
    *v = CUDART_VERSION;
    return cudaSuccess;
}

const char *cudaGetErrorName(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorIllegalState: return "cudaErrorIllegalState";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureImplicit: return "cudaErrorStreamCaptureImplicit";
    case cudaErrorStreamCaptureWrongThread: return "cudaErrorStreamCaptureWrongThread";
    }
    return "cudaErrorUnknown";
}

const char *cudaGetErrorString(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorIllegalState: return "the resource is not in a valid state to perform the requested operation";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated:
        return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureImplicit:
        return "operation would make the legacy stream depend on a capturing blocking stream";
    case cudaErrorStreamCaptureWrongThread:
        return "attempt to terminate a thread-local capture sequence from another thread";
    }
    return "unknown error";
}

cudaError_t cudaGetLastError(void)
{
    const cudaError_t e = sticky() ? sticky() : t_last;
    t_last = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void) { return sticky() ? sticky() : t_last; }

/* ------------------------------------------------------------ runtime: memory */

/* cudaMalloc and cudaMallocHost: the same checks and filling, into the
 * table `which` (device memory, or page-locked host memory). */
static cudaError_t emu_alloc(const char *name, std::map<uintptr_t, size_t> alloc_table::*which, void **p,
                             size_t bytes)
{
    if (!p) return ret(cudaErrorInvalidValue);
    *p = nullptr;
    if (sticky()) return ret(sticky());
    if (prohibited(name)) return ret(cudaErrorStreamCaptureUnsupported);
    if (const unsigned long n = g_fail_malloc.load()) {
        g_fail_malloc = n - 1;
        if (n == 1) return ret(cudaErrorMemoryAllocation);
    }
    if (bytes == 0) return cudaSuccess;
    void *m = nullptr;
    if (posix_memalign(&m, 256, bytes) != 0) return ret(cudaErrorMemoryAllocation);
    memset(m, 0xff, bytes); /* not zeros: a GPU's fresh memory holds whatever was there */
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    (t.*which)[(uintptr_t)m] = bytes;
    *p = m;
    return cudaSuccess;
}

/* cudaFree and cudaFreeHost: p must start an allocation of `which`
 * (`what` says which kind in the fault). */
static cudaError_t emu_free(const char *name, std::map<uintptr_t, size_t> alloc_table::*which, const char *what,
                            void *p)
{
    if (!p) return cudaSuccess;
    if (prohibited(name)) return ret(cudaErrorStreamCaptureUnsupported);
    {
        alloc_table &t = table();
        std::lock_guard<std::mutex> lk(t.mu);
        auto it = (t.*which).find((uintptr_t)p);
        if (it == (t.*which).end()) {
            fault("%s(%p): not %s", name, p, what);
            return ret(cudaErrorInvalidValue);
        }
        (t.*which).erase(it);
    }
    free(p);
    return sticky() ? ret(sticky()) : cudaSuccess;
}

cudaError_t cudaMalloc(void **p, size_t bytes) { return emu_alloc("cudaMalloc", &alloc_table::m, p, bytes); }

cudaError_t cudaFree(void *p)
{
    return emu_free("cudaFree", &alloc_table::m, "a device allocation's start (freed twice? a host pointer?)", p);
}

/* Page-locked host memory: host memory (not device memory to the checks),
 * in a table of its own that captured copies are checked against; a
 * failing allocation counts as cudaMalloc's do (mlp_cuda_emu_fail_malloc). */
cudaError_t cudaMallocHost(void **p, size_t bytes)
{
    return emu_alloc("cudaMallocHost", &alloc_table::pinned, p, bytes);
}

cudaError_t cudaFreeHost(void *p)
{
    return emu_free("cudaFreeHost", &alloc_table::pinned, "a cudaMallocHost allocation's start", p);
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
    return copy("cudaMemcpy", dst, src, bytes, kind, nullptr);
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s)
{
    return copy("cudaMemcpyAsync", dst, src, bytes, kind, s);
}

cudaError_t cudaMemset(void *p, int v, size_t bytes) { return set("cudaMemset", p, v, bytes, nullptr); }

cudaError_t cudaMemsetAsync(void *p, int v, size_t bytes, cudaStream_t s)
{
    return set("cudaMemsetAsync", p, v, bytes, s);
}

/* ------------------------------------------------------------ runtime: streams */

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
    if (!s || (flags & ~1u)) return ret(cudaErrorInvalidValue);
    if (sticky()) return ret(sticky());
    *s = new mlp_emu_stream{flags, nullptr, cudaStreamCaptureModeGlobal, std::thread::id(), false};
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    t.streams.insert(*s);
    return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t *s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }

/* Destroying a handle (stream, graph, executable graph, cuBLAS handle): h
 * leaves its table `which`; one it does not hold (NULL, destroyed twice,
 * never made) is a fault saying `what` it should have been. */
static bool forget(std::set<const void *> alloc_table::*which, const void *h, const char *call, const char *what)
{
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    if (h && (t.*which).erase(h)) return true;
    fault("%s(%p): not %s", call, h, what);
    return false;
}

cudaError_t cudaStreamDestroy(cudaStream_t s)
{
    if (!forget(&alloc_table::streams, s, "cudaStreamDestroy", "a stream")) return ret(cudaErrorInvalidResourceHandle);
    if (s->cap) {
        fault("cudaStreamDestroy(%p): the stream is still capturing (no cudaStreamEndCapture)", (void *)s);
        delete s->cap;
    }
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
    if (!stream_ok(s)) {
        fault("cudaStreamSynchronize(%p): not a stream", (void *)s);
        return ret(cudaErrorInvalidResourceHandle);
    }
    if (mlp_emu_stream *c = capturing(s)) {
        /* waiting for a stream that is being captured: never allowed */
        fault("cudaStreamSynchronize(%p) of a capturing stream: the capture is invalidated", (void *)s);
        c->invalid = true;
        return ret(cudaErrorStreamCaptureUnsupported);
    }
    if (!s && prohibited("cudaStreamSynchronize(legacy stream)")) return ret(cudaErrorStreamCaptureImplicit);
    return sticky() ? ret(sticky()) : cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void)
{
    if (prohibited("cudaDeviceSynchronize", true)) return ret(cudaErrorStreamCaptureUnsupported);
    return sticky() ? ret(sticky()) : cudaSuccess;
}

/* ------------------------------------------------------------ runtime: graphs */

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode)
{
    if (!stream_ok(s) || !s) {
        fault("cudaStreamBeginCapture(%p): not a stream the runtime can capture (the legacy stream cannot be)",
              (void *)s);
        return ret(s ? cudaErrorInvalidResourceHandle : cudaErrorStreamCaptureUnsupported);
    }
    if (mode != cudaStreamCaptureModeGlobal && mode != cudaStreamCaptureModeThreadLocal &&
        mode != cudaStreamCaptureModeRelaxed)
        return ret(cudaErrorInvalidValue);
    if (s->cap) {
        fault("cudaStreamBeginCapture(%p): the stream is already capturing", (void *)s);
        return ret(cudaErrorIllegalState);
    }
    if (sticky()) return ret(sticky());
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    s->cap = new mlp_emu_graph;
    s->mode = mode;
    s->thread = std::this_thread::get_id();
    s->invalid = false;
    return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g)
{
    if (!g) return ret(cudaErrorInvalidValue);
    *g = nullptr;
    if (!stream_ok(s) || !s || !s->cap) {
        fault("cudaStreamEndCapture(%p): the stream is not capturing", (void *)s);
        return ret(s && stream_ok(s) ? cudaErrorIllegalState : cudaErrorInvalidResourceHandle);
    }
    if (s->mode != cudaStreamCaptureModeRelaxed && s->thread != std::this_thread::get_id()) {
        fault("cudaStreamEndCapture(%p): from another thread than its cudaStreamBeginCapture", (void *)s);
        return ret(cudaErrorStreamCaptureWrongThread);
    }
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    mlp_emu_graph *graph = s->cap;
    s->cap = nullptr;
    if (s->invalid) {
        /* a prohibited call (reported then) spoilt it: no graph */
        s->invalid = false;
        delete graph;
        return ret(cudaErrorStreamCaptureInvalidated);
    }
    t.graphs.insert(graph);
    *g = graph;
    g_captures++;
    return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus *status)
{
    if (!status) return ret(cudaErrorInvalidValue);
    if (!stream_ok(s)) {
        fault("cudaStreamIsCapturing(%p): not a stream", (void *)s);
        return ret(cudaErrorInvalidResourceHandle);
    }
    *status = !s || !s->cap ? cudaStreamCaptureStatusNone
              : s->invalid  ? cudaStreamCaptureStatusInvalidated
                            : cudaStreamCaptureStatusActive;
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t g, unsigned long long flags)
{
    if (!exec) return ret(cudaErrorInvalidValue);
    *exec = nullptr;
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    if (!g || !t.graphs.count(g)) {
        fault("cudaGraphInstantiate(%p): not a graph (a failed capture's NULL? destroyed?)", (void *)g);
        return ret(cudaErrorInvalidValue);
    }
    if (flags != 0) {
        fault("cudaGraphInstantiate: flags %llu are not emulated", flags);
        return ret(cudaErrorInvalidValue);
    }
    *exec = new mlp_emu_graph_exec{g->nodes};
    t.execs.insert(*exec);
    return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s)
{
    {
        alloc_table &t = table();
        std::lock_guard<std::mutex> lk(t.mu);
        if (!exec || !t.execs.count(exec)) {
            fault("cudaGraphLaunch(%p): not an executable graph (a failed capture's? destroyed?)", (void *)exec);
            return ret(cudaErrorInvalidResourceHandle);
        }
    }
    if (!stream_ok(s)) {
        fault("cudaGraphLaunch: stream %p was not created (or was destroyed)", (void *)s);
        return ret(cudaErrorInvalidResourceHandle);
    }
    if (capturing(s)) {
        fault("cudaGraphLaunch into a capturing stream (a child graph): not emulated");
        s->invalid = true;
        return ret(cudaErrorStreamCaptureUnsupported);
    }
    if (!s && prohibited("cudaGraphLaunch")) return ret(cudaErrorStreamCaptureImplicit);
    if (sticky()) return ret(sticky());
    g_graph_launches++;
    for (const emu_node &n : exec->nodes)
        if (const cudaError_t e = n(s)) return ret(e);
    return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec)
{
    if (!forget(&alloc_table::execs, exec, "cudaGraphExecDestroy", "an executable graph (destroyed twice?)"))
        return ret(cudaErrorInvalidValue);
    delete exec;
    return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t g)
{
    if (!forget(&alloc_table::graphs, g, "cudaGraphDestroy", "a graph (destroyed twice?)")) return ret(cudaErrorInvalidValue);
    delete g;
    return cudaSuccess;
}

/* ------------------------------------------------------------ launches */

void __syncthreads(void)
{
    if (!S.cur) {
        fault("__syncthreads outside a kernel");
        abort();
    }
    suspend(S.cur, F_BARRIER);
}

namespace {

/* The launch's checks but its pointers' (the configuration, the stream);
 * cudaSuccess or the error, already the last error. */
cudaError_t launch_check(const char *name, dim3 g, dim3 b, size_t shmem, cudaStream_t s)
{
    if (S.cur) {
        fault("kernel %s launched from inside a kernel", name);
        abort();
    }
    if (sticky()) return ret(sticky());
    if (!stream_ok(s)) {
        fault("kernel %s: stream %p was not created (or was destroyed)", name, (void *)s);
        return ret(cudaErrorInvalidResourceHandle);
    }
    /* the runtime's limits (compute capability 7.5 and later) */
    const unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
    if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > 1024 || b.y > 1024 || b.z > 64 || threads > 1024 || g.x == 0 ||
        g.y == 0 || g.z == 0 || g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535 || shmem > (48u << 10)) {
        fault("kernel %s: bad launch: grid (%u,%u,%u), block (%u,%u,%u), %zu bytes of shared memory", name, g.x, g.y,
              g.z, b.x, b.y, b.z, shmem);
        return ret(cudaErrorInvalidConfiguration);
    }
    return cudaSuccess;
}

/* The launch run now: its checks, then every block. */
cudaError_t launch_now(const char *name, dim3 g, dim3 b, size_t shmem, cudaStream_t s, void (*run)(const void *),
                       const void *ctx, const void *const *ptrs, size_t n_ptrs)
{
    if (const cudaError_t e = launch_check(name, g, b, shmem, s)) return e;
    const unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
    for (size_t i = 0; i < n_ptrs; i++)
        if (ptrs[i] && !find_alloc(ptrs[i], 0)) {
            /* a host pointer (or a freed one) handed to a kernel: an
             * illegal address on a GPU, sticky */
            fault("kernel %s: pointer argument %zu (%p) is not device memory", name, i + 1, ptrs[i]);
            g_sticky = cudaErrorIllegalAddress;
            return ret(cudaErrorIllegalAddress);
        }
    g_launches++;
    S.run = run;
    S.ctx = ctx;
    gridDim = {g.x, g.y, g.z};
    blockDim = {b.x, b.y, b.z};
    for (unsigned z = 0; z < g.z; z++)
        for (unsigned y = 0; y < g.y; y++)
            for (unsigned x = 0; x < g.x; x++) {
                blockIdx.x = x;
                blockIdx.y = y;
                blockIdx.z = z;
                run_block(name, (unsigned)threads);
                g_blocks++;
            }
    S.run = nullptr;
    S.ctx = nullptr;
    return cudaSuccess;
}

} // namespace

void mlp_emu::launch(const char *name, dim3 g, dim3 b, size_t shmem, cudaStream_t s, void (*run)(const void *),
                     const void *ctx, const void *const *ptrs, size_t n_ptrs, void *(*clone)(const void *),
                     void (*drop)(void *))
{
    if (!s && prohibited(name)) {
        ret(cudaErrorStreamCaptureImplicit);
        return;
    }
    if (mlp_emu_stream *c = stream_ok(s) ? capturing(s) : nullptr) {
        if (launch_check(name, g, b, shmem, s)) return;
        if (c->invalid) {
            invalidated();
            return;
        }
        /* the arguments as they are now; the pointers are checked at replay */
        const std::shared_ptr<void> args(clone(ctx), drop);
        const std::vector<const void *> pv(ptrs, ptrs + n_ptrs);
        c->cap->nodes.push_back([=](cudaStream_t rs) {
            return launch_now(name, g, b, shmem, rs, run, args.get(), pv.data(), pv.size());
        });
        return;
    }
    launch_now(name, g, b, shmem, s, run, ctx, ptrs, n_ptrs);
}

/* ------------------------------------------------------------ cuBLAS */


cublasStatus_t cublasCreate(cublasHandle_t *h)
{
    if (!h) return CUBLAS_STATUS_INVALID_VALUE;
    *h = new mlp_emu_blas;
    alloc_table &t = table();
    std::lock_guard<std::mutex> lk(t.mu);
    t.blas.insert(*h);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t h)
{
    if (!forget(&alloc_table::blas, h, "cublasDestroy", "a handle")) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s)
{
    if (!blas_ok(h)) {
        fault("cublasSetStream: handle %p was not created (or was destroyed)", (void *)h);
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    if (!stream_ok(s)) {
        fault("cublasSetStream: stream %p was not created (or was destroyed)", (void *)s);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    h->stream = s;
    h->ws = nullptr; /* as cuBLAS: back to its default workspace pool */
    h->ws_bytes = 0;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t h, void *workspace, size_t bytes)
{
    if (!blas_ok(h)) {
        fault("cublasSetWorkspace: handle %p was not created (or was destroyed)", (void *)h);
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    /* device memory, 256-byte aligned (cuBLAS's documented requirement) */
    if (bytes && (!find_alloc(workspace, bytes) || (uintptr_t)workspace % 256)) {
        fault("cublasSetWorkspace: %p + %zu bytes is not an aligned range of a device allocation", workspace, bytes);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    h->ws = bytes ? workspace : nullptr;
    h->ws_bytes = bytes;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t mode)
{
    if (!blas_ok(h)) {
        fault("cublasSetMathMode: handle %p was not created (or was destroyed)", (void *)h);
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    if (mode != CUBLAS_DEFAULT_MATH && mode != CUBLAS_TENSOR_OP_MATH && mode != CUBLAS_PEDANTIC_MATH &&
        mode != CUBLAS_TF32_TENSOR_OP_MATH)
        return CUBLAS_STATUS_INVALID_VALUE;
    h->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}

const char *cublasGetStatusName(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}

const char *cublasGetStatusString(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    }
    return "unknown error";
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc)
{
    const bool tf32 = blas_ok(h) && h->math == CUBLAS_TF32_TENSOR_OP_MATH;
    return gemm<float>("cublasSgemm", h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, tf32);
}

cublasStatus_t cublasDgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double *alpha, const double *A, int lda, const double *B, int ldb,
                           const double *beta, double *C, int ldc)
{
    return gemm<double>("cublasDgemm", h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, false);
}

/* The combinations the engine uses: bf16 or f32 inputs, f32 output, f32
 * compute (TF32 where the compute type or the handle's math mode asks). */
cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType at, int lda, const void *B,
                            cudaDataType bt, int ldb, const void *beta, void *C, cudaDataType ct, int ldc,
                            cublasComputeType_t compute, cublasGemmAlgo_t algo)
{
    (void)algo;
    if (at != bt || (at != CUDA_R_16BF && at != CUDA_R_32F) || ct != CUDA_R_32F ||
        (compute != CUBLAS_COMPUTE_32F && compute != CUBLAS_COMPUTE_32F_FAST_TF32)) {
        fault("cublasGemmEx: types A %d B %d C %d compute %d: not emulated", (int)at, (int)bt, (int)ct, (int)compute);
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    const float *al = (const float *)alpha, *be = (const float *)beta;
    if (at == CUDA_R_16BF)
        return gemm<float>("cublasGemmEx", h, ta, tb, m, n, k, al, (const __nv_bfloat16 *)A, lda,
                           (const __nv_bfloat16 *)B, ldb, be, (float *)C, ldc, false);
    const bool tf32 =
        compute == CUBLAS_COMPUTE_32F_FAST_TF32 || (blas_ok(h) && h->math == CUBLAS_TF32_TENSOR_OP_MATH);
    return gemm<float>("cublasGemmEx", h, ta, tb, m, n, k, al, (const float *)A, lda, (const float *)B, ldb, be,
                       (float *)C, ldc, tf32);
}

/* ------------------------------------------------------------ the capture checks' test */

namespace {

__global__ void k_selftest(int *p, int v) { p[threadIdx.x] = v; }

} // namespace

/* Each misuse must fault (and fail its call); a capture done right must
 * replay its launch with the arguments it had at capture and its copy
 * with what the pinned source holds at replay.  The faults made here are
 * taken back off the count, and not printed. */
extern "C" unsigned long mlp_cuda_emu_selftest(void)
{
    const unsigned long faults0 = g_faults.load();
    t_quiet = true;
    unsigned long missed = 0;
    unsigned long before = 0;
    auto expect = [&](const char *what, bool ok) {
        if (!ok) {
            fprintf(stderr, "cuda_emu selftest: %s\n", what);
            missed++;
        }
    };
    auto faulted = [&](const char *what) {
        expect(what, g_faults.load() > before);
        before = g_faults.load();
    };
    cudaStream_t s = nullptr, s2 = nullptr;
    int *dev = nullptr, *pin = nullptr;
    int host[4] = {0, 0, 0, 0};
    cudaGraph_t g = nullptr;
    cudaGraphExec_t e = nullptr;
    cublasHandle_t h = nullptr;
    float *fm = nullptr;
    if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) || cudaMalloc(&dev, 64 * sizeof(int)) ||
        cudaMallocHost((void **)&pin, 4 * sizeof(int)) || cudaMalloc(&fm, 4 * sizeof(float)) ||
        cublasCreate(&h) || cublasSetStream(h, s)) {
        fprintf(stderr, "cuda_emu selftest: setup failed\n");
        t_quiet = false;
        return 1;
    }
    before = g_faults.load();

    /* done right: recorded, not run; replayed with the capture's v and the
     * pinned source's value at replay */
    int v = 7;
    expect("capture begins", cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal) == cudaSuccess);
    MLP_EMU_LAUNCH(k_selftest, 1, 4, 0, s, dev, v);
    v = 9;
    expect("a captured pinned copy", cudaMemcpyAsync(dev + 8, pin, sizeof(int), cudaMemcpyHostToDevice, s) == 0);
    expect("a launch is recorded, not run", dev[0] != 7);
    expect("capture ends", cudaStreamEndCapture(s, &g) == cudaSuccess && g);
    expect("instantiate", cudaGraphInstantiate(&e, g, 0) == cudaSuccess && e);
    pin[0] = 42;
    expect("launch", cudaGraphLaunch(e, s) == cudaSuccess);
    expect("replayed with the capture's arguments", dev[0] == 7 && dev[3] == 7 && dev[8] == 42);
    expect("no fault when done right", g_faults.load() == before);
    cudaGraphExecDestroy(e);
    cudaGraphDestroy(g);
    e = nullptr;
    g = nullptr;

    /* cudaMalloc during a capture; then the failed capture's graph */
    cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal);
    void *m = nullptr;
    expect("cudaMalloc during a capture fails", cudaMalloc(&m, 16) == cudaErrorStreamCaptureUnsupported);
    faulted("cudaMalloc during a capture");
    expect("an invalidated capture ends in an error, no graph",
           cudaStreamEndCapture(s, &g) == cudaErrorStreamCaptureInvalidated && !g);
    expect("instantiating no graph fails", cudaGraphInstantiate(&e, g, 0) != cudaSuccess);
    faulted("instantiating a failed capture's graph");
    expect("launching no graph fails", cudaGraphLaunch(e, s) != cudaSuccess);
    faulted("launching a failed capture's graph");

    /* synchronising the capturing stream */
    cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    expect("cudaStreamSynchronize during its capture fails", cudaStreamSynchronize(s) != cudaSuccess);
    faulted("cudaStreamSynchronize of a capturing stream");
    cudaStreamEndCapture(s, &g);

    /* a captured copy to pageable memory */
    cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    expect("a captured copy to pageable memory fails",
           cudaMemcpyAsync(host, dev, sizeof host, cudaMemcpyDeviceToHost, s) != cudaSuccess);
    faulted("a captured copy to pageable memory");
    cudaStreamEndCapture(s, &g);

    /* a GEMM captured without cublasSetWorkspace, then with one */
    const float one = 1, zero = 0;
    cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    expect("a GEMM captured without a workspace fails",
           cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, fm, 1, fm + 1, 1, &zero, fm + 2, 1) !=
               CUBLAS_STATUS_SUCCESS);
    faulted("a GEMM captured without a workspace");
    cudaStreamEndCapture(s, &g);
    void *ws = nullptr;
    cudaMalloc(&ws, 1024);
    expect("cublasSetWorkspace", cublasSetWorkspace(h, ws, 1024) == CUBLAS_STATUS_SUCCESS);
    fm[0] = 2, fm[1] = 3, fm[2] = 0;
    cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    expect("a GEMM captured with a workspace",
           cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, fm, 1, fm + 1, 1, &zero, fm + 2, 1) ==
               CUBLAS_STATUS_SUCCESS);
    expect("its capture ends", cudaStreamEndCapture(s, &g) == cudaSuccess && g);
    expect("a recorded GEMM is not run", fm[2] == 0);
    cudaGraphInstantiate(&e, g, 0);
    fm[0] = 5;
    expect("a replayed GEMM reads its operands then", cudaGraphLaunch(e, s) == cudaSuccess && fm[2] == 15);
    expect("no fault when done right", g_faults.load() == before);
    cudaGraphExecDestroy(e);
    cudaGraphDestroy(g);
    e = nullptr;
    g = nullptr;

    /* ending what is not a capture; a stream destroyed while capturing */
    expect("ending no capture fails", cudaStreamEndCapture(s, &g) != cudaSuccess);
    faulted("ending no capture");
    cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking);
    cudaStreamBeginCapture(s2, cudaStreamCaptureModeThreadLocal);
    cudaStreamDestroy(s2);
    faulted("a capturing stream destroyed");

    cublasDestroy(h);
    cudaFree(ws);
    cudaFree(fm);
    cudaFreeHost(pin);
    cudaFree(dev);
    cudaStreamDestroy(s);
    g_faults = faults0;
    t_quiet = false;
    return missed;
}
