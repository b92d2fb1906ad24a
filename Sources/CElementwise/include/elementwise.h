// The element-wise passes of a forward pass (softmax over attention scores, the FFN's bias and
// activation) and their transcendental functions, in C so that they run 16 lanes wide on AVX-512:
// Swift compiles for the x86-64 baseline (SSE2), where these passes took a quarter of the long
// workload's CPU time. One source (elementwise_body.h) is compiled for AVX-512, for AVX2 + FMA and
// for the baseline; the first call picks the widest the CPU runs.
//
// The functions are Cephes-style: exp as 2^n · e^r with a degree-6 polynomial, erf as Eigen's
// rational approximation on [-4, 4], tanh(x) = 1 - 2 / (e^2x + 1). No multiply-add is fused, so
// every target gives the same values bit for bit. Kernels/Reference.swift holds the naive
// references; KernelsTests compares every target with them.
#ifndef ELEMENTWISE_H
#define ELEMENTWISE_H

#include <stddef.h>

typedef enum { EW_GELU_ERF = 0, EW_GELU_TANH = 1, EW_RELU = 2 } ew_activation;

/// In place, for each of `rows` rows of s (row stride ld): s[c] = exp(s[c] - max) / Σ exp(s[j] - max)
/// over c < cols.
void ew_softmax_rows(float *s, size_t rows, size_t cols, size_t ld);

/// In place: x[r * cols + c] = act(x[r * cols + c] + bias[c]) (bias may be NULL):
/// gelu erf 0.5·x·(1 + erf(x/√2)), gelu tanh 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), relu max(x, 0).
void ew_bias_activation(ew_activation kind, float *x, size_t rows, size_t cols, const float *bias);

/// y[i] = f(x[i]) for i < n: the functions the passes above use.
void ew_exp(const float *x, float *y, size_t n);
void ew_erf(const float *x, float *y, size_t n);
void ew_tanh(const float *x, float *y, size_t n);

/// The target the functions run ("avx512", "avx2" or "baseline").
const char *ew_target(void);

/// Makes the functions run `target` ("avx512", "avx2", "baseline"), for tests that compare the
/// targets; returns 0, or -1 (and changes nothing) when this CPU cannot run it. Not thread-safe
/// against calls running at the same time.
int ew_use_target(const char *target);

#endif
