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

/// Row partitions and the reference the streaming and distributed SCW must equal.
module Partitions =

    /// Cut points splitting n rows into `parts` consecutive pieces, some possibly empty.
    let split (n: int) (parts: int) : Gen<int[]> =
        gen {
            let! cuts = Gen.listOfLength (parts - 1) (Gen.choose (0, n))
            return Array.concat [ [| 0 |]; List.sort cuts |> Array.ofList; [| n |] ]
        }

    /// The row blocks between the cut points (empty ones as 0 x d matrices).
    let blocks (a: Matrix<float>) (cuts: int[]) =
        Array.init (cuts.Length - 1) (fun i ->
            let count = cuts[i + 1] - cuts[i]

            if count = 0 then
                Matrix<float>.Build.Dense(0, a.ColumnCount)
            else
                a.SubMatrix(cuts[i], count, 0, a.ColumnCount))

    /// The sketch for n rows either as the counter-based CountSketch of the spec's seed and rows (`hashed`) or as the
    /// spec's own sketch, with the BlockSketch that names it.
    let sketches (sketch: SketchSpec) (hashed: bool) (n: int) =
        if hashed then
            Sketch.hashedCountSketch sketch.Seed sketch.Rows n, BlockSketch.Hashed(sketch.Seed, sketch.Rows)
        else
            let s = sketch.Build n
            s, BlockSketch.Given s

    /// The relative gap (sigma_k - sigma_k+1) / sigma_1 of A V, V the row space of S A: where it is tiny, [A V]_k is not
    /// determined to rounding (two algorithms may keep different directions of equal value), so only the errors are
    /// compared there.
    let gap (k: int) (sa: Matrix<float>) (a: Matrix<float>) =
        match RowBlocks.rowSpace sa with
        | None -> 1.0
        | Some vt ->
            let s = Dense.singularValues (a * vt.Transpose())

            if s[0] = 0.0 || s.Length <= k then
                1.0
            else
                (s[k - 1] - s[k]) / s[0]

    /// Two approximations of the same A agree: the products to medium accuracy scaled to ||A||_F where [A V]_k is well
    /// determined, and the errors everywhere.
    let agree
        (a: Matrix<float>)
        (gap: float)
        (expected: LowRankApproximation)
        (left: Matrix<float>)
        (right: Matrix<float>)
        =
        let norm = Norm.frobenius a
        let accuracy = medium |> scaledTo norm
        let product = if right.RowCount = 0 then a * 0.0 else left * right
        let error = Norm.frobenius (a - product)

        all [
            close accuracy "||A - L R||_F equals SCW's" error (Norm.frobenius (a - expected.ToMatrix()))
            if gap > 1e-6 then
                atMost accuracy "||L R - SCW(S, A)||_F = 0" (Norm.frobenius (product - expected.ToMatrix())) 0.0
        ]

/// Streaming SCW (two passes over row blocks, a tall-skinny QR for [A V]_k) equals the in-memory SCW.
module StreamingScw =

    [<Fact>]
    let ``SCW over row blocks equals SCW of the whole matrix, for any blocks and either sketch`` () =
        let case =
            gen {
                let! spec, k, sketch = ScwCases.withSketch
                let! parts = Gen.choose (1, 5)
                let! cuts = Partitions.split spec.Rows parts
                let! hashed = Gen.elements [ true; false ]
                return spec, k, sketch, cuts, hashed
            }

        forAll case (fun (spec, k, sketch, cuts, hashed) ->
            let a = spec.Build()

            let s, blockSketch = Partitions.sketches sketch hashed a.RowCount

            let blocks = Partitions.blocks a cuts |> Array.filter (fun b -> b.RowCount > 0)
            let streamed = Streaming.approximateRows k blockSketch blocks
            let expected = Scw.approximate k s a

            all [
                holds "the same rank" (streamed.Rank = expected.Rank)
                Partitions.agree a (Partitions.gap k (Sketch.apply a s) a) expected streamed.Left streamed.Right
            ])
        |> check

    [<Fact>]
    let ``SCW of a .npy file by blocks writes the left factor of the in-memory SCW`` () =
        let case =
            gen {
                let! spec, k, sketch = ScwCases.withSketch
                let! blockRows = Gen.choose (1, spec.Rows + 2)
                let! fortran = Gen.elements [ true; false ]
                return spec, k, sketch, blockRows, fortran
            }

        let folder = Directory.CreateTempSubdirectory("lowrank-stream").FullName

        try
            forAll case (fun (spec, k, sketch, blockRows, fortran) ->
                let a = spec.Build()
                let path = Path.Combine(folder, "a.npy")

                // Fortran order is the writer's own; C order through a 3-D stack of one matrix is not 2-D, so C order
                // is written by the streaming writer itself.
                if fortran then
                    Npy.writeMatrix path a
                else
                    use w = new Npy.RowBlockWriter(path, a.RowCount, a.ColumnCount)
                    w.Write a

                let leftPath = Path.Combine(folder, "left.npy")

                let result =
                    Streaming.approximateFile
                        k
                        (BlockSketch.Hashed(sketch.Seed, sketch.Rows))
                        blockRows
                        ignore
                        Threading.CancellationToken.None
                        path
                        leftPath

                let expected =
                    Scw.approximate k (Sketch.hashedCountSketch sketch.Seed sketch.Rows a.RowCount) a

                // A zero approximation's left factor is n x 0: NumPy reads it, this library's reader refuses empty
                // matrices, so its shape is read from the header.
                let left =
                    if expected.Rank = 0 then
                        Matrix<float>.Build.Dense(Npy.shape(leftPath)[0], Npy.shape(leftPath)[1])
                    else
                        Npy.readMatrix leftPath

                let norm = Norm.frobenius a

                let sa =
                    Sketch.apply a (Sketch.hashedCountSketch sketch.Seed sketch.Rows a.RowCount)

                all [
                    holds "no spill file is left" (not (File.Exists(leftPath + ".av.tmp")))
                    holds "left is n x k'" (left.RowCount = a.RowCount && left.ColumnCount = expected.Rank)
                    close
                        (medium |> scaledTo norm)
                        "the reported error"
                        result.Error
                        (Norm.frobenius (a - expected.ToMatrix()))
                    Partitions.agree a (Partitions.gap k sa a) expected left result.Right
                ])
            |> check
        finally
            Directory.Delete(folder, true)

/// A sketch state is S A accumulated by blocks: any split, any merge order, and a byte round trip give S A.
module SketchStates =

    [<Fact>]
    let ``merged states of any row split are S A, and survive a round trip through bytes`` () =
        let case =
            gen {
                let! spec = matrix
                let! parts = Gen.choose (1, 5)
                let! cuts = Partitions.split spec.Rows parts
                let! rows = Gen.choose (1, 8)
                let! sketchSeed = seed
                let! reverse = Gen.elements [ true; false ]
                return spec, cuts, rows, sketchSeed, reverse
            }

        forAll case (fun (spec, cuts, rows, sketchSeed, reverse) ->
            let a = spec.Build()

            let states =
                Partitions.blocks a cuts
                |> Array.mapi (fun i b -> cuts[i], b)
                |> Array.filter (fun (_, b) -> b.RowCount > 0)
                |> Array.map (fun (offset, b) ->
                    SketchState.empty sketchSeed rows a.ColumnCount
                    |> SketchState.add (int64 offset) b)

            let merged =
                (if reverse then Array.rev states else states)
                |> Array.map (SketchState.toBytes >> SketchState.ofBytes)
                |> Array.reduce SketchState.merge

            let expected = Sketch.apply a (Sketch.hashedCountSketch sketchSeed rows a.RowCount)
            let norm = Norm.frobenius a

            all [
                holds "all rows covered" (merged.RowsCovered = int64 a.RowCount)
                atMost (high |> scaledTo norm) "||merged - S A||_F = 0" (Norm.frobenius (merged.Value - expected)) 0.0
                holds "bytes round trip" (SketchState.ofBytes (SketchState.toBytes merged) = merged)
            ])
        |> check

/// SCW, svd_w and the Theorem 3.1 protocol on 1 to 4 ranks (threads with an in-process communicator) equal their
/// single-process results; communication does not grow with n.
module DistributedAlgorithms =

    let private ranks = Gen.choose (1, 4)

    [<Fact>]
    let ``distributed SCW on 1 to 4 ranks, uneven partitions and empty ranks included, equals SCW`` () =
        let case =
            gen {
                let! spec, k, sketch = ScwCases.withSketch
                let! p = ranks
                let! cuts = Partitions.split spec.Rows p
                let! hashed = Gen.elements [ true; false ]
                return spec, k, sketch, cuts, hashed
            }

        let cases = NonTrivial "had more than one rank holding rows"

        forAll case (fun (spec, k, sketch, cuts, hashed) ->
            let a = spec.Build()
            let parts = Partitions.blocks a cuts

            let s, blockSketch = Partitions.sketches sketch hashed a.RowCount

            let results =
                Communicator.runInProcess parts.Length (fun c ->
                    let mine = Distributed.approximate c k blockSketch parts[c.Rank]
                    mine, Distributed.gatherRows c mine.Left)

            let first, left = results[0]
            let expected = Scw.approximate k s a

            all [
                holds
                    "every rank has the same Right"
                    (results |> Array.forall (fun (r, _) -> r.Right.Equals first.Right))
                holds
                    "offsets are the cut points"
                    (results
                     |> Array.mapi (fun i (r, _) -> r.RowOffset = int64 cuts[i])
                     |> Array.forall id)
                close
                    (medium |> scaledTo (Norm.frobenius a))
                    "the reported error is ||A - L R||_F"
                    first.Error
                    (Norm.frobenius (
                        a
                        - (if first.Right.RowCount = 0 then
                               a * 0.0
                           else
                               left * first.Right)
                    ))
                Partitions.agree a (Partitions.gap k (Sketch.apply a s) a) expected left first.Right
            ]
            |> cases.Classify((parts |> Array.filter (fun p -> p.RowCount > 0)).Length > 1))
        |> checkNonTrivial 100 40 cases

    [<Fact>]
    let ``distributed SCW sends the same bytes for 10 times the rows`` () =
        let bytes (n: int) =
            let a = Matrix<float>.Build.Random(n, 30, 7)

            Communicator.runInProcess 3 (fun c ->
                let traffic = Traffic()
                let counted = Communicator.counting traffic c
                let rows = n / 3 + (if c.Rank < n % 3 then 1 else 0)
                let first = c.Rank * (n / 3) + min c.Rank (n % 3)

                Distributed.approximate counted 5 (BlockSketch.Hashed(1, 10)) (a.SubMatrix(first, rows, 0, 30))
                |> ignore

                traffic.Bytes, traffic.Rounds)

        let small, large = bytes 60, bytes 600
        Assert.Equal<(int64 * int64)[]>(small, large)
        // Rank 1: m d values summed, its r x r R factor and its norm gathered, 8 bytes each for its
        // row count and width; rank 0 also broadcasts V^T (r d), then the error, the tail, sigma and W_k (2 + k + r k):
        // m = r = 10, k = 5, d = 30.
        let mine = 8L * int64 (10 * 30 + 10 * 10 + 1) + 16L
        Assert.Equal(mine, fst small[1])
        Assert.Equal(mine + 8L * int64 (10 * 30 + 2 + 5 + 10 * 5), fst small[0])

    [<Fact>]
    let ``distributed svd_w on 2 to 4 ranks equals distributed svd_w on one`` () =
        let case =
            gen {
                let! spec = matrix
                let! t = Gen.choose (1, min spec.Rows spec.Columns)
                let! p = Gen.choose (2, 4)
                let! cuts = Partitions.split spec.Rows p
                let! weightSeed = seed
                return spec, t, cuts, weightSeed
            }

        forAll case (fun (spec, t, cuts, weightSeed) ->
            let a = spec.Build()
            let random = Random weightSeed

            let w =
                Matrix<float>
                    .Build.Dense(
                        a.RowCount,
                        a.ColumnCount,
                        fun _ _ ->
                            if random.NextDouble() < 0.2 then
                                0.0
                            else
                                random.NextDouble() + 0.1
                    )

            let sketch = BlockSketch.Hashed(weightSeed, 2 * t + 2)

            let single =
                (Communicator.runInProcess 1 (fun c -> Distributed.svdW c t sketch w a))[0]

            let spread =
                Communicator.runInProcess (cuts.Length - 1) (fun c ->
                    let wPart, aPart =
                        (Partitions.blocks w cuts).[c.Rank], (Partitions.blocks a cuts).[c.Rank]

                    let mine: DistributedWeightedApproximation = Distributed.svdW c t sketch wPart aPart
                    mine.Loss, Distributed.gatherRows c mine.Local)

            let loss, x = spread[0]
            let scale = Norm.frobenius (w.PointwiseMultiply a)

            all [
                close (medium |> scaledTo scale) "the weighted loss" loss single.Loss
                close
                    (medium |> scaledTo scale)
                    "the loss is ||W o (A - A~)||_F"
                    loss
                    (Norm.frobenius (w.PointwiseMultiply(a - x)))
            ])
        |> check

    [<Fact>]
    let ``the Theorem 3.1 protocol across ranks reconstructs what each block's protocol does alone`` () =
        let case =
            gen {
                let! rows = Gen.choose (2, 12)
                let! p = Gen.choose (1, 4)
                let! widths = Gen.listOfLength p (Gen.choose (2, 6))
                let! seed = seed
                return rows, Array.ofList widths, seed
            }

        forAll case (fun (rows, widths, seed) ->
            let d = Array.sum widths
            let a = Matrix<float>.Build.Random(rows, d, seed)
            let random = Random seed

            let w =
                Weights.rankOne
                    (Array.init rows (fun _ -> random.NextDouble() + 0.5))
                    (Array.init d (fun _ -> random.NextDouble() + 0.5))

            let starts = Array.scan (+) 0 widths

            let runs =
                Communicator.runInProcess widths.Length (fun c ->
                    let part = a.SubMatrix(0, rows, starts[c.Rank], widths[c.Rank])
                    Distributed.protocol c 2 1 w part)

            let dense = Weights.dense w

            let expected =
                widths
                |> Array.mapi (fun i width ->
                    let wi = Weights.ofMatrix (dense.SubMatrix(0, rows, starts[i], width))
                    let message = Protocol.send 2 1 wi (a.SubMatrix(0, rows, starts[i], width))
                    Protocol.receive wi message, Protocol.sizeInBits message)

            let reconstruction = runs[0].Reconstruction.Value
            let norm = Norm.frobenius a

            all [
                holds
                    "only rank 0 reconstructs"
                    (runs |> Array.skip 1 |> Array.forall (fun r -> r.Reconstruction.IsNone))
                holds "the bits are each message's" (runs[0].MessageBits = (expected |> Array.map snd))
                atMost
                    (high |> scaledTo norm)
                    "the reconstruction is the blocks'"
                    (Norm.frobenius (
                        reconstruction
                        - Matrix<float>.Build.DenseOfMatrixArray(array2D [ expected |> Array.map fst ])
                    ))
                    0.0
            ])
        |> check

    [<Fact>]
    let ``a bad part on one rank fails every rank, naming it`` () =
        let parts = Array.init 3 (fun i -> Matrix<float>.Build.Dense(4, 5, float (i + 1)))
        parts[2][1, 1] <- nan

        let outcomes =
            Communicator.runInProcess 3 (fun c ->
                try
                    Distributed.approximate c 2 (BlockSketch.Hashed(1, 4)) parts[c.Rank] |> ignore
                    "returned"
                with :? ArgumentException as e ->
                    e.Message)

        Assert.All(
            outcomes[..1],
            fun m -> Assert.StartsWith("rank 2: Expected finite entries, but part[1, 1] is NaN", m)
        )

        Assert.StartsWith("Expected finite entries, but part[1, 1] is NaN", outcomes[2])
