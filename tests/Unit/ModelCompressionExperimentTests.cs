using System.IO;
using System.Linq;
using System.Threading.Tasks;
using LowRank.Cli;
using LowRank.Tests;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>`lowrank reproduce model-compression` on toy models laid out as scripts/fetch-data.sh lays out the real ones:
/// every model, method and fraction gets its measured row, a rerun keeps the rows already written, and missing data or
/// a bad fraction fails in one line.</summary>
public sealed class ModelCompressionExperimentTests : ScratchDirectory
{
    /// <summary>A data folder with the text toy as all-MiniLM-L6-v2 and the image toy as ResNet-18.</summary>
    private string Data()
    {
        var data = Scratch("data");
        var models = Directory.CreateDirectory(Path.Combine(data, "models")).FullName;
        var text = Directory.CreateDirectory(Path.Combine(data, "text")).FullName;
        var images = Directory.CreateDirectory(Path.Combine(data, "images")).FullName;
        OnnxGraphs.Save(OnnxGraphs.Text(), models, "all-MiniLM-L6-v2.onnx");
        OnnxGraphs.SaveVocabulary(models, "all-MiniLM-L6-v2.vocab.txt");
        File.WriteAllLines(Path.Combine(text, "calibration.txt"), OnnxModelTests.Sentences);
        File.WriteAllLines(Path.Combine(text, "heldout.txt"), OnnxModelTests.Sentences.Reverse());
        OnnxGraphs.Save(OnnxGraphs.Image(), models, "ResNet18.onnx");
        Npy.WriteMatrix(Path.Combine(images, "calibration.npy"), Matrix<double>.Build.Random(12, 72, 3));
        Npy.WriteMatrix(Path.Combine(images, "heldout.npy"), Matrix<double>.Build.Random(8, 72, 4));
        return data;
    }

    [Fact]
    public async Task Quick_MeasuresEveryModelAndMethod_AndARerunKeepsTheRows()
    {
        var data = Data();
        var output = Scratch("out");

        var run = await CliRun.Lowrank("reproduce", "model-compression", "--data", data, "--out", output, "--quick");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(output, "results.csv")).Skip(1).ToArray();
        Assert.Equal(4, rows.Length); // two models, svd and data-aware, 50 %
        foreach (var model in new[] { "all-MiniLM-L6-v2", "ResNet-18" })
            foreach (var method in new[] { "svd", "data-aware" })
                Assert.Single(rows, r => r.StartsWith($"{model},{method},0.5,"));
        var table = File.ReadAllText(Path.Combine(output, "table.md"));
        Assert.Contains("| all-MiniLM-L6-v2 | data-aware | 50 % |", table);
        Assert.True(new FileInfo(Path.Combine(output, "fidelity.png")).Length > 0);
        // Every cosine is a cosine; at full fidelity it would be 1.
        Assert.All(rows, r => Assert.InRange(double.Parse(r.Split(',')[5], System.Globalization.CultureInfo.InvariantCulture), -1.0, 1.0 + 1e-9));

        var again = await CliRun.Lowrank("reproduce", "model-compression", "--data", data, "--out", output, "--quick");

        Assert.Equal(0, again.ExitCode);
        Assert.Equal(4, again.Output.Split('\n').Count(l => l.Contains("kept from")));
        Assert.Equal(rows, File.ReadAllLines(Path.Combine(output, "results.csv")).Skip(1));
    }

    [Fact]
    public async Task WithoutData_SaysHowToFetchIt_AndABadFractionFailsInOneLine()
    {
        var missing = await CliRun.Lowrank("reproduce", "model-compression", "--data", Scratch("missing"), "--out", Scratch("out"));
        Assert.Equal(App.Failure, missing.ExitCode);
        Assert.Contains("scripts/fetch-data.sh", missing.Error);

        var fraction = await CliRun.Lowrank("reproduce", "model-compression", "--data", Data(), "--out", Scratch("out"), "--fractions", "1.5");
        Assert.Equal(App.Failure, fraction.ExitCode);
        Assert.Contains("Expected --fractions in (0, 1], but one is 1.5.", fraction.Error);
    }
}
