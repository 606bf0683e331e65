/* SPDX-License-Identifier: MIT */
/* NumPy .npy loader (format versions 1.0, 2.0 and 3.0), from a file or a
 * caller's buffer through one parser: a hand-written reader of the header's
 * Python dict literal, and a payload reader that checks the header's width
 * against the caller's n_cols and its promises against the real size (the
 * file's fstat, or the buffer's) before it allocates anything, converts to
 * the data set's element type and undoes Fortran order.  A file that shrinks
 * while it is read is MLP_ERR_IO "file changed while reading", not a
 * truncated one.  A shard (mlp_load_params.shard_*) seeks to its rows of
 * the inputs (in Fortran order, to its run of rows in each column) and
 * reads the labels whole (see npy_read_labels). */
#include "data/shard.h"
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Layout: "\x93NUMPY", major, minor, the header length (little-endian u16 for
 * version 1, u32 for 2 and 3), the header (a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }, padded
 * with spaces and ended by a newline; latin-1 for 1 and 2, UTF-8 for 3), then
 * the raw payload.  Byte offsets in messages count from the file's start.
 */

/* NumPy's own limit is 32 dimensions (64 since NumPy 2). */
#define NPY_MAX_DIMS 64u

/* NumPy writes headers of a few hundred bytes and refuses to read more than
 * 10000 by default; a megabyte is generous and still bounds the allocation. */
#define NPY_MAX_HEADER (1u << 20)

/* Largest payload (as stored, and after conversion) we accept: 64 GiB, as
 * for IDX, far past any data set in use and still a cap on absurd headers. */
#define NPY_MAX_BYTES (1ull << 36)

/* Payloads that need converting are read in pieces of this many bytes (a
 * multiple of every element size). */
#define NPY_CHUNK (1u << 20)

/* One fread never asks for more than this. */
#define NPY_READ_MAX (1u << 30)

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

enum npy_kind { NPY_KIND_UINT, NPY_KIND_INT, NPY_KIND_FLOAT };

/* One open .npy file and what its header declared. */
struct npy_file {
    const char *path; /* for messages: the path, or the buffer's name */
    FILE *fp;         /* a file, or NULL: */
    const unsigned char *mem; /* the caller's buffer */
    struct stat at_open; /* a file's fstat when opened */
    uint64_t size;     /* bytes in the file (fstat) or the buffer */
    uint64_t offset;   /* bytes consumed so far */
    uint64_t data_off; /* where the payload starts */
    char descr[16];
    enum npy_kind kind;
    unsigned elem;     /* bytes per element: 1, 2, 4 or 8 */
    bool big;          /* stored big-endian */
    bool fortran;
    bool transpose;    /* Fortran order with two or more dimensions > 1 */
    uint64_t shape_at; /* file offset of the shape tuple, for messages */
    unsigned ndim;
    uint64_t dims[NPY_MAX_DIMS];
    uint64_t n_rows, n_cols, n_values, payload;
};

/* ------------------------------------------------------------- messages */

/* Wraps mlp__fail with the file's (shortened) name in front. */
static enum mlp_status npy_failf(const struct npy_file *f, struct mlp_error *err,
                                 enum mlp_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum mlp_status npy_failf(const struct npy_file *f, struct mlp_error *err,
                                 enum mlp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum mlp_status r = mlp__vfail_file(err, st, f->path, fmt, ap);
    va_end(ap);
    return r;
}

/* "(60000, 784)" (shortened past a few dimensions) into buf. */
static const char *npy_shape_str(const struct npy_file *f, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "(");
    for (unsigned d = 0; d < f->ndim && n < len; d++) {
        if (d == 8) {
            n += (size_t)snprintf(buf + n, len - n, "...");
            break;
        }
        n += (size_t)snprintf(buf + n, len - n, "%s%" PRIu64, d ? ", " : "", f->dims[d]);
    }
    if (n < len) snprintf(buf + n, len - n, f->ndim == 1 ? ",)" : ")");
    return buf;
}

/* ------------------------------------------------------------ byte order */

static bool host_big_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 0;
}

static inline uint32_t ld32(const unsigned char *p, bool big)
{
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t ld64(const unsigned char *p, bool big)
{
    return big ? (uint64_t)ld32(p, true) << 32 | ld32(p + 4, true)
               : (uint64_t)ld32(p + 4, false) << 32 | ld32(p, false);
}

/* An unsigned integer of `bytes` bytes. */
static inline uint64_t ld_uint(const unsigned char *p, unsigned bytes, bool big)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) v = v << 8 | p[big ? i : bytes - 1 - i];
    return v;
}

/* Two's complement sign extension without implementation-defined shifts. */
static inline int64_t sext(uint64_t u, unsigned bytes)
{
    uint64_t sign = (uint64_t)1 << (8 * bytes - 1);
    uint64_t mask = sign | (sign - 1);
    return (u & sign) ? -(int64_t)(~u & mask) - 1 : (int64_t)u;
}

/* Element p as a double (integers exact for |v| < 2^53). */
static double npy_get(const struct npy_file *f, const unsigned char *p)
{
    if (f->kind == NPY_KIND_FLOAT) {
        if (f->elem == 4) {
            uint32_t u = ld32(p, f->big);
            float v;
            memcpy(&v, &u, 4);
            return v;
        }
        uint64_t u = ld64(p, f->big);
        double v;
        memcpy(&v, &u, 8);
        return v;
    }
    uint64_t u = ld_uint(p, f->elem, f->big);
    return f->kind == NPY_KIND_UINT ? (double)u : (double)sext(u, f->elem);
}

/* -------------------------------------------------------------- reading */

/* Read exactly len bytes; the size was checked at open, so a short read means
 * the file changed under us: MLP_ERR_IO "file changed while reading". */
static enum mlp_status npy_read(struct npy_file *f, void *dst, uint64_t len, struct mlp_error *err)
{
    unsigned char *p = dst;
    uint64_t n = 0;
    if (!f->fp) {
        /* A buffer: its size was checked before each read, as a file's. */
        if (len > f->size - f->offset)
            return npy_failf(f, err, MLP_ERR_FORMAT,
                             "truncated: %" PRIu64 " bytes needed at byte %" PRIu64 ", the buffer has %" PRIu64, len,
                             f->offset, f->size);
        memcpy(p, f->mem + f->offset, (size_t)len);
        n = len;
    }
    while (n < len) {
        size_t want = len - n > NPY_READ_MAX ? NPY_READ_MAX : (size_t)(len - n);
        size_t got = fread(p + n, 1, want, f->fp);
        n += got;
        if (got < want) {
            if (ferror(f->fp))
                return npy_failf(f, err, MLP_ERR_IO, "read error at byte %" PRIu64 ": %s",
                                 f->offset + n, strerror(errno));
            if (mlp__file_changed(fileno(f->fp), f->path, &f->at_open, err) != MLP_OK) return MLP_ERR_IO;
            return npy_failf(f, err, MLP_ERR_FORMAT,
                             "truncated: file ends at byte %" PRIu64 " although it has %" PRIu64 " bytes",
                             f->offset + n, f->size);
        }
    }
    f->offset += n;
    return MLP_OK;
}

/* Move to byte `at` (within the size checked at open) to read from there:
 * a shard's rows, without reading those before it. */
static enum mlp_status npy_seek(struct npy_file *f, uint64_t at, struct mlp_error *err)
{
    if (f->fp && (at > (uint64_t)INT64_MAX || fseeko(f->fp, (off_t)at, SEEK_SET) != 0))
        return npy_failf(f, err, MLP_ERR_IO, "cannot seek to byte %" PRIu64 ": %s", at, strerror(errno));
    f->offset = at;
    return MLP_OK;
}

/* ------------------------------------------------------- header parsing */

/* A cursor over the header text; `base` is the file offset of s[0]. */
struct npy_parser {
    const struct npy_file *f;
    const unsigned char *s;
    size_t n, i;
    uint64_t base;
    struct mlp_error *err;
};

static enum mlp_status hdr_fail(const struct npy_parser *p, const char *expected)
{
    uint64_t at = p->base + p->i;
    if (p->i >= p->n)
        return npy_failf(p->f, p->err, MLP_ERR_FORMAT,
                         "malformed header: it ends at byte %" PRIu64 ", expected %s", at, expected);
    unsigned c = p->s[p->i];
    if (c >= 0x20 && c < 0x7F)
        return npy_failf(p->f, p->err, MLP_ERR_FORMAT,
                         "malformed header at byte %" PRIu64 ": expected %s, got '%c'", at, expected,
                         (char)c);
    return npy_failf(p->f, p->err, MLP_ERR_FORMAT,
                     "malformed header at byte %" PRIu64 ": expected %s, got byte 0x%02X", at,
                     expected, c);
}

static int hdr_peek(const struct npy_parser *p) { return p->i < p->n ? p->s[p->i] : -1; }

/* Python allows any whitespace (newlines included) between tokens. */
static void hdr_ws(struct npy_parser *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
                           p->s[p->i] == '\r'))
        p->i++;
}

static bool is_ident(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A quoted string without escapes (no key or descr NumPy writes has one). */
static enum mlp_status hdr_string(struct npy_parser *p, char *out, size_t cap, const char *what)
{
    int q = hdr_peek(p);
    if (q != '\'' && q != '"') return hdr_fail(p, what);
    size_t start = ++p->i, len = 0;
    while (p->i < p->n && p->s[p->i] != q) {
        unsigned c = p->s[p->i];
        if (c == '\\' || c < 0x20 || c >= 0x7F)
            return hdr_fail(p, "a plain ASCII character in the string (no escapes)");
        if (len + 1 >= cap)
            return npy_failf(p->f, p->err, MLP_ERR_FORMAT,
                             "malformed header at byte %" PRIu64 ": string longer than %zu "
                             "characters (expected %s)",
                             p->base + start - 1, cap - 1, what);
        out[len++] = (char)c;
        p->i++;
    }
    if (p->i >= p->n) return hdr_fail(p, "the closing quote");
    p->i++;
    out[len] = '\0';
    return MLP_OK;
}

/* True or False. */
static enum mlp_status hdr_bool(struct npy_parser *p, bool *out)
{
    static const char *const words[2] = {"False", "True"};
    for (int b = 0; b < 2; b++) {
        size_t len = strlen(words[b]);
        if (p->n - p->i >= len && memcmp(p->s + p->i, words[b], len) == 0 &&
            !(p->i + len < p->n && is_ident(p->s[p->i + len]))) {
            p->i += len;
            *out = b == 1;
            return MLP_OK;
        }
    }
    return hdr_fail(p, "True or False for 'fortran_order'");
}

/* A dimension: a non-negative decimal integer (Python 2's "L" suffix
 * allowed), at most 2^63 - 1 like NumPy's intp. */
static enum mlp_status hdr_dim(struct npy_parser *p, uint64_t *out)
{
    size_t start = p->i;
    if (hdr_peek(p) == '-')
        return npy_failf(p->f, p->err, MLP_ERR_FORMAT,
                         "malformed header at byte %" PRIu64 ": negative dimension in 'shape' "
                         "(expected a non-negative integer)",
                         p->base + start);
    uint64_t v = 0;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
        unsigned d = p->s[p->i] - '0';
        if (v > ((uint64_t)INT64_MAX - d) / 10)
            return npy_failf(p->f, p->err, MLP_ERR_FORMAT,
                             "malformed header at byte %" PRIu64 ": dimension in 'shape' exceeds "
                             "2^63 - 1",
                             p->base + start);
        v = v * 10 + d;
        p->i++;
    }
    if (p->i == start) return hdr_fail(p, "a dimension (a non-negative integer) in 'shape'");
    if (p->i - start > 1 && p->s[start] == '0') {
        p->i = start;
        return hdr_fail(p, "a dimension without leading zeros");
    }
    if (hdr_peek(p) == 'L') p->i++;
    if (is_ident(hdr_peek(p))) return hdr_fail(p, "',' or ')' after a dimension");
    *out = v;
    return MLP_OK;
}

/* A tuple of dimensions: (), (n,), (a, b), (a, b,), any spacing. */
static enum mlp_status hdr_shape(struct npy_parser *p, struct npy_file *f)
{
    size_t open_at = p->i;
    if (hdr_peek(p) != '(') return hdr_fail(p, "a tuple '(...)' for 'shape'");
    p->i++;
    f->ndim = 0;
    hdr_ws(p);
    while (hdr_peek(p) != ')') {
        if (f->ndim == NPY_MAX_DIMS)
            return npy_failf(f, p->err, MLP_ERR_FORMAT,
                             "malformed header at byte %" PRIu64 ": more than %u dimensions in "
                             "'shape'",
                             p->base + p->i, NPY_MAX_DIMS);
        enum mlp_status st = hdr_dim(p, &f->dims[f->ndim]);
        if (st != MLP_OK) return st;
        f->ndim++;
        hdr_ws(p);
        if (hdr_peek(p) == ',') {
            p->i++;
            hdr_ws(p);
        } else if (hdr_peek(p) == ')') {
            /* "(5)" is the integer 5 in Python, not a tuple. */
            if (f->ndim == 1)
                return npy_failf(f, p->err, MLP_ERR_FORMAT,
                                 "malformed header at byte %" PRIu64 ": 'shape' (%" PRIu64
                                 ") is not a tuple (expected (%" PRIu64 ",))",
                                 p->base + open_at, f->dims[0], f->dims[0]);
        } else {
            return hdr_fail(p, "',' or ')' in 'shape'");
        }
    }
    p->i++;
    return MLP_OK;
}

/* The dtype string: byte order ('<' '>' '|' '=' or none), kind, size. */
static enum mlp_status npy_descr(struct npy_file *f, uint64_t at, struct mlp_error *err)
{
    const char *d = f->descr;
    char order = 0;
    if (*d == '<' || *d == '>' || *d == '|' || *d == '=') order = *d++;
    char letter = *d ? *d++ : 0;
    unsigned size = 0;
    if (*d >= '1' && *d <= '8' && d[1] == '\0') size = (unsigned)(*d - '0');
    bool ok = false;
    if (letter == 'u' || letter == 'i')
        ok = size == 1 || size == 2 || size == 4 || size == 8;
    else if (letter == 'f')
        ok = size == 4 || size == 8;
    if (!ok) {
        const char *hint = letter == 'O'   ? " (object arrays hold pickled Python objects)"
                           : letter == 'c' ? " (complex numbers)"
                           : letter == 'f' ? " (only f4 and f8 floats)"
                                           : "";
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "unsupported dtype '%s' at byte %" PRIu64 "%s: expected u1, i1, u2, i2, u4, "
                         "i4, u8, i8, f4 or f8 with byte order '<', '>' or '|'",
                         f->descr, at, hint);
    }
    f->kind = letter == 'u' ? NPY_KIND_UINT : letter == 'i' ? NPY_KIND_INT : NPY_KIND_FLOAT;
    f->elem = size;
    f->big = size > 1 && (order == '>' || (order != '<' && host_big_endian()));
    return MLP_OK;
}

/* Parse the dict: exactly the keys descr, fortran_order and shape, in any
 * order, with a trailing comma or not, then only whitespace. */
static enum mlp_status npy_parse_header(struct npy_file *f, const unsigned char *s, size_t n,
                                        struct mlp_error *err)
{
    struct npy_parser p = {f, s, n, 0, f->data_off - n, err};
    bool have_descr = false, have_fortran = false, have_shape = false;
    uint64_t descr_at = 0;
    enum mlp_status st;

    hdr_ws(&p);
    if (hdr_peek(&p) != '{') return hdr_fail(&p, "'{' opening the header dict");
    p.i++;
    hdr_ws(&p);
    while (hdr_peek(&p) != '}') {
        char key[32];
        size_t key_at = p.i;
        if ((st = hdr_string(&p, key, sizeof key, "a quoted key or '}'")) != MLP_OK) return st;
        bool *seen = strcmp(key, "descr") == 0           ? &have_descr
                     : strcmp(key, "fortran_order") == 0 ? &have_fortran
                     : strcmp(key, "shape") == 0         ? &have_shape
                                                         : NULL;
        if (!seen)
            return npy_failf(f, err, MLP_ERR_FORMAT,
                             "malformed header at byte %" PRIu64 ": unknown key '%s' (expected "
                             "'descr', 'fortran_order' and 'shape')",
                             p.base + key_at, key);
        if (*seen)
            return npy_failf(f, err, MLP_ERR_FORMAT,
                             "malformed header at byte %" PRIu64 ": key '%s' appears twice",
                             p.base + key_at, key);
        *seen = true;
        hdr_ws(&p);
        if (hdr_peek(&p) != ':') return hdr_fail(&p, "':' after the key");
        p.i++;
        hdr_ws(&p);
        if (seen == &have_descr) {
            descr_at = p.base + p.i;
            if (hdr_peek(&p) == '[')
                return npy_failf(f, err, MLP_ERR_FORMAT,
                                 "unsupported dtype at byte %" PRIu64 ": a structured dtype (a list "
                                 "of fields); expected a plain numeric dtype such as '<f4'",
                                 descr_at);
            st = hdr_string(&p, f->descr, sizeof f->descr, "a quoted dtype such as '<f4'");
        } else if (seen == &have_fortran) {
            st = hdr_bool(&p, &f->fortran);
        } else {
            f->shape_at = p.base + p.i;
            st = hdr_shape(&p, f);
        }
        if (st != MLP_OK) return st;
        hdr_ws(&p);
        if (hdr_peek(&p) == ',') {
            p.i++;
            hdr_ws(&p);
        } else if (hdr_peek(&p) != '}') {
            return hdr_fail(&p, "',' or '}' after a value");
        }
    }
    p.i++;
    hdr_ws(&p);
    if (p.i < p.n) return hdr_fail(&p, "only padding (spaces and a newline) after the dict");
    if (!have_descr || !have_fortran || !have_shape)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "malformed header: key '%s' is missing from the dict at byte %" PRIu64
                         " (expected 'descr', 'fortran_order' and 'shape')",
                         !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape", p.base);
    return npy_descr(f, descr_at, err);
}

/* ------------------------------------------------------------ opening */

/* Open path for npy_parse: its size is what every header promise is
 * checked against. */
static enum mlp_status npy_open(struct npy_file *f, const char *path, struct mlp_error *err)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    f->fp = fopen(path, "rb");
    if (!f->fp) return npy_failf(f, err, MLP_ERR_OPEN, "cannot open: %s", strerror(errno));
    struct stat *sb = &f->at_open;
    if (fstat(fileno(f->fp), sb) != 0)
        return npy_failf(f, err, MLP_ERR_IO, "cannot stat: %s", strerror(errno));
    if (S_ISDIR(sb->st_mode)) return npy_failf(f, err, MLP_ERR_OPEN, "cannot open: is a directory");
    if (!S_ISREG(sb->st_mode))
        return npy_failf(f, err, MLP_ERR_OPEN,
                         "not a regular file (a .npy file is checked against its size)");
    f->size = (uint64_t)sb->st_size;
    return MLP_OK;
}

/* The preamble (magic, version, header length) and the header dict, read
 * and parsed into f; every length checked against the file's size. */
static enum mlp_status npy_read_header(struct npy_file *f, struct mlp_error *err)
{
    if (f->size == 0)
        return npy_failf(f, err, MLP_ERR_FORMAT, "empty file (expected a NumPy .npy header)");

    /* Magic and version. */
    unsigned char pre[12];
    size_t n_pre = f->size < 8 ? (size_t)f->size : 8;
    enum mlp_status st = npy_read(f, pre, n_pre, err);
    if (st != MLP_OK) return st;
    size_t n_magic = n_pre < 6 ? n_pre : 6;
    if (memcmp(pre, npy_magic, n_magic) != 0) {
        char got[3 * 6 + 1] = "";
        for (size_t i = 0, n = 0; i < n_magic; i++)
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%02X", i ? " " : "", pre[i]);
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "bad magic at byte 0: expected 93 4E 55 4D 50 59 (\\x93NUMPY), got %s: "
                         "not a NumPy .npy file",
                         got);
    }
    if (n_pre < 8)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "truncated header: file ends after %" PRIu64 " bytes (expected magic and "
                         "version, 8 bytes)",
                         f->size);
    unsigned major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "unsupported format version %u.%u at byte 6 (expected 1.0, 2.0 or 3.0)",
                         major, minor);
    unsigned len_bytes = major == 1 ? 2 : 4;
    if (f->size < 8 + len_bytes)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "truncated header: file ends after %" PRIu64 " bytes (version %u.0 needs a "
                         "%u-byte header length at byte 8)",
                         f->size, major, len_bytes);
    if ((st = npy_read(f, pre + 8, len_bytes, err)) != MLP_OK) return st;
    uint64_t hlen = ld_uint(pre + 8, len_bytes, false);
    uint64_t hstart = 8 + len_bytes;
    f->data_off = hstart + hlen;
    if (f->data_off > f->size)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "header length %" PRIu64 " at byte 8 runs past the end of the file: header "
                         "would end at byte %" PRIu64 ", file has %" PRIu64 " bytes",
                         hlen, f->data_off, f->size);
    if (hlen > NPY_MAX_HEADER)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "header length %" PRIu64 " at byte 8 is above the %u-byte limit", hlen,
                         NPY_MAX_HEADER);

    unsigned char *h = malloc(hlen ? (size_t)hlen : 1);
    if (!h) return npy_failf(f, err, MLP_ERR_NOMEM, "out of memory: %" PRIu64 "-byte header", hlen);
    st = npy_read(f, h, hlen, err);
    if (st == MLP_OK) st = npy_parse_header(f, h, (size_t)hlen, err);
    free(h);
    return st;
}

/* The shape and sizes the header declared: rows, the width (against
 * want_cols, 0: any), one value per row for labels, the byte limit, and a
 * payload that fills the rest of the file exactly. */
static enum mlp_status npy_check_shape(struct npy_file *f, bool labels, uint32_t want_cols, struct mlp_error *err)
{

    /* Dimensions: rows first, the rest flattened into columns in C order. */
    char shp[160];
    if (f->ndim == 0)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "shape () at byte %" PRIu64 " is a single value (expected at least one "
                         "dimension: rows)",
                         f->shape_at);
    for (unsigned d = 0; d < f->ndim; d++)
        if (f->dims[d] == 0)
            return npy_failf(f, err, MLP_ERR_FORMAT,
                             "shape %s at byte %" PRIu64 ": dimension %u is 0 (every dimension must "
                             "be at least 1%s)",
                             npy_shape_str(f, shp, sizeof shp), f->shape_at, d + 1,
                             d == 0 ? ": a data set needs a row" : "");
    f->n_rows = f->dims[0];
    f->n_cols = 1;
    unsigned big_dims = f->dims[0] > 1;
    for (unsigned d = 1; d < f->ndim; d++) {
        big_dims += f->dims[d] > 1;
        /* Checked step by step: the product could otherwise wrap 64 bits. */
        if (!mlp__mul_ok(f->n_cols, f->dims[d], MLP_MAX_WIDTH, &f->n_cols)) {
            char which[48];
            snprintf(which, sizeof which, d == 1 ? "dimension 2 is" : "dimensions 2..%u multiply to",
                     d + 1);
            return npy_failf(f, err, MLP_ERR_FORMAT,
                             "shape %s at byte %" PRIu64 ": row too wide: %s more than %u values "
                             "(MLP_MAX_WIDTH)",
                             npy_shape_str(f, shp, sizeof shp), f->shape_at, which, MLP_MAX_WIDTH);
        }
    }
    if (want_cols && f->n_cols != want_cols) return mlp__fail_width(err, f->path, f->n_cols, want_cols, "");
    if (labels && f->n_cols != 1)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "labels have shape %s at byte %" PRIu64 " (expected (n,) or (n, 1): one "
                         "label per row)",
                         npy_shape_str(f, shp, sizeof shp), f->shape_at);
    f->transpose = f->fortran && big_dims >= 2;

    /* Sizes: the stored payload and what it becomes in memory (x: up to 8
     * bytes per value; labels: 4), both under NPY_MAX_BYTES. */
    uint64_t out_bytes;
    size_t out_elem = labels ? sizeof(int32_t) : f->kind == NPY_KIND_FLOAT ? f->elem
                              : f->kind == NPY_KIND_UINT && f->elem == 1 ? 1
                                                                         : sizeof(double);
    if (!mlp__mul_ok(f->n_rows, f->n_cols, UINT64_MAX, &f->n_values) ||
        !mlp__mul_ok(f->n_values, f->elem, NPY_MAX_BYTES, &f->payload) ||
        !mlp__mul_ok(f->n_values, out_elem, NPY_MAX_BYTES, &out_bytes) || out_bytes > SIZE_MAX)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "shape %s at byte %" PRIu64 " of '%s' declares more than the %" PRIu64
                         "-byte limit on one .npy file",
                         npy_shape_str(f, shp, sizeof shp), f->shape_at, f->descr,
                         (uint64_t)NPY_MAX_BYTES);

    /* The payload must fill the rest of the file exactly. */
    uint64_t left = f->size - f->data_off;
    if (left < f->payload)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "truncated: header promises %" PRIu64 " bytes of payload (shape %s of "
                         "'%s') from byte %" PRIu64 ", file has %" PRIu64,
                         f->payload, npy_shape_str(f, shp, sizeof shp), f->descr, f->data_off, left);
    if (left > f->payload)
        return npy_failf(f, err, MLP_ERR_FORMAT,
                         "trailing data: %" PRIu64 " bytes after the %" PRIu64 "-byte payload, at "
                         "byte %" PRIu64 " (expected end of file)",
                         left - f->payload, f->payload, f->data_off + f->payload);
    return MLP_OK;
}

/* Check f's header against its size.  labels: the labels file, which must
 * hold one value per row.  want_cols: the width the caller needs (0: any),
 * checked before the header's sizes are. */
static enum mlp_status npy_parse(struct npy_file *f, bool labels, uint32_t want_cols, struct mlp_error *err)
{
    enum mlp_status st = npy_read_header(f, err);
    return st == MLP_OK ? npy_check_shape(f, labels, want_cols, err) : st;
}

static void npy_close(struct npy_file *f)
{
    /* Reading only: fclose's status adds nothing to what fread reported. */
    if (f->fp) fclose(f->fp);
    memset(f, 0, sizeof *f);
}

/* --------------------------------------------------------- the payload */

/* Where source element k (in file order) lands: its row and column. */
static void npy_row_col(const struct npy_file *f, uint64_t k, uint64_t *row, uint64_t *col)
{
    if (!f->fortran) {
        *row = k / f->n_cols;
        *col = k % f->n_cols;
        return;
    }
    /* Fortran order: the first index varies fastest.  The column is the
     * C-order index over dimensions 1.. of the tail's Fortran index. */
    *row = k % f->dims[0];
    uint64_t t = k / f->dims[0], col_c = 0, stride = f->n_cols;
    for (unsigned d = 1; d < f->ndim; d++) {
        stride /= f->dims[d];
        col_c += (t % f->dims[d]) * stride;
        t /= f->dims[d];
    }
    *col = col_c;
}

/* n elements from src into dst (contiguous) in the output element type. */
static void npy_convert(const struct npy_file *f, const unsigned char *src, uint64_t n, void *dst,
                        enum mlp_elem out)
{
    if (out == MLP_ELEM_U8) {
        memcpy(dst, src, (size_t)n);
    } else if (out == MLP_ELEM_F32) {
        float *o = dst;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t u = ld32(src + 4 * i, f->big);
            memcpy(&o[i], &u, 4);
        }
    } else if (f->kind == NPY_KIND_FLOAT) {
        double *o = dst;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t u = ld64(src + 8 * i, f->big);
            memcpy(&o[i], &u, 8);
        }
    } else {
        /* Integers become doubles: exact for |v| < 2^53, rounded beyond. */
        double *o = dst;
        for (uint64_t i = 0; i < n; i++) o[i] = npy_get(f, src + (size_t)i * f->elem);
    }
}

/* Refuse NaN/Inf among n converted values that came from file elements
 * k0.. (they would hide behind relu or blow up the loss far from here). */
static enum mlp_status npy_check_finite(const struct npy_file *f, const void *vals, uint64_t n,
                                        enum mlp_elem out, uint64_t k0, struct mlp_error *err)
{
    for (uint64_t i = 0; i < n; i++) {
        double v = out == MLP_ELEM_F32 ? ((const float *)vals)[i] : ((const double *)vals)[i];
        if (!isfinite(v)) {
            uint64_t row, col;
            npy_row_col(f, k0 + i, &row, &col);
            return npy_failf(f, err, MLP_ERR_FORMAT,
                             "value %g at row %" PRIu64 ", column %" PRIu64 " (byte %" PRIu64
                             ") is not finite",
                             v, row, col, f->data_off + (k0 + i) * f->elem);
        }
    }
    return MLP_OK;
}

/* Fortran-order scatter state: the next element's row and the C-order
 * column of its tail index (an odometer over dimensions 1.., first fastest). */
struct npy_scatter {
    uint64_t row, col;
    uint64_t idx[NPY_MAX_DIMS], stride[NPY_MAX_DIMS];
};

static void npy_scatter(const struct npy_file *f, struct npy_scatter *s, const void *vals,
                        uint64_t n, void *dst, size_t es)
{
    const unsigned char *v = vals;
    unsigned char *o = dst;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(o + (s->row * f->n_cols + s->col) * es, v + i * es, es);
        if (++s->row < f->dims[0]) continue;
        s->row = 0;
        for (unsigned d = 1; d < f->ndim; d++) {
            s->col += s->stride[d];
            if (++s->idx[d] < f->dims[d]) break;
            s->col -= f->dims[d] * s->stride[d];
            s->idx[d] = 0;
        }
    }
}

/* Rows [lo, hi) of a Fortran-order payload (a shard) into dst, (hi - lo) x
 * n_cols row-major values of `out`: the first index varies fastest, so each
 * column (tail index t) holds the shard's rows as one run of bytes, from
 * element t * dims[0] + lo; the runs are read one by one, nothing else. */
static enum mlp_status npy_read_x_columns(struct npy_file *f, void *dst, enum mlp_elem out, uint64_t lo,
                                          uint64_t hi, struct mlp_error *err)
{
    size_t es = mlp__elem_size(out);
    uint64_t per_chunk = NPY_CHUNK / f->elem, rows = hi - lo;
    unsigned char *raw = malloc(NPY_CHUNK);
    unsigned char *tmp = malloc((size_t)per_chunk * es);
    enum mlp_status st = MLP_OK;
    if (!raw || !tmp) st = npy_failf(f, err, MLP_ERR_NOMEM, "out of memory for a %u-byte read buffer", NPY_CHUNK);
    for (uint64_t t = 0; t < f->n_cols && st == MLP_OK; t++) {
        uint64_t row, col, k0 = t * f->dims[0] + lo;
        npy_row_col(f, k0, &row, &col);
        if ((st = npy_seek(f, f->data_off + k0 * f->elem, err)) != MLP_OK) break;
        for (uint64_t j = 0; j < rows && st == MLP_OK; j += per_chunk) {
            uint64_t n = rows - j < per_chunk ? rows - j : per_chunk;
            if ((st = npy_read(f, raw, n * f->elem, err)) != MLP_OK) break;
            npy_convert(f, raw, n, tmp, out);
            if (f->kind == NPY_KIND_FLOAT) st = npy_check_finite(f, tmp, n, out, k0 + j, err);
            for (uint64_t i = 0; i < n; i++)
                memcpy((unsigned char *)dst + ((j + i) * f->n_cols + col) * es, tmp + i * es, es);
        }
    }
    free(raw);
    free(tmp);
    return st;
}

/* Read rows [lo, hi) of the payload (all of them, or a shard's) into dst:
 * (hi - lo) x n_cols row-major values of `out`. */
static enum mlp_status npy_read_x(struct npy_file *f, void *dst, enum mlp_elem out, uint64_t lo, uint64_t hi,
                                  struct mlp_error *err)
{
    size_t es = mlp__elem_size(out);
    bool is_float = f->kind == NPY_KIND_FLOAT;
    enum mlp_status st;
    if (lo == hi) return MLP_OK;
    if (f->transpose && (lo > 0 || hi < f->n_rows)) return npy_read_x_columns(f, dst, out, lo, hi, err);

    /* In C order (or Fortran order with one dimension > 1, the same bytes)
     * a shard is one run of rows: from its first value k0, n values. */
    uint64_t k0 = lo * f->n_cols, n_values = (hi - lo) * f->n_cols;
    if (k0 > 0 && (st = npy_seek(f, f->data_off + k0 * f->elem, err)) != MLP_OK) return st;

    /* Stored as it will be kept: straight into place. */
    if (!f->transpose && es == f->elem && (out == MLP_ELEM_U8 || is_float) &&
        (f->elem == 1 || f->big == host_big_endian())) {
        if ((st = npy_read(f, dst, n_values * f->elem, err)) != MLP_OK) return st;
        return is_float ? npy_check_finite(f, dst, n_values, out, k0, err) : MLP_OK;
    }

    unsigned char *raw = malloc(NPY_CHUNK);
    /* Converted values of one chunk before the Fortran scatter. */
    void *tmp = f->transpose ? malloc((size_t)(NPY_CHUNK / f->elem) * es) : NULL;
    struct npy_scatter *sc = f->transpose ? calloc(1, sizeof *sc) : NULL;
    if (!raw || (f->transpose && (!tmp || !sc))) {
        free(raw);
        free(tmp);
        free(sc);
        return npy_failf(f, err, MLP_ERR_NOMEM, "out of memory for a %u-byte read buffer", NPY_CHUNK);
    }
    if (sc) {
        uint64_t stride = f->n_cols;
        for (unsigned d = 1; d < f->ndim; d++) sc->stride[d] = stride /= f->dims[d];
    }
    st = MLP_OK;
    uint64_t per_chunk = NPY_CHUNK / f->elem;
    for (uint64_t k = 0; k < n_values && st == MLP_OK; k += per_chunk) {
        uint64_t n = n_values - k < per_chunk ? n_values - k : per_chunk;
        if ((st = npy_read(f, raw, n * f->elem, err)) != MLP_OK) break;
        void *vals = sc ? tmp : (unsigned char *)dst + k * es;
        npy_convert(f, raw, n, vals, out);
        if (is_float) st = npy_check_finite(f, vals, n, out, k0 + k, err);
        if (sc && st == MLP_OK) npy_scatter(f, sc, vals, n, dst, es);
    }
    free(raw);
    free(tmp);
    free(sc);
    return st;
}

/* Read the labels, rows [lo, hi) of them into out[0..hi - lo), and find
 * n_classes (1 + the largest).  Every row is read and checked, a shard's
 * or not: n_classes must be the whole file's, so that the processes that
 * load its shards agree on it, and a bad label anywhere fails them all
 * alike.  Labels are 1 to 8 bytes a row, a small part of the data. */
static enum mlp_status npy_read_labels(struct npy_file *f, int32_t *out, uint64_t lo, uint64_t hi,
                                       uint32_t *n_classes, struct mlp_error *err)
{
    unsigned char *raw = malloc(NPY_CHUNK);
    if (!raw) return npy_failf(f, err, MLP_ERR_NOMEM, "out of memory for a %u-byte read buffer", NPY_CHUNK);
    enum mlp_status st = MLP_OK;
    uint64_t per_chunk = NPY_CHUNK / f->elem;
    uint32_t top = 0;
    for (uint64_t k = 0; k < f->n_values && st == MLP_OK; k += per_chunk) {
        uint64_t n = f->n_values - k < per_chunk ? f->n_values - k : per_chunk;
        if ((st = npy_read(f, raw, n * f->elem, err)) != MLP_OK) break;
        for (uint64_t i = 0; i < n; i++) {
            const unsigned char *p = raw + i * f->elem;
            uint64_t row = k + i, at = f->data_off + row * f->elem;
            char shown[40];
            bool in_range;
            int64_t y = 0;
            if (f->kind == NPY_KIND_FLOAT) {
                double v = npy_get(f, p);
                if (!isfinite(v) || v != floor(v)) {
                    st = npy_failf(f, err, MLP_ERR_FORMAT,
                                   "label %.17g at row %" PRIu64 " (byte %" PRIu64
                                   ") is not an integer",
                                   v, row, at);
                    break;
                }
                snprintf(shown, sizeof shown, "%.17g", v);
                in_range = v >= 0 && v < (double)MLP_MAX_CLASSES;
                if (in_range) y = (int64_t)v;
            } else {
                uint64_t u = ld_uint(p, f->elem, f->big);
                if (f->kind == NPY_KIND_UINT) {
                    snprintf(shown, sizeof shown, "%" PRIu64, u);
                    in_range = u < MLP_MAX_CLASSES;
                    y = (int64_t)(in_range ? u : 0);
                } else {
                    y = sext(u, f->elem);
                    snprintf(shown, sizeof shown, "%" PRId64, y);
                    in_range = y >= 0 && y < (int64_t)MLP_MAX_CLASSES;
                }
            }
            if (!in_range) {
                st = npy_failf(f, err, MLP_ERR_RANGE,
                               "label %s at row %" PRIu64 " (byte %" PRIu64 ") is outside [0, %u)",
                               shown, row, at, MLP_MAX_CLASSES);
                break;
            }
            if (row >= lo && row < hi) out[row - lo] = (int32_t)y;
            if ((uint32_t)y + 1 > top) top = (uint32_t)y + 1;
        }
    }
    free(raw);
    *n_classes = top;
    return st;
}

/* Where one file's bytes come from: a path, or a caller's buffer. */
struct npy_src {
    const char *path;
    const struct mlp_buffer *mem;
};

/* Open f from s and check its header. */
static enum mlp_status npy_begin(struct npy_file *f, const struct npy_src *s, bool labels, uint32_t want_cols,
                                 struct mlp_error *err)
{
    if (s->mem) {
        static const unsigned char none[1];
        memset(f, 0, sizeof *f);
        f->path = s->mem->name ? s->mem->name : labels ? "<memory labels>" : "<memory>";
        f->mem = s->mem->size ? s->mem->data : none;
        f->size = s->mem->size;
    } else {
        enum mlp_status st = npy_open(f, s->path, err);
        if (st != MLP_OK) return st;
    }
    return npy_parse(f, labels, want_cols, err);
}

/* The load proper, from files or buffers alike (y NULL: no labels). */
static enum mlp_status npy_load(struct mlp_dataset *ds, const struct npy_src *x, const struct npy_src *y,
                                const struct mlp_load_params *p, struct mlp_error *err)
{
    /* *ds is output only: whatever it held before is overwritten, not freed. */
    memset(ds, 0, sizeof *ds);
    struct npy_file xf, yf;
    memset(&xf, 0, sizeof xf);
    memset(&yf, 0, sizeof yf);
    enum mlp_status st;

    if ((st = mlp__shard_check(p, x->path ? x->path : x->mem->name ? x->mem->name : "<memory>", err)) != MLP_OK)
        return st;
    /* Both headers first: a width or count mismatch is found before megabytes
     * are read. */
    if ((st = npy_begin(&xf, x, false, p ? p->n_cols : 0, err)) != MLP_OK) goto fail;
    if (y) {
        if ((st = npy_begin(&yf, y, true, 0, err)) != MLP_OK) goto fail;
        if (yf.n_rows != xf.n_rows) {
            st = mlp__fail_count(err, xf.path, xf.n_rows, "rows", yf.path, yf.n_rows);
            goto fail;
        }
    }

    /* u1 stays u8, f4 stays f32; f8 and every integer type become f64. */
    enum mlp_elem out = xf.kind == NPY_KIND_FLOAT ? (xf.elem == 4 ? MLP_ELEM_F32 : MLP_ELEM_F64)
                        : xf.kind == NPY_KIND_UINT && xf.elem == 1 ? MLP_ELEM_U8
                                                                   : MLP_ELEM_F64;
    /* Sizes were bounded by NPY_MAX_BYTES in npy_parse, and are by the
     * machine's memory in mlp__dataset_alloc (the shard's, when sharded), so
     * only a real shortage of memory fails here. */
    uint64_t lo, hi;
    mlp__shard_rows(p, xf.n_rows, &lo, &hi);
    st = mlp__dataset_alloc(ds, hi - lo, (uint32_t)xf.n_cols, out, y != NULL, 0, err);
    if (st != MLP_OK) {
        if (err) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            npy_failf(&xf, err, st, "%s", why);
        }
        goto fail;
    }
    if ((st = npy_read_x(&xf, ds->owned, out, lo, hi, err)) != MLP_OK) goto fail;
    if (y) {
        uint32_t n_classes = 0;
        if ((st = npy_read_labels(&yf, (int32_t *)ds->labels, lo, hi, &n_classes, err)) != MLP_OK) goto fail;
        ds->n_classes = n_classes;
    }
    /* (n, h, w) is a grey image, (n, h, w, c) one with 1, 3 or 4 channels. */
    if (xf.ndim == 3 || (xf.ndim == 4 && (xf.dims[3] == 1 || xf.dims[3] == 3 || xf.dims[3] == 4))) {
        ds->sample_shape[0] = (uint32_t)xf.dims[1];
        ds->sample_shape[1] = (uint32_t)xf.dims[2];
        ds->sample_shape[2] = xf.ndim == 4 ? (uint32_t)xf.dims[3] : 1;
    }
    npy_close(&xf);
    npy_close(&yf);
    return MLP_OK;

fail:
    npy_close(&xf);
    npy_close(&yf);
    mlp_dataset_free(ds); /* frees `owned` if it was allocated, and zeroes */
    return st;
}

enum mlp_status mlp__load_npy(struct mlp_dataset *ds, const char *x_path, const char *y_path,
                              const struct mlp_load_params *p, struct mlp_error *err)
{
    MLP_ASSERT(ds && x_path);
    struct npy_src x = {x_path, NULL}, y = {y_path, NULL};
    return npy_load(ds, &x, y_path ? &y : NULL, p, err);
}

enum mlp_status mlp_dataset_load_npy(struct mlp_dataset *ds, const char *x_path, const char *y_path,
                                     struct mlp_error *err)
{
    return mlp__load_npy(ds, x_path, y_path, NULL, err);
}

enum mlp_status mlp_dataset_load_npy_mem(struct mlp_dataset *ds, const struct mlp_buffer *x,
                                         const struct mlp_buffer *y, const struct mlp_load_params *p,
                                         struct mlp_error *err)
{
    MLP_ASSERT(ds && x && (x->data || x->size == 0));
    MLP_ASSERT(!y || y->data || y->size == 0);
    struct npy_src xs = {NULL, x}, ys = {NULL, y};
    return npy_load(ds, &xs, y ? &ys : NULL, p, err);
}
