/* SPDX-License-Identifier: MIT */
/* The run-time kernel table: every compute kernel the pass, the optimisers
 * and the quantised engine call, as function pointers, one table per
 * instruction-set variant (portable C; on x86-64 AVX2+FMA, AVX-512
 * F/BW/DQ/VL, +VNNI, +VNNI+BF16; on aarch64 NEON).  mlp__ktable picks a table once per process per requested
 * variant from what the CPU and the OS can run (kernels/ktable.c); each
 * mlp_context holds the one it asked for (mlp_context_params.isa), so the
 * library reads no environment and a model's kernels follow its context.
 *
 * The ISA-specific bodies (narrow.inc, act.inc, adam.inc) are compiled once
 * per variant by kernels/isa_{portable,avx2,avx512,neon}.c with per-file
 * flags (CMakeLists.txt); the quantised kernels' plain-C bodies (qk.inc) for
 * the baseline by kernels/qk_portable.c; their AVX2 (and AVX-VNNI) versions
 * are intrinsics in kernels/qk_avx2_simd.c, the AVX-512 ones keep their
 * target attributes in qkernels.c, the NEON ones (with dotprod, i8mm and
 * bf16 where the CPU has them) are intrinsics in kernels/qk_neon*.c.  The GEMMs are the BLAS's in every variant (OpenBLAS picks its
 * own kernels at run time). */
#ifndef MLP_KTABLE_H
#define MLP_KTABLE_H

#include "kernels/kernels.h"
#include "kernels/qkernels.h"

/* The fused uint8 first layer (narrow.inc), K <= 16 outputs:
 *   forward:   Z (nb x K) = b + s * X W^T  for the rows xr[0..nb) of d bytes
 *   backward:  gW (K x d) += s * dZ^T X */
typedef void (*mlp_narrow_fwd_f32_fn)(const uint8_t *const *xr, uint32_t nb, uint32_t d, uint32_t K, const float *W,
                                      const float *b, float s, float *Z);
typedef void (*mlp_narrow_fwd_f64_fn)(const uint8_t *const *xr, uint32_t nb, uint32_t d, uint32_t K,
                                      const double *W, const double *b, double s, double *Z);
typedef void (*mlp_narrow_bwd_f32_fn)(const uint8_t *const *xr, uint32_t nb, uint32_t d, uint32_t K,
                                      const float *dZ, float s, float *gW);
typedef void (*mlp_narrow_bwd_f64_fn)(const uint8_t *const *xr, uint32_t nb, uint32_t d, uint32_t K,
                                      const double *dZ, double s, double *gW);
/* z = act(z) over n values (act.inc); x = exp(x) over n values. */
typedef void (*mlp_act_f32_fn)(enum mlp_act act, float slope, float *z, size_t n);
typedef void (*mlp_act_f64_fn)(enum mlp_act act, double slope, double *z, size_t n);
/* d *= act'(z) over n values, from a = act(z) (act.inc). */
typedef void (*mlp_dact_f32_fn)(enum mlp_act act, float slope, const float *a, float *d, size_t n);
typedef void (*mlp_dact_f64_fn)(enum mlp_act act, double slope, const double *a, double *d, size_t n);
typedef void (*mlp_vexp_f32_fn)(float *x, size_t n);
typedef void (*mlp_vexp_f64_fn)(double *x, size_t n);
/* Adam's update of n elements (adam.inc); g2 NULL: one gradient, else g + g2. */
typedef void (*mlp_adam_f32_fn)(size_t n, float *p, const float *g, const float *g2, float *m, float *v, float lr_t,
                                float b1, float b2, float eps_t);
typedef void (*mlp_adam_f64_fn)(size_t n, double *p, const double *g, const double *g2, double *m, double *v,
                                double lr_t, double b1, double b2, double eps_t);
typedef void (*mlp_gemm_f32_fn)(enum mlp_backend be, MLP_GEMM_ARGS(float));
typedef void (*mlp_gemm_f64_fn)(enum mlp_backend be, MLP_GEMM_ARGS(double));

/* The slots, each with the variant of its kernels recorded in the table. */
enum mlp_kslot {
    MLP_KS_GEMM = 0,
    MLP_KS_NARROW,
    MLP_KS_ACT,
    MLP_KS_ADAM,
    MLP_KS_Q_F32,
    MLP_KS_Q_BF16,
    MLP_KS_Q_INT8,
    MLP_KS_COUNT
};
extern const char *const mlp__kslot_names[MLP_KS_COUNT];

struct mlp_ktable {
    enum mlp_isa isa;                      /* the variant (never AUTO) */
    const char *variant[MLP_KS_COUNT];     /* per slot: "portable", "avx2", "blas", ... */
    mlp_gemm_f32_fn gemm_f32;
    mlp_gemm_f64_fn gemm_f64;
    mlp_narrow_fwd_f32_fn narrow_fwd_f32;
    mlp_narrow_fwd_f64_fn narrow_fwd_f64;
    mlp_narrow_bwd_f32_fn narrow_bwd_f32;
    mlp_narrow_bwd_f64_fn narrow_bwd_f64;
    mlp_act_f32_fn act_f32;
    mlp_act_f64_fn act_f64;
    mlp_dact_f32_fn dact_f32;
    mlp_dact_f64_fn dact_f64;
    mlp_vexp_f32_fn vexp_f32;
    mlp_vexp_f64_fn vexp_f64;
    mlp_adam_f32_fn adam_f32;
    mlp_adam_f64_fn adam_f64;
    /* Whether the fast stage takes the fused narrow kernel on this variant
     * (pass/pass.inc), a measured rule: it does where the pixels are
     * converted in vector registers (every x86-64 variant), not where the
     * compiler's plain loop converts them one at a time, which measured
     * slower than the BLAS stage (W1 on Zen 3 at c3f0560: 10.2 s against
     * 7.6 s).  With the vector conversion the fused kernel is the faster
     * on every workload measured (Zen 3, 2 threads, --isa portable i.e.
     * SSE2 against --kernels batched: W1 2000 epochs 2.6 s / 8.5 s, W2 100
     * CG iterations 1.0 / 2.7 s, W3 50 iterations 1.6 / 4.8 s; AVX2
     * faster again).  `--kernels batched` takes the BLAS stage anywhere. */
    bool narrow_fast;
    unsigned qk_features;                  /* MLP_QK_HAS_* the quantised kernels use */
    struct mlp_qk qk[MLP_Q_COUNT];         /* per mlp_qtype */
};

/* The last variant of enum mlp_isa. */
#define MLP_ISA_LAST MLP_ISA_NEON

/* The table for `want`: AUTO gives the best variant this CPU and OS run; a
 * named variant the CPU or OS cannot run gives NULL and MLP_ERR_ARG with a
 * message naming what is missing and what would run.  Tables are made once
 * per process and never change (safe from any thread). */
const struct mlp_ktable *mlp__ktable(enum mlp_isa want, struct mlp_error *err);

/* The quantised kernels' features that cpuid leaf 7 subleaf 1's EAX adds
 * to a CPU with AVX2 (bit 4: AVX-VNNI -> MLP_QK_HAS_AVXVNNI); apart from
 * the detection so that tests can check the mapping on any CPU. */
unsigned mlp__qk_cpuid_features(uint32_t leaf7_sub1_eax);
/* The same for aarch64: the quantised kernels' features that the kernel's
 * hardware capabilities (getauxval(AT_HWCAP), getauxval(AT_HWCAP2)) give
 * to the NEON variant: ASIMDDP -> MLP_QK_HAS_DOTPROD, I8MM -> _I8MM, BF16 ->
 * _ARM_BF16.  Pure, so that tests check the mapping on any CPU. */
unsigned mlp__qk_hwcap_features(unsigned long hwcap, unsigned long hwcap2);

/* The filling of the vector slots (narrow, activations, Adam) by each
 * variant's file; the AVX2 and AVX-512 fills exist only on x86-64, the
 * NEON fill only on aarch64. */
void mlp__kt_fill_portable_f32(struct mlp_ktable *t);
void mlp__kt_fill_portable_f64(struct mlp_ktable *t);
void mlp__kt_fill_avx2_f32(struct mlp_ktable *t);
void mlp__kt_fill_avx2_f64(struct mlp_ktable *t);
void mlp__kt_fill_avx512_f32(struct mlp_ktable *t);
void mlp__kt_fill_avx512_f64(struct mlp_ktable *t);
void mlp__kt_fill_neon_f32(struct mlp_ktable *t);
void mlp__kt_fill_neon_f64(struct mlp_ktable *t);

#endif
