using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>The norms LowRank's losses are built on: Frobenius, the V-norm (L2,1) and the weighted Frobenius norm.</summary>
public static class Norm
{
    /// <summary>The Frobenius norm ||A||_F = sqrt(sum_ij A_ij^2).</summary>
    /// <param name="matrix">Any matrix, dense or sparse; an empty one gives 0.</param>
    /// <returns>The norm; NaN if an entry is NaN, otherwise +infinity if an entry is infinite.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <remarks>O(nnz) time. A scaled sum of squares (as LAPACK's dlange) keeps it accurate without overflow for entries
    /// anywhere in the double range.</remarks>
    public static double Frobenius(Matrix<double> matrix) => Core.Norm.Frobenius(matrix);

    /// <inheritdoc cref="Frobenius(Matrix{double})"/>
    public static double Frobenius(double[,] matrix) => Core.Norm.Frobenius(Matrices.Of(matrix, nameof(matrix)));

    /// <summary>The V-norm ||A||_v = sum_i ||A_i,:||_2, the sum of the rows' 2-norms (also written L2,1).</summary>
    /// <param name="matrix">Any matrix; an empty one gives 0.</param>
    /// <returns>The norm; NaN if an entry is NaN, otherwise +infinity if an entry is infinite.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <remarks>O(nnz) time and O(n) memory. ||A||_F &lt;= ||A||_v &lt;= sqrt(n) ||A||_F. The loss of the follow-up to
    /// Indyk, Vakilian and Yuan (NeurIPS 2019) that compares loss functions: it weighs outlying rows linearly.</remarks>
    public static double VNorm(Matrix<double> matrix) => Core.Norm.VNorm(matrix);

    /// <inheritdoc cref="VNorm(Matrix{double})"/>
    public static double VNorm(double[,] matrix) => Core.Norm.VNorm(Matrices.Of(matrix, nameof(matrix)));

    /// <summary>
    /// The weighted Frobenius norm ||A||_{W,F} = ||W o A||_F = sqrt(sum_ij W_ij^2 A_ij^2), the convention of Woodruff and
    /// Yasuda (2024), Section 1.
    /// </summary>
    /// <param name="matrix">A.</param>
    /// <param name="weights">W: finite, nonnegative, of A's shape.</param>
    /// <returns>The norm; NaN if an entry of A is NaN.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="matrix"/> or <paramref name="weights"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="weights"/> has a negative, NaN or infinite entry or
    /// differs in shape from <paramref name="matrix"/>; either is empty.</exception>
    /// <remarks>O(n d). With every weight positive it is a norm; with some zero weights only a seminorm: a nonzero A
    /// supported on the zero weights has norm 0. For the convention sum_ij w_ij A_ij^2 pass
    /// <see cref="SqrtWeights(Matrix{double})"/> of w.</remarks>
    public static double WeightedFrobenius(Matrix<double> matrix, Matrix<double> weights) =>
        Core.Norm.WeightedFrobenius(weights, matrix);

    /// <inheritdoc cref="WeightedFrobenius(Matrix{double}, Matrix{double})"/>
    public static double WeightedFrobenius(double[,] matrix, double[,] weights) =>
        Core.Norm.WeightedFrobenius(Matrices.Of(weights, nameof(weights)), Matrices.Of(matrix, nameof(matrix)));

    /// <summary>
    /// Converts weights in the squared convention, ||A||^2 = sum_ij w_ij A_ij^2, to LowRank's W = sqrt(w), so that
    /// WeightedFrobenius(A, SqrtWeights(w)) = sqrt(sum_ij w_ij A_ij^2).
    /// </summary>
    /// <param name="weights">w: finite and nonnegative, for instance inverse variances or Fisher information.</param>
    /// <returns>A new matrix sqrt(w), in O(n d).</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="weights"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="weights"/> is empty or has a negative, NaN or infinite entry.</exception>
    public static Matrix<double> SqrtWeights(Matrix<double> weights) => Core.Norm.SqrtWeights(weights);
}
