// int8 linear layers: u8 activations times s8 weights with int32 accumulation, on oneDNN's matmul.
//
// Debian's oneDNN 2.6 (libdnnl-dev) dispatches its u8·s8→s32 matmul to brgemm kernels that use
// VNNI where the CPU has it (avx512_core_vnni on a Zen 4: 3.0-7.4x OpenBLAS sgemm per thread at
// MiniLM's shapes; Scripts/bench-int8-gemm.cpp, figures in Scripts/BENCHMARKS.md). The weights
// are reordered once, at load, into the blocked layout those kernels read, so nothing is re-packed
// per call. Quantizing the activations and dequantizing the products are this file's own loops.
// Kernels/Int8Gemm.swift is the only caller; Kernels/Reference.swift holds the naive reference.
//
// Dimension letters: M rows (tokens), K input features, N output features (nn.Linear's [N x K]).
#ifndef INT8_GEMM_H
#define INT8_GEMM_H

#include <stddef.h>
#include <stdint.h>

/// The oneDNN matmul primitives of one weight shape [N x K], one per row-block size (1, 2, 4, ...,
/// int8_gemm_max_block_rows), all reading the same packed weights. Immutable once created; safe to
/// run from several threads at once, each with its own int8_gemm_context.
typedef struct int8_gemm_plan int8_gemm_plan;

/// Per-thread state for int8_gemm_run: a oneDNN stream and the scratchpad its kernels need.
typedef struct int8_gemm_context int8_gemm_context;

/// Rows per oneDNN call: a call of M rows runs as blocks of this many, then the binary digits of
/// the rest (so every block size has a primitive created at load and none is created at run time).
size_t int8_gemm_max_block_rows(void);

/// Creates the plan for weights [n x k] writing products with row stride `ldacc` (>= n), or returns
/// NULL and writes why into `error`.
int8_gemm_plan *int8_gemm_plan_create(size_t k, size_t n, size_t ldacc, char *error, size_t error_size);
void int8_gemm_plan_destroy(int8_gemm_plan *plan);

/// Bytes of the packed weights of this plan (the buffer given to int8_gemm_pack and _run).
size_t int8_gemm_packed_size(const int8_gemm_plan *plan);

/// The implementation oneDNN chose (e.g. "brg:avx512_core_vnni"), for reports.
const char *int8_gemm_implementation(const int8_gemm_plan *plan);

/// Packs w [n x k] (row-major s8, nn.Linear's layout) into `packed` (int8_gemm_packed_size bytes).
/// Returns 0, or -1 with the reason in `error`.
int int8_gemm_pack(const int8_gemm_plan *plan, const int8_t *w, void *packed, char *error, size_t error_size);

/// A context for one thread; NULL when oneDNN cannot create a stream.
int8_gemm_context *int8_gemm_context_create(void);
void int8_gemm_context_destroy(int8_gemm_context *context);

/// acc[r * ldacc + c] = Σ_i xq[r * k + i] · w[c][i] for r < m, c < n (exact int32 arithmetic),
/// w being the weights given to int8_gemm_pack. `acc` may be the memory of a float output that
/// int8_gemm_dequantize then overwrites in place. One thread (the caller's). Returns 0, or -1 when
/// oneDNN fails (it does not on valid arguments).
int int8_gemm_run(const int8_gemm_plan *plan, int8_gemm_context *context, size_t m, const uint8_t *xq,
                  const void *packed, int32_t *acc, size_t ldacc);

/// Per-row asymmetric quantization to u8: for row r of x [m x k] (row stride ldx), with
/// lo = min(0, min x), hi = max(0, max x): scale[r] = (hi - lo) / 255 (1 when hi == lo),
/// zero[r] = rint(-lo / scale) and xq[r * k + i] = clamp(rint(x / scale) + zero, 0, 255).
/// Zero is exact; a value's error is at most scale / 2.
void int8_quantize_rows(size_t m, size_t k, const float *x, size_t ldx, uint8_t *xq, float *scale, int32_t *zero);

/// In place, for r < m and c < n: y[r * ldy + c] = float(acc - zero[r] · colsum[c]) · scale[r] ·
/// wscale[c] (+ bias[c]), where acc is the int32 read from the same place (the output of
/// int8_gemm_run with ldacc = ldy) and colsum[c] = Σ_i w[c][i].
void int8_dequantize(size_t m, size_t n, void *y, size_t ldy, const float *scale, const int32_t *zero,
                     const float *wscale, const int32_t *colsum, const float *bias);

#endif
