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

/// <summary>The weighted commands, `wlra` and `compress`: their results are the facade's, at equal storage, and bad
/// options and inputs fail in one line.</summary>
public class CliWeightedTests : ScratchDirectory
{
    private static Task<CliRun> Lowrank(params string[] args) => CliRun.Lowrank(args);

    private static string Invariant(double value) => CliRun.Invariant(value);

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

    /// <summary>The problem: A 300 x 64 of rank 12 plus noise, W full rank with exact zeros and weights over many
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
    private static void AssertFailsInOneLine(CliRun run, string message) => CliRun.AssertFailsInOneLine(run, message);

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

}
