// A GEMM for few rows that reads PyTorch nn.Linear weights where they lie.
//
// OpenBLAS 0.3.21 re-packs the whole weight matrix on every cblas_sgemm call and has no small-matrix
// kernels for Zen, so for a few rows (one text) the packing costs more than the arithmetic. This kernel packs nothing: each output is a dot product of a row of x and a
// row of W, both contiguous, in AVX2 with FMA. Kernels/Gemm.swift decides when to call it.
#ifndef SMALL_GEMM_H
#define SMALL_GEMM_H

#include <stddef.h>

/// 1 when this CPU has AVX2 and FMA (the kernel needs both), else 0.
int small_gemm_available(void);

/// y[r * ldy + c] = Σ_i x[r * ldx + i] · w[c * k + i] (+ bias[c]) for r < n, c < m:
/// x is [n x k] with row stride ldx, w is [m x k] (nn.Linear's [out, in]), bias is [m] or NULL.
/// Call only when small_gemm_available() returns 1. Each output is summed in the same order
/// whatever n, m and its position, so a row's result does not depend on the rows beside it.
void small_gemm_nt(size_t n, size_t m, size_t k, const float *x, size_t ldx, const float *w,
                   const float *bias, float *y, size_t ldy);

#endif
