using System;
using LowRank;
using MathNet.Numerics.LinearAlgebra;

// A random 200 x 100 matrix: a rank-10 signal plus a little noise, fixed by its seeds.
var signal = Matrix<double>.Build.Random(200, 10, 1) * Matrix<double>.Build.Random(10, 100, 2);
var a = signal + 0.1 * Matrix<double>.Build.Random(200, 100, 3);

const int k = 10;
var sketch = Sketch.CountSketch(rows: 20, columns: a.RowCount, seed: 4);
LowRankApproximation approximation = Scw.Approximate(a, sketch, rank: k);

double scwError = Scw.Error(a, sketch, rank: k);
double optimalError = Svd.OptimalError(a, rank: k);
Console.WriteLine($"SCW with a 20 x 200 CountSketch: rank {approximation.Rank}, error {scwError:F4}");
Console.WriteLine($"Optimal rank-{k} error (truncated SVD):       {optimalError:F4}");
