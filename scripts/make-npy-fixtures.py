#!/usr/bin/env python3
"""Writes the .npy fixtures of tests/fixtures/npy with NumPy itself, so LowRank's reader is checked against
real NumPy output. Needs NumPy (on Debian: apt-get install python3-numpy; run with /usr/bin/python3). The tests only
read the committed files; rerun this script only to change them.

Every fixture holds the values v[idx] = 100*k + 10*i + j (k the matrix of a stack), so the test knows each entry."""
import os
import numpy as np
from numpy.lib import format as fmt

out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "npy")
os.makedirs(out, exist_ok=True)

def values(shape):
    if len(shape) == 2:
        return np.fromfunction(lambda i, j: 10 * i + j, shape)
    return np.fromfunction(lambda k, i, j: 100 * k + 10 * i + j, shape)

for dtype in ["<f8", "<f4", "<i8", "<i4", "<i2", "|i1", "|u1", "<u2", "<u4", "<u8"]:
    for order in ["C", "F"]:
        for shape in [(3, 4), (2, 3, 4), (1, 5)]:
            array = np.array(values(shape), dtype=np.dtype(dtype), order=order)
            name = f"{dtype.strip('<|')}-{order}-{'x'.join(map(str, shape))}.npy"
            np.save(os.path.join(out, name), array)

# The three format versions, written explicitly (np.save picks 1.0 whenever it can).
array = values((3, 4))
for version in [(1, 0), (2, 0), (3, 0)]:
    with open(os.path.join(out, f"version-{version[0]}-3x4.npy"), "wb") as f:
        fmt.write_array(f, array, version=version)
print(f"wrote {len(os.listdir(out))} files to {os.path.normpath(out)}")
