/* SPDX-License-Identifier: MIT */
/* The trainer's checkpoints: a run stopped at a batch boundary (mid-epoch or
 * at an epoch's end) and resumed in a fresh trainer ends bit-identical to an
 * uninterrupted run, for every optimizer, schedules, weight decay and early
 * stopping; a checkpoint from another network, other parameters or other
 * data is refused with a message naming the first field that differs and
 * both values; a corrupt one (any byte flipped) is refused as corrupt before
 * any of its fields is believed.  Also: schedules and early stopping do what
 * they say. */
#include "testutil.h"
#include "shrink.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROWS = 300, COLS = 12, K = 3 };
static double X[ROWS * COLS], XV[100 * COLS];
static int32_t Y[ROWS], YV[100];
static struct mlp_dataset train = {.n_rows = ROWS, .n_cols = COLS, .x_type = MLP_ELEM_F64, .x = X, .labels = Y, .n_classes = K};
static struct mlp_dataset valid = {.n_rows = 100, .n_cols = COLS, .x_type = MLP_ELEM_F64, .x = XV, .labels = YV, .n_classes = K};
static char dir[] = "/tmp/fastmlp_ckpt_XXXXXX";

static void make_data(void)
{
    /* Labels from a fixed linear rule plus noise: learnable, not trivial. */
    uint64_t s = 12345;
    for (int i = 0; i < ROWS * COLS; i++) X[i] = (double)((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) / (1 << 24) - 0.5;
    for (int i = 0; i < 100 * COLS; i++) XV[i] = (double)((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) / (1 << 24) - 0.5;
    for (int i = 0; i < ROWS; i++) Y[i] = (X[i * COLS] + X[i * COLS + 1] > 0) + (X[i * COLS + 2] > 0.3);
    for (int i = 0; i < 100; i++) YV[i] = (XV[i * COLS] + XV[i * COLS + 1] > 0) + (XV[i * COLS + 2] > 0.3);
}

static struct mlp_model *fresh(enum mlp_dtype dt)
{
    struct mlp_layer_spec h[1] = {{16, MLP_ACT_TANH}};
    struct mlp_model *m = test_model(dt, COLS, 1, h, K, MLP_HEAD_SOFTMAX_CE, 1);
    if (m) mlp_model_init(m, MLP_INIT_XAVIER, 0, 0, 5);
    return m;
}

struct stopper {
    uint32_t epoch;
    uint64_t batch;
};

static int stop_at(const struct mlp_batch_info *b, void *user)
{
    const struct stopper *s = user;
    return b->epoch == s->epoch && b->batch == s->batch;
}

static int stop_at_epoch(const struct mlp_epoch_stats *e, void *user)
{
    const struct stopper *s = user;
    return s->batch == 0 && e->epoch == s->epoch;
}

/* Train straight through, and again stopped at (epoch, batch) then resumed
 * in a new trainer over a new model: the weights must match bit for bit. */
static void resume_case(const char *name, enum mlp_dtype dt, struct mlp_train_params p, bool with_valid,
                        struct stopper at)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.ckpt", dir, name);
    const struct mlp_dataset *ev = with_valid ? &valid : NULL;
    struct mlp_model *a = fresh(dt), *b = fresh(dt), *c = fresh(dt);
    struct mlp_trainer *ta = NULL, *tb = NULL, *tc = NULL;
    struct mlp_error err = {0};
    if (!a || !b || !c) goto out;
    p.eval = ev;
    CHECK_STATUS(mlp_trainer_create(&ta, a, &train, &p, &err), MLP_OK);
    if (!ta) goto out;
    CHECK_STATUS(mlp_trainer_run(ta, &err), MLP_OK);

    p.eval = ev;
    CHECK_STATUS(mlp_trainer_create(&tb, b, &train, &p, &err), MLP_OK);
    if (!tb) goto out;
    mlp_trainer_set_callbacks(tb, stop_at_epoch, stop_at, &at);
    mlp_trainer_set_checkpoint(tb, path, 0);
    CHECK_STATUS(mlp_trainer_run(tb, &err), MLP_ERR_STOPPED);
    CHECK_MSG(strstr(err.msg, "checkpoint written") != NULL, "%s: %s", name, err.msg);

    p.eval = ev;
    CHECK_STATUS(mlp_trainer_create(&tc, c, &train, &p, &err), MLP_OK);
    if (!tc) goto out;
    CHECK_STATUS(mlp_trainer_resume(tc, path, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_run(tc, &err), MLP_OK);
    size_t bytes = mlp_model_n_params(a) * (dt == MLP_F32 ? 4 : 8);
    CHECK_MSG(memcmp(mlp_model_params(a), mlp_model_params(c), bytes) == 0,
              "%s: resumed weights differ from an uninterrupted run", name);
    CHECK_MSG(memcmp(mlp_model_params(a), mlp_model_params(b), bytes) != 0, "%s: the stop did not stop", name);
    uint32_t na, nc;
    const struct mlp_epoch_stats *ha = mlp_trainer_history(ta, &na), *hc = mlp_trainer_history(tc, &nc);
    CHECK(na == nc && na > 0);
    for (uint32_t i = 0; i < na && i < nc; i++)
        CHECK_MSG(ha[i].train_loss == hc[i].train_loss && ha[i].test_loss == hc[i].test_loss &&
                      ha[i].train_acc == hc[i].train_acc,
                  "%s: epoch %u statistics differ after the resume", name, i + 1);
    CHECK(mlp_trainer_stopped_early(ta) == mlp_trainer_stopped_early(tc));
    CHECK(mlp_model_train_meta(a).epochs == mlp_model_train_meta(c).epochs);
out:
    mlp_trainer_free(ta);
    mlp_trainer_free(tb);
    mlp_trainer_free(tc);
    mlp_model_free(a);
    mlp_model_free(b);
    mlp_model_free(c);
}

static void refusals(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/r.ckpt", dir);
    struct mlp_train_params p = mlp_train_params_default();
    p.epochs = 3;
    p.batch = 32;
    struct stopper at = {2, 3};
    struct mlp_model *m = fresh(MLP_F32);
    struct mlp_trainer *t = NULL;
    struct mlp_error err = {0};
    if (!m) return;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &p, &err), MLP_OK);
    mlp_trainer_set_callbacks(t, NULL, stop_at, &at);
    mlp_trainer_set_checkpoint(t, path, 0);
    CHECK_STATUS(mlp_trainer_run(t, &err), MLP_ERR_STOPPED);
    mlp_trainer_free(t);
    mlp_model_free(m);

    /* other parameters */
    struct mlp_train_params q = p;
    q.seed = 7;
    m = fresh(MLP_F32);
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &q, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_ARG);
    CHECK(strstr(err.msg, "seed 42, this run asks for 7") != NULL);
    mlp_trainer_free(t);
    q = p;
    q.lr = 0.01;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &q, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_ARG);
    CHECK(strstr(err.msg, "learning rate") != NULL);
    mlp_trainer_free(t);
    q = p;
    q.optim = MLP_OPT_SGD;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &q, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "optimizer adam, this run asks for sgd") != NULL, "%s", err.msg);
    mlp_trainer_free(t);
    /* two values that print alike with %g are printed so that they differ */
    q = p;
    q.beta1 = 0.9000000001;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &q, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_ARG);
    char want[120];
    snprintf(want, sizeof want, "beta1 %.17g, this run asks for %.17g", p.beta1, q.beta1);
    CHECK_MSG(strstr(err.msg, want) != NULL, "%s (wanted \"%s\")", err.msg, want);
    mlp_trainer_free(t);
    q.beta1 = 0.95; /* and those that do not, as short as before */
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &q, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "beta1 0.9, this run asks for 0.95") != NULL, "%s", err.msg);
    mlp_trainer_free(t);
    /* other data: one value changed, one label changed, rows, an
     * evaluation set: each names what differs, and the two values differ */
    X[17] += 1;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &p, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_SHAPE);
    CHECK_MSG(strstr(err.msg, "different training set (inputs' CRC-32: checkpoint ") != NULL, "%s", err.msg);
    mlp_trainer_free(t);
    X[17] -= 1;
    Y[5] = (Y[5] + 1) % K;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &p, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_SHAPE);
    unsigned crc_a = 0, crc_b = 0;
    const char *lab = strstr(err.msg, "labels' CRC-32: checkpoint ");
    CHECK_MSG(lab && sscanf(lab, "labels' CRC-32: checkpoint %x, this run %x", &crc_a, &crc_b) == 2 && crc_a != crc_b,
              "%s", err.msg);
    mlp_trainer_free(t);
    Y[5] = (Y[5] + K - 1) % K;
    struct mlp_dataset fewer = train;
    fewer.n_rows = ROWS - 1;
    CHECK_STATUS(mlp_trainer_create(&t, m, &fewer, &p, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_SHAPE);
    CHECK_MSG(strstr(err.msg, "different training set (rows: checkpoint 300, this run 299)") != NULL, "%s", err.msg);
    mlp_trainer_free(t);
    q = p;
    q.eval = &valid;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &q, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_SHAPE);
    CHECK_MSG(strstr(err.msg, "different evaluation set (the checkpoint has none, this run has one)") != NULL, "%s",
              err.msg);
    mlp_trainer_free(t);
    mlp_model_free(m);
    /* other network */
    m = fresh(MLP_F64);
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &p, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_SHAPE);
    CHECK_MSG(strstr(err.msg, "different network (dtype: checkpoint f32, this run f64)") != NULL, "%s", err.msg);
    mlp_trainer_free(t);
    mlp_model_free(m);

    /* corruption: a flipped state byte, a truncation, a model file */
    FILE *f = fopen(path, "rb");
    unsigned char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    CHECK(n > 100 && n < sizeof buf);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    m = fresh(MLP_F32);
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &p, &err), MLP_OK);
    buf[n - 40] ^= 1;
    f = fopen(bad, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    CHECK_STATUS(mlp_trainer_resume(t, bad, &err), MLP_ERR_FORMAT);
    CHECK(strstr(err.msg, "checksum") != NULL);
    buf[n - 40] ^= 1;
    for (size_t k = 0; k < n; k += 97) {
        f = fopen(bad, "wb");
        fwrite(buf, 1, k, f);
        fclose(f);
        CHECK_STATUS(mlp_trainer_resume(t, bad, &err), MLP_ERR_FORMAT);
    }
    struct mlp_model *plain = fresh(MLP_F32);
    CHECK_STATUS(mlp_model_save(plain, bad, NULL), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, bad, &err), MLP_ERR_FORMAT);
    CHECK(strstr(err.msg, "not a fastmlp checkpoint") != NULL);
    CHECK_STATUS(mlp_trainer_resume(t, "/nonexistent.ckpt", &err), MLP_ERR_OPEN);
    mlp_model_free(plain);
    mlp_trainer_free(t);
    mlp_model_free(m);
    unlink(bad);
    unlink(path);
}

static bool write_file(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(b, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = false;
    return ok;
}

/* Every byte of a checkpoint flipped in turn, once whole and once one bit:
 * the resume is always a format error, and past the 32-byte header (magic,
 * version, endianness, section sizes: each a format error of its own) it is
 * always the checksum's, in the model section, the state section and the
 * CRCs themselves.  Never a refusal for a parameter, network or data set
 * that seems to differ: no field may be believed before the checksum is.
 * And a refused file leaves the trainer as it was: after them all, a fresh
 * trainer still trains exactly as an untouched one. */
static void every_byte_flipped(void)
{
    char path[128], bad[160];
    snprintf(path, sizeof path, "%s/flip.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/flip_bad.ckpt", dir);
    struct mlp_layer_spec h[1] = {{4, MLP_ACT_TANH}};
    struct mlp_train_params p = mlp_train_params_default();
    p.epochs = 3;
    p.batch = 100;
    p.patience = 2; /* with adam: every array the state section can hold */
    struct stopper at = {2, 1};
    struct mlp_model *m[3] = {0};
    struct mlp_trainer *t[3] = {0}; /* stopped, refusing, untouched */
    struct mlp_error err = {0};
    for (int i = 0; i < 3; i++) {
        if (!(m[i] = test_model(MLP_F32, COLS, 1, h, K, MLP_HEAD_SOFTMAX_CE, 1))) goto out;
        mlp_model_init(m[i], MLP_INIT_XAVIER, 0, 0, 5);
        p.eval = &valid;
        CHECK_STATUS(mlp_trainer_create(&t[i], m[i], &train, &p, &err), MLP_OK);
        if (!t[i]) goto out;
    }
    mlp_trainer_set_callbacks(t[0], NULL, stop_at, &at);
    mlp_trainer_set_checkpoint(t[0], path, 0);
    CHECK_STATUS(mlp_trainer_run(t[0], &err), MLP_ERR_STOPPED);

    static unsigned char buf[1 << 14];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    CHECK_MSG(n > 1000 && n < sizeof buf, "checkpoint of %zu bytes", n);
    size_t wrong[MLP_ERR_STOPPED + 1] = {0}, n_wrong = 0, tried = 0;
    for (size_t k = 0; k < n && n < sizeof buf; k++) {
        const unsigned char masks[2] = {0xff, (unsigned char)(1u << (k % 8))};
        for (int i = 0; i < 2; i++) {
            buf[k] ^= masks[i];
            bool written = write_file(bad, buf, n);
            buf[k] ^= masks[i];
            if (!written) {
                CHECK_MSG(written, "cannot write %s", bad);
                goto out;
            }
            err.msg[0] = 0;
            enum mlp_status st = mlp_trainer_resume(t[1], bad, &err);
            bool ok = st == MLP_ERR_FORMAT &&
                      (k < 32 || (strstr(err.msg, "checksum mismatch") && strstr(err.msg, "corrupt")));
            tried++;
            if (ok) continue;
            /* one example of each wrong status */
            if ((unsigned)st <= MLP_ERR_STOPPED && wrong[st]++ == 0)
                fprintf(stderr, "byte %zu ^ 0x%02x: %s: %s\n", k, masks[i], mlp_status_str(st), err.msg);
            n_wrong++;
        }
    }
    CHECK_MSG(n_wrong == 0,
              "%zu of %zu flipped checkpoints were not refused as corrupt (%zu as other parameters, %zu as another "
              "network or data set, %zu as another format error)",
              n_wrong, tried, wrong[MLP_ERR_ARG], wrong[MLP_ERR_SHAPE], wrong[MLP_ERR_FORMAT]);
    /* the intact file still resumes */
    CHECK_STATUS(mlp_trainer_resume(t[2], path, &err), MLP_OK);
    /* the trainer that refused them all trains as one that never saw them */
    mlp_trainer_free(t[2]);
    t[2] = NULL;
    mlp_model_init(m[2], MLP_INIT_XAVIER, 0, 0, 5);
    p.eval = &valid;
    CHECK_STATUS(mlp_trainer_create(&t[2], m[2], &train, &p, &err), MLP_OK);
    if (!t[2]) goto out;
    CHECK_STATUS(mlp_trainer_run(t[1], &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_run(t[2], &err), MLP_OK);
    CHECK_MSG(memcmp(mlp_model_params(m[1]), mlp_model_params(m[2]), mlp_model_n_params(m[1]) * 4) == 0,
              "refused checkpoints changed the trainer that refused them");
out:
    for (int i = 0; i < 3; i++) {
        mlp_trainer_free(t[i]);
        mlp_model_free(m[i]);
    }
    unlink(bad);
    unlink(path);
}

/* A whole file into a malloc'd buffer (*n bytes), or NULL. */
static unsigned char *read_whole(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    *n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0) *n = ftell(f);
    if (f) rewind(f);
    unsigned char *buf = *n > 0 ? malloc((size_t)*n) : NULL;
    if (buf && fread(buf, 1, (size_t)*n, f) != (size_t)*n) {
        free(buf);
        buf = NULL;
    }
    if (f) fclose(f);
    return buf;
}

/* A trainer (Adam, defaults) over one hidden layer of `width` ReLU units,
 * its checkpoint saved to `path` and read back whole into buf (n bytes). */
struct saved {
    struct mlp_model *m;
    struct mlp_trainer *t;
    unsigned char *buf;
    long n;
};

static bool save_whole(struct saved *s, enum mlp_dtype dt, uint32_t width, const char *path)
{
    struct mlp_layer_spec h[1] = {{width, MLP_ACT_RELU}};
    struct mlp_train_params p = mlp_train_params_default();
    struct mlp_error err = {0};
    *s = (struct saved){.n = -1};
    if (!(s->m = test_model(dt, COLS, 1, h, K, MLP_HEAD_SOFTMAX_CE, 1))) return false;
    mlp_model_init(s->m, MLP_INIT_HE, 0, 0, 9);
    CHECK_STATUS(mlp_trainer_create(&s->t, s->m, &train, &p, &err), MLP_OK);
    if (!s->t) return false;
    CHECK_STATUS(mlp_trainer_save_checkpoint(s->t, path, &err), MLP_OK);
    return (s->buf = read_whole(path, &s->n)) != NULL;
}

static void saved_free(struct saved *s)
{
    free(s->buf);
    mlp_trainer_free(s->t);
    mlp_model_free(s->m);
}

/* A checkpoint whose sections span many of the reader's chunks (the state
 * here is over 1 MB): intact it resumes; a byte flipped in the middle of the
 * weights, of the state, or in the state's last, partial chunk is found. */
static void large_checkpoint(void)
{
    char path[128], bad[160];
    snprintf(path, sizeof path, "%s/large.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/large_bad.ckpt", dir);
    struct saved c;
    struct mlp_error err = {0};
    bool got = save_whole(&c, MLP_F64, 3000, path);
    long n = c.n;
    unsigned char *buf = c.buf;
    CHECK_MSG(got && n > (1 << 20), "checkpoint of %ld bytes", n);
    if (got) CHECK_STATUS(mlp_trainer_resume(c.t, path, &err), MLP_OK);
    uint64_t mb = 0;
    for (int i = 0; got && i < 8; i++) mb |= (uint64_t)buf[16 + i] << (8 * i);
    const size_t at[3] = {32 + (size_t)mb / 2, 32 + (size_t)mb + ((size_t)n - 36 - (size_t)mb) / 2, (size_t)n - 6};
    const char *const section[3] = {"in the model section", "in the state section", "in the state section"};
    for (int i = 0; got && i < 3; i++) {
        buf[at[i]] ^= 0x10;
        CHECK(write_file(bad, buf, (size_t)n));
        buf[at[i]] ^= 0x10;
        CHECK_STATUS(mlp_trainer_resume(c.t, bad, &err), MLP_ERR_FORMAT);
        CHECK_MSG(strstr(err.msg, section[i]) && strstr(err.msg, "corrupt"), "byte %zu: %s", at[i], err.msg);
    }
    saved_free(&c);
    unlink(bad);
    unlink(path);
}

#ifdef __linux__
/* A checkpoint that shrinks while it is read (truncated from a second thread
 * at its first read) is MLP_ERR_IO "file changed while reading", never a
 * corruption or a flag mismatch; or it resumes whole, should the truncation
 * come after the last read. */
static void shrinking_checkpoint(void)
{
    char path[128], master[128];
    snprintf(path, sizeof path, "%s/shrinks.ckpt", dir);
    snprintf(master, sizeof master, "%s/master.ckpt", dir);
    struct saved c; /* Adam: the weights and two moments, 24 MB in f32 */
    struct mlp_error err = {0};
    bool got = save_whole(&c, MLP_F32, 100000, master);
    long n = c.n;
    CHECK_MSG(got && n > (16l << 20), "checkpoint of %ld bytes", n);
    int seen[2] = {0, 0};
    for (int attempt = 0; got && attempt < 3; attempt++) {
        CHECK(write_file(path, c.buf, (size_t)n));
        struct shrinker sh;
        if (shrinker_start(&sh, path, n / 3, IN_ACCESS) != 0) {
            CHECK_MSG(0, "inotify failed");
            break;
        }
        enum mlp_status st = mlp_trainer_resume(c.t, path, &err);
        shrinker_join(&sh);
        CHECK_MSG(st == MLP_OK || (st == MLP_ERR_IO && strstr(err.msg, "file changed while reading")),
                  "attempt %d: %s: %s", attempt, mlp_status_str(st), err.msg);
        seen[0] += st == MLP_OK;
        seen[1] += st == MLP_ERR_IO;
    }
    printf("test_checkpoint: shrunk while resuming: %d complete, %d changed\n", seen[0], seen[1]);
    saved_free(&c);
    unlink(path);
    unlink(master);
}
#endif

/* A checkpoint from another network: the first field that differs is named
 * with both values, for each field a network has. */
static void network_refusals(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    struct mlp_dataset narrow = train;
    narrow.n_cols = 6;
    struct mlp_train_params p = mlp_train_params_default();
    p.epochs = 2;
    p.batch = 32;
    double mean[COLS], sd[COLS];
    for (int j = 0; j < COLS; j++) mean[j] = 0.25 * j, sd[j] = 1 + 0.5 * j;
    char near[120];
    snprintf(near, sizeof near, "leaky slope: checkpoint %.17g, this run %.17g", 0.01, 0.01 + 1e-15);
    const char *const want[] = {
        NULL, /* the checkpoint's own network */
        "different network (inputs: checkpoint 12, this run 6)",
        "different network (dtype: checkpoint f32, this run f64)",
        "different network (head: checkpoint softmax-ce, this run sigmoid-bce)",
        "different network (hidden layers: checkpoint 2, this run 1)",
        "different network (layer 2 width: checkpoint 8, this run 10)",
        "different network (layer 1 activation: checkpoint tanh, this run relu)",
        "different network (outputs: checkpoint 3, this run 4)",
        "different network (leaky slope: checkpoint 0.01, this run 0.02)",
        near,
        "different preprocessing (input scale: checkpoint 1, this run 0.5)",
        "different preprocessing (standardisation: checkpoint has it, this run not)",
        "different preprocessing (standardisation mean of input 5: checkpoint 1.25, this run 1.3)",
        "different preprocessing (standardisation std of input 3: checkpoint 2.5, this run 2.75)",
    };
    for (size_t v = 0; v < sizeof want / sizeof *want; v++) {
        struct mlp_layer_spec h[2] = {{16, MLP_ACT_TANH}, {8, MLP_ACT_LEAKY_RELU}};
        struct mlp_model_params mp = mlp_model_params_default();
        mp.dtype = MLP_F32;
        mp.n_in = COLS;
        mp.n_hidden = 2;
        mp.hidden = h;
        mp.n_out = K;
        mp.head = MLP_HEAD_SOFTMAX_CE;
        mp.leaky_slope = 0.01;
        mp.input_scale = 1;
        const struct mlp_dataset *ds = &train;
        double vm[COLS], vs[COLS];
        memcpy(vm, mean, sizeof vm);
        memcpy(vs, sd, sizeof vs);
        bool standardize = true;
        switch (v) {
        case 1: mp.n_in = 6, ds = &narrow; break;
        case 2: mp.dtype = MLP_F64; break;
        case 3: mp.head = MLP_HEAD_SIGMOID_BCE; break;
        case 4: mp.n_hidden = 1; break;
        case 5: h[1].n_out = 10; break;
        case 6: h[0].act = MLP_ACT_RELU; break;
        case 7: mp.n_out = 4; break;
        case 8: mp.leaky_slope = 0.02; break;
        case 9: mp.leaky_slope = 0.01 + 1e-15; break;
        case 10: mp.input_scale = 0.5; break;
        case 11: standardize = false; break;
        case 12: vm[5] = 1.3; break;
        case 13: vs[3] = 2.75; break;
        }
        struct mlp_model *m = NULL;
        struct mlp_trainer *t = NULL;
        struct mlp_error err = {0};
        mp.ctx = test_ctx();
        CHECK_STATUS(mlp_model_create(&m, &mp, &err), MLP_OK);
        if (!m) return;
        if (standardize) CHECK_STATUS(mlp_model_set_standardize(m, vm, vs, &err), MLP_OK);
        CHECK_STATUS(mlp_trainer_create(&t, m, ds, &p, &err), MLP_OK);
        if (t && v == 0) {
            CHECK_STATUS(mlp_trainer_save_checkpoint(t, path, &err), MLP_OK);
            CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_OK);
        } else if (t) {
            CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_SHAPE);
            CHECK_MSG(strstr(err.msg, want[v]) != NULL, "case %zu: got \"%s\", wanted \"%s\"", v, err.msg, want[v]);
        }
        mlp_trainer_free(t);
        mlp_model_free(m);
    }
    unlink(path);
}

static int lr_trace(const struct mlp_epoch_stats *e, void *user)
{
    (void)e;
    ++*(int *)user;
    return 0;
}

/* Schedules and early stopping behave as documented. */
static void schedules_and_patience(void)
{
    struct mlp_train_params p = mlp_train_params_default();
    p.epochs = 10;
    p.lr = 0.1;
    p.schedule = MLP_SCHED_STEP;
    p.step_size = 3;
    p.gamma = 0.5;
    /* the schedule is checked through one plain SGD step per epoch on a
     * linear model whose gradient is constant: w moves by lr_e * g */
    double x = 1, tgt = 0;
    struct mlp_dataset d = {.n_rows = 1, .n_cols = 1, .x_type = MLP_ELEM_F64, .x = &x, .targets = &tgt, .n_targets = 1};
    for (int s = 0; s < 2; s++) {
        struct mlp_model *m = test_model(MLP_F64, 1, 0, NULL, 1, MLP_HEAD_IDENTITY_MSE, 1);
        if (!m) return;
        p.optim = MLP_OPT_GD;
        p.schedule = s ? MLP_SCHED_COSINE : MLP_SCHED_STEP;
        p.lr_min = 0.01;
        double *w = mlp_model_params(m);
        w[0] = 0, w[1] = 1; /* prediction = b = 1 at x = 1 */
        /* with weights (w, b) the gradient is (e, e), e = w + b; track it by hand */
        double ew = 0, eb = 1;
        for (uint32_t e = 1; e <= p.epochs; e++) {
            double lr = s ? 0.01 + (0.1 - 0.01) * 0.5 * (1 + cos(3.14159265358979323846 * (e - 1) / 10.0)) : 0.1 * pow(0.5, (e - 1) / 3);
            double err_ = ew + eb;
            ew -= lr * err_;
            eb -= lr * err_;
        }
        int calls = 0;
        p.on_epoch = lr_trace;
        p.user = &calls;
        CHECK_STATUS(mlp_model_train(m, &d, &p, NULL), MLP_OK);
        CHECK(calls == 10);
        CHECK_NEAR(w[0], ew, 1e-14);
        CHECK_NEAR(w[1], eb, 1e-14);
        mlp_model_free(m);
    }
    /* patience: a learning rate so large the evaluation loss gets worse;
     * training stops early and keeps the best epoch's weights */
    struct mlp_model *m = fresh(MLP_F64);
    struct mlp_train_params q = mlp_train_params_default();
    q.epochs = 40;
    q.patience = 2;
    q.lr = 0.05;
    struct mlp_trainer *t = NULL;
    q.eval = &valid;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &q, NULL), MLP_OK);
    if (!t) return;
    CHECK_STATUS(mlp_trainer_run(t, NULL), MLP_OK);
    uint32_t nh;
    const struct mlp_epoch_stats *h = mlp_trainer_history(t, &nh);
    CHECK(mlp_trainer_stopped_early(t) && nh < 40);
    double best = INFINITY, now;
    for (uint32_t i = 0; i < nh; i++) best = fmin(best, h[i].test_loss);
    CHECK_STATUS(mlp_model_evaluate(m, &valid, &now, NULL, NULL), MLP_OK);
    CHECK_MSG(now == best, "early stopping kept loss %.17g, the best was %.17g", now, best);
    CHECK(h[nh - 1].test_loss > best && h[nh - 2].test_loss > best);
    /* the model says which epoch it holds: the best one, two before the last */
    struct mlp_train_meta tm = mlp_model_train_meta(m);
    CHECK_MSG(tm.stop_reason == MLP_STOP_EARLY && tm.epochs == nh && tm.epoch_kept == nh - 2 &&
                  h[tm.epoch_kept - 1].test_loss == best,
              "early stop: %s, weights of epoch %u of %u", mlp_stop_reason_name((enum mlp_stop_reason)tm.stop_reason),
              tm.epoch_kept, tm.epochs);
    mlp_trainer_free(t);
    mlp_model_free(m);
    /* patience without an evaluation set is a usage error */
    m = fresh(MLP_F64);
    q.eval = NULL;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &q, NULL), MLP_ERR_ARG);
    mlp_model_free(m);
}

/* A checkpoint resumed with more epochs (or fewer, but no fewer than it has
 * begun) ends as an uninterrupted run of that many, for schedules that do
 * not depend on the count; the cosine schedule does, and is refused with
 * the reason.  A finished run's periodic checkpoint (the last epoch's)
 * extends too. */
static void extension(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/ext.ckpt", dir);
    for (int sched = 0; sched < 2; sched++) {
        struct mlp_train_params p = mlp_train_params_default();
        p.batch = 64;
        p.l2 = 0.01;
        p.schedule = sched ? MLP_SCHED_STEP : MLP_SCHED_CONSTANT;
        p.step_size = 2;
        p.gamma = 0.5;
        p.epochs = 7;
        struct mlp_model *a = fresh(MLP_F32), *b = fresh(MLP_F32), *c = fresh(MLP_F32);
        struct mlp_trainer *ta = NULL, *tb = NULL, *tc = NULL;
        struct mlp_error err = {0};
        if (!a || !b || !c) goto next;
        CHECK_STATUS(mlp_trainer_create(&ta, a, &train, &p, &err), MLP_OK); /* 7 epochs straight */
        CHECK_STATUS(mlp_trainer_run(ta, &err), MLP_OK);
        p.epochs = 4; /* a finished 4-epoch run, its checkpoint after epoch 4 */
        CHECK_STATUS(mlp_trainer_create(&tb, b, &train, &p, &err), MLP_OK);
        mlp_trainer_set_checkpoint(tb, path, 2);
        CHECK_STATUS(mlp_trainer_run(tb, &err), MLP_OK);
        p.epochs = 7; /* extended to 7 */
        CHECK_STATUS(mlp_trainer_create(&tc, c, &train, &p, &err), MLP_OK);
        CHECK_STATUS(mlp_trainer_resume(tc, path, &err), MLP_OK);
        CHECK_MSG(mlp_trainer_epochs_done(tc) == 4, "resumed at epoch %u", mlp_trainer_epochs_done(tc));
        CHECK_STATUS(mlp_trainer_run(tc, &err), MLP_OK);
        CHECK_MSG(memcmp(mlp_model_params(a), mlp_model_params(c), mlp_model_n_params(a) * 4) == 0,
                  "schedule %s: a 4-epoch run extended to 7 differs from 7 epochs straight", mlp_schedule_name(p.schedule));
        CHECK(mlp_model_train_meta(c).epochs == 7 && mlp_model_train_meta(c).epoch_kept == 7);
        uint32_t na, nc;
        const struct mlp_epoch_stats *ha = mlp_trainer_history(ta, &na), *hc = mlp_trainer_history(tc, &nc);
        CHECK(na == 7 && nc == 7);
        for (uint32_t i = 0; i < na && i < nc; i++)
            CHECK_MSG(ha[i].train_loss == hc[i].train_loss && ha[i].penalty == hc[i].penalty && ha[i].penalty > 0,
                      "epoch %u: loss %g penalty %g against %g %g", i + 1, hc[i].train_loss, hc[i].penalty,
                      ha[i].train_loss, ha[i].penalty);
        /* cut to fewer epochs than the checkpoint has run: refused as such */
        mlp_trainer_free(tc);
        p.epochs = 3;
        CHECK_STATUS(mlp_trainer_create(&tc, c, &train, &p, &err), MLP_OK);
        CHECK_STATUS(mlp_trainer_resume(tc, path, &err), MLP_ERR_ARG);
        CHECK_MSG(strstr(err.msg, "the checkpoint is past epoch 4, this run asks for 3 epochs in all") != NULL, "%s",
                  err.msg);
    next:
        mlp_trainer_free(ta);
        mlp_trainer_free(tb);
        mlp_trainer_free(tc);
        mlp_model_free(a);
        mlp_model_free(b);
        mlp_model_free(c);
    }
    /* cosine: the rates depend on the count */
    struct mlp_train_params p = mlp_train_params_default();
    p.batch = 64;
    p.schedule = MLP_SCHED_COSINE;
    p.epochs = 4;
    struct mlp_model *m = fresh(MLP_F32);
    struct mlp_trainer *t = NULL;
    struct mlp_error err = {0};
    if (!m) return;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &p, &err), MLP_OK);
    mlp_trainer_set_checkpoint(t, path, 2);
    CHECK_STATUS(mlp_trainer_run(t, &err), MLP_OK);
    mlp_trainer_free(t);
    p.epochs = 6;
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &p, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "made with epochs 4, this run asks for 6: the cosine schedule's learning rates depend on "
                              "the number of epochs") != NULL,
              "%s", err.msg);
    mlp_trainer_free(t);
    p.epochs = 4; /* the same count resumes (nothing left to run) */
    CHECK_STATUS(mlp_trainer_create(&t, m, &train, &p, &err), MLP_OK);
    CHECK_STATUS(mlp_trainer_resume(t, path, &err), MLP_OK);
    mlp_trainer_free(t);
    mlp_model_free(m);
    unlink(path);
}

/* A checkpoint as commit 6e050bb wrote it, before checkpoint.c read and
 * wrote a snapshot of the trainer instead of the trainer itself:
 * tests/golden/checkpoint_6e050bb.ckpt, made by `test_checkpoint
 * --write-old PATH` (old_trainer below, stopped at epoch 2, batch 1)
 * compiled against that commit's libfastmlp.a.  Adam with patience and an
 * evaluation set, so it holds every array a state section can.  It is a
 * version 1 file and still resumes; the resumed trainer saved at once
 * writes version 2, 16 bytes longer (the L2 sum of the epoch in progress
 * and its one history entry's penalty), which resumes and saves again to
 * the very same bytes (nothing read was lost); and runs resumed from
 * either go on to the same end. */
static struct mlp_trainer *old_trainer(struct mlp_model **m)
{
    struct mlp_layer_spec h[1] = {{4, MLP_ACT_TANH}};
    struct mlp_train_params p = mlp_train_params_default();
    p.epochs = 3;
    p.batch = 100;
    p.patience = 2;
    struct mlp_trainer *t = NULL;
    if (!(*m = test_model(MLP_F32, COLS, 1, h, K, MLP_HEAD_SOFTMAX_CE, 1))) return NULL;
    mlp_model_init(*m, MLP_INIT_XAVIER, 0, 0, 5);
    p.eval = &valid;
    CHECK_STATUS(mlp_trainer_create(&t, *m, &train, &p, NULL), MLP_OK);
    return t;
}

static int write_old(const char *path)
{
    struct mlp_model *m = NULL;
    struct mlp_trainer *t = old_trainer(&m);
    struct stopper at = {2, 1};
    struct mlp_error err = {0};
    if (t) {
        mlp_trainer_set_callbacks(t, NULL, stop_at, &at);
        mlp_trainer_set_checkpoint(t, path, 0);
        CHECK_STATUS(mlp_trainer_run(t, &err), MLP_ERR_STOPPED);
    }
    mlp_trainer_free(t);
    mlp_model_free(m);
    return check_report("checkpoint --write-old");
}

static void old_checkpoint(void)
{
    const char *old = FASTMLP_GOLDEN_DIR "/checkpoint_6e050bb.ckpt";
    char path[128];
    snprintf(path, sizeof path, "%s/resaved.ckpt", dir);
    struct mlp_model *m = NULL;
    struct mlp_trainer *t = old_trainer(&m);
    struct mlp_error err = {0};
    long n_old = 0, n_new = 0;
    unsigned char *b_old = read_whole(old, &n_old), *b_new = NULL;
    CHECK_MSG(b_old != NULL, "cannot read %s", old);
    if (!t || !b_old) goto out;
    CHECK_STATUS(mlp_trainer_resume(t, old, &err), MLP_OK);
    CHECK_MSG(mlp_trainer_epochs_done(t) == 1, "%u epochs done", mlp_trainer_epochs_done(t));
    CHECK_STATUS(mlp_trainer_save_checkpoint(t, path, &err), MLP_OK);
    b_new = read_whole(path, &n_new);
    /* 16 bytes more for the checkpoint's version 2, and its model section
     * in the model file's version 3 (the table's schema): 64 more with the
     * alignment */
    CHECK_MSG(b_new && n_new == n_old + 16 + 64 && b_new[8] == 2 && b_old[8] == 1,
              "6e050bb's version 1 checkpoint resaved: %ld bytes (its %ld + 80 expected)", n_new, n_old);
    /* the version 2 file resumed and saved again: the same bytes */
    struct mlp_model *m2 = NULL;
    struct mlp_trainer *t2 = old_trainer(&m2);
    char again[140];
    snprintf(again, sizeof again, "%s/again.ckpt", dir);
    long n_again = 0;
    unsigned char *b_again = NULL;
    if (t2) {
        CHECK_STATUS(mlp_trainer_resume(t2, path, &err), MLP_OK);
        CHECK_STATUS(mlp_trainer_save_checkpoint(t2, again, &err), MLP_OK);
        b_again = read_whole(again, &n_again);
        CHECK_MSG(b_new && b_again && n_again == n_new && memcmp(b_new, b_again, (size_t)n_new) == 0,
                  "a version 2 checkpoint resumed and saved again differs (%ld against %ld bytes)", n_again, n_new);
        CHECK_STATUS(mlp_trainer_run(t2, &err), MLP_OK);
    }
    CHECK_STATUS(mlp_trainer_run(t, &err), MLP_OK);
    uint32_t nh = 0;
    mlp_trainer_history(t, &nh);
    CHECK(nh == 3 && mlp_trainer_epochs_done(t) == 3);
    if (t2)
        CHECK_MSG(memcmp(mlp_model_params(m), mlp_model_params(m2), mlp_model_n_params(m) * 4) == 0,
                  "runs resumed from the version 1 file and its version 2 resave end differently");
    free(b_again);
    mlp_trainer_free(t2);
    mlp_model_free(m2);
    unlink(again);
out:
    free(b_old);
    free(b_new);
    mlp_trainer_free(t);
    mlp_model_free(m);
    unlink(path);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-old") == 0) {
        make_data();
        test_use(1, MLP_KERNELS_FAST); /* at 6e050bb, which made the pinned file: mlp_set_threads(1) */
        return write_old(argv[2]);
    }
    CHECK(mkdtemp(dir) != NULL);
    make_data();
    test_use(1, MLP_KERNELS_FAST);
    struct mlp_train_params p = mlp_train_params_default();
    p.epochs = 4;
    p.batch = 32;
    resume_case("adam_mid_epoch", MLP_F32, p, true, (struct stopper){2, 5});
    resume_case("adam_epoch_end", MLP_F32, p, false, (struct stopper){3, 0});
    p.optim = MLP_OPT_SGD;
    p.lr = 0.05;
    p.nesterov = 1;
    p.schedule = MLP_SCHED_STEP;
    p.step_size = 1;
    p.gamma = 0.7;
    p.weight_decay = 0.01;
    resume_case("sgd_nesterov_step_wd", MLP_F64, p, true, (struct stopper){1, 9});
    p = mlp_train_params_default();
    p.optim = MLP_OPT_GD;
    p.lr = 0.5;
    p.epochs = 12;
    p.schedule = MLP_SCHED_COSINE;
    p.lr_min = 0.05;
    p.patience = 3;
    resume_case("gd_cosine_patience", MLP_F64, p, true, (struct stopper){5, 0});
    p = mlp_train_params_default();
    p.epochs = 3;
    p.batch = 1000; /* one batch per epoch: stops at an epoch's end */
    p.l2 = 0.5;
    resume_case("adam_one_batch_l2", MLP_F32, p, false, (struct stopper){1, 0});
    refusals();
    every_byte_flipped();
    large_checkpoint();
#ifdef __linux__
    shrinking_checkpoint();
#endif
    network_refusals();
    schedules_and_patience();
    extension();
    old_checkpoint();
    rmdir(dir);
    return check_report("checkpoint");
}
