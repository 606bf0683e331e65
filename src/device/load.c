/* SPDX-License-Identifier: MIT */
/* Finding a device backend's plugin and its table (device.h), for
 * mlp_context_create.  The plugin is looked for beside the code that holds
 * this function (the shared library, or a program linked with the static
 * one), then in ../lib and ../lib64 from there (an installed program in
 * bin/), then by its bare name (the loader's search path).  It is loaded
 * once per process and never unloaded: a table, like the kernel tables,
 * is process-wide and read-only.  Linux and glibc only (dladdr). */
#define _GNU_SOURCE
#include "device/load.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define PLUGIN "libfastmlp_cuda.so"

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct mlp_dev_ops *cuda_ops;
static char cuda_path[PATH_MAX];
static char cuda_why[MLP_DEV_MSG]; /* why the last try failed */

/* Where this code lies: the directory of the object holding it. */
static int self_dir(char *dir, size_t cap)
{
    Dl_info info;
    if (!dladdr((void *)&self_dir, &info) || !info.dli_fname) return -1;
    const char *slash = strrchr(info.dli_fname, '/');
    if (!slash) return -1;
    size_t n = (size_t)(slash - info.dli_fname);
    if (n + 1 > cap) return -1;
    memcpy(dir, info.dli_fname, n);
    dir[n] = '\0';
    return 0;
}

static const struct mlp_dev_ops *try_path(const char *path, char *why, size_t cap)
{
    /* never unloaded (RTLD_NODELETE): the CUDA runtime, linked into the
     * plugin statically, runs exit handlers that must find it there */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, cap, "%s", e ? e : path);
        return NULL;
    }
    mlp_dev_ops_fn get;
    void *sym = dlsym(h, MLP_DEV_CUDA_SYMBOL);
    memcpy(&get, &sym, sizeof get); /* object to function pointer: POSIX allows it */
    const struct mlp_dev_ops *ops = sym ? get() : NULL;
    if (!ops || ops->abi != MLP_DEV_ABI) {
        snprintf(why, cap, "%s: %s", path,
                 !sym ? "no " MLP_DEV_CUDA_SYMBOL " in it" : "built for another version of the library (ABI differs)");
        dlclose(h); /* NODELETE: it stays mapped, its handle is dropped */
        return NULL;
    }
    return ops; /* h stays open for the process's life */
}

const struct mlp_dev_ops *mlp__dev_load_cuda(const char **path, struct mlp_error *err)
{
    pthread_mutex_lock(&load_lock);
    if (!cuda_ops) {
        char dir[PATH_MAX], cand[PATH_MAX];
        const char *const rel[] = {"", "/../lib", "/../lib64"};
        char first[MLP_DEV_MSG] = "";
        int have_dir = self_dir(dir, sizeof dir) == 0;
        for (size_t i = 0; have_dir && !cuda_ops && i < sizeof rel / sizeof rel[0]; i++) {
            if (snprintf(cand, sizeof cand, "%s%s/" PLUGIN, dir, rel[i]) >= (int)sizeof cand) continue;
            char why[MLP_DEV_MSG];
            cuda_ops = try_path(cand, why, sizeof why);
            if (cuda_ops) snprintf(cuda_path, sizeof cuda_path, "%s", cand);
            /* the first place's reason, unless the file is not there at all */
            else if (!first[0] && !strstr(why, "No such file")) snprintf(first, sizeof first, "%s", why);
        }
        if (!cuda_ops) {
            char why[MLP_DEV_MSG];
            cuda_ops = try_path(PLUGIN, why, sizeof why);
            if (cuda_ops) snprintf(cuda_path, sizeof cuda_path, PLUGIN);
            else snprintf(cuda_why, sizeof cuda_why, "%s", first[0] ? first : why);
        }
    }
    const struct mlp_dev_ops *ops = cuda_ops;
    if (!ops)
        mlp__fail(err, MLP_ERR_UNSUPPORTED,
                  "the CUDA backend cannot be loaded (%s); it is built where CMake finds the CUDA toolkit "
                  "(-DFASTMLP_CUDA=ON)",
                  cuda_why);
    else if (path)
        *path = cuda_path;
    pthread_mutex_unlock(&load_lock);
    return ops;
}
