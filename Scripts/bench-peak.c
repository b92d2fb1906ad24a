// The FP32 rate this machine reaches on one core, for Scripts/bench's "% of the FP32 peak": the
// best of oneDNN's f32 matmul (the brgemm kernels the runtime's linear layers run on, weights packed
// once as at load) over all-MiniLM-L6-v2's two FFN shapes at 256 rows, one thread. Prints one JSON
// line {"gflop_per_s": best, "implementation": ...}. A measurement, not a theoretical FMA count:
// it is what the machine's kernels reach, whatever the CPU.
//   clang -O2 Scripts/bench-peak.c -ldnnl -lgomp -o bench-peak && ./bench-peak
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void omp_set_num_threads(int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define CHECK(call) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { fprintf(stderr, "bench-peak: %s failed (%d)\n", #call, (int)s_); exit(1); } } while (0)

/// Best GFLOP/s of [m x k] · [k x n] over 5 timed batches of at least 0.1 s.
static double rate(dnnl_engine_t engine, dnnl_stream_t stream, dnnl_dim_t m, dnnl_dim_t k, dnnl_dim_t n, char *impl, size_t impl_size) {
    dnnl_memory_desc_t src, weights, dst;
    dnnl_dims_t sd = {m, k}, wd = {k, n}, dd = {m, n};
    CHECK(dnnl_memory_desc_init_by_tag(&src, 2, sd, dnnl_f32, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&weights, 2, wd, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&dst, 2, dd, dnnl_f32, dnnl_ab));
    dnnl_matmul_desc_t desc;
    CHECK(dnnl_matmul_desc_init(&desc, &src, &weights, NULL, &dst));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, engine, NULL));
    const char *name = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
    snprintf(impl, impl_size, "%s", name ? name : "?");
    const dnnl_memory_desc_t *packed = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_t matmul;
    CHECK(dnnl_primitive_create(&matmul, pd));
    dnnl_memory_t a, b, c;
    CHECK(dnnl_memory_create(&a, &src, engine, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&b, packed, engine, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&c, &dst, engine, DNNL_MEMORY_ALLOCATE));
    void *handle;
    CHECK(dnnl_memory_get_data_handle(a, &handle));
    for (dnnl_dim_t i = 0; i < m * k; i++) ((float *)handle)[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    CHECK(dnnl_memory_get_data_handle(b, &handle));
    memset(handle, 0, dnnl_memory_desc_get_size(packed));
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
    double best = 0;
    for (int batch = 0; batch < 6; batch++) {  // the first batch warms up
        double start = now(), elapsed;
        long calls = 0;
        do {
            CHECK(dnnl_primitive_execute(matmul, stream, 3, args));
            CHECK(dnnl_stream_wait(stream));
            calls++;
        } while ((elapsed = now() - start) < 0.1);
        double gflops = 2.0 * m * k * n * calls / elapsed / 1e9;
        if (batch > 0 && gflops > best) best = gflops;
    }
    dnnl_memory_destroy(a);
    dnnl_memory_destroy(b);
    dnnl_memory_destroy(c);
    dnnl_primitive_destroy(matmul);
    dnnl_primitive_desc_destroy(pd);
    return best;
}

int main(void) {
    omp_set_num_threads(1);
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    char impl[64];
    double up = rate(engine, stream, 256, 384, 1536, impl, sizeof impl);
    double down = rate(engine, stream, 256, 1536, 384, impl, sizeof impl);
    printf("{\"gflop_per_s\": %.1f, \"implementation\": \"%s\"}\n", up > down ? up : down, impl);
    return 0;
}
