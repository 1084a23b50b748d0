/// Weighted low-rank approximation: given A (n x d), nonnegative weights W and a rank k, find A~ that makes
/// ||A - A~||_{W,F} = ||W o (A - A~)||_F small. The reweighted algorithms of Woodruff and Yasuda, "Reweighted
/// Solutions for Weighted Low Rank Approximation" (2024), and the classic baselines they are compared with.
[<RequireQualifiedAccess>]
module LowRank.Core.Wlra

open System
open System.Threading
open MathNet.Numerics.LinearAlgebra

open LowRank.Core.WlraShared

/// <summary>Checks every option's range as each method does before it runs, so that a caller running several methods
/// can reject bad options before any of them runs.</summary>
/// <param name="options">The options.</param>
/// <exception cref="System.ArgumentNullException">options or options.Progress is null.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">an option is out of range; the message names it
/// (options.Field), the expectation and the value.</exception>
[<CompiledName("Validate")>]
let validate (options: WlraOptions) = checkOptions options

/// <summary>The weighted loss ||W o (A - A~)||_F of an approximation returned by this module.</summary>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <param name="approximation">A~.</param>
/// <returns>The loss; O(n d t).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">the shapes differ.</exception>
[<CompiledName("Loss")>]
let loss (weights: Weights) (matrix: Matrix<float>) (approximation: WeightedApproximation) =
    Guard.notNull (nameof approximation) approximation
    checkShapes 1 weights matrix

    if
        approximation.Left.RowCount <> matrix.RowCount
        || approximation.Right.ColumnCount <> matrix.ColumnCount
    then
        raise (
            ArgumentException(
                $"Expected an approximation of matrix's shape ({Guard.shape matrix}), but approximation is {approximation.Left.RowCount}x{approximation.Right.ColumnCount}.",
                nameof approximation
            )
        )

    streamedLoss weights matrix approximation |> fst

/// <summary>The unweighted baseline `svd`: the best rank-k approximation [A]_k, ignoring the weights.</summary>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W, used only to report the loss.</param>
/// <param name="matrix">A (n x d), finite.</param>
/// <returns>Rank k factors; cost O(n d min(n, d)).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite, or weights differ in shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)].</exception>
[<CompiledName("Svd")>]
let svd (rank: int) (weights: Weights) (matrix: Matrix<float>) = WlraReweighted.svd rank weights matrix

/// <summary>svd_w with a total rank budget: A~ = W^(o+) o [W o A]_t, the rank-t truncated SVD of W o A divided
/// entrywise by W (1/0 taken as 0).</summary>
/// <param name="totalRank">t, 1 &lt;= t &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>The approximation with its weighted loss; O(n d min(n, d)).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite, or weights differ in shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">totalRank is outside [1, min(n, d)].</exception>
/// <remarks>The approximation is 0 on entries of zero weight: W o A carries no information there.</remarks>
[<CompiledName("SvdWBudget")>]
let svdWBudget (totalRank: int) (weights: Weights) (matrix: Matrix<float>) =
    WlraReweighted.svdWBudget totalRank weights matrix

/// <summary>svd_w (Algorithm 1 of Woodruff and Yasuda 2024): A~ = W^(o+) o [W o A]_t. By default t is the largest
/// total rank whose (n + d) t numbers fit the storage of rank-k factors,
/// k (n + d), or options.Parameters: equal storage with the rank-k methods. The bicriteria form, t = r k
/// (options.Bicriteria or a given WeightRank), is the paper's theorem: when W has rank r with r k &lt;= min(n, d), its
/// weighted error is at most that of every rank-k matrix (Theorem 1.2), because rank(W o A') &lt;= r k for rank-k A'
/// (Lemma 2.1), at r times the storage.</summary>
/// <param name="options">How t is chosen: TotalRank (t given); WeightRank (r given, t = r k); Bicriteria (t = r k with
/// W's own rank when r_W k &lt;= min(n, d), else the smallest r whose rank-r approximation of W holds EnergyFraction of
/// ||W||_F^2, at most min(n, d)/k, found from W's top singular values by randomized subspace iteration, not a full SVD
/// of W); else the budget, Parameters or k (n + d). WeightFloor bounds the division by tiny weights.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A (n x d), finite.</param>
/// <returns>The approximation: rank t factors of W o A, divided by W; 0 on entries of zero weight. WeightRank (0 under
/// the budget rule) and RankChoice say which t (and r) was used and why.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite, or weights differ in shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)], a given r has r k &gt; min(n, d),
/// the budget leaves no rank (it is below n + d), or an option is out of range.</exception>
/// <remarks>O(n d min(n, d)) for the SVD of W o A, plus O(n d r) to choose r for dense weights under Bicriteria. With
/// rank-one weights w u^T and t = k it is the exact weighted rank-k optimum.</remarks>
/// <example>
/// <code lang="fsharp">
/// let a = Matrix&lt;float&gt;.Build.Random(300, 100, 1)
/// let w = Weights.rankOne (Array.init 300 (fun i -> 1.0 + float (i % 3))) (Array.create 100 1.0)
/// let result = Wlra.svdW WlraOptions.Default 5 w a // exact weighted rank-5 optimum for rank-one weights
/// printfn "loss %g in %d numbers" result.Loss result.Parameters
/// </code>
/// </example>
[<CompiledName("SvdW")>]
let svdW (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    WlraReweighted.svdW options rank weights matrix

/// <summary>The `em` baseline (Srebro and Jaakkola 2003): X &lt;- [W2 o A + (1 - W2) o X]_k with W2 = W^2 / max W^2,
/// from options.WarmStart or [A]_k, until the loss decreases by less than options.Tolerance times itself or
/// options.MaxIterations is reached.</summary>
/// <param name="options">MaxIterations, Tolerance, WarmStart (a zero matrix starts from 0).</param>
/// <param name="progress">Called after every iteration (`ignore` for none).</param>
/// <param name="token">Checked after every iteration: a cancelled token stops the method within one iteration.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A, finite.</param>
/// <returns>Rank-k factors. Each iteration is a majorise-minimise step for sum W2_ij (A - X)_ij^2 and never increases
/// the loss: its rank-k step is the best approximation of the filled matrix with rows in span([V, M^T M V]) (V the
/// previous iterate's row space, M the filled matrix), O(n d k) instead of a full SVD's O(n d min(n, d)); the first
/// step from a zero start is an exact SVD.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix or the warm start is not finite or of the wrong shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank or an option is out of range.</exception>
/// <exception cref="System.OperationCanceledException">token was cancelled (checked every iteration).</exception>
[<CompiledName("Em")>]
let em
    (options: WlraOptions)
    (progress: WlraProgress -> unit)
    (token: CancellationToken)
    (rank: int)
    (weights: Weights)
    (matrix: Matrix<float>)
    =
    Guard.notNull (nameof progress) progress
    WlraEm.em options progress token rank weights matrix

/// <summary>The `em_w` method: em started from svd_w's solution truncated to rank k.</summary>
/// <param name="options">MaxIterations, Tolerance, and svd_w's options (WarmStart is ignored).</param>
/// <param name="progress">Called after every iteration (`ignore` for none).</param>
/// <param name="token">Checked after every iteration: a cancelled token stops the method within one iteration.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A, finite.</param>
/// <returns>Rank-k factors, with svd_w's WeightRank and RankChoice; the cost of svd_w plus em's.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for em.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">as for svdW and em.</exception>
/// <exception cref="System.OperationCanceledException">token was cancelled.</exception>
[<CompiledName("EmW")>]
let emW
    (options: WlraOptions)
    (progress: WlraProgress -> unit)
    (token: CancellationToken)
    (rank: int)
    (weights: Weights)
    (matrix: Matrix<float>)
    =
    Guard.notNull (nameof progress) progress
    WlraEm.emW options progress token rank weights matrix

/// <summary>The `als` baseline: weighted alternating least squares on A ~ U V^T, each half-step solving
/// min sum_ij W_ij^2 (A_ij - u_i . v_j)^2 + lambda (||U||^2 + ||V||^2) exactly for one factor, lambda =
/// options.Ridge max W^2, on A scaled by the power of two 2^-e that puts max |A| in [1, 2) (so the ridge is relative to
/// A's scale too, the result scales with A, and Gram matrices neither overflow nor underflow); started from [A]_k.
/// </summary>
/// <param name="options">MaxIterations, Tolerance, Ridge.</param>
/// <param name="progress">Called after every iteration (`ignore` for none).</param>
/// <param name="token">Checked after every iteration: a cancelled token stops the method within one iteration.</param>
/// <param name="rank">k.</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>Rank-k factors. A sweep costs O(n d k^2 + (n + d) k^3); stops as em does.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for em.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank or an option is out of range.</exception>
/// <exception cref="System.OperationCanceledException">token was cancelled.</exception>
[<CompiledName("Als")>]
let als
    (options: WlraOptions)
    (progress: WlraProgress -> unit)
    (token: CancellationToken)
    (rank: int)
    (weights: Weights)
    (matrix: Matrix<float>)
    =
    Guard.notNull (nameof progress) progress
    WlraAls.als options progress token rank weights matrix

/// <summary>Practical svd_w (after Algorithm 2 of Woodruff and Yasuda 2024): P Q, a rank-t approximation of the
/// entrywise inverse of W, and A~ = (P Q) o [W o A]_t with t as for svdW, so that W^(o-1) is never needed at reconstruction.
/// </summary>
/// <param name="options">t as for svdW (its budget rule counts the 2 (n + d) t numbers of both rank-t parts; W is not
/// kept), WeightFloor as for svdW; MaxIterations and Tolerance for the fit of P Q.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W (r as for svdW).</param>
/// <param name="matrix">A, finite.</param>
/// <returns>The approximation; it stores 2 (n + d) t numbers (the factors of both rank-t parts).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite, or weights differ in shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">as for svdW.</exception>
/// <remarks>P Q minimises ||W o (P Q) - S||_F (S the 0/1 support of W), the weighted fit of 1 / max(W, floor) with
/// weights W, by als without a ridge (MaxIterations sweeps): on entries of positive weight W o A~ = (W o P Q) o [W o A]_t, so the loss is svd_w's plus at most
/// max |1 - W o P Q| ||[W o A]_t||_F, and relative errors of the inverse are what matter. Entries of zero weight carry no
/// weight in that fit, so the inverse is free there, which is what 1/0 means here: nothing is asked of A~ there. (An
/// unweighted [W^(o+)]_t would be dominated by the largest 1/W, i.e. the tiniest weights, and dividing A by P Q, as
/// [(P Q)^(o+) o A]_t would, blows up where P Q is near 0.) The low-rank part is [W o A]_t itself. O(n d min(n, d))
/// for the SVD, plus MaxIterations als sweeps of O(n d t^2).</remarks>
[<CompiledName("SvdWPractical")>]
let svdWPractical (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    WlraPractical.svdWPractical options rank weights matrix

/// <summary>The `adam` baseline: U V^T optimised by Adam (beta1 0.9, beta2 0.999) on ||W o (A - U V^T)||_F^2 from
/// the balanced factors of [A]_k, step options.LearningRate times the root-mean-square entry of A.</summary>
/// <param name="options">AdamSteps, Tolerance, LearningRate.</param>
/// <param name="progress">Called after every iteration (`ignore` for none).</param>
/// <param name="token">Checked after every iteration: a cancelled token stops the method within one iteration.</param>
/// <param name="rank">k.</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>Rank-k factors with the best loss seen. A step costs O(n d k).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for em.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank or an option is out of range.</exception>
/// <exception cref="System.OperationCanceledException">token was cancelled.</exception>
[<CompiledName("Adam")>]
let adam
    (options: WlraOptions)
    (progress: WlraProgress -> unit)
    (token: CancellationToken)
    (rank: int)
    (weights: Weights)
    (matrix: Matrix<float>)
    =
    Guard.notNull (nameof progress) progress
    WlraAdam.adam options progress token rank weights matrix

/// <summary>The `greedy` baseline (Bhaskara, Ruwanpathirana and Wijewardena 2021): k times, add the top right singular
/// vector of the gradient W^2 o (A - X) to an orthonormal basis V, then refit the rows of X = U V^T by weighted least
/// squares.</summary>
/// <param name="progress">Called after every iteration (`ignore` for none).</param>
/// <param name="token">Checked after every iteration: a cancelled token stops the method within one iteration.</param>
/// <param name="rank">k.</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>Rank-k factors after exactly k steps, each O(n d min(n, d) + n d k^2).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for svd.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)].</exception>
/// <exception cref="System.OperationCanceledException">token was cancelled.</exception>
[<CompiledName("Greedy")>]
let greedy
    (progress: WlraProgress -> unit)
    (token: CancellationToken)
    (rank: int)
    (weights: Weights)
    (matrix: Matrix<float>)
    =
    Guard.notNull (nameof progress) progress
    WlraGreedy.greedy progress token rank weights matrix

/// <summary>The `sample` baseline (row-norm sampling of W o A, Frieze, Kannan and Vempala; Dai 2023): sample s rows of
/// M = W o A with probability proportional to their squared norms, scaled by 1/sqrt(s p_i); V spans the sample's top
/// t right singular vectors (t as for svdW); A~ = W^(o+) o (M V V^T).</summary>
/// <param name="options">Samples (0 chooses 4 t ln(t + 1) + 10), Seed, and t and WeightFloor as for svdW.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>The approximation; O(n d) to sample plus O(s d min(s, d) + n d t).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for svdW.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">as for svdW, or options.Samples &lt; 0.</exception>
[<CompiledName("Sample")>]
let sample (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    WlraSampling.sample options rank weights matrix

/// <summary>Column subset selection (Woodruff and Yasuda 2024, Corollary 1.3) by deterministic leverage scores: with
/// M = W o A and t = r k, choose the c columns of M with the largest leverage scores l_j = ||V_t^T e_j||^2 (V_t the top-t
/// right singular vectors of M), set C = M restricted to them and X = C^+ M, and return A~ = W^(o+) o (C X).</summary>
/// <param name="columns">c, with t &lt;= c &lt;= d.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d); r as svdW chooses it, with r k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A, finite.</param>
/// <returns>The column indices, the approximation (storing (n + d) c numbers: C and X) and epsilon = t - sum of the
/// selected leverage scores.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for svdW.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">as for svdW, or columns outside [t, d].</exception>
/// <remarks>Guarantee (derived here, in the spirit of Boutsidis, Drineas and Magdon-Ismail 2014 and Papailiopoulos,
/// Kyrillidis and Boutsidis 2014): if epsilon &lt; 1 then sigma_min(V_t^T S)^2 &gt;= 1 - epsilon for the selection S, and
/// X' = C (V_t^T S)^+ V_t^T in span(C) satisfies M - X' = E - E S (V_t^T S)^+ V_t^T with E = M - [M]_t, two terms with
/// orthogonal row spaces; hence ||M - C C^+ M||_F^2 &lt;= (1 + 1/(1 - epsilon)) ||M - [M]_t||_F^2. With positive weights the
/// right side is svd_w's squared loss, so the CSS loss is within sqrt(1 + 1/(1 - epsilon)) of svd_w's.
/// Cost: a thin SVD of M, O(n d min(n, d)), and a least-squares solve, O(n c d).</remarks>
[<CompiledName("ColumnSubset")>]
let columnSubset (columns: int) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    WlraSampling.columnSubset columns rank weights matrix
