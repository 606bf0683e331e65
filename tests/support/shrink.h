/* SPDX-License-Identifier: MIT */
/* For the loader tests (after check.h): truncate a file from a second thread
 * the moment someone opens it or first reads it (inotify, Linux only), so
 * that a loader sees it shrink after its fstat.  The moment is not
 * deterministic (the loader runs on meanwhile), so the tests that use it
 * accept a complete load of the old file or MLP_ERR_IO "file changed while
 * reading", over several attempts, and never anything else. */
#ifndef FASTMLP_TESTS_SHRINK_H
#define FASTMLP_TESTS_SHRINK_H

#ifdef __linux__
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/types.h>
#include <unistd.h>

struct shrinker {
    pthread_t tid;
    int ifd;
    const char *path;
    off_t len;  /* truncate to this */
    int fired;  /* 1: truncated after the event; 0: no event within 10 s */
};

static void *shrinker_run(void *arg)
{
    struct shrinker *s = arg;
    struct pollfd pfd = {s->ifd, POLLIN, 0};
    if (poll(&pfd, 1, 10000) == 1) {
        s->fired = truncate(s->path, s->len) == 0;
    }
    return NULL;
}

/* Watch `path` for `event` (IN_OPEN or IN_ACCESS) and truncate it to len
 * bytes when it comes.  Returns 0 when the watcher runs. */
static inline int shrinker_start(struct shrinker *s, const char *path, off_t len, uint32_t event)
{
    s->path = path;
    s->len = len;
    s->fired = 0;
    s->ifd = inotify_init1(IN_CLOEXEC);
    if (s->ifd < 0) return -1;
    if (inotify_add_watch(s->ifd, path, event) < 0 || pthread_create(&s->tid, NULL, shrinker_run, s) != 0) {
        close(s->ifd);
        return -1;
    }
    return 0;
}

static inline void shrinker_join(struct shrinker *s)
{
    pthread_join(s->tid, NULL);
    close(s->ifd);
}
#endif

#endif
