/* SPDX-License-Identifier: MIT */
/* What one `fastmlp bench` run is (seed 003's benchmark): each setting's
 * rule, shared by `bench quick`'s flags and the YAML keys so that both say
 * the same thing about the same mistake, and seed 003's YAML file read
 * through the one YAML reader (config.h) in its two layouts (bench_spec.c). */
#ifndef FASTMLP_BENCH_SPEC_H
#define FASTMLP_BENCH_SPEC_H

#include "fastmlp.h"

#include <stdbool.h>
#include <stddef.h>

#define BENCH_MAX_EPS 16

struct bench_spec {
    const char *name; /* NULL: not named */
    uint32_t nepochs, layers, dimension;
    enum mlp_dtype dtype;
    int qtype;         /* enum mlp_qtype run through mlp_qmodel_predict, or -1 (f64: the model's own pass) */
    char precision[6]; /* as written: f32 f64 f4 f8 bf16 b2 int8 i1 */
    char name_buf[201];
    enum mlp_act act;
    int threads; /* 0: all cores */
    uint64_t seed;
    double eps[BENCH_MAX_EPS]; /* error bounds: the largest |output - f64 reference| that passes */
    size_t n_eps;
    /* Seed 003's numerical-stability knobs (math.epsilons in its file):
     * validated and reported, not applied (see bench_spec.c). */
    bool have_eps_exp, have_eps_square;
    double eps_exp, eps_square;
};

/* The defaults of a run: seed 1, everything else unset. */
struct bench_spec bench_spec_default(void);

/* One setting, each with its rule. */
enum bench_field {
    F_NAME,
    F_NEPOCHS,
    F_LAYERS,
    F_DIMENSION,
    F_PRECISION,
    F_ACTIVATION,
    F_THREADS,
    F_SEED,
    F_EPSILON,      /* an error bound (adds one) */
    F_EPSILON_EXP,  /* seed 003's epsilon_exp */
    F_EPSILON_SQUARE
};

/* Set field f of s from the text v; on a bad value write why into `why`
 * ("'0' is not a dimension from 1 to 16777216") and return false. */
bool bench_set(struct bench_spec *s, enum bench_field f, const char *v, char *why, size_t n);

/* Read seed 003's YAML file `path` into *s (bench_spec_default first).
 * Returns EXIT_OK or an exit code after one stderr line naming the file,
 * the line and the key's path. */
int bench_spec_read(const char *cmd, const char *path, struct bench_spec *s);

#endif
