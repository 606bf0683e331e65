/* SPDX-License-Identifier: MIT */
/* `--config FILE.yaml` for every command: the file is read with libyaml's
 * event parser into (key, value, line) entries that cli_parse applies before
 * the command line, so flags override the file. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

/* A config file is a few lines; anything this large is a wrong path. */
#define CONFIG_MAX_BYTES (1u << 20)

/* ------------------------------------------------------------ the arena */

/* Strings handed to OPT_STR options must outlive cli_parse: they are kept in
 * one list freed when the process exits (so leak checkers stay quiet). */
struct arena_str {
    struct arena_str *next;
    char s[];
};
static struct arena_str *arena;

static void arena_free_all(void)
{
    while (arena) {
        struct arena_str *next = arena->next;
        free(arena);
        arena = next;
    }
}

static char *arena_strndup(const char *s, size_t n)
{
    static bool registered;
    if (!registered) {
        if (atexit(arena_free_all) != 0) return NULL;
        registered = true;
    }
    struct arena_str *a = malloc(sizeof *a + n + 1);
    if (!a) return NULL;
    memcpy(a->s, s, n);
    a->s[n] = 0;
    a->next = arena;
    arena = a;
    return a->s;
}

/* ------------------------------------------------------- finding --config */

static bool is_config_flag(const char *a)
{
    return strncmp(a, "--config", 8) == 0 && (a[8] == 0 || a[8] == '=');
}

int cli_config_find(const char *cmd, int argc, char **argv, int first, const struct opt *opts,
                    const char **path)
{
    *path = NULL;
    const char *found = NULL;
    int n_found = 0;
    bool help = false, missing = false;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) break;
        if (a[0] != '-' || a[1] == 0) continue;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            help = true;
            continue;
        }
        if (is_config_flag(a)) {
            n_found++;
            if (a[8] == '=')
                found = a + 9;
            else if (i + 1 < argc)
                found = argv[++i];
            else
                missing = true;
            if (found && !*found) missing = true;
            continue;
        }
        if (a[1] == '-' && strchr(a, '=')) continue; /* --name=value */
        for (const struct opt *p = opts; p->name; p++) {
            if ((a[1] == '-' && strcmp(p->name, a) == 0) || (a[1] != '-' && p->short_name && a[1] == p->short_name && !a[2])) {
                if (p->kind != OPT_FLAG) i++; /* its value, whatever it looks like */
                break;
            }
        }
    }
    if (help) return EXIT_OK;
    if (missing) return cli_usage_error(cmd, "option '--config' needs FILE");
    if (n_found > 1) return cli_usage_error(cmd, "option '--config' given more than once");
    *path = found;
    return EXIT_OK;
}

int cli_config_bool(const char *v)
{
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0) return 1;
    if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0) return 0;
    return -1;
}

/* ------------------------------------------------------------ reading */

struct reader {
    const char *cmd, *path;
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_ev;
    struct cli_config_entry *e;
    size_t n, cap;
};

static int bad(struct reader *r, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct reader *r, unsigned line, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "fastmlp %s: %s:%u: %s\n", r->cmd, r->path, line, buf);
    return EXIT_USAGE;
}

static int nomem(struct reader *r)
{
    fprintf(stderr, "fastmlp %s: %s: out of memory\n", r->cmd, r->path);
    return EXIT_SOFTWARE;
}

/* Next event into r->ev (the previous one is released). */
static int next(struct reader *r)
{
    if (r->have_ev) yaml_event_delete(&r->ev);
    r->have_ev = false;
    if (!yaml_parser_parse(&r->parser, &r->ev)) {
        const yaml_parser_t *p = &r->parser;
        if (p->error == YAML_MEMORY_ERROR) return nomem(r);
        if (p->error == YAML_READER_ERROR) {
            fprintf(stderr, "fastmlp %s: %s: byte %zu: %s\n", r->cmd, r->path, p->problem_offset,
                    p->problem ? p->problem : "cannot read the YAML text");
            return EXIT_USAGE;
        }
        fprintf(stderr, "fastmlp %s: %s:%zu:%zu: YAML syntax error: %s", r->cmd, r->path, p->problem_mark.line + 1,
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
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *v = (const char *)ev->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

static bool has_nul(const yaml_event_t *ev)
{
    return memchr(ev->data.scalar.value, 0, ev->data.scalar.length) != NULL;
}

static const char *kind_of(yaml_event_type_t t)
{
    return t == YAML_MAPPING_START_EVENT ? "a mapping" : t == YAML_SEQUENCE_START_EVENT ? "a sequence" : "an alias";
}

/* The value of `key` (the current event is the value's first). */
static int read_value(struct reader *r, const char *key, unsigned line, char **value, bool *list)
{
    int rc;
    *value = NULL;
    *list = r->ev.type == YAML_SEQUENCE_START_EVENT;
    switch (r->ev.type) {
    case YAML_SCALAR_EVENT:
        if (is_null(&r->ev)) return bad(r, line, "key '%s' has no value", key);
        if (has_nul(&r->ev)) return bad(r, line, "key '%s': the value holds a NUL byte", key);
        if (!(*value = arena_strndup((const char *)r->ev.data.scalar.value, r->ev.data.scalar.length))) return nomem(r);
        return EXIT_OK;
    case YAML_SEQUENCE_START_EVENT: {
        /* [256, 128] -> "256,128", as the flag would be written */
        char *buf = NULL;
        size_t len = 0;
        for (;;) {
            if ((rc = next(r)) != EXIT_OK) break;
            if (r->ev.type == YAML_SEQUENCE_END_EVENT) {
                *value = arena_strndup(buf ? buf : "", len);
                rc = *value ? EXIT_OK : nomem(r);
                break;
            }
            if (r->ev.type != YAML_SCALAR_EVENT) {
                rc = bad(r, ev_line(&r->ev), "key '%s': a list may only hold plain values, not %s", key,
                         kind_of(r->ev.type));
                break;
            }
            if (is_null(&r->ev) || has_nul(&r->ev)) {
                rc = bad(r, ev_line(&r->ev), "key '%s': empty or NUL item in the list", key);
                break;
            }
            size_t add = r->ev.data.scalar.length;
            char *nb = realloc(buf, len + add + 2);
            if (!nb) {
                rc = nomem(r);
                break;
            }
            buf = nb;
            if (len) buf[len++] = ',';
            memcpy(buf + len, r->ev.data.scalar.value, add);
            len += add;
            buf[len] = 0;
        }
        free(buf);
        return rc;
    }
    case YAML_MAPPING_START_EVENT:
        return bad(r, line, "key '%s': nested mappings are not supported (write each option as 'name: value')", key);
    default:
        return bad(r, line, "key '%s': aliases are not supported", key);
    }
}

static int read_mapping(struct reader *r)
{
    int rc;
    for (;;) {
        if ((rc = next(r)) != EXIT_OK) return rc;
        if (r->ev.type == YAML_MAPPING_END_EVENT) return EXIT_OK;
        unsigned line = ev_line(&r->ev);
        if (r->ev.type != YAML_SCALAR_EVENT || is_null(&r->ev) || has_nul(&r->ev))
            return bad(r, line, "a key must be an option name");
        char *key = arena_strndup((const char *)r->ev.data.scalar.value, r->ev.data.scalar.length);
        if (!key) return nomem(r);
        if (strcmp(key, "config") == 0) return bad(r, line, "key 'config' is not allowed in a config file");
        if (strcmp(key, "help") == 0) return bad(r, line, "key 'help' is not allowed in a config file");
        for (size_t i = 0; i < r->n; i++)
            if (strcmp(r->e[i].key, key) == 0)
                return bad(r, line, "duplicate key '%s' (first on line %u)", key, r->e[i].line);
        char *value;
        bool list;
        if ((rc = next(r)) != EXIT_OK || (rc = read_value(r, key, line, &value, &list)) != EXIT_OK) return rc;
        if (r->n == r->cap) {
            size_t cap = r->cap ? 2 * r->cap : 16;
            struct cli_config_entry *ne = realloc(r->e, cap * sizeof *ne);
            if (!ne) return nomem(r);
            r->e = ne;
            r->cap = cap;
        }
        r->e[r->n++] = (struct cli_config_entry){key, value, line, list};
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
            if ((rc = read_mapping(r)) != EXIT_OK) return rc;
        } else if (!(r->ev.type == YAML_SCALAR_EVENT && is_null(&r->ev))) { /* "---" alone: empty */
            return bad(r, ev_line(&r->ev), "the file must be a mapping of option names to values ('lr: 0.01')");
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

int cli_config_read(const char *cmd, const char *path, struct cli_config_entry **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char *text;
    size_t len;
    int rc = slurp(cmd, path, &text, &len);
    if (rc != EXIT_OK) return rc;
    struct reader r = {.cmd = cmd, .path = path};
    if (!yaml_parser_initialize(&r.parser)) {
        free(text);
        fprintf(stderr, "fastmlp %s: %s: out of memory\n", cmd, path);
        return EXIT_SOFTWARE;
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
