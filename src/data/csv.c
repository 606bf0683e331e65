/* SPDX-License-Identifier: MIT */
/* CSV/TSV loader: numeric tables with an optional header row and a label
 * column, read whole into a buffer of the loader's own (a caller's buffer is
 * parsed where it lies) and parsed in parallel, on the library's thread
 * pool, straight into the data set's one block (uint8 when every input is an
 * integer in 0..255, f64 otherwise).  Numbers read exactly as strtod reads
 * them in the C locale, whatever the process locale is.  A file with text
 * or missing values goes to the table reader (table.c), which reads its
 * fields with this file's reader and shares its label helpers; csv_load.c
 * holds the entry points above both; the state they share is in
 * csv_impl.h. */
#include "context/context.h"
#include "data/csv_impl.h"
#include "data/schema.h"
#include "internal.h"

#include "core/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * How a load runs:
 *   1. read the file whole with pread() into one buffer of the loader's own
 *      (read() for pipes and the like), checking that it did not change
 *      meanwhile (mlp_dataset_load_csv_mem starts here with the caller's
 *      bytes); skip a UTF-8 BOM, drop the line ends that close the file;
 *   2. read the first record alone: it gives the delimiter (when not given),
 *      whether it is a header, and the field count every row must have,
 *      which is checked against the caller's n_cols before any row is read;
 *   3. cut the data into one range per thread at line ends and count each
 *      range's records, the ranges being tasks of the library's pool (a file
 *      holding a '"' is read by one thread: a cut could fall inside a quoted
 *      field);
 *   4. allocate the data set's one block, uint8 when the first data row says
 *      so, and let each thread parse its range into its own rows.  If a
 *      thread meets an input that is not an integer in 0..255, every thread
 *      stops and the whole parse runs again into an f64 block.
 * Memory: the block, the file's bytes (anonymous memory of the file's size,
 * where a mapping used to share the page cache), and per-thread buffers of
 * 2 x 4 KiB.
 * Every thread stops at its first error; the error nearest the start of the
 * file is reported, so results and messages do not depend on the threads.
 *
 * Why the file is read and not mapped: when another process truncates a
 * mapped file, the next touch of a page past the new end raises SIGBUS and
 * kills the process (`fastmlp eval m.mlp big.csv & truncate -s 5000000
 * big.csv` did).  MAP_POPULATE does not prevent it: truncation removes the
 * page-cache pages from every mapping.  Catching SIGBUS in a library would
 * take a process-wide signal handler, shared with the caller's program, and
 * per-thread jump buffers for the parse threads.  read() reports a shrunken
 * file as a short count instead: the loader reads exactly the size fstat
 * gave at open, then fstats again, and a short read or a size or time that
 * moved is MLP_ERR_IO "file changed while reading".  The price is the copy
 * and a fresh buffer of the file's size (see csv_open for what it costs).
 */

/* Files below this size are parsed by one thread; each thread gets at least
 * CSV_MIN_RANGE bytes.  (A fuzzing build may lower both to split tiny
 * inputs.) */
#ifndef CSV_PARALLEL_MIN
#define CSV_PARALLEL_MIN (1u << 20)
#endif
#ifndef CSV_MIN_RANGE
#define CSV_MIN_RANGE (1u << 19)
#endif
#define CSV_MAX_THREADS 64
/* Streams (pipes, devices): the most one may hold, and the first buffer. */
#define CSV_STREAM_MAX ((size_t)1 << 32)
#define CSV_READ_FIRST (1u << 16)
/* Regular files are read in pieces of this size, by up to CSV_READ_THREADS
 * threads (one per piece at most): the copy out of the page cache and the
 * zeroing of fresh pages run at memory bandwidth, which a few threads use up
 * (2 threads took W7's 22 MB from 4.0-5.0 to 2.6-3.2 ms on the 2-core VM). */
#define CSV_READ_CHUNK ((size_t)1 << 23)
#ifndef CSV_READ_THREADS
#define CSV_READ_THREADS 4
#endif

/* --------------------------------------------------------------- errors */

enum mlp_status mlp__csv_ce_set(struct csv_err *ce, enum mlp_status st, const unsigned char *at,
                                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ce->what, sizeof ce->what, fmt, ap);
    va_end(ap);
    ce->st = st;
    ce->at = at;
    return st;
}

/* "FILE: what" for failures without a position. */
enum mlp_status mlp__csv_fail(const struct csv *c, struct mlp_error *err, enum mlp_status st,
                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum mlp_status r = mlp__vfail_file(err, st, c->name, fmt, ap);
    va_end(ap);
    return r;
}

/* Line (1-based, physical: a line end inside a quoted field counts) and
 * column (1-based, in bytes) of `at`.  Only run for a message. */
static void line_col(const struct csv *c, const unsigned char *at, uint64_t *line, uint64_t *col)
{
    const unsigned char *p = c->text, *ls = c->text, *fend = c->buf + c->size;
    uint64_t n = 1;
    if (at < p) at = p;
    for (; p < at; p++) {
        if (*p == '\n' || (*p == '\r' && !(p + 1 < fend && p[1] == '\n'))) {
            n++;
            ls = p + 1;
        }
    }
    *line = n;
    *col = (uint64_t)(at - ls) + 1;
}

/* "FILE:LINE:COL: what" from a parse error. */
enum mlp_status mlp__csv_fail_at(const struct csv *c, struct mlp_error *err, const struct csv_err *ce)
{
    if (!err) return ce->st;
    uint64_t line, col;
    line_col(c, ce->at, &line, &col);
    const char *ell;
    const char *name = mlp__short_path(c->name, &ell);
    return mlp__fail(err, ce->st, "%s%s:%" PRIu64 ":%" PRIu64 ": %s", ell, name, line, col, ce->what);
}

/* A token for a message: at most 32 bytes, non-printable bytes as \xNN. */
const char *mlp__csv_tok_show(char out[160], const unsigned char *s, size_t n)
{
    size_t k = 0, shown = n > 32 ? 32 : n;
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            out[k++] = (char)ch;
        else
            k += (size_t)snprintf(out + k, 5, "\\x%02x", ch);
    }
    if (shown < n) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = 0;
    return out;
}

/* -------------------------------------------------------------- numbers */

enum num_res { NUM_OK, NUM_BAD, NUM_RANGE, NUM_LONG };

static const double csv_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

CSV_INLINE bool is_digit(unsigned char ch) { return (unsigned)(ch - '0') < 10u; }

/* The rare numbers: strtod in the C locale on a NUL-terminated copy. */
CSV_NOINLINE enum num_res num_strtod(const unsigned char *s, size_t len, locale_t loc, char *tmp,
                                     double *out)
{
    memcpy(tmp, s, len);
    tmp[len] = 0;
    int saved = errno;
    locale_t old = uselocale(loc);
    char *ep;
    double v = strtod(tmp, &ep);
    if (old != (locale_t)0) uselocale(old);
    errno = saved;
    if (ep != tmp + len) return NUM_BAD; /* cannot happen: the grammar is a subset of strtod's */
    if (isinf(v)) return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

/*
 * The longest prefix of [s, end) in the grammar
 *     [+-]? ( D+ ('.' D*)? | '.' D+ ) ( [eE] [+-]? D+ )?
 * (strtod's decimal numbers: no nan, inf or hex), its end in *stop and its
 * value in *out.  The value is exactly strtod's in the C locale: up to 19
 * significant digits m and a power of ten |e| <= 22 with m <= 2^53 are both
 * exact doubles, so one IEEE multiply or divide rounds m * 10^e correctly
 * (Clinger's fast path); anything else goes to strtod.
 */
CSV_INLINE enum num_res num_parse(const unsigned char *s, const unsigned char *end, locale_t loc,
                                  char *tmp, double *out, const unsigned char **stop)
{
    const unsigned char *lim = (size_t)(end - s) > CSV_MAX_TOKEN ? s + CSV_MAX_TOKEN + 1 : end;
    const unsigned char *p = s;
    bool neg = false, exact = true;
    if (p < lim && (*p == '+' || *p == '-')) {
        neg = *p == '-';
        p++;
    }
    uint64_t m = 0;
    int nd = 0;          /* significant digits in m */
    long e10 = 0;        /* value = m * 10^e10 while exact */
    size_t ndig = 0;     /* all mantissa digits */
    for (; p < lim && is_digit(*p); p++, ndig++) {
        if (nd < 19) {
            m = m * 10 + (unsigned)(*p - '0');
            if (m) nd++;
        } else {
            exact = false;
        }
    }
    if (p < lim && *p == '.') {
        p++;
        for (; p < lim && is_digit(*p); p++, ndig++) {
            if (nd < 19) {
                m = m * 10 + (unsigned)(*p - '0');
                if (m) nd++;
                e10--;
            } else {
                exact = false;
            }
        }
    }
    if (ndig == 0) {
        *stop = s;
        return NUM_BAD;
    }
    if (p < lim && (*p == 'e' || *p == 'E')) {
        const unsigned char *t = p + 1;
        bool eneg = false;
        if (t < lim && (*t == '+' || *t == '-')) {
            eneg = *t == '-';
            t++;
        }
        if (t < lim && is_digit(*t)) {
            long ex = 0;
            for (; t < lim && is_digit(*t); t++)
                if (ex < 100000) ex = ex * 10 + (*t - '0');
            e10 += eneg ? -ex : ex;
            p = t;
        }
    }
    *stop = p;
    if ((size_t)(p - s) > CSV_MAX_TOKEN) return NUM_LONG;
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    if (exact) {
        if (m == 0) {
            *out = neg ? -0.0 : 0.0;
            return NUM_OK;
        }
        if (m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
            double v = (double)m;
            v = e10 >= 0 ? v * csv_pow10[e10] : v / csv_pow10[-e10];
            *out = neg ? -v : v;
            return NUM_OK;
        }
    }
#else
    (void)exact;
#endif
    return num_strtod(s, (size_t)(p - s), loc, tmp, out);
}

/* --------------------------------------------------------------- fields */

CSV_INLINE bool is_blank(unsigned char ch, unsigned char delim)
{
    return (ch == ' ' || ch == '\t') && ch != delim;
}

/*
 * Read the field starting at p (general path: blanks, RFC 4180 quotes, every
 * error).  A quoted field's content is unescaped into buf (CSV_MAX_TOKEN
 * bytes).  Returns MLP_OK or the error in *ce.
 */
enum mlp_status mlp__csv_field_scan(const struct csv *c, const unsigned char *p, const unsigned char *end,
                                    unsigned char *buf, struct csv_field *f, struct csv_err *ce)
{
    const unsigned char d = c->delim, *const field = p;
    while (p < end && is_blank(*p, d)) p++;
    if (p < end && *p == '"') {
        const unsigned char *open = p++;
        size_t n = 0;
        for (;;) {
            if (p >= end)
                return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, open,
                                       "unterminated quote: the quoted field opened here runs to the end of the file");
            unsigned char ch = *p;
            if (ch == '"') {
                if (p + 1 < end && p[1] == '"') {
                    p++;
                } else {
                    p++;
                    break;
                }
            } else if (ch == 0) {
                return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, p, "NUL byte at byte offset %zu (not a text file?)",
                                       (size_t)(p - c->buf));
            }
            if (n == CSV_MAX_TOKEN)
                return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, open,
                                       "token too long: the quoted field opened here runs past %u bytes "
                                       "(unterminated quote?)",
                                       CSV_MAX_TOKEN);
            buf[n++] = ch;
            p++;
        }
        f->s = buf;
        f->e = buf + n;
        f->at = open;
        while (p < end && is_blank(*p, d)) p++;
        if (p < end && *p != d && !is_eol(*p)) {
            if (*p == 0)
                return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, p, "NUL byte at byte offset %zu (not a text file?)",
                                       (size_t)(p - c->buf));
            char show[160];
            return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, p,
                                   "unexpected '%s' after a closing quote (expected a delimiter or the end of the line)",
                                   mlp__csv_tok_show(show, p, 1));
        }
        f->next = p;
        return MLP_OK;
    }
    const unsigned char *s = p;
    for (; p < end && *p != d && !is_eol(*p); p++) {
        if (*p == '"')
            return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, p,
                                   "unexpected '\"' inside an unquoted field (RFC 4180: quote the whole field, "
                                   "and double the quotes inside it)");
        if (*p == 0)
            return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, p, "NUL byte at byte offset %zu (not a text file?)",
                                   (size_t)(p - c->buf));
        if ((size_t)(p - s) >= CSV_MAX_TOKEN)
            return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, s, "token too long: more than %u bytes (expected a number)",
                                   CSV_MAX_TOKEN);
    }
    f->next = p;
    while (p > s && is_blank(p[-1], d)) p--;
    f->at = p > s ? s : field; /* an empty field is shown where it starts */
    f->s = s;
    f->e = p;
    return MLP_OK;
}

/* The number a whole field holds, or the error saying why it is none. */
static enum mlp_status field_value(const struct csv *c, const struct csv_field *f, char *tmp, double *v,
                                   struct csv_err *ce)
{
    char show[160];
    if (f->s == f->e) return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, f->at, "empty field (expected a number, got '')");
    const unsigned char *q;
    enum num_res r = num_parse(f->s, f->e, c->cloc, tmp, v, &q);
    if (r == NUM_OK && q == f->e) return MLP_OK;
    if (r == NUM_LONG)
        return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, f->at, "token too long: more than %u bytes (expected a number)",
                               CSV_MAX_TOKEN);
    if (r == NUM_RANGE && q == f->e)
        return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, f->at, "number out of range (expected a finite double, got '%s')",
                               mlp__csv_tok_show(show, f->s, (size_t)(f->e - f->s)));
    return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, f->at, "invalid number (expected a number, got '%s')",
                           mlp__csv_tok_show(show, f->s, (size_t)(f->e - f->s)));
}

/* After the delimiter at q: how many more fields the line has (for the
 * ragged-row message; stops counting at an error or past 2^32). */
static uint64_t fields_left(const struct csv *c, const unsigned char *q, const unsigned char *end,
                            unsigned char *buf, bool *exact)
{
    uint64_t n = 0;
    struct csv_field f;
    struct csv_err ce;
    *exact = true;
    while (q < end && *q == c->delim) {
        if (mlp__csv_field_scan(c, q + 1, end, buf, &f, &ce) != MLP_OK || n > UINT32_MAX) {
            *exact = false;
            return n + 1;
        }
        n++;
        q = f.next;
    }
    return n;
}

/* ------------------------------------------------------------- the parse */

/* Both the fast and the general path end a field here: which row or line
 * comes next.  Returns false (error set) on a ragged row. */
CSV_INLINE bool field_end(struct csv_job *j, uint32_t f, const unsigned char *q, const unsigned char *end,
                          const unsigned char **next)
{
    const struct csv *c = j->c;
    const uint32_t nf = c->n_fields;
    if (f + 1 < nf) {
        if (CSV_LIKELY(q < end && *q == c->delim)) {
            *next = q + 1;
            return true;
        }
        mlp__csv_ce_set(&j->err, MLP_ERR_FORMAT, q, "ragged row: expected %" PRIu32 " fields (as in %s), got %" PRIu32,
                        nf, c->fields_from, f + 1);
        return false;
    }
    if (CSV_LIKELY(q >= end || *q != c->delim)) {
        /* q is at a line end (the field reader stops nowhere else) */
        if (q < end && *q++ == '\r' && q < end && *q == '\n') q++;
        *next = q;
        return true;
    }
    bool exact;
    uint64_t more = fields_left(c, q, end, j->field, &exact);
    mlp__csv_ce_set(&j->err, MLP_ERR_FORMAT, q + 1, "ragged row: expected %" PRIu32 " fields (as in %s), got %s%" PRIu64,
                    nf, c->fields_from, exact ? "" : "at least ", (uint64_t)nf + more);
    return false;
}

/* field_end for the table reader (table.c): parse_range keeps the inlined one. */
bool mlp__csv_field_end(struct csv_job *j, uint32_t f, const unsigned char *q, const unsigned char *end,
                        const unsigned char **next)
{
    return field_end(j, f, q, end, next);
}

/* How a parse stores: inputs as uint8 (the job stops, not_u8 set, at the
 * first input that is not 0..255), as f64, or not at all (only checks). */
enum csv_mode { CSV_U8, CSV_F64, CSV_CHECK };

/* Parse the job's records into its rows. */
CSV_INLINE void parse_range(struct csv_job *j, const enum csv_mode mode)
{
    const bool u8 = mode == CSV_U8, store = mode != CSV_CHECK;
    const struct csv *c = j->c;
    const unsigned char *p = j->begin, *const end = j->end;
    const unsigned char d = c->delim;
    const uint32_t nf = c->n_fields;
    const int64_t lc = c->label;
    const size_t n_cols = nf - (lc >= 0 ? 1u : 0u);
    uint64_t row = j->row0;
    const uint64_t row_end = j->row0 + j->n_rows;

    while (p < end) {
        if (CSV_UNLIKELY(row == row_end)) {
            /* The count and the parse read records alike; guard anyway. */
            mlp__csv_ce_set(&j->err, MLP_ERR_FORMAT, p, "internal error: more records than counted (%" PRIu64 ")",
                            j->n_rows);
            return;
        }
        if (CSV_UNLIKELY(is_eol(*p))) {
            mlp__csv_ce_set(&j->err, MLP_ERR_FORMAT, p,
                            "ragged row: expected %" PRIu32 " fields (as in %s), got a blank line", nf, c->fields_from);
            return;
        }
        if (store && atomic_load_explicit(j->stop_u8, memory_order_relaxed)) return;
        uint8_t *x8 = mode == CSV_U8 ? (uint8_t *)j->x + row * n_cols : NULL;
        double *x64 = mode == CSV_F64 ? (double *)j->x + row * n_cols : NULL;
        for (uint32_t f = 0; f < nf; f++) {
            const unsigned char *q = p;
            uint64_t m = 0;
            double v = 0;
            bool is_int;
            /* Fast path: up to 19 plain digits, then a delimiter or line end. */
            while (q < end && is_digit(*q)) m = m * 10 + (unsigned)(*q++ - '0');
            if (CSV_LIKELY(q > p && q - p <= 19 && (q >= end || *q == d || is_eol(*q)))) {
                is_int = true;
            } else {
                is_int = false;
                enum num_res r = num_parse(p, end, c->cloc, j->num, &v, &q);
                if (r != NUM_OK || !(q >= end || *q == d || is_eol(*q))) {
                    /* General path: blanks, quotes, and every error. */
                    struct csv_field fl;
                    if (mlp__csv_field_scan(c, p, end, j->field, &fl, &j->err) != MLP_OK) return;
                    if (field_value(c, &fl, j->num, &v, &j->err) != MLP_OK) {
                        /* Text or a missing value: the table reader takes
                         * the whole file (and reports what it cannot read). */
                        j->err.st = MLP_OK;
                        j->not_num = true;
                        atomic_store_explicit(j->stop_u8, 1, memory_order_relaxed);
                        return;
                    }
                    q = fl.next;
                }
            }
            if (CSV_UNLIKELY((int64_t)f == lc)) {
                /* classes or targets are decided once every row is read */
                if (store) j->y[row] = is_int ? (double)m : v;
            } else if (u8) {
                if (CSV_LIKELY(is_int && m <= 255)) {
                    *x8++ = (uint8_t)m;
                } else if (!is_int && v >= 0 && v <= 255 && (double)(uint8_t)v == v) {
                    *x8++ = (uint8_t)v;
                } else {
                    j->not_u8 = true;
                    atomic_store_explicit(j->stop_u8, 1, memory_order_relaxed);
                    return;
                }
            } else if (store) {
                *x64++ = is_int ? (double)m : v;
            }
            if (CSV_UNLIKELY(!field_end(j, f, q, end, &p))) return;
        }
        row++;
    }
    if (row != row_end)
        mlp__csv_ce_set(&j->err, MLP_ERR_FORMAT, end, "internal error: %" PRIu64 " records, %" PRIu64 " counted",
                        row - j->row0, j->n_rows);
}

static void job_parse_u8(struct csv_job *j) { parse_range(j, CSV_U8); }
static void job_parse_f64(struct csv_job *j) { parse_range(j, CSV_F64); }
static void job_check(struct csv_job *j) { parse_range(j, CSV_CHECK); }

/* ---------------------------------------------------------- counting rows */

/* 0x80 in every byte of w that equals b (exact: no false positives). */
static inline uint64_t bytes_eq(uint64_t w, unsigned char b)
{
    const uint64_t lo7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
    uint64_t x = w ^ (UINT64_C(0x0101010101010101) * b);
    return ~(((x & lo7) + lo7) | x | lo7);
}

static inline unsigned popcount64(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_popcountll(x);
#else
    unsigned n = 0;
    for (; x; x &= x - 1) n++;
    return n;
#endif
}

/* Records of an unquoted range: its LFs, its CRs not followed by an LF, and
 * the file's last line when the range holds it (the file's final line ends
 * were dropped).  Also notes whether the range holds '"' or CR at all. */
static void job_count(struct csv_job *j)
{
    const unsigned char *p = j->begin, *const end = j->end;
    uint64_t n = 0, cr = 0, quote = 0;
    for (; end - p >= 32; p += 32) {
        uint64_t w[4];
        memcpy(w, p, 32);
        uint64_t lf = 0;
        for (int k = 0; k < 4; k++) {
            lf += popcount64(bytes_eq(w[k], '\n'));
            cr |= bytes_eq(w[k], '\r');
            quote |= bytes_eq(w[k], '"');
        }
        n += lf;
    }
    for (; p < end; p++) {
        n += *p == '\n';
        cr |= *p == '\r';
        quote |= *p == '"';
    }
    j->has_cr = cr != 0;
    j->has_quote = quote != 0;
    if (j->has_cr) {
        const unsigned char *fend = j->c->end;
        for (p = j->begin; (p = memchr(p, '\r', (size_t)(end - p))) != NULL; p++)
            if (!(p + 1 < fend && p[1] == '\n')) n++;
    }
    j->n_rows = n + (j->end == j->c->end && j->begin < j->end);
}

/* Records of the whole data when it holds quotes: a line end inside a
 * quoted field does not end a record.  (This toggling agrees with the
 * parser up to the parser's first error, which is all that is needed.) */
static uint64_t count_quoted(const unsigned char *p, const unsigned char *end)
{
    uint64_t n = 0;
    bool in_q = false;
    for (; p < end; p++) {
        unsigned char ch = *p;
        if (ch == '"') {
            in_q = !in_q;
        } else if (!in_q && ch == '\n') {
            n++;
        } else if (!in_q && ch == '\r') {
            n++;
            if (p + 1 < end && p[1] == '\n') p++;
        }
    }
    return n + 1; /* the last record has no line end */
}

/* The start of the line after the one holding p (end when none). */
static const unsigned char *next_line(const unsigned char *p, const unsigned char *end)
{
    for (; p < end; p++) {
        if (*p == '\n') return p + 1;
        if (*p == '\r') return p + 1 < end && p[1] == '\n' ? p + 2 : p + 1;
    }
    return end;
}

/* Run fn over the jobs on the library's thread pool: job i is task i, so
 * which thread parses which range never matters to the result (and when the
 * pool is busy, the jobs run one after the other on this thread). */
struct csv_run {
    struct csv_job *jobs;
    void (*fn)(struct csv_job *);
};

static void run_task(void *ctx, uint32_t task)
{
    const struct csv_run *r = ctx;
    r->fn(&r->jobs[task]);
}

static void run_jobs(struct mlp_pool *pool, struct csv_job *jobs, unsigned n, void (*fn)(struct csv_job *))
{
    struct csv_run r = {jobs, fn};
    mlp__pool_for(pool, n, run_task, &r);
}

/* ------------------------------------------------------ file and header */

/* A regular file is read, not mapped (see the top of this file for why), by
 * up to CSV_READ_THREADS pool tasks, each pread()ing its share in large
 * pieces. */

/* One reader's share of a regular file: bytes [lo, hi) into buf + lo. */
struct csv_read {
    int fd;
    unsigned char *buf;
    size_t lo, hi, got; /* got < hi - lo: the file ended early, or errno_ */
    int errno_;
};

static void read_range(void *ctx, uint32_t task)
{
    struct csv_read *r = (struct csv_read *)ctx + task;
    size_t n = r->lo;
    while (n < r->hi) {
        size_t want = r->hi - n < CSV_READ_CHUNK ? r->hi - n : CSV_READ_CHUNK;
        ssize_t k = pread(r->fd, r->buf + n, want, (off_t)n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            r->errno_ = k < 0 ? errno : 0;
            break;
        }
        n += (size_t)k;
    }
    r->got = n - r->lo;
}

enum mlp_status mlp__csv_read_regular(struct mlp_pool *pool, int fd, const char *path, const struct stat *at_open,
                                      unsigned char *buf, unsigned threads, struct mlp_error *err)
{
    size_t size = (size_t)at_open->st_size;
    unsigned n = CSV_READ_THREADS;
    if (threads < n) n = threads;
    if (n > size / CSV_READ_CHUNK) n = (unsigned)(size / CSV_READ_CHUNK);
    if (n < 1) n = 1;
    struct csv_read r[CSV_READ_THREADS];
    for (unsigned i = 0; i < n; i++)
        r[i] = (struct csv_read){fd, buf, size / n * i, i + 1 == n ? size : size / n * (i + 1), 0, 0};
    mlp__pool_for(pool, n, read_range, r);
    for (unsigned i = 0; i < n; i++)
        if (r[i].errno_)
            return mlp__fail_file(err, MLP_ERR_IO, path, "read error at byte %zu: %s", r[i].lo + r[i].got,
                                  strerror(r[i].errno_));
    enum mlp_status st = mlp__file_changed(fd, path, at_open, err);
    for (unsigned i = 0; i < n && st == MLP_OK; i++)
        if (r[i].got < r[i].hi - r[i].lo)
            st = mlp__fail_file(err, MLP_ERR_IO, path,
                                "file changed while reading (%zu bytes at open, but byte %zu could not be read)", size,
                                r[i].lo + r[i].got);
    return st;
}

/* Read the file whole: a regular file through mlp__csv_read_regular, and
 * anything else (a pipe, a device, an empty /proc file) as a stream. */
enum mlp_status mlp__csv_open(struct csv *c, unsigned threads, struct mlp_error *err)
{
    struct stat sb;
    int flags = O_RDONLY;
#ifdef O_CLOEXEC
    flags |= O_CLOEXEC;
#endif
    c->fd = open(c->name, flags);
    if (c->fd < 0) return mlp__csv_fail(c, err, MLP_ERR_OPEN, "cannot open: %s", strerror(errno));
    if (fstat(c->fd, &sb) != 0) return mlp__csv_fail(c, err, MLP_ERR_IO, "cannot stat: %s", strerror(errno));
    if (S_ISDIR(sb.st_mode)) return mlp__csv_fail(c, err, MLP_ERR_OPEN, "cannot open: is a directory");
    if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
        /* The text is held whole (and the data set beside it): a file
         * larger than the machine's memory is refused now, not by the OOM
         * killer after minutes of reading. */
        if ((uint64_t)sb.st_size > SIZE_MAX / 2 || (uint64_t)sb.st_size > mlp__mem_bound())
            return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "file of %lld bytes is larger than this machine's memory",
                                 (long long)sb.st_size);
        c->size = (size_t)sb.st_size;
        /* Fresh 4 KiB pages cost a fault and a zeroing each: for W7's 22 MB,
         * 14-18 ms read into malloc'd memory against 4.0-5.0 ms into 2 MiB
         * pages (mlp__big_alloc) and 1.2-1.6 ms to touch a mapping of the
         * page cache as the loader used to (one thread, best of 30 each). */
        c->buf = c->own = mlp__big_alloc(c->size, false, &c->own_mapped);
        if (!c->own) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory: %zu bytes to read the file into", c->size);
        return mlp__csv_read_regular(c->pool, c->fd, c->name, &sb, c->own, threads, err);
    }
    /* read() into one growing buffer: the file is held once.  A stream has no
     * size to check up front, so it is capped, and a NUL byte (never in CSV
     * text: /dev/zero, a binary pipe) stops it at once. */
    size_t cap = 0, n = 0;
    for (;;) {
        if (n >= CSV_STREAM_MAX)
            return mlp__csv_fail(c, err, MLP_ERR_FORMAT, "input stream longer than %llu bytes: save it to a file",
                                 (unsigned long long)CSV_STREAM_MAX);
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : CSV_READ_FIRST;
            unsigned char *nb = ncap > cap ? realloc(c->own, ncap) : NULL;
            if (!nb) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory reading %zu bytes", n);
            c->buf = c->own = nb;
            cap = ncap;
        }
        ssize_t r = read(c->fd, c->own + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return mlp__csv_fail(c, err, MLP_ERR_IO, "read error at byte %zu: %s", n, strerror(errno));
        if (r == 0) break;
        const unsigned char *nul = memchr(c->own + n, 0, (size_t)r);
        if (nul) return mlp__csv_fail(c, err, MLP_ERR_FORMAT, "NUL byte at byte offset %zu", (size_t)(nul - c->own));
        n += (size_t)r;
    }
    c->size = n;
    return MLP_OK;
}

void mlp__csv_close(struct csv *c)
{
    if (c->own) mlp__big_free(c->own, c->size, c->own_mapped); /* a stream's realloc'd one too: mlp__afree is free */
    if (c->fd >= 0) close(c->fd);
    if (c->cloc != (locale_t)0) freelocale(c->cloc);
    for (uint32_t i = 0; c->names && i < c->n_fields; i++) free(c->names[i]);
    free(c->names);
    free(c->forced);
}

/* The delimiter of the first line: the most frequent of , ; and tab outside
 * quotes (',' on a tie or when none occurs: a one-column file). */
static unsigned char detect_delim(const unsigned char *p, const unsigned char *end)
{
    uint64_t comma = 0, semi = 0, tab = 0;
    bool in_q = false;
    for (; p < end; p++) {
        if (*p == '"') in_q = !in_q;
        if (in_q) continue;
        if (is_eol(*p)) break;
        comma += *p == ',';
        semi += *p == ';';
        tab += *p == '\t';
    }
    if (tab > comma && tab >= semi) return '\t';
    if (semi > comma && semi > tab) return ';';
    return ',';
}

/* ------------------------------------------------------- kinds of fields */

static bool is_missing(const unsigned char *s, size_t n) { return mlp__missing_word((const char *)s, n); }

/* The kind of field f and, for a number, its value; a number out of range
 * or too long is an error (*ce set, MLP_ERR_FORMAT returned). */
enum mlp_status mlp__csv_cell_of(const struct csv *c, const struct csv_field *f, char *tmp, enum cell *k, double *v,
                                 struct csv_err *ce)
{
    size_t n = (size_t)(f->e - f->s);
    if (is_missing(f->s, n)) {
        *k = CELL_MISSING;
        *v = NAN;
        return MLP_OK;
    }
    const unsigned char *q;
    enum num_res r = num_parse(f->s, f->e, c->cloc, tmp, v, &q);
    if (r == NUM_OK && q == f->e) {
        *k = CELL_NUM;
        return MLP_OK;
    }
    if ((r == NUM_RANGE || r == NUM_LONG) && q == f->e) return field_value(c, f, tmp, v, ce);
    *k = CELL_TEXT;
    *v = NAN;
    return MLP_OK;
}

/* Walk one record from p: its field count (an error past max) and, when
 * kinds is not NULL, the kind and value of each of its first `room` fields.
 * *next: where the next record starts. */
static enum mlp_status scan_record(struct csv *c, struct csv_job *scratch, const unsigned char *p, uint64_t max,
                                   uint32_t room, unsigned char *kinds, double *vals, uint64_t *n_fields,
                                   const unsigned char **next, struct csv_err *ce)
{
    uint64_t n = 0;
    if (p < c->end && is_eol(*p))
        return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, p, "blank line (expected the header or the first data row)");
    for (;;) {
        struct csv_field f;
        enum mlp_status st = mlp__csv_field_scan(c, p, c->end, scratch->field, &f, ce);
        if (st != MLP_OK) return st;
        if (kinds && n < room) {
            enum cell k;
            double v;
            struct csv_err ignore;
            /* a number out of range is a number to tell a header by; the
             * parse reports it */
            if (mlp__csv_cell_of(c, &f, scratch->num, &k, &v, &ignore) != MLP_OK) k = CELL_NUM;
            kinds[n] = (unsigned char)k;
            vals[n] = v;
        }
        if (++n > max)
            return mlp__csv_ce_set(ce, MLP_ERR_FORMAT, f.at, "too many fields: more than %" PRIu64 " in one row", max);
        p = f.next;
        if (p < c->end && *p == c->delim) {
            p++;
            continue;
        }
        break;
    }
    *next = next_line(p, c->end);
    *n_fields = n;
    return MLP_OK;
}

/* The header's fields (blanks trimmed, quotes undone), malloc'd; NULL when
 * out of memory. */
static char **header_names(struct csv *c, struct csv_job *scratch)
{
    char **names = calloc(c->n_fields, sizeof *names);
    const unsigned char *p = c->text;
    struct csv_field f;
    struct csv_err ce;
    for (uint32_t i = 0; names && i < c->n_fields; i++) {
        if (mlp__csv_field_scan(c, p, c->end, scratch->field, &f, &ce) != MLP_OK) break; /* read once already */
        size_t n = (size_t)(f.e - f.s);
        if (!(names[i] = malloc(n + 1))) {
            for (uint32_t k = 0; k < i; k++) free(names[k]);
            free(names);
            return NULL;
        }
        memcpy(names[i], f.s, n);
        names[i][n] = 0;
        p = f.next + 1;
    }
    return names;
}

static void free_names(char **names, uint32_t n)
{
    for (uint32_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

/* ------------------------------------------------------- labels, schema */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The distinct values of v[0..n) in increasing order, into a new array
 * (*out, *n_out); false when out of memory. */
bool mlp__csv_distinct(const double *v, uint64_t n, double **out, uint64_t *n_out)
{
    double *u = malloc((n ? n : 1) * sizeof *u);
    if (!u) return false;
    memcpy(u, v, n * sizeof *u);
    qsort(u, n, sizeof *u, cmp_double);
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++)
        if (k == 0 || u[i] != u[k - 1]) u[k++] = u[i];
    *out = u;
    *n_out = k;
    return true;
}

/* The task of a label column holding numbers only (MLP_TASK_AUTO's rule,
 * fastmlp.h): any non-integer, or more than 50 distinct integers and more
 * than sqrt(rows) of them, is regression. */
enum mlp_task mlp__csv_auto_task(const double *u, uint64_t n_distinct, uint64_t n_rows)
{
    for (uint64_t i = 0; i < n_distinct; i++)
        if (u[i] != floor(u[i])) return MLP_TASK_REGRESS;
    if (n_distinct > 50 && (double)n_distinct > sqrt((double)n_rows)) return MLP_TASK_REGRESS;
    return MLP_TASK_CLASSIFY;
}

/* Classes named after the numbers u[0..n) (sorted, distinct) into l. */
bool mlp__csv_number_names(struct mlp__names *l, const double *u, uint64_t n)
{
    char **name = malloc((n ? n : 1) * sizeof *name);
    double *num = malloc((n ? n : 1) * sizeof *num);
    bool ok = name && num;
    uint64_t k = 0;
    for (; ok && k < n; k++) {
        char nm[32];
        mlp__num_name(u[k], nm);
        if (!(name[k] = strdup(nm))) ok = false;
        num[k] = u[k];
    }
    if (!ok) {
        for (uint64_t i = 0; name && i < k; i++) free(name[i]);
        free(name);
        free(num);
        return false;
    }
    ok = mlp__names_build(l, name, num, (uint32_t)n, NULL);
    free(name);
    free(num);
    return ok;
}

/* A message's list of classes: "a, b, c" (the first few). */
void mlp__csv_class_list(const struct mlp__names *l, char *buf, size_t len)
{
    size_t k = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < l->n && k + 8 < len; i++) {
        int w = snprintf(buf + k, len - k, "%s%s", i ? ", " : "", i < 8 ? l->name[i] : "...");
        if (w < 0) break;
        k += (size_t)w;
        if (i == 8) break;
    }
}

double mlp__csv_fill_value(double *v, uint64_t k, enum mlp_missing how)
{
    if (k == 0) return 0;
    if (how == MLP_MISSING_MEAN) {
        double s = 0;
        for (uint64_t i = 0; i < k; i++) s += v[i];
        return s / (double)k;
    }
    qsort(v, k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* ------------------------------------------------------------ the loader */


enum mlp_status mlp__csv_start(struct csv *c, const char *name, const struct mlp_load_params *p,
                                 struct csv_opts *o, struct mlp_error *err)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->fd = -1;
    c->apply = p ? p->schema : NULL;
    c->apply_skip = -1;
    c->task = p ? (p->real_targets ? MLP_TASK_REGRESS : (enum mlp_task)p->task) : MLP_TASK_AUTO;
    c->missing = p ? (enum mlp_missing)p->missing : MLP_MISSING_ERROR;
    c->unknown_error = p && p->unknown_category;
    o->header = p ? p->header : -1;
    o->delim = p ? p->delimiter : 0;
    o->label_col = p ? p->label_col : 0;
    o->label_name = p ? p->label_name : NULL;
    o->label_from_end = p ? p->label_from_end : 0;
    o->label_auto = p && p->label_auto;
    o->categorical = p ? p->categorical : NULL;
    o->want_cols = p ? p->n_cols : 0;
    o->shard = (struct mlp_load_params){0};
    if (p) {
        o->shard.shard_index = p->shard_index;
        o->shard.shard_count = p->shard_count;
    }
    /* Ranges as asked, else one per thread of the library's pool; the pool
     * runs them on however many threads it has, with the same result. */
    const struct mlp_context *cx = mlp__ctx(p ? p->ctx : NULL);
    c->pool = cx->pool;
    int threads = p ? p->threads : 0;
    if (threads <= 0) threads = cx->threads;
    o->jobs = threads > CSV_MAX_THREADS ? CSV_MAX_THREADS : (unsigned)threads;

    if (o->label_col < -1)
        return mlp__csv_fail(c, err, MLP_ERR_ARG, "label column %" PRId32 " (expected -1 for none, or 0 and up)",
                             o->label_col);
    if (o->label_from_end < 0)
        return mlp__csv_fail(c, err, MLP_ERR_ARG, "label column %" PRId32 " from the end (expected 1 and up)",
                             o->label_from_end);
    if ((unsigned)c->task >= MLP_TASK_COUNT) return mlp__csv_fail(c, err, MLP_ERR_ARG, "unknown task id %d", (int)c->task);
    if ((unsigned)c->missing >= MLP_MISSING_COUNT)
        return mlp__csv_fail(c, err, MLP_ERR_ARG, "unknown missing-value policy id %d", (int)c->missing);
    char d = o->delim;
    if (d != 0 && (d == '"' || d == '\r' || d == '\n' || d == '.' || d == '+' || d == '-' || d == 'e' || d == 'E' ||
                   is_digit((unsigned char)d)))
        return mlp__csv_fail(c, err, MLP_ERR_ARG, "delimiter 0x%02x cannot separate numbers", (unsigned)(unsigned char)d);
    c->cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c->cloc == (locale_t)0)
        return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "cannot create the C locale: %s", strerror(errno));
    return MLP_OK;
}

/* Whether the first row is a header: as the caller says, else when it holds
 * no number at all, or text where the next row holds a number, or, in a
 * table of 4 columns or more, the numbers 0..n-1 or 1..n (pandas' header
 * for an unnamed frame; a short row such as 0,1,2 is as likely data). */
static enum mlp_header_why header_why(int asked, uint32_t nf, const unsigned char *k1, const double *v1,
                                      const unsigned char *k2)
{
    if (asked >= 0) return asked ? MLP_HEADER_GIVEN : MLP_HEADER_NONE;
    bool any_num = false, seq0 = nf >= 4, seq1 = nf >= 4;
    for (uint32_t i = 0; i < nf; i++) {
        any_num |= k1[i] == CELL_NUM;
        seq0 &= k1[i] == CELL_NUM && v1[i] == (double)i;
        seq1 &= k1[i] == CELL_NUM && v1[i] == (double)i + 1;
    }
    if (!any_num) return MLP_HEADER_NAMES;
    if (seq0 || seq1) return MLP_HEADER_SEQUENCE;
    for (uint32_t i = 0; k2 && i < nf; i++)
        if (k1[i] == CELL_TEXT && k2[i] == CELL_NUM) return MLP_HEADER_NAMES;
    return MLP_HEADER_NONE;
}

/* The column a label is found by (label_auto): the first of these names,
 * in this order, that a header column has (any case); -1 when none. */
static int64_t label_like(char **names, uint32_t nf)
{
    static const char *const words[] = {"target", "label", "class", "y", "targets", "labels"};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        for (uint32_t i = 0; i < nf; i++)
            if (strcasecmp(names[i], words[w]) == 0) return i;
    return -1;
}

/* The label column from the options (or the schema applied), and with a
 * schema the columns matched to its own. */
static enum mlp_status resolve_label(struct csv *c, const struct csv_opts *o, char **names, struct mlp_error *err)
{
    const uint32_t nf = c->n_fields;
    char show[160];
    if (c->apply) {
        const struct mlp_schema *S = c->apply;
        if (nf == S->n_fields) {
            c->label = S->label;
        } else if (S->label >= 0 && nf + 1 == S->n_fields) {
            c->label = -1; /* inputs only */
            c->apply_skip = S->label;
        } else {
            return mlp__csv_fail(c, err, MLP_ERR_SHAPE,
                                 "%" PRIu32 " columns, but the model was trained on a table of %" PRIu32 "%s", nf,
                                 S->n_fields, S->label >= 0 ? " (one fewer without its label column)" : "");
        }
        /* Both with named columns: the same names in the same order (a
         * column the schema leaves unnamed, as mlp_schema_create's label
         * column may be, takes any name). */
        for (uint32_t i = 0; names && S->header == MLP_HEADER_NAMES && c->header == MLP_HEADER_NAMES && i < nf; i++) {
            uint32_t sc = c->apply_skip >= 0 && (int64_t)i >= c->apply_skip ? i + 1 : i;
            if (S->col[sc].name[0] && strcmp(names[i], S->col[sc].name) != 0)
                return mlp__csv_fail(c, err, MLP_ERR_SHAPE,
                                     "column %" PRIu32 " is '%s', but the model's training data had '%s' there", i + 1,
                                     mlp__csv_tok_show(show, (const unsigned char *)names[i], strlen(names[i])), S->col[sc].name);
        }
        return MLP_OK;
    }
    if (o->label_name) {
        if (!names)
            return mlp__csv_fail(c, err, MLP_ERR_ARG,
                                 "label column '%s' asked for by name, but the file has no header row", o->label_name);
        c->label = -1;
        for (uint32_t i = 0; i < nf && c->label < 0; i++)
            if (strcmp(names[i], o->label_name) == 0) c->label = i;
        if (c->label < 0)
            return mlp__csv_fail(c, err, MLP_ERR_ARG, "no column named '%s' in the header",
                                 mlp__csv_tok_show(show, (const unsigned char *)o->label_name, strlen(o->label_name)));
        return MLP_OK;
    }
    if (o->label_from_end > 0) {
        if ((uint32_t)o->label_from_end > nf)
            return mlp__csv_fail(c, err, MLP_ERR_ARG,
                                 "label column %" PRId32 " from the end is out of range: the file has %" PRIu32 " columns",
                                 o->label_from_end, nf);
        c->label = (int64_t)nf - o->label_from_end;
        return MLP_OK;
    }
    c->label = o->label_col;
    int64_t named = o->label_auto && names ? label_like(names, nf) : -1;
    if (named >= 0) c->label = named;
    if (c->label >= (int64_t)nf)
        return mlp__csv_fail(c, err, MLP_ERR_ARG,
                             "label column %" PRId32 " is out of range: the file has %" PRIu32 " columns (0..%" PRIu32 ")",
                             o->label_col, nf, nf - 1);
    return MLP_OK;
}

/* --categorical "a,b,3": the columns named (by header name or 0-based
 * index) into c->forced. */
static enum mlp_status resolve_categorical(struct csv *c, const char *list, char **names, struct mlp_error *err)
{
    if (!list || !*list) return MLP_OK;
    if (!(c->forced = calloc(c->n_fields, sizeof *c->forced))) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    char show[160];
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int64_t at = -1;
        for (uint32_t i = 0; names && i < c->n_fields && at < 0; i++)
            if (strlen(names[i]) == n && memcmp(names[i], p, n) == 0) at = i;
        if (at < 0 && n > 0 && n < 12 && strspn(p, "0123456789") >= n) {
            char num[16];
            memcpy(num, p, n);
            num[n] = 0;
            at = strtoll(num, NULL, 10);
            if (at >= (int64_t)c->n_fields) at = -1;
        }
        if (at < 0)
            return mlp__csv_fail(c, err, MLP_ERR_ARG, "categorical column '%s' is neither a column name nor an index below %" PRIu32,
                                 mlp__csv_tok_show(show, (const unsigned char *)p, n), c->n_fields);
        if (at == c->label)
            return mlp__csv_fail(c, err, MLP_ERR_ARG, "categorical column '%s' is the label column",
                                 mlp__csv_tok_show(show, (const unsigned char *)p, n));
        c->forced[at] = true;
        p = e ? e + 1 : p + n;
    }
    c->table = true;
    return MLP_OK;
}

/* Whether the nf names of a first row are the schema's column names in
 * order (the label's left out when the row is one field short). */
static bool same_names(const struct mlp_schema *S, char **names, uint32_t nf)
{
    int64_t skip = nf == S->n_fields ? -1 : nf + 1 == S->n_fields ? S->label : -2;
    if (skip == -2) return false;
    for (uint32_t i = 0; i < nf; i++) {
        uint32_t sc = skip >= 0 && (int64_t)i >= skip ? i + 1 : i;
        if (strcmp(names[i], S->col[sc].name) != 0) return false;
    }
    return true;
}

/* Phase 2: the first record gives the delimiter, whether it is a header, the
 * field count and so the label column and the width, all checked before any
 * row is parsed; and how to read the rows: the table reader when the first
 * data row holds text or a missing value (c->table), else uint8 when its
 * every input is an integer in 0..255 (*start_u8). */
enum mlp_status mlp__csv_first_record(struct csv *c, const struct csv_opts *o, struct csv_job *scratch,
                                        bool *start_u8, struct mlp_error *err)
{
    struct csv_err ce;
    c->delim = c->apply ? c->apply->delim : o->delim ? (unsigned char)o->delim : detect_delim(c->text, c->end);
    uint64_t nf;
    const unsigned char *after1, *after2;
    if (scan_record(c, scratch, c->text, (uint64_t)MLP_MAX_WIDTH + 1, 0, NULL, NULL, &nf, &after1, &ce) != MLP_OK)
        return mlp__csv_fail_at(c, err, &ce);
    c->n_fields = (uint32_t)nf;
    /* The kinds of the first two rows' fields. */
    unsigned char *k1 = malloc(2 * nf), *k2 = k1 ? k1 + nf : NULL;
    double *v1 = malloc(2 * nf * sizeof *v1), *v2 = v1 ? v1 + nf : NULL;
    char **names = NULL;
    enum mlp_status st = MLP_OK;
    if (!k1 || !v1) st = mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    uint64_t nf2 = 0;
    if (st == MLP_OK)
        scan_record(c, scratch, c->text, nf, (uint32_t)nf, k1, v1, &nf, &after1, &ce);
    bool row2 = st == MLP_OK && after1 < c->end &&
                scan_record(c, scratch, after1, (uint64_t)MLP_MAX_WIDTH + 1, (uint32_t)nf, k2, v2, &nf2, &after2,
                            &ce) == MLP_OK &&
                nf2 == nf;
    if (st == MLP_OK) {
        c->header = header_why(o->header, c->n_fields, k1, v1, row2 ? k2 : NULL);
        /* Read with a schema whose file had a header: a first row that is
         * no header by itself (a features-only file's 0..n-2, a table all of
         * text) still is one when it holds the schema's column names. */
        if (c->apply && o->header < 0 && c->header == MLP_HEADER_NONE && c->apply->header != MLP_HEADER_NONE &&
            (names = header_names(c, scratch)) != NULL && same_names(c->apply, names, c->n_fields))
            c->header = MLP_HEADER_GIVEN;
        free_names(names, c->n_fields);
        names = NULL;
        bool has_header = c->header != MLP_HEADER_NONE;
        c->data = has_header ? after1 : c->text;
        c->fields_from = has_header ? "the header" : "the first data row";
        if (has_header && !(names = header_names(c, scratch))) st = mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    }
    if (st == MLP_OK) st = resolve_label(c, o, names, err);
    if (st == MLP_OK && !c->apply) st = resolve_categorical(c, o->categorical, names, err);
    uint32_t n_cols = c->n_fields - (c->label >= 0 ? 1u : 0u);
    if (st == MLP_OK && n_cols == 0)
        st = mlp__csv_fail(c, err, MLP_ERR_FORMAT, "no input columns: the only column is the label");
    if (st == MLP_OK && n_cols > MLP_MAX_WIDTH)
        st = mlp__csv_fail(c, err, MLP_ERR_FORMAT, "too many columns: %" PRIu32 " inputs (at most %u)", n_cols,
                           MLP_MAX_WIDTH);
    /* (With a schema, its own column count was checked instead.) */
    if (st == MLP_OK && o->want_cols && !c->apply && n_cols != o->want_cols)
        st = mlp__fail_width(err, c->name, n_cols, o->want_cols, c->label >= 0 ? " besides the label" : "");
    if (st == MLP_OK && c->data >= c->end)
        st = mlp__csv_fail(c, err, MLP_ERR_FORMAT, "no data rows (only a header%s)",
                           o->header < 0 ? ": the one row holds a non-number; header=0 reads it as data" : "");
    if (st == MLP_OK) {
        /* How the first data row says to read: text or a missing value
         * anywhere, or categories asked for, is the table reader's; else
         * uint8 unless an input is a number but not an integer in 0..255. */
        const unsigned char *kd = c->header != MLP_HEADER_NONE ? (row2 ? k2 : NULL) : k1;
        const double *vd = c->header != MLP_HEADER_NONE ? v2 : v1;
        for (uint32_t i = 0; c->apply && i < c->apply->n_fields; i++)
            c->table |= c->apply->col[i].kind == MLP_COL_CATEGORICAL;
        *start_u8 = true;
        for (uint32_t i = 0; kd && i < c->n_fields; i++) {
            c->table |= kd[i] != CELL_NUM;
            if ((int64_t)i != c->label && !(vd[i] >= 0 && vd[i] <= 255 && (double)(uint8_t)vd[i] == vd[i]))
                *start_u8 = false;
        }
    }
    free(k1);
    free(v1);
    if (st == MLP_OK && names) {
        c->names = names; /* the schema's column names */
        names = NULL;
    }
    free_names(names, c->n_fields);
    return st;
}

/* Phase 3: cut the data rows into up to max_jobs ranges at line ends (one
 * when the data holds a quote) and count each range's records; *jobs grows
 * to hold them.  Returns the number of ranges, and the rows in *n_rows. */
unsigned mlp__csv_cut(struct csv *c, struct csv_job **jobs, unsigned max_jobs, uint64_t *n_rows)
{
    unsigned n_jobs = 1;
    size_t len = (size_t)(c->end - c->data);
    if (len >= CSV_PARALLEL_MIN) {
        size_t want = max_jobs;
        if (want > len / CSV_MIN_RANGE) want = len / CSV_MIN_RANGE;
        n_jobs = want > 1 ? (unsigned)want : 1;
    }
    if (n_jobs > 1) {
        struct csv_job *more = realloc(*jobs, n_jobs * sizeof *more);
        if (more) {
            *jobs = more;
            memset(more + 1, 0, (n_jobs - 1) * sizeof *more);
        } else {
            n_jobs = 1; /* one thread still does it */
        }
    }
    struct csv_job *J = *jobs;
    for (unsigned i = 0; i < n_jobs; i++) {
        J[i].c = c;
        J[i].begin = i == 0 ? c->data : J[i - 1].end;
        if (i + 1 == n_jobs) {
            J[i].end = c->end;
        } else {
            const unsigned char *cut = c->data + len / n_jobs * (i + 1);
            J[i].end = next_line(cut < J[i].begin ? J[i].begin : cut, c->end);
        }
    }
    run_jobs(c->pool, J, n_jobs, job_count);
    bool quoted = false;
    for (unsigned i = 0; i < n_jobs; i++) quoted |= J[i].has_quote;
    if (quoted) {
        n_jobs = 1;
        J[0].begin = c->data;
        J[0].end = c->end;
        J[0].n_rows = count_quoted(c->data, c->end);
    }
    uint64_t n = 0;
    for (unsigned i = 0; i < n_jobs; i++) {
        J[i].row0 = n;
        n += J[i].n_rows;
    }
    *n_rows = n;
    return n_jobs;
}

/* ---------------------------------------------------- the fast path's schema */

/* The schema of a purely numeric file (the fast path's), without classes. */
static struct mlp_schema *numeric_schema(const struct csv *c)
{
    if (c->apply) return mlp__schema_copy(c->apply);
    struct mlp_schema *S = mlp__schema_new(c->n_fields);
    if (!S) return NULL;
    S->label = c->label;
    S->delim = c->delim;
    S->header = c->header;
    S->missing = c->missing;
    for (uint32_t i = 0; i < c->n_fields; i++)
        if (!(S->col[i].name = strdup(c->names ? c->names[i] : ""))) {
            mlp__schema_free(S);
            return NULL;
        }
    if (!mlp__schema_number_inputs(S)) {
        mlp__schema_free(S);
        return NULL;
    }
    return S;
}

/* Fill values (the mean or median of each input column) for a file that
 * had no missing value: later data may miss some (the table reader fills
 * every column alike). */
static bool numeric_fills(struct mlp_schema *S, const struct mlp_dataset *ds, enum mlp_missing how)
{
    double *v = malloc((ds->n_rows ? ds->n_rows : 1) * sizeof *v);
    if (!v) return false;
    for (uint32_t i = 0; i < S->n_fields; i++) {
        if ((int64_t)i == S->label) continue;
        const uint32_t j = S->col[i].input;
        for (uint64_t r = 0; r < ds->n_rows; r++)
            v[r] = ds->x_type == MLP_ELEM_U8 ? ((const uint8_t *)ds->x)[r * ds->n_cols + j]
                                             : ((const double *)ds->x)[r * ds->n_cols + j];
        S->col[i].fill = mlp__csv_fill_value(v, ds->n_rows, how);
    }
    free(v);
    return true;
}

/* The fast path's label column (ds->targets, doubles) made into classes or
 * kept as targets, by the schema applied or by the task; and the data set's
 * schema. */
static enum mlp_status finish_numeric(struct csv *c, struct mlp_dataset *ds, struct mlp_error *err)
{
    struct mlp_schema *S = numeric_schema(c);
    if (!S) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    ds->schema = S;
    if (!c->apply && (c->missing == MLP_MISSING_MEAN || c->missing == MLP_MISSING_MEDIAN) &&
        !numeric_fills(S, ds, c->missing))
        return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    if (c->label < 0) {
        ds->targets = NULL;
        ds->n_targets = 0;
        return MLP_OK;
    }
    const uint64_t n = ds->n_rows;
    double *y = (double *)ds->targets;
    if (!c->apply) {
        double *u;
        uint64_t nu;
        if (!mlp__csv_distinct(y, n, &u, &nu)) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
        S->task = c->task != MLP_TASK_AUTO ? c->task : mlp__csv_auto_task(u, nu, n);
        bool ok = true;
        if (S->task == MLP_TASK_CLASSIFY && nu > MLP_MAX_CLASSES) {
            free(u);
            return mlp__csv_fail(c, err, MLP_ERR_RANGE,
                                 "the label column holds %" PRIu64 " distinct values: more than %u classes", nu,
                                 MLP_MAX_CLASSES);
        }
        if (S->task == MLP_TASK_CLASSIFY) ok = mlp__csv_number_names(&S->classes, u, nu);
        free(u);
        if (!ok) return mlp__csv_fail(c, err, MLP_ERR_NOMEM, "out of memory");
    }
    if (S->task == MLP_TASK_REGRESS) {
        ds->n_targets = 1;
        return MLP_OK;
    }
    /* Classes: the int32 labels are written over the doubles they come
     * from (label i's bytes lie below value i's, which is read first). */
    int32_t *lab = (int32_t *)(void *)y;
    for (uint64_t i = 0; i < n; i++) {
        double v = y[i];
        int64_t k = mlp__names_find(&S->classes, "", 0, v);
        if (k < 0) {
            char nm[32], list[256];
            mlp__num_name(v, nm);
            mlp__csv_class_list(&S->classes, list, sizeof list);
            return mlp__csv_fail(c, err, MLP_ERR_RANGE,
                                 "label '%s' in data row %" PRIu64 " is not one of the model's classes (%s)", nm, i + 1,
                                 list);
        }
        lab[i] = (int32_t)k;
    }
    ds->labels = lab;
    ds->targets = NULL;
    ds->n_targets = 0;
    ds->n_classes = S->classes.n;
    return MLP_OK;
}

/* Phase 4: allocate the block and parse every range into it, in uint8 when
 * start_u8 and again in f64 if an input is not 0..255; the label column as
 * doubles, made classes or targets afterwards.  Text or a missing value
 * stops it (*to_table) for the table reader.  Valid rows take at least
 * 2 * n_fields bytes each (a byte per field and one after it): more records
 * than that means blank lines or empty fields, and a data set sized by them
 * could be absurdly large, so the parse then only checks, to report the
 * first of them (or to find the empty fields the table reader takes). */
enum mlp_status mlp__csv_fill(struct csv *c, struct csv_job *jobs, unsigned n_jobs, uint64_t n_rows,
                                bool start_u8, struct mlp_dataset *ds, bool *to_table, struct mlp_error *err)
{
    const size_t len = (size_t)(c->end - c->data);
    const uint32_t n_cols = c->n_fields - (c->label >= 0 ? 1u : 0u);
    const uint32_t n_y = c->label >= 0 ? 1 : 0;
    const bool too_many = n_rows > (len + 1) / (2 * (uint64_t)c->n_fields);
    struct csv_err ce;
    atomic_int stop_u8;
    atomic_init(&stop_u8, 0);
    *to_table = false;
    for (int pass = too_many ? 2 : start_u8 ? 0 : 1;; pass++) {
        enum csv_mode mode = pass == 0 ? CSV_U8 : pass == 1 ? CSV_F64 : CSV_CHECK;
        for (unsigned i = 0; i < n_jobs; i++) {
            jobs[i].stop_u8 = &stop_u8;
            jobs[i].not_u8 = jobs[i].not_num = false;
            jobs[i].err.st = MLP_OK;
        }
        atomic_store(&stop_u8, 0);
        if (mode == CSV_CHECK) {
            run_jobs(c->pool, jobs, n_jobs, job_check);
            /* A range that stopped at text or a missing value did not look
             * further: the table reader reports every error in file order,
             * whatever the ranges (the threads) were. */
            for (unsigned i = 0; i < n_jobs; i++) *to_table |= jobs[i].not_num;
            if (*to_table) return MLP_OK;
            for (unsigned i = 0; i < n_jobs; i++) /* the first in the file */
                if (jobs[i].err.st != MLP_OK) return mlp__csv_fail_at(c, err, &jobs[i].err);
            mlp__csv_ce_set(&ce, MLP_ERR_FORMAT, c->data, "internal error: %" PRIu64 " records but no bad one", n_rows);
            return mlp__csv_fail_at(c, err, &ce);
        }
        bool u8 = mode == CSV_U8;
        enum mlp_status st =
            mlp__dataset_alloc(ds, n_rows, n_cols, u8 ? MLP_ELEM_U8 : MLP_ELEM_F64, false, n_y, err);
        if (st != MLP_OK) {
            if (err) {
                char msg[sizeof err->msg];
                memcpy(msg, err->msg, sizeof msg);
                mlp__csv_fail(c, err, st, "%s", msg);
            }
            return st;
        }
        for (unsigned i = 0; i < n_jobs; i++) {
            jobs[i].x = ds->owned;
            jobs[i].y = (double *)ds->targets;
        }
        run_jobs(c->pool, jobs, n_jobs, u8 ? job_parse_u8 : job_parse_f64);
        bool not_u8 = false;
        for (unsigned i = 0; i < n_jobs; i++) {
            not_u8 |= jobs[i].not_u8;
            *to_table |= jobs[i].not_num;
        }
        /* An error before the first text is still the file's first error. */
        for (unsigned i = 0; i < n_jobs && !not_u8 && !*to_table; i++)
            if (jobs[i].err.st != MLP_OK) return mlp__csv_fail_at(c, err, &jobs[i].err);
        if (*to_table) {
            mlp_dataset_free(ds);
            return MLP_OK;
        }
        if (not_u8) {
            mlp_dataset_free(ds);
            continue;
        }
        break;
    }
    return finish_numeric(c, ds, err);
}

