/* SPDX-License-Identifier: MIT */
/* glibc's libmvec has SIMD versions of exp and tanh (within 4 ulp);
 * declaring them lets the vectoriser call them from the `omp simd` loops of
 * kernels/act.inc and pass/losses.inc.  CMakeLists.txt defines
 * FASTMLP_HAVE_MVEC (and links libmvec) for the kernel table's files
 * (isa_<set>_<type>.c) and the batched pass's (pass_f32.c, pass_f64.c),
 * built with -fopenmp-simd -fno-math-errno; everywhere else the loops stay
 * scalar, as they always were. */
#ifndef MLP_KERNELS_MVEC_H
#define MLP_KERNELS_MVEC_H

#include <math.h>

#if defined(FASTMLP_HAVE_MVEC)
#pragma omp declare simd notinbranch
float expf(float);
#pragma omp declare simd notinbranch
double exp(double);
#pragma omp declare simd notinbranch
float tanhf(float);
#pragma omp declare simd notinbranch
double tanh(double);
#endif

#endif
