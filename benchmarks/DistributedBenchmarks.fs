/// SCW of a 20000 x 768 matrix (k = 20, m = 40, the counter-based CountSketch) in memory, streamed by row blocks, and
/// distributed over 1, 2 and 4 in-process ranks (threads; the same code MPI runs, without the network), in one run with
/// the in-memory SCW as the baseline.
namespace LowRank.Benchmarks

open BenchmarkDotNet.Attributes
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

[<MemoryDiagnoser>]
type DistributedBenchmarks() =
    let mutable a = Matrix<float>.Build.Dense(1, 1)
    let mutable blocks: Matrix<float>[] = [||]
    let mutable sketch = Sketch.identity 1

    [<Params(1, 2, 4)>]
    member val Ranks = 0 with get, set

    [<GlobalSetup>]
    member this.Setup() =
        Inputs.select "native"
        a <- Matrix<float>.Build.Random(20000, 768, 3)
        sketch <- Sketch.hashedCountSketch 1 40 a.RowCount
        let n = a.RowCount

        blocks <-
            Array.init this.Ranks (fun i ->
                let first, last = n * i / this.Ranks, n * (i + 1) / this.Ranks
                a.SubMatrix(first, last - first, 0, a.ColumnCount))

    [<Benchmark(Baseline = true)>]
    member _.InMemory() = Scw.approximate 20 sketch a

    /// Two passes over blocks of 4096 rows.
    [<Benchmark>]
    member _.Streamed() =
        Streaming.approximateRows
            20
            (BlockSketch.Hashed(1, 40))
            (Seq.init 5 (fun i -> a.SubMatrix(4096 * i, min 4096 (20000 - 4096 * i), 0, 768)))

    /// Ranks as threads, each holding its rows.
    [<Benchmark>]
    member this.Distributed() =
        Communicator.runInProcess this.Ranks (fun c ->
            Distributed.approximate c 20 (BlockSketch.Hashed(1, 40)) blocks[c.Rank])
