/* SPDX-License-Identifier: MIT */
/* The model file: a little-endian binary layout (docs/model-format.md),
 * saved atomically and validated field by field before anything is trusted.
 *
 * Layout, version 1:
 *   0   8  magic "FASTMLP\n"
 *   8   4  u32 format version (1)
 *   12  4  u32 endianness marker 0x01020304 (as written little-endian)
 *   16  4  u32 dtype (0 f32, 1 f64)
 *   20  4  u32 head
 *   24  4  u32 n_layers (hidden + output)
 *   28  4  u32 n_in
 *   32  8  f64 leaky slope
 *   40  8  f64 input scale
 *   48  8*n_layers  per layer: u32 n_out, u32 activation
 *   ..  8  u64 n_params (must equal what the layer table implies)
 *   ..     n_params little-endian f32 or f64 values
 * and nothing after. */
#include "../internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "FASTMLP\n"
#define FORMAT_VERSION 1u
#define ENDIAN_MARK 0x01020304u

static void put_u32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *b)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)b[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}
static void put_f64(unsigned char *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(b, v);
}
static double get_f64(const unsigned char *b)
{
    uint64_t v = get_u64(b);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static bool write_all(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n; }

/* Parameters as little-endian bytes, in chunks so no second copy of the
 * weights is ever held. */
static bool write_params(FILE *f, const struct mlp_model *m)
{
    unsigned char chunk[8 * 1024];
    size_t esz = mlp__dtype_size(m->dtype), per = sizeof chunk / esz;
    for (size_t i = 0; i < m->n_params; i += per) {
        size_t k = m->n_params - i < per ? m->n_params - i : per;
        for (size_t j = 0; j < k; j++) {
            if (m->dtype == MLP_F32) {
                uint32_t v;
                memcpy(&v, (const float *)m->params + i + j, 4);
                put_u32(chunk + 4 * j, v);
            } else {
                uint64_t v;
                memcpy(&v, (const double *)m->params + i + j, 8);
                put_u64(chunk + 8 * j, v);
            }
        }
        if (!write_all(f, chunk, k * esz)) return false;
    }
    return true;
}

static enum mlp_status write_model(FILE *f, const struct mlp_model *m)
{
    unsigned char h[48];
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, FORMAT_VERSION);
    put_u32(h + 12, ENDIAN_MARK);
    put_u32(h + 16, (uint32_t)m->dtype);
    put_u32(h + 20, (uint32_t)m->head);
    put_u32(h + 24, m->n_layers);
    put_u32(h + 28, mlp__n_in(m));
    put_f64(h + 32, m->leaky_slope);
    put_f64(h + 40, m->input_scale);
    if (!write_all(f, h, sizeof h)) return MLP_ERR_IO;
    for (uint32_t l = 0; l < m->n_layers; l++) {
        unsigned char e[8];
        put_u32(e, m->layers[l].n_out);
        put_u32(e + 4, (uint32_t)m->layers[l].act);
        if (!write_all(f, e, 8)) return MLP_ERR_IO;
    }
    unsigned char np[8];
    put_u64(np, m->n_params);
    if (!write_all(f, np, 8) || !write_params(f, m)) return MLP_ERR_IO;
    return MLP_OK;
}

enum mlp_status mlp_model_save(const struct mlp_model *m, const char *path, struct mlp_error *err)
{
    MLP_ASSERT(m && path);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16), *dcopy = strdup(path);
    if (!tmp || !dcopy) {
        free(tmp);
        free(dcopy);
        return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    }
    /* The temporary file sits beside the target so rename() is atomic. */
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        enum mlp_status s = mlp__fail(err, MLP_ERR_OPEN, "%s: cannot create a temporary file: %s", path, strerror(errno));
        free(tmp);
        free(dcopy);
        return s;
    }
    /* mkstemp creates 0600; give the model the mode a plain fopen would. */
    fchmod(fd, mlp__new_file_mode());
    FILE *f = fdopen(fd, "wb");
    enum mlp_status st = f ? write_model(f, m) : MLP_ERR_IO;
    if (st == MLP_OK && fflush(f) != 0) st = MLP_ERR_IO;
    if (st == MLP_OK && fsync(fd) != 0) st = MLP_ERR_IO;
    int saved_errno = errno;
    if (f ? fclose(f) != 0 : close(fd) != 0) st = st == MLP_OK ? MLP_ERR_IO : st;
    if (st == MLP_OK && rename(tmp, path) != 0) {
        saved_errno = errno;
        st = MLP_ERR_OPEN; /* e.g. PATH is a directory: it cannot be created */
    }
    if (st != MLP_OK) {
        unlink(tmp);
        mlp__fail(err, st, "%s: cannot write the model: %s", path, strerror(saved_errno));
    } else {
        /* Make the rename itself durable. */
        int dfd = open(dirname(dcopy), O_RDONLY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(tmp);
    free(dcopy);
    return st;
}

static enum mlp_status read_exact(FILE *f, void *p, size_t n, const char *path, const char *what,
                                  long off, struct mlp_error *err)
{
    size_t got = fread(p, 1, n, f);
    if (got == n) return MLP_OK;
    if (ferror(f)) return mlp__fail(err, MLP_ERR_IO, "%s: read error in %s at byte %ld", path, what, off);
    return mlp__fail(err, MLP_ERR_FORMAT, "%s: truncated in %s at byte %ld (needed %zu bytes, got %zu)",
                     path, what, off, n, got);
}

static enum mlp_status load_from(FILE *f, const char *path, uint64_t file_size, struct mlp_model **out,
                                 struct mlp_error *err)
{
    unsigned char h[48];
    size_t got = fread(h, 1, sizeof h, f);
    /* Judge the magic on whatever arrived, so a short foreign file is called
     * foreign rather than truncated. */
    if (got > 0 && memcmp(h, MAGIC, got < 8 ? got : 8) != 0)
        return mlp__fail(err, MLP_ERR_FORMAT, "%s: not a fastmlp model (bad magic at byte 0)", path);
    if (got < sizeof h) {
        if (ferror(f)) return mlp__fail(err, MLP_ERR_IO, "%s: read error in the header", path);
        return mlp__fail(err, MLP_ERR_FORMAT, "%s: truncated in the header (needed %zu bytes, got %zu)", path,
                         sizeof h, got);
    }
    enum mlp_status st = MLP_OK;
    uint32_t ver = get_u32(h + 8);
    if (ver != FORMAT_VERSION)
        return mlp__fail(err, MLP_ERR_FORMAT, "%s: model format version %u not supported (this build reads %u..%u)",
                         path, ver, FORMAT_VERSION, FORMAT_VERSION);
    if (get_u32(h + 12) != ENDIAN_MARK)
        return mlp__fail(err, MLP_ERR_FORMAT, "%s: bad endianness marker 0x%08x at byte 12", path, get_u32(h + 12));
    uint32_t dtype = get_u32(h + 16), head = get_u32(h + 20), nl = get_u32(h + 24), n_in = get_u32(h + 28);
    if (dtype > MLP_F64) return mlp__fail(err, MLP_ERR_FORMAT, "%s: unknown dtype id %u at byte 16", path, dtype);
    if (head >= MLP_HEAD_COUNT) return mlp__fail(err, MLP_ERR_FORMAT, "%s: unknown head id %u at byte 20", path, head);
    if (nl == 0 || nl > MLP_MAX_LAYERS)
        return mlp__fail(err, MLP_ERR_FORMAT, "%s: layer count %u at byte 24 out of range 1..%u", path, nl, MLP_MAX_LAYERS);
    struct mlp_layer_spec *spec = malloc(nl * sizeof *spec);
    if (!spec) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    for (uint32_t l = 0; l < nl && st == MLP_OK; l++) {
        unsigned char e[8];
        long off = 48 + 8 * (long)l;
        st = read_exact(f, e, 8, path, "the layer table", off, err);
        if (st != MLP_OK) break;
        spec[l].n_out = get_u32(e);
        uint32_t act = get_u32(e + 4);
        if (act >= MLP_ACT_COUNT)
            st = mlp__fail(err, MLP_ERR_FORMAT, "%s: unknown activation id %u at byte %ld", path, act, off + 4);
        else if (spec[l].n_out == 0 || spec[l].n_out > MLP_MAX_WIDTH)
            st = mlp__fail(err, MLP_ERR_FORMAT, "%s: layer %u width %u at byte %ld out of range 1..%u", path, l + 1,
                           spec[l].n_out, off, MLP_MAX_WIDTH);
        spec[l].act = (enum mlp_act)act;
    }
    /* Widths and the parameter count are checked against the bytes the file
     * really holds before anything of that size is allocated, so a 56-byte
     * file cannot make us reserve gigabytes. */
    uint64_t n_expect = 0, prev = n_in;
    for (uint32_t l = 0; l < nl && st == MLP_OK; l++) {
        uint64_t nw;
        if (!mlp__mul_ok(prev, spec[l].n_out, MLP_MAX_PARAMS, &nw) || (n_expect += nw + spec[l].n_out) > MLP_MAX_PARAMS)
            st = mlp__fail(err, MLP_ERR_FORMAT, "%s: layer table describes a model too large (more than %llu parameters)",
                           path, (unsigned long long)MLP_MAX_PARAMS);
        prev = spec[l].n_out;
    }
    uint64_t want = 56 + 8 * (uint64_t)nl + n_expect * (dtype == MLP_F32 ? 4 : 8);
    if (st == MLP_OK && file_size != want)
        st = mlp__fail(err, MLP_ERR_FORMAT, "%s: %s: the layer table implies %llu bytes, the file has %llu", path,
                       file_size < want ? "truncated" : "trailing bytes", (unsigned long long)want,
                       (unsigned long long)file_size);
    struct mlp_model *m = NULL;
    if (st == MLP_OK) {
        struct mlp_model_params mp = mlp_model_params_default();
        mp.dtype = (enum mlp_dtype)dtype;
        mp.head = (enum mlp_head)head;
        mp.n_in = n_in;
        mp.n_hidden = nl - 1;
        mp.hidden = spec;
        mp.n_out = spec[nl - 1].n_out;
        mp.leaky_slope = get_f64(h + 32);
        mp.input_scale = get_f64(h + 40);
        /* create() re-checks every width, the parameter count against its
         * limit (64-bit, overflow-checked) and the scalars. */
        struct mlp_error e2;
        st = mlp_model_create(&m, &mp, &e2);
        if (st == MLP_ERR_NOMEM)
            mlp__fail(err, st, "%s: %s", path, e2.msg);
        else if (st != MLP_OK)
            st = mlp__fail(err, MLP_ERR_FORMAT, "%s: invalid model: %s", path, e2.msg);
    }
    free(spec);
    if (st != MLP_OK) return st;

    long off = 48 + 8 * (long)nl;
    unsigned char np[8];
    st = read_exact(f, np, 8, path, "the parameter count", off, err);
    if (st == MLP_OK && get_u64(np) != m->n_params)
        st = mlp__fail(err, MLP_ERR_FORMAT, "%s: parameter count %llu at byte %ld, the layer table implies %zu", path,
                       (unsigned long long)get_u64(np), off, m->n_params);
    size_t esz = mlp__dtype_size(m->dtype);
    unsigned char chunk[8 * 1024];
    size_t per = sizeof chunk / esz;
    off += 8;
    for (size_t i = 0; st == MLP_OK && i < m->n_params; i += per) {
        size_t k = m->n_params - i < per ? m->n_params - i : per;
        st = read_exact(f, chunk, k * esz, path, "the weights", off + (long)(i * esz), err);
        for (size_t j = 0; st == MLP_OK && j < k; j++) {
            double v;
            if (m->dtype == MLP_F32) {
                uint32_t u = get_u32(chunk + 4 * j);
                float x;
                memcpy(&x, &u, 4);
                ((float *)m->params)[i + j] = x;
                v = x;
            } else {
                uint64_t u = get_u64(chunk + 8 * j);
                memcpy(&v, &u, 8);
                ((double *)m->params)[i + j] = v;
            }
            if (!isfinite(v))
                st = mlp__fail(err, MLP_ERR_FORMAT, "%s: weight %zu is not finite", path, i + j);
        }
    }
    if (st == MLP_OK && fgetc(f) != EOF)
        st = mlp__fail(err, MLP_ERR_FORMAT, "%s: trailing bytes after the weights (byte %ld)", path,
                       off + (long)(m->n_params * esz));
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
    enum mlp_status st = load_from(f, path, (uint64_t)sb.st_size, out, err);
    fclose(f);
    return st;
}
