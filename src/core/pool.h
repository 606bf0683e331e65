/* SPDX-License-Identifier: MIT */
/* A thread pool: every mlp_context owns one (core/context.c), and every
 * parallel kernel runs its tasks on its context's pool; while a pool uses
 * more than one thread the BLAS is held to one thread, so the two never
 * oversubscribe the cores.
 *
 * Task t of a call always runs on pool thread t % size, so a kernel that
 * gives each task a fixed slice of the data and reduces the tasks' results
 * in task order is deterministic for a given thread count. */
#ifndef MLP_POOL_H
#define MLP_POOL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct mlp_pool;

/* A pool of `size` threads (1..MLP_MAX_THREADS; the caller's thread is one
 * of them): its workers start on first use.  NULL when out of memory.  Free
 * it only while no job runs; free(NULL) is a no-op. */
struct mlp_pool *mlp__pool_create(int size);
void mlp__pool_free(struct mlp_pool *P);

/* Threads a job may use (>= 1): the size it was made with. */
int mlp__pool_size(const struct mlp_pool *P);

/* Online CPUs, at least 1 and at most MLP_MAX_THREADS. */
int mlp__online_cores(void);

/* Run fn(ctx, t) for every t in [0, n_tasks) and return when all are done.
 * The calling thread takes part.  When the pool is already in use (a task
 * calling back in, or another application thread), the tasks run one after
 * the other on the calling thread instead: same results, no deadlock. */
void mlp__pool_for(struct mlp_pool *P, uint32_t n_tasks, void (*fn)(void *ctx, uint32_t task), void *ctx);

/* The same in three steps, for kernels that also want the per-thread
 * scratch buffers: acquire returns 1 and holds the pool, or 0 when it is
 * busy (then use plain allocations and one thread); run needs the pool
 * held. */
int mlp__pool_acquire(struct mlp_pool *P);
void mlp__pool_run(struct mlp_pool *P, uint32_t n_tasks, void (*fn)(void *ctx, uint32_t task), void *ctx);
void mlp__pool_release(struct mlp_pool *P);
/* For a job too small to wait for a late worker (a batch-1 layer split,
 * pass.inc): false while the pool backs off (mlp__pool_split_judge: a
 * worker descheduled by other processes); counts the back-off down.
 * Only with the pool held.  Which path runs never changes results (the
 * split is over outputs). */
bool mlp__pool_split_pays(struct mlp_pool *P);
/* After such a job's mlp__pool_run: start or lengthen the back-off when
 * its caller waited for the workers longer than the job would have taken
 * alone (not when it had to wake them). */
void mlp__pool_split_judge(struct mlp_pool *P);
/* The same judgement of a given wait (0: a run that woke its workers, not
 * judged): what mlp__pool_split_judge applies to the last run's, and what
 * the tests give it. */
void mlp__pool_split_judge_wait(struct mlp_pool *P, uint64_t wait_ns);

/* The number of threads that can run at once (>= 1), their workers
 * started: a run of exactly this many tasks gives each task a thread of its
 * own, so those tasks may wait for each other (mlp__barrier_wait).  Needs
 * the pool held. */
uint32_t mlp__pool_gang(struct mlp_pool *P);

/* A barrier for the n tasks of such a run: each waits until all n have
 * arrived.  Spins briefly (microseconds), then sleeps (on an oversubscribed
 * machine the task it waits for may need this core).  Reusable at once. */
struct mlp_barrier {
    _Atomic unsigned arrived, phase, sleepers, spin;
    unsigned n;
};
void mlp__barrier_init(struct mlp_barrier *b, unsigned n);
void mlp__barrier_wait(struct mlp_barrier *b);

/* Task t's slice [*lo, *hi) of n elements split evenly over `tasks` tasks,
 * each cut down to a multiple of `align` elements (whole cache lines, so no
 * two tasks write one line) and the last task taking the rest: a fixed
 * split, so results do not depend on timing. */
static inline void mlp__pool_slice(size_t n, uint32_t t, uint32_t tasks, size_t align, size_t *lo, size_t *hi)
{
    *lo = n * t / tasks / align * align;
    *hi = t + 1 == tasks ? n : n * (t + 1) / tasks / align * align;
}

/* Per-thread scratch memory that survives between calls, so that passes
 * over small batches allocate nothing: at least `bytes` bytes, 64-byte
 * aligned, for pool thread `slot` (a task's thread is task % size), buffer
 * `which` (0..MLP_POOL_SCRATCH-1), or NULL when out of memory.  Needs the
 * pool held; contents are not kept between calls. */
#define MLP_POOL_SCRATCH 2
void *mlp__pool_scratch(struct mlp_pool *P, uint32_t slot, int which, size_t bytes);

#endif
