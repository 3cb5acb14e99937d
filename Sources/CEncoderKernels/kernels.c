// See include/causa_kernels.h. The loops are written so that clang vectorises them (no libm calls, reductions with
// 16 explicit lanes); `target_clones` builds each for AVX-512, AVX2+FMA and baseline x86-64 and picks one at load time.
// erf: Eigen's generic_fast_erf_float; exp: Cephes expf with Cody-Waite reduction (see VectorMath.swift).
#include "causa_kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

static inline float erf_approx(float a) {
    float x = a < -4.f ? -4.f : (a > 4.f ? 4.f : a);
    float x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = x2 * p + -2.10102402082508e-06f;
    p = x2 * p + -5.69250639462346e-05f;
    p = x2 * p + -7.34990630326855e-04f;
    p = x2 * p + -2.95459980854025e-03f;
    p = x2 * p + -1.60960333262415e-02f;
    p = x * p;
    float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
    q = x2 * q + -1.68282697438203e-03f;
    q = x2 * q + -7.37332916720468e-03f;
    q = x2 * q + -1.42647390514189e-02f;
    return p / q;
}

static inline float exp_approx(float a) {
    float x = a < -87.3f ? -87.3f : (a > 88.3f ? 88.3f : a);
    float t = x * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float y = r * 1.9875691500E-4f + 1.3981999507E-3f;
    y = y * r + 8.3334519073E-3f;
    y = y * r + 4.1665795894E-2f;
    y = y * r + 1.6666665459E-1f;
    y = y * r + 5.0000001201E-1f;
    y = y * (r * r) + r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &t, 4);
    bits = (bits - 0x4B3FFF81u) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return y * scale;
}

CLONES void causa_bias_gelu(float *x, long rows, const float *b, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (long i = 0; i < cols; i++) {
            float v = row[i] + b[i];
            row[i] = 0.5f * v * (1.0f + erf_approx(v * 0.70710678118654752f));
        }
    }
}

CLONES void causa_softmax_rows(float *x, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        float m[16];
        for (int k = 0; k < 16; k++) m[k] = -INFINITY;
        long j = 0;
        for (; j + 16 <= cols; j += 16)
            for (int k = 0; k < 16; k++) m[k] = row[j + k] > m[k] ? row[j + k] : m[k];
        float mx = -INFINITY;
        for (int k = 0; k < 16; k++) mx = m[k] > mx ? m[k] : mx;
        for (; j < cols; j++) mx = row[j] > mx ? row[j] : mx;
        for (long i = 0; i < cols; i++) row[i] = exp_approx(row[i] - mx);
        float s[16] = {0};
        j = 0;
        for (; j + 16 <= cols; j += 16)
            for (int k = 0; k < 16; k++) s[k] += row[j + k];
        float total = 0;
        for (int k = 0; k < 16; k++) total += s[k];
        for (; j < cols; j++) total += row[j];
        float inv = 1.0f / total;
        for (long i = 0; i < cols; i++) row[i] *= inv;
    }
}

CLONES void causa_add_layernorm(float *x, const float *add, const float *bias, long rows, long h, const float *gamma,
                                const float *beta, float eps) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * h;
        if (add) {
            const float *a = add + r * h;
            if (bias) {
                for (long j = 0; j < h; j++) row[j] += a[j] + bias[j];
            } else {
                for (long j = 0; j < h; j++) row[j] += a[j];
            }
        }
        float s[16] = {0};
        long j = 0;
        for (; j + 16 <= h; j += 16)
            for (int k = 0; k < 16; k++) s[k] += row[j + k];
        float sum = 0;
        for (int k = 0; k < 16; k++) sum += s[k];
        for (; j < h; j++) sum += row[j];
        float mean = sum / (float)h;
        float q[16] = {0};
        j = 0;
        for (; j + 16 <= h; j += 16)
            for (int k = 0; k < 16; k++) {
                float d = row[j + k] - mean;
                q[k] += d * d;
            }
        float var = 0;
        for (int k = 0; k < 16; k++) var += q[k];
        for (; j < h; j++) {
            float d = row[j] - mean;
            var += d * d;
        }
        float inv = 1.0f / sqrtf(var / (float)h + eps);
        for (long i = 0; i < h; i++) row[i] = (row[i] - mean) * inv * gamma[i] + beta[i];
    }
}
