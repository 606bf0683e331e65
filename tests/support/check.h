/* SPDX-License-Identifier: MIT */
/* Header-only checks for the C tests: each failed check prints file:line and
 * what failed, then the test goes on, so one run shows every failure.  One
 * test executable = one translation unit including this. */
#ifndef FASTMLP_TESTS_CHECK_H
#define FASTMLP_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>

#include "fastmlp.h"

static int check_passed_, check_failed_;

/* CHECK_MSG(cond, fmt, args...): on failure also prints the formatted detail. */
#define CHECK_MSG(cond, ...)                                                 \
    do {                                                                     \
        if (cond) {                                                          \
            check_passed_++;                                                 \
        } else {                                                             \
            check_failed_++;                                                 \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, \
                    #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            check_passed_++;                                                 \
        } else {                                                             \
            check_failed_++;                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

/* expr is evaluated once; on failure both statuses are named. */
#define CHECK_STATUS(expr, expected)                                         \
    do {                                                                     \
        enum mlp_status check_got_ = (expr);                                 \
        enum mlp_status check_want_ = (expected);                            \
        CHECK_MSG(check_got_ == check_want_, "got %d (%s), expected %d (%s)", \
                  (int)check_got_, mlp_status_str(check_got_),               \
                  (int)check_want_, mlp_status_str(check_want_));            \
    } while (0)

/* |a - b| <= tol; NaN never passes. */
#define CHECK_NEAR(a, b, tol)                                                \
    do {                                                                     \
        double check_a_ = (a), check_b_ = (b), check_t_ = (tol);             \
        CHECK_MSG(fabs(check_a_ - check_b_) <= check_t_,                     \
                  "%.17g vs %.17g (diff %.3g > tol %.3g)", check_a_,         \
                  check_b_, fabs(check_a_ - check_b_), check_t_);            \
    } while (0)

/* Prints "name: N passed, M failed"; returns the exit status for main. */
static inline int check_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed_, check_failed_);
    fflush(stdout);
    return check_failed_ == 0 ? 0 : 1;
}

#endif /* FASTMLP_TESTS_CHECK_H */
