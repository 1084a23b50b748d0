using System;
using System.Collections.Generic;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// The Sarlos / Clarkson-Woodruff sketch-based low-rank approximation (Algorithm 1 of Indyk, Vakilian and Yuan,
/// "Learning-Based Low-Rank Approximations", NeurIPS 2019) and the paper's test-error metric.
/// </summary>
/// <example>
/// <code>
/// var sketch = Sketch.CountSketch(rows: 20, columns: a.RowCount, seed: 1);
/// LowRankApproximation approx = Scw.Approximate(a, sketch, rank: 10);
/// double error = Scw.Error(a, sketch, rank: 10);   // ||A - approx||_F
/// </code>
/// </example>
public static class Scw
{
    /// <summary>
    /// SCW(S, A) = [A V]_k V^T with V (d x r) spanning the row space of S A: the best rank-k approximation of A whose
    /// rows lie in the row space of S A.
    /// </summary>
    /// <param name="matrix">A (n x d): nonempty, finite, dense or sparse.</param>
    /// <param name="sketch">S (m x n), with m &gt;= k.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <returns>The factors of rank r' = min(k, r), r the numerical rank of S A (0 when S A = 0).</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> or <paramref name="sketch"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or not finite; the sketch's
    /// columns differ from n or its rows are fewer than k.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)].</exception>
    /// <remarks>O(nnz(A) r + d m^2 + n r^2 + k r d) for a CountSketch; no n x n, d x d or n x d matrix is formed.</remarks>
    public static LowRankApproximation Approximate(Matrix<double> matrix, Sketch sketch, int rank) =>
        new(Core.Scw.Approximate(rank, Sketch.CoreOf(sketch), matrix));

    /// <inheritdoc cref="Approximate(Matrix{double}, Sketch, int)"/>
    public static LowRankApproximation Approximate(double[,] matrix, Sketch sketch, int rank) =>
        new(Core.Scw.Approximate(rank, Sketch.CoreOf(sketch), Matrices.Of(matrix, nameof(matrix))));

    /// <summary>
    /// SCW with q power (subspace) iterations (Halko, Martinsson and Tropp 2011, Algorithms 4.3-4.4): V_0 spans the rows
    /// of S A, V_(i+1) = orth(A^T orth(A V_i)), and the result is [A V_q]_k V_q^T; q = 0 is
    /// <see cref="Approximate(Matrix{double}, Sketch, int)"/>. Each iteration raises the singular values the sketch sees to
    /// the power 2q + 1: with a Gaussian S of k + p rows, E ||A - A V V^T||_2 &lt;= [(1 + sqrt(k/(p - 1)))
    /// sigma_(k+1)^(2q+1) + (e sqrt(k + p) / p) (sum_(j&gt;k) sigma_j^(2(2q+1)))^(1/2)]^(1/(2q+1)) (HMT Corollary 10.10),
    /// and the rank-k truncation adds at most sigma_(k+1) (HMT Theorem 9.3). Any sketch may start it, a learned one too.
    /// </summary>
    /// <param name="matrix">A (n x d): nonempty, finite.</param>
    /// <param name="sketch">S (m x n), with m &gt;= k; m - k is the oversampling.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="powerIterations">q &gt;= 0.</param>
    /// <returns>The rank-r' factors, as <see cref="Approximate(Matrix{double}, Sketch, int)"/>.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> or <paramref name="sketch"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Approximate(Matrix{double}, Sketch, int)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)], or
    /// <paramref name="powerIterations"/> is negative.</exception>
    /// <remarks>SCW's cost plus, per iteration, two products with A (4 nnz(A) m flops) and two thin QRs.</remarks>
    public static LowRankApproximation ApproximateWithPower(Matrix<double> matrix, Sketch sketch, int rank, int powerIterations) =>
        new(Core.Scw.ApproximateWithPower(powerIterations, rank, Sketch.CoreOf(sketch), matrix));

    /// <summary>
    /// <see cref="ApproximateWithPower"/> for an A stored by rows (C order, as NumPy and a .npy file hold it), given
    /// without a copy as its transpose A^T (d x n), as <see cref="Npy.ReadTransposed"/> reads it. The result approximates
    /// A itself (Left n x r', Right r' x d) and equals <see cref="ApproximateWithPower"/>'s on A to rounding.
    /// </summary>
    /// <param name="transposed">A^T (d x n): nonempty, finite.</param>
    /// <param name="sketch">S (m x n), with m &gt;= k.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="powerIterations">q &gt;= 0; 0 is SCW(S, A).</param>
    /// <returns>The rank-r' factors of A.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="transposed"/> or <paramref name="sketch"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="transposed"/> is empty or not finite; the sketch's
    /// columns differ from n or its rows are fewer than k.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)], or
    /// <paramref name="powerIterations"/> is negative.</exception>
    /// <remarks>Cost as <see cref="ApproximateWithPower"/>, without transposing a C-order file first; the products read
    /// A's rows where they lie.</remarks>
    public static LowRankApproximation ApproximateTransposedWithPower(Matrix<double> transposed, Sketch sketch, int rank, int powerIterations) =>
        new(Core.Scw.ApproximateTransposedWithPower(powerIterations, rank, Sketch.CoreOf(sketch), transposed));

    /// <summary>
    /// Randomized SVD (Halko, Martinsson and Tropp 2011; scikit-learn's randomized_svd):
    /// <see cref="ApproximateWithPower(Matrix{double}, Sketch, int, int)"/> from a Gaussian sketch of k + oversample rows.
    /// </summary>
    /// <param name="matrix">A (n x d): nonempty, finite.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="oversample">p &gt;= 0 extra sketch rows (scikit-learn's default 10; the HMT bound needs p &gt;= 2).</param>
    /// <param name="powerIterations">q &gt;= 0 (scikit-learn's default is 4 for small k).</param>
    /// <param name="seed">The Gaussian sketch's seed.</param>
    /// <returns>The rank-k approximation.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or not finite.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)], or
    /// <paramref name="oversample"/> or <paramref name="powerIterations"/> is negative.</exception>
    public static LowRankApproximation Randomized(Matrix<double> matrix, int rank, int oversample = 10, int powerIterations = 4, int seed = 0) =>
        new(Core.Scw.Randomized(oversample, powerIterations, seed, rank, matrix));

    /// <summary>||A - L R||_F of an approximation's factors, without forming the n x d approximation: the error of
    /// factors already computed, without computing them again.</summary>
    /// <param name="matrix">A (n x d): nonempty and finite.</param>
    /// <param name="approximation">Factors L (n x r) and R (r x d), any (R need not be orthonormal).</param>
    /// <returns>The Frobenius norm of the residual.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or not finite, or the approximation
    /// is not n x d.</exception>
    /// <remarks>||A - L R||_F^2 = ||A||_F^2 - 2 &lt;A R^T, L&gt; + &lt;L^T L, R R^T&gt;: one product A R^T, O(n d r) time.
    /// When the error is below about 1.2e-4 ||A||_F that subtraction would keep fewer than 8 digits, and the residual is
    /// formed instead, 256 columns at a time (O(256 n) memory).</remarks>
    public static double ErrorOf(Matrix<double> matrix, LowRankApproximation approximation)
    {
        System.ArgumentNullException.ThrowIfNull(approximation);
        return LowRank.Core.Scw.ErrorOf(matrix, approximation.Core);
    }

    /// <summary>||A - L R||_F of an approximation that projects A onto R's row space (R R^T = I and L = A R^T), as
    /// <see cref="Approximate(Matrix{double}, Sketch, int)"/>, <see cref="ApproximateWithPower"/> and
    /// <see cref="Randomized"/> return: ||A - L R||_F^2 = ||A||_F^2 - ||L||_F^2 (Pythagoras), one pass over A for its
    /// norm instead of <see cref="ErrorOf"/>'s product A R^T (on an 80,000 x 768 matrix 0.07 s against 0.2 s).</summary>
    /// <param name="matrix">A (n x d): nonempty and finite.</param>
    /// <param name="approximation">L (n x r) and R (r x d) with orthonormal rows (checked) and L = A R^T (not checked:
    /// for other factors use <see cref="ErrorOf"/>).</param>
    /// <returns>The Frobenius norm of the residual.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or not finite, the approximation
    /// is not n x d, or R's rows are not orthonormal (max |R R^T - I| above about 1.5e-8).</exception>
    /// <remarks>When the error is below about 1.2e-4 ||A||_F the subtraction would keep fewer than 8 digits, and the
    /// residual is formed instead, as <see cref="ErrorOf"/> does.</remarks>
    public static double ProjectionError(Matrix<double> matrix, LowRankApproximation approximation)
    {
        System.ArgumentNullException.ThrowIfNull(approximation);
        return LowRank.Core.Scw.ProjectionError(matrix, approximation.Core);
    }

    /// <summary><see cref="ProjectionError"/> for an A given as its transpose A^T (d x n), as
    /// <see cref="ApproximateTransposedWithPower"/> takes it.</summary>
    /// <param name="transposed">A^T (d x n): nonempty and finite.</param>
    /// <param name="approximation">L (n x r) and R (r x d) of A, R with orthonormal rows (checked), L = A R^T.</param>
    /// <returns>||A - L R||_F.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="transposed"/> is empty or not finite, the approximation
    /// is not n x d, or R's rows are not orthonormal.</exception>
    public static double ProjectionErrorTransposed(Matrix<double> transposed, LowRankApproximation approximation)
    {
        System.ArgumentNullException.ThrowIfNull(approximation);
        return LowRank.Core.Scw.ProjectionErrorTransposed(transposed, approximation.Core);
    }

    /// <summary><see cref="ApproximateTransposedWithPower"/> and the result's error ||A - L R||_F together: with a
    /// CountSketch, ||A||_F comes from the sketch's own pass over A, so the error costs no pass of its own (as
    /// <see cref="ProjectionErrorTransposed"/>'s does).</summary>
    /// <param name="transposed">A^T (d x n): nonempty, finite.</param>
    /// <param name="sketch">S (m x n), with m &gt;= k.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="powerIterations">q &gt;= 0; 0 is SCW(S, A).</param>
    /// <returns>The approximation of A and its Frobenius error.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="transposed"/> or <paramref name="sketch"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="ApproximateTransposedWithPower"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">As for <see cref="ApproximateTransposedWithPower"/>.</exception>
    /// <remarks>The error is sqrt(||A||_F^2 - ||L||_F^2), or the residual formed when that would keep fewer than 8
    /// digits.</remarks>
    public static (LowRankApproximation Approximation, double Error) ApproximateTransposedWithPowerAndError(
        Matrix<double> transposed, Sketch sketch, int rank, int powerIterations)
    {
        var (approximation, error) = Core.Scw.ApproximateTransposedWithPowerAndError(powerIterations, rank, Sketch.CoreOf(sketch), transposed);
        return (new LowRankApproximation(approximation), error);
    }

    /// <summary>The SCW error ||A - SCW(S, A)||_F, without forming the n x d approximation unless the error is tiny.</summary>
    /// <param name="matrix">A (n x d): nonempty and finite.</param>
    /// <param name="sketch">S (m x n), with m &gt;= k.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <returns>The Frobenius error, at least <see cref="Svd.OptimalError(Matrix{double}, int)"/> up to rounding.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> or <paramref name="sketch"/> is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Approximate(Matrix{double}, Sketch, int)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)].</exception>
    /// <remarks>Uses ||A - [AV]_k V^T||_F^2 = ||A||_F^2 - ||[AV]_k||_F^2 (V has orthonormal columns); below about
    /// 1.2e-4 ||A||_F that subtraction would keep fewer than 8 digits, so the residual is then formed directly.</remarks>
    public static double Error(Matrix<double> matrix, Sketch sketch, int rank) => Core.Scw.Error(rank, Sketch.CoreOf(sketch), matrix);

    /// <inheritdoc cref="Error(Matrix{double}, Sketch, int)"/>
    public static double Error(double[,] matrix, Sketch sketch, int rank) =>
        Core.Scw.Error(rank, Sketch.CoreOf(sketch), Matrices.Of(matrix, nameof(matrix)));

    /// <summary>
    /// The test error of Indyk, Vakilian and Yuan (NeurIPS 2019, Section 5): Err(Te, S) = mean over A in Te of
    /// ||A - SCW(S, A)||_F minus the mean of ||A - [A]_k||_F.
    /// </summary>
    /// <param name="testSet">Te: at least one matrix, each nonempty and finite, with n rows.</param>
    /// <param name="sketch">S (m x n), with m &gt;= k.</param>
    /// <param name="rank">k, valid for every test matrix.</param>
    /// <param name="normalization"><see cref="Normalization.TopSingularValue"/> scales each matrix to sigma_1 = 1 first,
    /// as the paper's experiments do.</param>
    /// <returns>The difference of means, nonnegative up to rounding.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="testSet"/>, an item or <paramref name="sketch"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="testSet"/> is empty or a matrix fails the checks of
    /// <see cref="Approximate(Matrix{double}, Sketch, int)"/>; the message names its index.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)], or
    /// <paramref name="normalization"/> is not a defined value.</exception>
    /// <remarks>Per matrix: one SCW plus an exact SVD for the optimum, O(n d min(n, d)).</remarks>
    public static double TestError(
        IEnumerable<Matrix<double>> testSet, Sketch sketch, int rank, Normalization normalization = Normalization.None) =>
        Core.Scw.TestError(
            CoreNormalization(normalization),
            rank,
            Sketch.CoreOf(sketch),
            testSet);

    /// <summary>
    /// Err(Te, S) for several sketches at once, sharing each test matrix's SVD (for the normalization and the optimum)
    /// among them: k sketches cost one SVD per matrix instead of k.
    /// </summary>
    /// <param name="testSet">Te: at least one matrix, each nonempty and finite, with n rows.</param>
    /// <param name="sketches">At least one sketch (m x n), each with m &gt;= k.</param>
    /// <param name="rank">k, valid for every test matrix.</param>
    /// <param name="normalization">As for <see cref="TestError"/>.</param>
    /// <returns>Err(Te, S) of each sketch, in order, each equal to <see cref="TestError"/>'s.</returns>
    /// <exception cref="System.ArgumentNullException">An argument, a matrix or a sketch is null.</exception>
    /// <exception cref="System.ArgumentException">A set is empty, or a matrix or sketch fails the checks of
    /// <see cref="Approximate(Matrix{double}, Sketch, int)"/>; the message names its index.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)], or
    /// <paramref name="normalization"/> is not a defined value.</exception>
    public static double[] TestErrors(
        IEnumerable<Matrix<double>> testSet, IEnumerable<Sketch> sketches, int rank, Normalization normalization = Normalization.None) =>
        Core.Scw.TestErrors(
            CoreNormalization(normalization),
            rank,
            (sketches ?? throw new ArgumentNullException(nameof(sketches), "Expected a value for sketches, but it was null."))
                .Select(Sketch.CoreOf),
            testSet);

    /// <summary>SCW's residual on a test set in any norms: for each matrix A (scaled as <see cref="TestError"/> scales
    /// it), R = A - SCW(S, A), and for each norm f the mean of f(R) over the test set. With <see cref="Norm.Frobenius(Matrix{double})"/>
    /// it is the first term of Err(Te, S); with <see cref="Norm.VNorm(Matrix{double})"/> or a weighted norm, what another
    /// loss sees of the same approximations.</summary>
    /// <param name="testSet">Te: at least one n x d matrix, each nonempty and finite.</param>
    /// <param name="sketch">S (m x n), with m &gt;= k.</param>
    /// <param name="rank">k, valid for every matrix.</param>
    /// <param name="normalization">As for <see cref="TestError"/>.</param>
    /// <param name="norms">At least one norm of an n x d matrix.</param>
    /// <returns>For each norm, in order, the mean of f(A - SCW(S, A)).</returns>
    /// <exception cref="ArgumentNullException">An argument, a norm or a matrix is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="norms"/> or <paramref name="testSet"/> is empty, or a matrix
    /// fails <see cref="Approximate(Matrix{double}, Sketch, int)"/>'s checks (the message names its index).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> is out of range, or
    /// <paramref name="normalization"/> is not defined.</exception>
    /// <remarks>Per matrix: one SCW and its n x d residual; the singular values only under TopSingularValue.</remarks>
    public static double[] TestResiduals(
        IEnumerable<Matrix<double>> testSet, Sketch sketch, int rank, Normalization normalization, params Func<Matrix<double>, double>[] norms) =>
        Core.Scw.TestResiduals(
            CoreNormalization(normalization),
            rank,
            Sketch.CoreOf(sketch),
            norms?.Select(f => f is null ? null! : Microsoft.FSharp.Core.FuncConvert.FromFunc(f))!,
            testSet);

    /// <summary>The core's normalization for a defined value; an undefined one (a cast integer) is rejected by name rather
    /// than read as None.</summary>
    private static Core.Normalization CoreNormalization(Normalization normalization) => normalization switch
    {
        Normalization.TopSingularValue => Core.Normalization.TopSingularValue,
        Normalization.None => Core.Normalization.None,
        _ => throw new ArgumentOutOfRangeException(nameof(normalization), normalization,
            $"Expected a Normalization (None or TopSingularValue), but it is {(int)normalization}."),
    };
}
