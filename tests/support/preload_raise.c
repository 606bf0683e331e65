/* SPDX-License-Identifier: MIT */
/* Test shim, preloaded into the CLI (LD_PRELOAD) by test_outputs.sh: raises
 * a signal from inside fsync, i.e. exactly while an output is being
 * committed, so that "a signal during a save" is a deterministic test
 * instead of a race.  FASTMLP_TEST_RAISE=INT or TERM picks the signal,
 * raised at the process's first fsync only (a second signal would end the
 * command at once, by design).  Test code only: the
 * library and the CLI read no such variable. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int fsync(int fd);

int fsync(int fd)
{
    static int (*real)(int);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "fsync");
    static int done;
    const char *s = getenv("FASTMLP_TEST_RAISE");
    if (s && *s && !done++) raise(strcmp(s, "TERM") == 0 ? SIGTERM : SIGINT);
    return real ? real(fd) : -1;
}
