/* SPDX-License-Identifier: MIT */
/* The device backends' interface: what the library asks of an accelerator
 * that holds a model's parameters, gradient, optimiser state and data sets
 * in its own memory (the "engine"), as one table of functions.
 *
 * A backend is a plugin, a shared object the library loads with dlopen()
 * only when a context asks for its device (mlp_context_params.device), so
 * that the library and the CLI start on a machine without the device's
 * driver and fail with a clear message only when the device is asked for
 * (src/device/device.c).  The CUDA backend is libfastmlp_cuda.so
 * (src/device/cuda/), which exports mlp_dev_cuda_ops().  The table holds
 * plain C types only, so that the plugin needs nothing of the library but
 * this header and fastmlp.h's enums.
 *
 * Semantics are those of the CPU pass (its rows, losses and naive
 * bodies) and the optimisers (SGD's and Adam's loops), element for element,
 * up to rounding: the device computes in the model's dtype, accumulates
 * losses in double, and reduces in a fixed order (no atomics), so that the
 * same inputs give the same bits on the same device.
 *
 * Every function returns 0 on success; on failure non-zero (an enum
 * mlp_status where one fits: MLP_ERR_NOMEM for the device's memory,
 * MLP_ERR_ARG for a bad argument; anything else reads as MLP_ERR_IO), with
 * one line (no newline) in msg[0..MLP_DEV_MSG), and the engine stays
 * usable or fails every later call the same way.  An engine is used by one
 * thread at a time. */
#ifndef MLP_DEVICE_H
#define MLP_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLP_DEV_ABI 2   /* bumped whenever this table changes */
#define MLP_DEV_MSG 512 /* = sizeof mlp_error.msg */

/* Matrix products' precision (mlp_context_params.device_math). */
enum mlp_dev_math {
    MLP_DEV_MATH_EXACT = 0, /* the model's dtype all through (default) */
    MLP_DEV_MATH_TF32 = 1,  /* f32 models: tensor-core TF32 products (10-bit mantissa inputs) */
    MLP_DEV_MATH_BF16 = 2   /* f32 models: bf16 inputs, f32 accumulation */
};

struct mlp_dev_layer {
    uint32_t n_in, n_out;
    int act;             /* enum mlp_act (hidden layers; the last uses head) */
    size_t w_off, b_off; /* element offsets into the flat vector; W is n_out x n_in, row-major */
};

/* A model's shape and input transform, as the engine needs them. */
struct mlp_dev_model {
    int dtype; /* enum mlp_dtype: MLP_F32 or MLP_F64 */
    int head;  /* enum mlp_head */
    uint32_t n_layers;
    const struct mlp_dev_layer *layers; /* copied by open */
    size_t n_params;
    double leaky_slope;
    double input_scale;
    /* Standardisation: NULL, or n_in values each (copied by open).  A row
     * becomes (T)((v * input_scale - mean[j]) * inv_std[j]) computed in
     * double, else (T)v * (T)input_scale (f64 inputs: (T)(v * input_scale)). */
    const double *pre_mean, *pre_inv_std;
    int math; /* enum mlp_dev_math */
};

/* A data set to upload (its bytes are copied; the caller may free it). */
struct mlp_dev_data {
    uint64_t n_rows;
    uint32_t n_cols;
    int x_type;              /* enum mlp_elem: uint8 stays uint8 on the device */
    const void *x;           /* n_rows x n_cols, row-major */
    const int32_t *labels;   /* NULL, or n_rows labels in [0, n_out) (n_out 1: 0/1) */
    const double *targets;   /* NULL, or n_rows x n_out real targets */
};

/* One pass over rows b0..b0+nb of a slot's current order (set_order). */
struct mlp_dev_pass {
    int slot;         /* the data set: 0..MLP_DEV_SLOTS-1 */
    uint64_t b0, nb;
    int grad;         /* compute the gradient (kept on the device) */
    uint64_t mean_n;  /* loss and gradient are sums / mean_n (0: nb) */
    double l2, l2_m;  /* L2 term l2/(2 l2_m) sum w^2 over the weights (l2_m 0: nb):
                         added to the gradient (l2/l2_m) w and counted in
                         the accumulator's pen, not its loss */
};

#define MLP_DEV_SLOTS 2 /* 0: the training set, 1: the evaluation set */

/* One training step: the pass (grad set) and the update after it, as
 * pass, then sgd or adam, then scale_weights(decay) when decay != 1. */
struct mlp_dev_step {
    struct mlp_dev_pass pass;
    int adam;                  /* 0: sgd, 1: adam */
    double lr, momentum;       /* sgd */
    int nesterov;              /* sgd */
    double lr_t, b1, b2, eps_t; /* adam (see adam below) */
    double decay;              /* 1: none */
};

/* What passes added up since the last read (read_acc zeroes it): the data
 * loss summed over rows (the head's per-row loss, before / mean_n), the L2
 * term times nb summed over passes, and the correctly classified rows. */
struct mlp_dev_acc {
    double loss_sum, pen_sum;
    uint64_t correct, rows;
};

struct mlp_dev;

struct mlp_dev_ops {
    uint32_t abi; /* MLP_DEV_ABI */
    const char *name; /* "cuda" */
    /* The number of devices present, or -1 with msg (no driver, ...). */
    int (*count)(char *msg);
    /* A one-line description of device `index` ("NVIDIA H100 80GB HBM3,
     * sm_90, 132 SMs, 79 GiB, driver 13.0, runtime 13.0"). */
    int (*describe)(int index, char *out, size_t cap, char *msg);
    /* An engine on device `index` for model m: parameters, gradient and
     * optimiser state allocated there (state zeroed), no data yet. */
    int (*open)(struct mlp_dev **out, int index, const struct mlp_dev_model *m, char *msg);
    void (*close)(struct mlp_dev *d);

    /* The flat parameter vector (n_params of the model's dtype) in, out. */
    int (*set_params)(struct mlp_dev *d, const void *host, char *msg);
    int (*get_params)(struct mlp_dev *d, void *host, char *msg);
    /* The gradient of the last pass with grad, out. */
    int (*get_grad)(struct mlp_dev *d, void *host, char *msg);
    /* Optimiser state vectors (s1: momentum or Adam's m, s2: Adam's v;
     * NULL: leave it), in and out. */
    int (*set_state)(struct mlp_dev *d, const void *s1, const void *s2, char *msg);
    int (*get_state)(struct mlp_dev *d, void *s1, void *s2, char *msg);

    /* Upload a data set into slot (replacing what it held); its order is
     * then rows 0..n-1. */
    int (*upload)(struct mlp_dev *d, int slot, const struct mlp_dev_data *ds, char *msg);
    /* The slot's row order from now on: order[i] is the data row a pass's
     * row i reads (n = the slot's rows); NULL: rows 0..n-1. */
    int (*set_order)(struct mlp_dev *d, int slot, const uint64_t *order, char *msg);

    /* The pass: forward, the head's loss and correct count into the
     * accumulator, and with p->grad the gradient (incl. the L2 term). */
    int (*pass)(struct mlp_dev *d, const struct mlp_dev_pass *p, char *msg);
    /* Read and zero the accumulator (waits for the device). */
    int (*read_acc)(struct mlp_dev *d, struct mlp_dev_acc *acc, char *msg);

    /* Updates with the gradient in place, as the CPU optimisers':
     *   sgd:  momentum 0: w -= lr g;  else v = mu v + g, w -= lr (nesterov ? g + mu v : v)
     *   adam: t >= 1:  m = b1 m + (1-b1) g,  v = b2 v + (1-b2) g^2,
     *         w -= lr_t m / (sqrt(v) + eps_t), lr_t = lr sqrt(1-b2^t)/(1-b1^t),
     *         eps_t = eps sqrt(1-b2^t)   (the host computes lr_t and eps_t)
     *   scale_weights: w *= f on the weights only (decoupled weight decay). */
    int (*sgd)(struct mlp_dev *d, double lr, double momentum, int nesterov, char *msg);
    int (*adam)(struct mlp_dev *d, double lr_t, double b1, double b2, double eps_t, char *msg);
    int (*scale_weights)(struct mlp_dev *d, double f, char *msg);

    /* Output activations of rows row0..row0+n of a slot's data in its
     * current order, as doubles (n x n_out) into host memory. */
    int (*predict)(struct mlp_dev *d, int slot, uint64_t row0, uint64_t n, double *out, char *msg);
    /* The step above in one call: what pass, sgd/adam and scale_weights
     * give, bit for bit.  A backend may replay the step's launches as one
     * unit (CUDA: a graph captured once per shape, its changing numbers
     * read from device memory), which is what makes small batches pay.
     * May be NULL: the caller then makes the three calls. */
    int (*step)(struct mlp_dev *d, const struct mlp_dev_step *s, char *msg);
};

/* The symbol a CUDA plugin exports. */
typedef const struct mlp_dev_ops *(*mlp_dev_ops_fn)(void);
#define MLP_DEV_CUDA_SYMBOL "mlp_dev_cuda_ops"

#ifdef __cplusplus
}
#endif

#endif
