/* SPDX-License-Identifier: MIT */
/* W5 in FANN 2.2 (float), fastmlp's peer: a 784-256-128-10 network trained
 * incrementally -- one weight update per sample (fann_train), the nearest
 * FANN has to mini-batch Adam: RPROP, its batch algorithm, makes one update
 * per pass over the data, so a fraction of an epoch would be one step.
 * FANN 2.2 has neither ReLU nor softmax: hidden layers are
 * FANN_SIGMOID_SYMMETRIC (tanh), outputs FANN_SIGMOID against one-hot
 * targets, FANN's default error function; learning rate LR [0.01: on
 * 10000 rows FANN's default 0.7 reaches a test accuracy of 0.43, 0.1 0.68,
 * 0.01 0.75; the speed does not depend on it].
 * Inputs /255.  FANN is single-threaded and slow, so it trains on the first
 * ROWS rows once (a fraction of an epoch); the figure is samples/s over that
 * timed loop, and the accuracy is that of the partly trained network on the
 * whole test set (not comparable with two full epochs).
 * Build: cc -O2 w5_fann.c -o w5_fann -lfann -lm
 * Usage: w5_fann TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS ROWS [LR]
 * (uncompressed IDX files) */
#include <fann.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The unsigned bytes of an IDX file (type 0x08) and its item count and item
 * size; NULL after one stderr line on any failure. */
static unsigned char *read_idx(const char *path, uint32_t *n, uint32_t *per)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    unsigned char h[4], d[4];
    unsigned char *buf = NULL;
    if (fread(h, 1, 4, f) != 4 || h[0] || h[1] || h[2] != 0x08 || h[3] < 1 || h[3] > 3) {
        fprintf(stderr, "%s: not an IDX file of unsigned bytes\n", path);
        goto out;
    }
    uint64_t size = 1;
    for (int i = 0; i < h[3]; i++) {
        if (fread(d, 1, 4, f) != 4) {
            fprintf(stderr, "%s: truncated header\n", path);
            goto out;
        }
        uint32_t v = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
        if (i == 0)
            *n = v;
        else
            size *= v;
    }
    *per = (uint32_t)size;
    size *= *n;
    if (size > ((uint64_t)1 << 32) || !(buf = malloc(size ? size : 1))) {
        fprintf(stderr, "%s: too large\n", path);
        goto out;
    }
    if (fread(buf, 1, size, f) != size) {
        fprintf(stderr, "%s: truncated\n", path);
        free(buf);
        buf = NULL;
    }
out:
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS ROWS [LR]\n", argv[0]);
        return 64;
    }
    uint32_t ntr, dtr, nlt, one, nte, dte, nle;
    unsigned char *xtr = read_idx(argv[1], &ntr, &dtr), *ytr = read_idx(argv[2], &nlt, &one);
    unsigned char *xte = read_idx(argv[3], &nte, &dte), *yte = read_idx(argv[4], &nle, &one);
    long rows = atol(argv[5]);
    float lr = argc == 7 ? (float)atof(argv[6]) : 0.01f;
    if (!xtr || !ytr || !xte || !yte) return 66;
    if (dtr != 784 || dte != 784 || nlt != ntr || nle != nte || rows < 1) {
        fprintf(stderr, "w5_fann: unexpected shapes or ROWS\n");
        return 65;
    }
    if ((uint32_t)rows > ntr) rows = ntr;

    struct fann *ann = fann_create_standard(4, 784, 256, 128, 10);
    if (!ann) return 70;
    fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC);
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    fann_set_learning_rate(ann, lr);
    fann_randomize_weights(ann, -0.1f, 0.1f);

    fann_type in[784], target[10];
    double t0 = now_s();
    for (long r = 0; r < rows; r++) {
        for (int i = 0; i < 784; i++) in[i] = (fann_type)xtr[(size_t)r * 784 + i] / 255.0f;
        for (int k = 0; k < 10; k++) target[k] = ytr[r] == k ? 1.0f : 0.0f;
        fann_train(ann, in, target);
    }
    double dt = now_s() - t0;

    uint32_t right = 0;
    for (uint32_t r = 0; r < nte; r++) {
        for (int i = 0; i < 784; i++) in[i] = (fann_type)xte[(size_t)r * 784 + i] / 255.0f;
        fann_type *o = fann_run(ann, in);
        int best = 0;
        for (int k = 1; k < 10; k++)
            if (o[k] > o[best]) best = k;
        right += best == yte[r];
    }
    double sps = (double)rows / dt, acc = (double)right / nte;
    printf("FANN 2.2 float, incremental (per-sample) training, tanh hidden, sigmoid outputs, lr %g, 1 thread: "
           "%ld rows once (%.2f of an epoch), %.2f s, %.0f samples/s, test accuracy %.4f after that fraction\n",
           lr, rows, (double)rows / ntr, dt, sps, acc);
    printf("PEER sps=%.0f acc=%.4f\n", sps, acc);
    fann_destroy(ann);
    free(xtr), free(ytr), free(xte), free(yte);
    return 0;
}
