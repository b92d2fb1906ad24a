// int8 GEMM candidates against OpenBLAS sgemm at all-MiniLM-L6-v2's linear-layer shapes (issue 17:
// "through oneDNN if that measures faster: choose by the benchmark").
//
//   Y(M, N) = X(M, K) · W(N, K)ᵀ, X the activations, W a PyTorch Linear weight (N, K) row-major.
//   f32:   OpenBLAS cblas_sgemm, W used in place (CblasTrans) as the runtime does.
//   u8s8:  oneDNN matmul, X quantized to u8 (dynamic, per tensor here), W to s8 per output channel,
//          s32 accumulation; the primitive is created once and W reordered once into the layout
//          the primitive asks for (format "any"), as a runtime would at load. Timed: the matmul alone.
//
// One thread each (OPENBLAS_NUM_THREADS=1, DNNL/OMP threads 1), median of 5 timed batches of at least
// 0.1 s, one JSON line per (kernel, shape). Needs Debian's libdnnl-dev (oneDNN 2.6) and libopenblas-dev:
//   clang++ -O2 -std=c++17 Scripts/bench-int8-gemm.cpp $(pkg-config --cflags --libs openblas) -ldnnl -o bench-int8-gemm
//   OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 ./bench-int8-gemm
// A benchmark, not a test. The oneDNN ISA it dispatched to is printed (ONEDNN_VERBOSE=1 shows more).
#include <cblas.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

using namespace dnnl;

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median over 5 batches of the microseconds per call; each batch runs for at least 0.1 s.
static double time_us(const std::function<void()> &call) {
    call();
    std::vector<double> batches;
    for (int b = 0; b < 5; b++) {
        int calls = 0;
        double start = now(), end;
        do { call(); calls++; end = now(); } while (end - start < 0.1);
        batches.push_back(1e6 * (end - start) / calls);
    }
    std::sort(batches.begin(), batches.end());
    return batches[2];
}

int main() {
    const int shapes[][2] = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}};
    const int rows[] = {16, 64, 256, 1024};
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.f, 1.f);
    engine eng(engine::kind::cpu, 0);
    stream str(eng);
    std::printf("{\"onednn\":\"%d.%d.%d\",\"isa\":%d}\n", dnnl_version()->major, dnnl_version()->minor,
                dnnl_version()->patch, (int)get_effective_cpu_isa());
    for (auto &nk : shapes) {
        const int N = nk[0], K = nk[1];
        std::vector<float> w(size_t(N) * K);
        for (auto &v : w) v = 0.05f * normal(rng);
        // Weights per output channel to s8 (symmetric).
        std::vector<int8_t> wq(w.size());
        for (int n = 0; n < N; n++) {
            float amax = 0;
            for (int k = 0; k < K; k++) amax = std::max(amax, std::abs(w[size_t(n) * K + k]));
            float s = amax > 0 ? 127.f / amax : 1.f;
            for (int k = 0; k < K; k++) wq[size_t(n) * K + k] = int8_t(std::lround(w[size_t(n) * K + k] * s));
        }
        for (int M : rows) {
            std::vector<float> x(size_t(M) * K), y(size_t(M) * N);
            for (auto &v : x) v = normal(rng);
            double f32 = time_us([&] {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.f, x.data(), K, w.data(), K, 0.f, y.data(), N);
            });
            double flop = 2.0 * M * N * K;
            std::printf("{\"kernel\":\"openblas_f32\",\"m\":%d,\"n\":%d,\"k\":%d,\"us_per_call\":%.2f,\"gops\":%.1f}\n",
                        M, N, K, f32, flop / f32 / 1e3);

            // oneDNN u8 x s8 -> s32: src (M, K) u8, weights (K, N) s8 (W transposed), dst s32.
            std::vector<uint8_t> xq(x.size());
            for (size_t i = 0; i < x.size(); i++) xq[i] = uint8_t(std::clamp(std::lround(x[i] * 30.f) + 128, 0l, 255l));
            memory::desc src_md({M, K}, memory::data_type::u8, memory::format_tag::ab);
            memory::desc wei_any({K, N}, memory::data_type::s8, memory::format_tag::any);
            memory::desc wei_user({K, N}, memory::data_type::s8, memory::format_tag::ba);  // W (N, K) row-major
            memory::desc dst_md({M, N}, memory::data_type::s32, memory::format_tag::ab);
            primitive_attr attr;
            attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
            auto pd = matmul::primitive_desc(matmul::desc(src_md, wei_any, dst_md), attr, eng);
            memory src(src_md, eng, xq.data()), user_w(wei_user, eng, wq.data());
            memory wei(pd.weights_desc(), eng), dst(dst_md, eng);
            reorder(user_w, wei).execute(str, user_w, wei);
            int32_t zp = 128;
            memory zp_mem({{1}, memory::data_type::s32, memory::format_tag::x}, eng, &zp);
            matmul mm(pd);
            double u8s8 = time_us([&] {
                mm.execute(str, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst},
                                 {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zp_mem}});
                str.wait();
            });
            std::printf("{\"kernel\":\"onednn_u8s8s32\",\"m\":%d,\"n\":%d,\"k\":%d,\"us_per_call\":%.2f,\"gops\":%.1f,"
                        "\"vs_f32\":%.2f,\"impl\":\"%s\"}\n", M, N, K, u8s8, flop / u8s8 / 1e3, f32 / u8s8, pd.impl_info_str());
        }
    }
    return 0;
}
