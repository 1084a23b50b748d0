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
