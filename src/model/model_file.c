/* SPDX-License-Identifier: MIT */
/* The model file (docs/model-format.md): little-endian, versioned, with the
 * preprocessing and training metadata, weights aligned to 64 bytes and a
 * CRC-32 over everything.  Saved atomically; loaded field by field, by one
 * parser from a file (streamed: never a second copy of the weights) or from
 * bytes in memory (a caller's buffer, a checkpoint's model section), every
 * size checked against the bytes really there before anything of that size
 * is allocated, and a file that shrinks while it is read reported as changed
 * (MLP_ERR_IO), not truncated.  Version 1 and 2 files (the foundation's,
 * and those before tabular data) still load. */
#include "data/schema.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "FASTMLP\n"
#define VERSION_MIN 1u
#define VERSION 3u
#define ENDIAN_MARK 0x01020304u
#define FLAG_STANDARDIZE 1u
#define ALIGN 64u

static void put_f64(unsigned char *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    mlp__put_le64(b, v);
}
static double get_f64(const unsigned char *b)
{
    uint64_t v = mlp__get_le64(b);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

/* ------------------------------------------------------------------ write */

/* A writer that keeps the running CRC and offset. */
struct wr {
    FILE *f;
    uLong crc;
    uint64_t off;
    bool ok;
};

static void wr_bytes(struct wr *w, const void *p, size_t n)
{
    if (!w->ok || n == 0) return;
    if (fwrite(p, 1, n, w->f) != n) {
        w->ok = false;
        return;
    }
    w->crc = crc32(w->crc, p, (uInt)n); /* n <= chunk size below */
    w->off += n;
}

static void wr_f64s(struct wr *w, const double *v, size_t n)
{
    unsigned char chunk[8 * 512];
    for (size_t i = 0; i < n; i += 512) {
        size_t k = n - i < 512 ? n - i : 512;
        for (size_t j = 0; j < k; j++) put_f64(chunk + 8 * j, v[i + j]);
        wr_bytes(w, chunk, 8 * k);
    }
}

/* Parameters as little-endian bytes, in chunks: no second copy of the weights. */
static void wr_params(struct wr *w, const struct mlp_model *m)
{
    unsigned char chunk[8 * 1024];
    size_t esz = mlp__dtype_size(m->dtype), per = sizeof chunk / esz;
    for (size_t i = 0; i < m->n_params; i += per) {
        size_t k = m->n_params - i < per ? m->n_params - i : per;
        for (size_t j = 0; j < k; j++) {
            if (m->dtype == MLP_F32) {
                uint32_t v;
                memcpy(&v, (const float *)m->params + i + j, 4);
                mlp__put_le32(chunk + 4 * j, v);
            } else {
                uint64_t v;
                memcpy(&v, (const double *)m->params + i + j, 8);
                mlp__put_le64(chunk + 8 * j, v);
            }
        }
        wr_bytes(w, chunk, k * esz);
    }
}

/* Fixed part of the v2 header: 112 bytes; v3 adds 16 (the kept epoch, the
 * stop reason, the schema section's size). */
#define HDR2 112u
#define HDR3 128u

uint64_t mlp__model_file_size(const struct mlp_model *m)
{
    uint64_t pre = HDR3 + 8 * (uint64_t)m->n_layers + (m->pre_mean ? 16 * (uint64_t)mlp__n_in(m) : 0) +
                   (m->schema ? mlp__schema_size(m->schema) : 0);
    return (pre + ALIGN - 1) / ALIGN * ALIGN + (uint64_t)m->n_params * mlp__dtype_size(m->dtype) + 4;
}

bool mlp__model_write(FILE *f, const struct mlp_model *m)
{
    struct wr w = {.f = f, .crc = crc32(0, Z_NULL, 0), .ok = true};
    unsigned char h[HDR3] = {0};
    memcpy(h, MAGIC, 8);
    mlp__put_le32(h + 8, VERSION);
    mlp__put_le32(h + 12, ENDIAN_MARK);
    mlp__put_le32(h + 16, (uint32_t)m->dtype);
    mlp__put_le32(h + 20, (uint32_t)m->head);
    mlp__put_le32(h + 24, m->n_layers);
    mlp__put_le32(h + 28, mlp__n_in(m));
    put_f64(h + 32, m->leaky_slope);
    put_f64(h + 40, m->input_scale);
    mlp__put_le32(h + 48, m->pre_mean ? FLAG_STANDARDIZE : 0);
    mlp__put_le32(h + 52, m->meta.optim);
    mlp__put_le64(h + 56, m->meta.seed);
    mlp__put_le32(h + 64, m->meta.epochs);
    mlp__put_le32(h + 68, m->meta.batch);
    put_f64(h + 72, m->meta.lr);
    put_f64(h + 80, m->meta.l2);
    put_f64(h + 88, m->meta.momentum);
    mlp__put_le64(h + 96, m->meta.samples);
    mlp__put_le64(h + 104, m->n_params);
    mlp__put_le32(h + 112, m->meta.epoch_kept);
    mlp__put_le32(h + 116, m->meta.stop_reason);
    uint64_t schema_bytes = m->schema ? mlp__schema_size(m->schema) : 0;
    mlp__put_le64(h + 120, schema_bytes);
    wr_bytes(&w, h, sizeof h);
    for (uint32_t l = 0; l < m->n_layers; l++) {
        unsigned char e[8];
        mlp__put_le32(e, m->layers[l].n_out);
        mlp__put_le32(e + 4, (uint32_t)m->layers[l].act);
        wr_bytes(&w, e, 8);
    }
    if (m->pre_mean) {
        wr_f64s(&w, m->pre_mean, mlp__n_in(m));
        wr_f64s(&w, m->pre_std, mlp__n_in(m));
    }
    if (schema_bytes) {
        unsigned char *sb = malloc(schema_bytes);
        if (!sb) return false;
        mlp__schema_put(m->schema, sb);
        for (uint64_t i = 0; i < schema_bytes; i += 1u << 20)
            wr_bytes(&w, sb + i, (size_t)(schema_bytes - i < (1u << 20) ? schema_bytes - i : 1u << 20));
        free(sb);
    }
    static const unsigned char zeros[ALIGN];
    wr_bytes(&w, zeros, (ALIGN - w.off % ALIGN) % ALIGN);
    wr_params(&w, m);
    unsigned char c[4];
    mlp__put_le32(c, (uint32_t)w.crc);
    if (w.ok && fwrite(c, 1, 4, f) != 4) w.ok = false;
    return w.ok;
}

static bool write_cb(FILE *f, const void *m) { return mlp__model_write(f, m); }

enum mlp_status mlp_model_save(const struct mlp_model *m, const char *path, struct mlp_error *err)
{
    MLP_ASSERT(m && path);
    return mlp__atomic_write(path, "the model", MLP_OUTPUT_STREAM | MLP_OUTPUT_BINARY, write_cb, m, err);
}

enum mlp_status mlp_model_save_mem(const struct mlp_model *m, void **bytes, size_t *size, struct mlp_error *err)
{
    MLP_ASSERT(m && bytes && size);
    *bytes = NULL;
    *size = 0;
    const uint64_t n = mlp__model_file_size(m);
    if (n > SIZE_MAX) return mlp__fail(err, MLP_ERR_NOMEM, "a model of %llu bytes", (unsigned long long)n);
    unsigned char *b = malloc((size_t)n + 1);
    if (!b) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory: %llu bytes for the model", (unsigned long long)n);
    /* The writer writes a stream: a fixed-size one over the buffer, one
     * byte longer than the model, for the NUL glibc's fmemopen puts after
     * what was written (in the last byte when the buffer is full). */
    FILE *f = fmemopen(b, (size_t)n + 1, "wb");
    bool ok = f && mlp__model_write(f, m);
    if (f && fclose(f) != 0) ok = false;
    if (!ok) {
        free(b);
        return mlp__fail(err, MLP_ERR_IO, "cannot write the model into memory");
    }
    *bytes = b;
    *size = (size_t)n;
    return MLP_OK;
}

/* ------------------------------------------------------------------- read */

/* The bytes being read: a file through f, or else mem[0 .. size). */
struct rd {
    FILE *f;
    const unsigned char *mem;
    const char *path; /* for messages: the path, or the bytes' name */
    uLong crc;
    uint64_t off, size; /* size: of the file, or of the section being read */
    bool whole_file;    /* nothing may follow the model */
    bool have_stat;     /* at_open holds the file's fstat when reading began */
    struct stat at_open;
    struct mlp_error *err;
};

/* A read came up short (or long): MLP_ERR_IO "file changed while reading"
 * when the file's size or time moved since reading began, else MLP_OK (the
 * file is truncated as it stands, a format error). */
static enum mlp_status rd_changed(const struct rd *r)
{
    return r->have_stat ? mlp__file_changed(fileno(r->f), r->path, &r->at_open, r->err) : MLP_OK;
}

/* Up to n bytes at the current offset (fewer only at the end). */
static size_t rd_take(struct rd *r, void *p, size_t n)
{
    if (r->f) return fread(p, 1, n, r->f);
    size_t left = r->off < r->size ? (size_t)(r->size - r->off) : 0, k = n < left ? n : left;
    if (k) memcpy(p, r->mem + r->off, k);
    return k;
}

/* Read exactly n bytes of `what`; a short file is reported as truncated at
 * the current offset, or as changed when it shrank since it was opened. */
static enum mlp_status rd_bytes(struct rd *r, void *p, size_t n, const char *what)
{
    size_t got = rd_take(r, p, n);
    if (got != n) {
        if (r->f && ferror(r->f)) return mlp__fail(r->err, MLP_ERR_IO, "%s: read error in %s at byte %llu", r->path, what,
                                           (unsigned long long)r->off);
        if (rd_changed(r) != MLP_OK) return MLP_ERR_IO;
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: truncated in %s at byte %llu (needed %zu bytes, got %zu)",
                         r->path, what, (unsigned long long)r->off, n, got);
    }
    r->crc = crc32(r->crc, p, (uInt)n);
    r->off += n;
    return MLP_OK;
}

static enum mlp_status rd_f64s(struct rd *r, double *v, size_t n, const char *what)
{
    unsigned char chunk[8 * 512];
    for (size_t i = 0; i < n; i += 512) {
        size_t k = n - i < 512 ? n - i : 512;
        enum mlp_status st = rd_bytes(r, chunk, 8 * k, what);
        if (st != MLP_OK) return st;
        for (size_t j = 0; j < k; j++) v[i + j] = get_f64(chunk + 8 * j);
    }
    return MLP_OK;
}

static enum mlp_status rd_params(struct rd *r, struct mlp_model *m)
{
    unsigned char chunk[8 * 1024];
    size_t esz = mlp__dtype_size(m->dtype), per = sizeof chunk / esz;
    for (size_t i = 0; i < m->n_params; i += per) {
        size_t k = m->n_params - i < per ? m->n_params - i : per;
        uint64_t at = r->off;
        enum mlp_status st = rd_bytes(r, chunk, k * esz, "the weights");
        if (st != MLP_OK) return st;
        for (size_t j = 0; j < k; j++) {
            double v;
            if (m->dtype == MLP_F32) {
                uint32_t u = mlp__get_le32(chunk + 4 * j);
                float x;
                memcpy(&x, &u, 4);
                ((float *)m->params)[i + j] = x;
                v = x;
            } else {
                uint64_t u = mlp__get_le64(chunk + 8 * j);
                memcpy(&v, &u, 8);
                ((double *)m->params)[i + j] = v;
            }
            if (!isfinite(v))
                return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: weight %zu (byte %llu) is not finite", r->path, i + j,
                                 (unsigned long long)(at + j * esz));
        }
    }
    return MLP_OK;
}

/* The fields both versions share, decoded from the first 48 bytes. */
struct head {
    uint32_t version, dtype, head, n_layers, n_in, flags;
    double leaky, scale;
    uint64_t n_params;
    uint64_t schema_bytes; /* v3 */
    struct mlp_train_meta meta;
};

/* The header: the fixed 48 bytes of both versions (the magic judged first,
 * on whatever arrived), then version 2's rest.  Every id and count is
 * checked here; sizes are checked against the file by read_layers. */
static enum mlp_status read_head(struct rd *r, struct head *H)
{
    const char *path = r->path;
    unsigned char h[HDR3];
    size_t got = rd_take(r, h, 48);
    /* Judge the magic on whatever arrived, so a short foreign file is called
     * foreign rather than truncated. */
    if (got > 0 && memcmp(h, MAGIC, got < 8 ? got : 8) != 0)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: not a fastmlp model (bad magic at byte 0)", path);
    if (got < 48) {
        if (r->f && ferror(r->f)) return mlp__fail(r->err, MLP_ERR_IO, "%s: read error in the header", path);
        if (rd_changed(r) != MLP_OK) return MLP_ERR_IO;
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: truncated in the header (needed 48 bytes, got %zu)", path, got);
    }
    r->crc = crc32(r->crc, h, 48);
    r->off = 48;
    H->version = mlp__get_le32(h + 8);
    if (H->version < VERSION_MIN || H->version > VERSION)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: model format version %u not supported (this build reads %u..%u)",
                         path, H->version, VERSION_MIN, VERSION);
    if (mlp__get_le32(h + 12) != ENDIAN_MARK)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: bad endianness marker 0x%08x at byte 12", path, mlp__get_le32(h + 12));
    H->dtype = mlp__get_le32(h + 16);
    H->head = mlp__get_le32(h + 20);
    H->n_layers = mlp__get_le32(h + 24);
    H->n_in = mlp__get_le32(h + 28);
    H->leaky = get_f64(h + 32);
    H->scale = get_f64(h + 40);
    if (H->dtype > MLP_F64) return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: unknown dtype id %u at byte 16", path, H->dtype);
    if (H->head >= MLP_HEAD_COUNT)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: unknown head id %u at byte 20", path, H->head);
    if (H->n_layers == 0 || H->n_layers > MLP_MAX_LAYERS)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: layer count %u at byte 24 out of range 1..%u", path, H->n_layers,
                         MLP_MAX_LAYERS);
    if (H->n_in == 0 || H->n_in > MLP_MAX_WIDTH)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: input width %u at byte 28 out of range 1..%u", path, H->n_in,
                         MLP_MAX_WIDTH);
    if (H->version < 2) return MLP_OK;
    enum mlp_status st;
    if ((st = rd_bytes(r, h + 48, HDR2 - 48, "the header")) != MLP_OK) return st;
    H->flags = mlp__get_le32(h + 48);
    if (H->flags & ~FLAG_STANDARDIZE)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: unknown flags 0x%x at byte 48", path, H->flags);
    H->meta.optim = mlp__get_le32(h + 52);
    if (H->meta.optim >= MLP_OPT_COUNT)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: unknown optimizer id %u at byte 52", path, H->meta.optim);
    H->meta.seed = mlp__get_le64(h + 56);
    H->meta.epochs = mlp__get_le32(h + 64);
    H->meta.batch = mlp__get_le32(h + 68);
    H->meta.lr = get_f64(h + 72);
    H->meta.l2 = get_f64(h + 80);
    H->meta.momentum = get_f64(h + 88);
    H->meta.samples = mlp__get_le64(h + 96);
    H->n_params = mlp__get_le64(h + 104);
    if (H->version < 3) return MLP_OK;
    if ((st = rd_bytes(r, h + HDR2, HDR3 - HDR2, "the header")) != MLP_OK) return st;
    H->meta.epoch_kept = mlp__get_le32(h + 112);
    H->meta.stop_reason = mlp__get_le32(h + 116);
    if (H->meta.stop_reason >= MLP_STOP_COUNT)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: unknown stop reason %u at byte 116", path, H->meta.stop_reason);
    if (H->meta.epoch_kept > H->meta.epochs)
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: kept epoch %u at byte 112 beyond the %u epochs run", path,
                         H->meta.epoch_kept, H->meta.epochs);
    H->schema_bytes = mlp__get_le64(h + 120);
    if (H->schema_bytes > r->size || H->schema_bytes > ((uint64_t)1 << 30))
        return mlp__fail(r->err, MLP_ERR_FORMAT, "%s: schema size %llu at byte 120 exceeds the file", path,
                         (unsigned long long)H->schema_bytes);
    return MLP_OK;
}

/* The layer table into spec (H->n_layers entries), then the widths and the
 * parameter count against the bytes the file really holds, before anything
 * of that size is allocated, so a small file cannot make us reserve
 * gigabytes. */
static enum mlp_status read_layers(struct rd *r, const struct head *H, struct mlp_layer_spec *spec)
{
    const char *path = r->path;
    enum mlp_status st = MLP_OK;
    for (uint32_t l = 0; l < H->n_layers && st == MLP_OK; l++) {
        unsigned char e[8];
        uint64_t off = r->off;
        if ((st = rd_bytes(r, e, 8, "the layer table")) != MLP_OK) break;
        spec[l].n_out = mlp__get_le32(e);
        uint32_t act = mlp__get_le32(e + 4);
        if (act >= MLP_ACT_COUNT)
            st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: unknown activation id %u at byte %llu", path, act,
                           (unsigned long long)off + 4);
        else if (spec[l].n_out == 0 || spec[l].n_out > MLP_MAX_WIDTH)
            st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: layer %u width %u at byte %llu out of range 1..%u", path, l + 1,
                           spec[l].n_out, (unsigned long long)off, MLP_MAX_WIDTH);
        spec[l].act = (enum mlp_act)act;
    }
    uint64_t n_expect = 0, prev = H->n_in, nw;
    for (uint32_t l = 0; l < H->n_layers && st == MLP_OK; l++) {
        if (!mlp__mul_ok(prev, spec[l].n_out, MLP_MAX_PARAMS, &nw) || (n_expect += nw + spec[l].n_out) > MLP_MAX_PARAMS)
            st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: layer table describes a model too large (more than %llu parameters)",
                           path, (unsigned long long)MLP_MAX_PARAMS);
        prev = spec[l].n_out;
    }
    uint64_t esz = H->dtype == MLP_F32 ? 4 : 8, want = 0;
    if (st == MLP_OK && H->version >= 2) {
        if (H->n_params != n_expect)
            st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: parameter count %llu at byte 104, the layer table implies %llu",
                           path, (unsigned long long)H->n_params, (unsigned long long)n_expect);
        uint64_t pre = (H->version >= 3 ? HDR3 + H->schema_bytes : HDR2) + 8 * (uint64_t)H->n_layers +
                       (H->flags & FLAG_STANDARDIZE ? 16 * (uint64_t)H->n_in : 0);
        want = (pre + ALIGN - 1) / ALIGN * ALIGN + n_expect * esz + 4;
    } else if (st == MLP_OK) {
        want = 56 + 8 * (uint64_t)H->n_layers + n_expect * esz;
    }
    if (st == MLP_OK && r->size != want)
        st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: %s: the layer table implies %llu bytes, the file has %llu", path,
                       r->size < want ? "truncated" : "trailing bytes", (unsigned long long)want,
                       (unsigned long long)r->size);
    return st;
}

/* The model the header and the layer table describe (weights not read). */
static enum mlp_status create_model(struct rd *r, const struct head *H, const struct mlp_layer_spec *spec,
                                    struct mlp_model **m)
{
    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = (enum mlp_dtype)H->dtype;
    mp.head = (enum mlp_head)H->head;
    mp.n_in = H->n_in;
    mp.n_hidden = H->n_layers - 1;
    mp.hidden = spec;
    mp.n_out = spec[H->n_layers - 1].n_out;
    mp.leaky_slope = H->leaky;
    mp.input_scale = H->scale;
    /* create() re-checks every width and the scalars. */
    struct mlp_error e2;
    enum mlp_status st = mlp_model_create(m, &mp, &e2);
    if (st == MLP_ERR_NOMEM)
        mlp__fail(r->err, st, "%s: %s", r->path, e2.msg);
    else if (st != MLP_OK)
        st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: invalid model: %s", r->path, e2.msg);
    if (st == MLP_OK) (*m)->meta = H->meta;
    return st;
}

/* Everything after the layer table, into m: version 1's parameter count,
 * the standardisation, version 2's padding, the weights, the checksum, and
 * nothing after them in a file of its own. */
static enum mlp_status read_body(struct rd *r, const struct head *H, struct mlp_model *m)
{
    const char *path = r->path;
    enum mlp_status st = MLP_OK;
    if (H->version == 1) {
        unsigned char np[8];
        if ((st = rd_bytes(r, np, 8, "the parameter count")) == MLP_OK && mlp__get_le64(np) != m->n_params)
            st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: parameter count %llu at byte %llu, the layer table implies %zu",
                           path, (unsigned long long)mlp__get_le64(np), (unsigned long long)r->off - 8, m->n_params);
    }
    if (st == MLP_OK && (H->flags & FLAG_STANDARDIZE)) {
        double *ms = malloc(2 * (size_t)H->n_in * sizeof *ms);
        if (!ms) st = mlp__fail(r->err, MLP_ERR_NOMEM, "out of memory");
        if (st == MLP_OK) st = rd_f64s(r, ms, 2 * (size_t)H->n_in, "the standardisation");
        struct mlp_error e2;
        if (st == MLP_OK && mlp_model_set_standardize(m, ms, ms + H->n_in, &e2) != MLP_OK)
            st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: %s", path, e2.msg);
        free(ms);
    }
    if (st == MLP_OK && H->schema_bytes) {
        unsigned char *sb = malloc(H->schema_bytes);
        if (!sb) st = mlp__fail(r->err, MLP_ERR_NOMEM, "out of memory");
        if (st == MLP_OK) st = rd_bytes(r, sb, H->schema_bytes, "the table's schema");
        char what[300];
        snprintf(what, sizeof what, "%s: the table's schema", path);
        struct mlp_schema *s = NULL;
        if (st == MLP_OK) st = mlp__schema_get(sb, H->schema_bytes, what, &s, r->err);
        struct mlp_error e2;
        if (st == MLP_OK && mlp_model_set_schema(m, s, &e2) != MLP_OK)
            st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: %s", path, e2.msg);
        mlp__schema_free(s);
        free(sb);
    }
    if (st == MLP_OK && H->version >= 2) {
        unsigned char pad[ALIGN];
        size_t np = (size_t)((ALIGN - r->off % ALIGN) % ALIGN);
        st = rd_bytes(r, pad, np, "the alignment padding");
        for (size_t i = 0; st == MLP_OK && i < np; i++)
            if (pad[i]) st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: non-zero padding at byte %llu", path,
                                       (unsigned long long)(r->off - np + i));
    }
    if (st == MLP_OK) st = rd_params(r, m);
    if (st == MLP_OK && H->version >= 2) {
        uLong crc = r->crc;
        unsigned char c[4];
        if ((st = rd_bytes(r, c, 4, "the checksum")) == MLP_OK && mlp__get_le32(c) != (uint32_t)crc)
            st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: checksum mismatch (stored 0x%08x, computed 0x%08x): the file is corrupt",
                           path, mlp__get_le32(c), (uint32_t)crc);
    }
    /* (Bytes in memory were all counted in r->size, which matched.) */
    if (st == MLP_OK && r->f && r->whole_file && fgetc(r->f) != EOF && (st = rd_changed(r)) == MLP_OK)
        st = mlp__fail(r->err, MLP_ERR_FORMAT, "%s: trailing bytes at byte %llu", path, (unsigned long long)r->off);
    return st;
}

static enum mlp_status load_from(struct rd *r, struct mlp_model **out)
{
    struct head H = {0};
    enum mlp_status st = read_head(r, &H);
    if (st != MLP_OK) return st;
    struct mlp_layer_spec *spec = malloc(H.n_layers * sizeof *spec);
    if (!spec) return mlp__fail(r->err, MLP_ERR_NOMEM, "out of memory");
    struct mlp_model *m = NULL;
    st = read_layers(r, &H, spec);
    if (st == MLP_OK) st = create_model(r, &H, spec, &m);
    free(spec);
    if (st == MLP_OK) st = read_body(r, &H, m);
    if (st != MLP_OK) {
        mlp_model_free(m);
        return st;
    }
    *out = m;
    return MLP_OK;
}

enum mlp_status mlp_model_load(struct mlp_model **out, const char *path, struct mlp_error *err)
{
    MLP_ASSERT(out && path);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return mlp__fail(err, MLP_ERR_OPEN, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return mlp__fail(err, MLP_ERR_OPEN, "%s: cannot open: not a regular file", path);
    }
    struct rd r = {.f = f, .path = path, .crc = crc32(0, Z_NULL, 0), .size = (uint64_t)sb.st_size, .whole_file = true,
                   .have_stat = true, .at_open = sb, .err = err};
    enum mlp_status st = load_from(&r, out);
    fclose(f);
    return st;
}

enum mlp_status mlp_model_load_mem(struct mlp_model **out, const struct mlp_buffer *b, struct mlp_error *err)
{
    MLP_ASSERT(out && b && (b->data || b->size == 0));
    return mlp__model_read(b->data, b->size, b->name ? b->name : "<memory>", out, err);
}

enum mlp_status mlp__model_read(const void *bytes, uint64_t size, const char *name, struct mlp_model **out,
                                struct mlp_error *err)
{
    *out = NULL;
    struct rd r = {.mem = bytes, .path = name, .crc = crc32(0, Z_NULL, 0), .size = size, .whole_file = true,
                   .err = err};
    return load_from(&r, out);
}
