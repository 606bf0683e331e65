/* SPDX-License-Identifier: MIT */
/* The f32 instance of the ladder's naive and per-sample passes (naive.inc). */
#define SUF f32
#include "core/tmpl.h"
#include "pass/naive.inc"
