// See include/elementwise.h.
#include "elementwise.h"

#include <math.h>
#include <string.h>

// Every target must give the same values: no multiply-add is ever fused.
#pragma STDC FP_CONTRACT OFF
// Every function taking or returning a vector is always inlined, so no call passes one and the
// AVX2 ABI of 64-byte vectors that clang warns about never applies.
#pragma clang diagnostic ignored "-Wpsabi"

enum { LANES = 16 };
typedef float vf __attribute__((vector_size(64)));
typedef int vi __attribute__((vector_size(64)));

// Written as macros, and load/store once per target in elementwise_body.h: a function taking or
// returning a 64-byte vector must be compiled for the target that calls it (the ABI differs).
#define splat(x) ((vf){0} + (float)(x))
#define lane_index() ((vf){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
/// a where mask is set, else b.
#define blend(mask, a, b) ((vf)(((mask) & (vi)(a)) | (~(mask) & (vi)(b))))

#define NAME(f) f##_baseline
#include "elementwise_body.h"
#undef NAME

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define NAME(f) f##_avx2
#include "elementwise_body.h"
#undef NAME
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl"))), apply_to = function)
#define NAME(f) f##_avx512
#include "elementwise_body.h"
#undef NAME
#pragma clang attribute pop
#endif

typedef struct {
    const char *name;
    void (*softmax_rows)(float *, size_t, size_t, size_t);
    void (*bias_activation)(ew_activation, float *, size_t, size_t, const float *);
    void (*map)(int, const float *, float *, size_t);
} target;

static const target baseline = {"baseline", softmax_rows_baseline, bias_activation_baseline, map_baseline};
#if defined(__x86_64__)
static const target avx2 = {"avx2", softmax_rows_avx2, bias_activation_avx2, map_avx2};
static const target avx512 = {"avx512", softmax_rows_avx512, bias_activation_avx512, map_avx512};
#endif

/// Whether this CPU runs `t`.
static int runs(const target *t) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (t == &avx512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl");
    if (t == &avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return t == &baseline;
}

static const target *chosen;

static const target *current(void) {
    const target *t = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (t) return t;
    t = &baseline;
#if defined(__x86_64__)
    if (runs(&avx512)) t = &avx512;
    else if (runs(&avx2)) t = &avx2;
#endif
    __atomic_store_n(&chosen, t, __ATOMIC_RELEASE);  // every thread that races here stores the same
    return t;
}

void ew_softmax_rows(float *s, size_t rows, size_t cols, size_t ld) { current()->softmax_rows(s, rows, cols, ld); }

void ew_bias_activation(ew_activation kind, float *x, size_t rows, size_t cols, const float *bias) {
    current()->bias_activation(kind, x, rows, cols, bias);
}

void ew_exp(const float *x, float *y, size_t n) { current()->map(0, x, y, n); }
void ew_erf(const float *x, float *y, size_t n) { current()->map(1, x, y, n); }
void ew_tanh(const float *x, float *y, size_t n) { current()->map(2, x, y, n); }

const char *ew_target(void) { return current()->name; }

int ew_use_target(const char *name) {
    const target *all[] = {
#if defined(__x86_64__)
        &avx512, &avx2,
#endif
        &baseline};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(all[i]->name, name) != 0) continue;
        if (!runs(all[i])) return -1;
        __atomic_store_n(&chosen, all[i], __ATOMIC_RELEASE);
        return 0;
    }
    return -1;
}
