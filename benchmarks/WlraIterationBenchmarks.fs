/// The iterative weighted methods per iteration, against the numbers of benchmarks/numpy_wlra_reference.py (the same
/// loops in NumPy): a 784 x 128 matrix with Fisher-like weights (log-normal over about 8 orders of magnitude, 18% exact
/// zeros), k = 10, 25 iterations each (and 225 for em and adam, so that the difference gives one iteration's time). The baseline is one full thin SVD of the matrix, the cost of one classic em step.
namespace LowRank.Benchmarks

open System
open BenchmarkDotNet.Attributes
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

[<MemoryDiagnoser>]
type WlraIterationBenchmarks() =
    let random = Random(7)

    let a =
        Inputs.gaussian 8 784 20 * Inputs.gaussian 9 20 128
        + 0.3 * Inputs.gaussian 10 784 128

    let weights =
        Matrix<float>
            .Build.Dense(
                784,
                128,
                fun _ _ ->
                    let x = exp (3.0 * Dense.standardNormal random)
                    if random.NextDouble() < 0.18 then 0.0 else x
            )
        |> Weights.ofMatrix

    let options = {
        WlraOptions.Default with
            MaxIterations = 25
            AdamSteps = 25
            Tolerance = 0.0
    }

    [<Benchmark(Baseline = true)>]
    member _.OneFullSvd() = Svd.bestRankK 10 a

    [<Benchmark>]
    member _.Em25() =
        Wlra.em options ignore Threading.CancellationToken.None 10 weights a

    [<Benchmark>]
    member _.Als25() =
        Wlra.als options ignore Threading.CancellationToken.None 10 weights a

    [<Benchmark>]
    member _.Adam25() =
        Wlra.adam options ignore Threading.CancellationToken.None 10 weights a

    /// With Em25 and Adam25, the time of one iteration without the start: (T225 - T25) / 200.
    [<Benchmark>]
    member _.Em225() =
        Wlra.em { options with MaxIterations = 225 } ignore Threading.CancellationToken.None 10 weights a

    [<Benchmark>]
    member _.Adam225() =
        Wlra.adam { options with AdamSteps = 225 } ignore Threading.CancellationToken.None 10 weights a
