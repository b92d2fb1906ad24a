// See include/packed_gemm.h.
#if !__has_include(<oneapi/dnnl/dnnl.h>)
#error "oneDNN's headers are missing: run Scripts/bootstrap (it installs Debian's libdnnl-dev)"
#endif
#include "packed_gemm.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <oneapi/dnnl/dnnl.h>

// The vector loops below must give the scalar loops' results bit for bit (the tests compare both
// with the naive reference exactly), so no multiply-add is ever fused.
#pragma STDC FP_CONTRACT OFF

// Debian builds oneDNN on OpenMP. Every call here runs on one thread, the caller's: the runtime
// shares work between its own threads (Kernels/ThreadTeam), which must never be combined with
// OpenMP's. The thread count is per calling thread in libgomp, so it is set on every call, and
// before a primitive is created too: oneDNN fixes a primitive's thread count when it creates it
// (created at two threads, every call woke an OpenMP thread: one text per call ran at 0.48x ONNX
// Runtime's rate, 190 texts/s on 700 sentences against 232 after).
extern void omp_set_num_threads(int);

enum { BLOCK_SIZES = 9 };                   // 1, 2, 4, ..., 256 rows
static const size_t max_block_rows = 256;   // 64 rows per call lose ~7 % against 256 (bench-int8-gemm)
// A call of up to this many rows (one short text) runs as one primitive of exactly that many rows
// instead of the binary digits of the count: each block streams the whole weight matrix again, and
// 11 rows as 8 + 2 + 1 took 4.1 ms for the 36 layers of all-MiniLM-L6-v2 in f32 against 2.3 ms in
// one call (0.84 against 0.58 ms in int8; thread CPU time, one thread). Each costs ~0.25 ms and
// 60-110 KB when first used, so larger calls keep the binary split of what is left after their
// 256-row blocks (there it is a small share of the work): exact remainders took the short
// workload's peak RSS from 117 to 145 MB.
enum { EXACT_ROWS = 64 };

size_t packed_gemm_max_block_rows(void) { return max_block_rows; }

static dnnl_engine_t shared_engine;
static dnnl_status_t shared_engine_status = dnnl_runtime_error;
static pthread_once_t shared_engine_once = PTHREAD_ONCE_INIT;
static void create_shared_engine(void) { shared_engine_status = dnnl_engine_create(&shared_engine, dnnl_cpu, 0); }

static dnnl_engine_t engine(void) {
    pthread_once(&shared_engine_once, create_shared_engine);
    return shared_engine_status == dnnl_success ? shared_engine : NULL;
}

struct packed_gemm_plan {
    packed_gemm_kind kind;
    size_t k, n, ldy;
    int bias;
    dnnl_primitive_t primitives[BLOCK_SIZES];  // [b]: blocks of 2^b rows, made at load
    // [m]: exactly m rows (m <= EXACT_ROWS), made on first use under `lock`, read without it
    // (atomic acquire; written once with release). exact_failed[m] is set instead when oneDNN
    // refuses (the blocks then do it).
    dnnl_primitive_t exact[EXACT_ROWS + 1];
    unsigned char exact_failed[EXACT_ROWS + 1];
    pthread_mutex_t lock;
    dnnl_memory_desc_t weights;                 // the packed layout every primitive reads
    char implementation[64];
};

struct packed_gemm_context {
    dnnl_stream_t stream;
    void *scratchpad;
    size_t scratchpad_size;
};

static int fail(char *error, size_t size, const char *what, dnnl_status_t status) {
    if (error && size) snprintf(error, size, "oneDNN: %s failed (dnnl_status_t %d)", what, (int)status);
    return -1;
}

void packed_gemm_plan_destroy(packed_gemm_plan *plan) {
    if (!plan) return;
    for (int b = 0; b < BLOCK_SIZES; b++)
        if (plan->primitives[b]) dnnl_primitive_destroy(plan->primitives[b]);
    for (int m = 0; m <= EXACT_ROWS; m++)
        if (plan->exact[m]) dnnl_primitive_destroy(plan->exact[m]);
    pthread_mutex_destroy(&plan->lock);
    free(plan);
}

/// oneDNN's types of x, W and y for a kind.
static dnnl_data_type_t src_type(packed_gemm_kind kind) { return kind == PACKED_GEMM_INT8 ? dnnl_u8 : dnnl_f32; }
static dnnl_data_type_t weight_type(packed_gemm_kind kind) { return kind == PACKED_GEMM_INT8 ? dnnl_s8 : dnnl_f32; }
static dnnl_data_type_t dst_type(packed_gemm_kind kind) { return kind == PACKED_GEMM_INT8 ? dnnl_s32 : dnnl_f32; }

/// A matmul primitive of exactly m rows for the plan, reading the plan's weight layout (`choose`:
/// choosing it, for the first primitive). Returns NULL with the reason in `error`.
static dnnl_primitive_t create_primitive(packed_gemm_plan *plan, dnnl_dim_t m, int choose, char *error, size_t error_size) {
    dnnl_engine_t eng = engine();
    if (!eng) { fail(error, error_size, "creating the CPU engine", shared_engine_status); return NULL; }
    const size_t k = plan->k, n = plan->n;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t primitive = NULL;
    dnnl_memory_desc_t src, weights, dst, bias_md;
    dnnl_dims_t src_dims = {m, (dnnl_dim_t)k}, weight_dims = {(dnnl_dim_t)k, (dnnl_dim_t)n};
    dnnl_dims_t dst_dims = {m, (dnnl_dim_t)n}, dst_strides = {(dnnl_dim_t)plan->ldy, 1}, bias_dims = {1, (dnnl_dim_t)n};
    dnnl_matmul_desc_t desc;
    dnnl_status_t s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s != dnnl_success) { fail(error, error_size, "creating primitive attributes", s); goto done; }
    if (choose) s = dnnl_memory_desc_init_by_tag(&weights, 2, weight_dims, weight_type(plan->kind), dnnl_format_tag_any);
    else weights = plan->weights;
    if (s != dnnl_success
        || (s = dnnl_memory_desc_init_by_tag(&src, 2, src_dims, src_type(plan->kind), dnnl_ab)) != dnnl_success
        || (s = dnnl_memory_desc_init_by_strides(&dst, 2, dst_dims, dst_type(plan->kind), dst_strides)) != dnnl_success
        || (s = dnnl_memory_desc_init_by_tag(&bias_md, 2, bias_dims, dnnl_f32, dnnl_ab)) != dnnl_success
        || (s = dnnl_matmul_desc_init(&desc, &src, &weights, plan->bias ? &bias_md : NULL, &dst)) != dnnl_success
        || (s = dnnl_primitive_desc_create(&pd, &desc, attr, eng, NULL)) != dnnl_success) {
        fail(error, error_size, plan->kind == PACKED_GEMM_INT8 ? "creating the u8 x s8 -> s32 matmul" : "creating the f32 matmul", s);
        goto done;
    }
    const dnnl_memory_desc_t *chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if (choose) {
        plan->weights = *chosen;
        const char *impl = NULL;
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        snprintf(plan->implementation, sizeof plan->implementation, "%s", impl ? impl : "?");
    } else if (!dnnl_memory_desc_equal(chosen, &plan->weights)) {
        // Every row count must read the one packed copy. Say so rather than pack several.
        if (error && error_size)
            snprintf(error, error_size, "oneDNN chose a different weight layout for %lld rows than for %zu "
                     "at weights [%zu x %zu] (%s); packed weights are not supported on this CPU yet",
                     (long long)m, max_block_rows, n, k, plan->implementation);
        goto done;
    }
    if ((s = dnnl_primitive_create(&primitive, pd)) != dnnl_success) {
        fail(error, error_size, "creating the matmul primitive", s);
        primitive = NULL;
    }
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return primitive;
}

packed_gemm_plan *packed_gemm_plan_create(packed_gemm_kind kind, size_t k, size_t n, size_t ldy, int bias,
                                          char *error, size_t error_size) {
    omp_set_num_threads(1);
    packed_gemm_plan *plan = calloc(1, sizeof *plan);
    if (!plan) { fail(error, error_size, "allocating a plan", dnnl_out_of_memory); return NULL; }
    plan->kind = kind; plan->k = k; plan->n = n; plan->ldy = ldy; plan->bias = bias && kind == PACKED_GEMM_F32;
    pthread_mutex_init(&plan->lock, NULL);
    // The largest block chooses the weight layout; the others are asked to read that one.
    for (int b = BLOCK_SIZES - 1; b >= 0; b--) {
        plan->primitives[b] = create_primitive(plan, (dnnl_dim_t)1 << b, b == BLOCK_SIZES - 1, error, error_size);
        if (!plan->primitives[b]) {
            packed_gemm_plan_destroy(plan);
            return NULL;
        }
    }
    return plan;
}

/// The primitive of exactly m rows (m <= EXACT_ROWS), created on first use; NULL when oneDNN
/// refuses it (then the caller runs blocks).
static dnnl_primitive_t exact_primitive(packed_gemm_plan *plan, size_t m) {
    dnnl_primitive_t primitive = __atomic_load_n(&plan->exact[m], __ATOMIC_ACQUIRE);
    if (primitive || __atomic_load_n(&plan->exact_failed[m], __ATOMIC_ACQUIRE)) return primitive;
    pthread_mutex_lock(&plan->lock);
    primitive = plan->exact[m];
    if (!primitive && !plan->exact_failed[m]) {
        primitive = create_primitive(plan, (dnnl_dim_t)m, 0, NULL, 0);
        if (primitive) __atomic_store_n(&plan->exact[m], primitive, __ATOMIC_RELEASE);
        else __atomic_store_n(&plan->exact_failed[m], 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&plan->lock);
    return primitive;
}

size_t packed_gemm_packed_size(const packed_gemm_plan *plan) { return dnnl_memory_desc_get_size(&plan->weights); }

const char *packed_gemm_implementation(const packed_gemm_plan *plan) { return plan->implementation; }

int packed_gemm_pack(const packed_gemm_plan *plan, const void *w, void *packed, char *error, size_t error_size) {
    omp_set_num_threads(1);
    dnnl_engine_t eng = engine();
    // w [n x k] row-major is the [k x n] matrix the matmul multiplies by, in column-major order (ba).
    dnnl_memory_desc_t user;
    dnnl_dims_t dims = {(dnnl_dim_t)plan->k, (dnnl_dim_t)plan->n};
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t from = NULL, to = NULL;
    dnnl_stream_t stream = NULL;
    dnnl_status_t s;
    int result = -1;
    if ((s = dnnl_memory_desc_init_by_tag(&user, 2, dims, weight_type(plan->kind), dnnl_ba)) != dnnl_success
        || (s = dnnl_reorder_primitive_desc_create(&pd, &user, eng, &plan->weights, eng, NULL)) != dnnl_success
        || (s = dnnl_primitive_create(&reorder, pd)) != dnnl_success
        || (s = dnnl_memory_create(&from, &user, eng, (void *)w)) != dnnl_success
        || (s = dnnl_memory_create(&to, &plan->weights, eng, packed)) != dnnl_success
        || (s = dnnl_stream_create(&stream, eng, dnnl_stream_default_flags)) != dnnl_success) {
        fail(error, error_size, "preparing the weight reorder", s);
        goto done;
    }
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    if ((s = dnnl_primitive_execute(reorder, stream, 2, args)) != dnnl_success || (s = dnnl_stream_wait(stream)) != dnnl_success) {
        fail(error, error_size, "reordering the weights", s);
        goto done;
    }
    result = 0;
done:
    if (stream) dnnl_stream_destroy(stream);
    if (from) dnnl_memory_destroy(from);
    if (to) dnnl_memory_destroy(to);
    if (reorder) dnnl_primitive_destroy(reorder);
    if (pd) dnnl_primitive_desc_destroy(pd);
    return result;
}

packed_gemm_context *packed_gemm_context_create(void) {
    dnnl_engine_t eng = engine();
    if (!eng) return NULL;
    packed_gemm_context *context = calloc(1, sizeof *context);
    if (!context) return NULL;
    if (dnnl_stream_create(&context->stream, eng, dnnl_stream_default_flags) != dnnl_success) {
        free(context);
        return NULL;
    }
    return context;
}

void packed_gemm_context_destroy(packed_gemm_context *context) {
    if (!context) return;
    dnnl_stream_destroy(context->stream);
    free(context->scratchpad);
    free(context);
}

/// One oneDNN call of `primitive`'s rows, growing the context's scratchpad to what it needs.
static int run_primitive(const packed_gemm_plan *plan, dnnl_primitive_t primitive, packed_gemm_context *context,
                         const void *x, const void *packed, const float *bias, void *y) {
    const_dnnl_primitive_desc_t pd;
    const dnnl_memory_desc_t *src_md, *dst_md, *scratch_md, *bias_md;
    dnnl_memory_t src = NULL, weights = NULL, dst = NULL, scratch = NULL, bias_mem = NULL;
    dnnl_engine_t eng = engine();
    int result = -1;
    if (dnnl_primitive_get_primitive_desc(primitive, &pd) != dnnl_success) return -1;
    src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    scratch_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    bias_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1);
    const size_t scratch_size = scratch_md ? dnnl_memory_desc_get_size(scratch_md) : 0;
    if (context->scratchpad_size < scratch_size) {
        void *grown = realloc(context->scratchpad, scratch_size);
        if (!grown) return -1;
        context->scratchpad = grown;
        context->scratchpad_size = scratch_size;
    }
    if (dnnl_memory_create(&src, src_md, eng, (void *)x) != dnnl_success
        || dnnl_memory_create(&weights, &plan->weights, eng, (void *)packed) != dnnl_success
        || dnnl_memory_create(&dst, dst_md, eng, y) != dnnl_success
        || (scratch_size && dnnl_memory_create(&scratch, scratch_md, eng, context->scratchpad) != dnnl_success)
        || (plan->bias && dnnl_memory_create(&bias_mem, bias_md, eng, (void *)bias) != dnnl_success))
        goto done;
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
    int nargs = 3;
    if (scratch) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, scratch};
    if (bias_mem) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, bias_mem};
    if (dnnl_primitive_execute(primitive, context->stream, nargs, args) != dnnl_success
        || dnnl_stream_wait(context->stream) != dnnl_success)
        goto done;
    result = 0;
done:
    if (src) dnnl_memory_destroy(src);
    if (weights) dnnl_memory_destroy(weights);
    if (dst) dnnl_memory_destroy(dst);
    if (scratch) dnnl_memory_destroy(scratch);
    if (bias_mem) dnnl_memory_destroy(bias_mem);
    return result;
}

int packed_gemm_run(packed_gemm_plan *plan, packed_gemm_context *context, size_t m, const void *x,
                    const void *packed, const float *bias, void *y) {
    if (plan->bias != (bias != NULL)) return -1;
    omp_set_num_threads(1);
    dnnl_primitive_t exact = m <= EXACT_ROWS ? exact_primitive(plan, m) : NULL;
    if (exact) return run_primitive(plan, exact, context, x, packed, bias, y);
    const size_t element = 4, input = plan->kind == PACKED_GEMM_INT8 ? 1 : 4;  // bytes
    size_t row = 0;
    while (row < m) {
        const size_t left = m - row;
        int b = BLOCK_SIZES - 1;
        while (((size_t)1 << b) > left) b--;
        if (run_primitive(plan, plan->primitives[b], context, (const char *)x + row * plan->k * input, packed, bias,
                          (char *)y + row * plan->ldy * element) != 0) return -1;
        row += (size_t)1 << b;
    }
    return 0;
}

// ---- Quantization and dequantization: AVX-512 where the CPU has it, else the same arithmetic in scalar.

static void quantize_row_scalar(size_t k, const float *x, uint8_t *q, float inverse, float zero) {
    for (size_t i = 0; i < k; i++) {
        float v = rintf(x[i] * inverse) + zero;
        v = fminf(fmaxf(v, 0.0f), 255.0f);  // fmaxf(NaN, 0) is 0: nothing undefined reaches the cast
        q[i] = (uint8_t)v;
    }
}

static void dequantize_row_scalar(size_t n, void *y, float scale, int32_t zero, const float *wscale,
                                  const int32_t *colsum, const float *bias) {
    for (size_t c = 0; c < n; c++) {
        int32_t acc;
        memcpy(&acc, (char *)y + 4 * c, 4);
        float v = ((float)(acc - zero * colsum[c]) * scale) * wscale[c];
        if (bias) v = v + bias[c];
        memcpy((char *)y + 4 * c, &v, 4);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f")))

/// Whether the CPU has AVX-512F, asked once. Threads may race to ask first: the answer is read and
/// written atomically (every one stores the same), which ThreadSanitizer can see.
static int has_avx512(void) {
    static int known = -1;
    int answer = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (answer < 0) {
        __builtin_cpu_init();
        answer = __builtin_cpu_supports("avx512f") ? 1 : 0;
        __atomic_store_n(&known, answer, __ATOMIC_RELAXED);
    }
    return answer;
}

AVX512 static void min_max_avx512(size_t k, const float *x, float *lo, float *hi) {
    __m512 vlo = _mm512_setzero_ps(), vhi = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= k; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        vlo = _mm512_min_ps(vlo, v);
        vhi = _mm512_max_ps(vhi, v);
    }
    float l = _mm512_reduce_min_ps(vlo), h = _mm512_reduce_max_ps(vhi);
    for (; i < k; i++) { l = fminf(l, x[i]); h = fmaxf(h, x[i]); }
    *lo = l; *hi = h;
}

AVX512 static void quantize_row_avx512(size_t k, const float *x, uint8_t *q, float inverse, float zero) {
    const __m512 vinv = _mm512_set1_ps(inverse), vzero = _mm512_set1_ps(zero);
    const __m512 vmin = _mm512_setzero_ps(), vmax = _mm512_set1_ps(255.0f);
    size_t i = 0;
    for (; i + 16 <= k; i += 16) {
        __m512 v = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vinv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(v, vzero), vmin), vmax);
        _mm_storeu_si128((__m128i *)(q + i), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)));
    }
    quantize_row_scalar(k - i, x + i, q + i, inverse, zero);
}

AVX512 static void dequantize_row_avx512(size_t n, void *y, float scale, int32_t zero, const float *wscale,
                                         const int32_t *colsum, const float *bias) {
    const __m512 vscale = _mm512_set1_ps(scale);
    const __m512i vzero = _mm512_set1_epi32(zero);
    size_t c = 0;
    for (; c + 16 <= n; c += 16) {
        __m512i acc = _mm512_loadu_si512((const char *)y + 4 * c);
        acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(vzero, _mm512_loadu_si512(colsum + c)));
        __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), vscale), _mm512_loadu_ps(wscale + c));
        if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + c));
        _mm512_storeu_ps((float *)((char *)y + 4 * c), v);
    }
    dequantize_row_scalar(n - c, (char *)y + 4 * c, scale, zero, wscale + c, colsum + c, bias ? bias + c : NULL);
}
#else
static int has_avx512(void) { return 0; }
#endif

static void min_max_scalar(size_t k, const float *x, float *lo, float *hi) {
    float l = 0.0f, h = 0.0f;
    for (size_t i = 0; i < k; i++) { l = fminf(l, x[i]); h = fmaxf(h, x[i]); }
    *lo = l; *hi = h;
}

void int8_quantize_rows(size_t m, size_t k, const float *x, size_t ldx, uint8_t *xq, float *scale, int32_t *zero) {
    const int vector = has_avx512();
    for (size_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;
        float lo, hi;
#if defined(__x86_64__)
        if (vector) min_max_avx512(k, row, &lo, &hi); else
#endif
        min_max_scalar(k, row, &lo, &hi);
        float s = (hi - lo) / 255.0f;
        if (!(s > 0.0f) || !isfinite(s)) s = 1.0f;  // all zeros (or a NaN/inf row: garbage in, no crash)
        const float inverse = 1.0f / s;
        float z = rintf(-lo * inverse);
        z = fminf(fmaxf(z, 0.0f), 255.0f);
        scale[r] = s;
        zero[r] = (int32_t)z;
#if defined(__x86_64__)
        if (vector) { quantize_row_avx512(k, row, xq + r * k, inverse, z); continue; }
#endif
        quantize_row_scalar(k, row, xq + r * k, inverse, z);
    }
}

void int8_dequantize(size_t m, size_t n, void *y, size_t ldy, const float *scale, const int32_t *zero,
                     const float *wscale, const int32_t *colsum, const float *bias) {
    const int vector = has_avx512();
    for (size_t r = 0; r < m; r++) {
        void *row = (char *)y + 4 * r * ldy;
#if defined(__x86_64__)
        if (vector) { dequantize_row_avx512(n, row, scale[r], zero[r], wscale, colsum, bias); continue; }
#endif
        dequantize_row_scalar(n, row, scale[r], zero[r], wscale, colsum, bias);
    }
}
