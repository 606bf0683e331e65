/* SPDX-License-Identifier: MIT */
/* The CLI's memory sampler (tools/memtrace.c, built here with a capacity of
 * 64 samples so that a short run goes through several thinnings): 64 MiB
 * allocated and touched in steps while the phase changes shows up as a rise
 * of the resident size in the right phases; the samples are in time order,
 * never above the peak the kernel reports, evenly spaced on an interval
 * that doubled with each thinning; a stop right after the start is prompt
 * even with a long interval and leaves the start's and the stop's samples;
 * bad intervals are refused. */
#include "check.h"
#include "memtrace.h"

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { CHUNKS = 16, CHUNK = 4 << 20 };

/* The phase as the main thread sets it and the sampler reads it. */
static atomic_int now_phase;

static void phase_of(void *user, int32_t *phase, uint32_t *epoch)
{
    (void)user;
    int p = atomic_load(&now_phase);
    *phase = p;
    *epoch = (uint32_t)p + 1; /* anything the caller says, kept beside the phase */
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) continue;
}

static void rise_and_fall(void)
{
    struct memtrace *mt = NULL;
    struct mlp_error err = {0};
    atomic_store(&now_phase, 0);
    CHECK_STATUS(memtrace_start(&mt, 1e-3, phase_of, NULL, &err), MLP_OK);
    if (!mt) return;
    sleep_ms(20);
    atomic_store(&now_phase, 1);
    char *chunk[CHUNKS];
    for (int i = 0; i < CHUNKS; i++) {
        chunk[i] = malloc(CHUNK);
        CHECK(chunk[i] != NULL);
        if (chunk[i]) memset(chunk[i], i + 1, CHUNK); /* touched: resident */
        sleep_ms(5);
    }
    atomic_store(&now_phase, 2);
    sleep_ms(200);
    /* read the memory back, so that it is held (and not optimised away)
     * until here */
    unsigned sum = 0;
    for (int i = 0; i < CHUNKS; i++)
        if (chunk[i]) sum += (unsigned char)chunk[i][CHUNK - 1];
    CHECK(sum == CHUNKS * (CHUNKS + 1) / 2);
    atomic_store(&now_phase, 3);
    for (int i = 0; i < CHUNKS; i++) free(chunk[i]);
    sleep_ms(30);
    memtrace_stop(mt);
    memtrace_stop(mt); /* idempotent */
    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
    /* KiB on Linux.  The kernel keeps its resident counts per CPU and
     * folds them in lazily: the peak it recorded comes from a rounded sum,
     * while statm may add them up exactly (seen up to 180 KiB above the
     * peak on a 2-CPU VM, kernel 6.18).  A sixteenth of slack absorbs
     * that: a unit too large (KiB taken for bytes) would be 1024x over,
     * and one too small fails the rise checked below. */
    const uint64_t peak = (uint64_t)ru.ru_maxrss * 1024, slack = peak / 16;

    size_t n = 0;
    double interval = 0;
    const struct memtrace_sample *s = memtrace_samples(mt, &n, &interval);
    CHECK_MSG(n >= 8 && n <= 64, "%zu samples (capacity 64)", n);
    /* about 300 ms at 1 ms: thinned at least twice, the interval doubled
     * each time and by nothing else */
    double k = log2(interval / 1e-3);
    CHECK_MSG(k >= 2 && fabs(k - round(k)) < 1e-9, "interval %g s after thinning from 1 ms", interval);
    bool ordered = true, below_peak = true, phases_ordered = true, epochs_kept = true;
    bool seen[4] = {false};
    uint64_t held = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && !(s[i].t > s[i - 1].t)) ordered = false;
        if (s[i].rss_bytes > peak + slack) below_peak = false;
        if (i && s[i].phase < s[i - 1].phase) phases_ordered = false;
        if (s[i].epoch != (uint32_t)s[i].phase + 1) epochs_kept = false;
        if (s[i].phase >= 0 && s[i].phase <= 3) seen[s[i].phase] = true;
        if (s[i].phase == 2 && s[i].rss_bytes > held) held = s[i].rss_bytes;
    }
    CHECK_MSG(ordered, "sample times not increasing");
    CHECK_MSG(below_peak, "a sample above the peak resident size %llu (+%llu)", (unsigned long long)peak,
              (unsigned long long)slack);
    CHECK_MSG(phases_ordered && epochs_kept, "phases out of order, or not as the phase function said");
    CHECK_MSG(seen[0] && seen[1] && seen[2] && seen[3], "phases seen: %d %d %d %d", seen[0], seen[1], seen[2],
              seen[3]);
    CHECK(s[0].t >= 0 && s[0].t < 0.05 && s[0].phase == 0);
    CHECK_MSG(held >= s[0].rss_bytes + (48u << 20), "resident %llu at the start, %llu while 64 MiB were held",
              (unsigned long long)s[0].rss_bytes, (unsigned long long)held);
    /* evenly spaced: the samples before the stop's (which is off the grid)
     * average the interval; loose bounds, as a loaded machine wakes the
     * thread late or skips a deadline */
    if (n >= 3) {
        double mean = (s[n - 2].t - s[0].t) / (double)(n - 2);
        CHECK_MSG(mean > 0.7 * interval && mean < 2.0 * interval, "mean spacing %g s, interval %g s", mean,
                  interval);
    }
    memtrace_free(mt);
}

/* A stop soon after the start, with an interval of 10 s: at once, with the
 * start's sample and the stop's; no phase function: phase -1, epoch 0. */
static void prompt_stop(void)
{
    struct memtrace *mt = NULL;
    struct mlp_error err = {0};
    CHECK_STATUS(memtrace_start(&mt, 10.0, NULL, NULL, &err), MLP_OK);
    if (!mt) return;
    sleep_ms(50); /* the thread is waiting for its deadline by now */
    double t0 = mlp_now();
    memtrace_stop(mt);
    double took = mlp_now() - t0;
    CHECK_MSG(took < 1.0, "memtrace_stop took %g s with a 10 s interval", took);
    size_t n = 0;
    double interval = 0;
    const struct memtrace_sample *s = memtrace_samples(mt, &n, &interval);
    CHECK_MSG(n == 2, "%zu samples", n);
    CHECK(interval == 10.0);
    if (n == 2) {
        CHECK(s[1].t > s[0].t);
        CHECK(s[0].rss_bytes > 0 && s[1].rss_bytes > 0);
        CHECK(s[0].phase == -1 && s[0].epoch == 0 && s[1].phase == -1);
    }
    memtrace_free(mt);
    /* a stop at once, perhaps before the thread ran at all */
    mt = NULL;
    CHECK_STATUS(memtrace_start(&mt, 1e-3, NULL, NULL, &err), MLP_OK);
    if (mt) {
        memtrace_stop(mt);
        memtrace_samples(mt, &n, &interval);
        CHECK_MSG(n >= 2, "%zu samples", n);
        memtrace_free(mt);
    }
    /* freed while running: stopped first */
    mt = NULL;
    CHECK_STATUS(memtrace_start(&mt, 1e-3, NULL, NULL, &err), MLP_OK);
    memtrace_free(mt);
    memtrace_free(NULL);
}

static void refusals(void)
{
    const double bad[] = {0, -1e-3, NAN, INFINITY, 1e9};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct memtrace *mt = (struct memtrace *)&bad; /* must come back NULL */
        struct mlp_error err = {0};
        CHECK_STATUS(memtrace_start(&mt, bad[i], NULL, NULL, &err), MLP_ERR_ARG);
        CHECK(mt == NULL && strstr(err.msg, "interval") != NULL);
    }
}

int main(void)
{
    rise_and_fall();
    prompt_stop();
    refusals();
    return check_report("memtrace");
}
