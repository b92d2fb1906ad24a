// How fast this machine's cores read a buffer the size of a model's packed FP32 weights, for the
// limit of one text per call: a short text multiplies every weight matrix by a few rows, so each
// text streams all the weights once (42 MB for all-MiniLM-L6-v2), from the cache shared by the
// cores or from memory. Reads `MB` megabytes (default 42) in full passes, split in contiguous
// halves between T threads (1, then 2), and prints one JSON line with the best rate of each and
// the time one pass takes on the two: no text per call can be faster than that.
//   cc -O2 -mavx2 Scripts/bench-bandwidth.c -lpthread -o bench-bandwidth && ./bench-bandwidth [MB]
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

enum { PASSES = 40, MAX_THREADS = 2 };

struct share {
    const float *data;
    size_t count;
    pthread_barrier_t *barrier;
    double best;  // seconds of the fastest pass (thread 0)
    float sink;
};

/// Sums its share of the buffer, PASSES times, every pass started together with the other threads.
static void *reader(void *argument) {
    struct share *s = argument;
    __m256 sum = _mm256_setzero_ps();
    s->best = 1e9;
    for (int pass = 0; pass < PASSES; pass++) {
        pthread_barrier_wait(s->barrier);
        double start = now();
        __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
        for (size_t i = 0; i + 32 <= s->count; i += 32) {
            a = _mm256_add_ps(a, _mm256_load_ps(s->data + i));
            b = _mm256_add_ps(b, _mm256_load_ps(s->data + i + 8));
            c = _mm256_add_ps(c, _mm256_load_ps(s->data + i + 16));
            d = _mm256_add_ps(d, _mm256_load_ps(s->data + i + 24));
        }
        sum = _mm256_add_ps(sum, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
        pthread_barrier_wait(s->barrier);
        double seconds = now() - start;
        if (seconds < s->best) s->best = seconds;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    s->sink = lanes[0];
    return NULL;
}

/// Best seconds of one pass over `count` floats shared by `threads`.
static double pass_seconds(const float *data, size_t count, int threads) {
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads);
    struct share shares[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    size_t part = count / (size_t)threads / 32 * 32;
    for (int t = 0; t < threads; t++) {
        shares[t] = (struct share){.data = data + (size_t)t * part, .count = part, .barrier = &barrier};
        if (t > 0) pthread_create(&ids[t], NULL, reader, &shares[t]);
    }
    reader(&shares[0]);
    for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
    pthread_barrier_destroy(&barrier);
    return shares[0].best;
}

int main(int argc, char **argv) {
    double megabytes = argc > 1 ? atof(argv[1]) : 42;
    size_t count = (size_t)(megabytes * 1e6 / sizeof(float)) / 64 * 64;
    float *data = aligned_alloc(64, count * sizeof(float));
    if (!data || count == 0) { fprintf(stderr, "bench-bandwidth: cannot allocate %.0f MB\n", megabytes); return 1; }
    for (size_t i = 0; i < count; i++) data[i] = (float)(i & 7);
    double one = pass_seconds(data, count, 1), two = pass_seconds(data, count, 2);
    double bytes = (double)count * sizeof(float);
    printf("{\"mb\": %.1f, \"gb_per_s_1_thread\": %.1f, \"gb_per_s_2_threads\": %.1f, \"ms_per_pass_2_threads\": %.3f}\n",
           bytes / 1e6, bytes / one / 1e9, bytes / two / 1e9, two * 1e3);
    free(data);
    return 0;
}
