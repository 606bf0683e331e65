/* SPDX-License-Identifier: MIT */
/* The files a command reads and writes, checked before any work starts (no
 * output names an input or another output; every output can be created),
 * and the command line's signal policy: SIGXFSZ ignored, SIGINT/SIGTERM
 * ending the command with one line and 130 without leaving a temporary
 * file behind. */
/* realpath: beyond the POSIX.1-2008 base the build asks for. */
#define _DEFAULT_SOURCE
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------ same-file checks */

/* What a path names, for comparing: the device and inode of what exists
 * (character devices aside: /dev/null or a terminal takes any number of
 * writers), and the canonical path, also for what is still to be created. */
struct ident {
    bool is_dash, have_ino;
    dev_t dev;
    ino_t ino;
    char *canon;
};

/* The canonical path of what `path` names: realpath of what exists, else
 * (an output still to be created, through a dangling link too) the
 * canonical directory of the file that would be created and its name. */
static char *canonical(const char *path)
{
    char *r = realpath(path, NULL);
    if (r) return r;
    char *target = mlp_output_target(path);
    const char *t = target ? target : path;
    const char *slash = strrchr(t, '/');
    char *dir = slash ? strndup(t, slash == t ? 1 : (size_t)(slash - t)) : strdup(".");
    char *rdir = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    const char *base = slash ? slash + 1 : t;
    char *s = rdir ? malloc(strlen(rdir) + strlen(base) + 2) : NULL;
    if (s) sprintf(s, "%s/%s", rdir, base);
    free(rdir);
    free(target);
    return s;
}

static void identify(const char *path, struct ident *id)
{
    memset(id, 0, sizeof *id);
    struct stat sb;
    if (strcmp(path, "-") == 0) {
        id->is_dash = true;
        if (fstat(STDOUT_FILENO, &sb) == 0 && !S_ISCHR(sb.st_mode)) {
            id->have_ino = true;
            id->dev = sb.st_dev;
            id->ino = sb.st_ino;
        }
        return;
    }
    if (stat(path, &sb) == 0) {
        if (S_ISCHR(sb.st_mode)) return;
        id->have_ino = true;
        id->dev = sb.st_dev;
        id->ino = sb.st_ino;
    }
    id->canon = canonical(path);
}

static bool same(const struct ident *a, const struct ident *b)
{
    if (a->is_dash && b->is_dash) return true;
    if (a->have_ino && b->have_ino) return a->dev == b->dev && a->ino == b->ino;
    return a->canon && b->canon && strcmp(a->canon, b->canon) == 0;
}

int cli_check_files(const char *cmd, const struct cli_file *files, int n, bool *stdout_used)
{
    /* every file, however many (a sweep lists three per run) */
    struct ident *id = calloc(n > 0 ? (size_t)n : 1, sizeof *id);
    if (!id) return cli_fail(cmd, MLP_ERR_NOMEM, "out of memory");
    int rc = EXIT_OK;
    if (stdout_used) *stdout_used = false;
    struct ident out1;
    identify("-", &out1);
    for (int i = 0; i < n; i++) {
        if (files[i].path) identify(files[i].path, &id[i]);
        if (files[i].path && files[i].out && stdout_used && same(&id[i], &out1)) *stdout_used = true;
    }
    /* Every pair with at least one output, in the order the flags were listed. */
    for (int i = 0; i < n && rc == EXIT_OK; i++) {
        for (int j = 0; j < i && rc == EXIT_OK; j++) {
            const struct cli_file *a = &files[j], *b = &files[i];
            if (!a->path || !b->path || (!a->out && !b->out) || !same(&id[i], &id[j])) continue;
            if ((a->may_be && strcmp(a->may_be, b->flag) == 0) || (b->may_be && strcmp(b->may_be, a->flag) == 0))
                continue;
            const struct cli_file *o = b->out ? b : a, *other = o == b ? a : b;
            rc = cli_usage_error(cmd, "%s '%s' and %s '%s' are the same file: %s", o->flag, o->path, other->flag,
                                 other->path,
                                 other->out ? "one output would overwrite the other"
                                            : "writing the output would destroy the input");
        }
    }
    for (int i = 0; i < n; i++) free(id[i].canon);
    free(id);
    free(out1.canon);
    if (rc != EXIT_OK) return rc;
    /* Every output can be written: a missing directory or a path that is a
     * directory is found now, not after an hour of training. */
    for (int i = 0; i < n; i++) {
        if (!files[i].path || !files[i].out) continue;
        struct mlp_error err = {0};
        enum mlp_status st = mlp_output_check(files[i].path, files[i].out & ~CLI_OUT, &err);
        if (st != MLP_OK) {
            char msg[sizeof err.msg + 96];
            snprintf(msg, sizeof msg, "%s (%s, %s)", err.msg, files[i].what ? files[i].what : "output", files[i].flag);
            return cli_output_fail(cmd, st, msg);
        }
    }
    return EXIT_OK;
}

enum mlp_status cli_output_commit(struct mlp_output *o, struct mlp_error *err)
{
    if (cli_interrupted()) {
        mlp_output_abort(o);
        snprintf(err->msg, sizeof err->msg, "interrupted by %s: the output was not written", cli_signal_name());
        return err->status = MLP_ERR_STOPPED;
    }
    enum mlp_status st = mlp_output_commit(o, err);
    if (st == MLP_OK && cli_interrupted()) {
        /* It came during the commit itself: the output is whole. */
        snprintf(err->msg, sizeof err->msg, "interrupted by %s (the output was written completely)", cli_signal_name());
        return err->status = MLP_ERR_STOPPED;
    }
    return st;
}

/* ------------------------------------------------------ process, signals */

enum { SIG_INT, SIG_TERM, SIG_HUP, N_SIG };
static const int g_signo[N_SIG] = {SIGINT, SIGTERM, SIGHUP};
static const char *const g_signame[N_SIG] = {"SIGINT", "SIGTERM", "SIGHUP"};
static char g_msg[N_SIG][96];
static size_t g_msg_len[N_SIG];
static volatile sig_atomic_t g_defer, g_signal;
static struct mlp_trainer *volatile g_trainer;

static int sig_index(int sig) { return sig == SIGINT ? SIG_INT : sig == SIGTERM ? SIG_TERM : SIG_HUP; }

/* Immediate (or a second signal while deferred: the user insists): no
 * temporary file of fastmlp's exists, or one is left for the next save to
 * remove; end now (write and _exit are async-signal-safe).  Deferred: note
 * it and ask the trainer to stop at its next batch boundary; the command
 * ends at its next safe point. */
static void on_signal(int sig)
{
    if (!g_defer || g_signal) {
        int k = sig_index(sig);
        ssize_t w = write(STDERR_FILENO, g_msg[k], g_msg_len[k]);
        (void)w;
        _exit(EXIT_INTERRUPTED);
    }
    g_signal = sig;
    if (g_trainer) mlp_trainer_request_stop(g_trainer);
}

void cli_process_init(const char *cmd)
{
    /* Descriptors 0-2 closed by the caller (`>&-`) would be taken by the
     * first files opened, and a log would receive the progress lines. */
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd) break;
    /* A write beyond RLIMIT_FSIZE fails with EFBIG, and one to a closed pipe
     * with EPIPE: reported (74) like a full disk, not a silent death. */
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    for (int k = 0; k < N_SIG; k++) {
        snprintf(g_msg[k], sizeof g_msg[k], "fastmlp %.40s: interrupted by %s\n", cmd, g_signame[k]);
        g_msg_len[k] = strlen(g_msg[k]);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* a write to a pipe is not cut short by EINTR */
    for (int k = 0; k < N_SIG; k++) sigaction(g_signo[k], &sa, NULL);
}

void cli_signals_defer(struct mlp_trainer *t)
{
    g_trainer = t;
    g_defer = 1;
    /* a signal recorded before t existed (between a sweep's runs) stops t too */
    if (t && g_signal) mlp_trainer_request_stop(t);
}

void cli_signals_for_output(const char *path)
{
    /* A stream has no temporary file, and opening a FIFO waits for its
     * reader: a signal must be able to end that wait. */
    char *target = mlp_output_target(path);
    g_trainer = NULL;
    g_defer = target != NULL;
    free(target);
}

int cli_interrupted(void) { return g_signal; }

const char *cli_signal_name(void) { return g_signal ? g_signame[sig_index(g_signal)] : "a signal"; }
