/* SPDX-License-Identifier: MIT */
/* The thread pool (core/pool.c) and the fast pass's thread count (pass.inc):
 * every task runs exactly once on thread task % size, with more threads
 * than cores and with workers asleep between jobs; the gang's barrier holds
 * its tasks together; no waiter burns its core (an idle pool's workers, a
 * caller waiting for a sleeping worker, a barrier waiting for a sleeping
 * task: each spins microseconds, then sleeps); and a pass below
 * MLP_FAST_MIN_WORK runs as one task, bit for bit the one-thread result. */
#include "check.h"
#include "testutil.h"
#include "context/context.h"
#include "core/pool.h"
#include "pass/pass.h"

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

/* ------------------------------------------- small passes on one thread */

/* Gradient of a 13-64-32-3 net over the first n rows of (x, y) on a
 * context of `threads` threads; *parts: the tasks the fast pass used. */
/* The batch-1 split's back-off (mlp__pool_split_judge_wait, given the
 * waits that mlp__pool_run measures: timing them here would depend on how
 * loaded the machine is): a 1 ms wait for a worker makes the next 256
 * split jobs run unsplit, a second slow try 512; a quick wait resets the
 * length to 256; a run that had to wake its workers (0) changes nothing. */
static void test_split_backoff(void)
{
    struct mlp_pool *P = mlp__pool_create(2);
    CHECK(P != NULL);
    if (!P) return;
    CHECK(mlp__pool_split_pays(P));
    mlp__pool_split_judge_wait(P, 0); /* woke: not judged */
    CHECK(mlp__pool_split_pays(P));
    mlp__pool_split_judge_wait(P, 5000); /* 5 us: quick */
    CHECK(mlp__pool_split_pays(P));
    const uint64_t want[3] = {256, 512, 256};
    for (int round = 0; round < 3; round++) {
        if (round == 2) mlp__pool_split_judge_wait(P, 5000); /* a quick try resets the length */
        mlp__pool_split_judge_wait(P, 1000000);              /* 1 ms: slow */
        uint64_t unsplit = 0;
        while (unsplit < 100000 && !mlp__pool_split_pays(P)) unsplit++;
        CHECK_MSG(unsplit == want[round], "round %d: %llu split jobs ran unsplit, not %llu", round,
                  (unsigned long long)unsplit, (unsigned long long)want[round]);
    }
    mlp__pool_free(P);
}

static void grad_on(int threads, const struct mlp_dataset *ds, uint64_t n, float *g, uint32_t *parts)
{
    test_use(threads, MLP_KERNELS_FAST);
    const struct mlp_layer_spec hidden[] = {{64, MLP_ACT_RELU}, {32, MLP_ACT_TANH}};
    struct mlp_model *m = test_model(MLP_F32, 13, 2, hidden, 3, MLP_HEAD_SOFTMAX_CE, 1.0);
    if (!m) return;
    mlp_model_init(m, MLP_INIT_HE, 0, 0, 7);
    struct mlp_pass ps = {.m = m, .ds = ds, .n = n, .grad = g, .keep_parts = true};
    CHECK_STATUS(mlp__run_pass(&ps, NULL), MLP_OK);
    *parts = ps.n_parts ? ps.n_parts : 1;
    if (ps.n_parts) {
        /* with parts kept the pool stays held: add them as the pass would */
        for (uint32_t k = 1; k < ps.n_parts; k++)
            for (size_t i = 0; i < mlp_model_n_params(m); i++) g[i] += ((const float *)ps.parts[k])[i];
        mlp__pool_release(mlp__model_pool(m));
    }
    mlp_model_free(m);
}

static void test_small_pass(void)
{
    const uint64_t macs = 13 * 64 + 64 * 32 + 32 * 3;
    const uint64_t min_rows = (MLP_FAST_MIN_WORK + macs - 1) / macs; /* a task's rows, at least */
    const uint64_t rows = 2 * min_rows;
    float *x = malloc(rows * 13 * sizeof *x);
    int32_t *y = malloc(rows * sizeof *y);
    const size_t np = (13 + 1) * 64 + (64 + 1) * 32 + (32 + 1) * 3;
    float *g1 = malloc(np * sizeof *g1), *g2 = malloc(np * sizeof *g2);
    if (!x || !y || !g1 || !g2) {
        CHECK(0);
        free(x), free(y), free(g1), free(g2);
        return;
    }
    for (uint64_t i = 0; i < rows * 13; i++) x[i] = (float)(i * 7919 % 251) / 251.0f - 0.5f;
    for (uint64_t i = 0; i < rows; i++) y[i] = (int32_t)(i * 31 % 3);
    struct mlp_dataset ds = {.n_rows = rows, .n_cols = 13, .x_type = MLP_ELEM_F32, .x = x, .labels = y,
                             .n_classes = 3};
    uint32_t p1, p2;
    /* one row short of two tasks' worth: one task on 2 threads, the same bits as on 1 */
    grad_on(1, &ds, rows - 1, g1, &p1);
    grad_on(2, &ds, rows - 1, g2, &p2);
    CHECK_MSG(p1 == 1 && p2 == 1, "%llu rows x %llu multiply-adds: %u and %u tasks, expected 1 and 1",
              (unsigned long long)(rows - 1), (unsigned long long)macs, p1, p2);
    CHECK_MSG(memcmp(g1, g2, np * sizeof *g1) == 0, "a pass below the line differs between 1 and 2 threads");
    /* two tasks' worth: two tasks, the same bits on every run */
    grad_on(2, &ds, rows, g1, &p1);
    grad_on(2, &ds, rows, g2, &p2);
    CHECK_MSG(p1 == 2 && p2 == 2, "%llu rows: %u and %u tasks, expected 2", (unsigned long long)rows, p1, p2);
    CHECK_MSG(memcmp(g1, g2, np * sizeof *g1) == 0, "two runs on 2 threads differ");
    free(x), free(y), free(g1), free(g2);
}

int main(void)
{
    test_exactly_once();
    test_barrier();
    test_idle();
    test_small_pass();
    test_split_backoff();
    return check_report("pool");
}
