using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LowRank.Cli;
using LowRank.Onnx;
using LowRank.Tests;
using Xunit;

namespace LowRank.Unit;

/// <summary>A model's budget given as a predicted cosine instead of a fraction: the allocation stops where the prediction
/// reaches the target, a higher target keeps more, and the options that cannot predict it are refused in one line.</summary>
public sealed class OnnxBudgetTests : ScratchDirectory
{
    private CalibrationData Text() => CalibrationData.Text(OnnxModelTests.Sentences, OnnxGraphs.SaveVocabulary(Scratch("")), batchSize: 4);

    [Fact]
    public void TargetCosine_StopsWhereThePredictionReachesIt_AndAHigherTargetKeepsMore()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        var data = Text();
        CompressedModel Compress(double? target, double? fraction = null) =>
            ModelCompression.Compress(path, data, new ModelCompressionOptions
            {
                Method = CompressionMethod.DataAware, Kinds = [LayerKind.MatMul], TargetCosine = target, ParameterFraction = fraction,
            });

        // The probes run at the default fraction's uniform ranks in both, so the predictions are comparable.
        var budgeted = Compress(null, 0.5);
        Assert.NotNull(budgeted.PredictedCosine);
        var predicted = budgeted.PredictedCosine!.Value;
        Assert.True(predicted < 1.0, $"predicted {predicted}");

        // Each target is reached, and a higher one keeps at least as much (the same greedy path, stopped later).
        var targets = new[] { predicted - 0.5 * (1 - predicted), predicted, predicted + 0.5 * (1 - predicted) };
        var results = targets.Select(t => Compress(t)).ToArray();
        for (var i = 0; i < targets.Length; i++)
            Assert.True(results[i].PredictedCosine >= targets[i] - 1e-12, $"predicted {results[i].PredictedCosine} below the target {targets[i]}");
        Assert.True(results[0].ParametersAfter <= results[1].ParametersAfter && results[1].ParametersAfter <= results[2].ParametersAfter,
            string.Join(" ", results.Select(r => r.ParametersAfter)));
        Assert.True(results[2].ParametersAfter > results[0].ParametersAfter, "a target closer to 1 keeps more");

        // With a fraction too, the fraction caps it.
        var capped = Compress(0.999999, 0.4);
        Assert.True(capped.ParametersAfter <= 0.4 * capped.ParametersBefore);

        // Other allocations predict nothing.
        var uniform = ModelCompression.Compress(path, data, new ModelCompressionOptions { Allocation = RankAllocation.Uniform, Method = CompressionMethod.DataAware });
        Assert.Null(uniform.PredictedCosine);
    }

    [Fact]
    public void TargetCosine_IsRefused_OutOfRange_OrWithoutSensitivityProbes()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        var data = Text();

        var range = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ModelCompression.Compress(path, data, new ModelCompressionOptions { TargetCosine = 1.0 }));
        Assert.Contains("Expected TargetCosine in (0, 1), but it is 1.", range.Message);
        var uniform = Assert.Throws<ArgumentException>(() =>
            ModelCompression.Compress(path, data, new ModelCompressionOptions { TargetCosine = 0.9, Allocation = RankAllocation.Uniform }));
        Assert.Contains("needs Allocation = Sensitivity and calibration data, but the allocation is Uniform.", uniform.Message);
        var blind = Assert.Throws<ArgumentException>(() =>
            ModelCompression.Compress(path, null, new ModelCompressionOptions { TargetCosine = 0.9, Method = CompressionMethod.Svd }));
        Assert.Contains("there is no calibration data", blind.Message);
    }

    [Theory]
    [InlineData(new[] { "--cosine", "1.5" }, "Expected --cosine in (0, 1), but it is 1.5.")]
    [InlineData(new[] { "--cosine", "0.9", "--allocation", "uniform" }, "it needs --allocation sensitivity, not uniform.")]
    public async Task CompressModelCommand_RefusesABadCosineInOneLine(string[] extra, string message)
    {
        var model = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        var calibration = Scratch("calibration.txt");
        File.WriteAllLines(calibration, OnnxModelTests.Sentences);
        var vocabulary = OnnxGraphs.SaveVocabulary(Scratch(""));
        var output = Scratch("small.onnx");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await App.RunAsync(["compress-model", model, "-c", calibration, "--vocab", vocabulary, .. extra, "-o", output],
            Terminal.Captured(stdout, stderr), false, CancellationToken.None);

        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("lowrank:"));
        Assert.Contains(message, line);
        Assert.False(File.Exists(output));
    }
}
