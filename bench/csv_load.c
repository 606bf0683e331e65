/* SPDX-License-Identifier: MIT */
/* CSV loading throughput: load one file N times through mlp_dataset_load_csv
 * and print the best time as MB/s (file bytes / wall time, 1 MB = 10^6 B).
 * Usage: csv_load FILE [REPEATS [THREADS]]   (THREADS 0 = all cores) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fastmlp.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s FILE [REPEATS [THREADS]]\n", argv[0]);
        return 64;
    }
    const char *path = argv[1];
    int repeats = argc > 2 ? atoi(argv[2]) : 10;
    int threads = argc > 3 ? atoi(argv[3]) : 0;
    if (repeats < 1) repeats = 1;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        perror(path);
        return 66;
    }

    struct mlp_load_params p = mlp_load_params_default();
    p.threads = threads;
    double best = 1e300;
    struct mlp_dataset ds;
    struct mlp_error err;
    for (int i = 0; i < repeats; i++) {
        double t0 = now_s();
        enum mlp_status st = mlp_dataset_load_csv(&ds, path, &p, &err);
        double t = now_s() - t0;
        if (st != MLP_OK) {
            fprintf(stderr, "csv_load: %s\n", err.msg);
            return 65;
        }
        if (t < best) best = t;
        if (i + 1 < repeats) mlp_dataset_free(&ds);
    }
    double mb = (double)sb.st_size / 1e6;
    printf("fastmlp: %s: %.1f MB, %" PRIu64 " rows x %" PRIu32 " inputs (%s), %" PRIu32
           " classes, threads %s: best of %d %.2f ms = %.0f MB/s\n",
           path, mb, ds.n_rows, ds.n_cols, ds.x_type == MLP_ELEM_U8 ? "u8" : "f64", ds.n_classes,
           threads > 0 ? argv[3] : "all", repeats, best * 1e3, mb / best);
    printf("MBPS %.1f\n", mb / best);
    mlp_dataset_free(&ds);
    return 0;
}
