namespace LowRank.Properties

open System
open System.Threading
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Properties.Generators
open LowRank.Properties.Runner

/// A distribution of n x d matrices: A = (L o (1 + 0.1 G1)) M + noise G3, with L fixed by the seed (its first
/// quarter of rows 15x heavier, so some rows matter more than others, as in video frames with a busy region) and
/// M, G1, G3 drawn per matrix. Every matrix has the same heavy rows, which a learned sketch can find and a random
/// one cannot.
type Distribution = {
    Rows: int
    Columns: int
    Rank: int
    Seed: int
} with

    member spec.Sample(index: int) =
        let basis = Random(spec.Seed)
        let inner = 2 * spec.Rank

        let left =
            Matrix<float>
                .Build.Dense(spec.Rows, inner, fun i _ -> (if i < spec.Rows / 4 then 5.0 else 0.3) * normal basis)

        let random = Random(spec.Seed + 7919 * (index + 1))
        let weights = left.Map(fun x -> x * (1.0 + 0.1 * normal random))

        weights * gaussian random inner spec.Columns
        + 0.1 * gaussian random spec.Rows spec.Columns

    override spec.ToString() =
        sprintf "%dx%d rank %d seed %d" spec.Rows spec.Columns spec.Rank spec.Seed

/// A learned sketch does what Indyk, Vakilian and Yuan (NeurIPS 2019) report: on matrices from the distribution it
/// was trained on, its SCW test error is lower than that of the random CountSketch it started from.
module LearnedBeatsRandomOnItsDistribution =

    let private distributions =
        gen {
            let! rows = Gen.choose (24, 60)
            let! columns = Gen.choose (16, 40)
            let! rank = Gen.choose (1, 3)
            let! seed = seed

            return {
                Rows = rows
                Columns = columns
                Rank = rank
                Seed = seed
            }
        }

    let private learnedVersusStart (kind: LearnedSketchKind) =
        forAll distributions (fun spec ->
            let training = Array.init 6 spec.Sample
            let test = Array.init 4 (fun i -> spec.Sample(100 + i))

            let options = {
                Training.defaults spec.Rank (2 * spec.Rank + 2) with
                    Steps = 60
                    BatchSize = 6
                    Kind = kind
                    Seed = spec.Seed
            }

            let result = Training.train options ignore CancellationToken.None training
            let _, hash, values, random = Training.start options spec.Rows
            let start = Sketch.ofCountSketch (Training.trainedRows options) hash values

            let start =
                random
                |> Option.map (fun r -> Sketch.stack [ start; r ])
                |> Option.defaultValue start

            let error sketch =
                Scw.testError Normalization.TopSingularValue spec.Rank sketch test

            let learned, initial = error result.Sketch, error start

            // A mixed sketch keeps its random rows' worst-case guarantee: its row space contains theirs, so on
            // every matrix its SCW error is at most theirs (MixedSketchWorstCase, for a trained sketch).
            let worstCase =
                match random with
                | None -> []
                | Some r ->
                    // Theorem 1's guarantee rests on every random row being kept as it was drawn: the trained sketch
                    // is [learned; R] with R exactly the random rows (dense S = S I_n, compared entry for entry).
                    let dense sketch =
                        Sketch.apply (Matrix<float>.Build.DenseIdentity spec.Rows) sketch

                    let trained, randomRows = dense result.Sketch, dense r
                    let learnedRows = Training.trainedRows options

                    holds
                        "the trained mixed sketch is [learned rows; every random row, unchanged]"
                        (trained.RowCount = options.SketchRows
                         && trained.SubMatrix(learnedRows, trained.RowCount - learnedRows, 0, spec.Rows) = randomRows)
                    :: (test
                        |> Array.toList
                        |> List.map (fun a ->
                            atMost
                                (medium |> scaledTo (Norm.frobenius a))
                                "SCW error of the trained mixed sketch <= that of its random rows alone"
                                (Scw.error spec.Rank result.Sketch a)
                                (Scw.error spec.Rank r a)))

            all (
                holds (sprintf "learned test error %.6g < random start's %.6g" learned initial) (learned < initial)
                :: worstCase
            ))
        |> checkWith 8

    [<Fact>]
    let ``a Learned sketch has lower test error than its random start`` () =
        learnedVersusStart LearnedSketchKind.Learned

    [<Fact>]
    let ``a Mixed (J) sketch has lower test error than its random start`` () =
        learnedVersusStart LearnedSketchKind.MixedJoint
