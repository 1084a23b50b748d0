#!/usr/bin/env python3
"""approx --stream on a .npy matrix larger than this machine's memory (issue 26).

    /usr/bin/python3 benchmarks/larger_than_memory.py FOLDER [rows] [columns] [power]

Writes FOLDER/big.npy, rows x columns float64 (default 5,200,000 x 768: 31.9 GB, more than the reference machine's
24 GiB, so the page cache cannot hold it and every pass reads the disk), a rank-20 signal plus noise, in chunks (NumPy
needs about 100 MB for that). Then it drops the page cache when it may (root; otherwise the first pass may find part of
the file cached), times one sequential read of the file (the disk's throughput), and runs
`lowrank approx --stream -k 20 -m 40 [-q power]` under /usr/bin/time -v: wall time, peak resident memory, and the
throughput over the passes it made (q + 2 passes of the file's size). The file is left in FOLDER for reruns; delete it
afterwards. NumPy is a reference tool here only, never a dependency of LowRank. Build the tool first:
dotnet build src/Cli -c Release.
"""
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "src", "Cli", "bin", "Release", "net10.0", "LowRank.Cli.dll")


def write(path, n, d):
    rng = np.random.default_rng(26)
    basis = rng.standard_normal((20, d))
    out = np.lib.format.open_memmap(path + ".partial", mode="w+", dtype="<f8", shape=(n, d))
    chunk = 65_536
    for first in range(0, n, chunk):
        count = min(chunk, n - first)
        out[first:first + count] = rng.standard_normal((count, 20)) @ basis + 3.0 * rng.standard_normal((count, d))
    out.flush()
    del out
    os.replace(path + ".partial", path)


def drop_cache():
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def main(arguments):
    if not arguments:
        sys.exit(__doc__)
    folder = arguments[0]
    n = int(arguments[1]) if len(arguments) > 1 else 5_200_000
    d = int(arguments[2]) if len(arguments) > 2 else 768
    q = int(arguments[3]) if len(arguments) > 3 else 0
    if not os.path.exists(TOOL):
        sys.exit(f"{TOOL} is missing: run dotnet build src/Cli -c Release first.")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "big.npy")
    if not os.path.exists(path) or os.path.getsize(path) < n * d * 8:
        started = time.perf_counter()
        write(path, n, d)
        print(f"wrote {path} in {time.perf_counter() - started:.0f} s")
    size = os.path.getsize(path)
    print(f"A: {n} x {d} float64, {size / 1e9:.1f} GB")

    dropped = drop_cache()
    started = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        buffer = bytearray(1 << 24)
        while f.readinto(buffer):
            pass
    read = time.perf_counter() - started
    print(f"one sequential read (page cache {'dropped' if dropped else 'not dropped'}): {read:.1f} s, "
          f"{size / read / 1e9:.2f} GB/s")

    drop_cache()
    command = ["/usr/bin/time", "-v", "dotnet", TOOL, "approx", path, "--stream", "-k", "20", "-m", "40",
               "-q", str(q), "-o", os.path.join(folder, "approximation")]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    error = re.search(r"\|\|A - A~\|\|_F\s*│\s*([0-9.eE+-]+)", result.stdout).group(1)
    passes = q + 2
    print(f"approx --stream -q {q}: {wall:.1f} s, peak resident {peak / 1e6:.2f} GB, error {error}, "
          f"{passes} passes: {passes * size / wall / 1e9:.2f} GB/s")


if __name__ == "__main__":
    main(sys.argv[1:])
