/* SPDX-License-Identifier: MIT */
/* `fastmlp export MODEL -o model.onnx`: the model as an ONNX graph
 * (mlp_model_save_onnx), for onnxruntime and the tools that read ONNX. */
#include "cli.h"

#include <string.h>

int cmd_export(int argc, char **argv)
{
    const char *cmd = "export";
    const char *out = NULL, *format = "onnx";
    const struct opt opts[] = {
        {"--output", 'o', OPT_STR, &out, "FILE", "write the exported model to FILE ('-': standard output)", "Output"},
        {"--format", 0, OPT_STR, &format, "NAME", "onnx (opset 13) [onnx]", "Output"},
        {0}};
    struct cli_args a = {.cmd = cmd, .first = 2, .opts = opts, .max_pos = 1,
                         .usage = "usage: fastmlp export MODEL -o model.onnx\n\n"
                                  "Writes MODEL as an ONNX graph (opset 13): its preprocessing, one Gemm per layer\n"
                                  "and its activation, the head's Softmax/Sigmoid/Tanh. A table's one-hot\n"
                                  "encoding and fill values are not in the graph: its input is the numeric row."};
    int rc = cli_args_parse(&a, argc, argv);
    if (rc != CLI_RUN) return rc;
    if (a.n_pos != 1) return cli_usage_error(cmd, "expected one MODEL file");
    if (!out) return cli_usage_error(cmd, "-o FILE is required");
    if (strcmp(format, "onnx") != 0) return cli_usage_error(cmd, "--format '%s' is not onnx", format);
    const struct cli_file files[] = {{"MODEL", a.pos[0], 0, NULL, NULL},
                                     {"--config", a.config, 0, NULL, NULL},
                                     {"-o", out, CLI_OUT | MLP_OUTPUT_STREAM | MLP_OUTPUT_BINARY, NULL, "the ONNX model"}};
    if ((rc = cli_check_files(cmd, files, (int)(sizeof files / sizeof files[0]), NULL)) != EXIT_OK) return rc;
    struct mlp_error err = {0};
    struct mlp_model *m = NULL;
    enum mlp_status st = mlp_model_load(&m, a.pos[0], &err);
    if (st != MLP_OK) return cli_fail(cmd, st, err.msg);
    cli_signals_for_output(out);
    st = mlp_model_save_onnx(m, out, &err);
    mlp_model_free(m);
    if (st != MLP_OK) return cli_output_fail(cmd, st, err.msg);
    return EXIT_OK;
}
