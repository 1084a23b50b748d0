/// svd_w with structured weights (Woodruff and Yasuda 2024, Lemma A.1) against the same weights given densely, on a
/// 2000 x 1000 matrix at k = 10: factored rank-3 weights (W o A is formed from the factors, W never is) and a
/// block-diagonal mask of 4 blocks (one SVD per 500 x 250 block instead of one of the whole matrix).
namespace LowRank.Benchmarks

open System
open BenchmarkDotNet.Attributes
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

[<MemoryDiagnoser>]
type StructuredWeightsBenchmarks() =
    let mutable a = Unchecked.defaultof<Matrix<float>>
    let mutable structured = Unchecked.defaultof<Weights>
    let mutable dense = Unchecked.defaultof<Weights>

    [<Params("factored", "blocks")>]
    member val Structure = "" with get, set

    [<GlobalSetup>]
    member this.Setup() =
        let random = Random(11)

        let uniform rows columns =
            Matrix<float>.Build.Dense(rows, columns, fun _ _ -> 0.05 + random.NextDouble())

        a <-
            Inputs.gaussian 12 2000 30 * Inputs.gaussian 13 30 1000
            + 0.3 * Inputs.gaussian 14 2000 1000

        structured <-
            match this.Structure with
            | "factored" -> Weights.ofFactors (uniform 2000 3) (uniform 3 1000)
            | _ -> Weights.blockMask [| 500; 500; 500; 500 |] [| 250; 250; 250; 250 |]

        dense <- Weights.ofMatrix (Weights.dense structured)

    [<Benchmark(Baseline = true)>]
    member _.Dense() =
        Wlra.svdW WlraOptions.Default 10 dense a

    [<Benchmark>]
    member _.Structured() =
        Wlra.svdW WlraOptions.Default 10 structured a
