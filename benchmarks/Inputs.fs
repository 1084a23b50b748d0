/// Deterministic benchmark inputs, so that every run and both backends see the same matrices.
module LowRank.Benchmarks.Inputs

open System
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

let gaussian (seed: int) (rows: int) (columns: int) =
    let random = Random(seed)

    Matrix<float>
        .Build.Dense(
            rows,
            columns,
            fun _ _ ->
                sqrt (-2.0 * log (1.0 - random.NextDouble()))
                * cos (2.0 * Math.PI * random.NextDouble())
        )

/// A frame-like matrix of the paper's shapes: a rank-10 signal plus small noise.
let frame (seed: int) (rows: int) (columns: int) =
    gaussian seed rows 10 * gaussian (seed + 1) 10 columns
    + 0.05 * gaussian (seed + 2) rows columns

/// Parses a backend parameter and selects it for the benchmark process.
let select (backend: string) =
    Backend.select (
        if backend = "native" then
            BackendKind.Native
        else
            BackendKind.Managed
    )
