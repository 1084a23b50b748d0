using System;
using System.Threading;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// Weighted low-rank approximation: A~ making ||W o (A - A~)||_F small, by the reweighted algorithms of Woodruff and
/// Yasuda, "Reweighted Solutions for Weighted Low Rank Approximation" (2024), and the classic baselines.
/// </summary>
/// <example>
/// <code>
/// var weights = Weights.RankOne(rowWeights, columnWeights);
/// WeightedApproximation fast = Wlra.SvdW(a, weights, rank: 10);      // one SVD of W o A, divided by W
/// WeightedApproximation refined = Wlra.EmW(a, weights, rank: 10);    // EM started from it
/// </code>
/// </example>
public static partial class Wlra
{
    private static Core.WlraOptions Options(WlraOptions? options) => (options ?? new WlraOptions()).ToCore();

    private static Microsoft.FSharp.Core.FSharpFunc<Core.WlraProgress, Microsoft.FSharp.Core.Unit> Reporter(IProgress<WlraProgress>? progress) =>
        Reporters.Of<Core.WlraProgress, WlraProgress>(progress, p => new WlraProgress(p.Method, p.Iteration, p.Limit, p.Loss));

    /// <summary>The weighted loss ||W o (A - A~)||_F of an approximation.</summary>
    /// <param name="matrix">A.</param>
    /// <param name="weights">W.</param>
    /// <param name="approximation">A~.</param>
    /// <returns>The loss, in O(n d t).</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">The shapes differ.</exception>
    public static double Loss(Matrix<double> matrix, Weights weights, WeightedApproximation approximation) =>
        Core.Wlra.Loss(Weights.CoreOf(weights), matrix, WeightedApproximation.CoreOf(approximation));

    /// <summary>The unweighted baseline: [A]_k, ignoring the weights except to report the loss.</summary>
    /// <param name="matrix">A (n x d), finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <returns>Rank-k factors; O(n d min(n, d)).</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or not finite, or the weights differ in shape.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)].</exception>
    public static WeightedApproximation Svd(Matrix<double> matrix, Weights weights, int rank) =>
        new(Core.Wlra.Svd(rank, Weights.CoreOf(weights), matrix));

    /// <summary>Checks every option's range, as each method does before it runs, so that a caller running several methods
    /// can reject bad options before any of them runs.</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="System.ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">An option is out of range; the message names it
    /// (options.Name), the expectation and the value.</exception>
    public static void Validate(WlraOptions options)
    {
        System.ArgumentNullException.ThrowIfNull(options);
        Core.Wlra.Validate(options.ToCore());
    }

    /// <summary>
    /// svd_w (Algorithm 1): A~ = W^(o+) o [W o A]_t. By default t is the largest total rank whose (n + d) t numbers fit the
    /// storage of rank-k factors, k (n + d) (or <see cref="WlraOptions.Parameters"/>), so it is compared with the rank-k
    /// methods at equal storage. With <see cref="WlraOptions.Bicriteria"/> (or a given <see cref="WlraOptions.WeightRank"/>)
    /// t = r k with r = rank(W): its weighted error is then at most that of every rank-k matrix (Theorem 1.2), at r times
    /// the storage.
    /// </summary>
    /// <param name="matrix">A (n x d), finite.</param>
    /// <param name="weights">W; under Bicriteria r is its rank (the factors' inner dimension, or the numerical rank of dense
    /// weights) when r k &lt;= min(n, d), else chosen by <see cref="WlraOptions.EnergyFraction"/>;
    /// <see cref="WeightedApproximation.RankChoice"/> says which t and why.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="options">Parameters, Bicriteria, WeightRank, EnergyFraction, TotalRank, WeightFloor; null for the
    /// defaults.</param>
    /// <returns>The approximation, 0 on entries of zero weight.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or not finite, or the weights differ in shape.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)], a given r has
    /// r k &gt; min(n, d), the budget is below n + d, or an option is out of range.</exception>
    public static WeightedApproximation SvdW(Matrix<double> matrix, Weights weights, int rank, WlraOptions? options = null) =>
        new(Core.Wlra.SvdW(Options(options), rank, Weights.CoreOf(weights), matrix));

    /// <summary>svd_w with the total rank t given directly: A~ = W^(o+) o [W o A]_t.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="totalRank">t, 1 &lt;= t &lt;= min(n, d).</param>
    /// <returns>The approximation, 0 on entries of zero weight.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="totalRank"/> is outside [1, min(n, d)].</exception>
    public static WeightedApproximation SvdWBudget(Matrix<double> matrix, Weights weights, int totalRank) =>
        new(Core.Wlra.SvdWBudget(totalRank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// Practical svd_w (after Algorithm 2): P Q = a rank-t approximation of the entrywise inverse of W and
    /// A~ = (P Q) o [W o A]_t with t as for SvdW (at equal storage both rank-t parts count: t = k / 2), so that W^(o-1)
    /// is never stored densely.
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d); r as for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>.</param>
    /// <param name="options">As for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>; null for the defaults.</param>
    /// <returns>The approximation, storing 2 (n + d) t numbers. Entries of zero weight are free in the inverse of W, so they
    /// are filled with its own rank-t fit (masked EM).</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">As for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>.</exception>
    public static WeightedApproximation SvdWPractical(Matrix<double> matrix, Weights weights, int rank, WlraOptions? options = null) =>
        new(Core.Wlra.SvdWPractical(Options(options), rank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// em (Srebro and Jaakkola 2003): X &lt;- [W2 o A + (1 - W2) o X]_k with W2 = W^2 / max W^2, from the warm start or [A]_k;
    /// never increases the loss.
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">MaxIterations, Tolerance, WarmStart (null: [A]_k; a zero matrix: 0); null for the defaults.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked after every iteration: cancelling stops the method within one iteration.</param>
    /// <returns>Rank-k factors; each iteration costs a truncated SVD.</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Svd(Matrix{double}, Weights, int)"/>, or the warm start has the wrong shape.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> or an option is out of range.</exception>
    /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static WeightedApproximation Em(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => new(Core.Wlra.Em(Options(options), Reporter(progress), cancellationToken, rank, Weights.CoreOf(weights), matrix));

    /// <summary>em_w: em started from svd_w's solution truncated to rank k.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d); r as for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>.</param>
    /// <param name="options">MaxIterations, Tolerance and svd_w's options; null for the defaults.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked after every iteration: cancelling stops the method within one iteration.</param>
    /// <returns>Rank-k factors.</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Em(Matrix{double}, Weights, int, WlraOptions, IProgress{WlraProgress}, CancellationToken)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">As for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/> and <see cref="Em(Matrix{double}, Weights, int, WlraOptions, IProgress{WlraProgress}, CancellationToken)"/>.</exception>
    /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static WeightedApproximation EmW(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => new(Core.Wlra.EmW(Options(options), Reporter(progress), cancellationToken, rank, Weights.CoreOf(weights), matrix));

    /// <summary>als: weighted alternating least squares on U V^T with a small ridge term, started from [A]_k.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">MaxIterations, Tolerance, Ridge; null for the defaults.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked after every iteration: cancelling stops the method within one iteration.</param>
    /// <returns>Rank-k factors; a sweep costs O(n d k^2 + (n + d) k^3).</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Svd(Matrix{double}, Weights, int)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> or an option is out of range.</exception>
    /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static WeightedApproximation Als(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => new(Core.Wlra.Als(Options(options), Reporter(progress), cancellationToken, rank, Weights.CoreOf(weights), matrix));

    /// <summary>adam: U V^T optimised by Adam on the squared weighted loss from the balanced factors of [A]_k.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">AdamSteps, Tolerance, LearningRate; null for the defaults.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked after every iteration: cancelling stops the method within one iteration.</param>
    /// <returns>Rank-k factors with the best loss seen; a step costs O(n d k).</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Svd(Matrix{double}, Weights, int)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> or an option is out of range.</exception>
    /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static WeightedApproximation Adam(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => new(Core.Wlra.Adam(Options(options), Reporter(progress), cancellationToken, rank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// greedy (Bhaskara et al. 2021): k times, add the top right singular vector of W^2 o (A - X) to an orthonormal basis
    /// and refit X's rows by weighted least squares.
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked after every iteration: cancelling stops the method within one iteration.</param>
    /// <returns>Rank-k factors after k steps.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Svd(Matrix{double}, Weights, int)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)].</exception>
    /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static WeightedApproximation Greedy(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => new(Core.Wlra.Greedy(Reporter(progress), cancellationToken, rank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// sample (row-norm sampling of W o A; Dai 2023): the top t right singular vectors V (t as for SvdW) of a row sample of W o A, and
    /// A~ = W^(o+) o ((W o A) V V^T). One pass, no iterations: it takes no progress or cancellation.
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d); r as for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>.</param>
    /// <param name="options">Samples, Seed, and r and WeightFloor as for svd_w; null for the defaults.</param>
    /// <returns>The approximation, 0 on entries of zero weight.</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">As for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>, or Samples &lt; 0.</exception>
    public static WeightedApproximation Sample(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null
    ) => new(Core.Wlra.Sample(Options(options), rank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// Column subset selection (Corollary 1.3) by deterministic leverage scores: the c columns C of M = W o A with the
    /// largest rank-t leverage (t = r k), X = C^+ M, and A~ = W^(o+) o (C X).
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d); r as for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>.</param>
    /// <param name="columns">c, with r k &lt;= c &lt;= d.</param>
    /// <returns>The column indices, the approximation and the leverage deficit epsilon; when epsilon &lt; 1 the loss is
    /// within sqrt(1 + 1/(1 - epsilon)) of ||W o A - [W o A]_t||_F (svd_w's loss for positive weights).</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">As for <see cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>, or <paramref name="columns"/> outside [r k, d].</exception>
    public static ColumnSubset ColumnSubset(Matrix<double> matrix, Weights weights, int rank, int columns) =>
        new(Core.Wlra.ColumnSubset(columns, rank, Weights.CoreOf(weights), matrix));

    /// <inheritdoc cref="Svd(Matrix{double}, Weights, int)"/>
    public static WeightedApproximation Svd(double[,] matrix, Weights weights, int rank) =>
        Svd(Matrices.Of(matrix, nameof(matrix)), weights, rank);

    /// <inheritdoc cref="SvdW(Matrix{double}, Weights, int, WlraOptions)"/>
    public static WeightedApproximation SvdW(double[,] matrix, Weights weights, int rank, WlraOptions? options = null) =>
        SvdW(Matrices.Of(matrix, nameof(matrix)), weights, rank, options);

    /// <inheritdoc cref="Em(Matrix{double}, Weights, int, WlraOptions, IProgress{WlraProgress}, CancellationToken)"/>
    public static WeightedApproximation Em(
        double[,] matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => Em(Matrices.Of(matrix, nameof(matrix)), weights, rank, options, progress, cancellationToken);

    /// <inheritdoc cref="Als(Matrix{double}, Weights, int, WlraOptions, IProgress{WlraProgress}, CancellationToken)"/>
    public static WeightedApproximation Als(
        double[,] matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => Als(Matrices.Of(matrix, nameof(matrix)), weights, rank, options, progress, cancellationToken);
}
