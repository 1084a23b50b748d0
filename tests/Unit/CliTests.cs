using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using LowRank.Cli;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>The lowrank command line, run in process with captured output (and as a real process where signals and
/// the environment matter): each command's results agree with the facade called directly, and every failure is one
/// line and a nonzero exit code.</summary>
public class CliTests : ScratchDirectory
{
    private static Task<CliRun> Lowrank(params string[] args) => CliRun.Lowrank(args);

    private static string Invariant(double value) => CliRun.Invariant(value);

    private static void AssertFailsInOneLine(CliRun run, string message) => CliRun.AssertFailsInOneLine(run, message);

    private string WriteStack(string name, int count, int rows, int columns, int seed) => CliRun.WriteStack(Scratch(name), count, rows, columns, seed);

    [Fact]
    public async Task Demo_PrintsTheFiveSketchesAndTheFourWeightedMethods()
    {
        var run = await Lowrank("demo", "--height", "30", "--width", "36", "--train", "10", "--test", "4", "--steps", "20", "-k", "4", "-m", "8");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        foreach (var row in new[] { "random CountSketch", "dense Gaussian", "learned", "mixed (J)", "mixed (S)", "svd-w", "em-w" })
            Assert.Contains(row, run.Output);
        Assert.Equal("", run.Error);
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("train")]
    [InlineData("eval")]
    [InlineData("approx")]
    [InlineData("wlra")]
    [InlineData("compress")]
    [InlineData("reproduce")]
    [InlineData("reproduce learned-sketches")]
    [InlineData("reproduce fisher-mlp")]
    public async Task Help_OfEveryCommand_ShowsItsUsageAndExitsZero(string command)
    {
        var run = await Lowrank([.. command.Split(' '), "--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(command.Split(' ')[^1], run.Output);
        Assert.Contains("--verbose", run.Output);
    }

    [Fact]
    public async Task Train_ThenEval_ReportsTheFacadesTestErrors_AsJson()
    {
        var trainSet = WriteStack("train.npy", 12, 24, 20, 1);
        var testSet = WriteStack("test.npy", 5, 24, 20, 2);
        var sketchPath = Scratch("learned.sketch");

        var train = await Lowrank("train", trainSet, "--out", sketchPath, "-k", "3", "-m", "6", "--steps", "40", "--seed", "3");
        Assert.True(train.ExitCode == 0, train.Error + train.Output);
        var eval = await Lowrank("eval", testSet, "--sketch", sketchPath, "-k", "3", "--random-seed", "9", "--json", "--csv", Scratch("eval.csv"));
        Assert.True(eval.ExitCode == 0, eval.Error + eval.Output);

        using var json = JsonDocument.Parse(eval.Output);
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(2, results.Length);
        var test = Npy.ReadStack(testSet);
        var learned = Scw.TestError(test, SketchFile.Load(sketchPath), 3, Normalization.TopSingularValue);
        var random = Scw.TestError(test, Sketch.CountSketch(6, 24, 9), 3, Normalization.TopSingularValue);
        Assert.Equal(learned, results[0].GetProperty("testError").GetDouble());
        Assert.Equal(random, results[1].GetProperty("testError").GetDouble());
        Assert.Equal(sketchPath, results[0].GetProperty("sketch").GetString());
        Assert.Equal(5, json.RootElement.GetProperty("testMatrices").GetInt32());
        // The same table as CSV: a header, then one line per sketch with its error to the last bit.
        var csv = File.ReadAllLines(Scratch("eval.csv"));
        Assert.Equal("sketch,rows,columns,rank,normalization,test_matrices,test_error", csv[0]);
        Assert.Equal(3, csv.Length);
        Assert.Equal(learned, double.Parse(csv[1].Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("random CountSketch (seed 9)", csv[2].Split(',')[0]);
        Assert.Equal(random, double.Parse(csv[2].Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Train_WithHistory_WritesOneCsvLinePerStep()
    {
        var data = WriteStack("train.npy", 12, 24, 20, 1);

        var run = await Lowrank("train", data, "-k", "2", "-m", "4", "--steps", "6", "--validation-every", "3",
            "--out", Scratch("s.sketch"), "--history", Scratch("history.csv"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var lines = File.ReadAllLines(Scratch("history.csv"));
        Assert.Equal("step,loss,validation_error,learning_rate,elapsed_seconds", lines[0]);
        Assert.Equal(new[] { "1", "2", "3", "4", "5", "6" }, lines.Skip(1).Select(line => line.Split(',')[0]));
        // A validation error on steps 3 and 6 only.
        Assert.Equal(new[] { false, false, true, false, false, true }, lines.Skip(1).Select(line => line.Split(',')[2].Length > 0));
    }

    [Fact]
    public async Task Train_WithSelect_UsesOnlyTheSelectedMatrices()
    {
        var stack = WriteStack("frames.npy", 10, 16, 12, 4);
        var cli = Scratch("cli.sketch");

        var run = await Lowrank("train", stack, "--select", "2:8:2", "--out", cli, "-k", "2", "-m", "4", "--steps", "15");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var frames = Npy.ReadStack(stack);
        var direct = Training.Train(new[] { frames[2], frames[4], frames[6] }, Training.Defaults(2, 4) with { Steps = 15 });
        Assert.Equal(SketchFile.ToBytes(direct.Sketch), File.ReadAllBytes(cli));
    }

    [Fact]
    public async Task Approx_WritesFactorsWhoseProductIsTheScwApproximation()
    {
        var a = Synthetic.VideoLike(1, 30, 25, 5)[0];
        Npy.WriteMatrix(Scratch("a.npy"), a);

        var run = await Lowrank("approx", Scratch("a.npy"), "-k", "4", "-m", "10", "--seed", "6", "--out", Scratch("scw"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var product = Npy.ReadMatrix(Scratch("scw.left.npy")) * Npy.ReadMatrix(Scratch("scw.right.npy"));
        var expected = Scw.Approximate(a, Sketch.CountSketch(10, 30, 6), 4).ToMatrix();
        Assert.True((product - expected).FrobeniusNorm() <= 1e-12 * expected.FrobeniusNorm(), run.Output);
    }

    [Fact]
    public async Task Approx_ComputesTheOptimumOnlyWhenAsked_AndPowerIterationsAreTheFacades()
    {
        var a = Synthetic.VideoLike(1, 40, 30, 5)[0];
        Npy.WriteMatrix(Scratch("a.npy"), a);

        var plain = await Lowrank("approx", Scratch("a.npy"), "-k", "4", "--seed", "6", "--out", Scratch("plain"));
        var power = await Lowrank("approx", Scratch("a.npy"), "-k", "4", "-p", "3", "--seed", "6", "-q", "2", "--optimal", "--out", Scratch("power"));

        Assert.True(plain.ExitCode == 0, plain.Error + plain.Output);
        Assert.True(power.ExitCode == 0, power.Error + power.Output);
        Assert.DoesNotContain("optimal", plain.Output);
        Assert.Contains("optimal", power.Output);
        Assert.Contains($"{Svd.OptimalError(a, 4):G6}", power.Output);
        // -p 3: a CountSketch of k + 3 rows; -q 2: two power iterations from it.
        var expected = Scw.ApproximateWithPower(a, Sketch.CountSketch(7, 40, 6), 4, 2);
        var product = Npy.ReadMatrix(Scratch("power.left.npy")) * Npy.ReadMatrix(Scratch("power.right.npy"));
        Assert.True((product - expected.ToMatrix()).FrobeniusNorm() <= 1e-12 * a.FrobeniusNorm(), power.Output);
        Assert.Contains($"{Scw.ErrorOf(a, expected):G6}", power.Output);
        Assert.Equal((a - expected.ToMatrix()).FrobeniusNorm(), Scw.ErrorOf(a, expected), 9);

        // --stream with --power: one more pass over the file per iteration, the facade's result.
        var streamed = await Lowrank("approx", Scratch("a.npy"), "-k", "4", "-p", "3", "--seed", "6", "-q", "2", "--stream", "--block-rows", "7", "--out", Scratch("streamed"));
        Assert.True(streamed.ExitCode == 0, streamed.Error + streamed.Output);
        var facade = Streaming.ApproximateFileWithPower(Scratch("a.npy"), BlockSketch.Hashed(6, 7), 4, 2, 7, Scratch("facade.left.npy"));
        Assert.Contains($"{facade.Error:G6}", streamed.Output);
        Assert.Contains("2 (4 passes over A)", streamed.Output);
    }

    /// <summary>A C-order file (NumPy's default) is used by rows, as it lies: the same factors as the facade on A, and
    /// a NaN reported by A's row and column although the library finds it in its sketch's pass.</summary>
    [Fact]
    public async Task Approx_UsesACOrderFileByRows_AndNamesANonFiniteEntryByItsRowAndColumn()
    {
        var a = Synthetic.VideoLike(1, 40, 30, 5)[0];
        NpyFiles.Write(Scratch("c.npy"), "<f8", false, [40, 30], Enumerable.Range(0, 40 * 30).Select(e => a[e / 30, e % 30]).ToArray());

        var run = await Lowrank("approx", Scratch("c.npy"), "-k", "4", "-p", "3", "--seed", "6", "-q", "2", "--out", Scratch("c"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var expected = Scw.ApproximateWithPower(a, Sketch.CountSketch(7, 40, 6), 4, 2);
        var product = Npy.ReadMatrix(Scratch("c.left.npy")) * Npy.ReadMatrix(Scratch("c.right.npy"));
        Assert.True((product - expected.ToMatrix()).FrobeniusNorm() <= 1e-12 * a.FrobeniusNorm(), run.Output);
        Assert.Contains($"{Scw.ErrorOf(a, expected):G6}", run.Output);
        Assert.Contains("40 x 30", run.Output);

        var values = Enumerable.Range(0, 40 * 30).Select(e => a[e / 30, e % 30]).ToArray();
        values[17 * 30 + 11] = double.NaN;
        NpyFiles.Write(Scratch("nan.npy"), "<f8", false, [40, 30], values);
        AssertFailsInOneLine(
            await Lowrank("approx", Scratch("nan.npy"), "-k", "4", "--out", Scratch("x")),
            $"matrix: '{Scratch("nan.npy")}' has a value that is not finite (row 17, column 11: NaN).");
        // Streamed, the blocks are read by rows too, and the entry is named the same way.
        AssertFailsInOneLine(
            await Lowrank("approx", Scratch("nan.npy"), "-k", "4", "--stream", "--block-rows", "16", "--out", Scratch("x")),
            $"has NaN at row 17, column 11.");
    }

    [Theory]
    [InlineData("-q", "-1", "--power: expected a whole number >= 0, but it is -1.")]
    [InlineData("-p", "-2", "--oversample: expected a whole number >= 0, but it is -2.")]
    [InlineData("--stream", "--optimal", "--optimal needs the whole matrix in memory")]
    public async Task Approx_BadPowerOptions_AreOneLine(string option, string value, string message)
    {
        Npy.WriteMatrix(Scratch("a.npy"), Matrix<double>.Build.Random(20, 10, 1));

        var run = option == "--stream"
            ? await Lowrank("approx", Scratch("a.npy"), "-k", "2", "--stream", value, "--out", Scratch("x"))
            : await Lowrank("approx", Scratch("a.npy"), "-k", "2", option, value, "--out", Scratch("x"));

        AssertFailsInOneLine(run, message);
    }

    [Fact]
    public async Task ApproxStream_WithASketchFile_WritesTheInMemoryApproximation()
    {
        var a = Synthetic.VideoLike(1, 300, 25, 5)[0];
        Npy.WriteMatrix(Scratch("tall.npy"), a);
        SketchFile.Save(Scratch("s.sketch"), Sketch.CountSketch(10, 300, 6));

        var run = await Lowrank("approx", Scratch("tall.npy"), "--stream", "--block-rows", "64", "--sketch", Scratch("s.sketch"),
            "-k", "4", "--out", Scratch("streamed"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        Assert.Contains("streamed in blocks of 64 rows", run.Output);
        var product = Npy.ReadMatrix(Scratch("streamed.left.npy")) * Npy.ReadMatrix(Scratch("streamed.right.npy"));
        var expected = Scw.Approximate(a, Sketch.CountSketch(10, 300, 6), 4).ToMatrix();
        Assert.True((product - expected).FrobeniusNorm() <= 1e-10 * a.FrobeniusNorm(), run.Output);
    }

    [Fact]
    public async Task ApproxStream_WithSelect_FailsWithOneLineNamingTheOption()
    {
        Npy.WriteMatrix(Scratch("plain.npy"), Matrix<double>.Build.Random(20, 6, 1));

        var run = await Lowrank("approx", Scratch("plain.npy"), "--stream", "--select", "3", "-k", "2", "--out", Scratch("x"));

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains("Expected no --select with --stream", run.Error);
        Assert.Single(run.Error.Trim().Split('\n'));
    }

    [MpiFact]
    public void Approx_UnderMpirun_OnThreeRanks_WritesWhatStreamingWrites()
    {
        var a = Synthetic.VideoLike(1, 200, 30, 8)[0];
        Npy.WriteMatrix(Scratch("mpi.npy"), a);
        var cli = MpiRun.Program("src/Cli", "LowRank.Cli.dll");

        var (exitCode, output) = MpiRun.Run(3, $"\"{cli}\" approx mpi.npy -k 3 -m 9 --seed 4 --out spread", Path.GetDirectoryName(Scratch("mpi.npy"))!);

        Assert.True(exitCode == 0, output);
        Assert.Contains("rows split over 3 ranks", output);
        var product = Npy.ReadMatrix(Scratch("spread.left.npy")) * Npy.ReadMatrix(Scratch("spread.right.npy"));
        var expected = Streaming.ApproximateRows([a], BlockSketch.Hashed(4, 9), 3).ToMatrix();
        Assert.True((product - expected).FrobeniusNorm() <= 1e-10 * a.FrobeniusNorm(), output);

        // With two power iterations: the in-memory error (Distributed.ApproximateWithPower over MPI).
        var (powerCode, powerOutput) = MpiRun.Run(3, $"\"{cli}\" approx mpi.npy -k 3 -m 9 --seed 4 -q 2 --out power", Path.GetDirectoryName(Scratch("mpi.npy"))!);
        Assert.True(powerCode == 0, powerOutput);
        var power = Npy.ReadMatrix(Scratch("power.left.npy")) * Npy.ReadMatrix(Scratch("power.right.npy"));
        var inMemory = Scw.ApproximateWithPower(a, Sketch.HashedCountSketch(rows: 9, columns: 200, seed: 4), 3, 2);
        Assert.Equal(Scw.ErrorOf(a, inMemory), (a - power).FrobeniusNorm(), 1e-8 * a.FrobeniusNorm());
    }

    [MpiFact]
    public async Task Train_UnderMpirun_OnThreeRanks_WritesTheSingleProcessSketch()
    {
        var stack = WriteStack("mpi-train.npy", 9, 30, 20, 3);
        var folder = Path.GetDirectoryName(stack)!;
        var cli = MpiRun.Program("src/Cli", "LowRank.Cli.dll");

        var (exitCode, output) = MpiRun.Run(3, $"\"{cli}\" train mpi-train.npy --steps 12 -k 2 -m 5 --seed 3 --out spread.sketch", folder);
        var alone = await Lowrank("train", stack, "--steps", "12", "-k", "2", "-m", "5", "--seed", "3", "--out", Scratch("alone.sketch"));

        Assert.True(exitCode == 0, output);
        Assert.True(alone.ExitCode == 0, alone.Error + alone.Output);
        Assert.Contains("train (3 ranks)", output);
        Assert.Single(Regex.Matches(output, "written to spread.sketch")); // rank 0 alone reports
        var spread = SketchFile.Load(Scratch("spread.sketch")).ToMatrix();
        var expected = SketchFile.Load(Scratch("alone.sketch")).ToMatrix();
        Assert.True((spread - expected).FrobeniusNorm() <= 1e-9 * expected.FrobeniusNorm(), output);
    }

    [Fact]
    public async Task Wlra_WithoutWeights_SaysWhichOptionsGiveThem()
    {
        Npy.WriteMatrix(Scratch("a.npy"), Matrix<double>.Build.Random(5, 4, 1));

        var run = await Lowrank("wlra", Scratch("a.npy"));

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains("--weights w.npy, or --weight-factors", run.Error);
    }

    [FfmpegFact]
    public async Task Eval_OnAVideo_UsesTheSelectedFrames()
    {
        var frames = Synthetic.VideoLike(10, 24, 32, 3)
            .Select(m => m.ToRowMajorArray().Select(x => (byte)Math.Clamp(x, 0, 255)).ToArray())
            .ToArray();
        var video = FfmpegVideos.Encode(Scratch("clip.mkv"), frames, 32, 24, "gray");

        var run = await Lowrank("eval", video, "--select", "2:8:3", "-k", "2", "--json");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        using var json = JsonDocument.Parse(run.Output);
        Assert.Equal(2, json.RootElement.GetProperty("testMatrices").GetInt32());
        var decoded = Video.Read(video);
        var expected = Scw.TestError(new[] { decoded[2], decoded[5] }, Sketch.CountSketch(20, 24, 0), 2, Normalization.TopSingularValue);
        Assert.Equal(expected, json.RootElement.GetProperty("results")[0].GetProperty("testError").GetDouble());
    }

    [Fact]
    public async Task AMissingFile_IsOneLineNamingIt_WithExitCode1()
    {
        var run = await Lowrank("eval", Scratch("absent.npy"), "-k", "3");

        Assert.Equal(App.Failure, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("lowrank: test-data: ", line);
        Assert.Contains("absent.npy", line);
        Assert.DoesNotContain(" at ", line);
    }

    [Fact]
    public async Task Verbose_ShowsTheStackTrace()
    {
        var run = await Lowrank("eval", Scratch("absent.npy"), "--verbose");

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains("FileNotFoundException", run.Error);
        Assert.Contains(" at ", run.Error);
    }

    [Fact]
    public async Task ABadRank_IsOneLineNamingTheExpectation()
    {
        var stack = WriteStack("s.npy", 3, 8, 6, 1);

        var run = await Lowrank("eval", stack, "-k", "7");

        Assert.Equal(App.Failure, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("rank", line);
        Assert.Contains("7", line);
    }

    [Theory]
    [InlineData("--rank", "x")]
    [InlineData("--kind", "mixed")]
    [InlineData("--no-such-option", "1")]
    public async Task AnUnparsableCommandLine_IsOneLineWithExitCode2(string option, string value)
    {
        var run = await Lowrank("train", "data.npy", option, value);

        Assert.Equal(App.UsageError, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("see 'lowrank train --help'", line);
    }

    [Fact]
    public async Task WeightedLoss_WithoutWeights_IsRejectedNamingTheOption()
    {
        var stack = WriteStack("s.npy", 3, 8, 6, 1);

        var run = await Lowrank("train", stack, "--loss", "weighted");

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains("--loss-weights", run.Error);
    }

    [Theory]
    [InlineData("0:4", new[] { 0, 1, 2, 3 })]
    [InlineData("2:", new[] { 2, 3, 4, 5, 6, 7 })]
    [InlineData("::3", new[] { 0, 3, 6 })]
    [InlineData("-3:", new[] { 5, 6, 7 })]
    [InlineData("5:1:-1", new[] { 5, 4, 3, 2 })]
    [InlineData("::-2", new[] { 7, 5, 3, 1 })]
    [InlineData("-100:100", new[] { 0, 1, 2, 3, 4, 5, 6, 7 })]
    [InlineData("7:3", new int[0])]
    [InlineData("1:8:2", new[] { 1, 3, 5, 7 })]
    [InlineData("-1::-3", new[] { 7, 4, 1 })]
    [InlineData("3:-2", new[] { 3, 4, 5 })]
    [InlineData("-2", new[] { 6 })]
    public void Select_SlicesLikeNumPy(string select, int[] expected)
    {
        // The expected indices are Python's list(range(8))[select], computed with python3.
        Assert.Equal(expected, Inputs.SliceIndices(8, select));
    }

    [Theory]
    [InlineData("0:400:8", 400)]
    [InlineData("5", 6)]
    [InlineData("400:", 0)]
    [InlineData("-16:", 0)]
    [InlineData("10:2:-1", 0)]
    [InlineData(":-3", 0)]
    [InlineData("::2", 0)]
    public void FramesNeeded_IsTheSelectionsStop_WhenItDoesNotDependOnTheCount(string select, int frames)
    {
        Assert.Equal(frames, Inputs.FramesNeeded(select));
    }

    [Theory]
    [InlineData("1:2:0")]
    [InlineData("a:3")]
    [InlineData("1:2:3:4")]
    [InlineData("9")]
    public void Select_RejectsWhatNumPyWouldReject(string select)
    {
        var e = Assert.Throws<ArgumentException>(() => Inputs.SliceIndices(8, select));
        Assert.StartsWith("--select:", e.Message);
    }

    /// <summary>Runs the built tool as its own process, as a user does.</summary>
    private static Process Start(string arguments, Action<ProcessStartInfo>? configure = null)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{typeof(App).Assembly.Location}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        configure?.Invoke(start);
        return Process.Start(start)!;
    }

    [InterruptibleFact]
    public async Task CtrlC_DuringTraining_StopsCleanly_WritesTheBestSketch_AndExits130()
    {
        var stack = WriteStack("s.npy", 8, 40, 30, 1);
        var sketchPath = Scratch("best.sketch");
        using var process = Start($"train \"{stack}\" --steps 1000000 -k 3 -m 6 --out \"{sketchPath}\" --checkpoint \"{Scratch("c.ckpt")}\"");

        // Redirected output prints a line at the first step; after it, training is under way.
        var first = await process.StandardOutput.ReadLineAsync();
        while (first is not null && !first.StartsWith("train: step 1/", StringComparison.Ordinal))
            first = await process.StandardOutput.ReadLineAsync();
        Assert.NotNull(first);
        using (var kill = Process.Start("kill", $"-INT {process.Id}")!)
            await kill.WaitForExitAsync();
        // A process that ignores the signal fails the test after a minute instead of hanging the run.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stop = timeout.Token.Register(() => process.Kill(entireProcessTree: true));
        var rest = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.False(timeout.IsCancellationRequested, $"Still training 60 s after SIGINT; killed. Output:\n{rest}\n{errors}");

        Assert.True(process.ExitCode == App.Interrupted, $"exit {process.ExitCode}: {errors}\n{rest}");
        Assert.Contains("Interrupted at step", rest);
        Assert.Equal(6, SketchFile.Load(sketchPath).Rows);
        Assert.True(File.Exists(Scratch("c.ckpt")));
    }

    [Fact]
    public async Task Video_WithoutFfmpeg_SaysHowToInstallIt()
    {
        File.WriteAllText(Scratch("clip.avi"), "not decoded: ffmpeg is missing");
        using var process = Start(
            $"eval \"{Scratch("clip.avi")}\"",
            start => start.Environment["LOWRANK_FFMPEG"] = Scratch("no-ffmpeg-here")
        );
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(App.Failure, process.ExitCode);
        Assert.Contains("needs the ffmpeg program", errors);
        Assert.Contains("apt-get install ffmpeg", errors);
    }
}

/// <summary>A test that interrupts a child process with SIGINT: skipped when this process ignores SIGINT, as a job
/// started in the background by a shell without job control does (`cmd &amp;` in a script), because its children inherit
/// the ignored signal and .NET then leaves it ignored, as Unix programs do.</summary>
public sealed class InterruptibleFactAttribute : FactAttribute
{
    public InterruptibleFactAttribute()
    {
        if (IgnoresSigint())
            Skip = "this process ignores SIGINT (started in the background without job control), so its children do too";
    }

    private static bool IgnoresSigint()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
            return false;
        var line = Array.Find(File.ReadAllLines(status), l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        // SigIgn is a hexadecimal mask with bit (signal - 1) set for each ignored signal; SIGINT is 2.
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0b10) != 0;
    }
}
