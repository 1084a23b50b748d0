namespace LowRank.Properties

open System
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// The closed forms behind compressing a whole model (issue 23): sequential output matching, row-weighted tables and
/// the budget allocator, each checked against its definition recomputed from the data.
module ModelCompressionLaws =

    /// Inputs X (N x n), shifted inputs X' = X + t E, a layer A (n x d) and a rank k; X of any rank from 1 (rank-deficient
    /// included): a zero X has the zero second moment, which carries no data and is rejected (BadInputCatalogue).
    let private case =
        gen {
            let! n, d = shape
            let! examples = Gen.choose (1, 3 * n + 2)

            let! x =
                matrixOfShape examples n |> Gen.map (fun x -> { x with Rank = max 1 x.Rank })

            let! a = matrixOfShape n d
            let! shift = Gen.elements [ 0.0; 1e-3; 0.3 ]
            let! noiseSeed = seed
            let! k = Gen.choose (1, min n d)
            return x, a, shift, noiseSeed, k
        }

    let private build (x: MatrixSpec, a: MatrixSpec, shift: float, noiseSeed: int, _: int) =
        let x = x.Build()
        let noise = gaussian (Random noiseSeed) x.RowCount x.ColumnCount

        x,
        x
        + shift * x.FrobeniusNorm() / sqrt (float (x.RowCount * x.ColumnCount)) * noise,
        a.Build()

    let private moments (x: Matrix<float>) (shifted: Matrix<float>) =
        let count = float x.RowCount

        x.TransposeThisAndMultiply x / count,
        shifted.TransposeThisAndMultiply shifted / count,
        shifted.TransposeThisAndMultiply x / count

    /// f(B) = ||X A - X' B||_F^2 / N + lambda ||A - B||_F^2, straight from the data.
    let private objective (x: Matrix<float>) (shifted: Matrix<float>) (a: Matrix<float>) lambda (b: Matrix<float>) =
        let residual = x * a - shifted * b

        residual.FrobeniusNorm() ** 2.0 / float x.RowCount
        + lambda * (a - b).FrobeniusNorm() ** 2.0

    [<Fact>]
    let ``sequential compression is optimal: no rank-k candidate has a lower ridged output error`` () =
        forAll case (fun spec ->
            let _, _, _, seedOfPerturbation, k = spec
            let x, shifted, a = build spec
            let c, c', m = moments x shifted
            let result = Compression.matchOutputs 1e-4 k c c' m a
            let f = objective x shifted a result.Ridge
            let best = f (result.ToMatrix())

            let scale =
                (x * a).FrobeniusNorm() ** 2.0 / float x.RowCount
                + result.Ridge * a.FrobeniusNorm() ** 2.0

            let tolerance = scaledTo scale medium
            let random = Random seedOfPerturbation

            let perturbed =
                let g = gaussian random result.Left.RowCount k

                (result.Left + 1e-3 * (result.Left.FrobeniusNorm() + 1.0) * g) * result.Right

            all [
                atMost
                    tolerance
                    "f(sequential) <= f(data-aware on X')"
                    best
                    (f ((Compression.dataAware 1e-4 k c' a).ToMatrix()))
                atMost tolerance "f(sequential) <= f([A]_k)" best (f ((Svd.bestRankK k a).ToMatrix()))
                atMost tolerance "f(sequential) <= f(perturbed factors)" best (f perturbed)
                holds "rank k factors" (result.Left.ColumnCount = k && result.Right.RowCount = k)
            ])
        |> check

    [<Fact>]
    let ``sequential compression's objective is ||X A - X' A~||_F / sqrt N of the data`` () =
        forAll case (fun spec ->
            let _, _, _, _, k = spec
            let x, shifted, a = build spec
            let c, c', m = moments x shifted
            let result = Compression.matchOutputs 1e-4 k c c' m a

            let direct =
                (x * a - shifted * result.ToMatrix()).FrobeniusNorm() ** 2.0 / float x.RowCount
            // The moment formula subtracts terms of size ||X A||^2 / N: its absolute accuracy is relative to that.
            let scale =
                (x * a).FrobeniusNorm() ** 2.0 / float x.RowCount
                + (shifted * result.ToMatrix()).FrobeniusNorm() ** 2.0 / float x.RowCount

            close (scaledTo scale medium) "objective^2" (result.Objective ** 2.0) direct)
        |> check

    [<Fact>]
    let ``sequential compression with unchanged inputs is data-aware`` () =
        forAll case (fun spec ->
            let _, _, _, _, k = spec
            let x, _, a = build spec
            let c, _, _ = moments x x
            let sequential = (Compression.matchOutputs 1e-4 k c c c a).ToMatrix()
            let reference = Compression.dataAware 1e-4 k c a
            let dataAware = reference.ToMatrix()
            // Where sigma_k = sigma_(k+1) of the whitened layer the optimum is not unique: compare the objective.
            let ridged = c + reference.Ridge * Matrix<float>.Build.DenseIdentity c.RowCount

            let weighted (b: Matrix<float>) =
                ((a - b).TransposeThisAndMultiply(ridged * (a - b))).Trace()

            close
                (scaledTo (weighted (Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount)) + 1e-300) medium)
                "tr((A - A~)^T C_l (A - A~))"
                (weighted sequential)
                (weighted dataAware))
        |> check

    let private tableCase =
        gen {
            let! n, d = shape
            let! a = matrixOfShape n d
            let! k = Gen.choose (1, min n d)
            let! weightSeed = seed
            let! zeros = Gen.elements [ 0.0; 0.3 ]
            let random = Random weightSeed

            let w =
                Array.init n (fun _ ->
                    if random.NextDouble() < zeros then
                        0.0
                    else
                        exp (4.0 * random.NextDouble() - 2.0))

            // At least one positive weight.
            w[0] <- max w[0] 1.0
            return a, k, w
        }

    [<Fact>]
    let ``row-weighted compression is svd_w with rank-one weights: D A~ = [D A]_k, and every row lies in V_k`` () =
        forAll tableCase (fun (a, k, w) ->
            let a = a.Build()
            let result = Compression.rowWeighted k w a
            let d = Matrix<float>.Build.DenseOfDiagonalArray w
            let weighted = d * a
            let optimum = Svd.optimalError k weighted
            let scale = weighted.FrobeniusNorm() + 1e-300
            // Rows of A~ lie in span(Right): (A - A~) Right^T = 0 (the projection A V_k V_k^T, zero-weight rows too).
            let outside = ((a - result.ToMatrix()) * result.Right.Transpose()).FrobeniusNorm()

            all [
                close
                    (scaledTo scale medium)
                    "||D (A - A~)||_F = optimal rank-k error of D A"
                    ((d * (a - result.ToMatrix())).FrobeniusNorm())
                    optimum
                close (scaledTo scale medium) "Objective" result.Objective optimum
                atMost (scaledTo (a.FrobeniusNorm() + 1e-300) medium) "||(A - A~) V_k||" outside 0.0
            ])
        |> check

    /// Up to three layers with decreasing random spectra and a budget between rank 1 everywhere and dense everywhere.
    let private budgetCase =
        gen {
            let! count = Gen.choose (1, 3)
            let! sizes = Gen.listOfLength count (Gen.two (Gen.choose (1, 7)))
            let! spectrumSeed = seed
            let random = Random spectrumSeed

            let spectra =
                sizes
                |> List.map (fun (n, d) ->
                    Array.init (min n d) (fun _ ->
                        if random.NextDouble() < 0.2 then
                            0.0
                        else
                            exp (6.0 * random.NextDouble()))
                    |> Array.sortDescending)

            let minimum = sizes |> List.sumBy (fun (n, d) -> n + d)
            let dense = sizes |> List.sumBy (fun (n, d) -> n * d)
            let! budget = Gen.choose (minimum, max minimum dense + 3)
            // Importances of very different sizes, zero included, or all 1 (plain allocate).
            let! weighted = Gen.elements [ false; true ]

            let importance =
                Array.init count (fun _ ->
                    if not weighted then 1.0
                    elif random.NextDouble() < 0.2 then 0.0
                    else exp (8.0 * random.NextDouble() - 4.0))

            return List.toArray sizes, List.toArray spectra, int64 budget, importance
        }

    let private relativeTail (s: float[]) (rank: int) (dense: bool) =
        let total = Array.sum s

        if dense || total = 0.0 then
            0.0
        else
            Array.sum s[rank..] / total

    [<Fact>]
    let ``the budget allocator keeps the budget and is within one step of the best (weighted) allocation`` () =
        forAll budgetCase (fun (sizes, spectra, budget, importance) ->
            let inputs = sizes |> Array.map fst
            let outputs = sizes |> Array.map snd

            let ranks =
                if Array.forall ((=) 1.0) importance then
                    ModelBudget.allocate budget inputs outputs spectra
                else
                    ModelBudget.allocateWeighted importance budget inputs outputs spectra

            let used = ranks |> Array.sumBy (fun r -> r.Parameters)

            let greedy =
                Array.map3 (fun (r: LayerRank) s w -> w * relativeTail s r.Rank r.KeepsDense) ranks spectra importance
                |> Array.sum

            // Every allocation by brute force: each layer at a rank 1 .. largest factored rank, or dense.
            let choices =
                sizes
                |> Array.mapi (fun l (n, d) ->
                    let factored = [ 1 .. min (min n d) ((n * d - 1) / (n + d)) ]

                    let ranked =
                        factored
                        |> List.map (fun k -> int64 (k * (n + d)), importance[l] * relativeTail spectra[l] k false)

                    (int64 (n * d), 0.0) :: ranked)
                |> Array.toList

            let rec best (remaining: int64) layers =
                match layers with
                | [] -> Some 0.0
                | options :: rest ->
                    options
                    |> List.choose (fun (cost, error) ->
                        if cost <= remaining then
                            best (remaining - cost) rest |> Option.map ((+) error)
                        else
                            None)
                    |> function
                        | [] -> None
                        | errors -> Some(List.min errors)

            let step = sizes |> Array.map (fun (n, d) -> int64 (n + d)) |> Array.max
            let optimum = best (budget - step) choices

            all [
                holds (sprintf "stores %d <= budget %d" used budget) (used <= budget)
                holds
                    "ranks in range"
                    (ranks |> Array.forall2 (fun (n, d) r -> r.Rank >= 1 && r.Rank <= min n d) sizes)
                (match optimum with
                 | Some o -> atMost high "greedy (weighted) error <= best error with one step less" greedy o
                 | None -> holds "a smaller budget has no allocation" true)
            ])
        |> check

    /// Factors Left (n x k) and Right (k x d) of any ranks, zero included, with k from 1 to d + 2.
    let private factorsCase =
        gen {
            let! n, d = shape
            let! k = Gen.choose (1, d + 2)
            let! left = matrixOfShape n k
            let! right = matrixOfShape k d
            return left, right
        }

    [<Fact>]
    let ``the pivoted form is the same matrix in r (n + d - r) numbers, r the rank of Right, with coefficients at most 1.01``
        ()
        =
        forAll factorsCase (fun (leftSpec, rightSpec) ->
            let left, right = leftSpec.Build(), rightSpec.Build()
            let p = PivotedFactors.ofFactors left right
            let n, d, r = left.RowCount, right.ColumnCount, p.Rank
            let scale = left.FrobeniusNorm() * right.FrobeniusNorm() + 1e-300

            let largest =
                if p.Coefficients.RowCount * p.Coefficients.ColumnCount = 0 then
                    0.0
                else
                    p.Coefficients.Enumerate() |> Seq.map abs |> Seq.max

            all [
                atMost
                    (scaledTo scale medium)
                    "||A~ - Left Right||_F"
                    ((p.ToMatrix() - left * right).FrobeniusNorm())
                    0.0
                holds (sprintf "r = %d is Right's rank %d" r rightSpec.Rank) (r = rightSpec.Rank)
                holds
                    "pivots and others are the d columns"
                    (Array.append p.Pivots p.Others |> Array.sort = [| 0 .. d - 1 |])
                holds
                    (sprintf "stores %d = r (n + d - r)" p.Parameters)
                    (p.Parameters = int64 (r * (n + d - r))
                     && (r > n || p.Parameters = PivotedFactors.parameters n d r))
                atMost high "max |C_ij| <= 1.01" largest 1.01
            ])
        |> check

    [<Fact>]
    let ``the pivoted allocator keeps the budget, prices pivoted layers at k (n + d - k), and stops only when no step fits``
        ()
        =
        let case =
            gen {
                let! sizes, spectra, budget, importance = budgetCase
                let! pivoted = Gen.arrayOfLength sizes.Length (Gen.elements [ false; true ])
                return sizes, spectra, budget, importance, pivoted
            }

        forAll case (fun (sizes, spectra, budget, importance, pivoted) ->
            let inputs = sizes |> Array.map fst
            let outputs = sizes |> Array.map snd

            let ranks =
                ModelBudget.allocatePivoted pivoted importance budget inputs outputs spectra

            let used = ranks |> Array.sumBy (fun r -> r.Parameters)

            let cost l k =
                int64 k * int64 (inputs[l] + outputs[l] - (if pivoted[l] then k else 0))

            let dense l = int64 inputs[l] * int64 outputs[l]

            // The next step of a factored layer: one more rank while that stays below n d, else to dense.
            let nextCost l (r: LayerRank) =
                if cost l (r.Rank + 1) < dense l && r.Rank + 1 <= min inputs[l] outputs[l] then
                    cost l (r.Rank + 1) - r.Parameters
                else
                    dense l - r.Parameters

            all [
                holds (sprintf "stores %d <= budget %d" used budget) (used <= budget)
                holds
                    "each layer stores what its form costs"
                    (ranks
                     |> Array.mapi (fun l r ->
                         r.Parameters = (if r.KeepsDense then dense l else cost l r.Rank)
                         && r.Pivoted = (pivoted[l] && not r.KeepsDense)
                         && r.Rank >= 1
                         && r.Rank <= min inputs[l] outputs[l])
                     |> Array.forall id)
                holds
                    "no factored layer's next step fits in what is left"
                    (ranks
                     |> Array.mapi (fun l r -> r.KeepsDense || used + nextCost l r > budget)
                     |> Array.forall id)
            ])
        |> check

    [<Fact>]
    let ``the target allocator reaches the weighted error target with the greedy path's fewest numbers, within a cap``
        ()
        =
        let case =
            gen {
                let! sizes, spectra, budget, importance = budgetCase
                let! pivoted = Gen.arrayOfLength sizes.Length (Gen.elements [ false; true ])
                // A fraction of the weighted error at rank 1 everywhere, 0 (everything that has a tail grows) and 1.5
                // (already reached) included.
                let! fraction = Gen.elements [ 0.0; 0.01; 0.1; 0.5; 0.9; 1.5 ]
                let! capped = Gen.elements [ false; true ]
                return sizes, spectra, budget, importance, pivoted, fraction, capped
            }

        forAll case (fun (sizes, spectra, budget, importance, pivoted, fraction, capped) ->
            let inputs = sizes |> Array.map fst
            let outputs = sizes |> Array.map snd

            let weighted (ranks: LayerRank[]) =
                Array.map3 (fun (r: LayerRank) s w -> w * relativeTail s r.Rank r.KeepsDense) ranks spectra importance
                |> Array.sum

            let shape (ranks: LayerRank[]) =
                ranks |> Array.map (fun r -> r.Rank, r.KeepsDense)

            // A target met from the start: rank 1 everywhere, dense where rank 1 would not be smaller.
            let initial =
                ModelBudget.allocateToTarget pivoted importance 1e300 Int64.MaxValue inputs outputs spectra

            let startsDense l =
                let n, d = inputs[l], outputs[l]
                (if pivoted[l] then min n d - 1 else (n * d - 1) / (n + d)) < 1

            let start = weighted initial

            let target = fraction * start
            let cap = if capped then budget else Int64.MaxValue

            let ranks =
                ModelBudget.allocateToTarget pivoted importance target cap inputs outputs spectra

            let used = ranks |> Array.sumBy (fun r -> r.Parameters)
            let error = weighted ranks
            // The same greedy steps under a budget of exactly what they stored stop at the same ranks.
            let same =
                ModelBudget.allocatePivoted pivoted importance used inputs outputs spectra

            let reached = error <= target + 1e-12 * (start + 1.0)

            all [
                holds
                    "a target met at rank 1 keeps rank 1, dense where rank 1 is not smaller"
                    (initial
                     |> Array.mapi (fun l r ->
                         if startsDense l then
                             r.KeepsDense
                         else
                             r.Rank = 1 && not r.KeepsDense)
                     |> Array.forall id)
                holds (sprintf "stores %d <= cap %d" used cap) (used <= cap)
                holds
                    (sprintf "error %g <= target %g, or capped and the cap's allocation" error target)
                    (reached
                     || capped
                        && shape (ModelBudget.allocatePivoted pivoted importance cap inputs outputs spectra) =
                            shape ranks)
                holds "uncapped, the budget of its own size gives the same ranks" (capped || shape same = shape ranks)
                holds
                    "a larger target than the start's error changes nothing"
                    (fraction < 1.0 || shape ranks = shape initial)
                holds
                    "the last step was needed: without some layer's last step the error is above the target"
                    (capped
                     || shape ranks = shape initial
                     || ranks
                        |> Array.mapi (fun l r ->
                            let total = Array.sum spectra[l]
                            let n, d = inputs[l], outputs[l]
                            let largest = if pivoted[l] then min n d - 1 else (n * d - 1) / (n + d)

                            let gain =
                                if startsDense l || total = 0.0 || (not r.KeepsDense && r.Rank = 1) then
                                    0.0
                                elif r.KeepsDense then
                                    importance[l] * Array.sum (spectra[l][largest..]) / total
                                else
                                    importance[l] * spectra[l][r.Rank - 1] / total

                            shape [| r |] <> shape [| initial[l] |] && error + gain > target)
                        |> Array.exists id)
            ])
        |> check

    [<Fact>]
    let ``uniform pivoted ranks are the largest whose form stores at most f n d`` () =
        let case =
            gen {
                let! sizes, spectra, _, _ = budgetCase
                let! pivoted = Gen.arrayOfLength sizes.Length (Gen.elements [ false; true ])
                let! fraction = Gen.elements [ 0.05; 0.3; 0.5; 0.75; 0.99; 1.0 ]
                return sizes, spectra, pivoted, fraction
            }

        forAll case (fun (sizes, spectra, pivoted, fraction) ->
            let inputs = sizes |> Array.map fst
            let outputs = sizes |> Array.map snd
            let ranks = ModelBudget.uniformPivoted pivoted fraction inputs outputs spectra

            ranks
            |> Array.mapi (fun l r ->
                let n, d = inputs[l], outputs[l]

                let cost k =
                    float (int64 k * int64 (n + d - (if pivoted[l] then k else 0)))

                let allowed = fraction * float n * float d
                // The largest rank within the allowance, at least 1, found independently of the allocator.
                let k =
                    [ 1 .. min n d ]
                    |> List.filter (fun k -> k = 1 || cost k <= allowed)
                    |> List.max

                let dense = cost k >= float (n * d)

                holds
                    (sprintf
                        "layer %d (%dx%d, pivoted %b): rank %d dense %b, expected %d %b"
                        l
                        n
                        d
                        pivoted[l]
                        r.Rank
                        r.KeepsDense
                        k
                        dense)
                    (r.KeepsDense = dense && (dense || r.Rank = k)))
            |> List.ofArray
            |> all)
        |> check
