/// One training step of a learned sketch at the paper's shape (a 576 x 768 frame, k = 10, m = 20) for each way of
/// differentiating the SVDs, against one SCW evaluation with the same sketch on the same backend.
namespace LowRank.Benchmarks

open BenchmarkDotNet.Attributes
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

[<MemoryDiagnoser>]
type TrainingBenchmarks() =
    let mutable a = Matrix<float>.Build.Dense(1, 1)
    let mutable hash = [||]
    let mutable values = [||]
    let mutable sketch = Sketch.identity 1

    let options = {
        Training.defaults 10 20 with
            Positions = SketchPositions.Random
            NonzerosPerColumn = 1
    }

    [<Params("native", "managed")>]
    member val Backend = "" with get, set

    [<GlobalSetup>]
    member this.Setup() =
        Inputs.select this.Backend
        a <- Inputs.frame 5 576 768
        let _, h, v, _ = Training.start options (fun xs f -> Array.map f xs) [||] 576
        hash <- h
        values <- v
        sketch <- Sketch.ofCountSketch 20 h v

    /// One SCW evaluation: the forward pass alone, without differentiation.
    [<Benchmark(Baseline = true)>]
    member _.ScwError() = Scw.error 10 sketch a

    /// The loss and its gradient in the 576 values for one frame: the per-matrix work of a training step.
    member private _.Step(svd: SvdMethod) =
        Training.lossAndGradient { options with Svd = svd } hash None 1 values a

    [<Benchmark>]
    member this.StepExact() = this.Step SvdMethod.Exact

    [<Benchmark>]
    member this.StepPowerMethod10() = this.Step(SvdMethod.PowerMethod 10)

    [<Benchmark>]
    member this.StepPowerMethod100() = this.Step(SvdMethod.PowerMethod 100)
