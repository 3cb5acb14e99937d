"""Simulates Tests/Fixtures/reference/sem/sem_latent_n2000.csv: a recursive SEM with latent variables.

usage: python3 sem_latent_sim.py OUT.csv [seed=20250105] [n=2000]

Model (true values):
    quality, price ~ N(0, [[1, 0.3], [0.3, 1]])            (exogenous, correlated)
    sat    = 0.6*quality - 0.4*price + zeta,    zeta ~ N(0, 0.5)
    s1     = 1.0 + 1.0*sat + e1,  s2 = 2.0 + 0.8*sat + e2,  s3 = -0.5 + 1.2*sat + e3,  e ~ N(0, 0.4, 0.5, 0.3)
    click  = 0.3 + 0.7*sat - 0.2*price + u,     u ~ N(0, 0.6)
    f2     ~ N(0, 1) with cov(f2, quality) = 0.4 (through f2 = 0.4*quality + N(0, 0.84))
    b1, b2, b3 = f2 * (1, 0.9, 0.7) + N(0, 0.5)
    y2     = 0.5*f2 + 0.3*sat + N(0, 0.7)
Columns: quality, price, s1, s2, s3, click, b1, b2, b3, y2. Values written with %.17g (round-trip exact).
numpy.random.default_rng(seed), draws in the order written above.
"""
import sys
import numpy as np

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20250105
n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
rng = np.random.default_rng(seed)
x = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
quality, price = x[:, 0], x[:, 1]
sat = 0.6 * quality - 0.4 * price + rng.normal(0, np.sqrt(0.5), n)
s1 = 1.0 + 1.0 * sat + rng.normal(0, np.sqrt(0.4), n)
s2 = 2.0 + 0.8 * sat + rng.normal(0, np.sqrt(0.5), n)
s3 = -0.5 + 1.2 * sat + rng.normal(0, np.sqrt(0.3), n)
click = 0.3 + 0.7 * sat - 0.2 * price + rng.normal(0, np.sqrt(0.6), n)
f2 = 0.4 * quality + rng.normal(0, np.sqrt(0.84), n)
b1 = 1.0 * f2 + rng.normal(0, np.sqrt(0.5), n)
b2 = 0.9 * f2 + rng.normal(0, np.sqrt(0.5), n)
b3 = 0.7 * f2 + rng.normal(0, np.sqrt(0.5), n)
y2 = 0.5 * f2 + 0.3 * sat + rng.normal(0, np.sqrt(0.7), n)
cols = ["quality", "price", "s1", "s2", "s3", "click", "b1", "b2", "b3", "y2"]
data = np.column_stack([quality, price, s1, s2, s3, click, b1, b2, b3, y2])
with open(out, "w") as f:
    f.write(",".join(cols) + "\n")
    for row in data:
        f.write(",".join("%.17g" % v for v in row) + "\n")
print("wrote", out, n, "rows")
