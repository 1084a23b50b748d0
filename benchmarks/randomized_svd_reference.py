#!/usr/bin/env python3
"""Randomized SVD side by side with scikit-learn, in one run on one matrix (issue 26).

    /usr/bin/python3 benchmarks/randomized_svd_reference.py [rows] [columns] [rounds]

Writes an n x d float64 matrix (default 80,000 x 768: a rank-20 signal plus noise, 491 MB) to a temporary .npy, then
for each round times, on the same file and the same page cache:
  - NumPy's load, then scikit-learn's randomized_svd(k = 20, n_oversamples = 10, n_iter = 4) (its default n_iter for
    k < 0.1 min(n, d)), and its Frobenius error;
  - the whole `lowrank approx -k 20 -p 10 -q 4` command (load, sketch, power iterations, error, writing the factors),
    which prints its error;
  - the stream's floor (issue 26: two reads of the file plus one n x d x m product, m = 40): two np.load calls and
    a @ omega in NumPy, against the whole `lowrank approx --stream -k 20 -m 40` command;
  - NumPy's load plus SCW with a SciPy CountSketch (m = 40), against the whole `lowrank approx -k 20 -m 40` command.
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
import scipy.sparse
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

            # The stream's floor: the file read twice, and one n x d x m product.
            m = 40
            started = time.perf_counter()
            a = np.load(path)
            del a
            a = np.load(path)
            read_twice = time.perf_counter() - started
            omega = rng.standard_normal((d, m))
            started = time.perf_counter()
            a @ omega
            product = time.perf_counter() - started
            # NumPy's load, then SCW with a SciPy CountSketch: S A, V from its SVD, [A V]_k V^T.
            started = time.perf_counter()
            del a
            a = np.load(path)
            s = scipy.sparse.csr_matrix((rng.choice([-1.0, 1.0], n), (rng.integers(0, m, n), np.arange(n))), shape=(m, n))
            _, _, vt = np.linalg.svd(s @ a, full_matrices=False)
            u, sigma, wt = np.linalg.svd(a @ vt.T, full_matrices=False)
            left, right = u[:, :k] * sigma[:k], wt[:k] @ vt
            scw = time.perf_counter() - started
            del a, s, vt, u, sigma, wt, left, right
            started = time.perf_counter()
            subprocess.run(["dotnet", TOOL, "approx", path, "--stream", "-k", str(k), "-m", str(m), "-o", os.path.join(folder, "s")],
                           capture_output=True, text=True, check=True)
            stream = time.perf_counter() - started
            started = time.perf_counter()
            subprocess.run(["dotnet", TOOL, "approx", path, "-k", str(k), "-m", str(m), "-o", os.path.join(folder, "c")],
                           capture_output=True, text=True, check=True)
            plain = time.perf_counter() - started
            floor = read_twice + product
            print(f"         stream floor {floor:.2f} s (two loads {read_twice:.2f} + product {product:.2f}); "
                  f"lowrank approx --stream {stream:.2f} s = {stream / floor:.2f}x the floor; "
                  f"NumPy load + SCW {scw:.2f} s; lowrank approx (SCW) {plain:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
