/* SPDX-License-Identifier: MIT */
/* The one YAML reader of the command line (config.h): libyaml's events
 * turned into (key path, value, line) entries, handed to the schema's
 * visitor as they are read; and the flat options file of `--config`, the
 * schema every command takes. */
#include "config.h"

#include "cli_exit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

/* A config file is a few lines; anything this large is a wrong path. */
#define CONFIG_MAX_BYTES (1u << 20)
/* Mappings inside mappings: seed 003's file has three levels. */
#define CONFIG_MAX_DEPTH 16

/* ------------------------------------------------------------ the arena */

/* Strings handed to OPT_STR options must outlive cli_parse: they are kept in
 * one list freed when the process exits (so leak checkers stay quiet). */
struct arena_block {
    struct arena_block *next;
    max_align_t b[]; /* aligned for anything */
};
static struct arena_block *arena;

static void arena_free_all(void)
{
    while (arena) {
        struct arena_block *next = arena->next;
        free(arena);
        arena = next;
    }
}

static void *arena_alloc(size_t n)
{
    static bool registered;
    if (!registered) {
        if (atexit(arena_free_all) != 0) return NULL;
        registered = true;
    }
    struct arena_block *a = malloc(sizeof *a + n);
    if (!a) return NULL;
    a->next = arena;
    arena = a;
    return a->b;
}

/* s[0..n) and t[0..m) joined by sep (none when sep is 0), NUL-terminated. */
static char *arena_join(const char *s, size_t n, char sep, const char *t, size_t m)
{
    size_t len = n + (sep != 0) + m;
    char *a = arena_alloc(len + 1);
    if (!a) return NULL;
    memcpy(a, s, n);
    if (sep) a[n] = sep;
    memcpy(a + n + (sep != 0), t, m);
    a[len] = 0;
    return a;
}

/* ------------------------------------------------------------ messages */

static int vbad(const char *cmd, const char *path, unsigned line, const char *fmt, va_list ap)
{
    char buf[400];
    vsnprintf(buf, sizeof buf, fmt, ap);
    fprintf(stderr, "fastmlp %s: %s:%u: %s\n", cmd, path, line, buf);
    return EXIT_USAGE;
}

int cli_config_error(const char *cmd, const char *path, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vbad(cmd, path, line, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_config_bool(const char *v)
{
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0) return 1;
    if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0) return 0;
    return -1;
}

/* ------------------------------------------------------------ reading */

struct reader {
    const struct cli_yaml_read_params *p;
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_ev;
    struct cli_config_entry *e;
    size_t n, cap;
};

static int bad(struct reader *r, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct reader *r, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vbad(r->p->cmd, r->p->path, line, fmt, ap);
    va_end(ap);
    return rc;
}

static int nomem(struct reader *r)
{
    fprintf(stderr, "fastmlp %s: %s: out of memory\n", r->p->cmd, r->p->path);
    return EXIT_SOFTWARE;
}

/* Next event into r->ev (the previous one is released). */
static int next(struct reader *r)
{
    if (r->have_ev) yaml_event_delete(&r->ev);
    r->have_ev = false;
    if (!yaml_parser_parse(&r->parser, &r->ev)) {
        const yaml_parser_t *p = &r->parser;
        const char *cmd = r->p->cmd, *path = r->p->path;
        if (p->error == YAML_MEMORY_ERROR) return nomem(r);
        if (p->error == YAML_READER_ERROR) {
            fprintf(stderr, "fastmlp %s: %s: byte %zu: %s\n", cmd, path, p->problem_offset,
                    p->problem ? p->problem : "cannot read the YAML text");
            return EXIT_USAGE;
        }
        fprintf(stderr, "fastmlp %s: %s:%zu:%zu: YAML syntax error: %s", cmd, path, p->problem_mark.line + 1,
                p->problem_mark.column + 1, p->problem ? p->problem : "malformed");
        if (p->context)
            fprintf(stderr, " (%s, line %zu)", p->context, p->context_mark.line + 1);
        fputc('\n', stderr);
        return EXIT_USAGE;
    }
    r->have_ev = true;
    return EXIT_OK;
}

static unsigned ev_line(const yaml_event_t *ev)
{
    return (unsigned)ev->start_mark.line + 1;
}

/* A plain scalar that YAML reads as null: `key:`, `key: ~`, `key: null`. */
static bool is_null(const yaml_event_t *ev)
{
    if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *v = (const char *)ev->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

static bool has_nul(const yaml_event_t *ev)
{
    return memchr(ev->data.scalar.value, 0, ev->data.scalar.length) != NULL;
}

static enum cli_yaml_kind kind_of(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT: return CLI_YAML_MAP;
    case YAML_SEQUENCE_START_EVENT: return CLI_YAML_LIST;
    case YAML_ALIAS_EVENT: return CLI_YAML_ALIAS;
    default: return is_null(ev) ? CLI_YAML_NULL : CLI_YAML_VALUE;
    }
}

/* Pass over the value that starts at the current event. */
static int skip_value(struct reader *r)
{
    int depth = 0, rc;
    do {
        if (r->ev.type == YAML_MAPPING_START_EVENT || r->ev.type == YAML_SEQUENCE_START_EVENT) depth++;
        if (r->ev.type == YAML_MAPPING_END_EVENT || r->ev.type == YAML_SEQUENCE_END_EVENT) depth--;
        if (depth > 0 && (rc = next(r)) != EXIT_OK) return rc;
    } while (depth > 0);
    return EXIT_OK;
}

/* The sequence that starts at the current event, into e: its plain items,
 * their lines and their text joined with ','; the first other item in
 * bad_line / bad_kind. */
static int read_list(struct reader *r, struct cli_config_entry *e)
{
    size_t cap = 0, len = 0;
    const char **items = NULL;
    unsigned *lines = NULL;
    char *joined = NULL; /* malloc'd while it grows, then copied to the arena */
    int rc;
    while ((rc = next(r)) == EXIT_OK && r->ev.type != YAML_SEQUENCE_END_EVENT) {
        const yaml_event_t *ev = &r->ev;
        enum cli_yaml_kind k = kind_of(ev);
        if (k != CLI_YAML_VALUE || has_nul(ev)) {
            if (!e->bad_line) e->bad_line = ev_line(ev), e->bad_kind = k;
            if ((rc = skip_value(r)) != EXIT_OK) break;
            continue;
        }
        const char *v = (const char *)ev->data.scalar.value;
        size_t n = ev->data.scalar.length;
        if (e->n_items == cap) {
            cap = cap ? 2 * cap : 8;
            const char **ni = arena_alloc(cap * sizeof *ni);
            unsigned *nl = arena_alloc(cap * sizeof *nl);
            if (!ni || !nl) break;
            if (e->n_items) memcpy(ni, items, e->n_items * sizeof *ni), memcpy(nl, lines, e->n_items * sizeof *nl);
            items = ni;
            lines = nl;
        }
        char *nj = realloc(joined, len + n + 2);
        if (!nj || !(items[e->n_items] = arena_join(v, n, 0, "", 0))) {
            joined = nj ? nj : joined;
            break;
        }
        joined = nj;
        if (len) joined[len++] = ',';
        memcpy(joined + len, v, n);
        len += n;
        lines[e->n_items++] = ev_line(ev);
    }
    if (rc == EXIT_OK && r->ev.type == YAML_SEQUENCE_END_EVENT) {
        e->items = items;
        e->item_lines = lines;
        if (!(e->value = arena_join(joined ? joined : "", len, 0, "", 0))) rc = nomem(r);
    } else if (rc == EXIT_OK) {
        rc = nomem(r); /* the loop stopped on an allocation */
    }
    free(joined);
    return rc;
}

/* Keep e and show it to the visitor: CLI_YAML_GO, CLI_YAML_SKIP or an exit code. */
static int emit(struct reader *r, const struct cli_config_entry *e)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        struct cli_config_entry *ne = realloc(r->e, cap * sizeof *ne);
        if (!ne) return nomem(r);
        r->e = ne;
        r->cap = cap;
    }
    r->e[r->n++] = *e;
    return r->p->visit ? r->p->visit(&r->e[r->n - 1], r->p->user) : CLI_YAML_GO;
}

/* The value that starts at the current event, for the key at `key`. */
static int read_value(struct reader *r, struct cli_config_entry *e)
{
    const yaml_event_t *ev = &r->ev;
    e->kind = kind_of(ev);
    for (size_t i = 0; i < r->n && !e->first_line; i++)
        if (r->e[i].key && strcmp(r->e[i].key, e->key) == 0) e->first_line = r->e[i].line;
    if (e->kind == CLI_YAML_VALUE) {
        e->nul = has_nul(ev);
        if (!(e->value = arena_join((const char *)ev->data.scalar.value, ev->data.scalar.length, 0, "", 0)))
            return nomem(r);
    }
    return e->kind == CLI_YAML_LIST ? read_list(r, e) : EXIT_OK;
}

/* The mapping that starts at the current event; its keys' paths start with
 * prefix (NULL at the top). */
static int read_mapping(struct reader *r, const char *prefix, unsigned depth)
{
    int rc;
    if (depth > CONFIG_MAX_DEPTH) return bad(r, ev_line(&r->ev), "mappings nested deeper than %d", CONFIG_MAX_DEPTH);
    for (;;) {
        if ((rc = next(r)) != EXIT_OK) return rc;
        if (r->ev.type == YAML_MAPPING_END_EVENT) return EXIT_OK;
        struct cli_config_entry e = {.line = ev_line(&r->ev)};
        const yaml_event_t *ev = &r->ev;
        if (kind_of(ev) != CLI_YAML_VALUE || has_nul(ev)) {
            /* A key that is no name: shown before its value is read. */
            e.kind = CLI_YAML_BADKEY;
            if ((rc = skip_value(r)) != EXIT_OK || (rc = emit(r, &e)) > 0) return rc;
            if ((rc = next(r)) != EXIT_OK || (rc = skip_value(r)) != EXIT_OK) return rc;
            continue;
        }
        const char *k = (const char *)ev->data.scalar.value;
        e.key = prefix ? arena_join(prefix, strlen(prefix), '.', k, ev->data.scalar.length)
                       : arena_join(k, ev->data.scalar.length, 0, "", 0);
        if (!e.key) return nomem(r);
        if ((rc = next(r)) != EXIT_OK || (rc = read_value(r, &e)) != EXIT_OK) return rc;
        if ((rc = emit(r, &e)) > 0) return rc;
        if (e.kind != CLI_YAML_MAP) continue;
        rc = rc == CLI_YAML_SKIP ? skip_value(r) : read_mapping(r, e.key, depth + 1);
        if (rc != EXIT_OK) return rc;
    }
}

/* The whole stream: no document (an empty file), or one mapping. */
static int read_stream(struct reader *r)
{
    int rc, docs = 0;
    if ((rc = next(r)) != EXIT_OK) return rc; /* STREAM-START */
    for (;;) {
        if ((rc = next(r)) != EXIT_OK) return rc;
        if (r->ev.type == YAML_STREAM_END_EVENT) return EXIT_OK;
        if (r->ev.type != YAML_DOCUMENT_START_EVENT) return bad(r, ev_line(&r->ev), "malformed YAML stream");
        if (++docs > 1) return bad(r, ev_line(&r->ev), "more than one YAML document");
        if ((rc = next(r)) != EXIT_OK) return rc;
        if (r->ev.type == YAML_MAPPING_START_EVENT) {
            if ((rc = read_mapping(r, NULL, 1)) != EXIT_OK) return rc;
        } else if (!is_null(&r->ev)) { /* "---" alone: empty */
            return bad(r, ev_line(&r->ev), "the file must be %s", r->p->expected);
        }
        if ((rc = next(r)) != EXIT_OK) return rc; /* DOCUMENT-END */
    }
}

/* The file's bytes (NUL-terminated in *buf, caller frees). */
static int slurp(const char *cmd, const char *path, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    int e = errno;
    struct stat sb;
    if (f && fstat(fileno(f), &sb) != 0) e = errno;
    else if (f && S_ISDIR(sb.st_mode)) e = EISDIR;
    else if (f) e = 0;
    if (e) {
        fprintf(stderr, "fastmlp %s: %s: cannot open: %s\n", cmd, path, strerror(e));
        if (f) fclose(f);
        return EXIT_NOINPUT;
    }
    size_t cap = 4096;
    char *b = malloc(cap + 1);
    int rc = EXIT_OK;
    while (b) {
        size_t got = fread(b + *len, 1, cap - *len, f);
        *len += got;
        if (*len < cap) break;
        if (cap >= CONFIG_MAX_BYTES) {
            fprintf(stderr, "fastmlp %s: %s: larger than %u bytes: not a config file\n", cmd, path, CONFIG_MAX_BYTES);
            rc = EXIT_USAGE;
            break;
        }
        cap *= 2;
        char *nb = realloc(b, cap + 1);
        if (!nb) {
            free(b);
            b = NULL;
        } else {
            b = nb;
        }
    }
    if (!b) {
        fprintf(stderr, "fastmlp %s: %s: out of memory\n", cmd, path);
        rc = EXIT_SOFTWARE;
    } else if (rc == EXIT_OK && ferror(f)) {
        fprintf(stderr, "fastmlp %s: %s: cannot read: %s\n", cmd, path, strerror(errno));
        rc = EXIT_IOERR;
    }
    fclose(f);
    if (rc != EXIT_OK) {
        free(b);
        return rc;
    }
    b[*len] = 0;
    *buf = b;
    return EXIT_OK;
}

int cli_yaml_read(const struct cli_yaml_read_params *p, struct cli_config_entry **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char *text;
    size_t len;
    int rc = slurp(p->cmd, p->path, &text, &len);
    if (rc != EXIT_OK) return rc;
    struct reader r = {.p = p};
    if (!yaml_parser_initialize(&r.parser)) {
        free(text);
        return nomem(&r);
    }
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    rc = read_stream(&r);
    if (r.have_ev) yaml_event_delete(&r.ev);
    yaml_parser_delete(&r.parser);
    free(text);
    if (rc != EXIT_OK) {
        free(r.e);
        return rc;
    }
    *out = r.e;
    *n = r.n;
    return EXIT_OK;
}

/* ------------------------------------------------- the flat options file */

static const char *item_word(enum cli_yaml_kind k)
{
    return k == CLI_YAML_MAP ? "a mapping" : k == CLI_YAML_LIST ? "a sequence" : "an alias";
}

/* Each entry of a flat file as it is read: stop at the first that cannot
 * be an option. */
static int flat_visit(const struct cli_config_entry *e, void *user)
{
    const struct cli_yaml_read_params *p = user;
    const char *cmd = p->cmd, *path = p->path, *k = e->key;
    if (e->kind == CLI_YAML_BADKEY) return cli_config_error(cmd, path, e->line, "a key must be an option name");
    if (strcmp(k, "config") == 0 || strcmp(k, "help") == 0)
        return cli_config_error(cmd, path, e->line, "key '%s' is not allowed in a config file", k);
    if (e->first_line)
        return cli_config_error(cmd, path, e->line, "duplicate key '%s' (first on line %u)", k, e->first_line);
    switch (e->kind) {
    case CLI_YAML_NULL: return cli_config_error(cmd, path, e->line, "key '%s' has no value", k);
    case CLI_YAML_ALIAS: return cli_config_error(cmd, path, e->line, "key '%s': aliases are not supported", k);
    case CLI_YAML_MAP:
        return cli_config_error(cmd, path, e->line,
                                "key '%s': nested mappings are not supported (write each option as 'name: value')", k);
    case CLI_YAML_VALUE:
        if (e->nul) return cli_config_error(cmd, path, e->line, "key '%s': the value holds a NUL byte", k);
        return CLI_YAML_GO;
    case CLI_YAML_LIST:
        if (!e->bad_line) return CLI_YAML_GO;
        if (e->bad_kind == CLI_YAML_NULL || e->bad_kind == CLI_YAML_VALUE)
            return cli_config_error(cmd, path, e->bad_line, "key '%s': empty or NUL item in the list", k);
        return cli_config_error(cmd, path, e->bad_line, "key '%s': a list may only hold plain values, not %s", k,
                                item_word(e->bad_kind));
    case CLI_YAML_BADKEY: break;
    }
    return CLI_YAML_GO;
}

int cli_config_read(const char *cmd, const char *path, struct cli_config_entry **out, size_t *n)
{
    struct cli_yaml_read_params p = {.cmd = cmd,
                                     .path = path,
                                     .expected = "a mapping of option names to values ('lr: 0.01')",
                                     .visit = flat_visit};
    p.user = &p;
    return cli_yaml_read(&p, out, n);
}
