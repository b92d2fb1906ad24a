// Linear layers on weights packed once, at load, on oneDNN's matmul (Debian's libdnnl-dev, 2.6):
//
//   PACKED_GEMM_F32:  y = x · Wᵀ (+ b), all float;
//   PACKED_GEMM_INT8: acc = xq · Wqᵀ, u8 activations times s8 weights, exact int32 sums.
//
// OpenBLAS re-packs W on every sgemm call; these kernels read W in the blocked layout oneDNN's
// brgemm kernels want, made once (AVX-512, and VNNI for int8, on the Zen 4 measured: f32 1.1x
// OpenBLAS at 256+ rows and 1.5-2.6x at 8-32; int8 3-7x; Scripts/bench-int8-gemm.cpp and
// Scripts/BENCHMARKS.md). Quantizing activations and dequantizing int8 products are this file's
// own loops. Kernels/PackedGemm.swift is the only caller; Kernels/Reference.swift holds the
// naive references.
//
// Dimension letters: M rows (tokens), K input features, N output features (nn.Linear's [N x K]).
#ifndef PACKED_GEMM_H
#define PACKED_GEMM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { PACKED_GEMM_F32 = 0, PACKED_GEMM_INT8 = 1 } packed_gemm_kind;

/// The oneDNN matmul primitives of one weight shape [N x K] and output row stride, all reading the
/// same packed weights: one per row-block size (1, 2, 4, ..., packed_gemm_max_block_rows), made
/// at load, and one per call size up to 64 rows, made when first run. Safe to run from several threads
/// at once, each with its own packed_gemm_context.
typedef struct packed_gemm_plan packed_gemm_plan;

/// Per-thread state for packed_gemm_run: a oneDNN stream and the scratchpad its kernels need.
typedef struct packed_gemm_context packed_gemm_context;

/// Rows per oneDNN call: a call of M rows runs as one primitive of exactly M rows when M <= 64 (made
/// on first use), else as blocks of this many and the binary digits of the rest.
size_t packed_gemm_max_block_rows(void);

/// Creates the plan for weights [n x k] writing output rows `ldy` elements apart (>= n), with a
/// bias [n] added by the product when `bias` is 1 (f32 only), or returns NULL and writes why
/// into `error`.
packed_gemm_plan *packed_gemm_plan_create(packed_gemm_kind kind, size_t k, size_t n, size_t ldy, int bias,
                                          char *error, size_t error_size);
void packed_gemm_plan_destroy(packed_gemm_plan *plan);

/// Bytes of the packed weights of this plan (the buffer given to packed_gemm_pack and _run).
size_t packed_gemm_packed_size(const packed_gemm_plan *plan);

/// The implementation oneDNN chose (e.g. "brg:avx512_core_vnni"), for reports.
const char *packed_gemm_implementation(const packed_gemm_plan *plan);

/// Packs w [n x k] (row-major, nn.Linear's layout; float for F32, int8_t for INT8) into `packed`
/// (packed_gemm_packed_size bytes). Returns 0, or -1 with the reason in `error`.
int packed_gemm_pack(const packed_gemm_plan *plan, const void *w, void *packed, char *error, size_t error_size);

/// A context for one thread; NULL when oneDNN cannot create a stream.
packed_gemm_context *packed_gemm_context_create(void);
void packed_gemm_context_destroy(packed_gemm_context *context);

/// y[r * ldy + c] = Σ_i x[r * k + i] · w[c][i] (+ bias[c]) for r < m, c < n, w being the weights
/// given to packed_gemm_pack: x float and y float for F32 (bias given iff the plan has one); x
/// uint8_t and y int32_t (exact) for INT8, whose y may be the memory of a float output that
/// int8_dequantize then overwrites in place. One thread (the caller's). Returns 0, or -1 when
/// oneDNN fails (it does not on valid arguments).
int packed_gemm_run(packed_gemm_plan *plan, packed_gemm_context *context, size_t m, const void *x,
                    const void *packed, const float *bias, void *y);

/// Per-row asymmetric quantization to u8: for row r of x [m x k] (row stride ldx), with
/// lo = min(0, min x), hi = max(0, max x): scale[r] = (hi - lo) / 255 (1 when hi == lo),
/// zero[r] = rint(-lo / scale) and xq[r * k + i] = clamp(rint(x · (1 / scale)) + zero, 0, 255).
/// Zero is exact; a value's error is at most scale / 2.
void int8_quantize_rows(size_t m, size_t k, const float *x, size_t ldx, uint8_t *xq, float *scale, int32_t *zero);

/// In place, for r < m and c < n: y[r * ldy + c] = float(acc - zero[r] · colsum[c]) · scale[r] ·
/// wscale[c] (+ bias[c]), where acc is the int32 read from the same place (the output of
/// packed_gemm_run) and colsum[c] = Σ_i w[c][i].
void int8_dequantize(size_t m, size_t n, void *y, size_t ldy, const float *scale, const int32_t *zero,
                     const float *wscale, const int32_t *colsum, const float *bias);

#endif
