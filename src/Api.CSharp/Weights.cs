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

    /// <summary>The rank r of W: the factors' inner dimension, or the numerical rank of dense weights.</summary>
    public int Rank => LowRank.Core.WeightsModule.Rank(Core);
}
