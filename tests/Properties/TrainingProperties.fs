namespace LowRank.Properties

open System
open System.Threading
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
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
                    LearningRate = 0.05
                    BatchSize = 6
                    Kind = kind
                    Seed = spec.Seed
                    Positions = SketchPositions.Random
                    NonzerosPerColumn = 1
            }

            let result = Training.train options ignore CancellationToken.None training

            let _, hash, values, random =
                StartingSketches.start Sharding.whole options 1 (fun _ -> failwith "unused") [||] spec.Rows

            let start = Sketch.ofCountSketch (TrainingShape.trainedRows options) hash values

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
                    let learnedRows = TrainingShape.trainedRows options

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

/// The Principal start (learned positions by the inner-product initialisation, here dense: every trained row), with
/// no gradient step (a few-shot sketch). Let every matrix be A = U D1 X^T + W D2 Y^T with [U W] (n x (r + q)) fixed
/// and orthonormal, X and Y (d x r, d x q) drawn per matrix with [X Y] orthonormal, D1 in [2, 3] and D2 in [0, 1]
/// diagonal. Then sum_i A_i A_i^T = U (sum D1^2) U^T + W (sum D2^2) W^T, whose top r eigenvectors span U, so with
/// m' = k = r trained rows S = sqrt(n) U'^T and S A = sqrt(n) U'^T U D1 X^T has row space X, and SCW(S, A) =
/// A X X^T = U D1 X^T, the best rank-r approximation (singular values of D1 above those of D2): the SCW error equals
/// the optimal one. A random sketch with r rows mixes W D2 Y^T into S A and misses it; so does a start from the wrong
/// side, from perturbed directions, or with positions that lose directions.
module PrincipalStartOnASharedColumnSpace =

    let private cases =
        gen {
            let! r = Gen.choose (1, 3)
            let! q = Gen.choose (1, 3)
            let! extraRows = Gen.elements [ 0; 1; 5; 20 ]
            let! extraColumns = Gen.elements [ 0; 1; 5; 20 ]
            let! training = Gen.choose (1, 4)
            let! zeroTail = Gen.elements [ false; false; true ]
            let! scale = scale
            let! seed = seed
            return r, q, r + q + extraRows, r + q + extraColumns, training, zeroTail, scale, seed
        }

    let private orthonormal (random: Random) rows columns =
        (gaussian random rows columns).QR().Q.SubMatrix(0, rows, 0, columns)

    [<Fact>]
    let ``a dense Principal start gives the optimal SCW error when the training set's principal directions are the test matrices' ``
        ()
        =
        forAll cases (fun (r, q, rows, columns, training, zeroTail, scale, seed) ->
            let random = Random(seed)
            let left = orthonormal random rows (r + q)
            let u, w = left.SubMatrix(0, rows, 0, r), left.SubMatrix(0, rows, r, q)

            let sample () =
                let right = orthonormal random columns (r + q)
                let x, y = right.SubMatrix(0, columns, 0, r), right.SubMatrix(0, columns, r, q)

                let d1 =
                    Matrix<float>.Build.DiagonalOfDiagonalArray(Array.init r (fun _ -> 2.0 + random.NextDouble()))

                let d2 =
                    Matrix<float>
                        .Build
                        .DiagonalOfDiagonalArray(Array.init q (fun _ -> if zeroTail then 0.0 else random.NextDouble()))

                scale * (u * d1 * x.Transpose() + w * d2 * y.Transpose())

            let train = Array.init training (fun _ -> sample ())
            let test = Array.init 3 (fun _ -> sample ())

            let options = {
                Training.defaults r r with
                    Steps = 0
                    ValidationFraction = 0.0
                    Seed = seed
            }

            let result = Training.train options ignore CancellationToken.None train

            test
            |> Array.toList
            |> List.map (fun a ->
                atMost
                    (medium |> scaledTo (Norm.frobenius a))
                    (sprintf
                        "SCW error with the Principal start (%dx%d, r = k = m' = %d, q = %d) <= optimal"
                        rows
                        columns
                        r
                        q)
                    (Scw.error r result.Sketch a)
                    (Svd.optimalError r a))
            |> all)
        |> checkWith 60

    [<Fact>]
    let ``a sketch with s nonzeros per column has exactly s nonzeros in each column of its trained rows`` () =
        forAll (Gen.zip3 (Gen.choose (1, 30)) (Gen.choose (1, 6)) seed) (fun (rows, rank, seed) ->
            let sketchRows = rank + 3
            let random = Random(seed)
            let train = Array.init 3 (fun _ -> gaussian random rows 7)

            [ SketchPositions.Random; SketchPositions.Principal ]
            |> List.collect (fun positions ->
                [ 1; 2; sketchRows ]
                |> List.map (fun s ->
                    let options = {
                        Training.defaults (min rank (min rows 7)) sketchRows with
                            Steps = 0
                            ValidationFraction = 0.0
                            Seed = seed
                            Positions = positions
                            NonzerosPerColumn = s
                    }

                    let sketch = (Training.train options ignore CancellationToken.None train).Sketch
                    let dense = Sketch.apply (Matrix<float>.Build.DenseIdentity rows) sketch

                    let counts =
                        Array.init rows (fun j -> dense.Column(j) |> Seq.filter (fun x -> x <> 0.0) |> Seq.length)

                    // A Principal column whose top entries are exact zeros (m' > n) has fewer nonzeros.
                    holds
                        (sprintf "%A with s = %d: nonzeros per column %A" positions s counts)
                        (counts
                         |> Array.forall (fun c ->
                             c = s || (positions = SketchPositions.Principal && sketchRows > rows && c <= s)))))
            |> all)
        |> checkWith 30

/// The greedy position search (Li, Lin, Liu, Vakilian and Woodruff, ICLR 2023). It visits the columns in order and
/// moves each column's nonzero to the row that minimises the summed squared SCW error of the scored matrices; its
/// score is exact when K = k + 20 covers the matrices' rank, as on these small matrices. So (1) the first column ends
/// in a row whose summed squared SCW error, with every other column at its start, is the minimum over all m rows
/// (brute force with Scw.error), and (2) the pass never raises the summed squared error. An objective with the wrong
/// scaling, the wrong side or a missing Sigma fails (1).
module GreedyPositionsAreBestMoves =

    let private cases =
        gen {
            let! rows, columns = shape
            let! rank = Gen.choose (1, min rows columns)
            let! extra = Gen.choose (0, 3)
            let! count = Gen.choose (1, 3)
            let! zero = Gen.elements [ false; false; false; true ]
            let! scale = scale
            let! seed = seed
            return rows, columns, rank, rank + extra, count, zero, scale, seed
        }

    [<Fact>]
    let ``each greedy move is the best row for its column, and the pass never raises the error`` () =
        forAll cases (fun (rows, columns, rank, sketchRows, count, zero, scale, seed) ->
            let random = Random(seed)

            let matrices =
                Array.init count (fun g ->
                    if zero && g = 0 then
                        Matrix<float>.Build.Dense(rows, columns)
                    else
                        scale * gaussian random rows columns)

            let hash = Array.init rows (fun _ -> random.Next sketchRows)

            let values =
                Array.init rows (fun _ -> (if random.Next 2 = 0 then -1.0 else 1.0) * (0.5 + random.NextDouble()))

            let summed (hash: int[]) =
                let sketch = Sketch.ofCountSketch sketchRows hash values

                matrices
                |> Array.sumBy (fun a ->
                    let e = Scw.error rank sketch a
                    e * e)

            let start = Array.copy hash
            let before = summed start

            // Brute force for the first column, every other column at its start.
            let firstColumn =
                Array.init sketchRows (fun r ->
                    let trial = Array.copy start
                    trial[0] <- r
                    summed trial)

            StartingSketches.greedyPositions
                1
                (fun g -> matrices[g])
                rank
                sketchRows
                hash
                values
                (Array.init count (fun g -> g, 1.0))

            let after = summed hash

            let tolerance =
                medium |> scaledTo (matrices |> Array.sumBy (fun a -> Norm.frobenius a ** 2.0))

            all [
                atMost
                    tolerance
                    (sprintf "the first column's row %d scores the minimum over the rows %A" hash[0] firstColumn)
                    firstColumn[hash[0]]
                    (Array.min firstColumn)
                atMost tolerance "summed squared SCW error after the greedy pass <= before" after before
            ])
        |> checkWith 60
