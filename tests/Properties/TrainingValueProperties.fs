namespace LowRank.Properties

open System
open System.IO
open System.Text
open System.Threading
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// The values of the learned-sketch features added after the theorems' suite (issue 24), each recomputed from its
/// definition on inputs where a plausible slip shows: the principal start with s &lt; m', the sketch a run returns, the
/// checkpoint's fingerprint, the index a bad matrix is named by.
module TrainingValues =

    /// The top `count` eigenvectors (columns, by descending eigenvalue) of a symmetric matrix, and whether the top
    /// count + 1 eigenvalues are separated by a relative gap of at least 1e-3 (so the vectors are determined up to
    /// sign and a small perturbation moves them little).
    let private topEigenvectors (count: int) (g: Matrix<float>) =
        let values, vectors = Dense.symmetricEigen g
        let order = Array.init values.Length id |> Array.sortBy (fun i -> -values[i])
        let top = values[order[0]]

        let separated =
            top > 0.0
            && Seq.pairwise (order |> Array.truncate (min values.Length (count + 1)))
               |> Seq.forall (fun (i, j) -> values[i] - values[j] >= 1e-3 * top)

        Matrix<float>.Build.Dense(g.RowCount, count, fun i c -> vectors[i, order[c]]), separated

    let private trainCase =
        gen {
            let! rows = Gen.choose (3, 9)
            let! columns = Gen.choose (rows, 12)
            let! count = Gen.choose (1, 3)
            let! sketchRows = Gen.choose (2, rows)
            let! s = Gen.choose (1, sketchRows - 1)
            let! seed = seed
            return rows, columns, count, sketchRows, s, seed
        }

    /// The Principal start with s &lt; m' nonzeros per column keeps, in column j, the s rows r with the largest
    /// |U[j, r]| (U the top m' eigenvectors of sum_i A_i A_i^T), with values sqrt(n) U[j, r]. A start that ranks rows
    /// by the signed U[j, r] keeps other rows whenever a large entry is negative.
    [<Fact>]
    let ``the principal start keeps each column's s largest |U[j, r]|, as sqrt(n) U[j, r]`` () =
        let cases = NonTrivial "had a column whose top s rows by |U| differ from those by U"

        forAll trainCase (fun (rows, columns, count, sketchRows, s, seed) ->
            let random = Random(seed)
            let train = Array.init count (fun _ -> gaussian random rows columns)

            let options = {
                Training.defaults 1 sketchRows with
                    Steps = 0
                    ValidationFraction = 0.0
                    Normalization = Normalization.None
                    NonzerosPerColumn = s
                    Seed = seed
            }

            let sketch =
                Sketch.toMatrix (Training.train options ignore CancellationToken.None train).Sketch

            let g = train |> Array.map (fun a -> a * a.Transpose()) |> Array.reduce (+)
            let u, separated = topEigenvectors sketchRows g
            let scale = sqrt (float rows)

            let columnsHold = [
                for j in 0 .. rows - 1 do
                    let magnitudes = Array.init sketchRows (fun r -> abs u[j, r])
                    let sorted = Array.sortDescending magnitudes
                    // A tie at the cut leaves the choice open; skip such a column.
                    if s = sketchRows || sorted[s - 1] - sorted[s] > 1e-6 then
                        for r in 0 .. sketchRows - 1 do
                            let expected =
                                if magnitudes[r] >= sorted[s - 1] then
                                    scale * magnitudes[r]
                                else
                                    0.0

                            close
                                ({ Absolute = 1e-7; Relative = 1e-7 } |> scaledTo scale)
                                (sprintf "|S[%d, %d]| = sqrt(n) |U[%d, %d]| or 0" r j j r)
                                (abs sketch[r, j])
                                expected
            ]

            let signedDiffers =
                [ 0 .. rows - 1 ]
                |> List.exists (fun j ->
                    let bySign =
                        Array.init sketchRows id |> Array.sortBy (fun r -> -u[j, r]) |> Array.truncate s

                    let byMagnitude =
                        Array.init sketchRows id
                        |> Array.sortBy (fun r -> -abs u[j, r])
                        |> Array.truncate s

                    Set.ofArray bySign <> Set.ofArray byMagnitude)

            // Near-equal eigenvalues leave U's columns undetermined: nothing to compare against.
            (if separated then
                 all columnsHold
             else
                 holds "eigenvalues too close to compare" true)
            |> cases.Classify(separated && signedDiffers))
        |> checkNonTrivial 40 10 cases

    /// Without validation the returned sketch is the one whose batch loss was lowest, and BestLoss is that loss: with
    /// the whole set as the batch, the mean of ||A_i - SCW(S, A_i)||_F over the training matrices, recomputed from the
    /// returned sketch. Returning the values after the best step's update breaks it.
    [<Fact>]
    let ``without validation, BestLoss is the returned sketch's mean training error`` () =
        forAll trainCase (fun (rows, columns, count, sketchRows, _, seed) ->
            let random = Random(seed)
            let train = Array.init count (fun _ -> gaussian random rows columns)

            let options = {
                Training.defaults 1 sketchRows with
                    Steps = 6
                    BatchSize = count
                    ValidationFraction = 0.0
                    Normalization = Normalization.None
                    Positions = SketchPositions.Random
                    LearningRate = 0.05
                    Seed = seed
            }

            let result = Training.train options ignore CancellationToken.None train
            let recomputed = train |> Array.averageBy (fun a -> Scw.error 1 result.Sketch a)
            let scale = train |> Array.averageBy Norm.frobenius

            close
                ({ Absolute = 1e-9; Relative = 1e-9 } |> scaledTo scale)
                "BestLoss = mean ||A - SCW(S, A)||_F of the returned sketch"
                result.BestLoss
                recomputed)
        |> checkWith 30

    /// Changes to one option each, every one of which the checkpoint's fingerprint must reject on resume.
    let private changes: (string * (TrainingOptions -> TrainingOptions))[] = [|
        "ValidationFraction",
        (fun o -> {
            o with
                ValidationFraction = o.ValidationFraction + 0.25
        })
        "LearningRate",
        (fun o -> {
            o with
                LearningRate = 2.0 * o.LearningRate
        })
        "DecayFactor", (fun o -> { o with DecayFactor = 0.5 })
        "Rank", (fun o -> { o with Rank = o.Rank + 1 })
        "Loss", (fun o -> { o with Loss = TrainingLoss.VNorm })
        "Normalization",
        (fun o -> {
            o with
                Normalization = Normalization.None
        })
        "Seed", (fun o -> { o with Seed = o.Seed + 1 })
    |]

    /// A resumed run continues an uninterrupted one only with the same options: a checkpoint written under some
    /// options and resumed under any one of them changed is rejected, naming the option, whatever the change.
    [<Fact>]
    let ``a checkpoint resumed with any one option changed is rejected`` () =
        forAll (Gen.zip (Gen.elements changes) seed) (fun ((name, change), seed) ->
            let random = Random(seed)
            let train = Array.init 8 (fun _ -> gaussian random 8 6)

            let path =
                Path.Combine(Path.GetTempPath(), $"lowrank-fingerprint-{Guid.NewGuid():N}.ckpt")

            try
                let options = {
                    Training.defaults 2 4 with
                        Steps = 2
                        ValidationFraction = 0.25
                        Seed = seed
                        CheckpointPath = Some path
                }

                Training.train options ignore CancellationToken.None train |> ignore

                let resumed = {
                    change options with
                        Steps = 3
                        CheckpointPath = None
                        ResumeFrom = Some path
                }

                let outcome =
                    try
                        Training.train resumed ignore CancellationToken.None train |> ignore
                        "resumed"
                    with :? ArgumentException as e when e.Message.Contains "was written for" ->
                        "rejected"

                holds $"a resume with {name} changed is rejected ({outcome})" (outcome = "rejected")
            finally
                File.Delete path)
        |> checkWith 14

    /// A non-finite entry in one training matrix is reported with that matrix's index, whichever it is.
    [<Fact>]
    let ``a non-finite training matrix is named by its index`` () =
        forAll
            (Gen.zip3 (Gen.choose (1, 6)) (Gen.elements [ nan; infinity; -infinity ]) seed)
            (fun (count, bad, seed) ->
                let random = Random(seed)
                let train = Array.init count (fun _ -> gaussian random 6 5)
                let index = random.Next count
                train[index][random.Next 6, random.Next 5] <- bad

                let message =
                    try
                        Training.train (Training.defaults 1 3) ignore CancellationToken.None train
                        |> ignore

                        "accepted"
                    with :? ArgumentException as e ->
                        e.Message

                holds $"the message names matrices[{index}]: {message}" (message.Contains $"matrices[{index}]"))
        |> checkWith 30
