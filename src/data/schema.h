/* SPDX-License-Identifier: MIT */
/* The schema (fastmlp.h, "tabular data"): how a table's text became a data
 * set's numbers.  Made by the CSV loader, kept by a model (its file's
 * schema section), applied by the loader to later files. */
#ifndef MLP_SCHEMA_H
#define MLP_SCHEMA_H

#include "internal.h"

/* A sorted list of names: classes, or one column's categories.  Numbers
 * come first, by value (num[i], as %.17g names them), then text by its
 * bytes (num[i] NaN). */
struct mlp__names {
    uint32_t n;
    char **name;
    double *num;
};

struct mlp__column {
    char *name; /* "" without a header */
    enum mlp_col_kind kind;
    uint32_t input;
    struct mlp__names cat; /* categorical */
    double fill;           /* numeric: NaN none */
    int64_t fill_cat;      /* categorical: -1 none */
    uint64_t n_missing, n_unknown;
};

struct mlp_schema {
    uint32_t n_fields;
    int64_t label;         /* field index, -1 none */
    unsigned char delim;
    enum mlp_header_why header;
    enum mlp_task task;
    enum mlp_missing missing;
    struct mlp__names classes;
    uint32_t n_inputs;
    struct mlp__column *col; /* n_fields */
    uint64_t rows_dropped, fields_filled;
    uint64_t *kept; /* rows_dropped > 0: the file's data-row index of each
                       row of the data set (not in a model's copy) */
};

/* An empty schema of n_fields columns (names "", numeric, fills NaN / -1);
 * NULL when out of memory. */
struct mlp_schema *mlp__schema_new(uint32_t n_fields);
void mlp__schema_free(struct mlp_schema *s);
/* A deep copy without the load's counts (what a model keeps); NULL when
 * out of memory. */
struct mlp_schema *mlp__schema_copy(const struct mlp_schema *s);
/* Numbers the inputs: col[i].input for every column but the label, and
 * n_inputs.  False when they exceed MLP_MAX_WIDTH. */
bool mlp__schema_number_inputs(struct mlp_schema *s);

/* Whether a field's n bytes mean "no value" (fastmlp.h's words: NA, N/A,
 * nan, null, None, ?, ..., and the empty field). */
bool mlp__missing_word(const char *s, size_t n);

/* The name of a number, as classes and categories call it ("%.17g"). */
void mlp__num_name(double v, char out[32]);
/* Sort and deduplicate n entries (names malloc'd, taken over) into *out;
 * map[i] (may be NULL) receives entry i's index in the sorted list.
 * False when out of memory (the names are freed either way). */
bool mlp__names_build(struct mlp__names *out, char **name, double *num, uint32_t n, uint32_t *map);
void mlp__names_free(struct mlp__names *l);
/* The index of a name (num: its value, NaN for text), or -1. */
int64_t mlp__names_find(const struct mlp__names *l, const char *name, size_t len, double num);

/* The schema section of a model file: its size, its bytes into buf
 * (exactly that size), and a schema from such bytes (every count checked
 * against `size` before anything is allocated; MLP_ERR_FORMAT naming
 * `what`). */
uint64_t mlp__schema_size(const struct mlp_schema *s);
void mlp__schema_put(const struct mlp_schema *s, unsigned char *buf);
enum mlp_status mlp__schema_get(const unsigned char *b, uint64_t size, const char *what, struct mlp_schema **out,
                                struct mlp_error *err);

#endif /* MLP_SCHEMA_H */
