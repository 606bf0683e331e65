/* SPDX-License-Identifier: MIT */
/* The smallest complete use of the library: learn XOR with a 2-4-1 network,
 * print the four predictions, save the model, load it back.
 * Build: cc xor.c $(pkg-config --cflags --libs fastmlp) */
#include <fastmlp.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "xor.mlp";
    static const double x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const int32_t y[4] = {0, 1, 1, 0};
    /* A data set is a view over the caller's arrays: nothing is copied. */
    struct mlp_dataset ds = {.n_rows = 4, .n_cols = 2, .x_type = MLP_ELEM_F64, .x = x, .labels = y, .n_classes = 2};

    struct mlp_layer_spec hidden[1] = {{4, MLP_ACT_TANH}};
    struct mlp_model_params mp = mlp_model_params_default();
    mp.dtype = MLP_F64;
    mp.n_in = 2;
    mp.n_hidden = 1;
    mp.hidden = hidden;
    mp.n_out = 1;
    mp.head = MLP_HEAD_SIGMOID_BCE;

    struct mlp_error err;
    struct mlp_model *m = NULL, *back = NULL;
    if (mlp_model_create(&m, &mp, &err) != MLP_OK) goto fail;
    mlp_model_init(m, MLP_INIT_UNIFORM, -1, 1, 7);

    struct mlp_train_params tp = mlp_train_params_default();
    tp.optim = MLP_OPT_GD;
    tp.lr = 0.5;
    tp.epochs = 2000;
    if (mlp_model_train(m, &ds, &tp, &err) != MLP_OK) goto fail;
    if (mlp_model_save(m, path, &err) != MLP_OK) goto fail;
    if (mlp_model_load(&back, path, &err) != MLP_OK) goto fail;

    double p[4];
    if (mlp_model_predict(back, &ds, MLP_ROWS(0, 4), p, &err) != MLP_OK) goto fail;
    int right = 0;
    for (int i = 0; i < 4; i++) {
        printf("%g xor %g -> %.3f\n", x[2 * i], x[2 * i + 1], p[i]);
        right += (p[i] > 0.5) == (y[i] == 1);
    }
    mlp_model_free(m);
    mlp_model_free(back);
    return right == 4 ? 0 : 1;
fail:
    fprintf(stderr, "xor: %s\n", err.msg);
    mlp_model_free(m);
    mlp_model_free(back);
    return 1;
}
