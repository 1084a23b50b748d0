"""NumPy reference for benchmarks/README.md, "Weighted iterations against NumPy": the time per iteration of em, als
and adam on a 784 x 128 Fisher-like problem at k = 10, written as a NumPy user would (em: a full thin SVD per
iteration; als: every row's k x k system solved at once by np.linalg.solve on the stacked Gram matrices; adam: the
gradient of the squared weighted loss). Run with Debian's python3-numpy, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
(they slow a current NumPy on this CPU):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/numpy_wlra_reference.py

Reference only: LowRank never depends on Python.
"""
import time

import numpy as np

try:
    from threadpoolctl import threadpool_info
except ImportError:  # the reference runs without it; the kernel line is then missing
    threadpool_info = None

n, d, k = 784, 128, 10
iterations = 25
rng = np.random.default_rng(7)
a = rng.standard_normal((n, 20)) @ rng.standard_normal((20, d)) + 0.3 * rng.standard_normal((n, d))
# Fisher-like weights: log-normal over about 8 orders of magnitude, 18% exact zeros.
w = np.exp(3.0 * rng.standard_normal((n, d)))
w[rng.random((n, d)) < 0.18] = 0.0
w2 = w * w


def em():
    w2n = w2 / w2.max()
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    x = (u[:, :k] * s[:k]) @ vt[:k]
    for _ in range(iterations):
        u, s, vt = np.linalg.svd(w2n * a + (1 - w2n) * x, full_matrices=False)
        x = (u[:, :k] * s[:k]) @ vt[:k]
        loss = np.linalg.norm(w * (a - x))
    return loss


def rows(weights2, target, v, ridge):
    grams = np.einsum("ij,jc,je->ice", weights2, v, v) + ridge * np.eye(v.shape[1])
    rhs = (weights2 * target) @ v
    return np.linalg.solve(grams, rhs[:, :, None])[:, :, 0]


def als():
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    u, v = u[:, :k] * s[:k], vt[:k].T
    ridge = 1e-8 * w2.max()
    for _ in range(iterations):
        u = rows(w2, a, v, ridge)
        v = rows(w2.T, a.T, u, ridge)
        loss = np.linalg.norm(w * (a - u @ v.T))
    return loss


def adam(rate=1e-2):
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    root = np.sqrt(s[:k])
    p, q = u[:, :k] * root, vt[:k].T * root
    step = rate * np.sqrt(np.mean(a * a))
    state = [np.zeros_like(p), np.zeros_like(p), np.zeros_like(q), np.zeros_like(q)]
    for t in range(1, iterations + 1):
        residual = w2 * (p @ q.T - a)
        gp, gq = 2 * residual @ q, 2 * residual.T @ p
        for g, param, m, v in ((gp, p, state[0], state[1]), (gq, q, state[2], state[3])):
            m[:] = 0.9 * m + 0.1 * g
            v[:] = 0.999 * v + 0.001 * g * g
            param -= step * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-12)
        loss = np.linalg.norm(w * (a - p @ q.T))
    return loss


if threadpool_info is not None:
    for pool in threadpool_info():
        print(f"# {pool.get('internal_api')} {pool.get('version')} {pool.get('architecture')} threads={pool.get('num_threads')}")


def best_of(run, repeats=5):
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


# 25 iterations of each, and for em and adam also 225: the difference over 200 is the time of one iteration without
# the start (one full SVD) and the final loss.
for name, run in (("em", em), ("als", als), ("adam", adam)):
    iterations = 25
    short = best_of(run)
    line = f"{name}: 25 iterations in {1000 * short:.1f} ms (best of 5)"
    if name != "als":
        iterations = 225
        long = best_of(run, 3)
        line += f", 225 in {1000 * long:.1f} ms: {1000 * (long - short) / 200:.2f} ms per iteration"
    print(line)
