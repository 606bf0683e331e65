/* SPDX-License-Identifier: MIT */
/* HDF5 loader through libhdf5's C API, from a file or (through libhdf5's
 * file-image API and its core driver) a caller's buffer: finds (or is told)
 * the inputs and labels data sets at the file's root, checks their declared
 * width and sizes before allocating, and turns libhdf5's error stack into
 * one-line messages without letting the library print.  Every HDF5 handle is
 * closed on every path.  A shard (mlp_load_params.shard_*) reads a
 * hyperslab of the inputs' rows and the labels whole (h5_read_labels). */
#include "data/shard.h"
#include "internal.h"

#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

/*
 * libhdf5 (serial build) is not thread-safe: like any other user of it in the
 * process, this loader must not run concurrently with other HDF5 calls.  It
 * changes no global HDF5 state for good: the automatic error printer is
 * switched off for the duration of a load and restored after.
 *
 * What libhdf5 reads inside the file is libhdf5's to validate.  Missing,
 * foreign, empty and truncated files are refused cleanly (test_hdf5), and
 * declared sizes are capped here; but libhdf5 1.10 is not hardened against
 * deliberately corrupted metadata: a mutation fuzz of a chunked, compressed
 * file under ASan finds heap over-reads inside H5Dread (chunk sizes taken on
 * trust), which no check from outside the library can rule out.
 */

/* Largest data set (as stored, and after conversion) we accept: 64 GiB, as
 * for IDX and NPY. */
#define H5L_MAX_BYTES (1ull << 36)

/* HDF5 can declare huge dimensions in a tiny file (chunks never written read
 * as the fill value; compressed chunks expand).  Above this size, a data set
 * must store at least 1/H5L_MAX_RATIO of its declared bytes: deflate, the
 * usual filter, cannot compress more than ~1032:1. */
#define H5L_RATIO_FLOOR (1ull << 26)
#define H5L_MAX_RATIO 1024u

/* At most this many links at the root are looked at (a hostile file could
 * hold millions). */
#define H5L_MAX_LINKS 4096u

/* Messages list data sets up to this many characters. */
#define H5L_LIST_CHARS 300u

static const unsigned char h5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1A, '\n'};

/* ------------------------------------------------------------- messages */

/* mlp__fail with the file's (shortened) name in front. */
static enum mlp_status h5_failf(const char *path, struct mlp_error *err, enum mlp_status st,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum mlp_status h5_failf(const char *path, struct mlp_error *err, enum mlp_status st,
                                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum mlp_status r = mlp__vfail_file(err, st, path, fmt, ap);
    va_end(ap);
    return r;
}

/* What libhdf5 said about the last failure: the most specific entry of its
 * error stack, and whether a file lock was refused anywhere in it. */
struct h5_why {
    char desc[160];
    bool lock;
};

static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    struct h5_why *w = data;
    if (n == 0 && e->desc) snprintf(w->desc, sizeof w->desc, "%s", e->desc);
    if (e->min_num == H5E_CANTLOCKFILE) w->lock = true;
    return 0;
}

static struct h5_why h5_last_error(void)
{
    struct h5_why w = {"", false};
    /* Upward: the most specific error (where it was detected) first. */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_walk, &w);
    if (!w.desc[0]) snprintf(w.desc, sizeof w.desc, "no detail from libhdf5");
    return w;
}

/* ------------------------------------------------------------ data sets */

/* What a data set declares: shape and element type. */
struct h5_info {
    char *name;
    int rank;                    /* -1: not a simple dataspace (null) */
    hsize_t dims[H5S_MAX_RANK];
    H5T_class_t cls;
    size_t size;                 /* bytes per element as stored */
    bool is_signed;
};

static bool h5_numeric(const struct h5_info *it)
{
    return it->cls == H5T_INTEGER || it->cls == H5T_FLOAT;
}

/* "train_set_x (209, 64, 64, 3) u8" into buf (appended at *n, bounded). */
static void h5_describe(const struct h5_info *it, char *buf, size_t len, size_t *n)
{
#define H5_PUT(...)                                                                   \
    do {                                                                              \
        if (*n < len) *n += (size_t)snprintf(buf + *n, len - *n, __VA_ARGS__);        \
        if (*n > len) *n = len;                                                       \
    } while (0)
    H5_PUT("%s ", it->name);
    if (it->rank < 0) {
        H5_PUT("(no dataspace)");
    } else {
        H5_PUT("(");
        for (int d = 0; d < it->rank; d++) H5_PUT("%s%" PRIu64, d ? ", " : "", (uint64_t)it->dims[d]);
        H5_PUT(it->rank == 1 ? ",)" : ")");
    }
    if (it->cls == H5T_INTEGER)
        H5_PUT(" %c%zu", it->is_signed ? 'i' : 'u', 8 * it->size);
    else if (it->cls == H5T_FLOAT)
        H5_PUT(" f%zu", 8 * it->size);
    else
        H5_PUT(" %s", it->cls == H5T_STRING     ? "string"
                      : it->cls == H5T_COMPOUND ? "compound"
                      : it->cls == H5T_ENUM     ? "enum"
                      : it->cls == H5T_ARRAY    ? "array"
                      : it->cls == H5T_VLEN     ? "vlen"
                                                : "non-numeric");
#undef H5_PUT
}

/* Type and shape of an open data set; false when libhdf5 cannot say. */
static bool h5_info_of(hid_t d, struct h5_info *it)
{
    hid_t t = H5Dget_type(d);
    if (t < 0) return false;
    it->cls = H5Tget_class(t);
    it->size = H5Tget_size(t);
    it->is_signed = it->cls == H5T_INTEGER && H5Tget_sign(t) != H5T_SGN_NONE;
    H5Tclose(t);
    if (it->cls == H5T_NO_CLASS || it->size == 0) return false;

    hid_t s = H5Dget_space(d);
    if (s < 0) return false;
    bool ok = true;
    H5S_class_t sc = H5Sget_simple_extent_type(s);
    if (sc == H5S_NULL) {
        it->rank = -1;
    } else if (sc == H5S_SCALAR) {
        it->rank = 0;
    } else {
        int r = H5Sget_simple_extent_ndims(s);
        ok = r >= 0 && r <= H5S_MAX_RANK && H5Sget_simple_extent_dims(s, it->dims, NULL) == r;
        it->rank = r;
    }
    H5Sclose(s);
    return ok;
}

/* The numeric data sets at the root, and everything else for messages. */
struct h5_list {
    struct h5_info *items;
    size_t n, cap;
    bool more;  /* stopped at H5L_MAX_LINKS */
    bool nomem;
};

static void h5_list_free(struct h5_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->items[i].name);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static herr_t h5_list_link(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    struct h5_list *l = data;
    /* Hard links only: soft and external links could point anywhere,
     * including into other files. */
    if (info->type != H5L_TYPE_HARD) return 0;
    if (l->n == H5L_MAX_LINKS) {
        l->more = true;
        return 1; /* stop */
    }
    hid_t o = H5Oopen(group, name, H5P_DEFAULT);
    if (o < 0) return 0;
    struct h5_info it;
    memset(&it, 0, sizeof it);
    bool is_ds = H5Iget_type(o) == H5I_DATASET && h5_info_of(o, &it);
    H5Oclose(o);
    if (!is_ds) return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct h5_info *ni = realloc(l->items, cap * sizeof *ni);
        if (!ni) {
            l->nomem = true;
            return -1;
        }
        l->items = ni;
        l->cap = cap;
    }
    size_t len = strlen(name);
    it.name = malloc(len + 1);
    if (!it.name) {
        l->nomem = true;
        return -1;
    }
    memcpy(it.name, name, len + 1);
    l->items[l->n++] = it;
    return 0;
}

/* Data sets of the list that pass `keep` ("a (2,) u8, b (3, 4) f32") into
 * buf, cut with "..." where it runs out of room. */
static const char *h5_list_str(const struct h5_list *l, bool (*keep)(const struct h5_info *, const void *),
                               const void *ctx, char *buf, size_t len)
{
    char tmp[H5L_LIST_CHARS + 64];
    size_t n = 0, shown = 0;
    tmp[0] = '\0';
    for (size_t i = 0; i < l->n && n < sizeof tmp; i++) {
        if (keep && !keep(&l->items[i], ctx)) continue;
        if (shown++) {
            n += (size_t)snprintf(tmp + n, sizeof tmp - n, ", ");
            if (n >= sizeof tmp) break;
        }
        h5_describe(&l->items[i], tmp, sizeof tmp, &n);
    }
    if (l->more && n < sizeof tmp) n += (size_t)snprintf(tmp + n, sizeof tmp - n, ", ...");
    if (shown == 0) snprintf(tmp, sizeof tmp, "none");
    if (strlen(tmp) >= len) memcpy(tmp + len - 4, "...", 4);
    snprintf(buf, len, "%s", tmp);
    return buf;
}

/* Case-insensitive: is `name` "<c>" or "..._<c>"? */
static bool h5_named(const char *name, char c)
{
    size_t n = strlen(name);
    if (n == 0 || (name[n - 1] | 0x20) != c) return false;
    return n == 1 || name[n - 2] == '_';
}

static bool h5_x_candidate(const struct h5_info *it, const void *ctx)
{
    (void)ctx;
    return h5_numeric(it) && it->rank >= 2;
}

struct h5_y_ctx {
    const char *x_name;
    uint64_t rows;
};

static bool h5_y_candidate(const struct h5_info *it, const void *ctx)
{
    const struct h5_y_ctx *c = ctx;
    return h5_numeric(it) && it->rank == 1 && it->dims[0] == c->rows && strcmp(it->name, c->x_name) != 0;
}

/* ------------------------------------------------------------ the loader */

/* Everything one load holds, released by h5_release. */
struct h5_load {
    const char *path;
    struct mlp_error *err;
    hid_t file, dx, dy;
    struct h5_list list;
    struct h5_info xi, yi;   /* names point into list or at the caller's keys */
    void *ybuf;
};

static void h5_release(struct h5_load *L)
{
    if (L->dy >= 0) H5Dclose(L->dy);
    if (L->dx >= 0) H5Dclose(L->dx);
    if (L->file >= 0) H5Fclose(L->file);
    L->dy = L->dx = L->file = -1;
    h5_list_free(&L->list);
    free(L->ybuf);
    L->ybuf = NULL;
}

/* "not an HDF5 file" unless the first 8 bytes (n_first of them read) or
 * those at a user-block offset (512, 1024, 2048, ...) of a `size`-byte file
 * are the HDF5 signature; at(off, b) reads the 8 bytes at off into b. */
static enum mlp_status h5_signature_at(const char *path, const unsigned char *first, size_t n_first, uint64_t size,
                                       bool (*at)(const void *src, uint64_t off, unsigned char *b), const void *src,
                                       struct mlp_error *err)
{
    unsigned char b[8];
    bool found = n_first == 8 && memcmp(first, h5_signature, 8) == 0;
    for (uint64_t off = 512; !found && off + 8 <= size && off <= (uint64_t)INT64_MAX / 2; off *= 2)
        found = at(src, off, b) && memcmp(b, h5_signature, 8) == 0;
    if (found) return MLP_OK;
    char got[3 * 8 + 1] = "";
    for (size_t i = 0, n = 0; i < n_first; i++)
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%02X", i ? " " : "", first[i]);
    return h5_failf(path, err, MLP_ERR_FORMAT,
                    "not an HDF5 file: expected the signature 89 48 44 46 0D 0A 1A 0A at byte 0 "
                    "(or at 512, 1024, ...), got %s",
                    got);
}

static bool h5_file_at(const void *src, uint64_t off, unsigned char *b)
{
    FILE *fp = (FILE *)src;
    return fseeko(fp, (off_t)off, SEEK_SET) == 0 && fread(b, 1, 8, fp) == 8;
}

static bool h5_mem_at(const void *src, uint64_t off, unsigned char *b)
{
    memcpy(b, (const unsigned char *)src + off, 8); /* off + 8 <= size: checked by the caller */
    return true;
}

/* Before libhdf5 sees the file: it exists, is readable, and carries the HDF5
 * signature at byte 0 or at a user-block offset (512, 1024, 2048, ...). */
static enum mlp_status h5_precheck(const char *path, struct mlp_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return h5_failf(path, err, MLP_ERR_OPEN, "cannot open: %s", strerror(errno));
    struct stat sb;
    enum mlp_status st = MLP_OK;
    if (fstat(fileno(fp), &sb) != 0) {
        st = h5_failf(path, err, MLP_ERR_IO, "cannot stat: %s", strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        st = h5_failf(path, err, MLP_ERR_OPEN, "cannot open: is a directory");
    } else if (!S_ISREG(sb.st_mode)) {
        st = h5_failf(path, err, MLP_ERR_OPEN, "not a regular file (libhdf5 needs to seek)");
    } else if (sb.st_size == 0) {
        st = h5_failf(path, err, MLP_ERR_FORMAT, "not an HDF5 file: empty file");
    } else {
        unsigned char first[8] = {0};
        size_t n_first = fread(first, 1, sizeof first, fp);
        st = h5_signature_at(path, first, n_first, (uint64_t)sb.st_size, h5_file_at, fp, err);
    }
    fclose(fp);
    return st;
}

/* Open the data set `key` given by the caller. */
static enum mlp_status h5_open_key(struct h5_load *L, const char *key, const char *role, hid_t *d,
                                   struct h5_info *it)
{
    char list[H5L_LIST_CHARS];
    /* H5Lexists first: it fails cleanly on a missing link where H5Dopen2
     * would also accept paths into groups. */
    htri_t there = key[0] ? H5Lexists(L->file, key, H5P_DEFAULT) : 0;
    if (there > 0) *d = H5Dopen2(L->file, key, H5P_DEFAULT);
    if (there <= 0 || *d < 0)
        return h5_failf(L->path, L->err, MLP_ERR_ARG,
                        "no data set named '%s' for %s (data sets at the root: %s)", key, role,
                        h5_list_str(&L->list, NULL, NULL, list, sizeof list));
    memset(it, 0, sizeof *it);
    if (!h5_info_of(*d, it)) {
        struct h5_why w = h5_last_error();
        return h5_failf(L->path, L->err, MLP_ERR_FORMAT, "data set '%s': cannot read its type or shape: %s",
                        key, w.desc);
    }
    it->name = (char *)key; /* not owned: never freed through `it` */
    return MLP_OK;
}

/* Pick the one item passing `keep`; among several, the one named like
 * `want` (exact), else the only one named "<c>" or "..._<c>". */
static enum mlp_status h5_pick(struct h5_load *L, bool (*keep)(const struct h5_info *, const void *),
                               const void *ctx, const char *want, char c, const char *role,
                               const char *flag, const struct h5_info **out)
{
    const struct h5_info *one = NULL, *named = NULL, *exact = NULL;
    size_t n = 0, n_named = 0;
    for (size_t i = 0; i < L->list.n; i++) {
        const struct h5_info *it = &L->list.items[i];
        if (!keep(it, ctx)) continue;
        n++;
        one = it;
        if (want && strcmp(it->name, want) == 0) exact = it;
        if (h5_named(it->name, c)) {
            n_named++;
            named = it;
        }
    }
    *out = n == 1 ? one : exact ? exact : n_named == 1 ? named : NULL;
    if (*out || n == 0) return MLP_OK;
    char list[H5L_LIST_CHARS];
    return h5_failf(L->path, L->err, MLP_ERR_ARG,
                    "%zu data sets could be the %s: %s; pass %s NAME to choose (x_key/y_key in "
                    "mlp_load_params)",
                    n, role, h5_list_str(&L->list, keep, ctx, list, sizeof list), flag);
}

/* A large data set must keep a fair share of its declared bytes in the file:
 * refuses tiny files that would make us allocate (and fill) gigabytes. */
static enum mlp_status h5_check_storage(struct h5_load *L, hid_t d, const char *role, const char *desc,
                                        uint64_t stored, uint64_t converted)
{
    /* The floor applies to what we would allocate (converted, up to 8x the
     * stored size for i8 -> f64), the ratio to what the file stores. */
    if (stored <= H5L_RATIO_FLOOR && converted <= H5L_RATIO_FLOOR) return MLP_OK;
    uint64_t on_disk = H5Dget_storage_size(d);
    if (on_disk >= stored / H5L_MAX_RATIO) return MLP_OK;
    return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                    "%s %s: declares %" PRIu64 " bytes but stores only %" PRIu64
                    " in the file (never written, or compressed beyond %u:1)",
                    role, desc, stored, on_disk, H5L_MAX_RATIO);
}

/* Rows, columns and sizes of the inputs, checked before anything is
 * allocated; the width against want_cols (0: any) as soon as the dataspace
 * gives it. */
static enum mlp_status h5_check_x(struct h5_load *L, uint32_t want_cols, uint64_t *rows, uint32_t *cols,
                                  enum mlp_elem *out)
{
    const struct h5_info *x = &L->xi;
    enum mlp_status st;
    char desc[200];
    size_t dn = 0;
    h5_describe(x, desc, sizeof desc, &dn);
    if (!h5_numeric(x))
        return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                        "inputs %s: expected integers or floating-point numbers", desc);
    if (x->rank < 1)
        return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                        "inputs %s: expected at least one dimension (rows)", desc);
    uint64_t n_cols = 1;
    for (int d = 0; d < x->rank; d++) {
        if (x->dims[d] == 0)
            return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                            "inputs %s: dimension %d is 0 (every dimension must be at least 1)", desc,
                            d + 1);
        if (d > 0 && !mlp__mul_ok(n_cols, x->dims[d], MLP_MAX_WIDTH, &n_cols)) {
            char which[48];
            snprintf(which, sizeof which, d == 1 ? "dimension 2 is" : "dimensions 2..%d multiply to",
                     d + 1);
            return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                            "inputs %s: row too wide: %s more than %u values (MLP_MAX_WIDTH)", desc,
                            which, MLP_MAX_WIDTH);
        }
    }
    if (want_cols && n_cols != want_cols) return mlp__fail_width(L->err, L->path, n_cols, want_cols, "");
    /* u8 stays u8; f32 (and smaller floats) f32; every other type f64. */
    *out = x->cls == H5T_INTEGER ? (x->size == 1 && !x->is_signed ? MLP_ELEM_U8 : MLP_ELEM_F64)
           : x->size <= 4       ? MLP_ELEM_F32
                                : MLP_ELEM_F64;
    uint64_t values, stored, bytes;
    if (!mlp__mul_ok(x->dims[0], n_cols, UINT64_MAX, &values) ||
        !mlp__mul_ok(values, x->size, H5L_MAX_BYTES, &stored) ||
        !mlp__mul_ok(values, mlp__elem_size(*out), H5L_MAX_BYTES, &bytes) || bytes > SIZE_MAX)
        return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                        "inputs %s: more than the %" PRIu64 "-byte limit on one data set", desc,
                        (uint64_t)H5L_MAX_BYTES);
    if ((st = h5_check_storage(L, L->dx, "inputs", desc, stored, bytes)) != MLP_OK) return st;
    *rows = x->dims[0];
    *cols = (uint32_t)n_cols;
    return MLP_OK;
}

/* Labels: one integer (or integral float) per row, rows [lo, hi) of them
 * into out.  Every row is read and checked, a shard's load or not: n_classes
 * must be the whole file's, so that the processes loading its shards agree
 * on it (and a bad label anywhere fails them all alike); labels are 8 bytes
 * a row here, a small part of the data. */
static enum mlp_status h5_read_labels(struct h5_load *L, uint64_t rows, uint64_t lo, uint64_t hi, int32_t *out,
                                      uint32_t *n_classes)
{
    const struct h5_info *y = &L->yi;
    char desc[200];
    size_t dn = 0;
    h5_describe(y, desc, sizeof desc, &dn);
    if (!h5_numeric(y))
        return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                        "labels %s: expected integers (or integral floating-point numbers)", desc);
    if (!(y->rank == 1 || (y->rank == 2 && y->dims[1] == 1)))
        return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                        "labels %s: expected shape (n,) or (n, 1): one label per row", desc);
    if (y->dims[0] != rows)
        return h5_failf(L->path, L->err, MLP_ERR_SHAPE,
                        "count mismatch: inputs '%s' have %" PRIu64 " rows but labels %s have %" PRIu64,
                        L->xi.name, rows, desc, (uint64_t)y->dims[0]);
    /* rows was bounded with the inputs (at most 2^36), y->size by HDF5. */
    enum mlp_status st = h5_check_storage(L, L->dy, "labels", desc, rows * y->size, rows * sizeof(int32_t));
    if (st != MLP_OK) return st;
    bool is_float = y->cls == H5T_FLOAT;
    L->ybuf = malloc((size_t)rows * 8);
    if (!L->ybuf)
        return h5_failf(L->path, L->err, MLP_ERR_NOMEM, "out of memory: %" PRIu64 " labels", rows);
    if (H5Dread(L->dy, is_float ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                L->ybuf) < 0) {
        struct h5_why w = h5_last_error();
        return h5_failf(L->path, L->err, w.lock ? MLP_ERR_IO : MLP_ERR_FORMAT,
                        "reading labels '%s' failed (truncated or corrupt file?): %s", y->name, w.desc);
    }
    uint32_t top = 0;
    for (uint64_t i = 0; i < rows; i++) {
        int64_t v;
        if (is_float) {
            double f = ((const double *)L->ybuf)[i];
            if (!isfinite(f) || f != floor(f))
                return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                                "label %.17g at row %" PRIu64 " of '%s' is not an integer", f, i, y->name);
            if (f < 0 || f >= (double)MLP_MAX_CLASSES)
                return h5_failf(L->path, L->err, MLP_ERR_RANGE,
                                "label %.17g at row %" PRIu64 " of '%s' is outside [0, %u)", f, i,
                                y->name, MLP_MAX_CLASSES);
            v = (int64_t)f;
        } else {
            /* Unsigned 64-bit values past INT64_MAX arrive clipped to it. */
            v = ((const int64_t *)L->ybuf)[i];
            if (v < 0 || v >= (int64_t)MLP_MAX_CLASSES)
                return h5_failf(L->path, L->err, MLP_ERR_RANGE,
                                "label %" PRId64 " at row %" PRIu64 " of '%s' is outside [0, %u)", v, i,
                                y->name, MLP_MAX_CLASSES);
        }
        if (i >= lo && i < hi) out[i - lo] = (int32_t)v;
        if ((uint32_t)v + 1 > top) top = (uint32_t)v + 1;
    }
    *n_classes = top;
    return MLP_OK;
}

/* Read rows [lo, hi) of the inputs (all of them, or a shard's) into x
 * ((hi - lo) x cols of `out`) and refuse NaN/Inf.  A shard is a hyperslab
 * of the file's dataspace, rows lo.. and every index of the other
 * dimensions, read into a memory space of its own shape: libhdf5 reads
 * only the chunks (or the contiguous bytes) that hold it. */
static enum mlp_status h5_read_x(struct h5_load *L, void *x, uint64_t lo, uint64_t hi, uint32_t cols,
                                 enum mlp_elem out)
{
    hid_t mem = out == MLP_ELEM_U8 ? H5T_NATIVE_UINT8 : out == MLP_ELEM_F32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    uint64_t rows = hi - lo;
    if (rows == 0) return MLP_OK;
    hid_t fspace = H5S_ALL, mspace = H5S_ALL;
    bool part = lo > 0 || hi < L->xi.dims[0];
    herr_t r = 0;
    if (part) {
        hsize_t start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
        for (int d = 0; d < L->xi.rank; d++) count[d] = L->xi.dims[d];
        start[0] = lo;
        count[0] = rows;
        fspace = H5Dget_space(L->dx);
        mspace = H5Screate_simple(L->xi.rank, count, NULL);
        if (fspace < 0 || mspace < 0 || H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
            r = -1;
    }
    if (r >= 0) r = H5Dread(L->dx, mem, mspace, fspace, H5P_DEFAULT, x);
    /* The error stack is read before closing the spaces adds to it. */
    struct h5_why w = r < 0 ? h5_last_error() : (struct h5_why){"", false};
    if (part) {
        if (mspace >= 0) H5Sclose(mspace);
        if (fspace >= 0) H5Sclose(fspace);
    }
    if (r < 0)
        return h5_failf(L->path, L->err, w.lock ? MLP_ERR_IO : MLP_ERR_FORMAT,
                        "reading inputs '%s' failed (truncated or corrupt file?): %s", L->xi.name, w.desc);
    if (L->xi.cls != H5T_FLOAT) return MLP_OK;
    uint64_t n = rows * cols;
    for (uint64_t i = 0; i < n; i++) {
        double v = out == MLP_ELEM_F32 ? ((const float *)x)[i] : ((const double *)x)[i];
        if (!isfinite(v))
            return h5_failf(L->path, L->err, MLP_ERR_FORMAT,
                            "inputs '%s': value %g at row %" PRIu64 ", column %" PRIu64 " is not finite",
                            L->xi.name, v, lo + i / cols, i % cols);
    }
    return MLP_OK;
}

/* Open the file at L->path into L->file. */
static enum mlp_status h5_open_path(struct h5_load *L)
{
    const char *path = L->path;
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_h5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is_h5 = H5Fis_hdf5(path);
#endif
    if (is_h5 == 0)
        return h5_failf(path, L->err, MLP_ERR_FORMAT, "not an HDF5 file (libhdf5 finds no superblock)");
    if (is_h5 < 0)
        return h5_failf(path, L->err, MLP_ERR_FORMAT, "not an HDF5 file (libhdf5: %s)", h5_last_error().desc);
    L->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (L->file < 0) {
        struct h5_why w = h5_last_error();
        if (w.lock)
            return h5_failf(path, L->err, MLP_ERR_IO,
                            "cannot lock the file (in use? HDF5_USE_FILE_LOCKING=FALSE turns locking "
                            "off): %s",
                            w.desc);
        return h5_failf(path, L->err, MLP_ERR_FORMAT, "truncated or corrupt HDF5 file: %s", w.desc);
    }
    return MLP_OK;
}

/*
 * A caller's buffer as the file image of libhdf5's core driver, without a
 * copy: libhdf5 asks these callbacks for memory to hold the image (in the
 * property list, then in the open file) and to copy the image into it, and
 * they answer with the caller's buffer itself, whose copy onto itself is no
 * copy.  The file is opened read-only, so nothing is ever written to it or
 * grown (realloc refuses), and nothing is freed: the buffer stays the
 * caller's.  (libhdf5's high-level H5LTopen_file_image does the same with
 * its DONT_COPY | DONT_RELEASE flags.)
 */
struct h5_image {
    const void *data;
    size_t size;
};

static void *h5_image_malloc(size_t size, H5FD_file_image_op_t op, void *udata)
{
    const struct h5_image *im = udata;
    (void)op;
    return size == im->size ? (void *)(uintptr_t)im->data : NULL;
}

static void *h5_image_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op, void *udata)
{
    (void)size, (void)op, (void)udata;
    return dest == src ? dest : NULL; /* anything else would be a write: refused */
}

static void *h5_image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata)
{
    (void)ptr, (void)size, (void)op, (void)udata;
    return NULL;
}

static herr_t h5_image_free(void *ptr, H5FD_file_image_op_t op, void *udata)
{
    (void)ptr, (void)op, (void)udata;
    return 0;
}

static void *h5_image_udata_copy(void *udata) { return udata; }
static herr_t h5_image_udata_free(void *udata)
{
    (void)udata;
    return 0;
}

/* Open the image `im` (named L->path in messages) into L->file. */
static enum mlp_status h5_open_image(struct h5_load *L, struct h5_image *im)
{
    H5FD_file_image_callbacks_t cb = {h5_image_malloc,     h5_image_memcpy,     h5_image_realloc, h5_image_free,
                                      h5_image_udata_copy, h5_image_udata_free, im};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    bool ok = fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 && H5Pset_file_image_callbacks(fapl, &cb) >= 0 &&
              H5Pset_file_image(fapl, (void *)(uintptr_t)im->data, im->size) >= 0;
    /* The name only tells open files apart: nothing is read from or
     * written to a file of that name (no backing store). */
    if (ok) L->file = H5Fopen("fastmlp-memory-image.h5", H5F_ACC_RDONLY, fapl);
    struct h5_why w = h5_last_error();
    if (fapl >= 0) H5Pclose(fapl);
    if (!ok) return h5_failf(L->path, L->err, MLP_ERR_NOMEM, "cannot set up libhdf5's file image: %s", w.desc);
    if (L->file < 0) return h5_failf(L->path, L->err, MLP_ERR_FORMAT, "truncated or corrupt HDF5 file: %s", w.desc);
    return MLP_OK;
}

/* Everything after the file is open: find, check and read the data sets. */
static enum mlp_status h5_load_all(struct h5_load *L, struct mlp_dataset *ds, const struct mlp_load_params *p)
{
    const char *x_key = p ? p->x_key : NULL, *y_key = p ? p->y_key : NULL;
    uint32_t want_cols = p ? p->n_cols : 0;
    const char *path = L->path;
    enum mlp_status st;
    hsize_t idx = 0;
    if (H5Literate(L->file, H5_INDEX_NAME, H5_ITER_INC, &idx, h5_list_link, &L->list) < 0) {
        if (L->list.nomem)
            return h5_failf(path, L->err, MLP_ERR_NOMEM, "out of memory listing the data sets");
        struct h5_why w = h5_last_error();
        return h5_failf(path, L->err, MLP_ERR_FORMAT, "cannot list the root group (corrupt file?): %s",
                        w.desc);
    }

    /* The inputs. */
    if (x_key) {
        if ((st = h5_open_key(L, x_key, "the inputs", &L->dx, &L->xi)) != MLP_OK) return st;
    } else {
        const struct h5_info *xi;
        if ((st = h5_pick(L, h5_x_candidate, NULL, NULL, 'x', "inputs (rank >= 2, numeric)", "--x-key",
                          &xi)) != MLP_OK)
            return st;
        if (!xi) {
            char list[H5L_LIST_CHARS];
            return h5_failf(path, L->err, MLP_ERR_FORMAT,
                            "no numeric data set of rank >= 2 at the root to use as inputs (data sets: "
                            "%s); pass --x-key NAME",
                            h5_list_str(&L->list, NULL, NULL, list, sizeof list));
        }
        if ((st = h5_open_key(L, xi->name, "the inputs", &L->dx, &L->xi)) != MLP_OK) return st;
    }
    uint64_t rows = 0;
    uint32_t cols = 0;
    enum mlp_elem out = MLP_ELEM_F64;
    if ((st = h5_check_x(L, want_cols, &rows, &cols, &out)) != MLP_OK) return st;

    /* The labels: given, or the one rank-1 numeric data set with as many
     * rows (train_set_x pairs with train_set_y), or none. */
    bool have_y = false;
    if (y_key) {
        if ((st = h5_open_key(L, y_key, "the labels", &L->dy, &L->yi)) != MLP_OK) return st;
        have_y = true;
    } else {
        struct h5_y_ctx ctx = {L->xi.name, rows};
        char want[256] = "";
        size_t xn = strlen(L->xi.name);
        if (xn > 0 && xn < sizeof want && (L->xi.name[xn - 1] | 0x20) == 'x') {
            memcpy(want, L->xi.name, xn + 1);
            want[xn - 1] = L->xi.name[xn - 1] == 'X' ? 'Y' : 'y';
        }
        const struct h5_info *yi;
        if ((st = h5_pick(L, h5_y_candidate, &ctx, want[0] ? want : NULL, 'y',
                          "labels (rank 1, numeric, one per row)", "--y-key", &yi)) != MLP_OK)
            return st;
        if (yi) {
            if ((st = h5_open_key(L, yi->name, "the labels", &L->dy, &L->yi)) != MLP_OK) return st;
            have_y = true;
        }
    }

    /* A shard's rows are all that is allocated (and checked against the
     * machine's memory) for the inputs. */
    uint64_t lo, hi;
    mlp__shard_rows(p, rows, &lo, &hi);
    if ((st = mlp__dataset_alloc(ds, hi - lo, cols, out, have_y, 0, L->err)) != MLP_OK) {
        if (L->err) {
            char why[sizeof L->err->msg];
            snprintf(why, sizeof why, "%s", L->err->msg);
            h5_failf(path, L->err, st, "%s", why);
        }
        return st;
    }
    if ((st = h5_read_x(L, ds->owned, lo, hi, cols, out)) != MLP_OK) return st;
    if (have_y) {
        uint32_t n_classes = 0;
        if ((st = h5_read_labels(L, rows, lo, hi, (int32_t *)ds->labels, &n_classes)) != MLP_OK) return st;
        ds->n_classes = n_classes;
    }
    /* (n, h, w) is a grey image, (n, h, w, c) one with 1, 3 or 4 channels
     * (seed 000's cats are (209, 64, 64, 3)). */
    const hsize_t *dm = L->xi.dims;
    if (L->xi.rank == 3 || (L->xi.rank == 4 && (dm[3] == 1 || dm[3] == 3 || dm[3] == 4))) {
        ds->sample_shape[0] = (uint32_t)dm[1];
        ds->sample_shape[1] = (uint32_t)dm[2];
        ds->sample_shape[2] = L->xi.rank == 4 ? (uint32_t)dm[3] : 1;
    }
    return MLP_OK;
}

/* Where the file is: a path, or a caller's buffer (image). */
static enum mlp_status h5_load(struct mlp_dataset *ds, const char *path, struct h5_image *image,
                               const struct mlp_load_params *p, struct mlp_error *err)
{
    /* Keep libhdf5 from printing its error stack: failures become messages.
     * The previous handler is put back before returning. */
    H5E_auto2_t old_fn = NULL;
    void *old_data = NULL;
    bool restore = H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data) >= 0;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    struct h5_load L;
    memset(&L, 0, sizeof L);
    L.path = path;
    L.err = err;
    L.file = L.dx = L.dy = -1;
    enum mlp_status st = mlp__shard_check(p, path, err);
    if (st == MLP_OK) st = image ? h5_open_image(&L, image) : h5_open_path(&L);
    if (st == MLP_OK) st = h5_load_all(&L, ds, p);
    h5_release(&L);
    if (st != MLP_OK) mlp_dataset_free(ds); /* frees `owned` if allocated, and zeroes */

    if (restore) H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    return st;
}

enum mlp_status mlp_dataset_load_hdf5(struct mlp_dataset *ds, const char *path, const struct mlp_load_params *p,
                                      struct mlp_error *err)
{
    MLP_ASSERT(ds && path);
    /* *ds is output only: whatever it held before is overwritten, not freed. */
    memset(ds, 0, sizeof *ds);
    enum mlp_status st = h5_precheck(path, err);
    return st == MLP_OK ? h5_load(ds, path, NULL, p, err) : st;
}

enum mlp_status mlp_dataset_load_hdf5_mem(struct mlp_dataset *ds, const struct mlp_buffer *b,
                                          const struct mlp_load_params *p, struct mlp_error *err)
{
    MLP_ASSERT(ds && b && (b->data || b->size == 0));
    memset(ds, 0, sizeof *ds);
    const char *name = b->name ? b->name : "<memory>";
    if (b->size == 0) return h5_failf(name, err, MLP_ERR_FORMAT, "not an HDF5 file: empty file");
    size_t n_first = b->size < 8 ? b->size : 8;
    enum mlp_status st = h5_signature_at(name, b->data, n_first, b->size, h5_mem_at, b->data, err);
    struct h5_image image = {b->data, b->size};
    return st == MLP_OK ? h5_load(ds, name, &image, p, err) : st;
}

/* ---------------------------------------------------------------- version */

#define H5L_STR(x) #x
#define H5L_XSTR(x) H5L_STR(x)

const char *mlp_hdf5_info(void)
{
    return "libhdf5 " H5L_XSTR(H5_VERS_MAJOR) "." H5L_XSTR(H5_VERS_MINOR) "." H5L_XSTR(H5_VERS_RELEASE);
}
