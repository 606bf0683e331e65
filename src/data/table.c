/* SPDX-License-Identifier: MIT */
/* The CSV loader's table reader: a file with text or missing values (which
 * the fast numeric parse in csv.c hands over, csv_load.c) read into cells,
 * then made into a data set column by column with its schema.  It reads
 * fields with csv.c's reader and shares its label helpers. */
#include "data/csv_impl.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------- the table reader */

/*
 * A file with text or missing values, read by one thread into its cells
 * (a number, or the id of a text among its column's distinct texts, or
 * missing), then made into the data set column by column: numbers as they
 * are, categories one-hot, missing values dropped or filled, the label
 * column made classes or targets.  12 bytes a cell beside the file: tables
 * with text are small next to the pixel files the fast path is for.
 */

/* A column's distinct texts: open addressing over (hash, bytes). */
struct intern {
    uint32_t n, cap;  /* entries; slots, a power of two */
    uint32_t *slot;   /* 1 + id, 0 empty */
    char **text;      /* id -> its bytes, NUL-terminated */
    uint32_t *len;
    uint32_t text_cap;
};

static uint32_t hash_bytes(const unsigned char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    return h;
}

/* The id of s (added when new); UINT32_MAX when out of memory. */
static uint32_t intern_id(struct intern *t, const unsigned char *s, size_t n)
{
    if (2 * (t->n + 1) > t->cap) {
        uint32_t cap = t->cap ? 2 * t->cap : 64;
        uint32_t *slot = calloc(cap, sizeof *slot);
        if (!slot) return UINT32_MAX;
        for (uint32_t i = 0; i < t->cap; i++) {
            if (!t->slot[i]) continue;
            uint32_t id = t->slot[i] - 1, h = hash_bytes((const unsigned char *)t->text[id], t->len[id]);
            for (uint32_t k = h & (cap - 1);; k = (k + 1) & (cap - 1))
                if (!slot[k]) {
                    slot[k] = id + 1;
                    break;
                }
        }
        free(t->slot);
        t->slot = slot;
        t->cap = cap;
    }
    uint32_t h = hash_bytes(s, n);
    for (uint32_t k = h & (t->cap - 1);; k = (k + 1) & (t->cap - 1)) {
        uint32_t e = t->slot[k];
        if (!e) {
            if (t->n == t->text_cap) {
                uint32_t nc = t->text_cap ? 2 * t->text_cap : 16;
                char **tx = realloc(t->text, nc * sizeof *tx);
                if (!tx) return UINT32_MAX;
                t->text = tx;
                uint32_t *ln = realloc(t->len, nc * sizeof *ln);
                if (!ln) return UINT32_MAX;
                t->len = ln;
                t->text_cap = nc;
            }
            char *copy = malloc(n + 1);
            if (!copy) return UINT32_MAX;
            memcpy(copy, s, n);
            copy[n] = 0;
            t->text[t->n] = copy;
            t->len[t->n] = (uint32_t)n;
            t->slot[k] = ++t->n;
            return t->n - 1;
        }
        if (t->len[e - 1] == n && memcmp(t->text[e - 1], s, n) == 0) return e - 1;
    }
}

static void intern_free(struct intern *t)
{
    for (uint32_t i = 0; i < t->n; i++) free(t->text[i]);
    free(t->text);
    free(t->len);
    free(t->slot);
}

/* The cells of a table and what was seen in each column. */
struct table {
    uint64_t n_rows;
    uint32_t nf;
    double *val;    /* n_rows x nf: the number (NaN: text or missing) */
    uint32_t *sid;  /* n_rows x nf: 1 + the text's id, 0 otherwise */
    struct intern *it; /* nf */
    const unsigned char **at_text, **at_missing; /* nf each: the first seen */
    uint64_t *n_text, *n_num, *n_missing;
};

static void table_free(struct table *T)
{
    if (T->it)
        for (uint32_t f = 0; f < T->nf; f++) intern_free(&T->it[f]);
    free(T->it);
    mlp__afree(T->val);
    mlp__afree(T->sid);
    free(T->at_text);
    free(T->at_missing);
    free(T->n_text);
    free(T->n_num);
    free(T->n_missing);
}

static enum mlp_status table_fail(const struct csv *c, const unsigned char *at, uint32_t f, struct mlp_error *err,
                                  enum mlp_status st, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A missing value where the policy has none: what it was, and the way out. */
static enum mlp_status missing_fail(const struct csv *c, const struct csv_field *fl, uint32_t f,
                                    struct mlp_error *err)
{
    char show[160], what[200];
    if (fl->s == fl->e)
        snprintf(what, sizeof what, "empty field");
    else
        snprintf(what, sizeof what, "got '%s'", mlp__csv_tok_show(show, fl->s, (size_t)(fl->e - fl->s)));
    if ((int64_t)f == c->label)
        return table_fail(c, fl->at, f, err, MLP_ERR_FORMAT, "missing label (%s): --missing drop drops such rows",
                          what);
    return table_fail(c, fl->at, f, err, MLP_ERR_FORMAT,
                      "missing value (%s): --missing drop|mean|median drops or fills such rows", what);
}

static enum mlp_status table_read(struct csv *c, struct csv_job *j, uint64_t n_rows, struct table *T,
                                  struct mlp_error *err)
{
    const uint32_t nf = c->n_fields;
    uint64_t cells;
    memset(T, 0, sizeof *T);
    T->nf = nf;
    /* A record of nf fields takes at least nf bytes (its delimiters and its
     * line end): more records than that are blank lines or short rows, an
     * error met before the rows sized here run out. */
    const uint64_t most = (uint64_t)(c->end - c->data + 1) / nf + 1;
    if (n_rows > most) n_rows = most;
    if (!mlp__mul_ok(n_rows, nf, UINT64_MAX / 16, &cells) || cells * 12 > mlp__mem_bound())
        return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory: %" PRIu64 " rows x %" PRIu32 " columns of a table",
                             n_rows, nf);
    T->val = mlp__amalloc((size_t)cells * sizeof *T->val + 8);
    T->sid = mlp__amalloc((size_t)cells * sizeof *T->sid + 8);
    T->it = calloc(nf, sizeof *T->it);
    T->at_text = calloc(nf, sizeof *T->at_text);
    T->at_missing = calloc(nf, sizeof *T->at_missing);
    T->n_text = calloc(nf, sizeof *T->n_text);
    T->n_num = calloc(nf, sizeof *T->n_num);
    T->n_missing = calloc(nf, sizeof *T->n_missing);
    if (!T->val || !T->sid || !T->it || !T->at_text || !T->at_missing || !T->n_text || !T->n_num ||
        !T->n_missing)
        return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    j->c = c;
    j->err.st = MLP_OK;
    const unsigned char *p = c->data, *const end = c->end;
    uint64_t row = 0;
    while (p < end) {
        if (row == n_rows) {
            mlp__csv_ce_set(&j->err, MLP_ERR_FORMAT, p, "internal error: more records than counted (%" PRIu64 ")", n_rows);
            return mlp__csv_fail_at(c, err, &j->err);
        }
        if (is_eol(*p)) {
            mlp__csv_ce_set(&j->err, MLP_ERR_FORMAT, p, "ragged row: expected %" PRIu32 " fields (as in %s), got a blank line",
                            nf, c->fields_from);
            return mlp__csv_fail_at(c, err, &j->err);
        }
        for (uint32_t f = 0; f < nf; f++) {
            struct csv_field fl;
            enum cell k;
            double v;
            if (mlp__csv_field_scan(c, p, end, j->field, &fl, &j->err) != MLP_OK ||
                mlp__csv_cell_of(c, &fl, j->num, &k, &v, &j->err) != MLP_OK)
                return mlp__csv_fail_at(c, err, &j->err);
            const uint64_t at = row * nf + f;
            T->val[at] = v;
            T->sid[at] = 0;
            if (k == CELL_NUM) {
                T->n_num[f]++;
            } else if (k == CELL_MISSING) {
                if (!T->n_missing[f]++) T->at_missing[f] = fl.at;
                /* An error whatever else the file holds: said at once, so
                 * that it is the first in the file. */
                if (!c->apply && (c->missing == MLP_MISSING_ERROR ||
                                  ((int64_t)f == c->label && c->missing != MLP_MISSING_DROP)))
                    return missing_fail(c, &fl, f, err);
            } else {
                uint32_t id = intern_id(&T->it[f], fl.s, (size_t)(fl.e - fl.s));
                if (id == UINT32_MAX) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
                T->sid[at] = id + 1;
                if (!T->n_text[f]++) T->at_text[f] = fl.at;
            }
            if (!mlp__csv_field_end(j, f, fl.next, end, &p)) return mlp__csv_fail_at(c, err, &j->err);
        }
        row++;
    }
    T->n_rows = row;
    return MLP_OK;
}

/* Where a message points in the file, and the column's name for it. */
static enum mlp_status table_fail(const struct csv *c, const unsigned char *at, uint32_t f, struct mlp_error *err,
                                  enum mlp_status st, const char *fmt, ...)
{
    struct csv_err ce;
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *nm = c->names ? c->names[f] : "";
    mlp__csv_ce_set(&ce, st, at, "%s (column %" PRIu32 "%s%.40s%s)", what, f + 1, *nm ? " '" : "", nm, *nm ? "'" : "");
    return mlp__csv_fail_at(c, err, &ce);
}

/* Names for a column's cells, sorted as fastmlp.h says (numbers first):
 * its distinct numbers u[0..nu), then its texts; text id i is name
 * tmap[i].  Into l; false when out of memory. */
static bool column_names(const struct table *T, uint32_t f, struct mlp__names *l, uint32_t **tmap, double **u,
                         uint64_t *nu)
{
    const struct intern *t = &T->it[f];
    double *nums = malloc((T->n_num[f] ? T->n_num[f] : 1) * sizeof *nums);
    uint64_t k = 0;
    if (!nums) return false;
    for (uint64_t r = 0; r < T->n_rows; r++) {
        double v = T->val[r * T->nf + f];
        if (!isnan(v)) nums[k++] = v;
    }
    bool ok = mlp__csv_distinct(nums, k, u, nu);
    free(nums);
    if (!ok) return false;
    struct mlp__names numl = {0}, txt = {0};
    char **tn = malloc((t->n ? t->n : 1) * sizeof *tn);
    double *tv = malloc((t->n ? t->n : 1) * sizeof *tv);
    *tmap = malloc((t->n ? t->n : 1) * sizeof **tmap);
    ok = tn && tv && *tmap && mlp__csv_number_names(&numl, *u, *nu);
    uint32_t i = 0;
    for (; ok && i < t->n; i++) {
        tv[i] = NAN;
        if (!(tn[i] = strdup(t->text[i]))) ok = false;
    }
    if (ok) {
        ok = mlp__names_build(&txt, tn, tv, t->n, *tmap);
    } else {
        for (uint32_t q = 0; tn && q < i; q++) free(tn[q]);
    }
    free(tn);
    free(tv);
    /* One list: the numbers, then the texts. */
    if (ok) {
        uint32_t n = numl.n + txt.n;
        l->name = malloc((n ? n : 1) * sizeof *l->name);
        l->num = malloc((n ? n : 1) * sizeof *l->num);
        ok = l->name && l->num;
        if (ok) {
            memcpy(l->name, numl.name, numl.n * sizeof *l->name);
            memcpy(l->num, numl.num, numl.n * sizeof *l->num);
            memcpy(l->name + numl.n, txt.name, txt.n * sizeof *l->name);
            memcpy(l->num + numl.n, txt.num, txt.n * sizeof *l->num);
            l->n = n;
            for (uint32_t q = 0; q < t->n; q++) (*tmap)[q] += numl.n;
            free(numl.name);
            free(numl.num);
            free(txt.name);
            free(txt.num);
            return true;
        }
        free(l->name);
        free(l->num);
        memset(l, 0, sizeof *l);
    }
    mlp__names_free(&numl);
    mlp__names_free(&txt);
    free(*tmap);
    *tmap = NULL;
    free(*u);
    *u = NULL;
    return false;
}

/* Cell (r, f)'s index among names l: a text by tmap (its id), a number by
 * value; -1 missing or not among them.  Applying a schema, tmap is NULL and
 * texts are looked up by name. */
static int64_t cell_index(const struct table *T, uint64_t r, uint32_t f, const struct mlp__names *l,
                          const int64_t *tmap)
{
    uint64_t at = r * T->nf + f;
    if (T->sid[at]) return tmap[T->sid[at] - 1];
    double v = T->val[at];
    return isnan(v) ? -1 : mlp__names_find(l, "", 0, v);
}

/* A numeric column's fill value over the kept rows (mean or median). */
static bool column_fill(const struct table *T, uint32_t f, const bool *drop, enum mlp_missing how, double *fill)
{
    double *v = malloc((T->n_rows ? T->n_rows : 1) * sizeof *v);
    if (!v) return false;
    uint64_t k = 0;
    for (uint64_t r = 0; r < T->n_rows; r++) {
        double x = T->val[r * T->nf + f];
        if (!(drop && drop[r]) && !isnan(x)) v[k++] = x;
    }
    *fill = mlp__csv_fill_value(v, k, how);
    free(v);
    return true;
}


/* The table's columns made into the data set (see the reader's comment). */
struct build {
    struct csv *c;
    struct table *T;
    struct mlp_schema *S;
    int64_t **tmap;  /* nf: a column's text id -> its category or class, -1 unknown */
    bool *drop;      /* n_rows, or NULL */
};

static uint32_t schema_col(const struct csv *c, uint32_t f)
{
    return c->apply_skip >= 0 && (int64_t)f >= c->apply_skip ? f + 1 : f;
}

/* Text ids of column f mapped to names l: as made (tmap32), or looked up. */
static bool map_texts(struct build *B, uint32_t f, const struct mlp__names *l, const uint32_t *tmap32)
{
    const struct intern *t = &B->T->it[f];
    if (!(B->tmap[f] = malloc((t->n ? t->n : 1) * sizeof **B->tmap))) return false;
    for (uint32_t i = 0; i < t->n; i++)
        B->tmap[f][i] = tmap32 ? tmap32[i] : mlp__names_find(l, t->text[i], t->len[i], NAN);
    return true;
}

/* The kinds and categories of the input columns. */
static enum mlp_status build_columns(struct build *B, struct mlp_error *err)
{
    struct csv *c = B->c;
    struct table *T = B->T;
    char show[160];
    for (uint32_t f = 0; f < T->nf; f++) {
        if ((int64_t)f == c->label) continue;
        struct mlp__column *col = &B->S->col[schema_col(c, f)];
        const unsigned char *tx = T->at_text[f];
        if (c->apply) {
            if (col->kind == MLP_COL_NUMERIC && T->n_text[f])
                return table_fail(c, tx, f, err, MLP_ERR_FORMAT,
                                  "invalid number (expected a number, got '%s'): a numeric column in the model's "
                                  "training data",
                                  mlp__csv_tok_show(show, (const unsigned char *)T->it[f].text[0], T->it[f].len[0]));
            if (col->kind == MLP_COL_CATEGORICAL && !map_texts(B, f, &col->cat, NULL))
                return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
            continue;
        }
        bool cat = (c->forced && c->forced[f]) || (T->n_text[f] && !T->n_num[f]);
        if (!cat && T->n_text[f]) {
            const char *nm = c->names ? c->names[f] : "";
            char idx[16];
            snprintf(idx, sizeof idx, "%" PRIu32, f);
            return table_fail(c, tx, f, err, MLP_ERR_FORMAT,
                              "invalid number (expected a number, got '%s'): the column holds numbers elsewhere; "
                              "--categorical %s reads it as categories",
                              mlp__csv_tok_show(show, (const unsigned char *)T->it[f].text[0], T->it[f].len[0]),
                              *nm ? nm : idx);
        }
        if (!cat) continue;
        /* A text column of mostly distinct values (more than 100 of them,
         * and more than half the rows) is an identifier, not a category:
         * one-hot, it would add an input per row.  Asked for by name, it is
         * the user's choice. */
        const uint32_t n_texts = T->it[f].n;
        if (!(c->forced && c->forced[f]) && n_texts > 100 && (uint64_t)n_texts * 2 > T->n_rows) {
            const char *nm = c->names ? c->names[f] : "";
            char idx[16];
            snprintf(idx, sizeof idx, "%" PRIu32, f);
            return table_fail(c, tx, f, err, MLP_ERR_FORMAT,
                              "%" PRIu32 " distinct values in %" PRIu64 " rows: an identifier rather than a category "
                              "(drop the column, or --categorical %s to one-hot it anyway)",
                              n_texts, T->n_rows, *nm ? nm : idx);
        }
        col->kind = MLP_COL_CATEGORICAL;
        uint32_t *tmap32 = NULL;
        double *u = NULL;
        uint64_t nu;
        bool ok = column_names(T, f, &col->cat, &tmap32, &u, &nu) && map_texts(B, f, NULL, tmap32);
        free(tmap32);
        free(u);
        if (!ok) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
        if (col->cat.n == 0)
            return table_fail(c, T->at_missing[f], f, err, MLP_ERR_FORMAT,
                              "a categorical column with no value at all");
    }
    return MLP_OK;
}

/* The label column: its task, and its classes made or looked up. */
static enum mlp_status build_label(struct build *B, struct mlp_error *err)
{
    struct csv *c = B->c;
    struct table *T = B->T;
    struct mlp_schema *S = B->S;
    const uint32_t f = (uint32_t)c->label;
    char show[160];
    if (!c->apply) {
        enum mlp_task task = c->task;
        if (T->n_text[f] && task == MLP_TASK_REGRESS)
            return table_fail(c, T->at_text[f], f, err, MLP_ERR_FORMAT,
                              "label '%s' is not a number (regression needs numbers)",
                              mlp__csv_tok_show(show, (const unsigned char *)T->it[f].text[0], T->it[f].len[0]));
        uint32_t *tmap32 = NULL;
        double *u = NULL;
        uint64_t nu = 0;
        struct mlp__names names = {0};
        if (!column_names(T, f, &names, &tmap32, &u, &nu)) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
        if (task == MLP_TASK_AUTO) task = T->n_text[f] ? MLP_TASK_CLASSIFY : mlp__csv_auto_task(u, nu, T->n_rows);
        S->task = task;
        bool ok = true;
        if (task == MLP_TASK_CLASSIFY) {
            S->classes = names;
            ok = map_texts(B, f, NULL, tmap32);
        } else {
            mlp__names_free(&names);
        }
        free(tmap32);
        free(u);
        if (!ok) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
        if (task == MLP_TASK_CLASSIFY && S->classes.n > MLP_MAX_CLASSES)
            return mlp__csv_fail(c, err, MLP_ERR_RANGE, "the label column holds %" PRIu32 " distinct values: more than %u classes",
                                 S->classes.n, MLP_MAX_CLASSES);
        return MLP_OK;
    }
    if (S->task == MLP_TASK_REGRESS && T->n_text[f])
        return table_fail(c, T->at_text[f], f, err, MLP_ERR_FORMAT,
                          "target '%s' is not a number (the model does regression)",
                          mlp__csv_tok_show(show, (const unsigned char *)T->it[f].text[0], T->it[f].len[0]));
    if (S->task == MLP_TASK_CLASSIFY && !map_texts(B, f, &S->classes, NULL))
        return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    return MLP_OK;
}

/* Rows to drop, fill values, and every missing value checked against the
 * policy. */
static enum mlp_status build_missing(struct build *B, struct mlp_error *err)
{
    struct csv *c = B->c;
    struct table *T = B->T;
    struct mlp_schema *S = B->S;
    const bool drop = c->missing == MLP_MISSING_DROP;
    uint64_t any = 0;
    for (uint32_t f = 0; f < T->nf; f++) {
        any += T->n_missing[f];
        if (!T->n_missing[f]) continue;
        const struct mlp__column *col = &S->col[schema_col(c, f)];
        const char *how = c->apply ? "the model has no fill value for it (it was trained with --missing error or drop); "
                                     "--missing drop drops such rows"
                                   : "--missing drop|mean|median drops or fills such rows";
        if ((int64_t)f == c->label) {
            if (!drop)
                return table_fail(c, T->at_missing[f], f, err, MLP_ERR_FORMAT,
                                  "missing label (--missing drop drops such rows)");
            continue;
        }
        bool has_fill = c->apply && (col->kind == MLP_COL_NUMERIC ? !isnan(col->fill) : col->fill_cat >= 0);
        if (!has_fill && !drop && (c->apply || c->missing == MLP_MISSING_ERROR))
            return table_fail(c, T->at_missing[f], f, err, MLP_ERR_FORMAT, "missing value: %s", how);
    }
    if (any && drop) {
        if (!(B->drop = calloc(T->n_rows, sizeof *B->drop))) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
        for (uint32_t f = 0; f < T->nf; f++) {
            const struct mlp__column *col = &S->col[schema_col(c, f)];
            bool has_fill = c->apply && (int64_t)f != c->label &&
                            (col->kind == MLP_COL_NUMERIC ? !isnan(col->fill) : col->fill_cat >= 0);
            for (uint64_t r = 0; T->n_missing[f] && !has_fill && r < T->n_rows; r++)
                if (!T->sid[r * T->nf + f] && isnan(T->val[r * T->nf + f])) B->drop[r] = true;
        }
    }
    if (c->apply || (c->missing != MLP_MISSING_MEAN && c->missing != MLP_MISSING_MEDIAN)) return MLP_OK;
    /* Fill values for every input column, from the rows read: later data
     * may miss values where this did not. */
    for (uint32_t f = 0; f < T->nf; f++) {
        if ((int64_t)f == c->label) continue;
        struct mlp__column *col = &S->col[f];
        if (col->kind == MLP_COL_NUMERIC) {
            if (!column_fill(T, f, B->drop, c->missing, &col->fill))
                return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
            continue;
        }
        uint64_t *count = calloc(col->cat.n, sizeof *count);
        if (!count) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
        for (uint64_t r = 0; r < T->n_rows; r++) {
            int64_t k = cell_index(T, r, f, &col->cat, B->tmap[f]);
            if (k >= 0) count[k]++;
        }
        col->fill_cat = 0;
        for (uint32_t k = 1; k < col->cat.n; k++)
            if (count[k] > count[col->fill_cat]) col->fill_cat = k;
        free(count);
    }
    return MLP_OK;
}

/* Cell (r, f) as a message shows it: its text, or its number's name. */
static const char *cell_show(const struct table *T, uint64_t r, uint32_t f, char show[160])
{
    const uint64_t at = r * T->nf + f;
    if (T->sid[at]) {
        uint32_t id = T->sid[at] - 1;
        return mlp__csv_tok_show(show, (const unsigned char *)T->it[f].text[id], T->it[f].len[id]);
    }
    char nm[32];
    mlp__num_name(T->val[at], nm);
    return mlp__csv_tok_show(show, (const unsigned char *)nm, strlen(nm));
}

/* The data set's rows from the table's kept rows. */
static enum mlp_status build_rows(struct build *B, struct mlp_dataset *ds, struct mlp_error *err)
{
    struct csv *c = B->c;
    struct table *T = B->T;
    struct mlp_schema *S = B->S;
    uint64_t nk = 0;
    for (uint64_t r = 0; r < T->n_rows; r++) nk += !(B->drop && B->drop[r]);
    if (nk == 0)
        return mlp__csv_fail(c, err, MLP_ERR_FORMAT, "no rows left: each of the %" PRIu64 " rows misses a value (--missing drop)",
                             T->n_rows);
    const bool has_y = c->label >= 0, classify = has_y && S->task == MLP_TASK_CLASSIFY;
    enum mlp_status st = mlp__dataset_alloc(ds, nk, S->n_inputs, MLP_ELEM_F64, classify, has_y && !classify ? 1 : 0, err);
    if (st != MLP_OK) return st;
    double *x = (double *)ds->owned;
    memset(x, 0, (size_t)nk * S->n_inputs * sizeof *x);
    uint64_t k = 0, filled = 0;
    char show[160];
    for (uint64_t r = 0; r < T->n_rows; r++) {
        if (B->drop && B->drop[r]) continue;
        double *xr = x + k * S->n_inputs;
        for (uint32_t f = 0; f < T->nf; f++) {
            const uint64_t at = r * T->nf + f;
            const bool missing = !T->sid[at] && isnan(T->val[at]);
            struct mlp__column *col = &S->col[schema_col(c, f)];
            if ((int64_t)f == c->label) {
                if (!classify) {
                    ((double *)ds->targets)[k] = T->val[at];
                    continue;
                }
                int64_t y = cell_index(T, r, f, &S->classes, B->tmap[f]);
                if (y < 0) {
                    char list[256];
                    mlp__csv_class_list(&S->classes, list, sizeof list);
                    return mlp__csv_fail(c, err, MLP_ERR_RANGE,
                                         "label '%s' in data row %" PRIu64 " is not one of the model's classes (%s)",
                                         cell_show(T, r, f, show), r + 1, list);
                }
                ((int32_t *)ds->labels)[k] = (int32_t)y;
                continue;
            }
            if (col->kind == MLP_COL_NUMERIC) {
                xr[col->input] = missing ? col->fill : T->val[at];
                filled += missing;
                continue;
            }
            int64_t cat = missing ? col->fill_cat : cell_index(T, r, f, &col->cat, B->tmap[f]);
            filled += missing;
            if (cat < 0 && !missing) {
                col->n_unknown++;
                if (c->unknown_error)
                    return mlp__csv_fail(c, err, MLP_ERR_RANGE,
                                         "category '%s' of column %" PRIu32 "%s%s%s in data row %" PRIu64
                                         " was not in the model's training data",
                                         cell_show(T, r, f, show), f + 1, *col->name ? " ('" : "", col->name,
                                         *col->name ? "')" : "", r + 1);
            }
            if (cat >= 0) xr[col->input + (uint32_t)cat] = 1;
        }
        k++;
    }
    for (uint32_t f = 0; f < T->nf; f++) S->col[schema_col(c, f)].n_missing = T->n_missing[f];
    S->rows_dropped = T->n_rows - nk;
    if (S->rows_dropped) {
        if (!(S->kept = malloc(nk * sizeof *S->kept))) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
        uint64_t q = 0;
        for (uint64_t r = 0; r < T->n_rows; r++)
            if (!B->drop[r]) S->kept[q++] = r;
    }
    S->fields_filled = filled;
    if (classify) ds->n_classes = S->classes.n;
    return MLP_OK;
}

/* The table reader whole: cells, then columns, label, missing values, rows. */
enum mlp_status mlp__csv_table(struct csv *c, struct csv_job *scratch, uint64_t n_rows, struct mlp_dataset *ds,
                               struct mlp_error *err)
{
    struct table T;
    struct build B = {.c = c, .T = &T};
    enum mlp_status st = table_read(c, scratch, n_rows, &T, err);
    if (st == MLP_OK) {
        B.S = c->apply ? mlp__schema_copy(c->apply) : mlp__schema_new(c->n_fields);
        B.tmap = calloc(c->n_fields, sizeof *B.tmap);
        if (!B.S || !B.tmap) st = mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    }
    if (st == MLP_OK && !c->apply) {
        B.S->label = c->label;
        B.S->delim = c->delim;
        B.S->header = c->header;
        B.S->missing = c->missing;
        for (uint32_t i = 0; i < c->n_fields && st == MLP_OK; i++)
            if (!(B.S->col[i].name = strdup(c->names ? c->names[i] : "")))
                st = mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    }
    if (st == MLP_OK) st = build_columns(&B, err);
    if (st == MLP_OK && c->label >= 0) st = build_label(&B, err);
    if (st == MLP_OK && !c->apply && !mlp__schema_number_inputs(B.S))
        st = mlp__csv_fail(c, err, MLP_ERR_FORMAT, "too many inputs: the categories make more than %u", MLP_MAX_WIDTH);
    if (st == MLP_OK) st = build_missing(&B, err);
    if (st == MLP_OK) st = build_rows(&B, ds, err);
    if (st == MLP_OK) {
        ds->schema = B.S;
        B.S = NULL;
    }
    mlp__schema_free(B.S);
    for (uint32_t f = 0; B.tmap && f < c->n_fields; f++) free(B.tmap[f]);
    free(B.tmap);
    free(B.drop);
    table_free(&T);
    return st;
}
