using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>docs/guide.md's C# examples, one per feature: each is a marked region here, run on small inputs, and the
/// guide's block is that region to the character (indentation aside), so the guide cannot drift from the API.</summary>
public sealed class GuideExampleTests : ScratchDirectory
{
    [Fact]
    public void Scw_AndRandomizedSvd()
    {
        // guide: scw begin
        var a = Matrix<double>.Build.Random(500, 120, 1);
        var sketch = Sketch.CountSketch(20, a.RowCount, 2); // m = 20 rows, n columns, seed
        var scw = Scw.Approximate(a, sketch, 10); // [A V]_k V^T, V from the SVD of S A
        var randomized = Scw.Randomized(a, 10, oversample: 10, powerIterations: 2);
        Console.WriteLine($"SCW {Scw.ErrorOf(a, scw):F3}, randomized {Scw.ErrorOf(a, randomized):F3}, optimum {Svd.OptimalError(a, 10):F3}");
        // guide: scw end
        Assert.True(Scw.ErrorOf(a, randomized) <= Scw.ErrorOf(a, scw) * 1.01);
    }

    [Fact]
    public void BigNpyFile_ByRows()
    {
        var path = Scratch("rows.npy");
        var a = Matrix<double>.Build.Random(5000, 64, 3);
        Npy.WriteMatrix(path, a);
        // guide: rows begin
        // A^T (d x n): a C-order file's data (NumPy's default) as it lies, no transposition; A is approximated itself.
        var at = Npy.ReadTransposed(path);
        var sketch = Sketch.CountSketch(30, at.ColumnCount, 1); // k + 10 rows, one column per row of A
        var (approximation, error) = Scw.ApproximateTransposedWithPowerAndError(at, sketch, 20, 4);
        Console.WriteLine($"rank {approximation.Rank}, error {error:F3} (||A||_F from the sketch's pass)");
        // guide: rows end
        Assert.Equal(Scw.ErrorOf(a, approximation), error, 6);
    }

    [Fact]
    public async Task Training_WithProgressCancellationSaveLoadAndTestError()
    {
        var path = Scratch("learned.sketch");
        // guide: training begin
        var frames = Synthetic.VideoLike(40, 48, 64, 1); // or Npy.ReadStack("data/vtest.npy")
        var options = Training.Defaults(5, 10) with { Steps = 60 }; // k = 5, m = 10
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5)); // cancelling keeps the best sketch so far
        var progress = new Progress<TrainingProgress>(p => Console.WriteLine($"step {p.Step} of {p.Steps}: loss {p.Loss:F4}"));
        var result = await Training.TrainAsync(frames[..30], options, progress, cancel.Token);
        SketchFile.Save(path, result.Sketch);

        var learned = SketchFile.Load(path);
        var random = Sketch.CountSketch(10, 48, 0);
        Console.WriteLine($"Err(Te, S): learned {Scw.TestError(frames[30..], learned, 5, Normalization.TopSingularValue):F5}, "
            + $"random {Scw.TestError(frames[30..], random, 5, Normalization.TopSingularValue):F5}");
        // guide: training end
        Assert.True(Scw.TestError(frames[30..], learned, 5, Normalization.TopSingularValue)
            < Scw.TestError(frames[30..], random, 5, Normalization.TopSingularValue));
    }

    [Fact]
    public async Task Wlra_EveryMethod()
    {
        // guide: wlra begin
        var (a, w) = Synthetic.WeightedProblem(200, 100, 2, 1); // A and weights W of rank 2
        var weights = Weights.FromMatrix(w); // or Weights.RankOne(rowWeights, columnWeights), Weights.FromFactors(l, r)
        var options = new WlraOptions { MaxIterations = 10, AdamSteps = 100 };
        var results = new List<WeightedApproximation>
        {
            Wlra.Svd(a, weights, 5),
            Wlra.SvdW(a, weights, 5), // Woodruff and Yasuda's svd_w: one SVD of W o A, divided by W
            Wlra.SvdWPractical(a, weights, 5),
            await Wlra.EmAsync(a, weights, 5, options, new Progress<WlraProgress>(p => Console.WriteLine($"em {p.Iteration}: {p.Loss:F3}"))),
            Wlra.EmW(a, weights, 5, options),
            Wlra.Als(a, weights, 5, options),
            Wlra.Adam(a, weights, 5, options),
            Wlra.Greedy(a, weights, 5),
            Wlra.Sample(a, weights, 5),
        };
        foreach (var r in results)
            Console.WriteLine($"{r.Method}: loss {r.Loss:F3} in {r.Parameters} numbers");
        // guide: wlra end
        Assert.Equal(9, results.Count);
        Assert.All(results, r => Assert.True(r.Loss <= Norm.WeightedFrobenius(a, w) + 1e-9));
    }

    [Fact]
    public void Compression_OfALayer()
    {
        // guide: compression begin
        var inputs = Matrix<double>.Build.Random(2000, 64, 1); // N examples of the layer's inputs
        var layer = Matrix<double>.Build.Random(64, 32, 2); // y = x A: inputs x outputs
        var covariance = Compression.InputCovariance(inputs); // X^T X / N
        var dataAware = Compression.DataAware(layer, covariance, 8); // minimises ||X (A - A~)||_F
        Console.WriteLine($"rank {dataAware.Rank}, {dataAware.Parameters} numbers, relative output error {dataAware.RelativeObjective:F3}");
        // guide: compression end
        Assert.Equal(8, dataAware.Rank);
    }

    [Fact]
    public async Task Streaming_AFileLargerThanMemory()
    {
        var path = Scratch("big.npy");
        var left = Scratch("big.left.npy");
        Npy.WriteMatrix(path, Matrix<double>.Build.Random(3000, 50, 1));
        // guide: streaming begin
        // Two passes over row blocks of a .npy file (plus one a power iteration); memory O(m d + blockRows d).
        var streamed = await Streaming.ApproximateFileAsync(path, BlockSketch.Hashed(1, 30), 10, 1, 1024, left,
            new Progress<StreamingProgress>(p => Console.WriteLine($"pass {p.Pass} of {p.Passes}: {p.Rows} of {p.TotalRows} rows")));
        Console.WriteLine($"rank {streamed.SingularValues.Count}, error {streamed.Error:F3}; the left factor is in {left}");
        // guide: streaming end
        Assert.Equal(3000, Npy.Shape(left)[0]);
    }

    [Fact]
    public void Distributed_OnFourInProcessRanks()
    {
        // guide: distributed begin
        // Each rank holds its own rows; under mpirun the communicator is LowRank.Mpi's MpiCommunicator.
        var results = Communicator.RunInProcess(4, communicator =>
        {
            var part = Matrix<double>.Build.Random(500, 80, communicator.Rank);
            return Distributed.Approximate(communicator, part, BlockSketch.Hashed(1, 30), 10);
        });
        Console.WriteLine($"every rank has the rank-{results[0].Right.RowCount} row space of all {4 * 500} rows");
        // guide: distributed end
        Assert.All(results, r => Assert.Equal(results[0].Right, r.Right));
    }

    [Fact]
    public void TheGuide_ShowsEachExample_AsItIsTested()
    {
        var source = DocBlocks.Text("tests/Unit/GuideExampleTests.cs");
        var blocks = DocBlocks.Of(DocBlocks.Text("docs/guide.md"), "csharp").Select(DocBlocks.Lines).ToList();
        foreach (var name in new[] { "scw", "training", "wlra", "compression", "streaming", "distributed" })
        {
            var region = DocBlocks.Region(source, $"guide: {name}");
            Assert.True(region is not null, name);
            Assert.Contains(DocBlocks.Lines(region), blocks);
        }
    }
}
