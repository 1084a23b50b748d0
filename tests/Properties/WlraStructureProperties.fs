namespace LowRank.Properties

open System
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// Structured weights (Lemma A.1 of Woodruff and Yasuda 2024: W o A from W's structure) give what the same weights
/// given densely give: the formed W, svd_w's approximation and loss at a total rank t, and Wlra.loss.
module StructuredWeightsAgreeWithDense =

    type Structure =
        | Blocks of rowSizes: int[] * columnSizes: int[]
        | LowRankPlusSparse of rank: int * entries: (int * int * float)[]

    /// n split into `parts` positive sizes.
    let private split (random: Random) (n: int) (parts: int) =
        let cuts =
            Array.init (n - 1) (fun i -> i + 1)
            |> Array.sortBy (fun _ -> random.Next())
            |> Array.truncate (parts - 1)
            |> Array.sort

        Array.append cuts [| n |]
        |> Array.mapFold (fun previous cut -> cut - previous, cut) 0
        |> fst

    let private case =
        gen {
            let! spec = matrix
            let! seed = seed
            let! blocks = Gen.elements [ true; false ]
            let random = Random(seed)
            let limit = min spec.Rows spec.Columns

            let structure =
                if blocks then
                    let parts = 1 + random.Next(min 4 limit)
                    Blocks(split random spec.Rows parts, split random spec.Columns parts)
                else
                    let entries =
                        Array.init (1 + random.Next 4) (fun _ ->
                            random.Next spec.Rows, random.Next spec.Columns, 5.0 * random.NextDouble())
                        |> Array.distinctBy (fun (i, j, _) -> i, j)

                    LowRankPlusSparse(1 + random.Next 2, entries)

            let! total = Gen.choose (1, limit)
            return spec, seed, structure, total
        }

    /// The weights built from their structure, and W formed independently of the library's structured code.
    let private build (n: int) (d: int) (seed: int) (structure: Structure) =
        match structure with
        | Blocks(rowSizes, columnSizes) ->
            let w = Matrix<float>.Build.Dense(n, d)
            let mutable row, column = 0, 0

            for b in 0 .. rowSizes.Length - 1 do
                w.SetSubMatrix(
                    row,
                    rowSizes[b],
                    column,
                    columnSizes[b],
                    Matrix<float>.Build.Dense(rowSizes[b], columnSizes[b], 1.0)
                )

                row <- row + rowSizes[b]
                column <- column + columnSizes[b]

            Weights.blockMask rowSizes columnSizes, w
        | LowRankPlusSparse(r, entries) ->
            let random = Random(seed + 1)
            let left = Matrix<float>.Build.Dense(n, r, fun _ _ -> random.NextDouble())
            let right = Matrix<float>.Build.Dense(r, d, fun _ _ -> random.NextDouble())
            let sparse = Matrix<float>.Build.Sparse(n, d)

            for i, j, x in entries do
                sparse[i, j] <- x

            Weights.lowRankPlusSparse left right sparse, left * right + sparse

    [<Fact>]
    let ``structured weights form the same W and give the same svd_w and losses as dense weights`` () =
        forAll case (fun (spec, seed, structure, total) ->
            let a = spec.Build()
            let structured, formed = build a.RowCount a.ColumnCount seed structure
            let dense = Weights.ofMatrix formed
            let fast = Wlra.svdWBudget total structured a
            let reference = Wlra.svdWBudget total dense a
            let scale = Norm.weightedFrobenius formed a
            let accuracy = medium |> scaledTo scale
            let m = formed.PointwiseMultiply a
            let s = Svd.singularValues m
            // [W o A]_t is unique when sigma_t > sigma_(t+1) (or sigma_t = 0); only then are the matrices compared.
            let unique =
                total >= s.Length || s[total] = 0.0 || s[total - 1] - s[total] > 1e-6 * s[0]

            let difference =
                (fast.ToMatrix() - reference.ToMatrix()).PointwiseMultiply(formed).FrobeniusNorm()

            all [
                close high "formed W" ((Weights.dense structured - formed).FrobeniusNorm()) 0.0
                close accuracy "svd_w loss, structured vs dense" fast.Loss reference.Loss
                close
                    accuracy
                    "svd_w loss = ||W o (A - A~)||_F"
                    fast.Loss
                    (Norm.weightedFrobenius formed (a - fast.ToMatrix()))
                close accuracy "Wlra.loss, structured vs dense" (Wlra.loss structured a reference) reference.Loss
                (if unique then
                     close accuracy "W o A~, structured vs dense" difference 0.0
                 else
                     holds "tied singular values: not compared" true)
                holds
                    "the approximation is 0 where W is 0"
                    (fast.ToMatrix().EnumerateIndexed()
                     |> Seq.forall (fun struct (i, j, x) -> formed[i, j] > 0.0 || x = 0.0))
            ])
        |> checkWith 100

    [<Fact>]
    let ``a block mask has rank B, and svd_w with it is the optimum of each block at the merged rank`` () =
        forAll case (fun (spec, seed, structure, _) ->
            match structure with
            | LowRankPlusSparse _ -> holds "low rank plus sparse: not this law" true
            | Blocks(rowSizes, _) ->
                let a = spec.Build()
                let structured, formed = build a.RowCount a.ColumnCount seed structure
                let blocks = rowSizes.Length
                let k = max 1 (min a.RowCount a.ColumnCount / blocks)
                let result = Wlra.svdW WeightedCases.bicriteria k structured a
                // Lemma 2.1's tight case: W o A has rank at most the sum over blocks of min(n_b, d_b), and the loss of
                // svd_w is the tail of the merged block spectra beyond B k.
                let tail =
                    Svd.singularValues (formed.PointwiseMultiply a)
                    |> Array.skip (min (blocks * k) (min a.RowCount a.ColumnCount))
                    |> Array.sumBy (fun x -> x * x)
                    |> sqrt

                let accuracy = medium |> scaledTo (Norm.weightedFrobenius formed a)

                all [
                    holds $"rank = {blocks}" (Weights.rank structured = blocks)
                    close accuracy "loss = the tail of W o A's spectrum" result.Loss tail
                ])
        |> checkWith 100

/// Corollary 1.3 of Woodruff and Yasuda (2024) with a deterministic guarantee: when the selected columns miss less
/// than 1 of the rank-t leverage (epsilon < 1), the CSS loss is within sqrt(1 + 1/(1 - epsilon)) of svd_w's (positive
/// weights, so svd_w's loss is ||W o A - [W o A]_t||_F).
module ColumnSubsetWithinEpsilon =

    [<Fact>]
    let ``column subset selection is within the stated factor of svd_w when its leverage deficit is below 1`` () =
        let case =
            gen {
                let! c = WeightedCases.exactRank |> Gen.map (fun c -> { c with ZeroWeights = false })
                let! extra = Gen.choose (0, 4)
                return c, extra
            }

        forAll case (fun (case, extra) ->
            let a = case.Matrix.Build()
            let weights = case.Weights()
            let total = Weights.rank weights * case.K
            let columns = min a.ColumnCount (total + extra)
            let css = Wlra.columnSubset columns case.K weights a
            let reference = Wlra.svdW WeightedCases.bicriteria case.K weights a
            let accuracy = medium |> scaledTo (Norm.weightedFrobenius (Weights.dense weights) a)
            let epsilon = css.LeverageDeficit

            let bound =
                if epsilon < 1.0 then
                    atMost
                        accuracy
                        $"CSS loss <= sqrt(1 + 1/(1 - {epsilon:G4})) svd_w loss"
                        css.Approximation.Loss
                        (sqrt (1.0 + 1.0 / (1.0 - epsilon)) * reference.Loss)
                else
                    holds "the guarantee does not apply (epsilon >= 1)" true

            // The deficit from its definition: t minus the chosen columns' rank-t leverage scores ||V_t^T e_j||^2,
            // with V_t from an SVD of W o A taken here; and no unchosen column has a larger score than a chosen one.
            let m = (Weights.dense weights).PointwiseMultiply a
            let vt = (Dense.thinSvd m).Vt.SubMatrix(0, total, 0, a.ColumnCount)
            let score j = vt.Column(j).DotProduct(vt.Column j)
            let expected = float total - (css.Columns |> Array.sumBy score)
            let lowestChosen = css.Columns |> Array.map score |> Array.min

            let highestLeft =
                Seq.init a.ColumnCount id
                |> Seq.filter (fun j -> not (Array.contains j css.Columns))
                |> Seq.map score
                |> Seq.fold max 0.0

            all [
                bound
                close
                    (medium |> scaledTo (float total))
                    "deficit = t - sum of chosen ||V_t^T e_j||^2"
                    epsilon
                    (max 0.0 expected)
                atMost (medium |> scaledTo 1.0) "every chosen score >= every other" highestLeft lowestChosen
                holds "c distinct columns" (css.Columns |> Array.distinct |> Array.length = columns)
                // Selecting every column leaves nothing out: C C^+ M = M, so the loss is 0.
                (if columns = a.ColumnCount then
                     close accuracy "all columns: loss 0" css.Approximation.Loss 0.0
                 else
                     holds "fewer than d columns" true)
            ]
            |> Prop.label (sprintf "t = %d, c = %d, epsilon = %g" total columns epsilon))
        |> check

/// Theorem 3.1's protocol: what Bob rebuilds from the bytes alone is Alice's column-subset approximation, and the
/// message costs exactly the bits it reports.
module ProtocolRoundTrip =

    [<Fact>]
    let ``Bob's reconstruction from the serialised message equals the column-subset approximation`` () =
        let case =
            gen {
                let! c = WeightedCases.exactRank
                let! density = Gen.elements [ 1.0; 0.3; 0.05 ]
                let! extra = Gen.choose (0, 3)
                return c, density, extra
            }

        forAll case (fun (case, density, extra) ->
            let random = Random(case.WeightSeed)
            // Sparse A: the message stores only the selected columns' nonzeros.
            let a =
                (case.Matrix.Build()).Map(fun x -> if random.NextDouble() < density then x else 0.0)

            let weights = case.Weights()
            let columns = min a.ColumnCount (Weights.rank weights * case.K + extra)
            let message = Protocol.send columns case.K weights a
            let bytes = Protocol.toBytes message
            let rebuilt = Protocol.receive weights (Protocol.ofBytes bytes)
            let alice = (Wlra.columnSubset columns case.K weights a).Approximation.ToMatrix()

            all [
                close
                    (medium |> scaledTo (Norm.frobenius alice + 1.0))
                    "||Bob - Alice||_F"
                    (Norm.frobenius (rebuilt - alice))
                    0.0
                holds "size in bits = 8 bytes" (Protocol.sizeInBits message = 8L * int64 bytes.Length)
                holds "re-serialising gives the same bytes" (Protocol.toBytes (Protocol.ofBytes bytes) = bytes)
            ])
        |> check
