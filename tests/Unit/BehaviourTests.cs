using System;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>What a C# user sees on ordinary input: fixed seeds, results checked against independent computations.</summary>
public class BehaviourTests
{
    private static readonly Matrix<double> A = Matrix<double>.Build.Random(40, 25, 11);

    [Fact]
    public void Scw_WithIdentitySketch_MatchesTheTruncatedSvd()
    {
        var exact = Svd.BestRankK(A, rank: 4);
        var scw = Scw.Approximate(A, Sketch.Identity(40), rank: 4);
        Assert.Equal(4, scw.Rank);
        Assert.True((exact.ToMatrix() - scw.ToMatrix()).FrobeniusNorm() <= 1e-10 * A.FrobeniusNorm());
    }

    [Fact]
    public void Scw_Error_EqualsTheNormOfTheFormedResidual()
    {
        var sketch = Sketch.CountSketch(rows: 8, columns: 40, seed: 3);
        var residual = (A - Scw.Approximate(A, sketch, rank: 5).ToMatrix()).FrobeniusNorm();
        Assert.Equal(residual, Scw.Error(A, sketch, rank: 5), precision: 10);
    }

    [Fact]
    public void Scw_OnTheZeroMatrix_ReturnsARankZeroApproximation()
    {
        var zero = Matrix<double>.Build.Dense(6, 4);
        var result = Scw.Approximate(zero, Sketch.Gaussian(3, 6, seed: 1), rank: 2);
        Assert.Equal(0, result.Rank);
        Assert.Equal((6, 0, 0, 4), (result.Left.RowCount, result.Left.ColumnCount, result.Right.RowCount, result.Right.ColumnCount));
        Assert.Equal(new double[6, 4], result.ToArray());
        Assert.Equal(0.0, Scw.Error(zero, Sketch.Gaussian(3, 6, seed: 1), rank: 2));
    }

    [Fact]
    public void Scw_AcceptsRectangularArrays()
    {
        var array = A.ToArray();
        var sketch = Sketch.CountSketch(10, 40, seed: 2);
        Assert.Equal(Scw.Error(A, sketch, 3), Scw.Error(array, sketch, 3));
        Assert.Equal(Norm.Frobenius(A), Norm.Frobenius(array));
    }

    [Fact]
    public void Sketch_IsAFunctionOfItsSeed()
    {
        Assert.Equal(Sketch.CountSketch(5, 40, seed: 9), Sketch.CountSketch(5, 40, seed: 9));
        Assert.NotEqual(Sketch.CountSketch(5, 40, seed: 9), Sketch.CountSketch(5, 40, seed: 10));
        Assert.Equal(Sketch.Gaussian(5, 40, seed: 9).ToMatrix(), Sketch.Gaussian(5, 40, seed: 9).ToMatrix());
    }

    [Fact]
    public void Sketch_Stack_StacksRowsInOrder()
    {
        var first = Sketch.CountSketch(3, 40, seed: 1);
        var second = Sketch.Gaussian(2, 40, seed: 2);
        var stacked = Sketch.Stack(first, second);
        Assert.Equal(5, stacked.Rows);
        Assert.Equal(first.ToMatrix().Stack(second.ToMatrix()), stacked.ToMatrix());
        Assert.Equal("Stacked [CountSketch 3x40; Dense 2x40]", stacked.ToString());
    }

    [Fact]
    public void Norms_MatchTheirDefinitions()
    {
        var m = Matrix<double>.Build.DenseOfArray(new double[,] { { 3, 4 }, { 0, -12 } });
        Assert.Equal(13.0, Norm.Frobenius(m), precision: 14);
        Assert.Equal(5.0 + 12.0, Norm.VNorm(m), precision: 14);
        var w = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 0 }, { 2, 0.5 } });
        Assert.Equal(Math.Sqrt(9 + 0 + 0 + 36), Norm.WeightedFrobenius(m, w), precision: 14);
        Assert.Equal(Math.Sqrt(9 + 0 + 0 + 0.5 * 144), Norm.WeightedFrobenius(m, Norm.SqrtWeights(w)), precision: 12);
    }

    [Fact]
    public void TestError_WithNormalisation_IgnoresEachMatrixScale()
    {
        var sketch = Sketch.CountSketch(6, 40, seed: 5);
        var set = new[] { A, 2 * Matrix<double>.Build.Random(40, 25, 12) };
        var scaled = set.Select((m, i) => (i == 0 ? 1e4 : 1e-3) * m).ToArray();
        Assert.Equal(
            Scw.TestError(set, sketch, 3, Normalization.TopSingularValue),
            Scw.TestError(scaled, sketch, 3, Normalization.TopSingularValue),
            precision: 10);
        Assert.True(Scw.TestError(set, sketch, 3) > 0);
    }

    [Fact]
    public void Svd_SingularValues_AreDescendingWithTheNumericalRank()
    {
        var lowRank = Matrix<double>.Build.Random(30, 3, 1) * Matrix<double>.Build.Random(3, 20, 2);
        var s = Svd.SingularValues(lowRank);
        Assert.Equal(20, s.Length);
        Assert.True(s.Zip(s.Skip(1)).All(p => p.First >= p.Second));
        Assert.Equal(3, Svd.NumericalRank(lowRank));
    }

    [Fact]
    public void TestErrors_EqualsTestError_ForEachSketch_AndNamesASketchThatDoesNotFit()
    {
        var test = Enumerable.Range(0, 4).Select(i => Matrix<double>.Build.Random(30, 20, 10 + i)).ToArray();
        var sketches = new[] { Sketch.CountSketch(6, 30, 1), Sketch.Gaussian(8, 30, 2), Sketch.CountSketch(5, 30, 3) };

        var together = Scw.TestErrors(test, sketches, 4, Normalization.TopSingularValue);

        Assert.Equal(sketches.Select(s => Scw.TestError(test, s, 4, Normalization.TopSingularValue)), together);
        var error = Assert.Throws<ArgumentException>(() => Scw.TestErrors(test, [sketches[0], Sketch.CountSketch(6, 29, 1)], 4));
        Assert.Equal("sketches", error.ParamName);
        Assert.StartsWith("sketches[1]:", error.Message, StringComparison.Ordinal);
    }
}
