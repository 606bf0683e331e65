/* SPDX-License-Identifier: MIT */
/* The schema of a table (schema.h): its sorted name lists, its accessors
 * (fastmlp.h), and its bytes in a model file. */
#include "data/schema.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char *const task_names[MLP_TASK_COUNT] = {"auto", "classify", "regress"};
static const char *const missing_names[MLP_MISSING_COUNT] = {"error", "drop", "mean", "median"};

const char *mlp_task_name(enum mlp_task t) { return (unsigned)t < MLP_TASK_COUNT ? task_names[t] : "?"; }
const char *mlp_missing_name(enum mlp_missing m)
{
    return (unsigned)m < MLP_MISSING_COUNT ? missing_names[m] : "?";
}

int mlp_task_parse(const char *s)
{
    for (int i = 0; s && i < MLP_TASK_COUNT; i++)
        if (strcmp(s, task_names[i]) == 0) return i;
    if (s && strcmp(s, "classification") == 0) return MLP_TASK_CLASSIFY;
    if (s && strcmp(s, "regression") == 0) return MLP_TASK_REGRESS;
    return -1;
}

int mlp_missing_parse(const char *s)
{
    for (int i = 0; s && i < MLP_MISSING_COUNT; i++)
        if (strcmp(s, missing_names[i]) == 0) return i;
    return -1;
}

/* ---------------------------------------------------------------- names */

/* The C locale, for numbers written and read the same whatever locale the
 * process set (a decimal comma would make "0,5" a class name); made once. */
static locale_t c_loc;
static pthread_once_t c_loc_once = PTHREAD_ONCE_INIT;
static void make_c_loc(void) { c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* Run in the C locale from here to c_locale_end (when one could be made;
 * else the process's, whose "C" default is what nearly every program has). */
static locale_t c_locale_begin(void)
{
    pthread_once(&c_loc_once, make_c_loc);
    return c_loc != (locale_t)0 ? uselocale(c_loc) : (locale_t)0;
}
static void c_locale_end(locale_t old)
{
    if (old != (locale_t)0) uselocale(old);
}

void mlp__num_name(double v, char out[32])
{
    if (v == 0) v = 0; /* -0 is 0 */
    locale_t old = c_locale_begin();
    snprintf(out, 32, "%.17g", v);
    /* The shortest of %.15g..%.17g that reads back as v: "0.1", not
     * "0.10000000000000001". */
    for (int prec = 15; prec < 17; prec++) {
        char t[32];
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) {
            memcpy(out, t, strlen(t) + 1);
            break;
        }
    }
    c_locale_end(old);
}

/* Numbers first by value, then text by bytes. */
static int name_cmp(const char *a, double an, const char *b, size_t blen, double bn)
{
    bool a_num = !isnan(an), b_num = !isnan(bn);
    if (a_num != b_num) return a_num ? -1 : 1;
    if (a_num) return an < bn ? -1 : an > bn ? 1 : 0;
    size_t alen = strlen(a);
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : alen < blen ? -1 : alen > blen ? 1 : 0;
}

struct sort_ent {
    char *name;
    double num;
    uint32_t at;
};

static int ent_cmp(const void *pa, const void *pb)
{
    const struct sort_ent *a = pa, *b = pb;
    int c = name_cmp(a->name, a->num, b->name, strlen(b->name), b->num);
    return c ? c : a->at < b->at ? -1 : a->at > b->at;
}

void mlp__names_free(struct mlp__names *l)
{
    if (!l) return;
    for (uint32_t i = 0; i < l->n; i++) free(l->name[i]);
    free(l->name);
    free(l->num);
    memset(l, 0, sizeof *l);
}

bool mlp__names_build(struct mlp__names *out, char **name, double *num, uint32_t n, uint32_t *map)
{
    memset(out, 0, sizeof *out);
    struct sort_ent *e = malloc((n ? n : 1) * sizeof *e);
    out->name = malloc((n ? n : 1) * sizeof *out->name);
    out->num = malloc((n ? n : 1) * sizeof *out->num);
    if (!e || !out->name || !out->num) {
        for (uint32_t i = 0; i < n; i++) free(name[i]);
        free(e);
        free(out->name);
        free(out->num);
        memset(out, 0, sizeof *out);
        return false;
    }
    for (uint32_t i = 0; i < n; i++) e[i] = (struct sort_ent){name[i], num[i], i};
    qsort(e, n, sizeof *e, ent_cmp);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (k > 0 && name_cmp(out->name[k - 1], out->num[k - 1], e[i].name, strlen(e[i].name), e[i].num) == 0) {
            free(e[i].name);
        } else {
            out->name[k] = e[i].name;
            out->num[k] = e[i].num;
            k++;
        }
        if (map) map[e[i].at] = k - 1;
    }
    out->n = k;
    free(e);
    return true;
}

int64_t mlp__names_find(const struct mlp__names *l, const char *name, size_t len, double num)
{
    uint32_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        /* name_cmp(a, b) is the entry against the key */
        int c = name_cmp(l->name[mid], l->num[mid], name, len, num);
        if (c == 0) return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* --------------------------------------------------------------- schema */

struct mlp_schema *mlp__schema_new(uint32_t n_fields)
{
    struct mlp_schema *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n_fields = n_fields;
    s->label = -1;
    s->delim = ',';
    s->task = MLP_TASK_CLASSIFY;
    s->col = calloc(n_fields ? n_fields : 1, sizeof *s->col);
    if (!s->col) {
        free(s);
        return NULL;
    }
    for (uint32_t i = 0; i < n_fields; i++) {
        s->col[i].fill = NAN;
        s->col[i].fill_cat = -1;
    }
    return s;
}

void mlp__schema_free(struct mlp_schema *s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->n_fields; i++) {
        free(s->col[i].name);
        mlp__names_free(&s->col[i].cat);
    }
    free(s->col);
    mlp__names_free(&s->classes);
    free(s->kept);
    free(s);
}

bool mlp__schema_number_inputs(struct mlp_schema *s)
{
    uint64_t k = 0;
    for (uint32_t i = 0; i < s->n_fields; i++) {
        struct mlp__column *c = &s->col[i];
        if ((int64_t)i == s->label) {
            c->kind = MLP_COL_LABEL;
            c->input = 0;
            continue;
        }
        c->input = (uint32_t)(k < UINT32_MAX ? k : UINT32_MAX);
        k += c->kind == MLP_COL_CATEGORICAL ? c->cat.n : 1;
    }
    if (k == 0 || k > MLP_MAX_WIDTH) return false;
    s->n_inputs = (uint32_t)k;
    return true;
}

/* ------------------------------------------------------- the bytes of one */

/* Little-endian writer and reader over a buffer. */
struct sbuf {
    unsigned char *w;       /* writing */
    const unsigned char *r; /* reading */
    uint64_t off, size;
    bool bad;
};

static void put32(struct sbuf *b, uint32_t v)
{
    if (b->w) mlp__put_le32(b->w + b->off, v);
    b->off += 4;
}
static void put64(struct sbuf *b, uint64_t v)
{
    if (b->w) mlp__put_le64(b->w + b->off, v);
    b->off += 8;
}
static void putf(struct sbuf *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put64(b, v);
}
static void putstr(struct sbuf *b, const char *s)
{
    size_t n = strlen(s);
    put32(b, (uint32_t)n);
    if (b->w) memcpy(b->w + b->off, s, n);
    b->off += n;
}
static void putnames(struct sbuf *b, const struct mlp__names *l)
{
    put32(b, l->n);
    for (uint32_t i = 0; i < l->n; i++) {
        putf(b, l->num[i]);
        putstr(b, l->name[i]);
    }
}

/* Schema section: n_fields, label (i64), delimiter, header, task, missing,
 * n_inputs, the classes, then per column its name, kind, first input, fill,
 * fill category (i64) and categories.  A name list: its count, then per
 * name its number (f64, NaN for text) and its bytes (u32 length first). */
static void put_schema(struct sbuf *b, const struct mlp_schema *s)
{
    put32(b, s->n_fields);
    put64(b, (uint64_t)s->label);
    put32(b, s->delim);
    put32(b, (uint32_t)s->header);
    put32(b, (uint32_t)s->task);
    put32(b, (uint32_t)s->missing);
    put32(b, s->n_inputs);
    putnames(b, &s->classes);
    for (uint32_t i = 0; i < s->n_fields; i++) {
        const struct mlp__column *c = &s->col[i];
        putstr(b, c->name ? c->name : "");
        put32(b, (uint32_t)c->kind);
        put32(b, c->input);
        putf(b, c->fill);
        put64(b, (uint64_t)c->fill_cat);
        putnames(b, &c->cat);
    }
}

uint64_t mlp__schema_size(const struct mlp_schema *s)
{
    struct sbuf b = {0};
    put_schema(&b, s);
    return b.off;
}

void mlp__schema_put(const struct mlp_schema *s, unsigned char *buf)
{
    struct sbuf b = {.w = buf};
    put_schema(&b, s);
}

static bool take(struct sbuf *b, uint64_t n)
{
    if (b->bad || b->size - b->off < n) {
        b->bad = true;
        return false;
    }
    return true;
}
static uint32_t get32(struct sbuf *b)
{
    if (!take(b, 4)) return 0;
    uint32_t v = mlp__get_le32(b->r + b->off);
    b->off += 4;
    return v;
}
static uint64_t get64(struct sbuf *b)
{
    if (!take(b, 8)) return 0;
    uint64_t v = mlp__get_le64(b->r + b->off);
    b->off += 8;
    return v;
}
static double getf(struct sbuf *b)
{
    uint64_t v = get64(b);
    double d;
    memcpy(&d, &v, 8);
    return d;
}
/* A string of at most CSV's longest field; NULL on a short buffer, too long
 * a string, a NUL inside it, or no memory (*nomem). */
static char *getstr(struct sbuf *b, bool *nomem)
{
    uint32_t n = get32(b);
    if (n > 4096 || !take(b, n) || memchr(b->r + b->off, 0, n)) {
        b->bad = true;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        *nomem = b->bad = true;
        return NULL;
    }
    memcpy(s, b->r + b->off, n);
    s[n] = 0;
    b->off += n;
    return s;
}

/* A name list, checked sorted and distinct (lookups search it); each name
 * takes at least 12 bytes, so its count is checked against what is left
 * before anything is allocated. */
static bool getnames(struct sbuf *b, struct mlp__names *l, bool *nomem)
{
    uint32_t n = get32(b);
    if (b->bad || n > (b->size - b->off) / 12) return b->bad = true, false;
    l->name = calloc(n ? n : 1, sizeof *l->name);
    l->num = calloc(n ? n : 1, sizeof *l->num);
    if (!l->name || !l->num) return *nomem = b->bad = true, false;
    for (uint32_t i = 0; i < n; i++) {
        double v = getf(b);
        char *s = getstr(b, nomem);
        if (!s) return false;
        l->num[i] = v;
        l->name[i] = s;
        l->n = i + 1;
        if (!isnan(v) && !isfinite(v)) return b->bad = true, false;
        if (i > 0 && name_cmp(l->name[i - 1], l->num[i - 1], s, strlen(s), v) >= 0) return b->bad = true, false;
    }
    return true;
}

enum mlp_status mlp__schema_get(const unsigned char *bytes, uint64_t size, const char *what, struct mlp_schema **out,
                                struct mlp_error *err)
{
    *out = NULL;
    struct sbuf b = {.r = bytes, .size = size};
    bool nomem = false;
    uint32_t nf = get32(&b);
    /* each column takes at least 32 bytes */
    if (b.bad || nf == 0 || nf > MLP_MAX_WIDTH || nf > (size - b.off) / 32)
        return mlp__fail(err, MLP_ERR_FORMAT, "%s: column count %" PRIu32 " out of range", what, nf);
    struct mlp_schema *s = mlp__schema_new(nf);
    if (!s) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    s->label = (int64_t)get64(&b);
    uint32_t delim = get32(&b), header = get32(&b), task = get32(&b), missing = get32(&b);
    uint32_t n_inputs = get32(&b);
    const char *bad = NULL;
    if (!b.bad && (s->label < -1 || s->label >= (int64_t)nf)) bad = "label column out of range";
    if (!bad && !b.bad && (delim > 255 || header > MLP_HEADER_SEQUENCE || task == MLP_TASK_AUTO ||
                           task >= MLP_TASK_COUNT || missing >= MLP_MISSING_COUNT))
        bad = "unknown delimiter, header, task or missing-value id";
    /* the delimiters the loader refuses (csv.c's csv_start) */
    if (!bad && !b.bad && (delim == 0 || strchr("\"\r\n.+-eE0123456789", (int)delim) != NULL))
        bad = "a delimiter that cannot separate numbers";
    s->delim = (unsigned char)delim;
    s->header = (enum mlp_header_why)header;
    s->task = (enum mlp_task)task;
    s->missing = (enum mlp_missing)missing;
    if (!bad) getnames(&b, &s->classes, &nomem);
    for (uint32_t i = 0; i < nf && !bad && !b.bad; i++) {
        struct mlp__column *c = &s->col[i];
        c->name = getstr(&b, &nomem);
        uint32_t kind = get32(&b);
        (void)get32(&b); /* the first input: recomputed below */
        c->fill = getf(&b);
        c->fill_cat = (int64_t)get64(&b);
        if (b.bad) break;
        if (kind > MLP_COL_LABEL || (kind == MLP_COL_LABEL) != ((int64_t)i == s->label)) bad = "bad column kind";
        c->kind = (enum mlp_col_kind)kind;
        if (!bad && !getnames(&b, &c->cat, &nomem)) break;
        if (!bad && c->kind == MLP_COL_CATEGORICAL &&
            (c->cat.n == 0 || c->fill_cat < -1 || c->fill_cat >= (int64_t)c->cat.n))
            bad = "bad categories";
        if (!bad && c->kind != MLP_COL_CATEGORICAL && c->cat.n) bad = "categories on a column that has none";
        if (!bad && !isnan(c->fill) && !isfinite(c->fill)) bad = "fill value not finite";
    }
    if (!bad && !b.bad && !mlp__schema_number_inputs(s)) bad = "too many inputs";
    if (!bad && !b.bad && s->n_inputs != n_inputs) bad = "input count disagrees with the columns";
    if (!bad && !b.bad && s->task == MLP_TASK_CLASSIFY && s->label >= 0 && s->classes.n < 1) bad = "no classes";
    if (!bad && !b.bad && b.off != size) bad = "trailing bytes";
    if (nomem) {
        mlp__schema_free(s);
        return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    }
    if (b.bad || bad) {
        mlp__schema_free(s);
        return mlp__fail(err, MLP_ERR_FORMAT, "%s: %s at byte %" PRIu64 " of %" PRIu64, what,
                         bad ? bad : "truncated or malformed", b.off, size);
    }
    *out = s;
    return MLP_OK;
}

struct mlp_schema *mlp__schema_copy(const struct mlp_schema *s)
{
    uint64_t n = mlp__schema_size(s);
    unsigned char *buf = malloc(n);
    if (!buf) return NULL;
    mlp__schema_put(s, buf);
    struct mlp_schema *c = NULL;
    mlp__schema_get(buf, n, "schema", &c, NULL);
    free(buf);
    return c;
}

/* ------------------------------------------------- a schema from arrays */

static double label_num(const char *label);

bool mlp__missing_word(const char *s, size_t n)
{
    static const char *const words[] = {"NA", "N/A", "NaN", "nan", "NAN", "na", "n/a", "null", "NULL",
                                        "Null", "None", "none", "?", "#N/A"};
    if (n == 0) return true;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0) return true;
    return false;
}

/* A name a CSV file can hold as one field that the loader reads back as
 * it is: not a missing-value word, no delimiter, quote or line break, no
 * spaces around it. */
static bool csv_safe_name(const char *s)
{
    size_t n = strlen(s);
    if (mlp__missing_word(s, n) || strpbrk(s, ",;\t\"\r\n") != NULL) return false;
    return s[0] != ' ' && s[n - 1] != ' ';
}

enum mlp_status mlp_schema_create(struct mlp_schema **out, const struct mlp_schema_params *p, struct mlp_error *err)
{
    MLP_ASSERT(out && p);
    *out = NULL;
    if (p->task != MLP_TASK_CLASSIFY && p->task != MLP_TASK_REGRESS)
        return mlp__fail(err, MLP_ERR_ARG, "a schema's task must be classify or regress");
    if (p->n_inputs == 0 || p->n_inputs >= MLP_MAX_WIDTH)
        return mlp__fail(err, MLP_ERR_ARG, "a schema needs 1 to %u inputs, not %" PRIu32, MLP_MAX_WIDTH - 1,
                         p->n_inputs);
    uint32_t nc = p->task == MLP_TASK_CLASSIFY ? p->n_classes : 0;
    if (p->task == MLP_TASK_CLASSIFY && (nc < 2 || nc > MLP_MAX_CLASSES))
        return mlp__fail(err, MLP_ERR_ARG, "a classification schema needs 2 to %u class names, not %" PRIu32,
                         MLP_MAX_CLASSES, nc);
    if (p->task == MLP_TASK_CLASSIFY && !p->classes)
        return mlp__fail(err, MLP_ERR_ARG, "a classification schema needs its class names (classes is NULL)");
    for (uint32_t i = 0; i < nc; i++) {
        if (!p->classes[i] || !*p->classes[i]) return mlp__fail(err, MLP_ERR_ARG, "class %" PRIu32 " has no name", i);
        if (!csv_safe_name(p->classes[i]))
            return mlp__fail(err, MLP_ERR_ARG,
                             "class %" PRIu32 " ('%.60s') cannot stand in a CSV field as fastmlp reads one (a "
                             "missing-value word, a delimiter, a quote, a line break or spaces around it)",
                             i, p->classes[i]);
    }
    struct mlp_schema *s = mlp__schema_new(p->n_inputs + 1);
    if (!s) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    s->label = 0;
    s->task = p->task;
    s->header = p->input_names ? MLP_HEADER_NAMES : MLP_HEADER_NONE;
    bool ok = true;
    for (uint32_t i = 0; ok && i <= p->n_inputs; i++) {
        const char *nm = i == 0 ? p->label_name : p->input_names ? p->input_names[i - 1] : NULL;
        ok = (s->col[i].name = strdup(nm ? nm : "")) != NULL;
    }
    char **name = calloc(nc ? nc : 1, sizeof *name);
    double *num = malloc((nc ? nc : 1) * sizeof *num);
    ok = ok && name && num;
    for (uint32_t i = 0; ok && i < nc; i++) {
        /* a number is named as the loader names it, so that "1" and "1.0"
         * are one class here as in a file */
        char nb[32];
        num[i] = label_num(p->classes[i]);
        if (!isnan(num[i])) mlp__num_name(num[i], nb);
        ok = (name[i] = strdup(isnan(num[i]) ? p->classes[i] : nb)) != NULL;
    }
    if (ok) {
        ok = mlp__names_build(&s->classes, name, num, nc, NULL); /* takes the names, freed on failure too */
    } else if (name) {
        for (uint32_t i = 0; i < nc; i++) free(name[i]); /* calloc'd: the ones not made are NULL */
    }
    free(name);
    free(num);
    if (!ok || !mlp__schema_number_inputs(s)) {
        mlp__schema_free(s);
        return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    }
    if (s->classes.n != nc) {
        const uint32_t distinct = s->classes.n;
        mlp__schema_free(s);
        return mlp__fail(err, MLP_ERR_ARG, "the class names repeat (%" PRIu32 " names, %" PRIu32 " distinct)", nc,
                         distinct);
    }
    *out = s;
    return MLP_OK;
}

void mlp_schema_free(struct mlp_schema *s) { mlp__schema_free(s); }

/* ------------------------------------------------------------ accessors */

const struct mlp_schema *mlp_dataset_schema(const struct mlp_dataset *ds)
{
    MLP_ASSERT(ds);
    return ds->schema;
}

enum mlp_task mlp_schema_task(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->task;
}
uint32_t mlp_schema_n_classes(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->task == MLP_TASK_CLASSIFY ? s->classes.n : 0;
}
const char *mlp_schema_class(const struct mlp_schema *s, uint32_t i)
{
    MLP_ASSERT(s && i < s->classes.n);
    return s->classes.name[i];
}

/* The value of a label as written, when it is a number ("1.0", "-1",
 * " 2 "): what the loader's reader would make of it. */
static double label_num(const char *label)
{
    char *end;
    const char *p = label;
    while (*p == ' ' || *p == '\t') p++;
    /* the loader's grammar: decimal digits, a point, an exponent; no hex,
     * inf or nan, which it reads as text */
    size_t n = strspn(p, "+-.0123456789eE");
    if (n == 0 || strspn(p + n, " \t") != strlen(p + n)) return NAN;
    locale_t old = c_locale_begin();
    double v = strtod(p, &end);
    c_locale_end(old);
    while (*end == ' ' || *end == '\t') end++;
    return *end || !isfinite(v) ? NAN : v;
}

int64_t mlp_schema_class_index(const struct mlp_schema *s, const char *label)
{
    MLP_ASSERT(s && label);
    double v = label_num(label);
    if (!isnan(v)) {
        char nm[32];
        mlp__num_name(v, nm);
        return mlp__names_find(&s->classes, nm, strlen(nm), v);
    }
    return mlp__names_find(&s->classes, label, strlen(label), NAN);
}

uint32_t mlp_schema_n_columns(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->n_fields;
}
int64_t mlp_schema_label_column(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->label;
}
char mlp_schema_delimiter(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return (char)s->delim;
}
enum mlp_header_why mlp_schema_header(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->header;
}
uint32_t mlp_schema_n_inputs(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->n_inputs;
}
enum mlp_missing mlp_schema_missing(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->missing;
}
uint64_t mlp_schema_rows_dropped(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->rows_dropped;
}
const uint64_t *mlp_schema_kept_rows(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->rows_dropped ? s->kept : NULL;
}

uint64_t mlp_schema_fields_filled(const struct mlp_schema *s)
{
    MLP_ASSERT(s);
    return s->fields_filled;
}

enum mlp_status mlp_schema_column(const struct mlp_schema *s, uint32_t i, struct mlp_column_info *info)
{
    MLP_ASSERT(s && info);
    if (i >= s->n_fields) return MLP_ERR_ARG;
    const struct mlp__column *c = &s->col[i];
    *info = (struct mlp_column_info){.name = c->name ? c->name : "",
                                     .kind = c->kind,
                                     .input = c->input,
                                     .n_categories = c->cat.n,
                                     .fill = c->fill,
                                     .fill_category = c->fill_cat,
                                     .n_missing = c->n_missing,
                                     .n_unknown = c->n_unknown};
    return MLP_OK;
}

const char *mlp_schema_category(const struct mlp_schema *s, uint32_t col, uint32_t k)
{
    MLP_ASSERT(s && col < s->n_fields && k < s->col[col].cat.n);
    return s->col[col].cat.name[k];
}
