/// Concurrent callers on the native backend: 80 SCW approximations of a 576 x 768 frame (k = 10, m = 20) from one
/// thread (the baseline) and from 8 threads at once, with OpenBLAS's default 2 threads (calls serialized) and with
/// one BLAS thread (calls side by side). The issue-12 audit measured 8 unserialized callers at 2.8 calls/s against 55
/// from one.
namespace LowRank.Benchmarks

open System.Threading.Tasks
open BenchmarkDotNet.Attributes
open LowRank.Core

[<MemoryDiagnoser>]
type ConcurrencyBenchmarks() =
    let frame =
        Inputs.gaussian 1 576 10 * Inputs.gaussian 2 10 768
        + 0.1 * Inputs.gaussian 3 576 768

    let sketch = Sketch.countSketch 4 20 576
    let calls = 80

    let inParallel (threads: int) =
        Parallel.For(
            0,
            calls,
            ParallelOptions(MaxDegreeOfParallelism = threads),
            fun _ -> Scw.approximate 10 sketch frame |> ignore
        )
        |> ignore

    [<Benchmark(Baseline = true)>]
    member _.OneCaller() =
        for _ in 1..calls do
            Scw.approximate 10 sketch frame |> ignore

    [<Benchmark>]
    member _.EightCallers() = inParallel 8

    [<Benchmark>]
    member _.EightCallersOneBlasThread() =
        Backend.setNativeThreads 1 |> ignore

        try
            inParallel 8
        finally
            Backend.setNativeThreads 2 |> ignore
