/* SPDX-License-Identifier: MIT */
/* The one template idiom for code written once for f32 and f64.
 *
 * A body lives in a `.inc` file; a thin `*_f32.c` / `*_f64.c` file
 * instantiates it, and nothing else:
 *
 *     #define SUF f32
 *     #include "core/tmpl.h"
 *     #include "pass/pass.inc"
 *
 * Everything that depends on the element type is defined here, once:
 *   T          the element type (float / double)
 *   TN(name)   name_f32 / name_f64, always (what other files define)
 *   FN(name)   name_f32 / name_f64 (name_<ISA>_f32 with ISA defined):
 *              `static void FN(activate)(...)` defines
 *              activate_f32 in pass_f32.c (`grep 'FN(activate)'` finds it;
 *              .ctags.d/ teaches universal-ctags the same)
 *   CBLAS(op)  cblas_s<op> / cblas_d<op> (CBLAS(gemv) -> cblas_sgemv)
 *   EXP, TANH, SQRT  the libm functions of T
 *   EXP_CLIP   the exponent bound of T's exp: neither overflow nor underflow
 *   NARROW_V   T lanes in the fused narrow kernel's vectors (kernels/narrow.inc):
 *              one register of the file's instruction set, 64 bytes with
 *              AVX-512, 32 with AVX, else 16 (wider vectors, split over
 *              several of the 16 ymm or xmm registers, spill them)
 * One instance per file: including this twice is an error, so a `.inc` can
 * guard itself and include the `.inc` files it needs in any order. */
#ifdef MLP_TMPL_H
#error "core/tmpl.h: one element type per file (write a second thin file)"
#endif
#define MLP_TMPL_H

#ifndef SUF
#error "core/tmpl.h: define SUF (f32 or f64) before including it"
#endif

#define MLP_TMPL_CAT_(a, b) a##b
#define MLP_TMPL_CAT(a, b) MLP_TMPL_CAT_(a, b)
#define MLP_TMPL_BITS_f32 32
#define MLP_TMPL_BITS_f64 64

/* TN(name) -> name_f32 / name_f64: the element type's instance of a name
 * defined elsewhere (a kernel-table field, the BLAS dispatch).
 * FN(name) -> the same, or name_<ISA>_f32 where the thin file also defines
 * ISA (a body built once per instruction set, pass/pass_<isa>_<type>.c), so
 * that each build's own functions have names of their own. */
#define TN(name) MLP_TMPL_CAT(name, MLP_TMPL_CAT(_, SUF))
#ifdef ISA
#define FN(name) MLP_TMPL_CAT(name, MLP_TMPL_CAT(_, MLP_TMPL_CAT(ISA, MLP_TMPL_CAT(_, SUF))))
#else
#define FN(name) TN(name)
#endif

#if MLP_TMPL_CAT(MLP_TMPL_BITS_, SUF) == 32
#define T float
#define CBLAS(op) cblas_s##op
#define EXP expf
#define TANH tanhf
#define SQRT sqrtf
#define EXP_CLIP 80.0f /* e^80 < FLT_MAX and e^-80 > FLT_MIN */
#if defined(__AVX512F__)
#define NARROW_V 16
#elif defined(__AVX__)
#define NARROW_V 8
#else
#define NARROW_V 4
#endif
#elif MLP_TMPL_CAT(MLP_TMPL_BITS_, SUF) == 64
#define T double
#define CBLAS(op) cblas_d##op
#define EXP exp
#define TANH tanh
#define SQRT sqrt
#define EXP_CLIP 700.0 /* e^700 < DBL_MAX and e^-700 > DBL_MIN */
#if defined(__AVX512F__)
#define NARROW_V 8
#elif defined(__AVX__)
#define NARROW_V 4
#else
#define NARROW_V 2
#endif
#else
#error "core/tmpl.h: SUF must be f32 or f64"
#endif
