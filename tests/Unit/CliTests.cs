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
    private sealed record Run(int ExitCode, string Output, string Error);

    private static async Task<Run> Lowrank(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await App.RunAsync(args, Terminal.Captured(output, error), handleSignals: false, CancellationToken.None);
        return new Run(code, output.ToString(), error.ToString());
    }

    private static string Invariant(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private string WriteStack(string name, int count, int rows, int columns, int seed)
    {
        var path = Scratch(name);
        Npy.WriteStack(path, Synthetic.VideoLike(count, rows, columns, seed));
        return path;
    }

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
    public async Task Wlra_AllMethods_ReportTheFacadesLosses_AsJson()
    {
        var a = Matrix<double>.Build.Random(30, 20, 7);
        var w = Matrix<double>.Build.Dense(30, 20, (i, j) => (1 + i % 3) * (1 + j % 4));
        Npy.WriteMatrix(Scratch("a.npy"), a);
        Npy.WriteMatrix(Scratch("w.npy"), w);

        var run = await Lowrank("wlra", Scratch("a.npy"), "--weights", Scratch("w.npy"), "-k", "2", "--json", "--csv", Scratch("wlra.csv"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        using var json = JsonDocument.Parse(run.Output);
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToDictionary(r => r.GetProperty("method").GetString()!);
        Assert.Equal(WeightedRuns.Methods.Keys.OrderBy(k => k), results.Keys.OrderBy(k => k));
        Assert.Equal(Wlra.SvdW(a, Weights.FromMatrix(w), 2).Loss, results["svd-w"].GetProperty("loss").GetDouble());
        Assert.Equal(Wlra.Em(a, Weights.FromMatrix(w), 2).Loss, results["em"].GetProperty("loss").GetDouble());
        Assert.Equal(1, json.RootElement.GetProperty("weightRank").GetInt32());
        var csv = File.ReadAllLines(Scratch("wlra.csv")).Select(line => line.Split(',')).ToArray();
        Assert.Equal("method", csv[0][0]);
        Assert.Equal(WeightedRuns.Methods.Keys, csv.Skip(1).Select(row => row[0]));
        var svdW = csv.Single(row => row[0] == "svd-w");
        Assert.Equal(results["svd-w"].GetProperty("loss").GetDouble(), double.Parse(svdW[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Wlra_WithWeightFactors_MatchesTheFacadesFactoredWeights()
    {
        var a = Matrix<double>.Build.Random(30, 20, 8);
        var left = Matrix<double>.Build.Random(30, 2, 9).PointwiseAbs();
        var right = Matrix<double>.Build.Random(2, 20, 10).PointwiseAbs();
        Npy.WriteMatrix(Scratch("a.npy"), a);
        Npy.WriteMatrix(Scratch("l.npy"), left);
        Npy.WriteMatrix(Scratch("r.npy"), right);

        var run = await Lowrank("wlra", Scratch("a.npy"), "--weight-factors", Scratch("l.npy"), Scratch("r.npy"), "-k", "3", "--method", "svd-w", "--bicriteria", "--json");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        using var json = JsonDocument.Parse(run.Output);
        var result = Assert.Single(json.RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal(Wlra.SvdW(a, Weights.FromFactors(left, right), 3, new WlraOptions { Bicriteria = true }).Loss, result.GetProperty("loss").GetDouble());
        Assert.Equal(6, result.GetProperty("rank").GetInt32());
        Assert.True(result.GetProperty("bicriteria").GetBoolean());
        Assert.False(result.GetProperty("withinBudget").GetBoolean());
    }

    [Fact]
    public async Task Wlra_All_ShowsAFailingMethodAsARow_AndRunsTheOthers()
    {
        var a = Matrix<double>.Build.Random(30, 20, 7);
        Npy.WriteMatrix(Scratch("a.npy"), a);
        Npy.WriteMatrix(Scratch("w.npy"), Matrix<double>.Build.Random(30, 20, 8).PointwiseAbs());

        // r = 7 given: r k = 21 > min(n, d) = 20, so svd-w, svd-w-practical, em-w and sample cannot run.
        var run = await Lowrank("wlra", Scratch("a.npy"), "--weights", Scratch("w.npy"), "-k", "3", "--weight-rank", "7", "--json");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        using var json = JsonDocument.Parse(run.Output);
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToDictionary(r => r.GetProperty("method").GetString()!);
        Assert.Equal(WeightedRuns.Methods.Count, results.Count);
        foreach (var failed in new[] { "svd-w", "svd-w-practical", "em-w", "sample" })
            Assert.Contains("r*k = 21", results[failed].GetProperty("error").GetString());
        Assert.Equal(Wlra.Als(a, Weights.FromMatrix(Npy.ReadMatrix(Scratch("w.npy"))), 3).Loss, results["als"].GetProperty("loss").GetDouble());
    }

    [Fact]
    public async Task Wlra_FullRankWeights_ChoosesR_AndPrintsWhy()
    {
        var a = Matrix<double>.Build.Random(30, 20, 7);
        var w = Matrix<double>.Build.Dense(30, 20, (i, j) => (1 + i % 3) * (1 + j % 4)) + 0.01 * Matrix<double>.Build.Random(30, 20, 9).PointwiseAbs();
        Npy.WriteMatrix(Scratch("a.npy"), a);
        Npy.WriteMatrix(Scratch("w.npy"), w);

        var run = await Lowrank("wlra", Scratch("a.npy"), "--weights", Scratch("w.npy"), "-k", "5", "--method", "svd-w", "--weight-floor", "1e-3", "--bicriteria");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var expected = Wlra.SvdW(a, Weights.FromMatrix(w), 5, new WlraOptions { WeightFloor = 1e-3, Bicriteria = true });
        Assert.Equal(1, expected.WeightRank);
        Assert.Contains("r = 1: W has rank above min(n, d)/k = 4", run.Output);
        Assert.Contains($"{expected.Loss:G6}", run.Output);
        Assert.Contains("amplification", run.Output);
    }

    /// <summary>The issue's problem: A 300 x 64 of rank 12 plus noise, W full rank with exact zeros and weights over many
    /// orders of magnitude (a Fisher-like profile).</summary>
    private (Matrix<double> A, Matrix<double> W) FisherLikeProblem()
    {
        var random = new Random(24);
        var a = Matrix<double>.Build.Random(300, 12, 1) * Matrix<double>.Build.Random(12, 64, 2) + 0.1 * Matrix<double>.Build.Random(300, 64, 3);
        var w = Matrix<double>.Build.Dense(300, 64, (_, _) => random.NextDouble() < 0.1 ? 0 : Math.Exp(3 * Normal(random)));
        Npy.WriteMatrix(Scratch("a.npy"), a);
        Npy.WriteMatrix(Scratch("w.npy"), w);
        return (a, w);

        static double Normal(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    [Fact]
    public async Task Wlra_ByDefault_ComparesEveryMethodWithinTheStorageOfRankKFactors()
    {
        FisherLikeProblem();

        var json = await Lowrank("wlra", Scratch("a.npy"), "--weights", Scratch("w.npy"), "-k", "5", "--json");
        var table = await Lowrank("wlra", Scratch("a.npy"), "--weights", Scratch("w.npy"), "-k", "5");

        Assert.True(json.ExitCode == 0, json.Error + json.Output);
        Assert.True(table.ExitCode == 0, table.Error + table.Output);
        using var document = JsonDocument.Parse(json.Output);
        Assert.Equal(5 * (300 + 64), document.RootElement.GetProperty("budget").GetInt64());
        var results = document.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(WeightedRuns.Methods.Count, results.Count);
        Assert.All(results, r => Assert.True(r.GetProperty("parameters").GetInt32() <= 5 * (300 + 64), r.ToString()));
        Assert.All(results, r => Assert.True(r.GetProperty("withinBudget").GetBoolean(), r.ToString()));
        var best = results.MinBy(r => r.GetProperty("loss").GetDouble()).GetProperty("method").GetString();
        var starred = Assert.Single(table.Output.Split('\n'), line => line.Contains(" * "));
        Assert.StartsWith($"│ {best} ", starred);
        Assert.DoesNotContain("budget of", table.Output);
        Assert.DoesNotContain("dense matrix", table.Output);
    }

    [Fact]
    public async Task Wlra_Bicriteria_ShowsItsRowsOverTheBudget_NeverStarsThem_AndSaysWhenTheyOutgrowTheMatrix()
    {
        var (a, w) = FisherLikeProblem();

        var run = await Lowrank("wlra", Scratch("a.npy"), "--weights", Scratch("w.npy"), "-k", "5", "--bicriteria", "--method", "svd", "svd-w");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var bicriteria = Wlra.SvdW(a, Weights.FromMatrix(w), 5, new WlraOptions { Bicriteria = true });
        Assert.Equal(60, bicriteria.Rank); // r = 12, the cap min(n, d) / k
        // The lowest loss of the two, at twelve times the storage: shown, never starred.
        Assert.True(bicriteria.Loss < Wlra.Svd(a, Weights.FromMatrix(w), 5).Loss);
        var row = Assert.Single(run.Output.Split('\n'), line => line.Contains("svd-w (r k)") && line.StartsWith('│'));
        Assert.Contains($"{bicriteria.Parameters} (over)", row);
        Assert.DoesNotContain(" * ", row);
        Assert.Contains("│ svd ", Assert.Single(run.Output.Split('\n'), line => line.Contains(" * ")));
        Assert.Contains("svd-w (r k) stores more than the budget of 1820 numbers: shown, not compared.", run.Output);
        Assert.Contains($"svd-w (r k) ({bicriteria.Parameters}) stores more numbers than the dense matrix's 19200.", run.Output.Replace("\n", " "));
    }

    /// <summary>A bad input's promise: exit code 1, one line on stderr that says `message`, nothing on stdout.</summary>
    private static void AssertFailsInOneLine(Run run, string message)
    {
        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("", run.Output);
    }

    [Theory]
    [InlineData("--max-iterations", "-1", "Expected --max-iterations >= 1, but it is -1.")]
    [InlineData("--energy", "NaN", "Expected --energy in (0, 1], but it is NaN.")]
    [InlineData("--adam-steps", "0", "Expected --adam-steps >= 1, but it is 0.")]
    [InlineData("--learning-rate", "-0.5", "Expected --learning-rate finite and > 0, but it is -0.5.")]
    [InlineData("--weight-floor", "1", "Expected --weight-floor in [0, 1), but it is 1.")]
    [InlineData("--parameters", "100", "--parameters: expected at least n + d = 364 numbers")]
    public async Task Wlra_BadOptionValues_AreOneLine_BeforeAnyMethodRuns(string option, string value, string message)
    {
        FisherLikeProblem();

        var run = await Lowrank("wlra", Scratch("a.npy"), "--weights", Scratch("w.npy"), "--method", "all", option, value);

        AssertFailsInOneLine(run, message);
    }

    [Theory]
    [InlineData("zero", "--covariance", "Expected covariance to be a nonzero positive semidefinite matrix")]
    [InlineData("negative", "--covariance", "diagonal entry covariance[0, 0] = -")]
    [InlineData("indefinite", "--covariance", "Expected covariance to be positive semidefinite (eigenvalues >= -1E-09 times the largest)")]
    [InlineData("asymmetric", "--covariance", "Expected covariance to be symmetric")]
    [InlineData("negative", "--output-covariance", "Expected outputCovariance to be positive semidefinite")]
    public async Task Compress_RejectsAMatrixThatIsNotACovariance_InOneLine(string kind, string option, string message)
    {
        var a = Matrix<double>.Build.Random(12, 8, 1);
        var x = Matrix<double>.Build.Random(50, 12, 2);
        var good = x.TransposeThisAndMultiply(x) / 50;
        var size = option == "--covariance" ? 12 : 8;
        var bad = kind switch
        {
            "zero" => Matrix<double>.Build.Dense(size, size),
            "negative" => -Matrix<double>.Build.DenseIdentity(size),
            // A positive diagonal, so only the eigenvalues tell: |C_01| > sqrt(C_00 C_11).
            "indefinite" => good + Matrix<double>.Build.Dense(12, 12, (i, j) => i + j == 1 ? 2 * good.Diagonal().Maximum() : 0),
            _ => good + Matrix<double>.Build.Dense(12, 12, (i, j) => i == 2 && j == 5 ? 0.1 : 0),
        };
        Npy.WriteMatrix(Scratch("a.npy"), a);
        Npy.WriteMatrix(Scratch("c.npy"), option == "--covariance" ? bad : good);
        Npy.WriteMatrix(Scratch("g.npy"), bad);

        var run = option == "--covariance"
            ? await Lowrank("compress", Scratch("a.npy"), "--covariance", Scratch("c.npy"), "-k", "3")
            : await Lowrank("compress", Scratch("a.npy"), "--covariance", Scratch("c.npy"), "--output-covariance", Scratch("g.npy"), "-k", "3");

        AssertFailsInOneLine(run, message);
    }

    [Fact]
    public async Task Compress_TwoSided_WritesTheFacadesFactors()
    {
        var a = Matrix<double>.Build.Random(12, 8, 1);
        var x = Matrix<double>.Build.Random(50, 12, 2);
        var delta = Matrix<double>.Build.Random(50, 8, 3);
        var g = delta.TransposeThisAndMultiply(delta) / 50;
        Npy.WriteMatrix(Scratch("a.npy"), a);
        Npy.WriteMatrix(Scratch("x.npy"), x);
        Npy.WriteMatrix(Scratch("g.npy"), g);

        var run = await Lowrank("compress", Scratch("a.npy"), "--inputs", Scratch("x.npy"), "--output-covariance", Scratch("g.npy"), "-k", "3", "--out", Scratch("c"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var expected = Compression.TwoSided(a, Compression.InputCovariance(x), g, 3);
        var product = Npy.ReadMatrix(Scratch("c.left.npy")) * Npy.ReadMatrix(Scratch("c.right.npy"));
        Assert.True((product - expected.ToMatrix()).FrobeniusNorm() <= 1e-12 * a.FrobeniusNorm(), run.Output);
        Assert.Contains("two-sided", run.Output);
    }

    [Fact]
    public async Task Compress_WithoutInputs_SaysWhatItNeeds()
    {
        Npy.WriteMatrix(Scratch("a.npy"), Matrix<double>.Build.Random(5, 4, 1));

        var run = await Lowrank("compress", Scratch("a.npy"));

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains("--inputs X.npy or --covariance C.npy", run.Error);
        Assert.Single(run.Error.TrimEnd().Split('\n'));
    }

    /// <summary>Writes an IDX file (uint8, gzip) as the Fashion-MNIST files are.</summary>
    private static void WriteIdx(string path, byte[] data, params int[] dimensions)
    {
        using var file = File.Create(path);
        using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest);
        gzip.Write([0, 0, 0x08, (byte)dimensions.Length]);
        foreach (var dimension in dimensions)
            gzip.Write([(byte)(dimension >> 24), (byte)(dimension >> 16), (byte)(dimension >> 8), (byte)dimension]);
        gzip.Write(data);
    }

    [Fact]
    public async Task ReproduceFisherMlp_Quick_WritesEveryMethodsRow()
    {
        // Generated images whose label is the brightest of ten pixel bands, so the network has something to learn.
        var random = new Random(3);
        var folder = Scratch("fashion");
        Directory.CreateDirectory(folder);
        foreach (var (set, count) in new[] { ("train", 400), ("t10k", 100) })
        {
            var images = new byte[count * 784];
            var labels = new byte[count];
            for (var i = 0; i < count; i++)
            {
                labels[i] = (byte)random.Next(10);
                for (var p = 0; p < 784; p++)
                    images[i * 784 + p] = (byte)(p % 10 == labels[i] ? 200 + random.Next(56) : random.Next(100));
            }
            WriteIdx(Path.Combine(folder, $"{set}-images-idx3-ubyte.gz"), images, count, 28, 28);
            WriteIdx(Path.Combine(folder, $"{set}-labels-idx1-ubyte.gz"), labels, count);
        }

        var run = await Lowrank("reproduce", "fisher-mlp", "--data", folder, "--out", Scratch("out"), "--quick");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var csv = File.ReadAllLines(Path.Combine(Scratch("out"), "results.csv"));
        var methods = csv.Skip(1).Select(line => line.Split(',')[1]).ToArray();
        Assert.Equal(
            new[] { "full layer" }.Concat(WeightedRuns.Methods.Keys).Concat(new[] { "data-aware", "data-and-weights", "two-sided" }),
            methods);
        Assert.True(File.Exists(Path.Combine(Scratch("out"), "table.md")));
        var figure = System.Xml.Linq.XDocument.Load(Path.Combine(Scratch("out"), "accuracy.svg"));
        Assert.Equal("svg", figure.Root!.Name.LocalName);
        // The six methods of the legend, each a text element of the SVG; and the same chart as a PNG.
        var texts = figure.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()).ToHashSet();
        Assert.Subset(texts, new HashSet<string> { "svd", "svd-w", "em", "als", "data-aware", "two-sided", "full network" });
        var (width, height, _) = DecodePng(Path.Combine(Scratch("out"), "accuracy.png"));
        Assert.Equal((Chart.Width, Chart.Height), (width, height));
        var full = double.Parse(csv[1].Split(',')[6], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(full > 0.5, $"the network learned nothing: accuracy {full}");
    }

    [Fact]
    public async Task ReproduceLearnedSketches_TabulatesEverySketch_WithTheFacadesErrors()
    {
        var data = WriteStack("frames.npy", 30, 24, 20, 5);

        var run = await Lowrank("reproduce", "learned-sketches", data, "--train", "0:20", "--test", "20:", "--ranks", "2",
            "--rows", "6", "8", "--steps", "5", "--out", Scratch("out"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(Scratch("out"), "results.csv")).Skip(1).Select(line => line.Split(','))
            .Where(row => row[1] == "6").ToArray();
        Assert.Equal(
            new[]
            {
                "random CountSketch", "dense Gaussian", "learned values (2019)", "learned positions + values (s = 1)",
                "learned positions + values (s = 4)", "greedy positions + values (s = 1)", "few-shot: principal start from 1 matrix",
                "few-shot: principal start from 32 matrices", "default: principal start + values", "mixed (J) with default options",
                "mixed (S) with default options", "mixed (J) with 2019 options",
            },
            rows.Select(r => r[2]));
        var test = Npy.ReadStack(data)[20..];
        var random = Scw.TestError(test, Sketch.CountSketch(6, 24, 1), 2, Normalization.TopSingularValue);
        Assert.Equal(random, double.Parse(rows[0][3], System.Globalization.CultureInfo.InvariantCulture));

        // The figures: four 24 x 20 panels with 8-pixel gaps, and a chart with its title.
        var (width, height, pixels) = DecodePng(Path.Combine(Scratch("out"), "reconstruction-k2-m6.png"));
        Assert.Equal((4 * 20 + 3 * 8, 24), (width, height));
        Assert.True(pixels.Distinct().Count() > 16, "the reconstruction has more than 16 gray levels");
        Assert.Contains("Training loss", File.ReadAllText(Path.Combine(Scratch("out"), "training.svg")));
        // Two values of m: Err against m, with the compared sketches in its legend.
        Assert.Contains("default: principal start + values", File.ReadAllText(Path.Combine(Scratch("out"), "error-vs-rows-k2.svg")));
        Assert.True(File.Exists(Path.Combine(Scratch("out"), "error-vs-rows-k2.png")));
        Assert.Contains("exact SVD, best rank k", File.ReadAllText(Path.Combine(Scratch("out"), "table.md")));
    }

    [Fact]
    public void EveryPngFigureOfTheDocs_DecodesToAFramesWorthOfNonBlankPixels()
    {
        var figures = Directory.GetFiles(RepositoryFiles.PathOf(Path.Combine("docs", "figures")), "*.png");
        Assert.NotEmpty(figures);
        foreach (var figure in figures)
        {
            var (width, height, pixels) = DecodePng(figure);
            // The reconstruction figure is four 576 x 768 panels with 8-pixel gaps; every other one is a chart.
            var expected = Path.GetFileName(figure).Contains("reconstruction", StringComparison.Ordinal)
                ? (4 * 768 + 3 * 8, 576)
                : (Chart.Width, Chart.Height);
            Assert.True(expected == (width, height), $"{figure} is {width} x {height}, not {expected}");
            Assert.True(pixels.Distinct().Count() > 16, $"{figure} has at most 16 gray levels");
            Assert.True(pixels.Count(p => p < 128) > width * height / 1000, $"{figure} is nearly blank");
        }
    }

    /// <summary>An independent PNG reader (ISO/IEC 15948) for 8-bit, non-interlaced grayscale, RGB or RGBA images, as
    /// GrayPng and ScottPlot write them: checks the signature and every chunk's CRC-32 (with the tests' own bitwise
    /// Crc32, not System.IO.Hashing, which GrayPng uses), inflates the IDAT data, undoes the five row filters, and returns each pixel's
    /// luminance (the mean of R, G and B; alpha is ignored).</summary>
    internal static (int Width, int Height, byte[] Pixels) DecodePng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        int width = 0, height = 0, channels = 0;
        var idat = new MemoryStream();
        for (var at = 8; at < bytes.Length;)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            var body = bytes.AsSpan(at + 8, length);
            Assert.Equal(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at + 8 + length)), Crc32.Of(bytes.AsSpan(at + 4, length + 4)));
            if (type == "IHDR")
            {
                width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(body);
                height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                Assert.Equal(8, body[8]); // bit depth
                channels = body[9] switch
                {
                    0 => 1,
                    2 => 3,
                    6 => 4,
                    var other => throw new Xunit.Sdk.XunitException($"{path}: color type {other} is not read here"),
                };
                Assert.Equal(0, body[12]); // not interlaced
            }
            else if (type == "IDAT")
                idat.Write(body);
            at += 12 + length;
        }
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionMode.Decompress))
            zlib.CopyTo(inflated);
        var raw = inflated.ToArray();
        var stride = width * channels;
        Assert.Equal(height * (stride + 1), raw.Length);
        var rows = new byte[height * stride];
        for (var i = 0; i < height; i++)
        {
            var filter = raw[i * (stride + 1)];
            for (var j = 0; j < stride; j++)
            {
                int x = raw[i * (stride + 1) + 1 + j];
                int a = j >= channels ? rows[i * stride + j - channels] : 0;
                int b = i > 0 ? rows[(i - 1) * stride + j] : 0;
                int c = i > 0 && j >= channels ? rows[(i - 1) * stride + j - channels] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                var predicted = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => pa <= pb && pa <= pc ? a : pb <= pc ? b : c,
                    _ => throw new Xunit.Sdk.XunitException($"{path}: row {i} has filter type {filter}"),
                };
                rows[i * stride + j] = (byte)(x + predicted);
            }
        }
        var pixels = new byte[width * height];
        for (var p = 0; p < pixels.Length; p++)
            pixels[p] = channels == 1 ? rows[p] : (byte)((rows[p * channels] + rows[p * channels + 1] + rows[p * channels + 2]) / 3);
        return (width, height, pixels);
    }

    [Fact]
    public void ChartLabels_LeaveInk_SoAMissingFontCannotBlankThem()
    {
        // Without a TrueType font SkiaSharp draws no text and reports nothing; two charts that differ only in their
        // title must then differ in the title's band, and the band must hold dark pixels.
        var series = new List<(string, IReadOnlyList<(double X, double Y)>)> { ("series", new[] { (1.0, 1.0), (2.0, 3.0) }) };
        var titled = Chart.Save(Chart.Lines("Reproducible title", "x", "y", series), Scratch(""), "titled").Png;
        var plain = Chart.Save(Chart.Lines("", "x", "y", series), Scratch(""), "plain").Png;

        var (width, height, ink) = DecodePng(titled);
        var (_, _, blank) = DecodePng(plain);

        Assert.Equal((Chart.Width, Chart.Height), (width, height));
        var band = Enumerable.Range(0, 30 * width);
        Assert.True(band.Count(p => ink[p] < 128) > 100, "the title drew fewer than 100 dark pixels: is a TrueType font installed (fonts-dejavu-core)?");
        Assert.True(band.Count(p => ink[p] != blank[p]) > 100);
    }

    [Fact]
    public async Task ReproduceTrainingChoices_TabulatesEveryLossAndSvdMethod()
    {
        var data = WriteStack("frames.npy", 30, 24, 20, 6);

        var run = await Lowrank("reproduce", "training-choices", data, "--train", "0:20", "--test", "20:", "--ranks", "2",
            "--steps", "3", "--power-steps", "2", "--out", Scratch("choices"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(Scratch("choices"), "results.csv")).Skip(1).ToArray();
        Assert.Equal(
            new[]
            {
                "random CountSketch (no training)", "Frobenius loss, 3 steps", "V-norm loss, 3 steps",
                "weighted Frobenius loss, 3 steps", "exact SVD adjoint, 2 steps", "power method, T = 10, 2 steps",
                "power method, T = 100, 2 steps",
            },
            rows.Select(r => r.Split('"')[1]));
        // The random sketch's Err is the facade's.
        var test = Npy.ReadStack(data)[20..];
        var random = Scw.TestError(test, Sketch.CountSketch(4, 24, 1), 2, Normalization.TopSingularValue);
        Assert.Equal(random.ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture), rows[0].Split('"')[2].Split(',')[1]);
    }

    [Fact]
    public async Task ReproduceWorstCase_TheLearnedSketchFails_AndTheMixedOneKeepsItsRandomRowsError()
    {
        // Wide frames, so that the learned sketch's 6 directions of the 60 columns cannot catch much by chance.
        var data = WriteStack("frames.npy", 30, 48, 60, 7);

        var run = await Lowrank("reproduce", "worst-case", data, "--train", "0:20", "--test", "20:", "-k", "2", "-m", "6",
            "--out", Scratch("worst"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(Scratch("worst"), "results.csv")).Skip(1)
            .Select(line => line.Split(','))
            .ToDictionary(r => r[0], r => r[2..].Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        // The learned sketch sees only the decoy: SCW misses almost all of the matrix.
        Assert.All(rows["learned (default)"], e => Assert.True(e > 0.9, $"learned relative error {e}"));
        // Theorem 1: never worse than the mixed sketch's own random rows, and here far better than the learned one.
        for (var i = 0; i < rows["mixed (J)"].Length; i++)
        {
            Assert.True(rows["mixed (J)"][i] <= rows["random rows of mixed (J) alone"][i] + 1e-9, $"noise level {i}");
            Assert.True(rows["mixed (J)"][i] < rows["learned (default)"][i] - 0.1, $"noise level {i}");
        }
        Assert.True(File.Exists(Path.Combine(Scratch("worst"), "worst-case.svg")));
        Assert.True(File.Exists(Path.Combine(Scratch("worst"), "worst-case.png")));
    }

    [Fact]
    public async Task ReproduceWeightedSynthetic_TabulatesEveryMethod_AndSvdWIsLowestAtEveryRank()
    {
        var run = await Lowrank("reproduce", "weighted-synthetic", "--ranks", "3", "6", "--out", Scratch("weighted"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(Scratch("weighted"), "results.csv")).Skip(1).Select(line => line.Split(',')).ToArray();
        Assert.Equal(2 * 10, rows.Length);
        foreach (var k in new[] { 3, 6 })
        {
            var atK = rows.Where(r => r[0] == $"{k}").ToDictionary(r => r[1]);
            double Loss(string method) => double.Parse(atK[method][2], System.Globalization.CultureInfo.InvariantCulture);
            // Equal budgets: every method stores at most the k (n + d) numbers of rank-k factors of the 400 x 200 problem.
            Assert.All(atK.Where(p => p.Key != "svd-w (r k)"), p => Assert.True(int.Parse(p.Value[4]) <= k * 600, p.Key + ": " + p.Value[4]));
            // The bicriteria form stores rank r k = 2k and, with rank-2 weights, beats every rank-k method (Theorem 1.2).
            Assert.Equal($"{2 * k * 600}", atK["svd-w (r k)"][4]);
            Assert.All(atK.Keys.Where(m => m is not ("svd-w (r k)" or "svd-w" or "svd-w-practical" or "sample")),
                m => Assert.True(Loss("svd-w (r k)") <= Loss(m) * (1 + 1e-12), m));
        }
        Assert.Contains("svd-w-practical", File.ReadAllText(Path.Combine(Scratch("weighted"), "loss.svg")));
    }

    [Fact]
    public async Task ReproduceFisherMlp_WithoutData_SaysHowToFetchIt()
    {
        var run = await Lowrank("reproduce", "fisher-mlp", "--data", Scratch("missing"), "--out", Scratch("out"));

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains("scripts/fetch-data.sh", run.Error);
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
