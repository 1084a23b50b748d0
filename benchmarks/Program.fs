module LowRank.Benchmarks.Program

open BenchmarkDotNet.Running
open LowRank.Core

[<EntryPoint>]
let main argv =
    printfn "LowRank backend: %s" (Backend.describe ())

    BenchmarkSwitcher.FromAssembly(typeof<ScwBenchmarks>.Assembly).Run(argv)
    |> ignore

    0
