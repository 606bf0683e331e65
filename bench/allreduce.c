/* SPDX-License-Identifier: MIT */
/* bench_allreduce [MAX_BYTES]: MPI_Allreduce (sum, in place) of 4 B .. MAX_BYTES
 * (64 MiB) of floats
 * on the ranks of mpirun, the time per call (best and median of REPS after
 * a warm-up), for bench/mpi.sh and the scaling model of docs/distributed.md:
 * a line per size, "bytes B best_us X median_us Y GBps Z" (GB/s: the
 * ring-allreduce bus bandwidth, 2 (N-1)/N x bytes / time). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    enum { REPS = 30 };
    long max = argc > 1 ? atol(argv[1]) / 4 : 16 << 20;
    if (max < 1 || max > (1L << 28)) {
        if (rank == 0) fprintf(stderr, "bench_allreduce: MAX_BYTES must be 4 .. 1 GiB\n");
        MPI_Abort(MPI_COMM_WORLD, 64);
    }
    float *buf = calloc((size_t)max, sizeof *buf);
    double t[REPS];
    if (!buf) MPI_Abort(MPI_COMM_WORLD, 70);
    for (long n = 1; n <= max; n *= 4) {
        for (int i = 0; i < 3; i++) MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        int reps = n >= (1 << 22) ? 8 : REPS;
        for (int i = 0; i < reps; i++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            t[i] = MPI_Wtime() - t0;
        }
        /* the slowest rank's time is the call's */
        MPI_Allreduce(MPI_IN_PLACE, t, reps, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        qsort(t, (size_t)reps, sizeof *t, cmp);
        double bytes = 4.0 * n, bus = 2.0 * (size - 1) / size * bytes;
        if (rank == 0)
            printf("bytes %.0f best_us %.2f median_us %.2f GBps %.3f\n", bytes, t[0] * 1e6, t[reps / 2] * 1e6,
                   bus / t[reps / 2] / 1e9);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
