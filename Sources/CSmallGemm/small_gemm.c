// See include/small_gemm.h. Compiled for AVX2+FMA function by function (the target attribute), so
// the rest of the package stays portable and small_gemm_available() decides at run time.
#include "small_gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>

int small_gemm_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/// The lane sums of a, b, c and d, in that order.
INLINE TARGET __m128 sum4(__m256 a, __m256 b, __m256 c, __m256 d) {
    __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d);
    __m256 abcd = _mm256_hadd_ps(ab, cd);
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

/// Finishes R x C outputs from their accumulators: lane sums, the k % 8 tail, bias, store.
/// A column's arithmetic is the same whatever R and C (absent columns are summed as zeros).
INLINE TARGET void finish(const int R, const int C, __m256 acc[3][4], size_t i, size_t k, const float *x,
                          size_t ldx, const float *w, const float *bias, float *y, size_t ldy) {
    const __m256 z = _mm256_setzero_ps();
    for (int r = 0; r < R; r++) {
        float s[4];
        _mm_storeu_ps(s, sum4(acc[r][0], C > 1 ? acc[r][1] : z, C > 2 ? acc[r][2] : z, C > 3 ? acc[r][3] : z));
        for (int c = 0; c < C; c++) {
            float t = s[c];
            for (size_t j = i; j < k; j++) t += x[r * ldx + j] * w[c * k + j];
            y[r * ldy + c] = bias ? t + bias[c] : t;
        }
    }
}

/// The 3 x 4 block, written out so its 12 accumulators, 3 rows of x and one row of w fill the
/// 16 registers exactly; w is streamed, x is reused from L1.
INLINE TARGET void block3x4(size_t k, const float *x, size_t ldx, const float *w, const float *bias,
                            float *y, size_t ldy) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
    __m256 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    __m256 a20 = a00, a21 = a00, a22 = a00, a23 = a00;
    const float *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx;
    const float *w0 = w, *w1 = w + k, *w2 = w + 2 * k, *w3 = w + 3 * k;
    size_t i = 0;
    for (; i + 8 <= k; i += 8) {
        __m256 v0 = _mm256_loadu_ps(x0 + i), v1 = _mm256_loadu_ps(x1 + i), v2 = _mm256_loadu_ps(x2 + i);
        __m256 wv = _mm256_loadu_ps(w0 + i);
        a00 = _mm256_fmadd_ps(v0, wv, a00), a10 = _mm256_fmadd_ps(v1, wv, a10), a20 = _mm256_fmadd_ps(v2, wv, a20);
        wv = _mm256_loadu_ps(w1 + i);
        a01 = _mm256_fmadd_ps(v0, wv, a01), a11 = _mm256_fmadd_ps(v1, wv, a11), a21 = _mm256_fmadd_ps(v2, wv, a21);
        wv = _mm256_loadu_ps(w2 + i);
        a02 = _mm256_fmadd_ps(v0, wv, a02), a12 = _mm256_fmadd_ps(v1, wv, a12), a22 = _mm256_fmadd_ps(v2, wv, a22);
        wv = _mm256_loadu_ps(w3 + i);
        a03 = _mm256_fmadd_ps(v0, wv, a03), a13 = _mm256_fmadd_ps(v1, wv, a13), a23 = _mm256_fmadd_ps(v2, wv, a23);
    }
    __m256 acc[3][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}, {a20, a21, a22, a23}};
    finish(3, 4, acc, i, k, x, ldx, w, bias, y, ldy);
}

/// Any R x C block with R <= 3, C <= 4 (the edges); the constants unroll it.
INLINE TARGET void block(const int R, const int C, size_t k, const float *x, size_t ldx, const float *w,
                         const float *bias, float *y, size_t ldy) {
    __m256 acc[3][4];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= k; i += 8) {
        __m256 v[3];
        for (int r = 0; r < R; r++) v[r] = _mm256_loadu_ps(x + r * ldx + i);
        for (int c = 0; c < C; c++) {
            __m256 wv = _mm256_loadu_ps(w + c * k + i);
            for (int r = 0; r < R; r++) acc[r][c] = _mm256_fmadd_ps(v[r], wv, acc[r][c]);
        }
    }
    finish(R, C, acc, i, k, x, ldx, w, bias, y, ldy);
}

/// All n rows against C columns of w: 3 rows at a time, then the 1 or 2 left.
#define ROWS(C, FULL)                                                                                     \
    do {                                                                                                  \
        size_t r = 0;                                                                                     \
        for (; r + 3 <= n; r += 3) FULL;                                                                  \
        if (n - r == 2) block(2, C, k, x + r * ldx, ldx, wc, bc, y + r * ldy + c, ldy);                   \
        else if (n - r == 1) block(1, C, k, x + r * ldx, ldx, wc, bc, y + r * ldy + c, ldy);              \
    } while (0)

// Columns outside, rows inside: four rows of w (24 KB at k = 1536) stay in L1 while every row of
// x passes, so w is read from memory once per call; x (n rows) stays in L1/L2.
TARGET void small_gemm_nt(size_t n, size_t m, size_t k, const float *x, size_t ldx, const float *w,
                          const float *bias, float *y, size_t ldy) {
    size_t c = 0;
    for (; c + 4 <= m; c += 4) {
        const float *wc = w + c * k, *bc = bias ? bias + c : NULL;
        ROWS(4, block3x4(k, x + r * ldx, ldx, wc, bc, y + r * ldy + c, ldy));
    }
    const float *wc = w + c * k, *bc = bias ? bias + c : NULL;
    switch (m - c) {
    case 3: ROWS(3, block(3, 3, k, x + r * ldx, ldx, wc, bc, y + r * ldy + c, ldy)); break;
    case 2: ROWS(2, block(3, 2, k, x + r * ldx, ldx, wc, bc, y + r * ldy + c, ldy)); break;
    case 1: ROWS(1, block(3, 1, k, x + r * ldx, ldx, wc, bc, y + r * ldy + c, ldy)); break;
    default: break;
    }
}

#else

int small_gemm_available(void) { return 0; }

void small_gemm_nt(size_t n, size_t m, size_t k, const float *x, size_t ldx, const float *w,
                   const float *bias, float *y, size_t ldy) {
    (void)n, (void)m, (void)k, (void)x, (void)ldx, (void)w, (void)bias, (void)y, (void)ldy;
    __builtin_trap();  // callers check small_gemm_available() first
}

#endif
