/* SPDX-License-Identifier: MIT */
/* A thread pool: each mlp_context owns one (core/context.c).
 *
 * Written by hand rather than with OpenMP: the passes need a fixed task ->
 * thread mapping (determinism), per-thread scratch that outlives a call (no
 * allocation per mini-batch), a fallback when called re-entrantly, and a
 * hand-off cheap enough for ~2000 mini-batches a second; and a pool
 * must coordinate with the BLAS's own threads (the pass sets their count,
 * kernels/blas.c), which OpenMP would not know
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
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>


#define MAX_THREADS MLP_MAX_THREADS
/* How long an idle worker spins before it sleeps.  Waking a sleeping one
 * costs tens of microseconds or more in a VM (futex + IPI), which at 200 us
 * of spin halved W5 on 2 threads (34k vs 105k samples/s): mini-batches come
 * every ~0.6 ms, so stay awake well beyond that. */
#define SPIN_S 5e-3

struct scratch {
    void *p;
    size_t n;
};

struct mlp_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int busy;
    int size;    /* threads a job may use (>= 1) */
    int started; /* workers running: ids 1..started */
    int sleepers;
    atomic_uint gen;
    unsigned start_gen[MAX_THREADS]; /* the generation a worker was made in */
    atomic_int pending;
    void (*fn)(void *, uint32_t);
    void *ctx;
    uint32_t n_tasks, nt_job;
    int stop;    /* set by mlp__pool_free: workers return */
    unsigned forks; /* fork_gen when the workers were started */
    pthread_t th[MAX_THREADS];
    struct scratch scratch[MAX_THREADS][MLP_POOL_SCRATCH];
};

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

int mlp__online_cores(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c < 1 ? 1 : c > MAX_THREADS ? MAX_THREADS : (int)c;
}

int mlp__pool_size(const struct mlp_pool *P) { return P->size; }

static void run_share(struct mlp_pool *P, uint32_t id)
{
    for (uint32_t t = id; t < P->n_tasks; t += P->nt_job) P->fn(P->ctx, t);
}

/* A child of fork() has only the thread that forked: a pool's workers are
 * not there, and a run that waited for them would wait forever (a program
 * that loads a CSV in a forked child did).  Every fork bumps fork_gen in the
 * child; a pool that finds it changed starts over with no workers, its own
 * lock, and itself free (the child is single-threaded then). */
static atomic_uint fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void count_fork(void) { atomic_fetch_add(&fork_gen, 1); }
static void watch_forks(void) { pthread_atfork(NULL, NULL, count_fork); }

static void forget_workers_after_fork(struct mlp_pool *P)
{
    P->started = 0;
    P->sleepers = 0;
    atomic_store(&P->pending, 0);
    atomic_store(&P->busy, 0);
    pthread_mutex_init(&P->mu, NULL);
    pthread_cond_init(&P->cv, NULL);
    P->forks = atomic_load(&fork_gen);
}

struct worker_arg {
    struct mlp_pool *pool;
    uint32_t id;
};

static void *worker(void *arg)
{
    struct worker_arg wa = *(struct worker_arg *)arg;
    free(arg);
    struct mlp_pool *P = wa.pool;
    uint32_t id = wa.id;
    /* Not the generation now: the job this worker was started for may
     * already have been published. */
    unsigned seen = P->start_gen[id];
    for (;;) {
        unsigned g = atomic_load_explicit(&P->gen, memory_order_acquire);
        double t0 = mlp__now();
        for (unsigned spins = 0; g == seen; spins++) {
            cpu_relax();
            if ((spins & 255) == 255 && mlp__now() - t0 > SPIN_S) {
                pthread_mutex_lock(&P->mu);
                P->sleepers++;
                while ((g = atomic_load_explicit(&P->gen, memory_order_acquire)) == seen)
                    pthread_cond_wait(&P->cv, &P->mu);
                P->sleepers--;
                pthread_mutex_unlock(&P->mu);
                break;
            }
            g = atomic_load_explicit(&P->gen, memory_order_acquire);
        }
        seen = g;
        if (P->stop) return NULL;
        if (id < P->nt_job) run_share(P, id);
        atomic_fetch_sub_explicit(&P->pending, 1, memory_order_acq_rel);
    }
    return NULL;
}

/* Start workers up to id want-1; returns how many threads can take part. */
static int ensure_workers(struct mlp_pool *P, int want)
{
    while (P->started + 1 < want) {
        struct worker_arg *wa = malloc(sizeof *wa);
        if (!wa) break; /* fewer threads, same results per task */
        wa->pool = P;
        wa->id = (uint32_t)(P->started + 1);
        P->start_gen[P->started + 1] = atomic_load(&P->gen);
        if (pthread_create(&P->th[P->started + 1], NULL, worker, wa) != 0) {
            free(wa);
            break;
        }
        P->started++;
    }
    return P->started + 1 < want ? P->started + 1 : want;
}

int mlp__pool_acquire(struct mlp_pool *P)
{
    if (!P) return 0;
    if (P->forks != atomic_load_explicit(&fork_gen, memory_order_relaxed)) forget_workers_after_fork(P);
    int expect = 0;
    return atomic_compare_exchange_strong(&P->busy, &expect, 1);
}

void mlp__pool_release(struct mlp_pool *P) { atomic_store(&P->busy, 0); }

void mlp__pool_run(struct mlp_pool *P, uint32_t n_tasks, void (*fn)(void *ctx, uint32_t task), void *ctx)
{
    if (n_tasks == 0) return;
    int nt = P->size;
    if ((uint32_t)nt > n_tasks) nt = (int)n_tasks;
    if (nt > 1) nt = ensure_workers(P, nt);
    if (nt <= 1) {
        for (uint32_t t = 0; t < n_tasks; t++) fn(ctx, t);
        return;
    }
    P->fn = fn;
    P->ctx = ctx;
    P->n_tasks = n_tasks;
    P->nt_job = (uint32_t)nt;
    atomic_store_explicit(&P->pending, P->started, memory_order_relaxed);
    pthread_mutex_lock(&P->mu);
    atomic_fetch_add_explicit(&P->gen, 1, memory_order_release);
    if (P->sleepers) pthread_cond_broadcast(&P->cv);
    pthread_mutex_unlock(&P->mu);
    run_share(P, 0);
    for (unsigned spins = 0; atomic_load_explicit(&P->pending, memory_order_acquire) > 0; spins++) backoff(spins);
}

uint32_t mlp__pool_gang(struct mlp_pool *P)
{
    int nt = P->size;
    return (uint32_t)(nt > 1 ? ensure_workers(P, nt) : 1);
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

void mlp__pool_for(struct mlp_pool *P, uint32_t n_tasks, void (*fn)(void *ctx, uint32_t task), void *ctx)
{
    if (P && mlp__pool_acquire(P)) {
        mlp__pool_run(P, n_tasks, fn, ctx);
        mlp__pool_release(P);
        return;
    }
    for (uint32_t t = 0; t < n_tasks; t++) fn(ctx, t);
}

void *mlp__pool_scratch(struct mlp_pool *P, uint32_t slot, int which, size_t bytes)
{
    MLP_ASSERT(slot < MAX_THREADS && which >= 0 && which < MLP_POOL_SCRATCH);
    struct scratch *s = &P->scratch[slot][which];
    if (bytes > s->n) {
        mlp__afree(s->p);
        s->p = mlp__amalloc(bytes);
        s->n = s->p ? bytes : 0;
    }
    return s->p;
}

struct mlp_pool *mlp__pool_create(int size)
{
    MLP_ASSERT(size >= 1 && size <= MAX_THREADS);
    struct mlp_pool *P = calloc(1, sizeof *P);
    if (!P) return NULL;
    if (pthread_mutex_init(&P->mu, NULL) != 0) {
        free(P);
        return NULL;
    }
    if (pthread_cond_init(&P->cv, NULL) != 0) {
        pthread_mutex_destroy(&P->mu);
        free(P);
        return NULL;
    }
    P->size = size;
    pthread_once(&fork_once, watch_forks);
    P->forks = atomic_load(&fork_gen);
    return P;
}

void mlp__pool_free(struct mlp_pool *P)
{
    if (!P) return;
    MLP_ASSERT(atomic_load(&P->busy) == 0);
    /* Wake every worker with a new generation that tells it to return. */
    pthread_mutex_lock(&P->mu);
    P->stop = 1;
    atomic_fetch_add_explicit(&P->gen, 1, memory_order_release);
    pthread_cond_broadcast(&P->cv);
    pthread_mutex_unlock(&P->mu);
    /* In a child of fork() the workers are not there to join. */
    if (P->forks == atomic_load(&fork_gen))
        for (int i = 1; i <= P->started; i++) pthread_join(P->th[i], NULL);
    for (int i = 0; i < MAX_THREADS; i++)
        for (int w = 0; w < MLP_POOL_SCRATCH; w++) mlp__afree(P->scratch[i][w].p);
    pthread_cond_destroy(&P->cv);
    pthread_mutex_destroy(&P->mu);
    free(P);
}
