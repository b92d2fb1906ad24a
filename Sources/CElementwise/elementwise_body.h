// The kernels of elementwise.c, included once per target with NAME(f) giving each function its
// target's name. Vectors are 16 floats (one AVX-512 register, two AVX2 ones, four SSE ones).
// No multiply-add is fused (FP_CONTRACT OFF in elementwise.c): every target computes the same values.

/// min(left, LANES) values from p, the other lanes `fill`.
static inline __attribute__((always_inline)) vf NAME(load)(const float *p, size_t left, float fill) {
    vf v;
    if (left >= LANES) {
        memcpy(&v, p, sizeof v);
        return v;
    }
    v = splat(fill);
    for (size_t i = 0; i < left; i++) v[i] = p[i];
    return v;
}

/// Stores min(left, LANES) lanes of v at p.
static inline __attribute__((always_inline)) void NAME(store)(float *p, size_t left, vf v) {
    if (left >= LANES) memcpy(p, &v, sizeof v);
    else for (size_t i = 0; i < left; i++) p[i] = v[i];
}

/// e^x for each lane: inputs clamped to [-87.3, 88.7], below -87.3 exactly 0.
static inline __attribute__((always_inline)) vf NAME(exp_v)(vf in) {
    vf x = blend(in < splat(-87.3f), splat(-87.3f), in);
    x = blend(x > splat(88.7f), splat(88.7f), x);
    const vf magic = splat(12582912.0f);  // 1.5 · 2^23: x·log2(e) rounded lands in the low bits
    vf t = x * splat(1.44269504f) + magic;
    vf n = t - magic;
    vi bits = (vi)t - (vi)magic;
    vf r = x - n * splat(0.693359375f);
    r = r + n * splat(2.1219444e-4f);
    vf r2 = r * r;
    vf p = splat(1.98756915e-4f);
    p = p * r + splat(1.39819995e-3f);
    p = p * r + splat(8.3334519e-3f);
    p = p * r + splat(4.16657959e-2f);
    p = p * r + splat(1.66666655e-1f);
    p = p * r + splat(5.00000012e-1f);
    vf er = p * r2 + r + splat(1.0f);
    vf scale = (vf)((bits + 127) << 23);
    return blend(in < splat(-87.3f), splat(0.0f), er * scale);
}

/// erf(x) for each lane: x·P(x²)/Q(x²) on [-4, 4].
static inline __attribute__((always_inline)) vf NAME(erf_v)(vf in) {
    vf x = blend(in < splat(-4.0f), splat(-4.0f), in);
    x = blend(x > splat(4.0f), splat(4.0f), x);
    vf x2 = x * x;
    vf p = splat(-2.72614225801306e-10f);
    p = p * x2 + splat(2.77068142495902e-08f);
    p = p * x2 + splat(-2.10102402082508e-06f);
    p = p * x2 + splat(-5.69250639462346e-05f);
    p = p * x2 + splat(-7.34990630326855e-04f);
    p = p * x2 + splat(-2.95459980854025e-03f);
    p = p * x2 + splat(-1.60960333262415e-02f);
    p = p * x;
    vf q = splat(-1.45660718464996e-05f);
    q = q * x2 + splat(-2.13374055278905e-04f);
    q = q * x2 + splat(-1.68282697438203e-03f);
    q = q * x2 + splat(-7.37332916720468e-03f);
    q = q * x2 + splat(-1.42647390514189e-02f);
    return p / q;
}

static inline __attribute__((always_inline)) vf NAME(tanh_v)(vf x) {
    vf e = NAME(exp_v)(x + x);
    return splat(1.0f) - splat(2.0f) / (e + splat(1.0f));
}

static inline __attribute__((always_inline)) vf NAME(activate)(ew_activation kind, vf x) {
    switch (kind) {
    case EW_GELU_ERF: return splat(0.5f) * x * (splat(1.0f) + NAME(erf_v)(x * splat(0.7071067811865475f)));
    case EW_GELU_TANH: {
        vf inner = splat(0.7978845608028654f) * (x + splat(0.044715f) * x * x * x);
        return splat(0.5f) * x * (splat(1.0f) + NAME(tanh_v)(inner));
    }
    default: return blend(x < splat(0.0f), splat(0.0f), x);
    }
}

static void NAME(softmax_rows)(float *s, size_t rows, size_t cols, size_t ld) {
    for (size_t r = 0; r < rows; r++) {
        float *row = s + r * ld;
        vf mx = splat(-INFINITY);
        for (size_t c = 0; c < cols; c += LANES) {
            vf v = NAME(load)(row + c, cols - c, -INFINITY);
            mx = blend(v > mx, v, mx);
        }
        float m = mx[0];
        for (int i = 1; i < LANES; i++) m = mx[i] > m ? mx[i] : m;
        vf sum = splat(0.0f);
        for (size_t c = 0; c < cols; c += LANES) {
            size_t left = cols - c;
            vf e = NAME(exp_v)(NAME(load)(row + c, left, 0.0f) - splat(m));
            if (left < LANES) e = blend(lane_index() < splat((float)left), e, splat(0.0f));
            sum += e;
            NAME(store)(row + c, left, e);
        }
        float total = 0;
        for (int i = 0; i < LANES; i++) total += sum[i];
        vf inverse = splat(1.0f / total);
        for (size_t c = 0; c < cols; c += LANES) NAME(store)(row + c, cols - c, NAME(load)(row + c, cols - c, 0.0f) * inverse);
    }
}

static void NAME(bias_activation)(ew_activation kind, float *x, size_t rows, size_t cols, const float *bias) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (size_t c = 0; c < cols; c += LANES) {
            vf v = NAME(load)(row + c, cols - c, 0.0f);
            if (bias) v += NAME(load)(bias + c, cols - c, 0.0f);
            NAME(store)(row + c, cols - c, NAME(activate)(kind, v));
        }
    }
}

static void NAME(map)(int function, const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i += LANES) {
        vf v = NAME(load)(x + i, n - i, 0.0f);
        NAME(store)(y + i, n - i, function == 0 ? NAME(exp_v)(v) : function == 1 ? NAME(erf_v)(v) : NAME(tanh_v)(v));
    }
}
