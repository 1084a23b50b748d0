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
public static class Wlra
{
    private static Core.WlraOptions Options(WlraOptions? options) => (options ?? new WlraOptions()).ToCore();

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

    /// <summary>
    /// svd_w (Algorithm 1): A~ = W^(o+) o [W o A]_(r k) with r = rank(W); its weighted error is at most that of every rank-k
    /// matrix (Theorem 1.2).
    /// </summary>
    /// <param name="matrix">A (n x d), finite.</param>
    /// <param name="weights">W; r is the factors' inner dimension, or the numerical rank of dense weights.</param>
    /// <param name="rank">k &gt;= 1 with r k &lt;= min(n, d).</param>
    /// <returns>The approximation, 0 on entries of zero weight.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or not finite, or the weights differ in shape.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> &lt; 1, or r k &gt; min(n, d): the rank
    /// estimate is reported, not clipped.</exception>
    public static WeightedApproximation SvdW(Matrix<double> matrix, Weights weights, int rank) =>
        new(Core.Wlra.SvdW(rank, Weights.CoreOf(weights), matrix));

    /// <summary>svd_w with the total rank t given directly: A~ = W^(o+) o [W o A]_t.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="totalRank">t, 1 &lt;= t &lt;= min(n, d).</param>
    /// <returns>The approximation, 0 on entries of zero weight.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="SvdW"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="totalRank"/> is outside [1, min(n, d)].</exception>
    public static WeightedApproximation SvdWBudget(Matrix<double> matrix, Weights weights, int totalRank) =>
        new(Core.Wlra.SvdWBudget(totalRank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// Practical svd_w (Algorithm 2): P Q = [W^(o+)]_t and A~ = (P Q) o [(P Q)^(o+) o A]_t with t = r k, so that W^(o-1) is
    /// never stored densely.
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k &gt;= 1 with r k &lt;= min(n, d).</param>
    /// <returns>The approximation, storing 2 (n + d) t numbers.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="SvdW"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">As for <see cref="SvdW"/>.</exception>
    public static WeightedApproximation SvdWPractical(Matrix<double> matrix, Weights weights, int rank) =>
        new(Core.Wlra.SvdWPractical(rank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// em (Srebro and Jaakkola 2003): X &lt;- [W2 o A + (1 - W2) o X]_k with W2 = W^2 / max W^2, from the warm start or 0;
    /// never increases the loss.
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">MaxIterations, Tolerance, WarmStart; null for the defaults.</param>
    /// <returns>Rank-k factors; each iteration costs a truncated SVD.</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Svd"/>, or the warm start has the wrong shape.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> or an option is out of range.</exception>
    public static WeightedApproximation Em(Matrix<double> matrix, Weights weights, int rank, WlraOptions? options = null) =>
        new(Core.Wlra.Em(Options(options), rank, Weights.CoreOf(weights), matrix));

    /// <summary>em_w: em started from svd_w's solution truncated to rank k.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k &gt;= 1 with r k &lt;= min(n, d).</param>
    /// <param name="options">MaxIterations and Tolerance; null for the defaults.</param>
    /// <returns>Rank-k factors.</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Em"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">As for <see cref="SvdW"/> and <see cref="Em"/>.</exception>
    public static WeightedApproximation EmW(Matrix<double> matrix, Weights weights, int rank, WlraOptions? options = null) =>
        new(Core.Wlra.EmW(Options(options), rank, Weights.CoreOf(weights), matrix));

    /// <summary>als: weighted alternating least squares on U V^T with a small ridge term, started from [A]_k.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">MaxIterations, Tolerance, Ridge; null for the defaults.</param>
    /// <returns>Rank-k factors; a sweep costs O(n d k^2 + (n + d) k^3).</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Svd"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> or an option is out of range.</exception>
    public static WeightedApproximation Als(Matrix<double> matrix, Weights weights, int rank, WlraOptions? options = null) =>
        new(Core.Wlra.Als(Options(options), rank, Weights.CoreOf(weights), matrix));

    /// <summary>adam: U V^T optimised by Adam on the squared weighted loss from the balanced factors of [A]_k.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">MaxIterations (steps), Tolerance, LearningRate; null for the defaults.</param>
    /// <returns>Rank-k factors with the best loss seen; a step costs O(n d k).</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Svd"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> or an option is out of range.</exception>
    public static WeightedApproximation Adam(Matrix<double> matrix, Weights weights, int rank, WlraOptions? options = null) =>
        new(Core.Wlra.Adam(Options(options), rank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// greedy (Bhaskara et al. 2021): k times, add the top right singular vector of W^2 o (A - X) to an orthonormal basis
    /// and refit X's rows by weighted least squares.
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <returns>Rank-k factors after k steps.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Svd"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)].</exception>
    public static WeightedApproximation Greedy(Matrix<double> matrix, Weights weights, int rank) =>
        new(Core.Wlra.Greedy(rank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// sample (row-norm sampling of W o A; Dai 2023): the top r k right singular vectors V of a row sample of W o A, and
    /// A~ = W^(o+) o ((W o A) V V^T).
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k &gt;= 1 with r k &lt;= min(n, d).</param>
    /// <param name="options">Samples and Seed; null for the defaults.</param>
    /// <returns>The approximation, 0 on entries of zero weight.</returns>
    /// <exception cref="System.ArgumentNullException">An argument other than <paramref name="options"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="SvdW"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">As for <see cref="SvdW"/>, or Samples &lt; 0.</exception>
    public static WeightedApproximation Sample(Matrix<double> matrix, Weights weights, int rank, WlraOptions? options = null) =>
        new(Core.Wlra.Sample(Options(options), rank, Weights.CoreOf(weights), matrix));

    /// <summary>
    /// Column subset selection (Corollary 1.3) by deterministic leverage scores: the c columns C of M = W o A with the
    /// largest rank-t leverage (t = r k), X = C^+ M, and A~ = W^(o+) o (C X).
    /// </summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k &gt;= 1 with r k &lt;= min(n, d).</param>
    /// <param name="columns">c, with r k &lt;= c &lt;= d.</param>
    /// <returns>The column indices, the approximation and the leverage deficit epsilon; when epsilon &lt; 1 the loss is
    /// within sqrt(1 + 1/(1 - epsilon)) of ||W o A - [W o A]_t||_F (svd_w's loss for positive weights).</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="SvdW"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">As for <see cref="SvdW"/>, or <paramref name="columns"/> outside [r k, d].</exception>
    public static ColumnSubset ColumnSubset(Matrix<double> matrix, Weights weights, int rank, int columns) =>
        new(Core.Wlra.ColumnSubset(columns, rank, Weights.CoreOf(weights), matrix));
}
