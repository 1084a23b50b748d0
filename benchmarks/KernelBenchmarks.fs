/// The dense kernels at the sizes of issue 3's table, native (baseline) against managed and MathNet's own provider.
namespace LowRank.Benchmarks

open BenchmarkDotNet.Attributes
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

[<MemoryDiagnoser>]
type GemmBenchmarks() =
    let mutable a = Matrix<float>.Build.Dense(1, 1)
    let mutable b = Matrix<float>.Build.Dense(1, 1)
    let mutable c: float[] = [||]

    /// "m x k x n": the product of an m x k and a k x n matrix.
    [<Params("1000x1000x1000", "20x576x768")>]
    member val Shape = "" with get, set

    [<GlobalSetup>]
    member this.Setup() =
        let dims = this.Shape.Split 'x' |> Array.map int
        a <- Inputs.gaussian 1 dims[0] dims[1]
        b <- Inputs.gaussian 2 dims[1] dims[2]
        c <- Array.zeroCreate (dims[0] * dims[2])

    member private _.Run(kernels: Kernels.IKernels) =
        kernels.Gemm(
            false,
            false,
            a.RowCount,
            b.ColumnCount,
            a.ColumnCount,
            1.0,
            a.AsColumnMajorArray(),
            a.RowCount,
            b.AsColumnMajorArray(),
            b.RowCount,
            0.0,
            c,
            a.RowCount
        )

    [<Benchmark(Baseline = true)>]
    member this.Native() = this.Run(Kernels.native.Value.Value)

    [<Benchmark>]
    member this.Managed() = this.Run Kernels.managed

    [<Benchmark>]
    member _.MathNetProvider() = a * b

[<MemoryDiagnoser>]
type SvdBenchmarks() =
    let mutable a = Matrix<float>.Build.Dense(1, 1)

    [<Params("576x768", "1000x1000", "20x768")>]
    member val Shape = "" with get, set

    [<GlobalSetup>]
    member this.Setup() =
        let dims = this.Shape.Split 'x' |> Array.map int
        a <- Inputs.gaussian 3 dims[0] dims[1]

    [<Benchmark(Baseline = true)>]
    member _.NativeThinSvd() =
        Kernels.native.Value.Value.ThinSvd(a.RowCount, a.ColumnCount, a.ToColumnMajorArray())

    /// QR of the long side and MathNet's SVD of the small factor; MathNet alone forms the full U and V^T.
    [<Benchmark>]
    member _.ManagedThinSvd() =
        Kernels.managed.ThinSvd(a.RowCount, a.ColumnCount, a.ToColumnMajorArray())

[<MemoryDiagnoser>]
type QrBenchmarks() =
    let a = Inputs.gaussian 4 5760 40

    [<Benchmark(Baseline = true)>]
    member _.NativeQr() =
        Kernels.native.Value.Value.Qr(a.RowCount, a.ColumnCount, a.ToColumnMajorArray())

    [<Benchmark>]
    member _.ManagedQr() =
        Kernels.managed.Qr(a.RowCount, a.ColumnCount, a.ToColumnMajorArray())
