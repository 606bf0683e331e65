/* SPDX-License-Identifier: MIT */
/* `fastmlp bench`'s settings (bench_spec.h): the rule of each one, and
 * seed 003's YAML file, read through the one YAML reader (config.c) and
 * judged here against the file's schema, in either of its two layouts. */
#include "bench_spec.h"

#include "cli.h"
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_YAML_VERSION 1

struct bench_spec bench_spec_default(void)
{
    return (struct bench_spec){.seed = 1};
}

/* ------------------------------------------------------------ the values */

static bool whole(const char *v, uint64_t lo, uint64_t hi, uint64_t *x)
{
    return cli_parse_u64(v, x) && *x >= lo && *x <= hi;
}

static bool set_precision(struct bench_spec *s, const char *v, char *why, size_t n)
{
    /* f4 and f8 are NumPy's names for float32 and float64 (seed 003's
     * file says f4); b2 and i1 the same style for bfloat16 and int8
     * (weights of f32 models converted by mlp_qmodel_create) */
    s->qtype = mlp_qtype_parse(v);
    s->dtype = MLP_F32;
    if (strcmp(v, "f64") == 0 || strcmp(v, "f8") == 0) {
        s->dtype = MLP_F64;
    } else if (s->qtype < 0) {
        snprintf(why, n, "'%s' is not one of f32 f64 f4 f8 bf16 b2 int8 i1", v);
        return false;
    }
    snprintf(s->precision, sizeof s->precision, "%s", v);
    return true;
}

static bool set_real(double *dst, bool positive, const char *v, char *why, size_t n)
{
    double d;
    if (!cli_parse_real(v, &d) || (positive ? !(d > 0) : !(d >= 0))) {
        snprintf(why, n, "'%s' is not a %s finite number", v, positive ? "positive" : "non-negative");
        return false;
    }
    *dst = d;
    return true;
}

bool bench_set(struct bench_spec *s, enum bench_field f, const char *v, char *why, size_t n)
{
    uint64_t x;
    int64_t t;
    switch (f) {
    case F_NAME:
        if (!*v || strlen(v) > 200) {
            snprintf(why, n, "'%.40s' is not a name of 1 to 200 characters", v);
            return false;
        }
        snprintf(s->name_buf, sizeof s->name_buf, "%s", v);
        s->name = s->name_buf;
        return true;
    case F_NEPOCHS:
        if (!whole(v, 1, UINT32_MAX, &x)) {
            snprintf(why, n, "'%s' is not a whole number of runs from 1 to %u", v, UINT32_MAX);
            return false;
        }
        s->nepochs = (uint32_t)x;
        return true;
    case F_LAYERS:
        if (!whole(v, 1, MLP_MAX_LAYERS, &x)) {
            snprintf(why, n, "'%s' is not a layer count from 1 to %u", v, MLP_MAX_LAYERS);
            return false;
        }
        s->layers = (uint32_t)x;
        return true;
    case F_DIMENSION:
        if (!whole(v, 1, MLP_MAX_WIDTH, &x)) {
            snprintf(why, n, "'%s' is not a dimension from 1 to %u", v, MLP_MAX_WIDTH);
            return false;
        }
        s->dimension = (uint32_t)x;
        return true;
    case F_PRECISION: return set_precision(s, v, why, n);
    case F_ACTIVATION:
        if (strcmp(v, "sigmoid") != 0 && strcmp(v, "tanh") != 0) {
            snprintf(why, n, "'%s' is not one of sigmoid tanh", v);
            return false;
        }
        s->act = (enum mlp_act)mlp_act_parse(v);
        return true;
    case F_THREADS: /* the rule of every command's --threads */
        if (!cli_parse_i64(v, &t) || !cli_threads_ok(t, NULL, 0)) {
            snprintf(why, n, "'%s' is not a thread count from 0 (all cores) to %d", v, MLP_MAX_THREADS);
            return false;
        }
        s->threads = (int)t;
        return true;
    case F_SEED:
        if (!cli_parse_u64(v, &s->seed)) {
            snprintf(why, n, "'%s' is not a non-negative integer", v);
            return false;
        }
        return true;
    case F_EPSILON:
        if (s->n_eps == BENCH_MAX_EPS) {
            snprintf(why, n, "more than %d error bounds", BENCH_MAX_EPS);
            return false;
        }
        if (!set_real(&s->eps[s->n_eps], true, v, why, n)) return false;
        s->n_eps++;
        return true;
    /* Seed 003 requires each to be at least 0. */
    case F_EPSILON_EXP: return (s->have_eps_exp = set_real(&s->eps_exp, false, v, why, n));
    case F_EPSILON_SQUARE: return (s->have_eps_square = set_real(&s->eps_square, false, v, why, n));
    }
    return false;
}

/* ------------------------------------------------------------ the file */

/*
 * Seed 003's schema, version 1, in two layouts:
 *   original (seed 003's example_benchmark.yaml):
 *     version: 1
 *     benchmark: {name, nepochs, shape: {layers, dimension},
 *                 math: {precision, epsilons: {epsilon_exp, epsilon_square}, activation},
 *                 performance: {threads}}
 *   flat (fastmlp's first reading of it): the sections shape, math and
 *   performance at the top level beside benchmark: {name, nepochs}, and
 *   math.epsilons a list of error bounds.
 * fastmlp's own keys, optional in both: benchmark.seed, math.max_error (a
 * list of error bounds, or one), and the precisions bf16/b2 and int8/i1.
 * The schema below names each key by its path in the flat layout; in the
 * original one, the sections' paths begin with "benchmark.".  Messages
 * name a key by its path as written.  A version other than 1 is refused
 * before anything else is judged, since a later schema may have keys this
 * one does not know.
 */
enum layout { L_ANY = 0, L_FLAT = 1, L_ORIGINAL = 2 };

struct key {
    const char *path; /* in the flat layout */
    enum cli_yaml_kind kind; /* VALUE; LIST: one value or a list; MAP */
    bool required;
    int field;        /* enum bench_field, or -1 */
    enum layout only; /* L_ANY, or the one layout it belongs to */
};

static const struct key schema[] = {
    {"version", CLI_YAML_VALUE, true, -1, L_ANY},
    {"benchmark", CLI_YAML_MAP, true, -1, L_ANY},
    {"benchmark.name", CLI_YAML_VALUE, false, F_NAME, L_ANY},
    {"benchmark.nepochs", CLI_YAML_VALUE, true, F_NEPOCHS, L_ANY},
    {"benchmark.seed", CLI_YAML_VALUE, false, F_SEED, L_ANY},
    {"shape", CLI_YAML_MAP, true, -1, L_ANY},
    {"shape.layers", CLI_YAML_VALUE, true, F_LAYERS, L_ANY},
    {"shape.dimension", CLI_YAML_VALUE, true, F_DIMENSION, L_ANY},
    {"math", CLI_YAML_MAP, true, -1, L_ANY},
    {"math.precision", CLI_YAML_VALUE, true, F_PRECISION, L_ANY},
    {"math.epsilons", CLI_YAML_LIST, false, F_EPSILON, L_FLAT},
    {"math.epsilons", CLI_YAML_MAP, false, -1, L_ORIGINAL},
    {"math.epsilons.epsilon_exp", CLI_YAML_VALUE, false, F_EPSILON_EXP, L_ORIGINAL},
    {"math.epsilons.epsilon_square", CLI_YAML_VALUE, false, F_EPSILON_SQUARE, L_ORIGINAL},
    {"math.max_error", CLI_YAML_LIST, false, F_EPSILON, L_ANY},
    {"math.activation", CLI_YAML_VALUE, true, F_ACTIVATION, L_ANY},
    {"performance", CLI_YAML_MAP, false, -1, L_ANY},
    {"performance.threads", CLI_YAML_VALUE, false, F_THREADS, L_ANY},
};
#define N_KEYS (sizeof schema / sizeof schema[0])

/* One value as read (a list gives one per item). */
struct item {
    size_t key; /* index into schema */
    const char *path, *value;
    unsigned line;
};

struct judge {
    const char *cmd, *path;
    enum layout layout;
    unsigned layout_line;      /* where the layout showed */
    unsigned seen_line[N_KEYS]; /* 0: not seen */
    struct item *items;
    size_t n_items, cap_items;
    bool nomem;
    /* the first schema error, kept until the version has been judged */
    char first_err[400];
    bool have_err;
};

static void note(struct judge *j, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(struct judge *j, unsigned line, const char *fmt, ...)
{
    if (j->have_err) return;
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    snprintf(j->first_err, sizeof j->first_err, "%s:%u: %s", j->path, line, buf);
    j->have_err = true;
}

/* Whether p[0..n) names one of the sections. */
static bool is_section(const char *p, size_t n)
{
    static const char *const sections[] = {"shape", "math", "performance"};
    for (size_t i = 0; i < 3; i++)
        if (strlen(sections[i]) == n && strncmp(p, sections[i], n) == 0) return true;
    return false;
}

/* The flat-layout path of a written one, and the layout it shows (L_ANY:
 * none). */
static const char *flat_path(const char *written, enum layout *shows)
{
    const char *p = written, *dot;
    *shows = L_ANY;
    if (strncmp(p, "benchmark.", 10) == 0) {
        dot = strchr(p + 10, '.');
        if (is_section(p + 10, dot ? (size_t)(dot - p - 10) : strlen(p + 10))) {
            *shows = L_ORIGINAL;
            return p + 10;
        }
        return p;
    }
    dot = strchr(p, '.');
    if (is_section(p, dot ? (size_t)(dot - p) : strlen(p))) *shows = L_FLAT;
    return p;
}

/* The path a key has in the file's layout. */
static void written_path(const struct judge *j, const struct key *k, char *buf, size_t n)
{
    enum layout shows;
    flat_path(k->path, &shows);
    snprintf(buf, n, "%s%s", shows == L_FLAT && j->layout != L_FLAT ? "benchmark." : "", k->path);
}

static int find_key(const char *flat, enum layout layout)
{
    for (size_t k = 0; k < N_KEYS; k++)
        if (strcmp(schema[k].path, flat) == 0 && (schema[k].only == L_ANY || schema[k].only == layout)) return (int)k;
    return -1;
}

static const char *kind_word(enum cli_yaml_kind k)
{
    return k == CLI_YAML_MAP ? "a mapping" : k == CLI_YAML_LIST ? "a list" : k == CLI_YAML_ALIAS ? "an alias" : "a value";
}

static void add_item(struct judge *j, size_t key, const char *path, const char *value, unsigned line)
{
    if (j->n_items == j->cap_items) {
        size_t cap = j->cap_items ? 2 * j->cap_items : 16;
        struct item *ni = realloc(j->items, cap * sizeof *ni);
        if (!ni) {
            j->nomem = true;
            return;
        }
        j->items = ni;
        j->cap_items = cap;
    }
    j->items[j->n_items++] = (struct item){key, path, value, line};
}

/* A list's values (or the one value of a list key). */
static void take_list(struct judge *j, size_t key, const struct cli_config_entry *e)
{
    if (e->kind == CLI_YAML_VALUE) {
        add_item(j, key, e->key, e->value, e->line);
        return;
    }
    for (size_t i = 0; i < e->n_items; i++) add_item(j, key, e->key, e->items[i], e->item_lines[i]);
    if (e->bad_line && e->bad_kind == CLI_YAML_VALUE)
        note(j, e->bad_line, "%s: the value holds a NUL byte", e->key);
    else if (e->bad_line)
        note(j, e->bad_line, "%s: an item must be a number, not %s", e->key,
             e->bad_kind == CLI_YAML_NULL ? "empty" : kind_word(e->bad_kind));
}

/* Each entry as it is read: the first mistake is kept, and the reading goes
 * on (a syntax error further down is still found first). */
static int visit(const struct cli_config_entry *e, void *user)
{
    struct judge *j = user;
    if (e->kind == CLI_YAML_BADKEY) {
        note(j, e->line, "a key must be a name");
        return CLI_YAML_SKIP;
    }
    enum layout shows;
    const char *flat = flat_path(e->key, &shows);
    if (shows != L_ANY && j->layout == L_ANY) j->layout = shows, j->layout_line = e->line;
    if (shows != L_ANY && shows != j->layout) {
        note(j, e->line, "'%s': the file has shape, math and performance %s (line %u): put all of them there", e->key,
             j->layout == L_ORIGINAL ? "under 'benchmark', as seed 003's file does" : "at the top", j->layout_line);
        return CLI_YAML_SKIP;
    }
    int key = find_key(flat, j->layout);
    if (key < 0) {
        note(j, e->line, "unknown key '%s'", e->key);
        return CLI_YAML_SKIP;
    }
    if (e->first_line || j->seen_line[key]) {
        note(j, e->line, "duplicate key '%s' (first on line %u)", e->key, e->first_line ? e->first_line : j->seen_line[key]);
        return CLI_YAML_SKIP;
    }
    j->seen_line[key] = e->line;
    const struct key *k = &schema[key];
    if (e->kind == CLI_YAML_ALIAS) {
        note(j, e->line, "%s: aliases are not supported", e->key);
    } else if (e->kind == CLI_YAML_NULL) {
        note(j, e->line, "%s has no value", e->key);
    } else if (k->kind == CLI_YAML_MAP) {
        if (e->kind == CLI_YAML_MAP) return CLI_YAML_GO;
        note(j, e->line, "%s must be a mapping of keys, not %s", e->key, kind_word(e->kind));
    } else if (e->kind == CLI_YAML_MAP || (e->kind == CLI_YAML_LIST && k->kind != CLI_YAML_LIST)) {
        note(j, e->line, "%s must be a single value, not %s", e->key, kind_word(e->kind));
    } else if (e->nul) {
        note(j, e->line, "%s: the value holds a NUL byte", e->key);
    } else if (k->kind == CLI_YAML_LIST) {
        take_list(j, (size_t)key, e);
    } else {
        add_item(j, (size_t)key, e->key, e->value, e->line);
    }
    return CLI_YAML_SKIP; /* (only a mapping's keys are read on) */
}

/* The version first: a newer file's other keys are not ours to judge. */
static int judge_version(const struct judge *j)
{
    for (size_t i = 0; i < j->n_items; i++) {
        if (strcmp(schema[j->items[i].key].path, "version") != 0) continue;
        uint64_t v;
        const char *val = j->items[i].value;
        if (!cli_parse_u64(val, &v) || v == 0)
            return cli_usage_error(j->cmd, "%s:%u: version: '%s' is not a schema version (this build reads version %d)",
                                   j->path, j->items[i].line, val, BENCH_YAML_VERSION);
        if (v > BENCH_YAML_VERSION)
            return cli_usage_error(j->cmd, "%s:%u: version %llu not supported (this build reads version %d)", j->path,
                                   j->items[i].line, (unsigned long long)v, BENCH_YAML_VERSION);
    }
    return EXIT_OK;
}

/* Every required key of the layout, unless it is in an optional section
 * that is absent. */
static int judge_required(const struct judge *j)
{
    for (size_t k = 0; k < N_KEYS; k++) {
        if (j->seen_line[k] || !schema[k].required) continue;
        if (schema[k].only != L_ANY && schema[k].only != (j->layout ? j->layout : L_ORIGINAL)) continue;
        char path[80], parent[80];
        written_path(j, &schema[k], path, sizeof path);
        const char *dot = strrchr(path, '.');
        unsigned parent_line = 0;
        if (dot) {
            snprintf(parent, sizeof parent, "%.*s", (int)(dot - path), path);
            enum layout shows;
            int p = find_key(flat_path(parent, &shows), j->layout);
            if (p >= 0 && !j->seen_line[p] && !schema[p].required) continue;
            parent_line = p >= 0 ? j->seen_line[p] : 0;
        }
        if (parent_line)
            return cli_usage_error(j->cmd, "%s:%u: %s: missing required key '%s'", j->path, parent_line, parent, path);
        return cli_usage_error(j->cmd, "%s: missing required key '%s'", j->path, path);
    }
    return EXIT_OK;
}

int bench_spec_read(const char *cmd, const char *path, struct bench_spec *s)
{
    *s = bench_spec_default();
    struct judge j = {.cmd = cmd, .path = path};
    struct cli_yaml_read_params p = {.cmd = cmd,
                                     .path = path,
                                     .expected = "a mapping (version: 1, benchmark: ...)",
                                     .visit = visit,
                                     .user = &j};
    struct cli_config_entry *e = NULL;
    size_t n;
    int rc = cli_yaml_read(&p, &e, &n);
    free(e); /* the judge kept what it needs; the strings live on */
    if (rc == EXIT_OK && j.nomem) {
        fprintf(stderr, "fastmlp %s: %s: out of memory\n", cmd, path);
        rc = EXIT_SOFTWARE;
    }
    if (rc == EXIT_OK) rc = judge_version(&j);
    if (rc == EXIT_OK && j.have_err) rc = cli_usage_error(cmd, "%s", j.first_err);
    if (rc == EXIT_OK) rc = judge_required(&j);
    for (size_t i = 0; i < j.n_items && rc == EXIT_OK; i++) {
        const struct key *k = &schema[j.items[i].key];
        char why[200];
        if (k->field >= 0 && !bench_set(s, (enum bench_field)k->field, j.items[i].value, why, sizeof why))
            rc = cli_usage_error(cmd, "%s:%u: %s: %s", path, j.items[i].line, j.items[i].path, why);
    }
    free(j.items);
    return rc;
}
