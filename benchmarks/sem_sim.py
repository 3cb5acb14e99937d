# Copied from the shared reference (shared/reference/stats/scripts/sem_sim.py) unchanged below this header, so the
# product repo stands alone; benchmarks/sem-vs-lavaan calls it with the parameters of
# shared/reference/stats/sem_feedback_n5000_lavaan.json ("data_generation"), N = 1,000,000. Needs numpy.
"""Simulate a non-recursive linear SEM and write it as CSV.
usage: sem_sim.py OUT.csv SEED N  c_Y c_X1 c_X2  b_Y_X1 b_Y_X2 g_Y_Z3  b_X1_Y g_X1_Z1  b_X2_Y g_X2_Z2  sd_u sd_v1 sd_v2 [rho_u_v1]
Model:  Y  = c_Y  + b_Y_X1*X1 + b_Y_X2*X2 + g_Y_Z3*Z3 + u
        X1 = c_X1 + b_X1_Y*Y  + g_X1_Z1*Z1 + v1
        X2 = c_X2 + b_X2_Y*Y  + g_X2_Z2*Z2 + v2
rng = numpy.random.default_rng(SEED); Z = rng.standard_normal((N,3)) -> columns Z1,Z2,Z3;
e = rng.standard_normal((N,3)); u = sd_u*e[:,0]; v1 = sd_v1*(rho*e[:,0] + sqrt(1-rho^2)*e[:,1]); v2 = sd_v2*e[:,2]
(rho = rho_u_v1, default 0, which gives E = e * [sd_u, sd_v1, sd_v2]);
(Y,X1,X2) solves (I-B) V = c + G Z + E for each row (numpy.linalg.solve).
Written with '%.17g' so the CSV holds the doubles exactly.
"""
import sys, numpy as np
out, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cY, cX1, cX2, bYX1, bYX2, gYZ3, bX1Y, gX1Z1, bX2Y, gX2Z2, su, s1, s2 = map(float, sys.argv[4:17])
rng = np.random.default_rng(seed)
Zm = rng.standard_normal((n, 3))
rho = float(sys.argv[17]) if len(sys.argv) > 17 else 0.0
e = rng.standard_normal((n, 3))
if rho == 0.0:
    E = e * np.array([su, s1, s2])
else:
    E = np.column_stack([su * e[:, 0], s1 * (rho * e[:, 0] + np.sqrt(1 - rho**2) * e[:, 1]), s2 * e[:, 2]])
B = np.array([[0, bYX1, bYX2], [bX1Y, 0, 0], [bX2Y, 0, 0]])
G = np.array([[0, 0, gYZ3], [gX1Z1, 0, 0], [0, gX2Z2, 0]])
c = np.array([cY, cX1, cX2])
IB = np.eye(3) - B
print("det(I-B) =", np.linalg.det(IB), " eigen(B) =", np.linalg.eigvals(B))
V = np.linalg.solve(IB, (c[None, :] + Zm @ G.T + E).T).T
assert np.allclose(V @ IB.T, c[None, :] + Zm @ G.T + E)
M = np.column_stack([V, Zm])
np.savetxt(out, M, fmt="%.17g", delimiter=",", header="Y,X1,X2,Z1,Z2,Z3", comments="")
back = np.loadtxt(out, delimiter=",", skiprows=1)
assert (back == M).all()
print(out, M.shape, "means", M.mean(0).round(4))
