/* SPDX-License-Identifier: MIT */
/* The model file: round trips in both dtypes, every byte-prefix of a valid
 * file refused cleanly, corrupted fields refused with a message, trailing
 * bytes and non-finite weights refused, a failed save that leaves the
 * previous file intact, and a file that shrinks while it is loaded.  Every
 * malformed file is also loaded from memory (mlp_model_load_mem), which must
 * refuse it with the same status and message. */
#include "testutil.h"
#include "fastmlp.h"
#include "shrink.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/fastmlp_mf_XXXXXX";

static struct mlp_model *small(enum mlp_dtype dt)
{
    struct mlp_layer_spec h[2] = {{5, MLP_ACT_TANH}, {3, MLP_ACT_LEAKY_RELU}};
    struct mlp_model_params p = mlp_model_params_default();
    p.dtype = dt;
    p.n_in = 4;
    p.n_hidden = 2;
    p.hidden = h;
    p.n_out = 2;
    p.leaky_slope = 0.2;
    p.input_scale = 0.5;
    struct mlp_model *m = NULL;
    CHECK_STATUS(mlp_model_create(&m, &p, NULL), MLP_OK);
    if (m) mlp_model_init(m, MLP_INIT_UNIFORM, -1, 1, 3);
    return m;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *b = malloc(1 << 16);
    *n = fread(b, 1, 1 << 16, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(b, 1, n, f) == n);
    fclose(f);
}

/* Loading `bytes` must fail with `st` and a message containing `needle`,
 * from the file and from memory alike (the buffer named as the file). */
static void expect_bad(const unsigned char *b, size_t n, enum mlp_status st, const char *needle, const char *what)
{
    char path[256];
    snprintf(path, sizeof path, "%s/bad.mlp", dir);
    spit(path, b, n);
    struct mlp_model *m = (struct mlp_model *)1;
    struct mlp_error err = {0};
    enum mlp_status got = mlp_model_load(&m, path, &err);
    CHECK_MSG(got == st && m == NULL && strstr(err.msg, needle), "%s: got status %d (%s), message '%s'", what, got,
              mlp_status_str(got), err.msg);
    unlink(path);
    struct mlp_buffer mb = {b, n, path};
    struct mlp_error em = {0};
    m = (struct mlp_model *)1;
    enum mlp_status from_mem = mlp_model_load_mem(&m, &mb, &em);
    CHECK_MSG(from_mem == got && m == NULL && strcmp(em.msg, err.msg) == 0, "%s from memory: %s '%s'", what,
              mlp_status_str(from_mem), em.msg);
}

static void put32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}

#ifdef __linux__
/* A 64 MiB model file truncated by someone else while it is loaded (after
 * the loader's fstat: the watcher waits for the header read) is MLP_ERR_IO
 * "file changed while reading", not a truncated file; or a complete load,
 * should the truncation come after the last read. */
static void test_shrinks(void)
{
    struct mlp_layer_spec h[1] = {{4096, MLP_ACT_RELU}};
    struct mlp_model *m = test_model(MLP_F32, 4096, 1, h, 2, MLP_HEAD_SOFTMAX_CE, 1);
    if (!m) return;
    mlp_model_init(m, MLP_INIT_UNIFORM, -1, 1, 5);
    char path[256], master[256];
    snprintf(master, sizeof master, "%s/big.mlp", dir);
    snprintf(path, sizeof path, "%s/shrinks.mlp", dir);
    CHECK_STATUS(mlp_model_save(m, master, NULL), MLP_OK);
    FILE *f = fopen(master, "rb");
    long n = -1;
    unsigned char *bytes = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (bytes = malloc((size_t)n)) && fread(bytes, 1, (size_t)n, f) != (size_t)n)
        n = -1;
    if (f) fclose(f);
    CHECK(n > (60l << 20) && bytes);
    int seen[2] = {0, 0};
    for (int attempt = 0; n > 0 && bytes && attempt < 3; attempt++) {
        spit(path, bytes, (size_t)n);
        struct shrinker sh;
        if (shrinker_start(&sh, path, n / 3, IN_ACCESS) != 0) {
            CHECK_MSG(0, "inotify failed");
            break;
        }
        struct mlp_model *l = NULL;
        struct mlp_error err = {0};
        enum mlp_status st = mlp_model_load(&l, path, &err);
        shrinker_join(&sh);
        CHECK_MSG(st == MLP_OK || (st == MLP_ERR_IO && strstr(err.msg, "file changed while reading")),
                  "attempt %d: %s: %s", attempt, mlp_status_str(st), err.msg);
        if (st == MLP_ERR_IO) {
            char want[96];
            snprintf(want, sizeof want, "(%ld bytes at open, %ld now)", n, n / 3);
            CHECK_MSG(strstr(err.msg, want) != NULL, "msg: %s", err.msg);
        }
        CHECK(st == MLP_OK ? l != NULL && mlp_model_n_params(l) == mlp_model_n_params(m) : l == NULL);
        seen[0] += st == MLP_OK;
        seen[1] += st == MLP_ERR_IO;
        mlp_model_free(l);
    }
    printf("test_model_file: shrunk while loading: %d complete, %d changed\n", seen[0], seen[1]);
    free(bytes);
    mlp_model_free(m);
    unlink(path);
    unlink(master);
}
#endif

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/m.mlp", dir);
    for (int d = 0; d < 2; d++) {
        enum mlp_dtype dt = d ? MLP_F64 : MLP_F32;
        struct mlp_model *m = small(dt), *l = NULL;
        if (!m) continue;
        CHECK_STATUS(mlp_model_save(m, path, NULL), MLP_OK);
        CHECK_STATUS(mlp_model_load(&l, path, NULL), MLP_OK);
        if (l) {
            CHECK(mlp_model_n_params(l) == mlp_model_n_params(m));
            CHECK(memcmp(mlp_model_params(l), mlp_model_params(m), mlp_model_n_params(m) * (d ? 8 : 4)) == 0);
            CHECK(mlp_model_leaky_slope(l) == 0.2 && mlp_model_input_scale(l) == 0.5);
            CHECK(mlp_model_layer(l, 1).act == MLP_ACT_LEAKY_RELU && mlp_model_layer(l, 0).n_out == 5);
        }
        mlp_model_free(l);
        /* The same bytes from memory: the same model. */
        size_t nb;
        unsigned char *bytes = slurp(path, &nb);
        struct mlp_buffer mb = {bytes, nb, NULL};
        l = NULL;
        CHECK_STATUS(mlp_model_load_mem(&l, &mb, NULL), MLP_OK);
        CHECK(l && mlp_model_n_params(l) == mlp_model_n_params(m) &&
              memcmp(mlp_model_params(l), mlp_model_params(m), mlp_model_n_params(m) * (d ? 8 : 4)) == 0 &&
              mlp_model_leaky_slope(l) == 0.2 && mlp_model_input_scale(l) == 0.5 &&
              mlp_model_layer(l, 1).act == MLP_ACT_LEAKY_RELU && mlp_model_layer(l, 2).n_out == 2);
        mlp_model_free(l);
        /* Unnamed, it is "<memory>" in messages. */
        struct mlp_error em = {0};
        mb.size = nb - 1;
        l = (struct mlp_model *)1;
        CHECK_STATUS(mlp_model_load_mem(&l, &mb, &em), MLP_ERR_FORMAT);
        CHECK_MSG(l == NULL && strstr(em.msg, "<memory>: ") == em.msg && strstr(em.msg, "truncated"), "%s", em.msg);
        free(bytes);
        mlp_model_free(m);
    }

    /* The f64 file is the specimen for corruption. */
    size_t n;
    unsigned char *good = slurp(path, &n), *b = malloc(n + 8);
    CHECK(good != NULL && n > 48);
    if (!good) return check_report("model_file");
    for (size_t k = 0; k < n; k++) expect_bad(good, k, MLP_ERR_FORMAT, "truncated", "byte prefix");

    memcpy(b, good, n);
    b[0] ^= 1;
    expect_bad(b, n, MLP_ERR_FORMAT, "magic", "flipped magic");
    memcpy(b, good, n);
    put32(b + 8, 99);
    expect_bad(b, n, MLP_ERR_FORMAT, "version 99 not supported", "unknown version");
    memcpy(b, good, n);
    put32(b + 16, 7);
    expect_bad(b, n, MLP_ERR_FORMAT, "dtype", "unknown dtype");
    memcpy(b, good, n);
    put32(b + 24, 0);
    expect_bad(b, n, MLP_ERR_FORMAT, "layer count 0", "zero layers");
    memcpy(b, good, n);
    put32(b + 24, 0xffffffffu);
    expect_bad(b, n, MLP_ERR_FORMAT, "layer count 4294967295", "2^32-1 layers");
    memcpy(b, good, n);
    put32(b + 128 + 4, 42); /* first layer's activation (layer table at 128) */
    expect_bad(b, n, MLP_ERR_FORMAT, "activation id 42", "unknown activation");
    memcpy(b, good, n);
    put32(b + 28, 1u << 24); /* n_in 2^24 and widths 2^24: the product overflows the limit */
    put32(b + 128, 1u << 24);
    put32(b + 136, 1u << 24);
    expect_bad(b, n, MLP_ERR_FORMAT, "too large", "widths whose product overflows");
    memcpy(b, good, n);
    put32(b + 104, 12345); /* parameter count disagreeing with the layer table */
    expect_bad(b, n, MLP_ERR_FORMAT, "parameter count 12345", "parameter count");
    memcpy(b, good, n);
    put32(b + 48, 0x80); /* unknown flag */
    expect_bad(b, n, MLP_ERR_FORMAT, "unknown flags", "unknown flags");
    memcpy(b, good, n);
    memcpy(b + n, "x", 1);
    expect_bad(b, n + 1, MLP_ERR_FORMAT, "trailing", "trailing bytes");
    memcpy(b, good, n);
    double nan = NAN;
    memcpy(b + n - 4 - 8, &nan, 8); /* the last weight, before the CRC */
    expect_bad(b, n, MLP_ERR_FORMAT, "not finite", "NaN weight");
    /* A flipped bit anywhere in the weights or the metadata: the CRC says so. */
    memcpy(b, good, n);
    b[n - 4 - 3] ^= 0x10;
    expect_bad(b, n, MLP_ERR_FORMAT, "checksum mismatch", "flipped weight bit");
    memcpy(b, good, n);
    b[60] ^= 0x01; /* the training seed */
    expect_bad(b, n, MLP_ERR_FORMAT, "checksum mismatch", "flipped metadata bit");
    memcpy(b, good, n);
    b[n - 1] ^= 0x01;
    expect_bad(b, n, MLP_ERR_FORMAT, "checksum mismatch", "flipped checksum bit");

    /* The foundation's version-1 file (no CRC, no preprocessing) still loads:
     * a 1-input, 1-output identity-mse model with w = 2, b = 0.5 in f64. */
    {
        unsigned char v1[56 + 8 + 16] = {0};
        memcpy(v1, "FASTMLP\n", 8);
        put32(v1 + 8, 1);
        put32(v1 + 12, 0x01020304u);
        put32(v1 + 16, 1);
        put32(v1 + 20, 2);
        put32(v1 + 24, 1);
        put32(v1 + 28, 1);
        double one = 1.0, two = 2.0, half = 0.5;
        memcpy(v1 + 40, &one, 8);
        put32(v1 + 48, 1);
        put32(v1 + 56, 2); /* n_params (u64, low half) */
        memcpy(v1 + 64, &two, 8);
        memcpy(v1 + 72, &half, 8);
        char p1[256];
        snprintf(p1, sizeof p1, "%s/v1.mlp", dir);
        spit(p1, v1, sizeof v1);
        struct mlp_model *l1 = NULL;
        CHECK_STATUS(mlp_model_load(&l1, p1, NULL), MLP_OK);
        if (l1) {
            const double *w = mlp_model_params(l1);
            CHECK(w[0] == 2.0 && w[1] == 0.5 && mlp_model_head(l1) == MLP_HEAD_IDENTITY_MSE);
            CHECK(mlp_model_standardize_mean(l1) == NULL && mlp_model_train_meta(l1).epochs == 0);
            /* re-saved, it becomes version 2 and loads back identically */
            CHECK_STATUS(mlp_model_save(l1, p1, NULL), MLP_OK);
            struct mlp_model *l2 = NULL;
            CHECK_STATUS(mlp_model_load(&l2, p1, NULL), MLP_OK);
            CHECK(l2 && ((const double *)mlp_model_params(l2))[0] == 2.0);
            mlp_model_free(l2);
        }
        mlp_model_free(l1);
        unlink(p1);
    }

    /* Standardisation and training metadata survive the round trip. */
    {
        struct mlp_model *s1 = small(MLP_F64), *s2 = NULL;
        double mean[4] = {0.1, -2, 3, 0}, sd[4] = {1, 0.5, 2, 4};
        CHECK_STATUS(mlp_model_set_standardize(s1, mean, sd, NULL), MLP_OK);
        double xs[4] = {1, 2, 3, 4};
        int32_t ys[1] = {1};
        struct mlp_dataset d1 = {.n_rows = 1, .n_cols = 4, .x_type = MLP_ELEM_F64, .x = xs, .labels = ys, .n_classes = 2};
        struct mlp_train_params tp = mlp_train_params_default();
        tp.epochs = 3;
        tp.seed = 99;
        CHECK_STATUS(mlp_model_train(s1, &d1, &tp, NULL), MLP_OK);
        CHECK_STATUS(mlp_model_save(s1, path, NULL), MLP_OK);
        CHECK_STATUS(mlp_model_load(&s2, path, NULL), MLP_OK);
        if (s2) {
            CHECK(memcmp(mlp_model_standardize_mean(s2), mean, sizeof mean) == 0);
            CHECK(memcmp(mlp_model_standardize_std(s2), sd, sizeof sd) == 0);
            struct mlp_train_meta tm = mlp_model_train_meta(s2);
            CHECK(tm.epochs == 3 && tm.seed == 99 && tm.optim == MLP_OPT_ADAM && tm.lr == 1e-3 && tm.samples == 1);
            double p1[2], p2[2];
            CHECK_STATUS(mlp_model_predict(s1, &d1, MLP_ROWS(0, 1), p1, NULL), MLP_OK);
            CHECK_STATUS(mlp_model_predict(s2, &d1, MLP_ROWS(0, 1), p2, NULL), MLP_OK);
            CHECK(memcmp(p1, p2, sizeof p1) == 0);
            /* the weights start on a 64-byte boundary of the file */
            size_t fsz;
            unsigned char *raw = slurp(path, &fsz);
            size_t wstart = fsz - 4 - mlp_model_n_params(s2) * 8;
            CHECK(raw && wstart % 64 == 0);
            free(raw);
        }
        mlp_model_free(s1);
        mlp_model_free(s2);
    }

    /* A save that cannot happen leaves the old file as it was. */
    struct mlp_model *m = small(MLP_F32);
    struct mlp_error err = {0};
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no/such/dir/m.mlp", dir);
    CHECK_STATUS(mlp_model_save(m, missing, &err), MLP_ERR_OPEN);
    CHECK(access(missing, F_OK) != 0);
    CHECK_STATUS(mlp_model_save(m, path, NULL), MLP_OK); /* replaces the f64 file atomically */
    size_t n2;
    unsigned char *now = slurp(path, &n2);
    CHECK(now && n2 != n);
    /* in memory: the very bytes of the file, and they load back */
    void *mem = NULL;
    size_t n_mem = 0;
    CHECK_STATUS(mlp_model_save_mem(m, &mem, &n_mem, &err), MLP_OK);
    CHECK(mem && now && n_mem == n2 && memcmp(mem, now, n2) == 0);
    struct mlp_model *back = NULL;
    const struct mlp_buffer mb = {mem, n_mem, "mem.mlp"};
    CHECK_STATUS(mlp_model_load_mem(&back, &mb, &err), MLP_OK);
    CHECK(back && mlp_model_n_params(back) == mlp_model_n_params(m) &&
          memcmp(mlp_model_params_const(back), mlp_model_params_const(m), mlp_model_n_params(m) * sizeof(float)) == 0);
    mlp_model_free(back);
    free(mem);
    free(now);
    mlp_model_free(m);
    struct mlp_model *l = NULL;
    CHECK_STATUS(mlp_model_load(&l, "/nonexistent/m.mlp", &err), MLP_ERR_OPEN);
    CHECK(l == NULL);

    unlink(path);
#ifdef __linux__
    test_shrinks();
#endif
    rmdir(dir);
    free(good);
    free(b);
    return check_report("model_file");
}
