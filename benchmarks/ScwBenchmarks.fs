/// S A with a CountSketch, and SCW against the exact thin SVD of the same matrix on the same backend, at the paper's
/// shapes (k = 10, m = 20; 576 x 768 and 1728 x 768 frames).
namespace LowRank.Benchmarks

open BenchmarkDotNet.Attributes
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

[<MemoryDiagnoser>]
type ScwBenchmarks() =
    let mutable a = Matrix<float>.Build.Dense(1, 1)
    let mutable sketch = Sketch.identity 1

    [<Params("native", "managed")>]
    member val Backend = "" with get, set

    [<Params(576, 1728)>]
    member val Rows = 0 with get, set

    [<GlobalSetup>]
    member this.Setup() =
        Inputs.select this.Backend
        a <- Inputs.frame 5 this.Rows 768
        sketch <- Sketch.countSketch 6 20 this.Rows

    /// The exact rank-10 truncated SVD: what SCW avoids.
    [<Benchmark(Baseline = true)>]
    member _.ExactBestRankK() = Svd.bestRankK 10 a

    [<Benchmark>]
    member _.ScwApproximate() = Scw.approximate 10 sketch a

    [<Benchmark>]
    member _.ScwError() = Scw.error 10 sketch a

    [<Benchmark>]
    member _.CountSketchApply() = Sketch.apply a sketch

/// Randomized SVD on the 80,000 x 768 matrix of issue 26 (a rank-20 signal plus noise of 3, k = 20, 30 sketch rows):
/// SCW from a CountSketch (baseline), then 1 and 4 power iterations, the Gaussian-started randomized SVD scikit-learn
/// runs (10 extra rows, 4 iterations), and the error from the factors. benchmarks/randomized_svd_reference.py runs
/// scikit-learn on the same shape.
[<MemoryDiagnoser>]
type RandomizedSvdBenchmarks() =
    let mutable a = Matrix<float>.Build.Dense(1, 1)
    let mutable transposed = Matrix<float>.Build.Dense(1, 1)
    let mutable sketch = Sketch.identity 1
    let mutable result = Unchecked.defaultof<LowRankApproximation>

    [<GlobalSetup>]
    member _.Setup() =
        a <-
            Inputs.gaussian 26 80_000 20 * Inputs.gaussian 27 20 768
            + 3.0 * Inputs.gaussian 28 80_000 768

        // A by rows, as a C-order .npy file holds it (what approx reads).
        transposed <- a.Transpose()

        sketch <- Sketch.countSketch 1 30 a.RowCount
        result <- Scw.approximateWithPower 4 20 sketch a

    [<Benchmark(Baseline = true)>]
    member _.Scw() = Scw.approximate 20 sketch a

    [<Benchmark>]
    member _.OnePowerIteration() = Scw.approximateWithPower 1 20 sketch a

    [<Benchmark>]
    member _.FourPowerIterations() = Scw.approximateWithPower 4 20 sketch a

    [<Benchmark>]
    member _.RandomizedGaussian() = Scw.randomized 10 4 0 20 a

    [<Benchmark>]
    member _.ScwByRows() =
        Scw.approximateTransposedWithPower 0 20 sketch transposed

    [<Benchmark>]
    member _.FourPowerIterationsByRows() =
        Scw.approximateTransposedWithPower 4 20 sketch transposed

    [<Benchmark>]
    member _.ErrorOfFactors() = Scw.errorOf a result

    [<Benchmark>]
    member _.ProjectionError() = Scw.projectionError a result
