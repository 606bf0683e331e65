/* SPDX-License-Identifier: MIT */
/* The thread pool (core/pool.c) and the fast pass's thread count (pass.inc):
 * every task runs exactly once on thread task % size, with more threads
 * than cores and with workers asleep between jobs; the gang's barrier holds
 * its tasks together; no waiter burns its core (an idle pool's workers, a
 * caller waiting for a sleeping worker, a barrier waiting for a sleeping
 * task: each spins microseconds, then sleeps). */
#include "check.h"
#include "core/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void nap_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - 1000 * (double)(time_t)(ms / 1000)) * 1e6)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static double cpu_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------- exactly once */

#define MAX_TASKS 200
struct once_job {
    _Atomic int runs[MAX_TASKS];
    pthread_t who[MAX_TASKS];
};

static void once_task(void *ctx, uint32_t t)
{
    struct once_job *j = ctx;
    atomic_fetch_add(&j->runs[t], 1);
    j->who[t] = pthread_self();
}

/* Jobs of 1..MAX_TASKS tasks on pools of 2, 3 and 7 threads (7 > the cores
 * of most test machines), some back to back, some after a nap long enough
 * for the workers to fall asleep. */
static void test_exactly_once(void)
{
    static const int sizes[] = {2, 3, 7};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        struct mlp_pool *P = mlp__pool_create(sizes[s]);
        CHECK(P != NULL);
        if (!P) continue;
        CHECK(mlp__pool_size(P) == sizes[s]);
        int bad = 0, bad_map = 0;
        for (uint32_t job = 0; job < 300; job++) {
            uint32_t n = 1 + job * 37 % MAX_TASKS;
            if (job % 50 == 7) nap_ms(3);
            struct once_job *j = calloc(1, sizeof *j);
            if (!j) break;
            mlp__pool_for(P, n, once_task, j);
            for (uint32_t t = 0; t < MAX_TASKS; t++) bad += atomic_load(&j->runs[t]) != (t < n);
            /* task t runs on thread t % size: tasks size apart share one */
            for (uint32_t t = (uint32_t)sizes[s]; t < n; t++)
                bad_map += !pthread_equal(j->who[t], j->who[t - (uint32_t)sizes[s]]);
            free(j);
        }
        CHECK_MSG(bad == 0, "pool of %d: %d tasks ran other than once", sizes[s], bad);
        CHECK_MSG(bad_map == 0, "pool of %d: %d tasks not on thread task %% size", sizes[s], bad_map);
        mlp__pool_free(P);
    }
}

/* ------------------------------------------------------------ barrier */

#define ROUNDS 200
struct gang_job {
    struct mlp_barrier bar;
    uint32_t n;
    _Atomic unsigned count;
    _Atomic int torn;
    double barrier_cpu[MLP_MAX_THREADS];
};

/* In round r every task adds one, waits, and must see all n adds of the
 * round; task 0 naps now and then so that the others wait long. */
static void gang_task(void *ctx, uint32_t t)
{
    struct gang_job *j = ctx;
    for (unsigned r = 0; r < ROUNDS; r++) {
        atomic_fetch_add(&j->count, 1);
        if (t == 0 && r % 40 == 3) nap_ms(2);
        double c0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
        mlp__barrier_wait(&j->bar);
        if (r % 40 == 3) j->barrier_cpu[t] += cpu_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (atomic_load(&j->count) < (r + 1) * j->n) atomic_store(&j->torn, 1);
        mlp__barrier_wait(&j->bar);
    }
}

static void test_barrier(void)
{
    struct mlp_pool *P = mlp__pool_create(3);
    CHECK(P != NULL);
    if (!P) return;
    CHECK(mlp__pool_acquire(P));
    struct gang_job j = {.n = mlp__pool_gang(P)};
    CHECK(j.n == 3);
    mlp__barrier_init(&j.bar, j.n);
    mlp__pool_run(P, j.n, gang_task, &j);
    mlp__pool_release(P);
    CHECK_MSG(atomic_load(&j.torn) == 0, "a task passed the barrier before every task of its round arrived");
    CHECK(atomic_load(&j.count) == ROUNDS * j.n);
    /* In the five rounds where task 0 naps 2 ms, a waiter that spun (or
     * yielded in a loop) would spend ~10 ms of CPU in the barrier; one that
     * sleeps after microseconds spends well under 1. */
    for (uint32_t t = 1; t < j.n; t++)
        CHECK_MSG(j.barrier_cpu[t] < 4e-3, "task %u spent %.2f ms of CPU waiting at the barrier", t,
                  j.barrier_cpu[t] * 1e3);
    mlp__pool_free(P);
}

/* ------------------------------------------------------- no busy wait */

static void nothing(void *ctx, uint32_t t)
{
    (void)ctx;
    (void)t;
}

static void nap_task(void *ctx, uint32_t t)
{
    (void)ctx;
    if (t == 1) nap_ms(20);
}

/* An idle pool's workers sleep: 20 idle gaps of 10 ms after a job each.
 * The CPU the process spends beyond this thread's own is the workers'
 * (their spin after each job); 5 ms of spin a gap (the old pool) is
 * 100 ms; microseconds of spin are well under a millisecond.  And a
 * caller whose worker naps 20 ms sleeps too instead of spinning or
 * yielding in a loop. */
static void test_idle(void)
{
    struct mlp_pool *P = mlp__pool_create(2);
    CHECK(P != NULL);
    if (!P) return;
    mlp__pool_for(P, 2, nothing, NULL); /* the worker started */
    nap_ms(10);
    double p0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID), t0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < 20; i++) {
        mlp__pool_for(P, 2, nothing, NULL);
        nap_ms(10);
    }
    double workers = (cpu_s(CLOCK_PROCESS_CPUTIME_ID) - p0) - (cpu_s(CLOCK_THREAD_CPUTIME_ID) - t0);
    CHECK_MSG(workers < 20e-3, "the idle worker spent %.1f ms of CPU in 200 ms of idle gaps", workers * 1e3);

    t0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    mlp__pool_for(P, 2, nap_task, NULL);
    double caller = cpu_s(CLOCK_THREAD_CPUTIME_ID) - t0;
    CHECK_MSG(caller < 5e-3, "the caller spent %.1f ms of CPU waiting 20 ms for its worker", caller * 1e3);
    mlp__pool_free(P);
}

int main(void)
{
    test_exactly_once();
    test_barrier();
    test_idle();
    return check_report("pool");
}
