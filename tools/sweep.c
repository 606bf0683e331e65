/* SPDX-License-Identifier: MIT */
#include "sweep.h"

#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One "FLAG=V1,V2" of length n at s into a new dimension. */
static int parse_dim(const char *s, size_t n, const struct sweep_flag *allowed, struct sweep *sw, char *why,
                     size_t why_len)
{
    const char *eq = memchr(s, '=', n);
    if (!eq || eq == s || eq + 1 == s + n) {
        snprintf(why, why_len, "--sweep '%.*s': expected FLAG=V1,V2,... (e.g. lr=0.01,0.001)", (int)(n > 80 ? 80 : n),
                 s);
        return -1;
    }
    size_t klen = (size_t)(eq - s);
    if (klen > 2 && s[0] == '-' && s[1] == '-') s += 2, klen -= 2; /* "--lr=..." said as the flag */
    const struct sweep_flag *fl = NULL;
    for (const struct sweep_flag *a = allowed; a->name && !fl; a++)
        if (strlen(a->name) == klen && strncmp(a->name, s, klen) == 0) fl = a;
    if (!fl) {
        char names[400] = "";
        size_t k = 0;
        for (const struct sweep_flag *a = allowed; a->name && k < sizeof names; a++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", k ? " " : "", a->name);
        snprintf(why, why_len, "--sweep: '%.*s' cannot be swept (these can: %s)", (int)(klen > 40 ? 40 : klen), s,
                 names);
        return -1;
    }
    for (uint32_t d = 0; d < sw->n_dims; d++)
        if (sw->dims[d].flag == fl) {
            snprintf(why, why_len, "--sweep: %s is swept twice", fl->name);
            return -1;
        }
    if (sw->n_dims == SWEEP_MAX_DIMS) {
        snprintf(why, why_len, "--sweep: at most %u flags crossed", SWEEP_MAX_DIMS);
        return -1;
    }
    struct sweep_dim *dim = &sw->dims[sw->n_dims];
    dim->flag = fl;
    dim->n = 0;
    const char *p = eq + 1, *end = s + n;
    while (p <= end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        if (!c) c = end;
        size_t vlen = (size_t)(c - p);
        char text[64];
        if (vlen == 0 || vlen >= sizeof dim->texts[0]) {
            snprintf(why, why_len, "--sweep %s: %s", fl->name, vlen ? "a value too long" : "an empty value");
            return -1;
        }
        memcpy(text, p, vlen);
        text[vlen] = 0;
        double v;
        uint64_t u;
        const bool whole = fl->kind != SWEEP_REAL;
        bool ok = whole ? cli_parse_u64(text, &u) && u <= UINT32_MAX : cli_parse_real(text, &v);
        if (ok && whole) v = (double)u;
        if (!ok) {
            snprintf(why, why_len, "--sweep %s: '%s' is not %s", fl->name, text,
                     whole ? "a non-negative integer" : "a number");
            return -1;
        }
        if (v < fl->min) {
            snprintf(why, why_len, "--sweep %s: %s must be at least %g", fl->name, text, fl->min);
            return -1;
        }
        if (dim->n == SWEEP_MAX_VALUES) {
            snprintf(why, why_len, "--sweep %s: at most %u values", fl->name, SWEEP_MAX_VALUES);
            return -1;
        }
        for (uint32_t i = 0; i < dim->n; i++)
            if (dim->values[i] == v) {
                snprintf(why, why_len, "--sweep %s: %s is given twice (as %s)", fl->name, text, dim->texts[i]);
                return -1;
            }
        /* names carry the text as given; a '/' could not be in one, but
         * the number parsers accept none */
        dim->values[dim->n] = v;
        memcpy(dim->texts[dim->n], text, vlen + 1);
        dim->n++;
        p = c + 1;
    }
    uint64_t runs = (uint64_t)sw->n_runs * dim->n;
    if (runs > SWEEP_MAX_RUNS) {
        snprintf(why, why_len, "--sweep: %llu runs, at most %u", (unsigned long long)runs, SWEEP_MAX_RUNS);
        return -1;
    }
    sw->n_runs = (uint32_t)runs;
    sw->n_dims++;
    return 0;
}

int sweep_parse(const char *const *specs, uint32_t n_specs, const struct sweep_flag *allowed, struct sweep *sw,
                char *why, size_t why_len)
{
    memset(sw, 0, sizeof *sw);
    sw->n_runs = 1;
    for (uint32_t i = 0; i < n_specs; i++) {
        const char *s = specs[i];
        while (*s) {
            size_t skip = strspn(s, " \t;");
            s += skip;
            if (!*s) break;
            size_t n = strcspn(s, " \t;");
            if (parse_dim(s, n, allowed, sw, why, why_len)) return -1;
            s += n;
        }
    }
    if (!sw->n_dims) {
        snprintf(why, why_len, "--sweep: expected FLAG=V1,V2,... (e.g. lr=0.01,0.001)");
        return -1;
    }
    return 0;
}

uint32_t sweep_index(const struct sweep *sw, uint32_t k, uint32_t d)
{
    uint32_t stride = 1;
    for (uint32_t e = sw->n_dims; e-- > d + 1;) stride *= sw->dims[e].n;
    return k / stride % sw->dims[d].n;
}

void sweep_set(const struct sweep *sw, uint32_t k, void *opts)
{
    for (uint32_t d = 0; d < sw->n_dims; d++) {
        const struct sweep_flag *fl = sw->dims[d].flag;
        const double v = sw->dims[d].values[sweep_index(sw, k, d)];
        char *field = (char *)opts + fl->offset;
        /* whole values were parsed as 0..UINT32_MAX: they convert exactly */
        if (fl->kind == SWEEP_REAL)
            memcpy(field, &v, sizeof v);
        else if (fl->kind == SWEEP_U32)
            memcpy(field, &(uint32_t){(uint32_t)v}, sizeof(uint32_t));
        else
            memcpy(field, &(uint64_t){(uint64_t)v}, sizeof(uint64_t));
    }
}

static void put(const struct sweep *sw, uint32_t k, char *buf, size_t len, const char *sep, const char *eq)
{
    size_t n = 0;
    if (len) buf[0] = 0;
    for (uint32_t d = 0; d < sw->n_dims && n < len; d++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s%s%s", d ? sep : "", sw->dims[d].flag->name, eq,
                              sw->dims[d].texts[sweep_index(sw, k, d)]);
}

void sweep_label(const struct sweep *sw, uint32_t k, char *buf, size_t len) { put(sw, k, buf, len, " ", "="); }
void sweep_suffix(const struct sweep *sw, uint32_t k, char *buf, size_t len) { put(sw, k, buf, len, "-", ""); }

char *sweep_path(const char *path, const char *suffix, const char *ext)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) dot = base + strlen(base); /* no extension, or a dot file */
    if (!ext) ext = dot;
    size_t head = (size_t)(dot - path), n = head + strlen(suffix) + strlen(ext) + 2;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%.*s-%s%s", (int)head, path, suffix, ext);
    return out;
}
