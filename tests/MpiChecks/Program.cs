using System;
using System.Linq;
using LowRank;
using LowRank.Mpi;
using MathNet.Numerics.LinearAlgebra;

// Every rank builds the same matrices from fixed seeds and keeps its own rows (uneven parts, some ranks empty), runs the
// distributed algorithm over MPI, and compares with the single-process result. Rank 0 prints one line per check.
using var mpi = MpiCommunicator.Initialize(ref args);
var failures = 0;
var worst = 0.0;

void Check(bool ok, string what)
{
    if (ok)
        return;
    failures++;
    Console.Error.WriteLine($"rank {mpi.Rank}: FAILED {what}");
}

// Cut points of n rows into p parts, the same on every rank; every third case leaves rank 1 (or 0) empty.
int[] Cuts(int n, int p, Random random, bool emptyRank)
{
    var cuts = Enumerable.Range(0, p - 1).Select(_ => random.Next(n + 1)).Order().ToList();
    if (emptyRank && p > 1)
        cuts[0] = 0;
    return [0, .. cuts, n];
}

Matrix<double> Rows(Matrix<double> a, int[] cuts, int rank) =>
    cuts[rank + 1] == cuts[rank]
        ? Matrix<double>.Build.Dense(0, a.ColumnCount)
        : a.SubMatrix(cuts[rank], cuts[rank + 1] - cuts[rank], 0, a.ColumnCount);

var cases = 0;
for (var seed = 1; seed <= 30; seed++)
{
    var random = new Random(seed);
    var n = random.Next(1, 80);
    var d = random.Next(1, 25);
    var k = random.Next(1, Math.Min(n, d) + 1);
    var m = k + random.Next(0, 8);
    // A geometric spectrum, so that [A V]_k is well determined and the two algorithms must agree to rounding.
    var u = Matrix<double>.Build.Random(n, Math.Min(n, d), seed).QR().Q;
    var v = Matrix<double>.Build.Random(d, Math.Min(n, d), seed + 1000).QR().Q;
    var sigma = Matrix<double>.Build.DiagonalOfDiagonalArray(
        Enumerable.Range(0, Math.Min(n, d)).Select(i => Math.Pow(0.7, i)).ToArray());
    var a = u.SubMatrix(0, n, 0, Math.Min(n, d)) * sigma * v.SubMatrix(0, d, 0, Math.Min(n, d)).Transpose();
    var cuts = Cuts(n, mpi.Size, random, seed % 3 == 0);

    var mine = Distributed.Approximate(mpi, Rows(a, cuts, mpi.Rank), BlockSketch.Hashed(seed, m), k);
    var left = Distributed.GatherRows(mpi, mine.Left);
    var expected = Scw.Approximate(a, Sketch.HashedCountSketch(m, n, seed), k);
    var product = mine.Right.RowCount == 0 ? a * 0 : left * mine.Right;
    var difference = Norm.Frobenius(product - expected.ToMatrix()) / Math.Max(Norm.Frobenius(a), double.Epsilon);
    worst = Math.Max(worst, difference);
    Check(difference <= 1e-10, $"SCW case {seed} ({n}x{d}, k {k}, m {m}, cuts {string.Join(",", cuts)}): relative difference {difference:E2}");
    Check(mine.RowOffset == cuts[mpi.Rank] && mine.TotalRows == n, $"SCW case {seed}: offsets");

    // svd_w: the same algorithm on one process (Communicator.Single) with the whole matrix.
    var w = Matrix<double>.Build.Dense(n, d, (i, j) => (i * 7 + j * 3) % 5 == 0 ? 0.0 : 0.5 + ((i + 2 * j) % 4));
    var t = Math.Max(1, k / 2);
    var sketch = BlockSketch.Hashed(seed, 2 * t + 2);
    var spread = Distributed.SvdW(mpi, Rows(a, cuts, mpi.Rank), Rows(w, cuts, mpi.Rank), sketch, t);
    var alone = Distributed.SvdW(Communicator.Single, a, w, sketch, t);
    var lossDifference = Math.Abs(spread.Loss - alone.Loss) / Math.Max(Norm.Frobenius(w.PointwiseMultiply(a)), double.Epsilon);
    Check(lossDifference <= 1e-10, $"svd_w case {seed}: loss {spread.Loss:R} against {alone.Loss:R}");
    cases++;
}

// The Theorem 3.1 protocol with a block of columns per rank: rank 0 rebuilds what each block's protocol gives alone.
{
    const int rows = 10, width = 4;
    var d = width * mpi.Size;
    var a = Matrix<double>.Build.Random(rows, d, 7);
    var rowWeights = Enumerable.Range(0, rows).Select(i => 1.0 + i % 3).ToArray();
    var columnWeights = Enumerable.Range(0, d).Select(j => 0.5 + j % 4).ToArray();
    var weights = Weights.RankOne(rowWeights, columnWeights);
    var run = Distributed.Protocol(mpi, a.SubMatrix(0, rows, mpi.Rank * width, width), weights, rank: 1, columns: 2);
    if (mpi.Rank == 0)
    {
        var dense = Matrix<double>.Build.Dense(rows, d, (i, j) => rowWeights[i] * columnWeights[j]);
        for (var r = 0; r < mpi.Size; r++)
        {
            var block = Weights.FromMatrix(dense.SubMatrix(0, rows, r * width, width));
            var message = Protocol.Send(a.SubMatrix(0, rows, r * width, width), block, rank: 1, columns: 2);
            var rebuilt = Protocol.Receive(block, message);
            var difference = Norm.Frobenius(run.Reconstruction!.SubMatrix(0, rows, r * width, width) - rebuilt);
            Check(difference <= 1e-12 * Norm.Frobenius(a), $"protocol block {r}: difference {difference:E2}");
            Check(run.MessageBits[r] == Protocol.SizeInBits(message), $"protocol block {r}: {run.MessageBits[r]} bits");
        }
    }
    else
    {
        Check(run.Reconstruction is null, "protocol: only rank 0 reconstructs");
    }
}

// Data-parallel training: 7 matrices spread unevenly (rank 0 holds none when there are several ranks), the same steps
// as training on one process.
{
    var matrices = Enumerable.Range(0, 7).Select(i => Matrix<double>.Build.Random(12, 9, 50 + i)).ToArray();
    var options = Training.Defaults(2, 4) with { Steps = 15, BatchSize = 3, Seed = 5 };
    int[] cuts = mpi.Size == 1 ? [0, 7] : [0, 0, .. Enumerable.Range(1, mpi.Size - 1).Select(r => 7 * r / (mpi.Size - 1))];
    var mine = matrices[cuts[mpi.Rank]..cuts[mpi.Rank + 1]];
    var spread = Distributed.Train(mpi, mine, options);
    var alone = Training.Train(matrices, options);
    var difference = Norm.Frobenius(spread.Final.ToMatrix() - alone.Final.ToMatrix()) / Norm.Frobenius(alone.Final.ToMatrix());
    Check(difference <= 1e-10, $"training: relative difference {difference:E2} of the final sketches");
    Check(spread.StepsCompleted == alone.StepsCompleted, "training: steps");
}

var total = (int)mpi.AllreduceSum([failures])[0];
if (mpi.Rank == 0)
    Console.WriteLine(
        total == 0
            ? $"mpi-checks: {cases} SCW and svd_w cases, the protocol and training passed on {mpi.Size} ranks (SCW max relative difference {worst:E1})"
            : $"mpi-checks: {total} checks failed on {mpi.Size} ranks");
return total == 0 ? 0 : 1;
