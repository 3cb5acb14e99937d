// Elementwise kernels of Causa's MiniLM encoder, compiled for AVX-512, AVX2 and baseline x86-64 with run-time
// dispatch (function multiversioning). Not API: only Encoders imports this module.
#ifndef CAUSA_KERNELS_H
#define CAUSA_KERNELS_H

/// x[r][i] <- GELU(x[r][i] + b[i]) for r < rows, i < cols; GELU(v) = v/2 (1 + erf(v / sqrt 2)).
void causa_bias_gelu(float *x, long rows, const float *b, long cols);

/// Each of `rows` rows of `cols` values <- softmax(row), in place.
void causa_softmax_rows(float *x, long rows, long cols);

/// x[r] <- LayerNorm(x[r] + add[r] + bias) * gamma + beta per row of h values; add and bias may be NULL.
void causa_add_layernorm(float *x, const float *add, const float *bias, long rows, long h, const float *gamma,
                         const float *beta, float eps);

#endif
