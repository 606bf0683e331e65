/* SPDX-License-Identifier: MIT */
/* The reader of `--log-json` logs (runlog.h): each line, a JSON object, is
 * read with libyaml (JSON is YAML's flow syntax, and libyaml is already the
 * CLI's), the first line as a header when it holds "fastmlp_log"; then the
 * legend that tells several logs apart.
 *
 * Not through config.c's cli_yaml_read: that one reads a whole file, prints
 * its errors and keeps its strings until exit, where a log is read line by
 * line (a long run's log holds millions), and each line's strings must go
 * when the line is done.
 *
 * The phases: a line is read whole (bounded by RUNLOG_MAX_LINE), its
 * object's keys parsed into a `struct line`, then judged against the log so
 * far (the header first, epochs increasing, one evaluated set). */
#include "runlog.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* ------------------------------------------------------------ messages */

static enum mlp_status fail(struct mlp_error *err, enum mlp_status s, const char *path, unsigned line,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static enum mlp_status fail(struct mlp_error *err, enum mlp_status s, const char *path, unsigned line,
                            const char *fmt, ...)
{
    /* path:line first, the detail after it in what is left (a long path
     * cuts the detail, never the place) */
    int n = line ? snprintf(err->msg, sizeof err->msg, "%s:%u: ", path, line)
                 : snprintf(err->msg, sizeof err->msg, "%s: ", path);
    if (n >= 0 && (size_t)n < sizeof err->msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return err->status = s;
}

/* ------------------------------------------------------------ one line */

/* The keys this build reads; any other is passed over. */
enum key {
    K_EPOCH,
    K_TRAIN_LOSS,
    K_TRAIN_ACC,
    K_TEST_LOSS,
    K_TEST_ACC,
    K_VALID_LOSS,
    K_VALID_ACC,
    K_SECONDS,
    K_SPS,
    K_PENALTY,
    N_NUM, /* the keys above hold numbers */
    K_FORMAT = N_NUM,
    K_EVAL,
    K_MODEL,
    K_HP,
    K_SWEEP,
    N_KEYS
};
static const char *const key_name[N_KEYS] = {
    [K_EPOCH] = "epoch",           [K_TRAIN_LOSS] = "train_loss", [K_TRAIN_ACC] = "train_acc",
    [K_TEST_LOSS] = "test_loss",   [K_TEST_ACC] = "test_acc",     [K_VALID_LOSS] = "valid_loss",
    [K_VALID_ACC] = "valid_acc",   [K_SECONDS] = "seconds",       [K_SPS] = "samples_per_s",
    [K_PENALTY] = "penalty",       [K_FORMAT] = "fastmlp_log",    [K_EVAL] = "eval",
    [K_MODEL] = "model",           [K_HP] = "hyperparameters",    [K_SWEEP] = "sweep"};

struct kv_list {
    struct runlog_kv *a;
    uint32_t n, cap;
};

static void kv_free(struct kv_list *l)
{
    for (uint32_t i = 0; i < l->n; i++) {
        free(l->a[i].key);
        free(l->a[i].value);
    }
    free(l->a);
    memset(l, 0, sizeof *l);
}

static const char *kv_find(const struct runlog_kv *a, uint32_t n, const char *key)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(a[i].key, key) == 0) return a[i].value;
    return NULL;
}

/* Append key=value (copies); a key already there keeps its first value. */
static bool kv_add(struct kv_list *l, const char *key, const char *value)
{
    if (kv_find(l->a, l->n, key)) return true;
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 32;
        struct runlog_kv *a = realloc(l->a, (size_t)cap * sizeof *a);
        if (!a) return false;
        l->a = a;
        l->cap = cap;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return false;
    }
    l->a[l->n++] = (struct runlog_kv){k, v};
    return true;
}

/* What one line's object holds. */
struct line {
    unsigned seen; /* 1 << key */
    double num[N_NUM];
    char *text[N_KEYS]; /* K_FORMAT, K_EVAL, K_MODEL as written */
    struct kv_list hp, sweep;
};

static void line_free(struct line *L)
{
    for (int k = 0; k < N_KEYS; k++) free(L->text[k]);
    kv_free(&L->hp);
    kv_free(&L->sweep);
    memset(L, 0, sizeof *L);
}

struct parse {
    const char *path;
    unsigned line;
    bool last_cut; /* the line had no newline: the file ended inside it */
    struct mlp_error *err;
    yaml_parser_t yp;
    yaml_event_t ev;
    bool have_ev;
};

static enum mlp_status next(struct parse *p)
{
    if (p->have_ev) yaml_event_delete(&p->ev);
    p->have_ev = false;
    if (!yaml_parser_parse(&p->yp, &p->ev)) {
        if (p->yp.error == YAML_MEMORY_ERROR) return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory");
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "column %zu: malformed JSON: %s%s",
                    p->yp.problem_mark.column + 1, p->yp.problem ? p->yp.problem : "syntax error",
                    p->last_cut ? " (the file ends inside this line: is its run still writing it?)" : "");
    }
    p->have_ev = true;
    return MLP_OK;
}

static const char *scalar(const struct parse *p) { return (const char *)p->ev.data.scalar.value; }

/* Pass over the value that starts at the current event. */
static enum mlp_status skip_value(struct parse *p)
{
    int depth = 0;
    enum mlp_status st = MLP_OK;
    do {
        if (p->ev.type == YAML_MAPPING_START_EVENT || p->ev.type == YAML_SEQUENCE_START_EVENT) depth++;
        if (p->ev.type == YAML_MAPPING_END_EVENT || p->ev.type == YAML_SEQUENCE_END_EVENT) depth--;
        if (depth > 0 && (st = next(p)) != MLP_OK) return st;
    } while (depth > 0);
    return st;
}

/* The mapping that starts at the current event, its scalar entries into l
 * (entries whose value is not a scalar are passed over: a later format may
 * nest more). */
static enum mlp_status read_flat(struct parse *p, struct kv_list *l, const char *what)
{
    enum mlp_status st;
    while ((st = next(p)) == MLP_OK && p->ev.type != YAML_MAPPING_END_EVENT) {
        if (p->ev.type != YAML_SCALAR_EVENT)
            return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "\"%s\": a key that is not a string", what);
        char *key = strdup(scalar(p));
        if (!key) return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory");
        if ((st = next(p)) != MLP_OK || (p->ev.type != YAML_SCALAR_EVENT && (st = skip_value(p)) != MLP_OK)) {
            free(key);
            return st;
        }
        bool ok = p->ev.type != YAML_SCALAR_EVENT || kv_add(l, key, scalar(p));
        free(key);
        if (!ok) return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory");
    }
    return st;
}

/* A figure: a number as strtod reads it (nan and inf included), or JSON's
 * null (a writer's NaN) as NaN. */
static bool parse_num(const char *s, double *out)
{
    if (strcmp(s, "null") == 0) {
        *out = NAN;
        return true;
    }
    char *end;
    *out = strtod(s, &end);
    return end != s && !*end;
}

/* A whole number in 0..max, digits only. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10) return false;
        v = 10 * v + d;
    }
    *out = v;
    return true;
}

/* One key of the object and its value (the current event). */
static enum mlp_status read_entry(struct parse *p, struct line *L, const char *key, bool header_line)
{
    int k = 0;
    while (k < N_KEYS && strcmp(key_name[k], key) != 0) k++;
    if (k == N_KEYS || ((k == K_HP || k == K_SWEEP) && !header_line)) return skip_value(p);
    if (L->seen & (1u << k)) return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "\"%s\" given twice", key);
    L->seen |= 1u << k;
    if (k == K_HP || k == K_SWEEP) {
        if (p->ev.type != YAML_MAPPING_START_EVENT)
            return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "\"%s\" is not an object", key);
        return read_flat(p, k == K_HP ? &L->hp : &L->sweep, key);
    }
    if (p->ev.type != YAML_SCALAR_EVENT)
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "\"%s\" is not a %s", key,
                    k < N_NUM ? "number" : "single value");
    uint64_t e;
    if (k == K_EPOCH) {
        if (!parse_uint(scalar(p), UINT32_MAX, &e))
            return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "\"epoch\": '%.40s' is not a whole number 0..%u",
                        scalar(p), UINT32_MAX);
        L->num[k] = (double)e;
    } else if (k < N_NUM) {
        if (!parse_num(scalar(p), &L->num[k]))
            return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "\"%s\": '%.40s' is not a number", key, scalar(p));
    } else if (!(L->text[k] = strdup(scalar(p)))) {
        return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory");
    }
    return MLP_OK;
}

/* Parse text[0..len) (one line) into *L.  header_line: the log's first
 * non-empty line, whose "hyperparameters" and "sweep" are kept. */
static enum mlp_status parse_line(struct parse *p, const char *text, size_t len, bool header_line, struct line *L)
{
    memset(L, 0, sizeof *L);
    if (!yaml_parser_initialize(&p->yp)) return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory");
    yaml_parser_set_input_string(&p->yp, (const unsigned char *)text, len);
    p->have_ev = false;
    enum mlp_status st;
    do st = next(p);
    while (st == MLP_OK && (p->ev.type == YAML_STREAM_START_EVENT || p->ev.type == YAML_DOCUMENT_START_EVENT));
    if (st == MLP_OK && p->ev.type != YAML_MAPPING_START_EVENT)
        st = fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "not a JSON object ({\"epoch\": 1, ...})");
    while (st == MLP_OK && (st = next(p)) == MLP_OK && p->ev.type != YAML_MAPPING_END_EVENT) {
        if (p->ev.type != YAML_SCALAR_EVENT) {
            st = fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "a key that is not a string");
            break;
        }
        char *key = strdup(scalar(p));
        if (!key) st = fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory");
        if (st == MLP_OK && (st = next(p)) == MLP_OK) st = read_entry(p, L, key, header_line);
        free(key);
    }
    /* The object must be all the line holds. */
    if (st == MLP_OK && (st = next(p)) == MLP_OK && p->ev.type == YAML_DOCUMENT_END_EVENT) st = next(p);
    if (st == MLP_OK && p->ev.type != YAML_STREAM_END_EVENT)
        st = fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "more than one JSON value on the line");
    if (p->have_ev) yaml_event_delete(&p->ev);
    p->have_ev = false;
    yaml_parser_delete(&p->yp);
    if (st != MLP_OK) line_free(L);
    return st;
}

/* ------------------------------------------------------------ the log */

/* The next line of f into *buf (NUL-terminated, without its newline), *len
 * its length; *eof when there was none.  A line of more than
 * RUNLOG_MAX_LINE bytes is refused before it is held. */
static enum mlp_status read_line(FILE *f, struct parse *p, char **buf, size_t *cap, size_t *len, bool *eof)
{
    size_t n = 0;
    int c;
    *eof = false;
    p->last_cut = false;
    while ((c = getc_unlocked(f)) != EOF && c != '\n') { /* one thread reads f */
        if (n == RUNLOG_MAX_LINE)
            return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "a line longer than %u bytes: not a --log-json log",
                        RUNLOG_MAX_LINE);
        if (n + 1 >= *cap) {
            size_t c2 = *cap ? 2 * *cap : 4096;
            char *b = realloc(*buf, c2);
            if (!b) return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory");
            *buf = b;
            *cap = c2;
        }
        (*buf)[n++] = (char)c;
    }
    if (ferror(f)) return fail(p->err, MLP_ERR_IO, p->path, p->line, "cannot read: %s", strerror(errno));
    if (c == EOF && n == 0) {
        *eof = true;
        return MLP_OK;
    }
    p->last_cut = c == EOF;
    if (!*buf && !(*buf = malloc(*cap = 64))) return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory");
    (*buf)[n] = 0;
    *len = n;
    return MLP_OK;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r') return false;
    return true;
}

/* The header line into r: the format first (a newer file's other keys are
 * not ours to judge), then the evaluated set, model and hyperparameters. */
static enum mlp_status take_header(struct runlog *r, struct parse *p, struct line *L)
{
    uint64_t v;
    const char *fmt = L->text[K_FORMAT];
    if (!parse_uint(fmt, UINT32_MAX, &v) || v == 0)
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "\"fastmlp_log\": '%.40s' is not a log format version",
                    fmt);
    if (v > RUNLOG_FORMAT)
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line,
                    "written by a newer fastmlp (log format %llu; this build reads %d)", (unsigned long long)v,
                    RUNLOG_FORMAT);
    const char *ev = L->text[K_EVAL];
    if (ev && strcmp(ev, "test") != 0 && strcmp(ev, "valid") != 0)
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "\"eval\": '%.40s' is not test or valid", ev);
    if (ev) strcpy(r->eval_name, ev);
    r->has_header = true;
    r->model = L->text[K_MODEL];
    L->text[K_MODEL] = NULL;
    for (uint32_t i = 0; i < L->sweep.n; i++)
        if (!kv_add(&L->hp, L->sweep.a[i].key, L->sweep.a[i].value))
            return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory");
    r->hp = L->hp.a;
    r->n_hp = L->hp.n;
    memset(&L->hp, 0, sizeof L->hp);
    return MLP_OK;
}

/* State across the epoch lines. */
struct epochs {
    uint32_t cap;
    int eval_from;  /* 0: not known yet; else the line that fixed it (header or first evaluation) */
    bool eval_by_header;
};

static enum mlp_status take_epoch(struct runlog *r, struct parse *p, struct line *L, struct epochs *E)
{
    if (L->seen & (1u << K_FORMAT))
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line,
                    "a second header line (\"fastmlp_log\"): the header belongs on the first line only");
    if (!(L->seen & (1u << K_EPOCH)))
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "no \"epoch\": not an epoch of a --log-json log");
    if (!(L->seen & (1u << K_TRAIN_LOSS)))
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "epoch %.0f has no \"train_loss\"", L->num[K_EPOCH]);
    const unsigned test = (1u << K_TEST_LOSS) | (1u << K_TEST_ACC), valid = (1u << K_VALID_LOSS) | (1u << K_VALID_ACC);
    if ((L->seen & test) && (L->seen & valid))
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "both test_* and valid_* figures on one line");
    const bool is_valid = (L->seen & valid) != 0;
    if (L->seen & (test | valid)) {
        const char *name = is_valid ? "valid" : "test";
        if (E->eval_from && strcmp(r->eval_name, name) != 0)
            return fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "%s_* figures, but %s %u has %s", name,
                        E->eval_by_header ? "the header on line" : "line", (unsigned)E->eval_from, r->eval_name);
        if (!E->eval_from) {
            strcpy(r->eval_name, name);
            E->eval_from = (int)p->line;
        }
    }
    const uint32_t epoch = (uint32_t)L->num[K_EPOCH];
    if (r->n_epochs && epoch <= r->epochs[r->n_epochs - 1].epoch)
        return fail(p->err, MLP_ERR_FORMAT, p->path, p->line,
                    "epoch %u after epoch %u: the epochs must increase (two runs written into one file?)", epoch,
                    r->epochs[r->n_epochs - 1].epoch);
    if (r->n_epochs == RUNLOG_MAX_EPOCHS)
        return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "more than %u epochs", RUNLOG_MAX_EPOCHS);
    if (r->n_epochs == E->cap) {
        uint32_t cap = E->cap ? (E->cap > RUNLOG_MAX_EPOCHS / 2 ? RUNLOG_MAX_EPOCHS : 2 * E->cap) : 64;
        struct mlp_epoch_stats *a = realloc(r->epochs, (size_t)cap * sizeof *a);
        if (!a) return fail(p->err, MLP_ERR_NOMEM, p->path, p->line, "out of memory for %u epochs", cap);
        r->epochs = a;
        E->cap = cap;
    }
    /* What a line leaves out: not computed (-1), not measured (NaN). */
    const unsigned s = L->seen;
#define GET(k, dflt) ((s & (1u << (k))) ? L->num[k] : (dflt))
    r->epochs[r->n_epochs++] = (struct mlp_epoch_stats){
        .epoch = epoch,
        .train_loss = L->num[K_TRAIN_LOSS],
        .train_acc = GET(K_TRAIN_ACC, -1),
        .test_loss = is_valid ? GET(K_VALID_LOSS, -1) : GET(K_TEST_LOSS, -1),
        .test_acc = is_valid ? GET(K_VALID_ACC, -1) : GET(K_TEST_ACC, -1),
        .seconds = GET(K_SECONDS, NAN),
        .samples_per_s = GET(K_SPS, NAN),
        .penalty = GET(K_PENALTY, 0),
    };
#undef GET
    return MLP_OK;
}

static enum mlp_status read_lines(FILE *f, struct runlog *r, struct parse *p)
{
    char *buf = NULL;
    size_t cap = 0, len = 0;
    bool eof = false, first = true;
    struct epochs E = {0};
    enum mlp_status st = MLP_OK;
    for (p->line = 1; st == MLP_OK; p->line++) {
        if ((st = read_line(f, p, &buf, &cap, &len, &eof)) != MLP_OK || eof) break;
        if (blank(buf)) continue;
        if (memchr(buf, 0, len)) {
            st = fail(p->err, MLP_ERR_FORMAT, p->path, p->line, "a NUL byte: not a --log-json log");
            break;
        }
        struct line L;
        if ((st = parse_line(p, buf, len, first, &L)) != MLP_OK) break;
        if (first && (L.seen & (1u << K_FORMAT))) {
            st = take_header(r, p, &L);
            if (st == MLP_OK && L.text[K_EVAL]) {
                E.eval_from = (int)p->line;
                E.eval_by_header = true;
            }
        } else {
            st = take_epoch(r, p, &L, &E);
        }
        first = false;
        line_free(&L);
    }
    free(buf);
    if (st == MLP_OK && r->n_epochs == 0)
        st = fail(p->err, MLP_ERR_FORMAT, p->path, 0, "no epochs%s", r->has_header ? " after the header line" : "");
    return st;
}

enum mlp_status runlog_read(const char *path, struct runlog *out, struct mlp_error *err)
{
    memset(out, 0, sizeof *out);
    strcpy(out->eval_name, "test");
    err->status = MLP_OK;
    err->msg[0] = 0;
    if (!(out->path = strdup(path))) return fail(err, MLP_ERR_NOMEM, path, 0, "out of memory");
    int flags = O_RDONLY;
#ifdef O_CLOEXEC
    flags |= O_CLOEXEC;
#endif
    /* A FIFO's open waits for its writer, as every input's does; read as a
     * stream, a log needs no size. */
    int fd = open(path, flags);
    if (fd < 0) return fail(err, MLP_ERR_OPEN, path, 0, "cannot open: %s", strerror(errno));
    struct stat sb;
    enum mlp_status st = MLP_OK;
    if (fstat(fd, &sb) != 0)
        st = fail(err, MLP_ERR_IO, path, 0, "cannot stat: %s", strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        st = fail(err, MLP_ERR_OPEN, path, 0, "cannot open: is a directory");
    FILE *f = st == MLP_OK ? fdopen(fd, "r") : NULL;
    if (st == MLP_OK && !f) st = fail(err, MLP_ERR_NOMEM, path, 0, "cannot open: %s", strerror(errno));
    if (!f) {
        close(fd);
        return st;
    }
    struct parse p = {.path = path, .err = err};
    st = read_lines(f, out, &p);
    fclose(f); /* read only: nothing to lose */
    return st;
}

void runlog_free(struct runlog *r)
{
    if (!r) return;
    struct kv_list l = {r->hp, r->n_hp, r->n_hp};
    kv_free(&l);
    free(r->path);
    free(r->model);
    free(r->epochs);
    free(r->label);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ labels */

#define ELLIPSIS "\xe2\x80\xa6" /* "…" in UTF-8, the page's and the terminal's encoding */

/* Equal hyperparameter values: the same text, or the same number written
 * two ways ("0.1" and "1e-1"); absent (NULL) equals only absent. */
static bool same_value(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    if (strcmp(a, b) == 0) return true;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return ea != a && !*ea && eb != b && !*eb && x == y;
}

static bool key_differs(const struct runlog *logs, uint32_t n, const char *key)
{
    const char *first = NULL;
    bool have_first = false;
    for (uint32_t i = 0; i < n; i++) {
        if (!logs[i].has_header) continue;
        const char *v = kv_find(logs[i].hp, logs[i].n_hp, key);
        if (!have_first) {
            first = v;
            have_first = true;
        } else if (!same_value(first, v)) {
            return true;
        }
    }
    return false;
}

/* The last k components of path, and whether that is the whole path. */
static const char *tail(const char *path, unsigned k, bool *whole)
{
    const char *s = path + strlen(path);
    for (unsigned i = 0; i < k; i++) {
        const char *q = s;
        while (q > path && q[-1] == '/') q--;
        if (q == path) break;
        while (q > path && q[-1] != '/') q--;
        s = q;
    }
    const char *q = s;
    while (q > path && q[-1] == '/') q--;
    *whole = q == path;
    return s;
}

/* Each log's file name, with as many directories before it as make it
 * differ from every other log's at the same depth (as far as the paths go:
 * the same path twice stays the same). */
static enum mlp_status file_labels(const struct runlog *logs, uint32_t n, char **names)
{
    for (uint32_t i = 0; i < n; i++) {
        unsigned k = 1;
        bool whole;
        const char *t = tail(logs[i].path, k, &whole);
        for (uint32_t j = 0; j < n && !whole; j++) {
            bool w2;
            if (j == i || strcmp(t, tail(logs[j].path, k, &w2)) != 0) continue;
            t = tail(logs[i].path, ++k, &whole);
            j = (uint32_t)-1; /* against every log again at the new depth */
        }
        if (!(names[i] = strdup(t))) return MLP_ERR_NOMEM;
    }
    return MLP_OK;
}

/* "lr=0.01 batch=32" from the differing keys this log holds (NULL when it
 * holds none of them); more than RUNLOG_LABEL_KEYS of them end in "…". */
static char *hp_label(const struct runlog *r, const char *const *keys, uint32_t n_keys)
{
    size_t len = 0, shown = 0;
    for (uint32_t k = 0; k < n_keys && shown < RUNLOG_LABEL_KEYS; k++) {
        const char *v = kv_find(r->hp, r->n_hp, keys[k]);
        if (v) len += strlen(keys[k]) + strlen(v) + 2, shown++;
    }
    if (!shown) return NULL;
    char *s = malloc(len + sizeof " " ELLIPSIS);
    if (!s) return NULL;
    size_t at = 0;
    shown = 0;
    for (uint32_t k = 0; k < n_keys && shown < RUNLOG_LABEL_KEYS; k++) {
        const char *v = kv_find(r->hp, r->n_hp, keys[k]);
        if (v) at += (size_t)sprintf(s + at, "%s%s=%s", shown++ ? " " : "", keys[k], v);
    }
    if (n_keys > RUNLOG_LABEL_KEYS) strcpy(s + at, " " ELLIPSIS);
    return s;
}

static enum mlp_status set_labels(struct runlog *logs, uint32_t n, char **names)
{
    /* The differing keys in header order (the first header's, then keys
     * only later headers hold); one more than is shown says "…". */
    const char *keys[RUNLOG_LABEL_KEYS + 1];
    uint32_t n_keys = 0;
    for (uint32_t i = 0; i < n && n_keys <= RUNLOG_LABEL_KEYS; i++) {
        for (uint32_t h = 0; logs[i].has_header && h < logs[i].n_hp && n_keys <= RUNLOG_LABEL_KEYS; h++) {
            const char *key = logs[i].hp[h].key;
            bool known = false;
            for (uint32_t k = 0; k < n_keys && !known; k++) known = strcmp(keys[k], key) == 0;
            if (!known && key_differs(logs, n, key)) keys[n_keys++] = key;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!logs[i].has_header || !n_keys) continue;
        bool holds = false;
        for (uint32_t k = 0; k < n_keys && !holds; k++) holds = kv_find(logs[i].hp, logs[i].n_hp, keys[k]) != NULL;
        if (holds && !(logs[i].label = hp_label(&logs[i], keys, n_keys))) return MLP_ERR_NOMEM;
    }
    /* Two logs alike in what is shown (the same values, differing only
     * beyond the keys shown): the file follows to tell them apart.  Judged
     * for every log before any label changes. */
    bool *dup = calloc(n ? n : 1, sizeof *dup);
    if (!dup) return MLP_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n && logs[i].label && !dup[i]; j++)
            dup[i] = j != i && logs[j].label && strcmp(logs[i].label, logs[j].label) == 0;
    enum mlp_status st = MLP_OK;
    for (uint32_t i = 0; i < n && st == MLP_OK; i++) {
        if (!logs[i].label) {
            logs[i].label = names[i];
            names[i] = NULL;
        } else if (dup[i]) {
            size_t len = strlen(logs[i].label) + strlen(names[i]) + 4;
            char *s = malloc(len);
            if (s) snprintf(s, len, "%s (%s)", logs[i].label, names[i]);
            free(logs[i].label);
            logs[i].label = s;
            if (!s) st = MLP_ERR_NOMEM;
        }
    }
    free(dup);
    return st;
}

enum mlp_status runlog_labels(struct runlog *logs, uint32_t n, struct mlp_error *err)
{
    for (uint32_t i = 0; i < n; i++) {
        free(logs[i].label);
        logs[i].label = NULL;
    }
    char **names = calloc(n ? n : 1, sizeof *names);
    enum mlp_status st = names ? file_labels(logs, n, names) : MLP_ERR_NOMEM;
    if (st == MLP_OK) st = set_labels(logs, n, names);
    for (uint32_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
    if (st != MLP_OK) {
        for (uint32_t i = 0; i < n; i++) {
            free(logs[i].label);
            logs[i].label = NULL;
        }
        snprintf(err->msg, sizeof err->msg, "out of memory for the runs' labels");
        return err->status = st;
    }
    return MLP_OK;
}
