namespace LowRank.Properties

open System
open System.IO
open System.Threading
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// Data-parallel training on 1 to 4 ranks (threads) equals training on one process, to rounding.
module DistributedTraining =

    [<Fact>]
    let ``data-parallel training on 1 to 4 ranks takes the single-process steps`` () =
        let case =
            gen {
                let! count = Gen.choose (1, 7)
                let! rows = Gen.choose (4, 12)
                let! columns = Gen.choose (3, 9)
                let! k = Gen.choose (1, 3)
                let! p = Gen.choose (1, 4)
                let! cuts = Partitions.split count p
                let! positions = Gen.elements [ SketchPositions.Random; SketchPositions.Principal ]
                let! optimizer = Gen.elements [ Optimizer.Sgd; Optimizer.Adam ]
                let! batch = Gen.choose (1, count)
                let! validation = Gen.elements [ 0.0; 0.3 ]
                let! dataSeed = seed
                let! compact = Gen.elements [ true; false ]
                // k below min(n, d): at k = min(n, d) SCW is exact, the gradient is rounding noise, and Adam's m / sqrt(v)
                // turns noise of either sign into full steps, so two summation orders part ways.
                return
                    count,
                    rows,
                    columns,
                    min k (min rows columns - 1),
                    cuts,
                    positions,
                    optimizer,
                    batch,
                    validation,
                    dataSeed,
                    compact
            }

        forAll case (fun (count, rows, columns, k, cuts, positions, optimizer, batch, validation, dataSeed, compact) ->
            let matrices =
                Array.init count (fun i -> Matrix<float>.Build.Random(rows, columns, dataSeed + i))

            let options = {
                Training.defaults k (k + 2) with
                    Steps = 12
                    Positions = positions
                    Optimizer = optimizer
                    BatchSize = batch
                    ValidationFraction = validation
                    Seed = dataSeed
            }

            let single = Training.train options ignore CancellationToken.None matrices

            let spread =
                Communicator.runInProcess (cuts.Length - 1) (fun c ->
                    let first, share = cuts[c.Rank], cuts[c.Rank + 1] - cuts[c.Rank]
                    let mine = matrices[first .. first + share - 1]

                    // A compact stack (read through Fill, as a uint8 video is) sliced to this rank's share, or an array.
                    let part: seq<Matrix<float>> =
                        if compact && share > 0 then
                            let fill (i: int) (target: float[]) =
                                Array.blit (matrices[i].ToColumnMajorArray()) 0 target 0 target.Length

                            MatrixStack(count, rows, columns, fill, None) |> MatrixStack.slice first share :> _
                        else
                            mine

                    Distributed.train c options ignore CancellationToken.None part)

            let values (result: TrainingResult) = Sketch.toMatrix result.Final
            let expected = values single
            let scale = max 1.0 (Norm.frobenius expected)

            all [
                holds
                    "every rank ends with the same sketch"
                    (spread |> Array.forall (fun r -> (values r).Equals(values spread[0])))
                holds
                    "the same steps were taken"
                    (spread[0].StepsCompleted = single.StepsCompleted
                     && spread[0].RejectedSteps = single.RejectedSteps)
                atMost
                    (medium |> scaledTo scale)
                    "||S_distributed - S_single||_F = 0"
                    (Norm.frobenius (values spread[0] - expected))
                    0.0
                close (medium |> scaledTo 1.0) "the best loss" spread[0].BestLoss single.BestLoss
            ])
        |> checkWith 40

    [<Fact>]
    let ``a run cancelled on some ranks and resumed on another number ends where one uninterrupted process ends`` () =
        let folder = Directory.CreateTempSubdirectory("lowrank-resume").FullName

        try
            for first, second, positions in
                [
                    2, 3, SketchPositions.Principal
                    3, 1, SketchPositions.Random
                    1, 4, SketchPositions.Principal
                ] do
                let matrices = Array.init 7 (fun i -> Matrix<float>.Build.Random(10, 8, 100 + i))
                let path = Path.Combine(folder, $"run-{first}-{second}.ckpt")

                let options = {
                    Training.defaults 2 4 with
                        Steps = 20
                        BatchSize = 3
                        Positions = positions
                        CheckpointPath = Some path
                        CheckpointEvery = 5
                        Seed = 11
                }

                let alone =
                    Training.train { options with CheckpointPath = None } ignore CancellationToken.None matrices

                let split (p: int) (rank: int) =
                    matrices[7 * rank / p .. 7 * (rank + 1) / p - 1]

                // Rank 0 alone is cancelled after step 8; the ranks agree to stop there, and rank 0 writes the checkpoint.
                let interrupted =
                    Communicator.runInProcess first (fun c ->
                        use cancel = new CancellationTokenSource()

                        let progress (p: TrainingProgress) =
                            if c.Rank = 0 && p.Step = 8 then
                                cancel.Cancel()

                        Distributed.train c options progress cancel.Token (split first c.Rank))

                // The steps the resumed run reports: 9 to 20 when it continues, 1 to 20 if it started over.
                let reported = Collections.Concurrent.ConcurrentQueue<int>()

                let resumed =
                    Communicator.runInProcess second (fun c ->
                        let progress (p: TrainingProgress) =
                            if c.Rank = 0 then
                                reported.Enqueue p.Step

                        Distributed.train
                            c
                            { options with ResumeFrom = Some path }
                            progress
                            CancellationToken.None
                            (split second c.Rank))

                let values (r: TrainingResult) = Sketch.toMatrix r.Final
                let expected = values alone

                let difference =
                    Norm.frobenius (values resumed[0] - expected) / Norm.frobenius expected

                Assert.True(
                    interrupted |> Array.forall (fun r -> r.Cancelled && r.StepsCompleted = 8),
                    $"{first} ranks stopped at step {interrupted[0].StepsCompleted}"
                )

                Assert.True(resumed[0].StepsCompleted = 20 && not resumed[0].Cancelled)
                Assert.Equal<int[]>([| 9..20 |], reported.ToArray())
                Assert.True(difference <= 1e-10, $"{first} then {second} ranks: relative difference {difference:E2}")
        finally
            Directory.Delete(folder, true)

    [<Fact>]
    let ``a non-finite matrix of a compact stack on one rank fails every rank, naming its global index`` () =
        let matrices = Array.init 6 (fun i -> Matrix<float>.Build.Random(8, 5, 40 + i))
        matrices[4][2, 3] <- infinity

        let fill (i: int) (target: float[]) =
            Array.blit (matrices[i].ToColumnMajorArray()) 0 target 0 target.Length

        let stack = MatrixStack(6, 8, 5, fill, None)

        let outcomes =
            Communicator.runInProcess 3 (fun c ->
                try
                    let mine = MatrixStack.slice (2 * c.Rank) 2 stack

                    Distributed.train c (Training.defaults 2 3) ignore CancellationToken.None mine
                    |> ignore

                    "trained"
                with :? ArgumentException as e ->
                    e.Message)

        // The same message on every rank (the value prints per culture: "Infinity" or "∞").
        let expected =
            "matrices[4]: Expected only finite entries in matrix, but matrix[2, 3] = "

        Assert.All(outcomes, fun m -> Assert.StartsWith(expected, m))
        Assert.Single(Array.distinct outcomes) |> ignore
