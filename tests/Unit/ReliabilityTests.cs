using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using LowRank.Cli;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>The repros of the reliability audit (issue 12): each was a crash, a hang or a silently wrong number, and
/// each now gets the documented exception or the right answer.</summary>
public class ReliabilityTests : ScratchDirectory
{
    [Fact]
    public void ApplyToRowBlock_NearIntMaxValue_ThrowsInsteadOfWritingOutOfBounds()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => Sketch.CountSketch(20, 200, 4).ApplyToRowBlock(int.MaxValue - 5, Matrix<double>.Build.Random(10, 5, 1)));
        Assert.Equal("rowOffset", error.ParamName);
    }

    [Fact]
    public void Apply_ThrowsNamingTheSketch_WhenSATooLargeForOneArray()
    {
        var huge = Sketch.FromCountSketch(int.MaxValue, [0, 1, 2], [1.0, 1.0, 1.0]);
        var error = Assert.Throws<ArgumentException>(() => huge.Apply(Matrix<double>.Build.Random(3, 5, 1)));
        Assert.Equal("sketch", error.ParamName);
        Assert.Contains("fit one array", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SketchFile_DeeplyNestedStacks_AreRejected_NotAStackOverflow()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true))
        {
            writer.Write(Encoding.ASCII.GetBytes("LRSKETCH"));
            writer.Write((ushort)1);
            for (var level = 0; level < 100_000; level++)
            {
                writer.Write((byte)3);
                writer.Write(1);
            }
            writer.Write((byte)1);
            writer.Write(1);
            writer.Write(1);
            writer.Write(0);
            writer.Write(1.0);
        }
        var body = stream.ToArray();
        var bytes = body.Concat(BitConverter.GetBytes(Crc32.Of(body))).ToArray();

        var error = Assert.Throws<InvalidDataException>(() => SketchFile.FromBytes(bytes));
        Assert.Contains("nest deeper than 64", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A .npy file with the given shape in its header and no data.</summary>
    private string ForgedNpy(string name, string shape)
    {
        // The header is padded with spaces and ends in a newline so that the data starts at a multiple of 64.
        var header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}";
        header = header.PadRight(64 * ((10 + header.Length + 1 + 63) / 64) - 10 - 1) + "\n";
        var path = Scratch(name);
        using var file = File.Create(path);
        file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        file.Write(BitConverter.GetBytes((ushort)header.Length));
        file.Write(Encoding.ASCII.GetBytes(header));
        return path;
    }

    [Theory]
    [InlineData("(2000000000, 0, 0)")]
    [InlineData("(200000000, 0, 5)")]
    [InlineData("(0, 3, 3)")]
    public void Npy_ForgedEmptyShapes_AreRejectedBeforeAllocating(string shape)
    {
        var path = ForgedNpy("forged.npy", shape);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => Npy.ReadStack(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated more than 1 MiB");
        Assert.Contains("zero dimension", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Npy_ForgedEmptyMatrix_IsRejected()
    {
        var error = Assert.Throws<InvalidDataException>(() => Npy.ReadMatrix(ForgedNpy("empty.npy", "(0, 7)")));
        Assert.Contains("zero dimension", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1e-310)] // subnormal entries
    [InlineData(1e-300)]
    [InlineData(1e-160)]
    [InlineData(1e-20)]
    [InlineData(1e155)]
    [InlineData(1e300)]
    public void ScaledData_GivesScaledResults(double scale)
    {
        // On the backend in use: CI runs the suite once per backend (switching here would race with other tests).
        var a = Matrix<double>.Build.Random(5, 4, 1);
        var sketch = Sketch.CountSketch(3, 5, 2);
        Assert.Equal(Svd.SingularValues(a)[0], Svd.SingularValues(scale * a)[0] / scale, 12);
        Assert.Equal(Scw.Error(a, sketch, 2), Scw.Error(scale * a, sketch, 2) / scale, 10);
    }

    /// <summary>Reports step 1 from inside the training run, then holds the run there for a while.</summary>
    private sealed class HoldingProgress(ManualResetEventSlim inside) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step != 1)
                return;
            inside.Set();
            Thread.Sleep(300);
        }
    }

    [Fact]
    public async Task ANativeCallBesideATrainingRun_GivesTheBitsItGivesAlone()
    {
        // Training runs its matrices side by side with OpenBLAS set to one thread, and OpenBLAS's results depend on its
        // thread count; a call from another thread meanwhile must not see that setting (it waits for the run instead),
        // or its result would depend on whether a training run happened to be going on.
        var a = Matrix<double>.Build.Random(300, 300, 5);
        var alone = Svd.SingularValues(a);
        var set = Enumerable.Range(0, 4).Select(i => Matrix<double>.Build.Random(40, 30, 10 + i)).ToArray();
        using var inside = new ManualResetEventSlim();

        var training = Task.Run(
            () => Training.Train(set, Training.Defaults(2, 6) with { Steps = 2 }, new HoldingProgress(inside)));
        Assert.True(inside.Wait(TimeSpan.FromMinutes(2)), "the training run never reported its first step");
        var beside = Svd.SingularValues(a);
        await training;

        Assert.Equal(alone, beside);
    }

    [Theory]
    [InlineData(1e-310)]
    [InlineData(1e-160)]
    [InlineData(1e155)]
    [InlineData(1e300)]
    public void ScaledData_GivesScaledWeightedResults(double scale)
    {
        // Rank-one weights over an order of magnitude; every method's loss is homogeneous of degree 1 in A.
        var a = Matrix<double>.Build.Random(30, 20, 3);
        var w = Weights.RankOne(Enumerable.Range(0, 30).Select(i => 1.0 + i).ToArray(), Enumerable.Range(0, 20).Select(j => 1.0 + j % 3).ToArray());
        var methods = new (string Name, Func<Matrix<double>, WeightedApproximation> Run)[]
        {
            ("svd", m => Wlra.Svd(m, w, 3)),
            ("svd_w", m => Wlra.SvdW(m, w, 3)),
            ("em", m => Wlra.Em(m, w, 3)),
            ("em_w", m => Wlra.EmW(m, w, 3)),
            ("als", m => Wlra.Als(m, w, 3)),
            ("greedy", m => Wlra.Greedy(m, w, 3)),
            ("sample", m => Wlra.Sample(m, w, 3)),
        };
        foreach (var (name, run) in methods)
        {
            var expected = run(a).Loss;
            var scaled = run(scale * a).Loss / scale;
            Assert.True(Math.Abs(scaled - expected) <= 1e-9 * expected, $"{name}: {scaled} at scale {scale}, {expected} at 1");
        }
    }

    [Fact]
    public void Wlra_Loss_ThrowsNamingTheApproximation_WhenItsShapeDiffers()
    {
        var a = Matrix<double>.Build.Random(6, 4, 1);
        var w = Weights.FromMatrix(Matrix<double>.Build.Dense(6, 4, 1.0));
        var other = Wlra.Svd(Matrix<double>.Build.Random(5, 4, 2), Weights.FromMatrix(Matrix<double>.Build.Dense(5, 4, 1.0)), 2);
        var error = Assert.Throws<ArgumentException>(() => Wlra.Loss(a, w, other));
        Assert.Equal("approximation", error.ParamName);
        Assert.Contains("5x4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wlra_Adam_RejectsAnInfiniteLearningRate()
    {
        var a = Matrix<double>.Build.Random(6, 4, 1);
        var w = Weights.FromMatrix(Matrix<double>.Build.Dense(6, 4, 1.0));
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => Wlra.Adam(a, w, 2, new WlraOptions { LearningRate = double.PositiveInfinity }));
        Assert.Contains("LearningRate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SketchFile_Save_IntoAMissingFolder_NamesTheUsersPath()
    {
        var path = Path.Combine(Scratch("missing"), "x.sketch");
        var error = Assert.Throws<DirectoryNotFoundException>(() => SketchFile.Save(path, Sketch.CountSketch(2, 5, 1)));
        Assert.Contains($"'{path}'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(".tmp", error.Message, StringComparison.Ordinal);
    }

    private sealed record Run(int ExitCode, string Output, string Error);

    private static async Task<Run> Lowrank(CancellationToken token, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await App.RunAsync(args, Terminal.Captured(output, error), handleSignals: false, token);
        return new Run(code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Train_IntoAMissingFolder_FailsBeforeTraining_NamingOut()
    {
        var data = Scratch("frames.npy");
        Npy.WriteStack(data, Synthetic.VideoLike(4, 12, 10, 1));

        var run = await Lowrank(CancellationToken.None, "train", data, "-k", "2", "-m", "4", "--out", Path.Combine(Scratch("missing"), "x.sketch"));

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains("--out", run.Error);
        Assert.DoesNotContain("step", run.Output);
    }

    [Fact]
    public async Task Train_FewerRowsThanRank_NamesTheCommandLineOption()
    {
        var data = Scratch("frames.npy");
        Npy.WriteStack(data, Synthetic.VideoLike(4, 12, 10, 1));

        var run = await Lowrank(CancellationToken.None, "train", data, "-k", "5", "-m", "4", "--out", Scratch("x.sketch"));

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains("--rows: expected at least --rank = 5 sketch rows, but it is 4.", run.Error);
    }

    [Fact]
    public async Task Train_CancelledBeforeTheFirstStep_LeavesAnExistingSketchAlone()
    {
        var data = Scratch("frames.npy");
        Npy.WriteStack(data, Synthetic.VideoLike(4, 12, 10, 1));
        var path = Scratch("trained.sketch");
        SketchFile.Save(path, Sketch.CountSketch(4, 12, 99));
        var before = File.ReadAllBytes(path);

        var run = await Lowrank(new CancellationToken(canceled: true), "train", data, "-k", "2", "-m", "4", "--out", path);

        Assert.Equal(App.Interrupted, run.ExitCode);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Approx_OnHugeAndTinyData_PrintsFiniteNonzeroErrors()
    {
        foreach (var scale in new[] { 1e300, 1e-300 })
        {
            var path = Scratch("scaled.npy");
            Npy.WriteMatrix(path, scale * Matrix<double>.Build.Random(30, 20, 5));

            var run = await Lowrank(CancellationToken.None, "approx", path, "-k", "3", "-m", "8", "--out", Scratch("x"));

            Assert.True(run.ExitCode == 0, run.Error + run.Output);
            Assert.DoesNotContain("Infinity", run.Output);
            Assert.DoesNotContain("│ 0 ", run.Output.Split('\n').Single(line => line.Contains("||A - A~||_F")));
        }
    }

    [Fact]
    public async Task Approx_OnANaNFile_NamesTheFileAndTheEntry()
    {
        var a = Matrix<double>.Build.Random(10, 8, 1);
        a[3, 5] = double.NaN;
        var path = Scratch("nan.npy");
        Npy.WriteMatrix(path, a);

        var run = await Lowrank(CancellationToken.None, "approx", path, "-k", "2", "-m", "4", "--out", Scratch("x"));

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains($"matrix: '{path}' has a value that is not finite (row 3, column 5: NaN)", run.Error);
    }

    [Fact]
    public async Task Eval_WithSeveralSketches_NamesTheOneThatDoesNotFit()
    {
        var data = Scratch("frames.npy");
        Npy.WriteStack(data, Synthetic.VideoLike(4, 12, 10, 1));
        SketchFile.Save(Scratch("good.sketch"), Sketch.CountSketch(4, 12, 1));
        SketchFile.Save(Scratch("bad.sketch"), Sketch.CountSketch(4, 13, 1));

        var run = await Lowrank(CancellationToken.None, "eval", data, "-k", "2", "--sketch", Scratch("good.sketch"), "--sketch", Scratch("bad.sketch"));

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains($"'{Scratch("bad.sketch")}' is 4 x 13, but the test matrices have 12 rows", run.Error);
    }

    [Fact]
    public async Task Eval_SaysWhenTestMatricesAreAllZero()
    {
        var frames = Synthetic.VideoLike(4, 12, 10, 1);
        frames[2] = Matrix<double>.Build.Dense(12, 10);
        var data = Scratch("frames.npy");
        Npy.WriteStack(data, frames);

        var run = await Lowrank(CancellationToken.None, "eval", data, "-k", "2", "--random-rows", "4");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        Assert.Contains("1 of 4 test matrices are all zero", run.Output);
    }

    [Fact]
    public async Task Wlra_Cancelled_StopsWithTheInterruptedExitCode()
    {
        Npy.WriteMatrix(Scratch("a.npy"), Matrix<double>.Build.Random(30, 20, 7));
        Npy.WriteMatrix(Scratch("w.npy"), Matrix<double>.Build.Random(30, 20, 8).PointwiseAbs());

        var run = await Lowrank(new CancellationToken(canceled: true), "wlra", Scratch("a.npy"), "-w", Scratch("w.npy"), "-k", "2", "--method", "em");

        Assert.Equal(App.Interrupted, run.ExitCode);
        Assert.Contains("interrupted", run.Error);
    }
}
