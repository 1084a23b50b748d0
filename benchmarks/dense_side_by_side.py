#!/usr/bin/env python3
"""Dense kernels side by side with NumPy, in one run (issue 26): singular values of 576 x 768 and 1000 x 1000 matrices,
and svd_w with rank-one weights (784 x 128, k = 10: the SVD of W o A, truncated, divided by W, and its weighted loss,
which Wlra.svdW returns), written as a NumPy user would. Each round runs LowRank's half (benchmarks/dense_side_by_side.fsx in F# interactive, `calls` timed calls per
case after three warm-up calls) and then NumPy's (the same), on the same matrices; it prints per case the median of
each side, their ratio, and LowRank's spread (slowest round median / fastest round median).

    dotnet build src/Cli -c Release
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/dense_side_by_side.py [rounds] [calls]

Reference only: NumPy is Debian's python3-numpy, never a dependency of LowRank.
"""
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def matrix(rows, columns):
    index = np.arange(rows * columns, dtype=np.float64).reshape(rows, columns)
    return np.mod(index * 0.6180339887498949, 1.0) - 0.5


def numpy_cases():
    a576, a1000, a784 = matrix(576, 768), matrix(1000, 1000), matrix(784, 128)
    rows = 0.05 + (np.arange(784) % 97) / 97.0
    columns = 0.05 + (np.arange(128) % 31) / 31.0

    w = rows[:, None] * columns[None, :]

    def svd_w():
        # What Wlra.svdW returns: the factors of [W o A]_k / W and the loss ||W o (A - A~)||_F.
        u, s, vt = np.linalg.svd(w * a784, full_matrices=False)
        approximation = (u[:, :10] * s[:10]) @ vt[:10] / w
        return approximation, np.linalg.norm(w * (a784 - approximation))

    return {
        "singular_values_576x768": lambda: np.linalg.svd(a576, compute_uv=False),
        "singular_values_1000x1000": lambda: np.linalg.svd(a1000, compute_uv=False),
        "svd_w_rank_one_784x128_k10": svd_w,
    }


def time_numpy(cases, calls):
    out = {}
    for name, work in cases.items():
        for _ in range(3):
            work()
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            work()
            times.append((time.perf_counter() - started) * 1e3)
        out[name] = times
    return out


def time_lowrank(calls):
    script = os.path.join(ROOT, "benchmarks", "dense_side_by_side.fsx")
    text = subprocess.run(["dotnet", "fsi", script, str(calls)], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    out = {}
    for line in text.splitlines():
        if line.startswith("backend "):
            print("LowRank", line)
            continue
        name, *values = line.split()
        out[name] = [float(v) for v in values]
    return out


def main(arguments):
    rounds = int(arguments[0]) if len(arguments) > 0 else 3
    calls = int(arguments[1]) if len(arguments) > 1 else 30
    cases = numpy_cases()
    lowrank, numpy = {n: [] for n in cases}, {n: [] for n in cases}
    for _ in range(rounds):
        for name, times in time_lowrank(calls).items():
            lowrank[name].append(statistics.median(times))
        for name, times in time_numpy(cases, calls).items():
            numpy[name].append(statistics.median(times))
    print(f"{rounds} rounds of {calls} calls; medians in ms per round")
    for name in cases:
        ours, theirs = statistics.median(lowrank[name]), statistics.median(numpy[name])
        spread = max(lowrank[name]) / min(lowrank[name])
        print(f"{name}: LowRank {' '.join(f'{x:.1f}' for x in lowrank[name])}; NumPy {' '.join(f'{x:.1f}' for x in numpy[name])}; "
              f"ratio {ours / theirs:.2f}; LowRank's spread {spread:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
