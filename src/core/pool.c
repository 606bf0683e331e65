/* SPDX-License-Identifier: MIT */
/* The thread pool, the process-wide thread count and kernel choice.
 *
 * Written by hand rather than with OpenMP: the passes need a fixed task ->
 * thread mapping (determinism), per-thread scratch that outlives a call (no
 * allocation per mini-batch), a fallback when called re-entrantly, and a
 * hand-off cheap enough for ~2000 mini-batches a second; and the one pool
 * must coordinate with the BLAS's own threads, which OpenMP would not know
 * about.
 *
 * Hand-off: the caller bumps a generation counter; workers spin on it for a
 * short while after each job (the next mini-batch usually follows within
 * microseconds), then sleep on a condition variable.  The caller runs its
 * own share of the tasks, then spins until the workers have checked in. */
#include "core/pool.h"

#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* OpenBLAS's thread control (declared by its cblas.h; repeated here so that
 * this file documents what it relies on). */
void openblas_set_num_threads(int n);

#define MAX_THREADS MLP_MAX_THREADS
/* How long an idle worker spins before it sleeps.  Waking a sleeping one
 * costs tens of microseconds or more in a VM (futex + IPI), which at 200 us
 * of spin halved W5 on 2 threads (34k vs 105k samples/s): mini-batches come
 * every ~0.6 ms, so stay awake well beyond that. */
#define SPIN_NS 5000000L

struct scratch {
    void *p;
    size_t n;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int busy;
    int size;    /* threads in force; 0 until first use */
    int started; /* workers running: ids 1..started */
    int sleepers;
    atomic_uint gen;
    unsigned start_gen[MAX_THREADS]; /* the generation a worker was made in */
    atomic_int pending;
    void (*fn)(void *, uint32_t);
    void *ctx;
    uint32_t n_tasks, nt_job;
    enum mlp_kernels kernels;
    struct scratch scratch[MAX_THREADS][MLP_POOL_SCRATCH];
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* One round of waiting for another thread: spin briefly, then yield (on an
 * oversubscribed machine the thread waited for may need this very core). */
static inline void backoff(unsigned spins)
{
    if (spins < 4096)
        cpu_relax();
    else
        sched_yield();
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int online_cores(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c < 1 ? 1 : c > MAX_THREADS ? MAX_THREADS : (int)c;
}

/* The BLAS gets the threads when the kernels leave threading to it, and one
 * thread when our pool runs several BLAS calls side by side. */
static void apply_blas_threads(void)
{
    openblas_set_num_threads(P.kernels == MLP_KERNELS_FAST ? 1 : P.size);
}

int mlp__pool_size(void)
{
    /* First use without mlp_set_threads: all cores, like the BLAS. */
    if (P.size == 0) mlp_set_threads(0);
    return P.size;
}

int mlp_get_threads(void) { return mlp__pool_size(); }

void mlp_set_threads(int n)
{
    if (n <= 0) n = online_cores();
    if (n > MAX_THREADS) n = MAX_THREADS;
    P.size = n;
    apply_blas_threads();
}

void mlp_set_kernels(enum mlp_kernels k)
{
    MLP_ASSERT((unsigned)k <= MLP_KERNELS_NAIVE);
    P.kernels = k;
    if (P.size == 0) P.size = online_cores();
    apply_blas_threads();
}

enum mlp_kernels mlp_get_kernels(void) { return P.kernels; }

static const char *const kernel_names[] = {"fast", "batched", "per-sample", "naive"};

const char *mlp_kernels_name(enum mlp_kernels k)
{
    return (unsigned)k <= MLP_KERNELS_NAIVE ? kernel_names[k] : "?";
}

int mlp_kernels_parse(const char *s)
{
    for (int i = 0; i <= MLP_KERNELS_NAIVE; i++)
        if (strcasecmp(s, kernel_names[i]) == 0) return i;
    if (strcasecmp(s, "persample") == 0) return MLP_KERNELS_PERSAMPLE;
    return -1;
}

static void run_share(uint32_t id)
{
    for (uint32_t t = id; t < P.n_tasks; t += P.nt_job) P.fn(P.ctx, t);
}

static void *worker(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    /* Not the generation now: the job this worker was started for may
     * already have been published. */
    unsigned seen = P.start_gen[id];
    for (;;) {
        unsigned g = atomic_load_explicit(&P.gen, memory_order_acquire);
        long t0 = now_ns();
        for (unsigned spins = 0; g == seen; spins++) {
            cpu_relax();
            if ((spins & 255) == 255 && now_ns() - t0 > SPIN_NS) {
                pthread_mutex_lock(&P.mu);
                P.sleepers++;
                while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen)
                    pthread_cond_wait(&P.cv, &P.mu);
                P.sleepers--;
                pthread_mutex_unlock(&P.mu);
                break;
            }
            g = atomic_load_explicit(&P.gen, memory_order_acquire);
        }
        seen = g;
        if (id < P.nt_job) run_share(id);
        atomic_fetch_sub_explicit(&P.pending, 1, memory_order_acq_rel);
    }
    return NULL;
}

/* A child of fork() has only the thread that forked: the pool's workers
 * are not there, and a run that waited for them would wait forever (a
 * program that loads a CSV in a forked child did).  The child starts over
 * with no workers, its own lock, and the pool free. */
static void forget_workers_after_fork(void)
{
    P.started = 0;
    P.sleepers = 0;
    atomic_store(&P.pending, 0);
    atomic_store(&P.busy, 0);
    pthread_mutex_init(&P.mu, NULL);
    pthread_cond_init(&P.cv, NULL);
}

static void watch_fork(void) { pthread_atfork(NULL, NULL, forget_workers_after_fork); }

/* Start workers up to id want-1; returns how many threads can take part. */
static int ensure_workers(int want)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (P.started + 1 < want) pthread_once(&once, watch_fork);
    while (P.started + 1 < want) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        P.start_gen[P.started + 1] = atomic_load(&P.gen);
        int rc = pthread_create(&th, &at, worker, (void *)(uintptr_t)(P.started + 1));
        pthread_attr_destroy(&at);
        if (rc != 0) break; /* fewer threads, same results per task */
        P.started++;
    }
    return P.started + 1 < want ? P.started + 1 : want;
}

int mlp__pool_acquire(void)
{
    int expect = 0;
    return atomic_compare_exchange_strong(&P.busy, &expect, 1);
}

void mlp__pool_release(void) { atomic_store(&P.busy, 0); }

void mlp__pool_run(uint32_t n_tasks, void (*fn)(void *ctx, uint32_t task), void *ctx)
{
    if (n_tasks == 0) return;
    int nt = mlp__pool_size();
    if ((uint32_t)nt > n_tasks) nt = (int)n_tasks;
    if (nt > 1) nt = ensure_workers(nt);
    if (nt <= 1) {
        for (uint32_t t = 0; t < n_tasks; t++) fn(ctx, t);
        return;
    }
    P.fn = fn;
    P.ctx = ctx;
    P.n_tasks = n_tasks;
    P.nt_job = (uint32_t)nt;
    atomic_store_explicit(&P.pending, P.started, memory_order_relaxed);
    pthread_mutex_lock(&P.mu);
    atomic_fetch_add_explicit(&P.gen, 1, memory_order_release);
    if (P.sleepers) pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.mu);
    run_share(0);
    for (unsigned spins = 0; atomic_load_explicit(&P.pending, memory_order_acquire) > 0; spins++) backoff(spins);
}

uint32_t mlp__pool_gang(void)
{
    int nt = mlp__pool_size();
    return (uint32_t)(nt > 1 ? ensure_workers(nt) : 1);
}

void mlp__barrier_init(struct mlp_barrier *b, unsigned n)
{
    atomic_init(&b->arrived, 0);
    atomic_init(&b->phase, 0);
    b->n = n;
}

void mlp__barrier_wait(struct mlp_barrier *b)
{
    unsigned ph = atomic_load_explicit(&b->phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) + 1 == b->n) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->phase, 1, memory_order_release);
        return;
    }
    for (unsigned spins = 0; atomic_load_explicit(&b->phase, memory_order_acquire) == ph; spins++) backoff(spins);
}

void mlp__pool_for(uint32_t n_tasks, void (*fn)(void *ctx, uint32_t task), void *ctx)
{
    if (mlp__pool_acquire()) {
        mlp__pool_run(n_tasks, fn, ctx);
        mlp__pool_release();
        return;
    }
    for (uint32_t t = 0; t < n_tasks; t++) fn(ctx, t);
}

void *mlp__pool_scratch(uint32_t slot, int which, size_t bytes)
{
    MLP_ASSERT(slot < MAX_THREADS && which >= 0 && which < MLP_POOL_SCRATCH);
    struct scratch *s = &P.scratch[slot][which];
    if (bytes > s->n) {
        mlp__afree(s->p);
        s->p = mlp__amalloc(bytes);
        s->n = s->p ? bytes : 0;
    }
    return s->p;
}
