/* SPDX-License-Identifier: MIT */
/* `--profile`'s memory over time: a background thread samples this
 * process's resident memory (/proc/self/statm) and the command's current
 * phase at a fixed interval, as seed 001's `mprof run` does.  The buffer is
 * bounded (4096 samples, 96 KiB, allocated at the start): when it fills,
 * every other sample is dropped and the interval doubles, so a run of any
 * length keeps evenly spaced samples in bounded memory: at 10 ms, a run
 * of up to 40 s keeps every one, up to 80 s one every 20 ms, ...  Linux
 * only (/proc); elsewhere memtrace_start fails and the caller goes on
 * without the plot. */
#ifndef FASTMLP_MEMTRACE_H
#define FASTMLP_MEMTRACE_H

#include "fastmlp.h"

#include <stddef.h>
#include <stdint.h>

struct memtrace_sample {
    double t;           /* seconds since memtrace_start (mlp_now's clock) */
    uint64_t rss_bytes; /* resident set size */
    int32_t phase;      /* what the phase function said (the caller's ids) */
    uint32_t epoch;     /* likewise; 0 when not in an epoch */
};

/* Called from the sampling thread at each sample: the caller's current
 * phase and epoch (read them from atomics: the thread runs beside the
 * caller's). */
typedef void (*memtrace_phase_fn)(void *user, int32_t *phase, uint32_t *epoch);

struct memtrace;

/* Start sampling every interval_s seconds (> 0); the first sample is taken
 * before it returns.  phase may be NULL (phase -1, epoch 0).  MLP_OK, or
 * MLP_ERR_ARG (interval_s not in (0, 3600]), MLP_ERR_NOMEM, MLP_ERR_IO (no
 * /proc/self/statm, no thread) with a message in err (may be NULL); *mt is
 * NULL on failure. */
enum mlp_status memtrace_start(struct memtrace **mt, double interval_s, memtrace_phase_fn phase, void *user,
                               struct mlp_error *err);
/* Stop the thread, promptly whatever the interval, and take a last sample
 * (off the interval's grid: the state at the stop).  Idempotent; the
 * samples stay readable until memtrace_free. */
void memtrace_stop(struct memtrace *mt);
/* The samples, in time order, owned by mt; *interval_s (may be NULL): the
 * interval between them now (the start's, doubled each time the buffer was
 * thinned).  Only after memtrace_stop: until then the thread writes them. */
const struct memtrace_sample *memtrace_samples(const struct memtrace *mt, size_t *n, double *interval_s);
/* Stops it first if running; NULL: nothing. */
void memtrace_free(struct memtrace *mt);

#endif
