// Image inputs for compressing ResNet-18 (EXPERIMENTS.md, "Compressing a pretrained transformer" and its ResNet part):
// 224 x 224 crops of the street video's grayscale frames, replicated to 3 channels, minus 114 (about the mean pixel of
// the ResNetPreprocess.onnx model that ships beside ResNet18.onnx, which feeds it BGR pixels minus a mean image).
// Calibration: frames 0, 4, ..., 396 (two crops each, 200 images); held out: frames 600, 604, ..., 792 (two crops each,
// 98 images), disjoint in time. Needs data/vtest.npy (scripts/fetch-data.sh) and a build of src/Core.FSharp; run from
// the repository root: `dotnet fsi scripts/resnet-images.fsx`. Writes data/images/{calibration,heldout}.npy, an image
// per row of 3 x 224 x 224 numbers (channel, row, column), as compress-model --calibration expects.
#load "../src/Core.FSharp/obj/LowRank.Core.fsx"

open System.IO
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

let side = 224

if not (File.Exists "data/vtest.npy") then
    eprintfn "data/vtest.npy is missing: run scripts/fetch-data.sh first (from the repository root)."
    exit 1

let images (frames: int[]) =
    let stack = Npy.readStackAt frames "data/vtest.npy"
    // Two crops a frame: the left and the right half of the street, at mid height.
    let crops = [ 150, 100; 150, 450 ]

    let rows =
        [|
            for frame in stack do
                for top, left in crops do
                    let crop =
                        Array.init (side * side) (fun p -> frame[top + p / side, left + p % side] - 114.0)

                    yield Array.concat [ crop; crop; crop ]
        |]

    Matrix<float>.Build.DenseOfRowArrays rows

Directory.CreateDirectory "data/images" |> ignore
Npy.writeMatrix "data/images/calibration.npy" (images [| 0..4..396 |])
Npy.writeMatrix "data/images/heldout.npy" (images [| 600..4..792 |])
printfn "wrote data/images/calibration.npy (200 images) and data/images/heldout.npy (98 images)"
