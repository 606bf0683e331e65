/* SPDX-License-Identifier: MIT */
/* `train --sweep FLAG=V1,V2,...`: the values of one or more numeric
 * training flags, crossed into runs (the first flag varies slowest), and
 * the names and labels each run's outputs carry. */
#ifndef FASTMLP_SWEEP_H
#define FASTMLP_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SWEEP_MAX_DIMS 4u
#define SWEEP_MAX_VALUES 64u /* of one flag */
#define SWEEP_MAX_RUNS 256u  /* of the cross product */

/* The type of the field a swept flag sets. */
enum sweep_kind {
    SWEEP_REAL, /* double: any real (the trainer's check bounds it) */
    SWEEP_U32,  /* uint32_t: a whole number 0..UINT32_MAX */
    SWEEP_U64   /* uint64_t: likewise */
};

/* A flag that may be swept: where its value goes in the caller's options
 * (sweep_set) and the smallest value a whole flag takes (batch: 1). */
struct sweep_flag {
    const char *name; /* without the dashes: "lr" */
    enum sweep_kind kind;
    size_t offset; /* of its field in the caller's options struct */
    double min;    /* values below it are refused when parsed */
};

struct sweep_dim {
    const struct sweep_flag *flag;
    uint32_t n;
    double values[SWEEP_MAX_VALUES];
    char texts[SWEEP_MAX_VALUES][32]; /* each value as given ("1e-3"), for names */
};

struct sweep {
    uint32_t n_dims, n_runs;
    struct sweep_dim dims[SWEEP_MAX_DIMS];
};

/* Parse the --sweep arguments (each "FLAG=V1,V2,..."; several in one
 * argument may be separated by spaces or ';') against the flags allowed
 * (a table ending with {0}).  0, or -1 with one line in why. */
int sweep_parse(const char *const *specs, uint32_t n_specs, const struct sweep_flag *allowed, struct sweep *sw,
                char *why, size_t why_len);
/* Run k's value of dimension d (k < n_runs; the first dimension slowest). */
uint32_t sweep_index(const struct sweep *sw, uint32_t k, uint32_t d);
/* Run k's values written into opts, each at its flag's offset. */
void sweep_set(const struct sweep *sw, uint32_t k, void *opts);
/* Run k as "lr=0.01 batch=32" (the legend), and as "lr0.01-batch32" (in
 * file names); both cut at len. */
void sweep_label(const struct sweep *sw, uint32_t k, char *buf, size_t len);
void sweep_suffix(const struct sweep *sw, uint32_t k, char *buf, size_t len);
/* path with "-SUFFIX" before its extension (the part after the last '.' of
 * the last component, if any), and that extension, or ext when it is not
 * NULL: ("runs/m.mlp", "lr0.01", NULL) -> "runs/m-lr0.01.mlp", with ".jsonl"
 * -> "runs/m-lr0.01.jsonl"; a malloc'd string, NULL when out of memory. */
char *sweep_path(const char *path, const char *suffix, const char *ext);

#endif
