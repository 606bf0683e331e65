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
 * Hand-off: the caller bumps a generation counter; the workers, after a
 * short spin (the next mini-batch often follows within microseconds), sleep
 * on it (a futex), and the caller wakes them only when one sleeps.  The
 * caller runs its own share of the tasks, then waits for the workers to
 * check in the same way: a short spin, then a sleep the last worker ends.
 * The barrier of the model-parallel step waits alike.  Every spin is short
 * and ends at once when the spinner finds it was descheduled (another
 * thread needed its core): on a machine shared with other work a waiter
 * must not burn the core the thread it waits for needs (issue 15: a 5 ms
 * spin let a tiny job take up to 4.3 s beside other work, 0.06 s on one
 * thread). */
#if defined(__linux__)
#define _DEFAULT_SOURCE /* syscall */
#endif
#include "core/pool.h"

#include "internal.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif


#define MAX_THREADS MLP_MAX_THREADS
/* The longest spin of a waiter (a worker between jobs, the caller waiting
 * for the workers, a barrier) before it sleeps.  W5 on 2 threads (30000
 * rows, median of 7 runs at real-time priority, i.e. cores to itself; AMD
 * EPYC Zen 4 VM, 2 cores): samples/s 126k with no spin (a futex wake on
 * every hand-off and barrier), 146k at 5 us, 158k at 10 us, 167k at 20 us,
 * 159k at 50 us; the old 5 ms spin 166k, one thread 90k.  The old "200 us
 * halved W5" was a condition variable and a barrier that never slept; with
 * futexes 20 us keeps the whole 2-thread gain. */
#define SPIN_NS 20000u
/* The longest spin a waiter grows to when its waits keep ending soon after
 * its spin ran out (wait_change); only where no other thread took its core
 * meanwhile. */
#define SPIN_LONG_NS 200000u
/* The shortest spin: an idle worker polls this long even after a wait that
 * found it descheduled (a job published right behind the last costs no
 * wake). */
#define SPIN_MIN_NS 2000
/* A gap this long between two polls of a spin means the spinner was
 * descheduled: the machine has more runnable threads than cores. */
#define PREEMPTED_NS 30000
/* A caller's wait for its workers this long means a split job would have
 * been done sooner on the caller alone (mlp__pool_run). */
#define SLOW_WAIT_NS 20000

struct scratch {
    void *p;
    size_t n;
};

struct mlp_pool {
    atomic_int busy;
    int size;    /* threads a job may use (>= 1) */
    int started; /* workers running: ids 1..started */
    atomic_uint gen;      /* bumped for every job; the workers wait on it */
    atomic_uint sleepers; /* workers asleep (or about to sleep) on gen */
    atomic_uint pending;  /* workers yet to check in; the caller waits on it */
    atomic_uint caller_sleeps; /* the caller is asleep (or about to sleep) on pending */
    uint32_t caller_spin;      /* the caller's spin on pending (wait_change) */
    uint32_t split_backoff;    /* split jobs to run unsplit (mlp__pool_split_pays) */
    uint32_t backoff_len;      /* the next back-off: doubles while runs stay slow */
    uint64_t last_wait_ns;     /* the last run's wait for its workers (0: it woke them) */
    unsigned start_gen[MAX_THREADS]; /* the generation a worker was made in */
    void (*fn)(void *, uint32_t);
    void *ctx;
    uint32_t n_tasks, nt_job;
    int stop;    /* set by mlp__pool_free: workers return */
    unsigned forks; /* fork_gen when the workers were started */
    pthread_t th[MAX_THREADS];
    struct scratch scratch[MAX_THREADS][MLP_POOL_SCRATCH];
};

/* --------------------------------------------------------------- waiting */

_Static_assert(sizeof(atomic_uint) == sizeof(uint32_t), "a futex is a 32-bit word");

/* Sleep while *w == v (or return at once when it differs); wake_all ends
 * the sleep of every thread in sleep_on(w, ...).  A futex on Linux;
 * elsewhere a 50 us nap and a fresh look (a waker need not do anything). */
static void sleep_on(atomic_uint *w, unsigned v)
{
#if defined(__linux__)
    syscall(SYS_futex, (void *)w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
#else
    if (atomic_load(w) == v) nanosleep(&(struct timespec){0, 50000}, NULL);
#endif
}

static void wake_all(atomic_uint *w)
{
#if defined(__linux__)
    syscall(SYS_futex, (void *)w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)w;
#endif
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum spin_end { SPIN_CHANGED, SPIN_TIMEOUT, SPIN_PREEMPTED };

/* Spin while *w == v, at most budget_ns; why it stopped. */
static enum spin_end spin_while(const atomic_uint *w, unsigned v, uint32_t budget_ns)
{
    uint64_t t0 = now_ns(), last = t0;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(w, memory_order_acquire) != v) return SPIN_CHANGED;
        cpu_relax();
        if ((i & 15) == 0) {
            uint64_t t = now_ns();
            if (t - last > PREEMPTED_NS) return SPIN_PREEMPTED;
            if (t - t0 > budget_ns) return SPIN_TIMEOUT;
            last = t;
        }
    }
}

/* Wait until *w != v: spin (*spin ns at most), then sleep on w counted in
 * *sleepers, which a waker reads after changing *w (both sequentially
 * consistent: either the sleeper sees the change or the waker sees the
 * sleeper).  The spin adapts for the next wait: back to the shortest after
 * a spin that found the waiter descheduled, halved after one that ran out,
 * doubled (up to SPIN_NS) after one that saw the change. */
static void wait_change(atomic_uint *w, unsigned v, atomic_uint *sleepers, uint32_t *state)
{
    /* *state: the spin in ns (low 24 bits) and, above, a count of waits
     * still to come before the spin may grow past SPIN_NS again: set by a
     * spin that found the waiter descheduled (another thread wanted its
     * core), counted down by every wait after. */
    uint32_t spin = *state & 0xffffffu, cool = *state >> 24;
    const uint64_t t0 = now_ns();
    enum spin_end e = spin_while(w, v, spin);
    cool = e == SPIN_PREEMPTED ? 255 : cool ? cool - 1 : 0;
    switch (e) {
    case SPIN_CHANGED: spin = spin < SPIN_NS / 2 ? 2 * spin : spin < SPIN_NS ? SPIN_NS : spin; break;
    case SPIN_TIMEOUT: spin = spin / 2 < SPIN_MIN_NS ? SPIN_MIN_NS : spin / 2; break;
    case SPIN_PREEMPTED: spin = SPIN_MIN_NS; break;
    }
    if (e != SPIN_CHANGED) {
        atomic_fetch_add(sleepers, 1);
        while (atomic_load(w) == v) sleep_on(w, v);
        atomic_fetch_sub(sleepers, 1);
    }
    /* A wait that ran out of spin but ended soon after, on a machine where
     * nothing took this core for a while: the hand-offs come a little
     * slower than the spin lasts (W1's epochs: a pass every ~100 us, ~30 us
     * apart), and each would pay a futex wake (W1 on 2 threads: 0.36 s
     * against 0.23 s with the old long spin).  Spin twice that wait next
     * time, up to SPIN_LONG_NS. */
    if (e == SPIN_TIMEOUT && cool == 0) {
        uint64_t waited = now_ns() - t0;
        if (waited < SPIN_LONG_NS / 2 && 2 * waited > spin) spin = (uint32_t)(2 * waited);
    }
    *state = spin | cool << 24;
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
    atomic_store(&P->sleepers, 0);
    atomic_store(&P->pending, 0);
    atomic_store(&P->caller_sleeps, 0);
    atomic_store(&P->busy, 0);
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
    uint32_t spin = SPIN_NS;
    for (;;) {
        wait_change(&P->gen, seen, &P->sleepers, &spin);
        seen = atomic_load_explicit(&P->gen, memory_order_acquire);
        if (P->stop) return NULL;
        if (id < P->nt_job) run_share(P, id);
        /* the last to check in wakes the caller if it sleeps */
        if (atomic_fetch_sub(&P->pending, 1) == 1 && atomic_load(&P->caller_sleeps)) wake_all(&P->pending);
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
    atomic_store_explicit(&P->pending, (unsigned)P->started, memory_order_relaxed);
    atomic_fetch_add(&P->gen, 1);
    const bool woke = atomic_load(&P->sleepers) != 0;
    if (woke) wake_all(&P->gen);
    run_share(P, 0);
    const uint64_t t0 = now_ns();
    for (unsigned left; (left = atomic_load_explicit(&P->pending, memory_order_acquire)) != 0;)
        wait_change(&P->pending, left, &P->caller_sleeps, &P->caller_spin);
    /* what mlp__pool_split_judge judges (0: a run that had to wake a
     * sleeping worker, not judged: after a back-off the workers sleep, and
     * the first split only wakes them) */
    P->last_wait_ns = woke ? 0 : now_ns() - t0;
}

void mlp__pool_split_judge(struct mlp_pool *P) { mlp__pool_split_judge_wait(P, P->last_wait_ns); }

void mlp__pool_split_judge_wait(struct mlp_pool *P, uint64_t wait_ns)
{
    /* A wait for the workers longer than a whole batch-1 prediction takes
     * on one thread (W6: ~10 us): splitting did not pay (beside 2 CPU hogs
     * W6's median batch-1 latency was 20 us split against 9.8 us on one
     * thread, its mean 49 against 11).  Split jobs then run on the caller
     * for the next 256, 512, ... (doubling while the tries stay slow, up to
     * 64K: a try that meets a descheduled worker costs a scheduler slice,
     * milliseconds), and after a quick one, 256 again. */
    if (wait_ns > SLOW_WAIT_NS) {
        if (P->backoff_len < 256) P->backoff_len = 256;
        P->split_backoff = P->backoff_len;
        if (P->backoff_len < 65536) P->backoff_len *= 2;
    } else if (wait_ns) {
        P->backoff_len = 256;
    }
}

bool mlp__pool_split_pays(struct mlp_pool *P)
{
    if (!P->split_backoff) return true;
    P->split_backoff--;
    return false;
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
    atomic_init(&b->sleepers, 0);
    atomic_init(&b->spin, SPIN_NS);
    b->n = n;
}

void mlp__barrier_wait(struct mlp_barrier *b)
{
    unsigned ph = atomic_load_explicit(&b->phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) + 1 == b->n) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add(&b->phase, 1);
        if (atomic_load(&b->sleepers)) wake_all(&b->phase);
        return;
    }
    /* one spin length for all the barrier's threads: a guide, not a count */
    uint32_t spin = atomic_load_explicit(&b->spin, memory_order_relaxed);
    wait_change(&b->phase, ph, &b->sleepers, &spin);
    atomic_store_explicit(&b->spin, spin, memory_order_relaxed);
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
    P->size = size;
    P->caller_spin = SPIN_NS;
    pthread_once(&fork_once, watch_forks);
    P->forks = atomic_load(&fork_gen);
    return P;
}

void mlp__pool_free(struct mlp_pool *P)
{
    if (!P) return;
    MLP_ASSERT(atomic_load(&P->busy) == 0);
    /* Wake every worker with a new generation that tells it to return. */
    P->stop = 1;
    atomic_fetch_add(&P->gen, 1);
    wake_all(&P->gen);
    /* In a child of fork() the workers are not there to join. */
    if (P->forks == atomic_load(&fork_gen))
        for (int i = 1; i <= P->started; i++) pthread_join(P->th[i], NULL);
    for (int i = 0; i < MAX_THREADS; i++)
        for (int w = 0; w < MLP_POOL_SCRATCH; w++) mlp__afree(P->scratch[i][w].p);
    free(P);
}
