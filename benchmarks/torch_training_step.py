"""Reference for benchmarks/README.md ("A training step against PyTorch"): one step of the 2019 learned-sketch method
(Indyk, Vakilian and Yuan) in PyTorch, as its reference implementation computes it: a CountSketch S (m x n) whose n
values are parameters, the loss sum_i ||A_i - [A_i V]_k V^T||_F over a batch of 8 frames (V from torch.linalg.svd of
S A_i, the top-k part from torch.linalg.svd of A_i V, both differentiated by autograd), and an Adam update.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/torch_training_step.py data/vtest.npy

Frames 0..599 with i % 5 != 0, each scaled to sigma_1 = 1, k = 10, m = 20, batch 8, 2 threads. Prints the median and
the quartiles of 40 steps after 5 warm-up steps. A reference measurement only: LowRank never depends on Python.
"""
import sys
import time

import numpy as np
import torch

torch.set_num_threads(2)
torch.manual_seed(0)
k, m, batch = 10, 20, 8
frames = np.load(sys.argv[1] if len(sys.argv) > 1 else "data/vtest.npy", mmap_mode="r")
ids = [i for i in range(600) if i % 5 != 0]
train = []
for i in ids:
    a = torch.from_numpy(np.asarray(frames[i], dtype=np.float64))
    train.append(a / torch.linalg.matrix_norm(a, ord=2))
n = train[0].shape[0]
rows = torch.randint(0, m, (n,))
values = (torch.randint(0, 2, (n,)) * 2 - 1).double().requires_grad_()
optimizer = torch.optim.Adam([values], lr=0.05)


def step(indices):
    optimizer.zero_grad()
    s = torch.zeros(m, n, dtype=torch.float64)
    s = s.index_put((rows, torch.arange(n)), values)
    loss = 0.0
    for i in indices:
        a = train[i]
        _, _, vt = torch.linalg.svd(s @ a, full_matrices=False)
        av = a @ vt.T
        u, sigma, wt = torch.linalg.svd(av, full_matrices=False)
        approx = (u[:, :k] * sigma[:k]) @ wt[:k] @ vt
        loss = loss + torch.linalg.matrix_norm(a - approx)
    loss.backward()
    optimizer.step()
    return float(loss)


rng = np.random.default_rng(0)
times = []
for t in range(45):
    indices = rng.choice(len(train), batch, replace=False)
    start = time.perf_counter()
    step(indices)
    if t >= 5:
        times.append(time.perf_counter() - start)
q1, median, q3 = np.percentile(times, [25, 50, 75])
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: step (batch {batch}) median {median * 1000:.1f} ms, "
      f"quartiles {q1 * 1000:.1f}-{q3 * 1000:.1f} ms over {len(times)} steps")
