/* SPDX-License-Identifier: MIT */
/* Loading the device backends' plugins (load.c), below the context. */
#ifndef MLP_DEVICE_LOAD_H
#define MLP_DEVICE_LOAD_H

#include "device/device.h"
#include "internal.h"

/* The CUDA plugin's table, loaded on first use (and *path, where it was
 * found, when not NULL); NULL with MLP_ERR_UNSUPPORTED and the loader's
 * reason when there is no plugin or it cannot load (no CUDA libraries). */
const struct mlp_dev_ops *mlp__dev_load_cuda(const char **path, struct mlp_error *err);

#endif
