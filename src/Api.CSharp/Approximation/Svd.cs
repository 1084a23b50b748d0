using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>Exact truncated SVD: the optimal rank-k approximation [A]_k that sketching algorithms are measured against.</summary>
public static class Svd
{
    /// <summary>The singular values of A in descending order, min(n, d) of them.</summary>
    /// <param name="matrix">A: nonempty and finite.</param>
    /// <returns>sigma_1 &gt;= ... &gt;= sigma_min(n,d) &gt;= 0, in a new array.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or has a NaN or infinite entry.</exception>
    /// <remarks>O(n d min(n, d)); a QR reduces the longer side first when the matrix is far from square.</remarks>
    public static double[] SingularValues(Matrix<double> matrix) => Core.Svd.SingularValues(matrix);

    /// <inheritdoc cref="SingularValues(Matrix{double})"/>
    public static double[] SingularValues(double[,] matrix) => Core.Svd.SingularValues(Matrices.Of(matrix, nameof(matrix)));

    /// <summary>
    /// The numerical rank of A: how many singular values exceed sigma_1 max(n, d) eps, eps = 2^-52 (the threshold of
    /// NumPy's matrix_rank).
    /// </summary>
    /// <param name="matrix">A: nonempty and finite.</param>
    /// <returns>An integer in [0, min(n, d)]; 0 exactly for the zero matrix.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or has a NaN or infinite entry.</exception>
    public static int NumericalRank(Matrix<double> matrix) => Core.Svd.NumericalRank(matrix);

    /// <inheritdoc cref="NumericalRank(Matrix{double})"/>
    public static int NumericalRank(double[,] matrix) => Core.Svd.NumericalRank(Matrices.Of(matrix, nameof(matrix)));

    /// <summary>
    /// The best rank-k approximation [A]_k = U_k Sigma_k V_k^T by truncated SVD, the minimiser of ||A - X||_F over all X of
    /// rank at most k (Eckart-Young-Mirsky).
    /// </summary>
    /// <param name="matrix">A: nonempty and finite.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <returns>Left = U_k Sigma_k, Right = V_k^T, with Rank = k (zero singular values are kept).</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or has a NaN or infinite entry.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)].</exception>
    /// <remarks>O(n d min(n, d)) through a thin SVD; no n x n or d x d matrix is formed.</remarks>
    public static LowRankApproximation BestRankK(Matrix<double> matrix, int rank) => new(Core.Svd.BestRankK(rank, matrix));

    /// <inheritdoc cref="BestRankK(Matrix{double}, int)"/>
    public static LowRankApproximation BestRankK(double[,] matrix, int rank) =>
        new(Core.Svd.BestRankK(rank, Matrices.Of(matrix, nameof(matrix))));

    /// <summary>The optimal rank-k error ||A - [A]_k||_F = sqrt(sum_(i &gt; k) sigma_i^2).</summary>
    /// <param name="matrix">A: nonempty and finite.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <returns>The error; 0 when k &gt;= rank(A).</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrix"/> is empty or has a NaN or infinite entry.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)].</exception>
    /// <remarks>O(n d min(n, d)), singular values only; summing the tail keeps full relative accuracy.</remarks>
    public static double OptimalError(Matrix<double> matrix, int rank) => Core.Svd.OptimalError(rank, matrix);

    /// <inheritdoc cref="OptimalError(Matrix{double}, int)"/>
    public static double OptimalError(double[,] matrix, int rank) =>
        Core.Svd.OptimalError(rank, Matrices.Of(matrix, nameof(matrix)));
}
