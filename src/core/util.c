/* SPDX-License-Identifier: MIT */
/* Status names, error filling, aligned allocation, the log hook, the RNG and
 * the clock: the small pieces every other file leans on. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#include "internal.h"

#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *mlp_status_str(enum mlp_status s)
{
    switch (s) {
    case MLP_OK: return "ok";
    case MLP_ERR_ARG: return "invalid argument";
    case MLP_ERR_NOMEM: return "out of memory";
    case MLP_ERR_IO: return "I/O error";
    case MLP_ERR_OPEN: return "cannot open file";
    case MLP_ERR_FORMAT: return "format error";
    case MLP_ERR_SHAPE: return "shape mismatch";
    case MLP_ERR_RANGE: return "value out of range";
    case MLP_ERR_DIVERGED: return "training diverged";
    case MLP_ERR_UNSUPPORTED: return "unsupported";
    case MLP_ERR_STOPPED: return "stopped";
    }
    return "unknown status";
}

_Noreturn void mlp__assert_fail(const char *expr, const char *file, int line)
{
    /* The one place the library writes to stderr: a broken caller contract,
     * after which continuing would corrupt memory. */
    fprintf(stderr, "fastmlp: %s:%d: assertion failed: %s\n", file, line, expr);
    abort();
}

enum mlp_status mlp__fail(struct mlp_error *err, enum mlp_status s,
                          const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = s;
    }
    return s;
}

const char *mlp__short_path(const char *path, const char **ellipsis)
{
    size_t n = strlen(path);
    *ellipsis = n > 200 ? "..." : "";
    return n > 200 ? path + n - 200 : path;
}

enum mlp_status mlp__vfail_file(struct mlp_error *err, enum mlp_status s, const char *path, const char *fmt,
                                va_list ap)
{
    if (!err) return s;
    const char *ell;
    const char *name = mlp__short_path(path, &ell);
    char what[440];
    vsnprintf(what, sizeof what, fmt, ap);
    return mlp__fail(err, s, "%s%s: %s", ell, name, what);
}

enum mlp_status mlp__fail_file(struct mlp_error *err, enum mlp_status s, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum mlp_status r = mlp__vfail_file(err, s, path, fmt, ap);
    va_end(ap);
    return r;
}

enum mlp_status mlp__fail_count(struct mlp_error *err, const char *x_path, uint64_t nx, const char *x_noun,
                                const char *y_path, uint64_t ny)
{
    const char *ex, *ey;
    const char *sx = mlp__short_path(x_path, &ex), *sy = mlp__short_path(y_path, &ey);
    return mlp__fail(err, MLP_ERR_SHAPE, "count mismatch: %s%s has %llu %s but %s%s has %llu labels", ex, sx,
                     (unsigned long long)nx, x_noun, ey, sy, (unsigned long long)ny);
}

enum mlp_status mlp__file_changed(int fd, const char *path, const struct stat *at_open, struct mlp_error *err)
{
    struct stat now;
    if (fstat(fd, &now) != 0) return MLP_OK; /* nothing to compare: the caller's own error stands */
    if (now.st_size != at_open->st_size)
        return mlp__fail_file(err, MLP_ERR_IO, path, "file changed while reading (%" PRIu64 " bytes at open, %" PRIu64
                              " now)",
                              (uint64_t)at_open->st_size, (uint64_t)now.st_size);
    if (now.st_mtim.tv_sec != at_open->st_mtim.tv_sec || now.st_mtim.tv_nsec != at_open->st_mtim.tv_nsec)
        return mlp__fail_file(err, MLP_ERR_IO, path,
                              "file changed while reading (%" PRIu64 " bytes at open and now, but modified since)",
                              (uint64_t)now.st_size);
    return MLP_OK;
}

uint64_t mlp__mem_bound(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return UINT64_MAX;
    return (uint64_t)pages > UINT64_MAX / (uint64_t)page ? UINT64_MAX : (uint64_t)pages * (uint64_t)page;
}

enum mlp_status mlp__fail_width(struct mlp_error *err, const char *path, uint64_t have, uint32_t want,
                                const char *note)
{
    const char *ell;
    const char *name = mlp__short_path(path, &ell);
    return mlp__fail(err, MLP_ERR_SHAPE, "%s%s has %" PRIu64 " columns%s, the model expects %" PRIu32 " inputs", ell,
                     name, have, note, want);
}

void *mlp__amalloc(size_t bytes)
{
    void *p = NULL;
    size_t n = (bytes + 63) & ~(size_t)63;
    if (bytes == 0) n = 64;
    if (n < bytes) return NULL; /* overflow of the rounding */
    if (posix_memalign(&p, 64, n) != 0) return NULL;
    return p;
}

void *mlp__acalloc(size_t bytes)
{
    void *p = mlp__amalloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void mlp__afree(void *p) { free(p); }

void *mlp__big_alloc(size_t bytes, bool zeroed, bool *mapped)
{
    *mapped = false;
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
    if (bytes >= MLP_BIG_MIN) {
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: no harm where refused */
            *mapped = true;
            return p;
        }
    }
#endif
    return zeroed ? mlp__acalloc(bytes) : mlp__amalloc(bytes);
}

void mlp__big_free(void *p, size_t bytes, bool mapped)
{
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
    if (mapped) {
        munmap(p, bytes);
        return;
    }
#endif
    (void)bytes;
    (void)mapped;
    mlp__afree(p);
}

unsigned mlp__new_file_mode(void)
{
    unsigned mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[128];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &mask) == 1) break;
        fclose(f);
    }
    return 0666u & ~mask;
}

static mlp_log_fn g_log_fn;
static void *g_log_user;

void mlp_set_log(mlp_log_fn fn, void *user)
{
    g_log_fn = fn;
    g_log_user = user;
}

void mlp__log(enum mlp_log_level level, const char *fmt, ...)
{
    if (!g_log_fn) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_log_fn((int)level, buf, g_log_user);
}

/* ------------------------------------------------------------------ RNG */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void mlp__rng_seed(struct mlp_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mlp__rng_next(struct mlp_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mlp__rng_uniform(struct mlp_rng *r)
{
    return (double)(mlp__rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t mlp__rng_below(struct mlp_rng *r, uint64_t n)
{
    MLP_ASSERT(n > 0);
    /* Rejection sampling: no modulo bias. */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = mlp__rng_next(r);
    while (x >= lim);
    return x % n;
}

/* ---------------------------------------------------------------- clock */

double mlp__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The public faces of the clock and the generator (fastmlp.h). */
double mlp_now(void) { return mlp__now(); }
void mlp_rng_seed(struct mlp_rng *r, uint64_t seed) { mlp__rng_seed(r, seed); }
uint64_t mlp_rng_next(struct mlp_rng *r) { return mlp__rng_next(r); }
double mlp_rng_uniform(struct mlp_rng *r) { return mlp__rng_uniform(r); }
uint64_t mlp_rng_below(struct mlp_rng *r, uint64_t n) { return mlp__rng_below(r, n); }

const char *mlp_version(void) { return MLP_VERSION_STRING; }
