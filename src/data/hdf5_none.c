/* SPDX-License-Identifier: MIT */
/* The HDF5 loader of a build without libhdf5 (cmake -DFASTMLP_HDF5=OFF),
 * compiled instead of hdf5.c: every public function of hdf5.c has its twin
 * here, which refuses with one message that says why, so that a program (and
 * format detection that reaches an HDF5 file) can tell the user.
 * test_no_hdf5 builds this way and compares the exported names with the
 * full library's. */
#include "internal.h"

#include <string.h>

#define NO_HDF5 "this fastmlp was built without HDF5 (FASTMLP_HDF5=OFF)"

enum mlp_status mlp_dataset_load_hdf5(struct mlp_dataset *ds, const char *path,
                                      const struct mlp_load_params *p, struct mlp_error *err)
{
    MLP_ASSERT(ds && path);
    (void)p;
    memset(ds, 0, sizeof *ds);
    return mlp__fail_file(err, MLP_ERR_UNSUPPORTED, path, NO_HDF5);
}

enum mlp_status mlp_dataset_load_hdf5_mem(struct mlp_dataset *ds, const struct mlp_buffer *b,
                                          const struct mlp_load_params *p, struct mlp_error *err)
{
    MLP_ASSERT(ds && b);
    (void)p;
    memset(ds, 0, sizeof *ds);
    return mlp__fail_file(err, MLP_ERR_UNSUPPORTED, b->name ? b->name : "<memory>", NO_HDF5);
}

const char *mlp_hdf5_info(void)
{
    return NULL;
}
