/* SPDX-License-Identifier: MIT */
/* Output files: how fastmlp writes every file it writes (the model and the
 * checkpoint here; predictions, reports and logs through the public API), so
 * that what is at the path decides how, and nothing that is not fastmlp's is
 * ever unlinked, replaced or left half-written. */
/* realpath, flock, CLOCK_BOOTTIME: beyond the POSIX.1-2008 base the build asks for. */
#define _DEFAULT_SOURCE
#include "internal.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * What is at the path decides:
 *   nothing, or a regular file: replaced atomically.  The content goes to
 *       PATH.tmp.fastmlp-XXXXXX beside the file (same directory, so the rename is
 *       atomic), locked with flock while it is written, flushed, fsynced, given
 *       the old file's permission bits and, where permitted, its owner and
 *       group (a new file gets what open(2) would give it under the umask),
 *       and renamed over PATH; then the directory is fsynced.  PATH holds the
 *       old file or the whole new one, never a part of either.  The rename
 *       gives PATH a new inode: other hard links to the old file keep the old
 *       content.
 *   a symbolic link: followed to its final target, which is replaced as
 *       above in the target's own directory (a dangling link: its target is
 *       created).  The link itself stays.
 *   a FIFO or character device: written in place as a stream where the
 *       caller accepts streams (MLP_OUTPUT_STREAM), else refused; never
 *       unlinked.  A socket (which cannot be opened) is refused.  Binary content (MLP_OUTPUT_BINARY) is refused on a terminal.
 *   "-", and paths that name one of the process's descriptors (/dev/stdout,
 *       /dev/fd/N, /proc/self/fd/N): written through that descriptor as it
 *       is (its offset, O_APPEND), as a stream (same rules).
 *   a directory or block device: refused.
 * MLP_OUTPUT_LIVE (a log): a regular file is truncated and written in place
 * instead, so that it can be followed while it grows; it keeps its inode.
 * Stale temporary files: a writer killed by SIGKILL leaves PATH.tmp.fastmlp-XXXXXX
 * behind; the next replacement of PATH removes those whose name matches that
 * pattern exactly, that no live writer holds locked, and that were last
 * modified before this process started.
 */

struct mlp_output {
    FILE *f;
    char *path;   /* as given: messages name it */
    char *target; /* a regular file: what the temporary file is renamed over */
    char *tmp;    /* a regular file: the temporary file; NULL for a stream */
    bool is_stdout;
    bool live;    /* a regular file written in place (MLP_OUTPUT_LIVE) */
};

/* OUT_FD: a path that names one of this process's open descriptors
 * (/dev/stdout, /dev/fd/N, /proc/self/fd/N): written through that
 * descriptor, as it is (its offset, O_APPEND), never reopened or replaced. */
enum out_kind { OUT_FILE, OUT_STREAM, OUT_FD };

/* The temporary file's name: fastmlp's own, so that the clean-up of stale
 * ones cannot take a user's "m.mlp.tmp.backup" for one; mkstemp fills the
 * six X with letters and digits. */
#define TMP_TAG ".tmp.fastmlp-"
#define TMP_SUFFIX TMP_TAG "XXXXXX"
#define MAX_LINKS 40

/* ---------------------------------------------------------- what is there */

static char *join_dir(const char *link, const char *rel)
{
    const char *slash = strrchr(link, '/');
    size_t dl = slash ? (size_t)(slash - link) + 1 : 0;
    char *s = malloc(dl + strlen(rel) + 1);
    if (s) {
        memcpy(s, link, dl);
        strcpy(s + dl, rel);
    }
    return s;
}

/* The descriptor a path names when it is one of this process's own
 * ("/dev/stdout", "/dev/fd/2", "/proc/self/fd/1"), else -1. */
static int fd_path(const char *p)
{
    if (strcmp(p, "/dev/stdout") == 0) return STDOUT_FILENO;
    if (strcmp(p, "/dev/stderr") == 0) return STDERR_FILENO;
    char own[64];
    snprintf(own, sizeof own, "/proc/%ld/fd/", (long)getpid());
    static const char *const dirs[] = {"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"};
    const char *num = NULL;
    for (int i = 0; i < 3 && !num; i++)
        if (strncmp(p, dirs[i], strlen(dirs[i])) == 0) num = p + strlen(dirs[i]);
    if (!num && strncmp(p, own, strlen(own)) == 0) num = p + strlen(own);
    if (!num || !*num || strlen(num) > 9) return -1;
    for (const char *c = num; *c; c++)
        if (*c < '0' || *c > '9') return -1;
    return atoi(num);
}

/* Follow `path`'s symbolic links by their text (at most MAX_LINKS) to a
 * descriptor path (*fd >= 0), or to the first name that is not a link
 * (returned, caller frees: for a dangling link, the file to create).  NULL
 * with errno set on failure. */
static char *follow(const char *path, int *fd)
{
    *fd = -1;
    char *cur = strdup(path);
    for (int hop = 0; cur && hop <= MAX_LINKS; hop++) {
        if ((*fd = fd_path(cur)) >= 0) return cur;
        struct stat sb;
        if (lstat(cur, &sb) != 0 || !S_ISLNK(sb.st_mode)) return cur;
        size_t cap = (size_t)sb.st_size + 1 > 256 ? (size_t)sb.st_size + 1 : 256;
        if (cap > PATH_MAX) cap = PATH_MAX;
        char *buf = malloc(cap);
        ssize_t n = buf ? readlink(cur, buf, cap - 1) : -1;
        if (n < 0) {
            int e = buf ? errno : ENOMEM;
            free(buf);
            free(cur);
            errno = e;
            return NULL;
        }
        buf[n] = 0;
        char *next = buf[0] == '/' ? strdup(buf) : join_dir(cur, buf);
        free(buf);
        free(cur);
        cur = next;
    }
    if (cur) {
        free(cur);
        errno = ELOOP;
    } else {
        errno = ENOMEM;
    }
    return NULL;
}

/* What writing a path would do.  OUT_FILE: target is the regular file to
 * replace or create (the caller frees it), old says whether it exists (its
 * stat in sb).  OUT_FD: fd is the descriptor.  OUT_STREAM: a FIFO or
 * character device (its stat in sb). */
struct where {
    enum out_kind kind;
    int fd;
    char *target;
    bool old;
    struct stat sb;
};

static enum mlp_status classify(const char *path, unsigned flags, struct where *w, struct mlp_error *err)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    if (!*path) return mlp__fail(err, MLP_ERR_ARG, "the output path is empty");
    char *end = strcmp(path, "-") == 0 ? NULL : follow(path, &w->fd);
    if (strcmp(path, "-") == 0) w->fd = STDOUT_FILENO;
    else if (!end)
        return mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot create: %s", strerror(errno));
    if (w->fd >= 0) {
        free(end);
        int fl = fcntl(w->fd, F_GETFL);
        if (!(flags & MLP_OUTPUT_STREAM))
            return mlp__fail_file(err, MLP_ERR_ARG, path,
                                  "names a descriptor (standard output or another): this output must be a file");
        if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
            return mlp__fail_file(err, MLP_ERR_OPEN, path, "descriptor %d is not open for writing", w->fd);
        if ((flags & MLP_OUTPUT_BINARY) && isatty(w->fd))
            return mlp__fail_file(err, MLP_ERR_ARG, path,
                                  "is a terminal and this output is binary: redirect it or name a file");
        w->kind = OUT_FD;
        return MLP_OK;
    }
    if (stat(end, &w->sb) != 0) {
        if (errno != ENOENT) {
            enum mlp_status st = mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot create: %s", strerror(errno));
            free(end);
            return st;
        }
        w->target = end; /* nothing there (a dangling link's target): created */
        w->kind = OUT_FILE;
        return MLP_OK;
    }
    if (S_ISREG(w->sb.st_mode)) {
        w->target = realpath(end, NULL);
        free(end);
        if (!w->target) return mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot create: %s", strerror(errno));
        w->old = true;
        w->kind = OUT_FILE;
        return MLP_OK;
    }
    free(end);
    if (S_ISDIR(w->sb.st_mode)) return mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot create: is a directory");
    const char *what = S_ISFIFO(w->sb.st_mode) ? "a FIFO"
                       : S_ISSOCK(w->sb.st_mode) ? "a socket"
                       : S_ISCHR(w->sb.st_mode)  ? "a character device"
                                               : "a block device";
    /* A socket cannot be opened; a block device holds a file system. */
    if (S_ISSOCK(w->sb.st_mode) || S_ISBLK(w->sb.st_mode) || !(flags & MLP_OUTPUT_STREAM))
        return mlp__fail_file(err, MLP_ERR_OPEN, path,
                              "is %s, not a regular file: this output is written only to %s (left untouched)", what,
                              S_ISSOCK(w->sb.st_mode) || S_ISBLK(w->sb.st_mode) ? "a file, a pipe or a character device"
                                                                            : "a file");
    w->kind = OUT_STREAM;
    return MLP_OK;
}

char *mlp_output_target(const char *path)
{
    MLP_ASSERT(path);
    struct where w;
    return classify(path, MLP_OUTPUT_STREAM, &w, NULL) == MLP_OK ? w.target : NULL;
}

/* The directory part of a path ("." for none); caller frees. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Can a file be created in the directory of `target` (and renamed over
 * `old`, its stat, when one exists)? */
static enum mlp_status check_dir(const char *path, const char *target, const struct stat *old, struct mlp_error *err)
{
    char *dir = dir_of(target);
    if (!dir) return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    struct stat sb;
    enum mlp_status st = MLP_OK;
    if (stat(dir, &sb) != 0)
        st = mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot create: %s", strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        st = mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot create: %s is not a directory", dir);
    else if (access(dir, W_OK | X_OK) != 0)
        st = mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot create: %s", strerror(errno));
    else if (old && (sb.st_mode & S_ISVTX) && geteuid() != 0 && geteuid() != sb.st_uid && geteuid() != old->st_uid)
        /* /tmp-like: only a file's owner may rename over it there. */
        st = mlp__fail_file(err, MLP_ERR_OPEN, path,
                            "cannot replace: %s is a sticky directory and the file belongs to another user", dir);
    free(dir);
    return st;
}

enum mlp_status mlp_output_check(const char *path, unsigned flags, struct mlp_error *err)
{
    MLP_ASSERT(path);
    struct where w;
    enum mlp_status st = classify(path, flags, &w, err);
    if (st == MLP_OK && w.kind == OUT_FILE) st = check_dir(path, w.target, w.old ? &w.sb : NULL, err);
    if (st == MLP_OK && w.kind == OUT_STREAM && (flags & MLP_OUTPUT_BINARY) && S_ISCHR(w.sb.st_mode)) {
        /* A terminal is a character device; /dev/null is one too.  Opening a
         * character device has no effect (a FIFO, which would block until a
         * reader comes, is not opened here). */
        int dfd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (dfd >= 0 && isatty(dfd))
            st = mlp__fail_file(err, MLP_ERR_ARG, path, "is a terminal and this output is binary: name a file");
        if (dfd >= 0) close(dfd);
    }
    free(w.target);
    return st;
}

/* -------------------------------------------- stale temporary files */

/* When this process started, from /proc (false where there is none). */
static bool process_start(struct timespec *out)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return false;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* Field 22, starttime in clock ticks since boot, counted after the
     * command name, which is in parentheses and may hold spaces. */
    char *p = strrchr(buf, ')');
    if (!p) return false;
    unsigned long long ticks = 0;
    int field = 2;
    for (p++; *p && field < 22; p++)
        if (*p == ' ') field++;
    if (field != 22 || sscanf(p, "%llu", &ticks) != 1) return false;
    long hz = sysconf(_SC_CLK_TCK);
    struct timespec boot, now;
    if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0) return false;
    double age = ((double)boot.tv_sec + 1e-9 * (double)boot.tv_nsec) - (double)ticks / (double)hz;
    double start = (double)now.tv_sec + 1e-9 * (double)now.tv_nsec - age;
    out->tv_sec = (time_t)start;
    out->tv_nsec = (long)((start - (double)out->tv_sec) * 1e9);
    return true;
}

static bool is_stale_name(const char *name, const char *base, size_t blen)
{
    const size_t tlen = sizeof TMP_TAG - 1;
    if (strncmp(name, base, blen) != 0 || strncmp(name + blen, TMP_TAG, tlen) != 0) return false;
    const char *s = name + blen + tlen;
    for (int i = 0; i < 6; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return s[6] == 0;
}

/* Remove TARGET.tmp.fastmlp-XXXXXX files left by killed writers (see the top). */
static void remove_stale(const char *target)
{
    struct timespec start;
    if (!process_start(&start)) return;
    char *dir = dir_of(target);
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    size_t blen = strlen(base);
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        free(dir);
        return;
    }
    int dfd = dirfd(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_stale_name(e->d_name, base, blen)) continue;
        int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat sb;
        bool stale = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
                     (sb.st_mtim.tv_sec < start.tv_sec ||
                      (sb.st_mtim.tv_sec == start.tv_sec && sb.st_mtim.tv_nsec < start.tv_nsec));
        if (stale) unlinkat(dfd, e->d_name, 0);
        close(fd);
    }
    closedir(d);
    free(dir);
}

/* ------------------------------------------------------------- writing */

static void output_free(struct mlp_output *o)
{
    free(o->path);
    free(o->target);
    free(o->tmp);
    free(o);
}

enum mlp_status mlp_output_open(struct mlp_output **out, const char *path, unsigned flags, struct mlp_error *err)
{
    MLP_ASSERT(out && path);
    *out = NULL;
    struct where w;
    enum mlp_status st = classify(path, flags, &w, err);
    if (st != MLP_OK) return st;
    const enum out_kind kind = w.kind;
    int fd = w.fd;
    struct mlp_output *o = calloc(1, sizeof *o);
    if (!o || !(o->path = strdup(path))) {
        free(o);
        free(w.target);
        return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    }
    o->target = w.target; /* the output owns it from here */
    o->live = kind == OUT_FILE && (flags & MLP_OUTPUT_LIVE);
    if (kind == OUT_FD && fd == STDOUT_FILENO) {
        /* The process's own stream: what it printed before stays in order. */
        o->f = stdout;
        o->is_stdout = true;
        *out = o;
        return MLP_OK;
    }
    if (kind == OUT_FD) {
        if ((fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
            st = mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot open for writing: %s", strerror(errno));
    } else if (kind == OUT_FILE && (flags & MLP_OUTPUT_LIVE)) {
        /* In place, so that it can be followed while it grows: the file
         * keeps its inode, owner and mode; only its content is replaced. */
        fd = open(o->target, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, 0666);
        if (fd < 0) st = mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot create: %s", strerror(errno));
    } else if (kind == OUT_STREAM) {
        /* A FIFO blocks here until a reader opens it, as `cat > fifo` would. */
        fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        struct stat now;
        if (fd < 0) st = mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot open for writing: %s", strerror(errno));
        else if (fstat(fd, &now) != 0 || S_ISREG(now.st_mode))
            /* Replaced by a regular file since: not written over in place. */
            st = mlp__fail_file(err, MLP_ERR_OPEN, path, "changed into a regular file while being opened");
        else if ((flags & MLP_OUTPUT_BINARY) && isatty(fd))
            st = mlp__fail_file(err, MLP_ERR_ARG, path, "is a terminal and this output is binary: name a file");
    } else {
        remove_stale(o->target);
        size_t n = strlen(o->target) + sizeof TMP_SUFFIX;
        if (!(o->tmp = malloc(n))) {
            output_free(o);
            return mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
        }
        snprintf(o->tmp, n, "%s" TMP_SUFFIX, o->target);
        fd = mkstemp(o->tmp);
        if (fd < 0) {
            st = mlp__fail_file(err, MLP_ERR_OPEN, path, "cannot create: %s", strerror(errno));
            free(o->tmp);
            o->tmp = NULL;
        } else {
            /* Held until the rename: a second fastmlp cleaning stale
             * temporary files skips this one. */
            flock(fd, LOCK_EX | LOCK_NB);
            if (w.old) {
                /* Owner first: chown may clear permission bits.  Without the
                 * right to give the file away (not root), the group alone may
                 * still be kept; else the new file is the writer's. */
                if (fchown(fd, w.sb.st_uid, w.sb.st_gid) != 0 && fchown(fd, (uid_t)-1, w.sb.st_gid) != 0) {
                    /* kept as the writer's */
                }
                fchmod(fd, w.sb.st_mode & 0777);
            } else {
                fchmod(fd, (mode_t)mlp__new_file_mode());
            }
        }
    }
    if (st == MLP_OK && !(o->f = fdopen(fd, "wb"))) st = mlp__fail(err, MLP_ERR_NOMEM, "out of memory");
    if (st != MLP_OK) {
        if (fd >= 0) close(fd);
        if (o->tmp) unlink(o->tmp);
        output_free(o);
        return st;
    }
    *out = o;
    return MLP_OK;
}

FILE *mlp_output_file(const struct mlp_output *o)
{
    MLP_ASSERT(o);
    return o->f;
}

enum mlp_status mlp_output_commit(struct mlp_output *o, struct mlp_error *err)
{
    MLP_ASSERT(o);
    const char *where = o->is_stdout ? "standard output" : o->path;
    int e = 0;
    bool ok = true;
    if (fflush(o->f) != 0 || ferror(o->f)) {
        ok = false;
        e = errno;
    }
    if ((o->tmp || o->live) && ok && fsync(fileno(o->f)) != 0) {
        ok = false;
        e = errno;
    }
    if (!o->is_stdout) {
        if (fclose(o->f) != 0 && ok) {
            ok = false;
            e = errno;
        }
        o->f = NULL;
    }
    if (ok && o->tmp) {
        /* Something other than a regular file put at the path since the
         * open is not replaced either. */
        struct stat sb;
        if (lstat(o->target, &sb) == 0 && !S_ISREG(sb.st_mode)) {
            ok = false;
            e = EEXIST;
        } else if (rename(o->tmp, o->target) != 0) {
            ok = false;
            e = errno;
        }
    }
    enum mlp_status st = MLP_OK;
    if (!ok) {
        if (o->tmp) unlink(o->tmp);
        st = e == EEXIST ? mlp__fail_file(err, MLP_ERR_OPEN, where, "cannot write: replaced by something other than a "
                                                                    "regular file while it was being written")
                         : mlp__fail_file(err, MLP_ERR_IO, where, "cannot write: %s",
                                          e ? strerror(e) : "write error");
    } else if (o->tmp) {
        /* Make the rename itself durable. */
        char *dir = dir_of(o->target);
        int dfd = dir ? open(dir, O_RDONLY | O_CLOEXEC) : -1;
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    output_free(o);
    return st;
}

void mlp_output_abort(struct mlp_output *o)
{
    if (!o) return;
    if (o->f && !o->is_stdout) fclose(o->f);
    if (o->is_stdout) fflush(stdout);
    if (o->tmp) unlink(o->tmp);
    output_free(o);
}

/* The library's own files: the whole content from one callback. */
enum mlp_status mlp__atomic_write(const char *path, const char *what, unsigned flags, mlp_write_fn write,
                                  const void *ctx, struct mlp_error *err)
{
    struct mlp_output *o;
    enum mlp_status st = mlp_output_open(&o, path, flags, err);
    if (st != MLP_OK) return st;
    errno = 0;
    if (!write(mlp_output_file(o), ctx)) {
        int e = errno;
        mlp_output_abort(o);
        return mlp__fail_file(err, MLP_ERR_IO, path, "cannot write %s: %s", what, e ? strerror(e) : "write error");
    }
    return mlp_output_commit(o, err);
}
