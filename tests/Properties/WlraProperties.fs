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

/// A weighted problem: A, nonnegative weights W = P Q of rank r (with some exact zeros when Sparse), and k with
/// r k <= min(n, d).
type WeightedCase = {
    Matrix: MatrixSpec
    WeightRank: int
    K: int
    WeightSeed: int
    ZeroWeights: bool
    Factored: bool
} with

    member c.Weights() =
        let random = Random(c.WeightSeed)

        let uniform rows columns =
            Matrix<float>
                .Build.Dense(
                    rows,
                    columns,
                    fun _ _ ->
                        if c.ZeroWeights && random.NextDouble() < 0.3 then
                            0.0
                        else
                            random.NextDouble()
                )

        let p = uniform c.Matrix.Rows c.WeightRank
        let q = uniform c.WeightRank c.Matrix.Columns
        let w = p * q

        // A P Q with only zeros would be rejected; keep one positive weight.
        if w.ForAll(fun x -> x = 0.0) then
            p[0, 0] <- 1.0
            q[0, 0] <- 1.0

        if c.Factored then
            Weights.ofFactors p q
        else
            Weights.ofMatrix (p * q)

module WeightedCases =
    /// svd_w's bicriteria form, total rank r k: the rank Theorem 1.2 is stated at.
    let bicriteria = {
        WlraOptions.Default with
            Bicriteria = true
    }

    /// Any accepted problem, edge cases included (1 x n, zero A, r k = min(n, d)).
    let anyShape: Gen<WeightedCase> =
        gen {
            let! spec = matrix
            let limit = min spec.Rows spec.Columns
            let! r = Gen.choose (1, max 1 (min 3 limit))
            let! k = Gen.choose (1, max 1 (limit / r))
            let! seed = seed
            let! zeros = Gen.elements [ false; true ]
            let! factored = Gen.elements [ false; true ]

            return {
                Matrix = spec
                WeightRank = r
                K = k
                WeightSeed = seed
                ZeroWeights = zeros
                Factored = factored
            }
        }

    /// Problems where Theorem 1.2 bites: r k < min(n, d) and A of full rank, so no rank-k (or rank r k) matrix fits
    /// A exactly and svd_w's loss is positive.
    let biting: Gen<WeightedCase> =
        gen {
            let! r = Gen.choose (1, 3)
            let! k = Gen.choose (1, 3)
            let! rows = Gen.choose (r * k + 1, r * k + 12)
            let! columns = Gen.choose (r * k + 1, r * k + 12)
            let! scale = scale
            let! matrixSeed = seed
            let! seed = seed
            let! zeros = Gen.elements [ false; true ]
            let! factored = Gen.elements [ false; true ]

            return {
                Matrix = {
                    Rows = rows
                    Columns = columns
                    Rank = min rows columns
                    Scale = scale
                    Seed = matrixSeed
                }
                WeightRank = r
                K = k
                WeightSeed = seed
                ZeroWeights = zeros
                Factored = factored
            }
        }

    /// Two biting problems for each edge case.
    let generator = Gen.frequency [ 1, anyShape; 2, biting ]

    let private hasExactRank (c: WeightedCase) =
        c.Factored || Weights.rank (c.Weights()) = c.WeightRank

    /// Cases where W's numerical rank is the construction rank, so svd_w's r is known exactly.
    let exactRank = generator |> Gen.filter hasExactRank

    /// Smaller problems that stay valid: the matrix shrinks with r k <= min(n, d) kept, then k, r, the zeros, the
    /// factoring and the weights' seed go; the exact-rank condition is kept.
    let shrink (c: WeightedCase) : seq<WeightedCase> =
        seq {
            for smaller in Shrink.matrix c.Matrix do
                if c.WeightRank * c.K <= min smaller.Rows smaller.Columns then
                    yield { c with Matrix = smaller }

            if c.K > 1 then
                yield { c with K = c.K - 1 }

            if c.WeightRank > 1 then
                yield { c with WeightRank = c.WeightRank - 1 }

            if c.ZeroWeights then
                yield { c with ZeroWeights = false }

            if c.Factored then
                yield { c with Factored = false }

            if c.WeightSeed <> 0 then
                yield { c with WeightSeed = 0 }
        }
        |> Seq.filter hasExactRank

/// Theorem 1.2 of Woodruff and Yasuda (2024): svd_w's weighted error is at most that of every rank-k matrix.
module ReweightedBeatsAnyRankK =

    /// Rank-k competitors' weighted losses: two random rank-k matrices (of A's scale) and the svd, em and als
    /// solutions (5 iterations).
    let private competitors (random: Random) (k: int) (weights: Weights) (a: Matrix<float>) =
        let w = Weights.dense weights

        let randomRankK () =
            let x = gaussian random a.RowCount k * gaussian random k a.ColumnCount
            (Norm.frobenius a / (1.0 + Norm.frobenius x)) * x

        let options = {
            WlraOptions.Default with
                MaxIterations = 5
        }

        [
            "random rank-k", Norm.weightedFrobenius w (a - randomRankK ())
            "random rank-k", Norm.weightedFrobenius w (a - randomRankK ())
            "svd", (Wlra.svd k weights a).Loss
            "em", (Wlra.em options ignore Threading.CancellationToken.None k weights a).Loss
            "als", (Wlra.als options ignore Threading.CancellationToken.None k weights a).Loss
        ]

    [<Fact>]
    let ``svd_w's weighted error is at most that of random rank-k matrices and of the svd, em and als solutions`` () =
        let cases = NonTrivial "had a positive svd_w loss"

        forAllShrink (Gen.zip WeightedCases.exactRank seed) (Shrink.first WeightedCases.shrink) (fun (case, seed) ->
            let a = case.Matrix.Build()
            let weights = case.Weights()
            let w = Weights.dense weights
            let k = case.K
            let reweighted = Wlra.svdW WeightedCases.bicriteria k weights a
            let scale = Norm.weightedFrobenius w a
            let accuracy = medium |> scaledTo scale
            let competitors = competitors (Random seed) k weights a

            // The tight case: for a rank-k A some rank-k matrix (A itself) has loss 0, so svd_w must reach 0 too.
            let planted = (Svd.bestRankK k a).ToMatrix()
            let plantedLoss = (Wlra.svdW WeightedCases.bicriteria k weights planted).Loss

            let tight =
                atMost
                    (medium |> scaledTo (Norm.weightedFrobenius w planted))
                    "svd_w loss on a rank-k A <= 0"
                    plantedLoss
                    0.0

            competitors
            |> List.map (fun (name, loss) -> atMost accuracy $"svd_w loss <= {name} loss" reweighted.Loss loss)
            |> List.append [ tight ]
            |> all
            |> Prop.label (sprintf "r = %d, total rank %d" (Weights.rank weights) reweighted.Rank)
            |> cases.Classify(reweighted.Loss > 1e-8 * scale))
        |> checkNonTrivial 50 25 cases

    /// Theorem 1.2 as stated: with W of rank r, svd_w's loss ||W o A - [W o A]_(r k)||_F on the support is the tail of
    /// W o A's spectrum beyond r k when every weight is positive, and at most that tail when some are 0 (the division
    /// by W leaves 0 there, and W o A is 0 there too). A result that kept r k + 1 directions would go below the tail.
    [<Fact>]
    let ``svd_w's loss is the tail of W o A's spectrum beyond r k (at most it, with zero weights)`` () =
        let cases = NonTrivial "had a positive tail"

        forAllShrink WeightedCases.exactRank WeightedCases.shrink (fun case ->
            let a = case.Matrix.Build()
            let weights = case.Weights()
            let w = Weights.dense weights
            let result = Wlra.svdW WeightedCases.bicriteria case.K weights a
            let t = Weights.rank weights * case.K
            let spectrum = Svd.singularValues (w.PointwiseMultiply a)
            let tail = Dense.twoNorm spectrum[t..]
            let scale = Norm.weightedFrobenius w a
            let positive = w.ForAll(fun x -> x > 0.0)
            let accuracy = medium |> scaledTo scale

            (if positive then
                 close accuracy "svd_w loss = tail of sigma(W o A) beyond r k" result.Loss tail
             else
                 atMost accuracy "svd_w loss <= tail of sigma(W o A) beyond r k" result.Loss tail)
            |> Prop.label (sprintf "r k = %d, positive weights: %b" t positive)
            |> cases.Classify(tail > 1e-8 * scale))
        |> checkNonTrivial 100 40 cases

    /// Theorem 1.2 with kappa > 1: if B has rank r k and ||W o A - B||_F <= kappa ||W o A - [W o A]_(r k)||_F, then
    /// A~ = W^(o-1) o B has weighted loss at most kappa times that of every rank-k matrix. B is the optimum with its
    /// left factor perturbed (rank r k kept); kappa is measured, and the competitors are those of the property above.
    /// The division and the loss are the library's (WeightColumns.divide, Norm).
    [<Fact>]
    let ``an approximate rank r k solution, divided by W, is within its factor kappa of every rank-k matrix`` () =
        let cases = NonTrivial "had kappa > 1 + 1e-6 and a positive optimum"

        forAll (Gen.zip3 WeightedCases.exactRank seed (Gen.elements [ 1e-3; 1e-1; 1.0 ])) (fun (case, seed, size) ->
            let a = case.Matrix.Build()
            let weights = case.Weights()
            let w = Weights.dense weights
            let k = case.K
            let t = Weights.rank weights * k
            let wa = w.PointwiseMultiply a
            let optimum = Svd.bestRankK t wa
            let tail = Svd.optimalError t wa
            let random = Random seed
            let delta = gaussian random a.RowCount optimum.Rank
            let scale = Norm.weightedFrobenius w a

            let b =
                (optimum.Left + (size * scale / (1.0 + Norm.frobenius delta)) * delta)
                * optimum.Right

            let kappa =
                if tail > 0.0 then
                    Norm.frobenius (wa - b) / tail
                else
                    infinity

            let divided = WeightColumns.divide 0.0 weights b
            let loss = Norm.weightedFrobenius w (a - divided)

            let competitors = competitors random k weights a

            // With tail = 0, W o A has rank <= r k and kappa is unbounded unless B = W o A; the bound is then vacuous.
            (if Double.IsInfinity kappa then
                 holds "tail 0: nothing to check" true
             else
                 competitors
                 |> List.map (fun (name, other) ->
                     atMost (medium |> scaledTo (kappa * scale)) $"loss <= kappa * {name} loss" loss (kappa * other))
                 |> all)
            |> Prop.label (sprintf "kappa = %.6g, r k = %d" kappa t)
            |> cases.Classify(kappa > 1.0 + 1e-6 && tail > 1e-8 * scale))
        |> checkNonTrivial 50 20 cases

    [<Fact>]
    let ``svd_w's reported loss is the weighted norm of its formed residual, and the result is 0 where W is 0`` () =
        forAllShrink WeightedCases.exactRank WeightedCases.shrink (fun case ->
            let a = case.Matrix.Build()
            let weights = case.Weights()
            let w = Weights.dense weights
            let result = Wlra.svdW WeightedCases.bicriteria case.K weights a
            let formed = result.ToMatrix()
            let scale = Norm.weightedFrobenius w a

            all [
                close
                    (medium |> scaledTo scale)
                    "Loss = ||W o (A - A~)||_F"
                    result.Loss
                    (Norm.weightedFrobenius w (a - formed))
                holds
                    "0 on zero weights"
                    (formed.ForAll((fun x -> true), Zeros.Include)
                     && Seq.forall2 (fun wij x -> wij > 0.0 || x = 0.0) (w.Enumerate()) (formed.Enumerate()))
                holds "total rank r k" (result.Rank = Weights.rank weights * case.K)
            ])
        |> check

/// With rank-one weights W = w u^T, svd_w is the exact weighted rank-k optimum
/// diag(w)^-1 [diag(w) A diag(u)]_k diag(u)^-1 on the support.
module RankOneWeightsExact =

    [<Fact>]
    let ``svd_w with rank-one weights equals the closed-form optimum on the support`` () =
        let case =
            gen {
                let! spec, k = matrixWithRank
                let! seed = seed
                let! zeros = Gen.elements [ false; true ]
                return spec, k, seed, zeros
            }

        forAll case (fun (spec, k, seed, zeros) ->
            let a = spec.Build()
            let random = Random(seed)

            let positive length =
                Array.init length (fun _ ->
                    if zeros && random.NextDouble() < 0.2 then
                        0.0
                    else
                        0.1 + random.NextDouble())

            let w, u = positive a.RowCount, positive a.ColumnCount
            w[0] <- 1.0
            u[0] <- 1.0
            let result = Wlra.svdW WlraOptions.Default k (Weights.rankOne w u) a
            let dw = Matrix<float>.Build.DenseOfDiagonalArray w
            let du = Matrix<float>.Build.DenseOfDiagonalArray u

            let inverse (v: float[]) =
                v
                |> Array.map (fun x -> if x > 0.0 then 1.0 / x else 0.0)
                |> Matrix<float>.Build.DenseOfDiagonalArray

            let closedForm = inverse w * (Svd.bestRankK k (dw * a * du)).ToMatrix() * inverse u
            let scale = Norm.frobenius a + 1.0

            let accuracy =
                medium
                |> scaledTo (
                    scale * (Array.max w * Array.max u)
                    / (Array.min (Array.filter ((<) 0.0) w) * Array.min (Array.filter ((<) 0.0) u))
                )

            all [
                close accuracy "||svd_w - closed form||_F" (Norm.frobenius (result.ToMatrix() - closedForm)) 0.0
                holds "rank k" (result.Rank = k)
            ])
        |> check

/// Practical svd_w with zero weights (Woodruff and Yasuda 2024, Algorithm 2, as LowRank defines it): entries of zero
/// weight leave the inverse of W free, so when 1/W on the support is exactly rank one, P Q fits it exactly and A~ equals
/// svd_w's wherever the weight is positive: the two losses agree. Weights here have a zero row, a zero column and
/// scattered zeros, and range over four orders of magnitude.
module PracticalSvdWWithZeroWeights =

    [<Fact>]
    let ``practical svd_w's loss equals svd_w's when 1/W is rank one on the support, whatever the zeros`` () =
        let case =
            gen {
                let! spec = matrix
                let! total = Gen.choose (1, min spec.Rows spec.Columns)
                let! seed = seed
                return spec, total, seed
            }

        forAll case (fun (spec, total, seed) ->
            let a = spec.Build()
            let n, d = a.RowCount, a.ColumnCount
            let random = Random(seed)
            let u = Array.init n (fun _ -> 10.0 ** (2.0 * random.NextDouble() - 1.0))
            let v = Array.init d (fun _ -> 10.0 ** (2.0 * random.NextDouble() - 1.0))
            let zeroRow, zeroColumn = random.Next n, random.Next d

            let w =
                Matrix<float>
                    .Build.Dense(
                        n,
                        d,
                        fun i j ->
                            if (n > 1 && i = zeroRow) || (d > 1 && j = zeroColumn) || random.NextDouble() < 0.2 then
                                0.0
                            else
                                1.0 / (u[i] * v[j])
                    )

            // Keep one positive weight, outside the zero row and column where there is room.
            let i0, j0 =
                (if n > 1 then (zeroRow + 1) % n else 0), (if d > 1 then (zeroColumn + 1) % d else 0)

            w[i0, j0] <- 1.0 / (u[i0] * v[j0])
            let weights = Weights.ofMatrix w

            let options = {
                WlraOptions.Default with
                    TotalRank = total
                    MaxIterations = 300
                    Tolerance = 0.0
            }

            let practical = Wlra.svdWPractical options 1 weights a
            let exact = Wlra.svdWBudget total weights a
            // als's ridge (1e-8 of max W^2) is what separates the two.
            let accuracy =
                { Absolute = 1e-7; Relative = 1e-6 } |> scaledTo (Norm.weightedFrobenius w a)

            all [
                close accuracy "practical loss = svd_w loss" practical.Loss exact.Loss
                close accuracy "reported = formed" practical.Loss (Norm.weightedFrobenius w (a - practical.ToMatrix()))
            ])
        |> checkWith 50


/// Each em iteration is a majorise-minimise step, so the weighted loss never increases.
module EmNeverIncreasesLoss =

    [<Fact>]
    let ``em's loss history is non-increasing and starts at or below the starting point's loss`` () =
        // "svd" passes [A]_k explicitly, "zero" a zero matrix, "default" nothing (em then starts from [A]_k).
        forAll (Gen.zip WeightedCases.generator (Gen.elements [ "svd"; "zero"; "default" ])) (fun (case, start) ->
            let a = case.Matrix.Build()
            let weights = case.Weights()
            let w = Weights.dense weights

            let startMatrix =
                if start = "zero" then
                    Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount)
                else
                    (Svd.bestRankK case.K a).ToMatrix()

            let options = {
                WlraOptions.Default with
                    MaxIterations = 8
                    Tolerance = 0.0
                    WarmStart = (if start = "default" then None else Some startMatrix)
            }

            let result =
                Wlra.em options ignore Threading.CancellationToken.None case.K weights a

            let initial = Norm.weightedFrobenius w (a - startMatrix)
            let accuracy = medium |> scaledTo (Norm.weightedFrobenius w a)
            let steps = Array.append [| initial |] result.LossHistory

            steps
            |> Array.pairwise
            |> Array.mapi (fun i (before, after) ->
                atMost accuracy $"loss after iteration {i + 1} <= before" after before)
            |> List.ofArray
            |> all)
        |> checkWith 50

/// als's half-step is the exact weighted least-squares optimum: with V fixed, U solves the normal equations
/// (W2 o (U V^T - A)) V + lambda U = 0 of the convex objective sum W2_ij (A - U V^T)_ij^2 + lambda ||U||^2, up to the
/// backward error of the solve (checked against ||W2|| ||V||^2 ||U|| + ||(W2 o A) V|| + lambda ||U||).
module AlsHalfStepsAreExact =

    [<Fact>]
    let ``each als half-step satisfies the weighted normal equations`` () =
        let case =
            gen {
                let! weighted = WeightedCases.generator
                let! k = Gen.choose (1, 6)
                let! ridge = Gen.elements [ 0.0; 1e-8; 0.3 ]
                let! seed = seed
                return weighted, k, ridge, seed
            }

        forAll case (fun (weighted, k, ridge, seed) ->
            let a = weighted.Matrix.Build()
            let w = Weights.dense (weighted.Weights())
            let w2 = w.PointwiseMultiply w
            let v = gaussian (Random seed) a.ColumnCount k
            let lambda = ridge * Seq.max (w2.Enumerate())
            let u = WlraAls.weightedRows w2 a v lambda
            let gradient = (w2.PointwiseMultiply(u * v.Transpose() - a)) * v + lambda * u

            let scale =
                w2.FrobeniusNorm() * v.FrobeniusNorm() ** 2.0 * u.FrobeniusNorm()
                + (w2.PointwiseMultiply a * v).FrobeniusNorm()
                + lambda * u.FrobeniusNorm()

            let accuracy = medium |> scaledTo scale

            all [
                close accuracy "normal-equation residual = 0" (gradient.FrobeniusNorm()) 0.0
                holds "U is finite" (u.ForAll(fun x -> Double.IsFinite x))
            ])
        |> checkWith 100
