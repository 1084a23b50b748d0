using System;
using FsCheck;
using FsCheck.Fluent;
using LowRank.Testing;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.FSharp.Core;
using Xunit;

namespace LowRank.Unit;

/// <summary>LowRank.Testing from C#: a user's own conjecture, checked on generated matrices with shrinking. The
/// marked region is docs/development.md's example, to the character.</summary>
public class ConjectureTests
{
    [Fact]
    public void AUsersConjecture_HoldsOnEveryGeneratedShapeAndRank()
    {
        // README: begin
        // Eckart-Young: no sketch makes SCW beat the truncated SVD, on any shape, rank or scale.
        Prop.ForAll(Arbitraries.MatrixWithRank, (Tuple<MatrixSpec, int> input) =>
        {
            var (spec, k) = input;
            Matrix<double> a = spec.Build();
            var sketch = Sketch.Gaussian(2 * k, a.RowCount, seed: 1);
            return Scw.Error(a, sketch, k) >= Svd.OptimalError(a, k) - 1e-10 * a.FrobeniusNorm();
        }).QuickCheckThrowOnFailure();
        // README: end
    }

    [Fact]
    public void AFalseConjecture_IsShrunkToASmallCounterexample()
    {
        // False: a CountSketch of k rows gives the optimum. FsCheck must find a counterexample (from a fixed seed, so
        // the test is deterministic) and shrink it to a small case.
        var replay = new Replay(new Rnd(20261130UL, 1UL), FSharpOption<int>.None);
        var config = Config.QuickThrowOnFailure.WithReplay(FSharpOption<Replay>.Some(replay));
        var failure = Assert.ThrowsAny<Exception>(() =>
            Prop.ForAll(Arbitraries.MatrixWithRank, (Tuple<MatrixSpec, int> input) =>
            {
                var (spec, k) = input;
                Matrix<double> a = spec.Build();
                return Scw.Error(a, Sketch.CountSketch(k, a.RowCount, 1), k)
                    <= Svd.OptimalError(a, k) + 1e-9 * a.FrobeniusNorm();
            }).Check(config));
        // The shrunk case is at most 3 x 3: shrinking halves and decrements the shape while the failure persists.
        Assert.Matches(@"Shrunk:\s*\(\{ Rows = [1-3]\s+Columns = [1-3]", failure.Message);
    }
}
