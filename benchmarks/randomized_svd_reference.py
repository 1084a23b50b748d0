#!/usr/bin/env python3
"""Randomized SVD side by side with scikit-learn, in one run on one matrix (issue 26).

    /usr/bin/python3 benchmarks/randomized_svd_reference.py [rows] [columns] [rounds]

Writes an n x d float64 matrix (default 80,000 x 768: a rank-20 signal plus noise, 491 MB) to a temporary .npy, then
for each round times, on the same file and the same page cache:
  - NumPy's load, then scikit-learn's randomized_svd(k = 20, n_oversamples = 10, n_iter = 4) (its default n_iter for
    k < 0.1 min(n, d)), and its Frobenius error;
  - the whole `lowrank approx -k 20 -p 10 -q 4` command (load, sketch, power iterations, error, writing the factors),
    which prints its error.
Reference only: NumPy and scikit-learn are Debian packages here (python3-numpy, python3-sklearn), never a dependency
of LowRank. Build the tool first: dotnet build src/Cli -c Release.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.utils.extmath import randomized_svd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "src", "Cli", "bin", "Release", "net10.0", "LowRank.Cli.dll")


def main(arguments):
    n = int(arguments[0]) if len(arguments) > 0 else 80_000
    d = int(arguments[1]) if len(arguments) > 1 else 768
    rounds = int(arguments[2]) if len(arguments) > 2 else 3
    k, p, q = 20, 10, 4
    if not os.path.exists(TOOL):
        sys.exit(f"{TOOL} is missing: run dotnet build src/Cli -c Release first.")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "a.npy")
        rng = np.random.default_rng(26)
        a = rng.standard_normal((n, 20)) @ rng.standard_normal((20, d)) + 3.0 * rng.standard_normal((n, d))
        np.save(path, a)
        del a
        print(f"A: {n} x {d} float64 ({os.path.getsize(path) / 1e6:.0f} MB), rank 20 plus noise; k = {k}, p = {p}, q = {q}")
        for round_ in range(1, rounds + 1):
            started = time.perf_counter()
            a = np.load(path)
            loaded = time.perf_counter()
            u, s, vt = randomized_svd(a, k, n_oversamples=p, n_iter=q, random_state=0)
            done = time.perf_counter()
            error = np.linalg.norm(a - (u * s) @ vt)
            del a, u, s, vt
            started_tool = time.perf_counter()
            out = subprocess.run(
                ["dotnet", TOOL, "approx", path, "-k", str(k), "-p", str(p), "-q", str(q), "-o", os.path.join(folder, "x")],
                capture_output=True, text=True, check=True).stdout
            tool = time.perf_counter() - started_tool
            lowrank_error = float(re.search(r"\|\|A - A~\|\|_F\s*│\s*([0-9.eE+-]+)", out).group(1))
            print(f"round {round_}: scikit-learn load {loaded - started:.2f} s + randomized_svd {done - loaded:.2f} s, "
                  f"error {error:.6g}; lowrank approx (whole command) {tool:.2f} s, error {lowrank_error:.6g}")


if __name__ == "__main__":
    main(sys.argv[1:])
