/* SPDX-License-Identifier: MIT */
/* The command line's plumbing: a table-driven option parser with strict
 * number parsing, exit codes, the --layers and --threads rules, and data
 * loading. */
#include "cli.h"
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_exit_code(enum mlp_status s)
{
    switch (s) {
    case MLP_OK: return EXIT_OK;
    case MLP_ERR_ARG: return EXIT_USAGE;
    case MLP_ERR_NOMEM: return EXIT_SOFTWARE;
    case MLP_ERR_IO: return EXIT_IOERR;
    case MLP_ERR_OPEN: return EXIT_NOINPUT;
    case MLP_ERR_FORMAT:
    case MLP_ERR_SHAPE:
    case MLP_ERR_RANGE: return EXIT_DATAERR;
    case MLP_ERR_DIVERGED: return EXIT_DIVERGED;
    case MLP_ERR_UNSUPPORTED: return EXIT_FAIL;
    /* The CLI's only stops are signals (cli_output_commit, the trainer asked
     * by the handler); the JSON log's stop is reported by train itself. */
    case MLP_ERR_STOPPED: return EXIT_INTERRUPTED;
    }
    return EXIT_FAIL;
}

int cli_fail(const char *cmd, enum mlp_status s, const char *msg)
{
    fprintf(stderr, "fastmlp %s: %s\n", cmd, msg && *msg ? msg : mlp_status_str(s));
    return cli_exit_code(s);
}

int cli_output_fail(const char *cmd, enum mlp_status s, const char *msg)
{
    fprintf(stderr, "fastmlp %s: %s\n", cmd, msg && *msg ? msg : mlp_status_str(s));
    return s == MLP_ERR_OPEN ? EXIT_CANTCREAT : cli_exit_code(s);
}

int cli_parse_range(const char *s, double *a, double *b)
{
    char *end;
    *a = strtod(s, &end);
    if (end == s || *end != ',') return -1;
    const char *t = end + 1;
    *b = strtod(t, &end);
    return end == t || *end || !(*a <= *b) ? -1 : 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "fastmlp %s: %s (see 'fastmlp %s --help')\n", cmd, buf, cmd);
    return EXIT_USAGE;
}

bool cli_parse_u64(const char *v, uint64_t *out)
{
    /* strtoull would skip spaces and accept "-1" as 2^64-1 */
    if (!(*v >= '0' && *v <= '9')) return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno) return false;
    *out = (uint64_t)x;
    return true;
}

bool cli_parse_i64(const char *v, int64_t *out)
{
    if (isspace((unsigned char)*v)) return false;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno) return false;
    *out = (int64_t)x;
    return true;
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

bool cli_parse_real(const char *v, double *out)
{
    if (isspace((unsigned char)*v)) return false;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(d)) return false;
    *out = d;
    return true;
}

static bool parse_value(const struct opt *o, const char *v)
{
    uint64_t u;
    int64_t i;
    switch (o->kind) {
    case OPT_STR: *(const char **)o->dst = v; return true;
    case OPT_DBL: return cli_parse_real(v, (double *)o->dst);
    case OPT_INT:
        if (!cli_parse_i64(v, &i) || i < INT_MIN || i > INT_MAX) return false;
        *(int *)o->dst = (int)i;
        return true;
    case OPT_U32:
        if (!cli_parse_u64(v, &u) || u > UINT32_MAX) return false;
        *(uint32_t *)o->dst = (uint32_t)u;
        return true;
    case OPT_U64: return cli_parse_u64(v, (uint64_t *)o->dst);
    case OPT_FLAG: *(int *)o->dst = 1; return true;
    case OPT_LIST: {
        struct cli_list *l = o->dst;
        if (l->n == CLI_LIST_MAX) return false;
        l->v[l->n++] = v;
        return true;
    }
    }
    return false;
}

static const char *kind_word(enum opt_kind k)
{
    switch (k) {
    case OPT_DBL: return "a number";
    case OPT_INT: return "an integer";
    case OPT_U32:
    case OPT_U64: return "a non-negative integer";
    default: return "a value";
    }
}

bool cli_opt_takes_value(const struct opt *opts, const char *a)
{
    if (a[0] != '-' || a[1] == 0 || (a[1] == '-' && strchr(a, '='))) return false; /* --name=value */
    for (const struct opt *p = opts; p->name; p++)
        if ((a[1] == '-' && strcmp(p->name, a) == 0) || (a[1] != '-' && p->short_name && a[1] == p->short_name && !a[2]))
            return p->kind != OPT_FLAG;
    return false;
}

static bool is_config_flag(const char *a)
{
    return strncmp(a, "--config", 8) == 0 && (a[8] == 0 || a[8] == '=');
}

/* Find --config FILE (or --config=FILE) in argv[first..argc), skipping the
 * values of the table's options exactly as cli_parse does and stopping at
 * "--".  *path is NULL when there is none, or when -h/--help was given (help
 * never reads the file).  Returns EXIT_OK, or EXIT_USAGE after one stderr
 * line (no FILE, or --config given twice). */
static int config_find(const char *cmd, int argc, char **argv, int first, const struct opt *opts, const char **path)
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
        if (cli_opt_takes_value(opts, a)) i++; /* its value, whatever it looks like */
    }
    if (help) return EXIT_OK;
    if (missing) return cli_usage_error(cmd, "option '--config' needs FILE");
    if (n_found > 1) return cli_usage_error(cmd, "option '--config' given more than once");
    *path = found;
    return EXIT_OK;
}

/* Parse argv[first..argc) against the table; positional arguments go to
 * pos[] (at most max_pos).  Returns EXIT_OK, or EXIT_USAGE after printing one
 * line; *help is set when -h/--help was given. */
static int parse(const char *cmd, int argc, char **argv, int first, const struct opt *opts, const char **pos,
                 int max_pos, int *n_pos, bool *help)
{
    *n_pos = 0;
    *help = false;
    /* --config FILE (config.c): the file's values are applied first, through
     * the same typed parsing as flags, so that argv below overrides them. */
    const char *config;
    int rc = config_find(cmd, argc, argv, first, opts, &config);
    if (rc != EXIT_OK) return rc;
    if (config) {
        struct cli_config_entry *e;
        size_t ne;
        if ((rc = cli_config_read(cmd, config, &e, &ne)) != EXIT_OK) return rc;
        for (size_t k = 0; k < ne && rc == EXIT_OK; k++) {
            const struct opt *o = NULL;
            for (const struct opt *p = opts; p->name && !o; p++)
                if (strncmp(p->name, "--", 2) == 0 && strcmp(p->name + 2, e[k].key) == 0) o = p;
            if (!o)
                rc = cli_usage_error(cmd, "%s:%u: unknown key '%s'%s", config, e[k].line, e[k].key,
                                     e[k].key[0] == '-' ? " (write option names without the dashes)" : "");
            else if (o->kind == OPT_FLAG) {
                int b = e[k].kind == CLI_YAML_LIST ? -1 : cli_config_bool(e[k].value);
                if (b < 0)
                    rc = cli_usage_error(cmd, "%s:%u: key '%s': '%s' is not true or false", config, e[k].line,
                                         e[k].key, e[k].value);
                else if (b)
                    parse_value(o, NULL); /* false: the flag stays unset */
            } else if (o->kind == OPT_LIST && e[k].kind == CLI_YAML_LIST) {
                /* its values are lists of their own ("lr=0.1,0.01"): one
                 * string, not a sequence whose items would run together */
                rc = cli_usage_error(cmd, "%s:%u: key '%s': write one string (several separated by spaces), not a "
                                     "sequence", config, e[k].line, e[k].key);
            } else if (!parse_value(o, e[k].value))
                rc = cli_usage_error(cmd, "%s:%u: key '%s': '%s' is not %s", config, e[k].line, e[k].key,
                                     e[k].value, kind_word(o->kind));
        }
        free(e);
        if (rc != EXIT_OK) return rc;
        for (const struct opt *p = opts; p->name; p++)
            if (p->kind == OPT_LIST) ((struct cli_list *)p->dst)->from_config = ((struct cli_list *)p->dst)->n;
    }
    bool only_pos = false;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            if (*n_pos >= max_pos) return cli_usage_error(cmd, "unexpected argument '%s'", a);
            pos[(*n_pos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = true;
            return EXIT_OK;
        }
        if (strncmp(a, "--config", 8) == 0 && (a[8] == 0 || a[8] == '=')) {
            if (a[8] == 0 && i + 1 < argc) i++; /* its FILE, read above */
            continue;
        }
        /* --name=value or --name value or -x value */
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const struct opt *o = NULL;
        for (const struct opt *p = opts; p->name; p++) {
            if ((a[1] == '-' && strlen(p->name) == nlen && strncmp(p->name, a, nlen) == 0) ||
                (a[1] != '-' && p->short_name && a[1] == p->short_name && a[2] == 0)) {
                o = p;
                break;
            }
        }
        if (!o) return cli_usage_error(cmd, "unknown option '%.*s'", (int)nlen, a);
        const char *v = NULL;
        if (o->kind == OPT_FLAG) {
            if (eq) return cli_usage_error(cmd, "option '%s' takes no value", o->name);
        } else if (eq) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc) return cli_usage_error(cmd, "option '%s' needs %s", o->name, o->meta ? o->meta : "a value");
            v = argv[++i];
        }
        if (o->kind == OPT_LIST && ((struct cli_list *)o->dst)->from_config) /* flags over the file */
            ((struct cli_list *)o->dst)->n = ((struct cli_list *)o->dst)->from_config = 0;
        if (o->kind == OPT_LIST && ((struct cli_list *)o->dst)->n == CLI_LIST_MAX)
            return cli_usage_error(cmd, "option '%s' given more than %d times", o->name, CLI_LIST_MAX);
        if (!parse_value(o, v))
            return cli_usage_error(cmd, "option '%s': '%s' is not %s", o->name, v, kind_word(o->kind));
    }
    return EXIT_OK;
}

int cli_args_parse(struct cli_args *a, int argc, char **argv)
{
    bool help;
    int rc = parse(a->cmd, argc, argv, a->first, a->opts, a->pos, a->max_pos, &a->n_pos, &help);
    if (rc != EXIT_OK) return rc;
    if (help) {
        if (a->short_help)
            printf("%s\n", a->usage);
        else
            cli_print_help(stdout, a->usage, a->opts);
        return EXIT_OK;
    }
    /* parse accepted it: it cannot fail now */
    config_find(a->cmd, argc, argv, a->first, a->opts, &a->config);
    return CLI_RUN;
}

void cli_print_help(FILE *f, const char *usage, const struct opt *opts)
{
    fprintf(f, "%s\n", usage);
    const char *group = NULL;
    for (const struct opt *o = opts; o->name; o++) {
        if (!group || strcmp(group, o->group) != 0) {
            group = o->group;
            fprintf(f, "\n%s:\n", group);
        }
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, %s%s%s", o->short_name, o->name, o->meta ? " " : "", o->meta ? o->meta : "");
        else
            snprintf(left, sizeof left, "    %s%s%s", o->name, o->meta ? " " : "", o->meta ? o->meta : "");
        fprintf(f, "  %-28s %s\n", left, o->help);
    }
    /* Every command reads --config through cli_parse. */
    if (!group || strcmp(group, "General") != 0) fprintf(f, "\nGeneral:\n");
    fprintf(f, "  %-28s %s\n", "    --config FILE",
            "read options from a YAML file (keys: option names without '--'); flags override it");
    fprintf(f, "  %-28s %s\n", "-h, --help", "print this help");
}

/* "256,128" -> widths, each 1..MLP_MAX_WIDTH, at most MLP_MAX_LAYERS - 1
 * hidden layers; "none" -> no hidden layer.  0, or a message in why. */
int cli_parse_layers(const char *s, enum mlp_act act, struct mlp_layer_spec **out, uint32_t *n, char *why,
                     size_t why_len)
{
    *out = NULL;
    *n = 0;
    if (strcmp(s, "none") == 0) return 0;
    if (!*s || strcmp(s, "0") == 0) {
        snprintf(why, why_len, "--layers '%s': write 'none' for a network without hidden layers", s);
        return -1;
    }
    uint64_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    if (cap > MLP_MAX_LAYERS - 1) {
        snprintf(why, why_len, "--layers: %llu hidden layers, at most %u", (unsigned long long)cap,
                 MLP_MAX_LAYERS - 1);
        return -1;
    }
    struct mlp_layer_spec *L = calloc(cap, sizeof *L);
    if (!L) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    const char *p = s;
    for (uint32_t i = 0; i < cap; i++) {
        char *end = NULL;
        errno = 0;
        unsigned long long w = *p >= '0' && *p <= '9' ? strtoull(p, &end, 10) : 0;
        if (!end || end == p || (*end != ',' && *end)) {
            int len = (int)strcspn(p, ",");
            snprintf(why, why_len, "--layers '%.200s': '%.*s' is not a width (expected a comma-separated list of "
                     "widths 1..%u, or 'none')", s, len > 40 ? 40 : len, p, MLP_MAX_WIDTH);
            free(L);
            return -1;
        }
        if (w == 0 || w > MLP_MAX_WIDTH || errno == ERANGE) {
            snprintf(why, why_len, "--layers: width %.*s of hidden layer %u is outside 1..%u", (int)(end - p), p,
                     i + 1, MLP_MAX_WIDTH);
            free(L);
            return -1;
        }
        L[i] = (struct mlp_layer_spec){(uint32_t)w, act};
        p = *end ? end + 1 : end;
    }
    *out = L;
    *n = (uint32_t)cap;
    return 0;
}

bool cli_threads_ok(long long n, char *why, size_t len)
{
    if (n < 0)
        snprintf(why, len, "give 0 for all cores or a positive count");
    else if (n > MLP_MAX_THREADS)
        snprintf(why, len, "at most %d", MLP_MAX_THREADS);
    return n >= 0 && n <= MLP_MAX_THREADS;
}

int cli_check_threads(const char *cmd, long long n)
{
    char why[64];
    if (!cli_threads_ok(n, why, sizeof why)) return cli_usage_error(cmd, "--threads %lld: %s", n, why);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 0 && n > cores)
        fprintf(stderr, "fastmlp %s: warning: --threads %lld on %ld cores: the threads share the cores and run "
                "slower than %ld would\n", cmd, n, cores, cores);
    return EXIT_OK;
}

enum mlp_isa cli_isa = MLP_ISA_AUTO;
enum mlp_device cli_device = MLP_DEVICE_CPU;
uint32_t cli_device_index;
enum mlp_device_math cli_device_math = MLP_DEVICE_MATH_EXACT;

/* A command makes one or two (ladder: one a stage). */
static struct mlp_context *contexts[8];
static unsigned n_contexts;

int cli_context(const char *cmd, int threads, enum mlp_kernels k, struct mlp_context **out)
{
    *out = NULL;
    if (n_contexts == sizeof contexts / sizeof *contexts) return cli_fail(cmd, MLP_ERR_NOMEM, "too many contexts");
    struct mlp_context_params cp = mlp_context_params_default();
    cp.threads = threads;
    cp.kernels = k;
    cp.isa = cli_isa;
    cp.device = cli_device;
    cp.device_index = cli_device_index;
    cp.device_math = cli_device_math;
    struct mlp_error err;
    enum mlp_status st = mlp_context_create(out, &cp, &err);
    if (st != MLP_OK) return cli_fail(cmd, st, err.msg);
    contexts[n_contexts++] = *out;
    return EXIT_OK;
}

void cli_contexts_free(void)
{
    while (n_contexts > 0) mlp_context_free(contexts[--n_contexts]);
}

int cli_load_params(const char *cmd, const struct data_opts *d, struct mlp_load_params *p)
{
    *p = mlp_load_params_default();
    if (d->format) {
        int f = mlp_format_parse(d->format);
        if (f < 0) return cli_usage_error(cmd, "unknown format '%s'", d->format);
        p->format = (enum mlp_format)f;
    }
    if (d->header && d->no_header) return cli_usage_error(cmd, "--header and --no-header contradict each other");
    p->header = d->header ? 1 : d->no_header ? 0 : -1;
    if (d->delimiter) {
        if (strcmp(d->delimiter, "tab") == 0 || strcmp(d->delimiter, "\\t") == 0)
            p->delimiter = '\t';
        else if (strlen(d->delimiter) == 1 && d->delimiter[0] != '"' && d->delimiter[0] != '\n' &&
                 d->delimiter[0] != '\r')
            p->delimiter = d->delimiter[0];
        else
            return cli_usage_error(cmd, "--delimiter '%s' is not one byte (or 'tab')", d->delimiter);
    }
    if (d->label_col) {
        char *end;
        const char *lc = d->label_col;
        long v = strtol(lc, &end, 10);
        if (strcmp(lc, "none") == 0)
            p->label_col = -1;
        else if (strcmp(lc, "last") == 0)
            p->label_from_end = 1;
        else if (lc[0] >= '0' && lc[0] <= '9' && !*end && v <= (long)MLP_MAX_WIDTH)
            p->label_col = (int32_t)v;
        else if (lc[0] == '-' && lc[1] >= '1' && lc[1] <= '9' && !*end && v >= -(long)MLP_MAX_WIDTH)
            p->label_from_end = (int32_t)-v;
        else
            return cli_usage_error(cmd, "--label-col '%s' is not a column index (0-based, or -1 = last), 'last' or 'none'",
                                   lc);
    }
    if (d->label_col && d->label_name) return cli_usage_error(cmd, "--label-col and --label-name exclude each other");
    p->label_name = d->label_name;
    p->label_auto = !d->label_col && !d->label_name;
    if (d->task) {
        int t = mlp_task_parse(d->task);
        if (t < 0) return cli_usage_error(cmd, "--task '%s' is not auto, classify or regress", d->task);
        p->task = t;
    }
    if (d->targets && p->task == MLP_TASK_CLASSIFY) return cli_usage_error(cmd, "--targets and --task classify contradict each other");
    p->real_targets = d->targets;
    if (d->missing) {
        int m = mlp_missing_parse(d->missing);
        if (m < 0) return cli_usage_error(cmd, "--missing '%s' is not error, drop, mean or median", d->missing);
        p->missing = m;
    }
    p->categorical = d->categorical;
    if (d->unknown) {
        if (strcmp(d->unknown, "zeros") && strcmp(d->unknown, "error"))
            return cli_usage_error(cmd, "--unknown-category '%s' is not zeros or error", d->unknown);
        p->unknown_category = strcmp(d->unknown, "error") == 0;
    }
    p->x_key = d->x_key;
    p->y_key = d->y_key;
    return EXIT_OK;
}

enum mlp_status cli_load_data(struct mlp_dataset *ds, const char *x_path, const char *y_path,
                              const struct mlp_load_params *p, struct mlp_error *err)
{
    return mlp_dataset_load(ds, x_path, y_path, p, err);
}

void cli_warn_schema(const char *cmd, const struct mlp_dataset *ds)
{
    const struct mlp_schema *s = mlp_dataset_schema(ds);
    if (!s) return;
    for (uint32_t i = 0; i < mlp_schema_n_columns(s); i++) {
        struct mlp_column_info c;
        if (mlp_schema_column(s, i, &c) != MLP_OK || !c.n_unknown) continue;
        fprintf(stderr,
                "fastmlp %s: warning: column %u%s%s%s: %llu value%s of categories the model never saw, read as all zeros\n",
                cmd, i + 1, *c.name ? " '" : "", c.name, *c.name ? "'" : "", (unsigned long long)c.n_unknown,
                c.n_unknown == 1 ? "" : "s");
    }
    if (mlp_schema_rows_dropped(s))
        fprintf(stderr, "fastmlp %s: warning: %llu row%s with missing values dropped (--missing drop)\n", cmd,
                (unsigned long long)mlp_schema_rows_dropped(s), mlp_schema_rows_dropped(s) == 1 ? "" : "s");
}

const char *cli_class_name(const struct mlp_schema *s, uint32_t k, char buf[16])
{
    if (s && mlp_schema_task(s) == MLP_TASK_CLASSIFY && k < mlp_schema_n_classes(s)) return mlp_schema_class(s, k);
    snprintf(buf, 16, "%u", k);
    return buf;
}

void cli_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n;\t")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

enum mlp_status cli_regress_metrics(const struct mlp_model *m, const struct mlp_dataset *ds, double out[3],
                                    struct mlp_error *err)
{
    const uint32_t K = mlp_model_n_out(m);
    const uint64_t chunk = 4096;
    double *p = malloc(chunk * K * sizeof *p), *acc = calloc(3 * (size_t)K, sizeof *acc);
    if (!p || !acc) {
        free(p);
        free(acc);
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return err->status = MLP_ERR_NOMEM;
    }
    /* per output: the targets' mean, then the sums of squares about it and
     * of the residuals */
    double *mean = acc, *ss_tot = acc + K, *ss_res = acc + 2 * (size_t)K, sae = 0;
    for (uint64_t r = 0; r < ds->n_rows; r++)
        for (uint32_t k = 0; k < K; k++) mean[k] += ds->targets[r * K + k];
    for (uint32_t k = 0; k < K; k++) mean[k] /= ds->n_rows ? (double)ds->n_rows : 1;
    enum mlp_status st = MLP_OK;
    for (uint64_t r0 = 0; r0 < ds->n_rows && st == MLP_OK; r0 += chunk) {
        uint64_t n = ds->n_rows - r0 < chunk ? ds->n_rows - r0 : chunk;
        if ((st = mlp_model_predict(m, ds, MLP_ROWS(r0, n), p, err)) != MLP_OK) break;
        for (uint64_t i = 0; i < n; i++)
            for (uint32_t k = 0; k < K; k++) {
                double y = ds->targets[(r0 + i) * K + k], d = p[i * K + k] - y, t = y - mean[k];
                ss_res[k] += d * d;
                ss_tot[k] += t * t;
                sae += fabs(d);
            }
    }
    double res = 0, r2 = 0;
    for (uint32_t k = 0; k < K; k++) {
        res += ss_res[k];
        /* a constant target: 1 when it is predicted exactly, else 0, as
         * scikit-learn's r2_score (force_finite) */
        r2 += ss_tot[k] > 0 ? 1 - ss_res[k] / ss_tot[k] : ss_res[k] == 0 ? 1 : 0;
    }
    const double cells = (double)ds->n_rows * K;
    out[0] = cells > 0 ? res / cells : 0;
    out[1] = cells > 0 ? sae / cells : 0;
    out[2] = r2 / K;
    free(p);
    free(acc);
    return st;
}
