/// One training step of a learned sketch at the paper's shape (a 576 x 768 frame, k = 10, m = 20) for each way of
/// differentiating the SVDs, against one SCW evaluation with the same sketch on the same backend.
namespace LowRank.Benchmarks

open BenchmarkDotNet.Attributes
open System
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

        let _, h, v, _ =
            StartingSketches.start Sharding.whole options 1 (fun _ -> failwith "unused") [||] 576

        hash <- h
        values <- v
        sketch <- Sketch.ofCountSketch 20 h v

    /// One SCW evaluation: the forward pass alone, without differentiation.
    [<Benchmark(Baseline = true)>]
    member _.ScwError() = Scw.error 10 sketch a

    /// The loss and its gradient in the 576 values for one frame: the per-matrix work of a training step.
    member private _.Step(svd: SvdMethod) =
        LossGradient.lossAndGradient { options with Svd = svd } hash None 1 values a

    [<Benchmark>]
    member this.StepExact() = this.Step SvdMethod.Exact

    [<Benchmark>]
    member this.StepPowerMethod10() = this.Step(SvdMethod.PowerMethod 10)

    [<Benchmark>]
    member this.StepPowerMethod100() = this.Step(SvdMethod.PowerMethod 100)

/// One training step on real frames (issue 11): the batch of 8 that a step differentiates, 576 x 768 frames of
/// data/vtest.npy (scripts/fetch-data.sh) scaled to sigma_1 = 1, k = 10, m = 20, side by side on single-threaded BLAS
/// as Training.train runs them, for the 2019 method (a CountSketch with random positions) and the default (the
/// dense Principal start). The baseline is the same batch's forward pass alone (SCW on each frame). PyTorch's step on
/// the same data is measured by benchmarks/torch_training_step.py (benchmarks/README.md has both).
[<MemoryDiagnoser>]
type TrainingStepBenchmarks() =
    let mutable batch: Matrix<float>[] = [||]
    let mutable norms: float[] = [||]
    let mutable countSketch = (Training.defaults 10 20, [||], [||])
    let mutable principal = (Training.defaults 10 20, [||], [||])

    [<GlobalSetup>]
    member _.Setup() =
        Inputs.select "native"
        let path = IO.Path.Combine(__SOURCE_DIRECTORY__, "..", "data", "vtest.npy")

        if not (IO.File.Exists path) then
            failwith $"TrainingStepBenchmarks needs {path}: run scripts/fetch-data.sh first."

        batch <-
            Npy.readStackAt [| 1; 2; 3; 4; 6; 7; 8; 9 |] path
            |> Seq.map (fun a -> a / (Dense.topSingularValues 1 a)[0])
            |> Seq.toArray

        norms <- batch |> Array.map (fun a -> Dense.twoNorm (Dense.storedValues a) ** 2.0)

        let random = {
            Training.defaults 10 20 with
                Positions = SketchPositions.Random
                NonzerosPerColumn = 1
        }

        let _, hash, values, _ =
            StartingSketches.start Sharding.whole random 1 (fun _ -> failwith "unused") [||] 576

        countSketch <- (random, hash, values)
        let defaults = Training.defaults 10 20

        let _, hash, values, _ =
            StartingSketches.start
                Sharding.whole
                defaults
                1
                (fun i -> batch[i])
                (Array.init batch.Length (fun i -> i, 1.0))
                576

        principal <- (defaults, hash, values)

    member private _.Step((options, hash, values): TrainingOptions * int[] * float[]) =
        Backend.sideBySide (fun workers ->
            batch
            |> Array.indexed
            |> Backend.mapSideBySide workers (fun (i, a) ->
                LossGradient.lossAndGradientWith options hash None i values a norms[i]))

    /// SCW on each frame of the batch, side by side: the forward pass alone.
    [<Benchmark(Baseline = true)>]
    member _.Forward() =
        let sketch = Sketch.countSketch 0 20 576

        Backend.sideBySide (fun workers ->
            batch |> Backend.mapSideBySide workers (fun a -> Scw.approximate 10 sketch a))

    [<Benchmark>]
    member this.StepCountSketch() = this.Step countSketch

    [<Benchmark>]
    member this.StepPrincipalDense() = this.Step principal
