// LowRank from F# interactive. Build once (`dotnet build src/Core.FSharp`, in either configuration: the build writes
// the loader this script #loads), then run `dotnet fsi scripts/quickstart.fsx` from the repository root. A test runs
// every script so, after a Debug and after a Release build.
#load "../src/Core.FSharp/obj/LowRank.Core.fsx"

open System.Threading
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

// SCW: a rank-10 approximation of a 200 x 100 matrix from a 20-row CountSketch, next to the optimum.
let a =
    Matrix<float>.Build.Random(200, 10, 1) * Matrix<float>.Build.Random(10, 100, 2)
    + 0.1 * Matrix<float>.Build.Random(200, 100, 3)

let sketch = Sketch.countSketch 4 20 a.RowCount
printfn "SCW error %.4f, optimal rank-10 error %.4f" (Scw.error 10 sketch a) (Svd.optimalError 10 a)

// svd_w: weighted low-rank approximation with rank-one weights, one SVD of W o A divided by W.
let weights =
    Weights.rankOne (Array.init 200 (fun i -> 1.0 + float (i % 5))) (Array.create 100 1.0)

let svdW = a |> Wlra.svdW WlraOptions.Default 10 weights
let plain = a |> Wlra.svd 10 weights
printfn "weighted loss: svd_w %.4f, unweighted svd %.4f" svdW.Loss plain.Loss

// A learned sketch: 100 training steps on matrices that share a heavy block of rows, then the test error.
let left =
    Matrix<float>.Build.Random(200, 10, 5).MapIndexed(fun i _ x -> if i < 40 then 5.0 * x else 0.3 * x)

let sample (seed: int) =
    left * Matrix<float>.Build.Random(10, 100, seed) + 0.1 * Matrix<float>.Build.Random(200, 100, seed + 1000)

let training, test = Array.init 10 sample, Array.init 4 (fun i -> sample (100 + i))

let result =
    Training.train { Training.defaults 5 10 with Steps = 100 } ignore CancellationToken.None training

let error s =
    Scw.testError Normalization.TopSingularValue 5 s test

printfn "test error: learned %.5f, random CountSketch %.5f" (error result.Sketch) (error (Sketch.countSketch 0 10 200))
