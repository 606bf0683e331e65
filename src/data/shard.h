/* SPDX-License-Identifier: MIT */
/* Which rows of a file a sharded load keeps (mlp_load_params.shard_index and
 * shard_count): one rule for every loader, so that c processes loading
 * shards 0..c-1 of the same file hold every row once, in order. */
#ifndef MLP_DATA_SHARD_H
#define MLP_DATA_SHARD_H

#include "internal.h"

#include <inttypes.h>

/* Sharded at all: a count of 0 or 1 is the whole file. */
static inline bool mlp__sharded(const struct mlp_load_params *p) { return p && p->shard_count > 1; }

/* MLP_ERR_ARG unless the shard fields name a shard; checked before a byte is
 * read, by every loader (name: the file, for the message). */
static inline enum mlp_status mlp__shard_check(const struct mlp_load_params *p, const char *name,
                                               struct mlp_error *err)
{
    if (!mlp__sharded(p) || p->shard_index < p->shard_count) return MLP_OK;
    return mlp__fail_file(err, MLP_ERR_ARG, name,
                          "shard index %" PRIu32 " is out of range for %" PRIu32 " shards (expected 0..%" PRIu32 ")",
                          p->shard_index, p->shard_count, p->shard_count - 1);
}

/* floor(n * i / c) without a 128-bit product: with n = q c + r,
 * n i / c = q i + r i / c, where q i <= n and r i < c^2 <= 2^64. */
static inline uint64_t mlp__shard_bound(uint64_t n, uint64_t i, uint64_t c)
{
    uint64_t q = n / c, r = n % c;
    return q * i + r * i / c;
}

/* The rows [*lo, *hi) of a file of n rows that p's shard keeps (all of them
 * when p is NULL or not sharded).  Each shard's end is the next one's start,
 * so the shards tile [0, n) in order; a shard may be empty (c > n). */
static inline void mlp__shard_rows(const struct mlp_load_params *p, uint64_t n, uint64_t *lo, uint64_t *hi)
{
    if (!mlp__sharded(p)) {
        *lo = 0;
        *hi = n;
        return;
    }
    *lo = mlp__shard_bound(n, p->shard_index, p->shard_count);
    *hi = mlp__shard_bound(n, (uint64_t)p->shard_index + 1, p->shard_count);
}

/* Keep rows [lo, hi) of a loaded data set (its x, labels or targets; the
 * rest of it, n_classes and schema included, as it is) in a new block of
 * their size, releasing the old one (dataset.c).  On failure *ds is freed
 * and zeroed. */
enum mlp_status mlp__dataset_keep_rows(struct mlp_dataset *ds, uint64_t lo, uint64_t hi, struct mlp_error *err);

#endif
