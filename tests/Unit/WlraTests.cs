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
    public void SvdW_Throws_WhenAGivenWeightRankTimesKExceedsTheSmallerDimension()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => Wlra.SvdW(A, RankTwo, rank: 9, new WlraOptions { WeightRank = 2 }));
        Assert.Equal("rank", error.ParamName);
        Assert.Contains("options.WeightRank = 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("r*k = 18", error.Message, StringComparison.Ordinal);
        Assert.Contains("min(n, d) = 16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SvdW_UsesTheWeightsRank_WhenItFits_AndSaysSo()
    {
        var result = Wlra.SvdW(A, RankTwo, rank: 3, new WlraOptions { Bicriteria = true });
        Assert.Equal(2, result.WeightRank);
        Assert.Equal(6, result.Rank);
        Assert.Contains("Theorem 1.2 holds", result.RankChoice, StringComparison.Ordinal);
    }

    [Fact]
    public void SvdW_ChoosesRByEnergy_WhenTheWeightsRankIsTooLarge()
    {
        // Full-rank weights dominated by a rank-one part: r = 1 holds most of ||W||_F^2.
        var u = Matrix<double>.Build.Dense(40, 1, (i, _) => 1 + i % 5);
        var v = Matrix<double>.Build.Dense(1, 16, (_, j) => 1 + j % 3);
        var w = u * v + 1e-3 * Matrix<double>.Build.Random(40, 16, 3).PointwiseAbs();
        var weights = Weights.FromMatrix(w);
        Assert.Equal(16, weights.Rank);

        var result = Wlra.SvdW(A, weights, rank: 9, new WlraOptions { Bicriteria = true });
        Assert.Equal(1, result.WeightRank);
        Assert.Equal(9, result.Rank);
        Assert.Contains("min(n, d)/k = 1", result.RankChoice, StringComparison.Ordinal);
        Assert.Contains("Theorem 1.2 does not apply", result.RankChoice, StringComparison.Ordinal);

        // A stricter energy target needs more than the cap of min(n, d)/k = 3 at k = 5; r stops at the cap and says so.
        var capped = Wlra.SvdW(A, weights, rank: 5, new WlraOptions { EnergyFraction = 1.0, Bicriteria = true });
        Assert.Equal(3, capped.WeightRank);
        Assert.Contains("capped", capped.RankChoice, StringComparison.Ordinal);
    }

    [Fact]
    public void SvdW_TotalRank_OverridesRTimesK()
    {
        var result = Wlra.SvdW(A, RankTwo, rank: 3, new WlraOptions { TotalRank = 5 });
        Assert.Equal(5, result.Rank);
        Assert.Equal(0, result.WeightRank);
        Assert.Equal(Wlra.SvdWBudget(A, RankTwo, 5).Loss, result.Loss, precision: 12);
    }

    [Fact]
    public void WeightFloor_BoundsTheAmplification_OfTinyWeights()
    {
        var w = Matrix<double>.Build.Dense(40, 16, 1.0);
        w[3, 4] = 1e-9;
        w[7, 2] = 1e-12;
        var weights = Weights.FromMatrix(w);
        var exact = Wlra.SvdW(A, weights, rank: 2, new WlraOptions { WeightRank = 1 });
        var floored = Wlra.SvdW(A, weights, rank: 2, new WlraOptions { WeightRank = 1, WeightFloor = 1e-3 });
        var largestA = A.Enumerate().Max(Math.Abs);
        Assert.Equal(exact.ToMatrix().Enumerate().Max(Math.Abs) / largestA, exact.Amplification, precision: 9);
        Assert.True(exact.Amplification > 1e3, $"amplification {exact.Amplification}");
        // |A~| <= |W o A~ before division| / (1e-3 max W) on the two tiny entries, and as before elsewhere.
        Assert.True(floored.Amplification < 1e3 * 10, $"floored amplification {floored.Amplification}");
        Assert.Equal(floored.ToMatrix().Enumerate().Max(Math.Abs) / largestA, floored.Amplification, precision: 9);
    }

    [Fact]
    public void Em_StartsFromTheTruncatedSvd_ByDefault_AndFromZeroOnRequest()
    {
        var options = new WlraOptions { MaxIterations = 3, Tolerance = 0 };
        var svd = Wlra.Svd(A, RankTwo, 3);
        var byDefault = Wlra.Em(A, RankTwo, 3, options);
        var fromSvd = Wlra.Em(A, RankTwo, 3, options with { WarmStart = svd.ToMatrix() });
        var fromZero = Wlra.Em(A, RankTwo, 3, options with { WarmStart = Matrix<double>.Build.Dense(40, 16) });
        Assert.Equal(fromSvd.LossHistory.Count, byDefault.LossHistory.Count);
        for (var i = 0; i < byDefault.LossHistory.Count; i++)
            Assert.Equal(fromSvd.LossHistory[i], byDefault.LossHistory[i], precision: 9);
        Assert.True(byDefault.LossHistory[0] <= svd.Loss * (1 + 1e-12), $"{byDefault.LossHistory[0]} > {svd.Loss}");
        Assert.NotEqual(fromZero.LossHistory[0], byDefault.LossHistory[0]);
    }

    [Fact]
    public void IterativeMethods_StopWithinOneIteration_OfACancelledToken()
    {
        var source = new System.Threading.CancellationTokenSource();
        var seen = new System.Collections.Generic.List<int>();
        var progress = new SynchronousProgress<WlraProgress>(p =>
        {
            seen.Add(p.Iteration);
            if (p.Iteration == 2)
                source.Cancel();
        });
        var options = new WlraOptions { MaxIterations = 1000, AdamSteps = 1000, Tolerance = 0 };
        foreach (var run in new Func<WeightedApproximation>[]
                 {
                     () => Wlra.Em(A, RankTwo, 3, options, progress, source.Token),
                     () => Wlra.Als(A, RankTwo, 3, options, progress, source.Token),
                     () => Wlra.Adam(A, RankTwo, 3, options, progress, source.Token),
                     () => Wlra.EmW(A, RankTwo, 3, options, progress, source.Token),
                     () => Wlra.Greedy(A, RankTwo, 5, progress, source.Token),
                 })
        {
            seen.Clear();
            source = new System.Threading.CancellationTokenSource();
            Assert.ThrowsAny<OperationCanceledException>(() => run());
            Assert.Equal(new[] { 1, 2 }, seen);
        }
    }

    [Fact]
    public void SvdWPractical_MatchesSvdW_WhereWeightsArePositive_WhenTheInverseIsRankOneOnTheSupport()
    {
        // W = 1 / (u v^T) on its support, with a zero row, a zero column and scattered zeros: the inverse is rank one where
        // it matters, so practical svd_w's fit of it is exact and its loss is svd_w's.
        var u = Enumerable.Range(0, 40).Select(i => 0.5 + (i * 7 % 11) / 4.0).ToArray();
        var v = Enumerable.Range(0, 16).Select(j => 0.25 + (j * 5 % 7) / 3.0).ToArray();
        var w = Matrix<double>.Build.Dense(40, 16, (i, j) => i == 3 || j == 5 || (i + 2 * j) % 9 == 0 ? 0 : 1 / (u[i] * v[j]));
        var weights = Weights.FromMatrix(w);
        var options = new WlraOptions { TotalRank = 4, MaxIterations = 200, Tolerance = 0 };
        var practical = Wlra.SvdWPractical(A, weights, 2, options);
        var exact = Wlra.SvdWBudget(A, weights, 4);
        Assert.True(Math.Abs(practical.Loss - exact.Loss) <= 1e-6 * exact.Loss, $"{practical.Loss} vs {exact.Loss}");
        Assert.True(practical.Amplification < 100, $"amplification {practical.Amplification}");
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
        var result = Wlra.SvdW(A, mask, rank: 3, new WlraOptions { Bicriteria = true });

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
            Wlra.Adam(A, RankTwo, 3, options with { AdamSteps = 5 }), Wlra.Greedy(A, RankTwo, 3), Wlra.Sample(A, RankTwo, 3, options),
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
        // The weights are the caller's input, factored or dense, and are not counted.
        Assert.Equal((40 + 16) * 3, reweighted.Parameters);
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

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
