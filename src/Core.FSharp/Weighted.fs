namespace LowRank.Core

open System
open MathNet.Numerics.LinearAlgebra

/// Nonnegative weights W (n x d) for weighted low-rank approximation, dense or in low-rank factored form W = L R
/// (L n x r, R r x d; a rank-one w u^T is the r = 1 case). Build them with the Weights module.
[<NoComparison; NoEquality>]
type Weights =
    internal
    | DenseWeights of Matrix<float>
    | FactoredWeights of left: Matrix<float> * right: Matrix<float> * dense: Lazy<Matrix<float>>

/// How a weighted approximation turns its low-rank part Left Right into the approximation of A.
[<RequireQualifiedAccess; NoComparison; NoEquality>]
type Reweighting =
    /// The approximation is Left Right itself.
    | None
    /// The approximation is W^(o+) o (Left Right): entrywise division by the weights, with 1/0 taken as 0, so it is 0
    /// wherever W is 0 (Woodruff and Yasuda 2024, Algorithm 1).
    | DivideByWeights of Weights
    /// The approximation is (P Q) o (Left Right), P Q a low-rank approximation of W^(o+) (Algorithm 2).
    | MultiplyBy of p: Matrix<float> * q: Matrix<float>

/// The result of a weighted low-rank approximation algorithm.
[<NoComparison; NoEquality>]
type WeightedApproximation = {
    /// The algorithm: "svd", "svd_w", "svd_w practical", "em", "em_w", "als", "adam", "greedy", "sample", "css".
    Method: string
    /// n x t left factor of the low-rank part.
    Left: Matrix<float>
    /// t x d right factor of the low-rank part.
    Right: Matrix<float>
    /// How Left Right becomes the approximation.
    Reweighting: Reweighting
    /// ||W o (A - approximation)||_F.
    Loss: float
    /// The numbers stored: (n + d) t for the low-rank part, plus the reweighting's factors when it has its own
    /// (Algorithm 2's P and Q, or W's factors when W was given factored). Dense W, which the caller holds, is not
    /// counted.
    Parameters: int
    /// Iterations run (1 for one-shot methods; the rank for greedy).
    Iterations: int
    /// Whether the stopping rule was met before the iteration limit (always true for one-shot methods).
    Converged: bool
    /// The loss after each iteration, for convergence plots; one entry for one-shot methods.
    LossHistory: float[]
} with

    /// The rank t of the low-rank part.
    member this.Rank = this.Left.ColumnCount

    /// Forms the dense n x d approximation in O(n d t).
    member this.ToMatrix() : Matrix<float> =
        let product =
            if this.Rank = 0 then
                Matrix<float>.Build.Dense(this.Left.RowCount, this.Right.ColumnCount)
            else
                Dense.multiply this.Left this.Right

        match this.Reweighting with
        | Reweighting.None -> product
        | Reweighting.DivideByWeights weights ->
            let w =
                match weights with
                | DenseWeights w -> w
                | FactoredWeights(_, _, dense) -> dense.Value

            Dense.divideByWeights w product
        | Reweighting.MultiplyBy(p, q) -> product.PointwiseMultiply(Dense.multiply p q)

/// Options of the iterative weighted algorithms; each algorithm reads the fields it uses.
[<NoComparison; NoEquality>]
type WlraOptions = {
    /// Iteration limit (em, em_w, als, adam). Default 25.
    MaxIterations: int
    /// Stop when the loss decreases by less than Tolerance times itself in one iteration. Default 1e-6.
    Tolerance: float
    /// als's ridge term lambda, relative to max W_ij^2. Default 1e-8.
    Ridge: float
    /// adam's learning rate, relative to the root-mean-square entry of A. Default 1e-2.
    LearningRate: float
    /// Seed of the randomised parts (sample, adam's noise-free start is deterministic). Default 0.
    Seed: int
    /// sample's number of sampled rows; 0 chooses 4 t log(t + 1) + 10 for total rank t. Default 0.
    Samples: int
    /// em's starting point (n x d); None starts from 0. em_w sets it from svd_w.
    WarmStart: Matrix<float> option
} with

    /// MaxIterations 25, Tolerance 1e-6, Ridge 1e-8, LearningRate 1e-2, Seed 0, Samples 0, no warm start.
    static member Default = {
        MaxIterations = 25
        Tolerance = 1e-6
        Ridge = 1e-8
        LearningRate = 1e-2
        Seed = 0
        Samples = 0
        WarmStart = None
    }

/// Builds weights for weighted low-rank approximation.
[<RequireQualifiedAccess>]
module Weights =

    /// <summary>Dense weights.</summary>
    /// <param name="weights">W: finite and nonnegative, not all zero. It is copied.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="System.ArgumentNullException">weights is null.</exception>
    /// <exception cref="System.ArgumentException">weights is empty, all zero, or has a negative, NaN or infinite entry.</exception>
    [<CompiledName("FromMatrix")>]
    let ofMatrix (weights: Matrix<float>) =
        Guard.weights (nameof weights) weights (nameof weights) weights

        if Dense.storedValues weights |> Array.forall ((=) 0.0) then
            raise (ArgumentException("Expected some positive weight, but every entry of weights is 0.", nameof weights))

        DenseWeights(weights.Clone())

    /// <summary>Weights in low-rank factored form W = left right, which must be entrywise nonnegative; the rank-one
    /// w u^T is left = w as an n x 1 matrix and right = u^T as 1 x d.</summary>
    /// <param name="left">L (n x r), finite.</param>
    /// <param name="right">R (r x d), finite.</param>
    /// <returns>The weights; svd_w then uses r as the weights' rank without estimating it.</returns>
    /// <exception cref="System.ArgumentNullException">left or right is null.</exception>
    /// <exception cref="System.ArgumentException">the inner dimensions differ, an entry is not finite, or L R has a
    /// negative entry or is all zero.</exception>
    /// <remarks>O(n d r) once, to check nonnegativity and to form W for the losses.</remarks>
    [<CompiledName("FromFactors")>]
    let ofFactors (left: Matrix<float>) (right: Matrix<float>) =
        Guard.finiteMatrix (nameof left) left
        Guard.finiteMatrix (nameof right) right

        if left.ColumnCount <> right.RowCount then
            raise (
                ArgumentException(
                    $"Expected right to have as many rows as left has columns ({left.ColumnCount}), but right is {Guard.shape right}.",
                    nameof right
                )
            )

        let w = Dense.multiply left right

        match
            w.EnumerateIndexed(Zeros.AllowSkip)
            |> Seq.tryFind (fun struct (_, _, x) -> x < 0.0)
        with
        | Some(struct (i, j, x)) ->
            raise (
                ArgumentException(
                    $"Expected left * right to be nonnegative weights, but its entry [{i}, {j}] = {x}.",
                    nameof right
                )
            )
        | None -> ()

        if Dense.storedValues w |> Array.forall ((=) 0.0) then
            raise (ArgumentException("Expected some positive weight, but left * right is all zero.", nameof right))

        FactoredWeights(left.Clone(), right.Clone(), lazy w)

    /// <summary>The rank-one weights w u^T (for instance Fisher-weighted SVD), for which svd_w is the exact rank-k optimum.</summary>
    /// <param name="rowWeights">w (length n), finite and nonnegative.</param>
    /// <param name="columnWeights">u (length d), finite and nonnegative.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">an array is empty, has a negative or non-finite entry, or is all zero.</exception>
    [<CompiledName("RankOne")>]
    let rankOne (rowWeights: float[]) (columnWeights: float[]) =
        let check name (v: float[]) =
            Guard.notNull name v

            if
                v.Length = 0
                || Array.exists (fun x -> not (Double.IsFinite x) || x < 0.0) v
                || Array.forall ((=) 0.0) v
            then
                let shown =
                    String.Join(", ", Array.truncate 8 v) + (if v.Length > 8 then ", ..." else "")

                raise (
                    ArgumentException(
                        $"Expected {name} to be a nonempty array of finite, nonnegative numbers, not all zero, but it is [{shown}].",
                        name
                    )
                )

        check (nameof rowWeights) rowWeights
        check (nameof columnWeights) columnWeights

        ofFactors
            (Matrix<float>.Build.Dense(rowWeights.Length, 1, rowWeights))
            (Matrix<float>.Build.Dense(1, columnWeights.Length, columnWeights))

    /// The dense n x d weights; O(1) for dense weights, formed once for factored ones.
    let internal dense (weights: Weights) =
        match weights with
        | DenseWeights w -> w
        | FactoredWeights(_, _, w) -> w.Value

    /// The rank of W: the factors' inner dimension, or the numerical rank of dense weights (Svd.numericalRank's threshold).
    [<CompiledName("Rank")>]
    let rank (weights: Weights) =
        Guard.notNull (nameof weights) weights

        match weights with
        | FactoredWeights(left, _, _) -> left.ColumnCount
        | DenseWeights w -> Dense.singularValues w |> Dense.numericalRankOf w.RowCount w.ColumnCount

    /// Numbers needed to store the weights: (n + d) r when factored, n d when dense.
    let internal storage (weights: Weights) =
        match weights with
        | FactoredWeights(left, right, _) -> (left.RowCount + right.ColumnCount) * left.ColumnCount
        | DenseWeights w -> w.RowCount * w.ColumnCount

/// The result of column subset selection on W o A (Woodruff and Yasuda 2024, Corollary 1.3).
[<NoComparison; NoEquality>]
type ColumnSubset = {
    /// The indices of the selected columns of W o A, in decreasing order of leverage.
    Columns: int[]
    /// Left = (W o A) restricted to Columns (n x c), Right = X (c x d) minimising ||W o A - Left X||_F, reweighted
    /// by W^(o+).
    Approximation: WeightedApproximation
    /// epsilon = t - (sum of the selected columns' rank-t leverage scores), t = r k: how much of the top-t right
    /// singular space the selection misses. When epsilon &lt; 1 the guarantee
    /// ||W o A - C C^+ (W o A)||_F^2 &lt;= (1 + 1/(1 - epsilon)) ||W o A - [W o A]_t||_F^2 holds.
    LeverageDeficit: float
}
