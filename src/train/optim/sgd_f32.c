/* SPDX-License-Identifier: MIT */
/* The f32 instance of SGD (sgd.inc). */
#define SUF f32
#include "core/tmpl.h"
#include "train/optim/sgd.inc"
