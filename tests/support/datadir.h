/* SPDX-License-Identifier: MIT */
/* Where the C tests find their data, decided when they run: the directory
 * in $FASTMLP_DATA_DIR (the seeds' files) or $FASTMLP_FMNIST_DIR
 * (Fashion-MNIST), else the one compiled in (tests/CMakeLists.txt: the
 * source tree's tests/data, and Debian's dataset-fashion-mnist).  Nothing is
 * frozen into the build, so `FASTMLP_DATA_DIR=... ctest` names another copy
 * after any configure. */
#ifndef FASTMLP_TESTS_DATADIR_H
#define FASTMLP_TESTS_DATADIR_H

#include <stdio.h>
#include <stdlib.h>

#ifndef FASTMLP_TEST_DATA_DEFAULT
#define FASTMLP_TEST_DATA_DEFAULT "tests/data"
#endif
#ifndef FASTMLP_TEST_FMNIST_DEFAULT
#define FASTMLP_TEST_FMNIST_DEFAULT "/usr/share/datasets/fashion-mnist"
#endif

static inline const char *test_env_dir(const char *var, const char *fallback)
{
    const char *d = getenv(var);
    return d && *d ? d : fallback;
}

static inline const char *test_data_dir(void) { return test_env_dir("FASTMLP_DATA_DIR", FASTMLP_TEST_DATA_DEFAULT); }

static inline const char *test_fmnist_dir(void)
{
    return test_env_dir("FASTMLP_FMNIST_DIR", FASTMLP_TEST_FMNIST_DEFAULT);
}

/* DIR/name in one of 8 rotating buffers (so that a few may be held at once). */
static inline const char *test_path_in(const char *dir, const char *name)
{
    static char buf[8][4096];
    static unsigned next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

/* A file of the seeds' data (galaxy_test.csv, train_catvnoncat.h5, ...). */
static inline const char *test_data_path(const char *name) { return test_path_in(test_data_dir(), name); }

/* A Fashion-MNIST file (t10k-images-idx3-ubyte.gz, ...). */
static inline const char *test_fmnist_path(const char *name) { return test_path_in(test_fmnist_dir(), name); }

#endif
