/* SPDX-License-Identifier: MIT */
/* The f64 instance of SGD (sgd.inc). */
#define SUF f64
#include "core/tmpl.h"
#include "train/optim/sgd.inc"
