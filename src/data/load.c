/* SPDX-License-Identifier: MIT */
/* Loading a data set from any supported file, or a file's bytes in memory:
 * choosing the format from the first bytes and the name's extension
 * (refusing when they disagree), then handing over to the format's loader
 * with the caller's parameters. */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const format_names[MLP_FMT_COUNT] = {"auto", "csv", "idx", "npy", "hdf5"};

const char *mlp_format_name(enum mlp_format f)
{
    return (int)f >= 0 && f < MLP_FMT_COUNT ? format_names[f] : "?";
}

int mlp_format_parse(const char *s)
{
    if (!s) return -1;
    for (int i = 0; i < MLP_FMT_COUNT; i++)
        if (strcmp(s, format_names[i]) == 0) return i;
    if (strcmp(s, "tsv") == 0) return MLP_FMT_CSV;
    if (strcmp(s, "h5") == 0) return MLP_FMT_HDF5;
    return -1;
}

struct mlp_load_params mlp_load_params_default(void)
{
    struct mlp_load_params p = {0};
    p.format = MLP_FMT_AUTO;
    p.header = -1;
    p.label_col = 0;
    p.n_cols = 0; /* any width */
    return p;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* What the extension claims (AUTO: nothing). */
static enum mlp_format by_extension(const char *path)
{
    if (ends_with(path, ".csv") || ends_with(path, ".tsv") || ends_with(path, ".txt")) return MLP_FMT_CSV;
    if (ends_with(path, ".npy")) return MLP_FMT_NPY;
    if (ends_with(path, ".h5") || ends_with(path, ".hdf5") || ends_with(path, ".hdf")) return MLP_FMT_HDF5;
    if (ends_with(path, ".idx") || ends_with(path, "-ubyte") || ends_with(path, "-ubyte.gz") ||
        ends_with(path, ".idx.gz"))
        return MLP_FMT_IDX;
    return MLP_FMT_AUTO;
}

/* What the first bytes say (AUTO: no binary signature; CSV: looks like text). */
static enum mlp_format by_content(const unsigned char *b, size_t n)
{
    static const unsigned char hdf5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0) return MLP_FMT_NPY;
    if (n >= 8 && memcmp(b, hdf5_sig, 8) == 0) return MLP_FMT_HDF5;
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return MLP_FMT_IDX; /* gzip: only IDX is read through zlib */
    if (n >= 4 && b[0] == 0 && b[1] == 0 && (b[2] == 0x08 || b[2] == 0x09 || (b[2] >= 0x0B && b[2] <= 0x0E)) &&
        b[3] >= 1)
        return MLP_FMT_IDX;
    for (size_t i = 0; i < n; i++)
        if (b[i] == 0 || (b[i] < 0x20 && b[i] != '\n' && b[i] != '\r' && b[i] != '\t')) return MLP_FMT_AUTO;
    return n > 0 ? MLP_FMT_CSV : MLP_FMT_AUTO;
}

/* Bytes of a file that format detection looks at. */
#define DETECT_BYTES 512u

/* Decide the format of the file `path` (its extension says ext, AUTO when
 * it has none) from its first n bytes b (at most DETECT_BYTES). */
static enum mlp_status decide(const char *path, enum mlp_format ext, const unsigned char *b, size_t n,
                              enum mlp_format *out, struct mlp_error *err)
{
    if (n == 0) return mlp__fail(err, MLP_ERR_FORMAT, "%s: empty file", path);
    enum mlp_format con = by_content(b, n);
    /* HDF5 may sit behind a user block at 512, 1024, ...: trust the extension. */
    if (ext == MLP_FMT_HDF5 && con != MLP_FMT_HDF5 && n == DETECT_BYTES) con = MLP_FMT_HDF5;
    if (ext != MLP_FMT_AUTO && con != ext && !(ext == MLP_FMT_CSV && con == MLP_FMT_CSV))
        return mlp__fail(err, MLP_ERR_FORMAT, "%s: the extension says %s but the content is %s%s", path,
                         mlp_format_name(ext), con == MLP_FMT_AUTO ? "binary of no known format" : mlp_format_name(con),
                         con == MLP_FMT_AUTO ? "" : " (use --data-format to force one)");
    if (con == MLP_FMT_AUTO)
        return mlp__fail(err, MLP_ERR_FORMAT, "%s: unknown format (not CSV text, IDX, NPY or HDF5)", path);
    *out = con;
    return MLP_OK;
}

/* Decide the format of `path`, or explain why it cannot be decided. */
static enum mlp_status detect(const char *path, enum mlp_format *out, struct mlp_error *err)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return mlp__fail(err, MLP_ERR_OPEN, "%s: cannot open: is a directory", path);
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* A pipe cannot be read twice: sniffing its first bytes would take
         * them from the loader.  Go by the extension, or ask. */
        enum mlp_format ext = by_extension(path);
        if (ext == MLP_FMT_AUTO)
            return mlp__fail(err, MLP_ERR_ARG, "%s: not a regular file, so its format cannot be detected: give --data-format",
                             path);
        *out = ext;
        return MLP_OK;
    }
    FILE *f = fopen(path, "rb");
    if (!f) return mlp__fail(err, MLP_ERR_OPEN, "%s: cannot open: %s", path, strerror(errno));
    unsigned char b[DETECT_BYTES];
    size_t n = fread(b, 1, sizeof b, f);
    bool read_error = ferror(f);
    fclose(f);
    if (read_error) return mlp__fail(err, MLP_ERR_OPEN, "%s: cannot read: %s", path, strerror(errno));
    return decide(path, by_extension(path), b, n, out, err);
}

enum mlp_status mlp_dataset_load(struct mlp_dataset *ds, const char *path, const char *labels_path,
                                 const struct mlp_load_params *p, struct mlp_error *err)
{
    MLP_ASSERT(ds && path);
    memset(ds, 0, sizeof *ds);
    struct mlp_load_params d = p ? *p : mlp_load_params_default();
    enum mlp_format fmt = d.format;
    if ((int)fmt < 0 || fmt >= MLP_FMT_COUNT) return mlp__fail(err, MLP_ERR_ARG, "unknown format id %d", (int)fmt);
    if (fmt == MLP_FMT_AUTO) {
        enum mlp_status st = detect(path, &fmt, err);
        if (st != MLP_OK) return st;
    }
    if (labels_path && (fmt == MLP_FMT_CSV || fmt == MLP_FMT_HDF5))
        return mlp__fail(err, MLP_ERR_ARG, "%s: %s keeps its labels in the same file; a separate labels file (%s) is "
                         "only for IDX and NPY", path, mlp_format_name(fmt), labels_path);
    switch (fmt) {
    case MLP_FMT_CSV: return mlp_dataset_load_csv(ds, path, &d, err);
    case MLP_FMT_IDX: return mlp__load_idx(ds, path, labels_path, &d, err);
    case MLP_FMT_NPY: return mlp__load_npy(ds, path, labels_path, &d, err);
    case MLP_FMT_HDF5: return mlp_dataset_load_hdf5(ds, path, &d, err);
    case MLP_FMT_AUTO:
    case MLP_FMT_COUNT: break;
    }
    return mlp__fail(err, MLP_ERR_ARG, "unknown format");
}

enum mlp_status mlp_dataset_load_mem(struct mlp_dataset *ds, const struct mlp_buffer *x,
                                     const struct mlp_buffer *labels, const struct mlp_load_params *p,
                                     struct mlp_error *err)
{
    MLP_ASSERT(ds && x && (x->data || x->size == 0));
    memset(ds, 0, sizeof *ds);
    struct mlp_load_params d = p ? *p : mlp_load_params_default();
    const char *name = x->name ? x->name : "<memory>";
    enum mlp_format fmt = d.format;
    if ((int)fmt < 0 || fmt >= MLP_FMT_COUNT) return mlp__fail(err, MLP_ERR_ARG, "unknown format id %d", (int)fmt);
    if (fmt == MLP_FMT_AUTO) {
        size_t n = x->size < DETECT_BYTES ? x->size : DETECT_BYTES;
        enum mlp_status st = decide(name, x->name ? by_extension(x->name) : MLP_FMT_AUTO, x->data, n, &fmt, err);
        if (st != MLP_OK) return st;
    }
    if (labels && (fmt == MLP_FMT_CSV || fmt == MLP_FMT_HDF5))
        return mlp__fail(err, MLP_ERR_ARG, "%s: %s keeps its labels in the same file; a separate labels buffer (%s) is "
                         "only for IDX and NPY", name, mlp_format_name(fmt), labels->name ? labels->name : "<memory labels>");
    switch (fmt) {
    case MLP_FMT_CSV: return mlp_dataset_load_csv_mem(ds, x, &d, err);
    case MLP_FMT_IDX: return mlp_dataset_load_idx_mem(ds, x, labels, &d, err);
    case MLP_FMT_NPY: return mlp_dataset_load_npy_mem(ds, x, labels, &d, err);
    case MLP_FMT_HDF5: return mlp_dataset_load_hdf5_mem(ds, x, &d, err);
    case MLP_FMT_AUTO:
    case MLP_FMT_COUNT: break;
    }
    return mlp__fail(err, MLP_ERR_ARG, "unknown format");
}
