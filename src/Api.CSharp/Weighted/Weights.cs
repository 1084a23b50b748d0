using System;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// Nonnegative weights W (n x d) for weighted low-rank approximation, dense or in low-rank factored form W = L R (the
/// rank-one w u^T is the r = 1 case).
/// </summary>
public sealed class Weights
{
    internal Weights(Core.Weights core) => Core = core;

    internal Core.Weights Core { get; }

    /// <summary>The weights' null flows on to the core, whose exception names the caller's argument.</summary>
    internal static Core.Weights CoreOf(Weights? weights) => weights?.Core!;

    /// <summary>Dense weights (copied).</summary>
    /// <param name="weights">W: finite and nonnegative, not all zero.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weights"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is empty, all zero, or has a negative, NaN or
    /// infinite entry.</exception>
    public static Weights FromMatrix(Matrix<double> weights) => new(LowRank.Core.WeightsModule.FromMatrix(weights));

    /// <inheritdoc cref="FromMatrix(Matrix{double})"/>
    public static Weights FromMatrix(double[,] weights) =>
        new(LowRank.Core.WeightsModule.FromMatrix(Matrices.Of(weights, nameof(weights))));

    /// <summary>Weights in factored form W = left * right, which must be entrywise nonnegative.</summary>
    /// <param name="left">L (n x r), finite.</param>
    /// <param name="right">R (r x d), finite.</param>
    /// <returns>The weights; svd_w uses r as their rank without estimating it.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The inner dimensions differ, an entry is not finite, or L R has a negative
    /// entry or is all zero.</exception>
    public static Weights FromFactors(Matrix<double> left, Matrix<double> right) =>
        new(LowRank.Core.WeightsModule.FromFactors(left, right));

    /// <summary>The rank-one weights w u^T (for instance Fisher-weighted SVD), for which svd_w is the exact optimum.</summary>
    /// <param name="rowWeights">w (length n), finite and nonnegative.</param>
    /// <param name="columnWeights">u (length d), finite and nonnegative.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">An array is empty, all zero, or has a negative or non-finite entry.</exception>
    public static Weights RankOne(double[] rowWeights, double[] columnWeights) =>
        new(LowRank.Core.WeightsModule.RankOne(rowWeights, columnWeights));

    /// <summary>
    /// A block-diagonal 0/1 mask: 1 on B diagonal blocks, block b covering as many further rows as the b-th entry of
    /// <paramref name="rowSizes"/> and as many further columns as the b-th entry of <paramref name="columnSizes"/>, 0 elsewhere. No n x d matrix is stored; svd_w with it
    /// takes one SVD per block and keeps the largest B k singular triplets over all blocks.
    /// </summary>
    /// <param name="rowSizes">The blocks' row counts, each at least 1, summing to n.</param>
    /// <param name="columnSizes">The blocks' column counts, each at least 1, summing to d; as many as rowSizes.</param>
    /// <returns>The weights, of rank B.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The arrays are empty, differ in length, or hold a size below 1.</exception>
    public static Weights BlockMask(int[] rowSizes, int[] columnSizes) =>
        new(LowRank.Core.WeightsModule.BlockMask(rowSizes, columnSizes));

    /// <summary>
    /// Low rank plus sparse weights W = left * right + sparse, entrywise nonnegative. Only the factors and the nonzeros of
    /// <paramref name="sparse"/> are stored (a MathNet sparse matrix is read without densifying it).
    /// </summary>
    /// <param name="left">L (n x r), finite.</param>
    /// <param name="right">R (r x d), finite.</param>
    /// <param name="sparse">S (n x d), finite.</param>
    /// <returns>The weights; their <see cref="Rank"/> is the bound r + min(rows, columns of S with a nonzero).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The shapes disagree, an entry is not finite, or W has a negative entry or is
    /// all zero.</exception>
    public static Weights LowRankPlusSparse(Matrix<double> left, Matrix<double> right, Matrix<double> sparse) =>
        new(LowRank.Core.WeightsModule.LowRankPlusSparse(left, right, sparse));

    /// <summary>
    /// The rank r that svd_w uses: the factors' inner dimension, the number of blocks of a mask, a bound for low rank
    /// plus sparse weights, or the numerical rank of dense weights.
    /// </summary>
    public int Rank => LowRank.Core.WeightsModule.Rank(Core);
}
