/* OpenBLAS sgemm throughput at the shapes of all-MiniLM-L6-v2's linear layers.
 *
 * and, up to 64 rows, of CSmallGemm's kernel (Sources/CSmallGemm), which the runtime uses for linear
 * layers of few rows instead of OpenBLAS.
 *
 * Built and run by `Scripts/bench --gemm` (once with OPENBLAS_NUM_THREADS=1, once with 2):
 *   clang -O2 Scripts/bench-gemm.c Sources/CSmallGemm/small_gemm.c -ISources/CSmallGemm/include \
 *     $(pkg-config --cflags --libs openblas) -o bench-gemm
 *
 * Layout as the runtime uses it: activations X (M, K) row-major, PyTorch Linear weight
 * W (N, K) row-major used in place with CblasTrans, Y (M, N) = X · Wᵀ.
 * M = tokens in one call; (N, K) = QKV (1152, 384), attention output (384, 384),
 * FFN up (1536, 384), FFN down (384, 1536).  FLOP = 2·M·N·K.
 *
 * Each shape: one warm-up call, then timed batches of calls, each batch at least
 * 0.1 s long; the median of 5 batches is printed as one JSON line:
 *   {"kernel":"openblas","m":256,"n":1152,"k":384,"threads":2,"us_per_call":...,"gflops":...}
 * CSmallGemm's rows ("kernel":"small", always one thread) come with the one-thread OpenBLAS run.
 */
#include <cblas.h>
#include "small_gemm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *filled(size_t count, unsigned seed) {
    float *p = malloc(count * sizeof(float));
    if (!p) { fprintf(stderr, "bench-gemm: out of memory for %zu floats\n", count); exit(1); }
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1664525u + 1013904223u;            /* LCG: values in [-0.5, 0.5) */
        p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

/* Y (M, N) = X (M, K) · W (N, K)ᵀ, on OpenBLAS (small = 0) or CSmallGemm (small = 1) */
static void gemm(int small, int m, int n, int k, const float *x, const float *w, float *y) {
    if (small) small_gemm_nt((size_t)m, (size_t)n, (size_t)k, x, (size_t)k, w, NULL, y, (size_t)n);
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k, w, k, 0.0f, y, n);
}

int main(int argc, char **argv) {
    static const int ms[] = {1, 16, 32, 64, 256, 2048};
    static const int nks[][2] = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}};
    enum { BATCHES = 5 };
    double min_batch_s = argc > 1 ? atof(argv[1]) : 0.1;

    for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++) {
        for (size_t si = 0; si < sizeof nks / sizeof nks[0]; si++) {
          for (int small = 0; small < 2; small++) {
            int m = ms[mi], n = nks[si][0], k = nks[si][1];
            if (small && (m > 64 || !small_gemm_available() || openblas_get_num_threads() != 1)) continue;
            float *x = filled((size_t)m * k, 1), *w = filled((size_t)n * k, 2), *y = filled((size_t)m * n, 3);
            gemm(small, m, n, k, x, w, y);                 /* warm-up: page faults, thread start */
            /* calls per batch so that one batch lasts at least min_batch_s */
            int calls = 1;
            for (;;) {
                double t0 = now();
                for (int c = 0; c < calls; c++) gemm(small, m, n, k, x, w, y);
                if (now() - t0 >= min_batch_s) break;
                calls *= 2;
            }
            double per_call[BATCHES];
            for (int b = 0; b < BATCHES; b++) {
                double t0 = now();
                for (int c = 0; c < calls; c++) gemm(small, m, n, k, x, w, y);
                per_call[b] = (now() - t0) / calls;
            }
            qsort(per_call, BATCHES, sizeof per_call[0], cmp_double);
            double median = per_call[BATCHES / 2];
            printf("{\"kernel\":\"%s\",\"m\":%d,\"n\":%d,\"k\":%d,\"threads\":%d,\"us_per_call\":%.2f,\"gflops\":%.2f,\"checksum\":%.4g}\n",
                   small ? "small" : "openblas", m, n, k, small ? 1 : openblas_get_num_threads(), median * 1e6,
                   2.0 * m * n * k / median * 1e-9, (double)y[0]);
            fflush(stdout);
            free(x); free(w); free(y);
          }
        }
    }
    return 0;
}
