using System;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>The weighted low-rank facade: bad input is named, and results are consistent with their own losses.</summary>
public class WlraTests
{
    private static readonly Matrix<double> A = Matrix<double>.Build.Random(40, 16, 21);

    private static readonly Weights RankTwo = Weights.FromFactors(
        Matrix<double>.Build.Random(40, 2, 22).PointwiseAbs(), Matrix<double>.Build.Random(2, 16, 23).PointwiseAbs());

    [Fact]
    public void SvdW_Throws_WhenWeightRankTimesKExceedsTheSmallerDimension()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Wlra.SvdW(A, RankTwo, rank: 9));
        Assert.Equal("rank", error.ParamName);
        Assert.Contains("r = 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("r*k = 18", error.Message, StringComparison.Ordinal);
        Assert.Contains("min(n, d) = 16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_FromMatrix_Throws_WhenEveryWeightIsZero()
    {
        var error = Assert.Throws<ArgumentException>(() => Weights.FromMatrix(Matrix<double>.Build.Dense(3, 3)));
        Assert.Equal("weights", error.ParamName);
        Assert.Contains("every entry of weights is 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_FromMatrix_Throws_WhenAWeightIsNegative()
    {
        var w = Matrix<double>.Build.Dense(3, 3, 1.0);
        w[2, 1] = -1;
        Assert.Contains("weights[2, 1] = -1", Assert.Throws<ArgumentException>(() => Weights.FromMatrix(w)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_FromFactors_Throws_WhenTheProductHasANegativeEntry()
    {
        var left = Matrix<double>.Build.DenseOfArray(new double[,] { { 1 }, { -1 } });
        var right = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 2 } });
        var error = Assert.Throws<ArgumentException>(() => Weights.FromFactors(left, right));
        Assert.Equal("right", error.ParamName);
        Assert.Contains("[1, 0] = -1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_RankOne_Throws_WhenAnEntryIsNaN()
    {
        var error = Assert.Throws<ArgumentException>(() => Weights.RankOne(new[] { 1.0, double.NaN }, new[] { 1.0 }));
        Assert.Equal("rowWeights", error.ParamName);
        Assert.Contains("NaN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_BlockMask_Throws_NamingTheBadSize()
    {
        var error = Assert.Throws<ArgumentException>(() => Weights.BlockMask(new[] { 3, 0 }, new[] { 2, 2 }));
        Assert.Equal("rowSizes", error.ParamName);
        Assert.Contains("rowSizes[1] = 0", error.Message, StringComparison.Ordinal);

        var count = Assert.Throws<ArgumentException>(() => Weights.BlockMask(new[] { 3, 1 }, new[] { 4 }));
        Assert.Equal("columnSizes", count.ParamName);
        Assert.Contains("2 row sizes and 1 column sizes", count.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_BlockMask_HasRankB_AndSvdWIsZeroOffTheBlocks()
    {
        var mask = Weights.BlockMask(new[] { 25, 15 }, new[] { 6, 10 });
        var result = Wlra.SvdW(A, mask, rank: 3);

        Assert.Equal(2, mask.Rank);
        Assert.Equal(6, result.Rank);
        var formed = result.ToMatrix();
        Assert.Equal(0.0, formed.SubMatrix(0, 25, 6, 10).FrobeniusNorm());
        Assert.Equal(0.0, formed.SubMatrix(25, 15, 0, 6).FrobeniusNorm());
        Assert.Equal(Wlra.Loss(A, mask, result), result.Loss, 12);
    }

    [Fact]
    public void Weights_LowRankPlusSparse_Throws_WhenTheSumHasANegativeEntry()
    {
        var sparse = Matrix<double>.Build.Sparse(40, 16);
        sparse[3, 4] = -10;
        var error = Assert.Throws<ArgumentException>(() => Weights.LowRankPlusSparse(
            Matrix<double>.Build.Dense(40, 1, 1.0), Matrix<double>.Build.Dense(1, 16, 1.0), sparse));
        Assert.Equal("sparse", error.ParamName);
        Assert.Contains("[3, 4] = -9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_LowRankPlusSparse_Throws_WhenSparseHasTheWrongShape()
    {
        var error = Assert.Throws<ArgumentException>(() => Weights.LowRankPlusSparse(
            Matrix<double>.Build.Dense(40, 1, 1.0), Matrix<double>.Build.Dense(1, 16, 1.0), Matrix<double>.Build.Sparse(16, 40)));
        Assert.Equal("sparse", error.ParamName);
        Assert.Contains("40x16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wlra_Throws_WhenWeightsDifferInShape()
    {
        var error = Assert.Throws<ArgumentException>(() => Wlra.Svd(A, Weights.FromMatrix(Matrix<double>.Build.Dense(16, 40, 1.0)), 2));
        Assert.Equal("weights", error.ParamName);
        Assert.Contains("40x16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wlra_Em_Throws_WhenMaxIterationsIsNotPositive()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Wlra.Em(A, RankTwo, 2, new WlraOptions { MaxIterations = 0 }));
        Assert.Equal("options", error.ParamName);
        Assert.Contains("MaxIterations >= 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wlra_Throws_WhenMatrixHasNaN()
    {
        var bad = A.Clone();
        bad[1, 1] = double.NaN;
        Assert.Equal("matrix", Assert.Throws<ArgumentException>(() => Wlra.SvdW(bad, RankTwo, 2)).ParamName);
    }

    [Fact]
    public void Wlra_Loss_AgreesWithTheReportedLoss_ForEveryMethod()
    {
        var options = new WlraOptions { MaxIterations = 5 };
        var results = new[]
        {
            Wlra.Svd(A, RankTwo, 3), Wlra.SvdW(A, RankTwo, 3), Wlra.SvdWBudget(A, RankTwo, 5), Wlra.SvdWPractical(A, RankTwo, 3),
            Wlra.Em(A, RankTwo, 3, options), Wlra.EmW(A, RankTwo, 3, options), Wlra.Als(A, RankTwo, 3, options),
            Wlra.Adam(A, RankTwo, 3, options), Wlra.Greedy(A, RankTwo, 3), Wlra.Sample(A, RankTwo, 3, options),
        };

        foreach (var result in results)
        {
            Assert.Equal(result.Loss, Wlra.Loss(A, RankTwo, result), precision: 10);
            Assert.Equal(result.Loss, result.LossHistory[^1], precision: 10);
        }

        Assert.Equal(
            new[] { "svd", "svd_w", "svd_w", "svd_w practical", "em", "em_w", "als", "adam", "greedy", "sample" },
            results.Select(r => r.Method));
    }

    [Fact]
    public void SvdW_BeatsTheUnweightedSvd_WithRankOneWeights()
    {
        var random = new Random(5);
        var rows = Enumerable.Range(0, 40).Select(_ => 0.1 + 10 * random.NextDouble()).ToArray();
        var columns = Enumerable.Range(0, 16).Select(_ => 0.1 + random.NextDouble()).ToArray();
        var weights = Weights.RankOne(rows, columns);
        var reweighted = Wlra.SvdW(A, weights, rank: 3);
        Assert.Equal(3, reweighted.Rank);
        Assert.Equal((40 + 16) * 3 + (40 + 16), reweighted.Parameters);
        Assert.True(reweighted.Loss < Wlra.Svd(A, weights, rank: 3).Loss);
    }

    [Fact]
    public void ColumnSubset_Throws_WhenFewerColumnsThanTheTotalRank()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Wlra.ColumnSubset(A, RankTwo, rank: 3, columns: 5));
        Assert.Equal("columns", error.ParamName);
        Assert.Contains("r k = 6 <= columns <= d = 16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ColumnSubset_WithEveryColumn_ReproducesTheMatrixWherever_WeightsArePositive()
    {
        var css = Wlra.ColumnSubset(A, RankTwo, rank: 3, columns: 16);
        Assert.Equal("css", css.Approximation.Method);
        Assert.Equal(Enumerable.Range(0, 16), css.Columns.OrderBy(j => j));
        Assert.True(css.Approximation.Loss <= 1e-9 * Norm.Frobenius(A));
        Assert.Equal(0.0, css.LeverageDeficit, precision: 9);
    }
}
