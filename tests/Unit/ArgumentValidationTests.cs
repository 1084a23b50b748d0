using System;
using System.Collections.Generic;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>Bad input throws the right exception type, names the argument, and says what was expected and given.</summary>
public class ArgumentValidationTests
{
    private static readonly Matrix<double> A = Matrix<double>.Build.Random(30, 12, 7);

    private static T AssertNamed<T>(Action call, string parameter, params string[] mentions)
        where T : ArgumentException
    {
        var error = Assert.Throws<T>(call);
        Assert.Equal(parameter, error.ParamName);
        foreach (var text in mentions)
        {
            Assert.Contains(text, error.Message, StringComparison.Ordinal);
        }

        return error;
    }

    [Fact]
    public void Scw_Throws_WhenSketchColumnsDoNotMatchRows() =>
        AssertNamed<ArgumentException>(
            () => Scw.Approximate(A, Sketch.CountSketch(10, 29, seed: 1), rank: 3), "sketch", "(30)", "10x29");

    [Fact]
    public void Scw_Throws_WhenRankIsBelowOne() =>
        AssertNamed<ArgumentOutOfRangeException>(
            () => Scw.Approximate(A, Sketch.CountSketch(10, 30, seed: 1), rank: 0), "rank", "min(rows, columns) = 12", "rank = 0");

    [Fact]
    public void Scw_Throws_WhenRankExceedsTheSmallerDimension() =>
        AssertNamed<ArgumentOutOfRangeException>(
            () => Scw.Approximate(A, Sketch.CountSketch(20, 30, seed: 1), rank: 13), "rank", "= 12", "rank = 13");

    [Fact]
    public void Scw_Throws_WhenSketchHasFewerRowsThanRank() =>
        AssertNamed<ArgumentException>(
            () => Scw.Error(A, Sketch.Gaussian(4, 30, seed: 1), rank: 5), "sketch", "at least rank = 5 rows", "4x30");

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Scw_Throws_WhenMatrixHasNonFiniteEntry(double bad)
    {
        var a = A.Clone();
        a[4, 2] = bad;
        AssertNamed<ArgumentException>(
            () => Scw.Approximate(a, Sketch.CountSketch(10, 30, seed: 1), rank: 3), "matrix", "finite", "matrix[4, 2]");
    }

    [Fact]
    public void Scw_Throws_WhenMatrixIsEmpty() =>
        AssertNamed<ArgumentException>(
            () => Scw.Approximate(Matrix<double>.Build.Dense(0, 5), Sketch.CountSketch(3, 1, seed: 1), rank: 1),
            "matrix", "at least one row and one column", "0x5");

    [Fact]
    public void Scw_Throws_WhenArgumentsAreNull()
    {
        AssertNamed<ArgumentNullException>(() => Scw.Approximate((Matrix<double>)null!, Sketch.Identity(3), 1), "matrix");
        AssertNamed<ArgumentNullException>(() => Scw.Approximate((double[,])null!, Sketch.Identity(3), 1), "matrix");
        AssertNamed<ArgumentNullException>(() => Scw.Approximate(A, null!, 1), "sketch");
    }

    [Fact]
    public void TestError_NamesTheIndexOfTheBadMatrix()
    {
        var bad = A.Clone();
        bad[0, 0] = double.NaN;
        var error = AssertNamed<ArgumentException>(
            () => Scw.TestError(new List<Matrix<double>> { A, bad }, Sketch.CountSketch(10, 30, seed: 1), rank: 2),
            "testSet", "testSet[1]");
        Assert.IsAssignableFrom<ArgumentException>(error.InnerException);
    }

    [Fact]
    public void TestError_Throws_WhenTestSetIsEmpty() =>
        AssertNamed<ArgumentException>(
            () => Scw.TestError(new List<Matrix<double>>(), Sketch.Identity(3), rank: 1), "testSet", "empty");

    [Fact]
    public void WeightedFrobenius_Throws_WhenAWeightIsNegative()
    {
        var w = Matrix<double>.Build.Dense(30, 12, 1.0);
        w[3, 5] = -0.5;
        AssertNamed<ArgumentException>(() => Norm.WeightedFrobenius(A, w), "weights", "nonnegative", "weights[3, 5] = -0.5");
    }

    [Fact]
    public void WeightedFrobenius_Throws_WhenAWeightIsNaN()
    {
        var w = Matrix<double>.Build.Dense(30, 12, 1.0);
        w[0, 1] = double.NaN;
        AssertNamed<ArgumentException>(() => Norm.WeightedFrobenius(A, w), "weights", "finite", "weights[0, 1]");
    }

    [Fact]
    public void WeightedFrobenius_Throws_WhenShapesDiffer() =>
        AssertNamed<ArgumentException>(
            () => Norm.WeightedFrobenius(A, Matrix<double>.Build.Dense(12, 30, 1.0)), "weights", "30x12", "12x30");

    [Fact]
    public void Sketch_Stack_Throws_WhenColumnCountsDiffer() =>
        AssertNamed<ArgumentException>(
            () => Sketch.Stack(Sketch.CountSketch(5, 30, seed: 1), Sketch.Gaussian(5, 31, seed: 2)), "sketches", "30", "31");

    [Fact]
    public void Sketch_Stack_Throws_WhenAnItemIsNull() =>
        AssertNamed<ArgumentNullException>(() => Sketch.Stack(Sketch.Identity(3), null!), "sketches[1]");

    [Fact]
    public void Sketch_FromCountSketch_Throws_WhenAHashIsOutOfRange() =>
        AssertNamed<ArgumentException>(
            () => Sketch.FromCountSketch(3, new[] { 0, 3 }, new[] { 1.0, 1.0 }), "hash", "[0, 3)", "hash[1] = 3");

    [Fact]
    public void Sketch_CountSketch_Throws_WhenRowsAreNotPositive() =>
        AssertNamed<ArgumentOutOfRangeException>(() => Sketch.CountSketch(0, 10, seed: 1), "rows", "rows >= 1", "rows = 0");

    [Fact]
    public void Sketch_ApplyToRowBlock_Throws_WhenTheBlockRunsPastTheColumns() =>
        AssertNamed<ArgumentOutOfRangeException>(
            () => Sketch.CountSketch(5, 30, seed: 1).ApplyToRowBlock(25, Matrix<double>.Build.Dense(6, 2)), "rowOffset", "30", "6 rows");

    [Fact]
    public void Svd_BestRankK_Throws_WhenRankIsTooLarge() =>
        AssertNamed<ArgumentOutOfRangeException>(() => Svd.BestRankK(A, rank: 13), "rank", "rank = 13");

    [Fact]
    public void ModelBudget_Throws_WhenTheBudgetIsBelowRankOneEverywhere() =>
        AssertNamed<ArgumentOutOfRangeException>(
            () => ModelBudget.Allocate(10, [4, 3], [5, 2], [[3.0, 2, 1, 0], [1.0, 0.5]]), "budget", "at least 14 numbers", "but it is 10");

    [Fact]
    public void ModelBudget_Throws_WhenAnImportanceIsNegative() =>
        AssertNamed<ArgumentException>(
            () => ModelBudget.AllocateWeighted(20, [4], [5], [[3.0, 2, 1, 0]], [-1.0]), "importance", "importance[0] is -1");

    [Fact]
    public void ModelBudget_Throws_WhenASpectrumHasTheWrongLength() =>
        AssertNamed<ArgumentException>(
            () => ModelBudget.Allocate(20, [4], [5], [[3.0, 2]]), "spectra", "min(n, d) = 4", "there are 2");

    [Fact]
    public void Scw_TestError_Throws_WhenTheNormalizationIsUndefined() =>
        AssertNamed<ArgumentOutOfRangeException>(
            () => Scw.TestError([A], Sketch.CountSketch(4, 30, 1), 2, (Normalization)5), "normalization", "Expected a Normalization", "it is 5");

    [Fact]
    public void Scw_TestErrors_Throws_WhenTheNormalizationIsUndefined() =>
        AssertNamed<ArgumentOutOfRangeException>(
            () => Scw.TestErrors([A], [Sketch.CountSketch(4, 30, 1)], 2, (Normalization)(-1)), "normalization", "Expected a Normalization", "it is -1");

    [Fact]
    public void ModelBudget_Throws_WhenThePivotedFlagsAreNotOnePerLayer() =>
        AssertNamed<ArgumentException>(
            () => ModelBudget.AllocatePivoted(20, [4], [5], [[3.0, 2, 1, 0]], [1.0], [true, false]), "pivoted", "one pivoted flag per layer (1)",
            "there are 2");

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void ModelBudget_AllocateToTarget_Throws_WhenTheTargetIsNegativeOrNotFinite(double target) =>
        AssertNamed<ArgumentOutOfRangeException>(
            () => ModelBudget.AllocateToTarget(target, long.MaxValue, [4], [5], [[3.0, 2, 1, 0]], [1.0], [true]), "target",
            "Expected a finite target >= 0", $"it is {target}");

    [Fact]
    public void Video_MotionWeights_Throws_NamingFrames_WhenThereAreNoneOrTheyDiffer()
    {
        AssertNamed<ArgumentException>(() => Video.MotionWeights([]), "frames", "at least one frame", "there is none");
        AssertNamed<ArgumentException>(() => Video.MotionWeights([Matrix<double>.Build.Dense(2, 3), Matrix<double>.Build.Dense(3, 2)]),
            "frames", "frames[1]", "3x2");
        AssertNamed<ArgumentException>(() => Video.MotionWeights([Matrix<double>.Build.Dense(2, 2, double.NaN)]), "frames", "frames[0]",
            "NaN");
    }

    [Fact]
    public void Scw_TestResiduals_Throws_NamingNorms_WhenThereIsNone() =>
        AssertNamed<ArgumentException>(() => Scw.TestResiduals([A], Sketch.CountSketch(4, 30, 1), 2, Normalization.None), "norms",
            "at least one norm", "norms is empty");

    [Fact]
    public void Synthetic_HiddenFrom_Throws_NamingTheArgument()
    {
        var rows = Matrix<double>.Build.Random(3, 8, 1);
        AssertNamed<ArgumentException>(() => Synthetic.HiddenFrom(Matrix<double>.Build.Dense(3, 8), 2, 5, [0.1], 1, 0), "sketchRows", "nonzero row",
            "all zero");
        AssertNamed<ArgumentException>(() => Synthetic.HiddenFrom(rows, 2, 5, [], 1, 0), "noises", "at least one noise level", "empty");
        AssertNamed<ArgumentException>(() => Synthetic.HiddenFrom(rows, 2, 5, [-0.1], 1, 0), "noises", "noise levels", "-0.1");
        AssertNamed<ArgumentOutOfRangeException>(() => Synthetic.HiddenFrom(rows, 0, 5, [0.1], 1, 0), "rank", "rank", "0");
    }

    [Fact]
    public void PivotedFactors_Throws_WhenTheFactorsDoNotChain() =>
        AssertNamed<ArgumentException>(
            () => PivotedFactors.OfFactors(Matrix<double>.Build.Dense(5, 3, 1.0), Matrix<double>.Build.Dense(4, 6, 1.0)), "right", "left's 3 columns",
            "4x6");

    [Fact]
    public void PivotedFactors_ParametersOf_Throws_WhenTheRankIsAboveTheShape() =>
        AssertNamed<ArgumentOutOfRangeException>(() => PivotedFactors.ParametersOf(4, 6, 5), "rank", "min(inputs, outputs) = 4", "it is 5");

    [Fact]
    public void RowWeighted_Throws_WhenAWeightIsNotFinite() =>
        AssertNamed<ArgumentException>(
            () => Compression.RowWeighted(A, [.. new double[29], double.NaN], rank: 2), "rowWeights", "rowWeights[29] is NaN");

    [Fact]
    public void MatchOutputs_Throws_WhenTheCrossMomentHasTheWrongShape() =>
        AssertNamed<ArgumentException>(
            () => Compression.MatchOutputs(A, Compression.InputCovariance(A.Transpose()), Compression.InputCovariance(A.Transpose()),
                Matrix<double>.Build.Dense(12, 11), rank: 2), "crossCovariance", "30x30", "12x11");
}
