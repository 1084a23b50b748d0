// A weighted low-rank problem from real data, for `lowrank wlra`: 1000 Fashion-MNIST test images (run
// scripts/fetch-data.sh first) and rank-one weights W = u w^T, written to data/fashion-a.npy and data/fashion-w.npy.
// Run from the repository root after any build of the library (dotnet run --project src/Cli builds it):
//   dotnet fsi scripts/fashion-weighted.fsx
#load "../src/Core.FSharp/obj/LowRank.Core.fsx"

open System.IO
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

// Without the data, one line that says how to get it, not a stack trace.
if not (File.Exists "data/fashion-mnist/t10k-images-idx3-ubyte.gz") then
    eprintfn "data/fashion-mnist/t10k-images-idx3-ubyte.gz is missing: run scripts/fetch-data.sh first (from the repository root)."
    exit 1

let images = Idx.readRows "data/fashion-mnist/t10k-images-idx3-ubyte.gz" // 10000 x 784, one image per row
let labels = Idx.readRows "data/fashion-mnist/t10k-labels-idx1-ubyte.gz" // 10000 x 1
let count = 1000
let a = images.SubMatrix(0, count, 0, images.ColumnCount) / 255.0

// Pixel weights w: inverse standard deviations over the images (precision weights, as for inverse-variance weighted
// fitting), bounded by the 0.05 floor. Image weights u: footwear (labels 5 sandal, 7 sneaker, 9 ankle boot) counts 4x.
let pixelWeights =
    Array.init a.ColumnCount (fun j ->
        let column = a.Column j
        let mean = column.Sum() / float count
        let std = sqrt ((column - mean).PointwisePower(2.0).Sum() / float count)
        1.0 / (0.05 + std))

let imageWeights =
    Array.init count (fun i ->
        match int labels[i, 0] with
        | 5
        | 7
        | 9 -> 4.0
        | _ -> 1.0)

let w =
    Matrix<float>.Build.Dense(count, a.ColumnCount, fun i j -> imageWeights[i] * pixelWeights[j])

Directory.CreateDirectory "data" |> ignore
Npy.writeMatrix "data/fashion-a.npy" a
Npy.writeMatrix "data/fashion-w.npy" w
printfn "wrote data/fashion-a.npy (%d x %d images, scaled to [0, 1]) and data/fashion-w.npy (rank-one weights)" count a.ColumnCount
