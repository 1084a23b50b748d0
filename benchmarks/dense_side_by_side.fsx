// LowRank's half of benchmarks/dense_side_by_side.py: times Svd.singularValues of 576 x 768 and 1000 x 1000 matrices
// and svd_w with rank-one weights (784 x 128, k = 10), `calls` calls each after three warm-up calls, and prints one line
// per case: name and the per-call times in milliseconds. Run by the Python script (which times NumPy the same way, in
// the same run); alone: dotnet fsi benchmarks/dense_side_by_side.fsx 30 (after dotnet build src/Cli -c Release).
#r "../src/Cli/bin/Release/net10.0/MathNet.Numerics.dll"
#r "../src/Cli/bin/Release/net10.0/LowRank.Core.dll"

open System.Diagnostics
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

let calls =
    match fsi.CommandLineArgs with
    | [| _; count |] -> int count
    | _ -> 30

// The same matrices as the Python side: entries i * 0.618... mod 1 - 0.5, so both read identical numbers.
let matrix rows columns =
    Matrix<float>.Build.Dense(rows, columns, fun i j -> (float (i * columns + j) * 0.6180339887498949) % 1.0 - 0.5)

let timed (name: string) (work: unit -> unit) =
    for _ in 1..3 do
        work ()

    let times =
        Array.init calls (fun _ ->
            let watch = Stopwatch.StartNew()
            work ()
            watch.Elapsed.TotalMilliseconds)

    printfn "%s %s" name (times |> Array.map (sprintf "%.3f") |> String.concat " ")

printfn "backend %s" (Backend.describe ())
let a576 = matrix 576 768
let a1000 = matrix 1000 1000
timed "singular_values_576x768" (fun () -> Svd.singularValues a576 |> ignore)
timed "singular_values_1000x1000" (fun () -> Svd.singularValues a1000 |> ignore)
let a784 = matrix 784 128
let rows = Array.init 784 (fun i -> 0.05 + float (i % 97) / 97.0)
let columns = Array.init 128 (fun j -> 0.05 + float (j % 31) / 31.0)
let weights = Weights.rankOne rows columns
timed "svd_w_rank_one_784x128_k10" (fun () -> Wlra.svdW WlraOptions.Default 10 weights a784 |> ignore)
