using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Google.Protobuf;
using LowRank.Cli;
using LowRank.Onnx;
using LowRank.Tests;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using Xunit;

namespace LowRank.Unit;

/// <summary>LowRank.Onnx on small graphs built by hand: the rewrite is exact at full rank through ONNX Runtime, the
/// calibration moments are the direct ones, compressed models run, and every bad input fails in one clear line.</summary>
public class OnnxModelTests : ScratchDirectory
{
    internal static readonly string[] Sentences =
    [
        "the cat sat on the mat", "a dog ran fast", "the red ball", "the cat ran", "a red cat sat on a dog",
        "the dog sat", "fast ball ran on the mat", "a cat", "the mat", "red red red ball on the cat",
    ];

    private string Vocabulary() => OnnxGraphs.SaveVocabulary(Scratch(""));

    private string Images(int count, int width = 72, int seed = 9)
    {
        var path = Scratch($"images-{count}-{width}.npy");
        var random = new Random(seed);
        Npy.WriteMatrix(path, Matrix<double>.Build.Dense(count, width, (_, _) => random.NextDouble()));
        return path;
    }

    /// <summary>Runs a model on a batch and returns its first output, flattened.</summary>
    internal static float[] Outputs(byte[] model, IReadOnlyCollection<NamedOnnxValue> feeds)
    {
        using var session = new InferenceSession(model);
        using var results = session.Run(feeds);
        return results.First().AsTensor<float>().ToArray();
    }

    internal static List<NamedOnnxValue> TextFeeds()
    {
        var ids = new DenseTensor<long>(new long[] { 2, 5, 6, 7, 8, 5, 9, 3, 2, 13, 10, 3, 0, 0, 0, 0 }, [2, 8]);
        var mask = new DenseTensor<long>(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 }, [2, 8]);
        return
        [
            NamedOnnxValue.CreateFromTensor("input_ids", ids),
            NamedOnnxValue.CreateFromTensor("attention_mask", mask),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>([2, 8])),
        ];
    }

    private static List<NamedOnnxValue> ImageFeeds()
    {
        var random = new Random(3);
        var image = new DenseTensor<float>(Enumerable.Range(0, 3 * 72).Select(_ => (float)random.NextDouble()).ToArray(), [3, 2, 6, 6]);
        return [NamedOnnxValue.CreateFromTensor("image", image)];
    }

    /// <summary>Exact full-rank factors of every layer: Left = U S, Right = V^T of the weight's full SVD.</summary>
    private static Dictionary<string, OnnxGraph.Factors> FullRank(ModelProto model, IEnumerable<ModelLayer> layers) =>
        layers.ToDictionary(l => l.Name, l =>
        {
            var a = OnnxGraph.Weight(model, l);
            var best = Svd.BestRankK(a, Math.Min(a.RowCount, a.ColumnCount));
            return new OnnxGraph.Factors(best.Left, best.Right);
        });

    internal static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(Math.Abs);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * scale, $"output {i}: {expected[i]:R} vs {actual[i]:R}");
    }

    [Fact]
    public void Layers_FindsEveryKindWithItsShape()
    {
        var text = OnnxGraph.Layers(OnnxGraphs.Text());
        var image = OnnxGraph.Layers(OnnxGraphs.Image());

        Assert.Equal(["embed (Gather, 16 x 4)", "up (MatMul, 4 x 12)", "down (MatMul, 12 x 4)"], text.Select(l => l.ToString()));
        Assert.Equal(["conv (Conv, 18 x 4)", "fc (Gemm, 144 x 10)"], image.Select(l => l.ToString()));
    }

    [Fact]
    public void Rewrite_AtFullRank_GivesTheOriginalOutputsThroughOnnxRuntime_ForMatMulAndGather()
    {
        var model = OnnxGraphs.Text();
        var layers = OnnxGraph.Layers(model);
        var rewritten = OnnxGraph.Rewrite(model, layers, FullRank(model, layers));

        Assert.Equal(layers.Count * 2, rewritten.Graph.Node.Count(n => n.Name.EndsWith("_left") || n.Name.EndsWith("_right")));
        AssertClose(Outputs(model.ToByteArray(), TextFeeds()), Outputs(rewritten.ToByteArray(), TextFeeds()));
    }

    [Fact]
    public void Rewrite_AtFullRank_GivesTheOriginalOutputsThroughOnnxRuntime_ForConvAndGemm()
    {
        var model = OnnxGraphs.Image();
        var layers = OnnxGraph.Layers(model);
        var rewritten = OnnxGraph.Rewrite(model, layers, FullRank(model, layers));

        Assert.DoesNotContain(rewritten.Graph.Initializer, t => t.Name is "conv_w" or "fc_w");
        AssertClose(Outputs(model.ToByteArray(), ImageFeeds()), Outputs(rewritten.ToByteArray(), ImageFeeds()));
    }

    [Fact]
    public void Rewrite_InThePivotedForm_GivesTheFactorsOutputsThroughOnnxRuntime()
    {
        var model = OnnxGraphs.Text();
        var layers = OnnxGraph.Layers(model).Where(l => l.Kind == LayerKind.MatMul).ToList();
        // Rank 2 of 4: the pivoted form must reproduce x Left Right, which differs from the original x A.
        var product = layers.ToDictionary(l => l.Name, l =>
        {
            var best = Svd.BestRankK(OnnxGraph.Weight(model, l), 2);
            return new OnnxGraph.Factors(best.Left, best.Right);
        });
        var pivoted = product.ToDictionary(p => p.Key, p => p.Value with { Pivoted = PivotedFactors.OfFactors(p.Value.Left, p.Value.Right) });

        var rewritten = OnnxGraph.Rewrite(model, layers, pivoted);

        Assert.Equal(layers.Count, rewritten.Graph.Node.Count(n => n.OpType == "Concat"));
        Assert.All(layers, l => Assert.DoesNotContain(rewritten.Graph.Initializer, t => t.Name == l.WeightName));
        Assert.Equal(layers.Count * 2 * (4 + 12 - 2), rewritten.Graph.Initializer.Where(t => t.Name.Contains("_lowrank_") && t.DataType == 1)
            .Sum(t => t.FloatData.Count + t.RawData.Length / 4));
        AssertClose(Outputs(OnnxGraph.Rewrite(model, layers, product).ToByteArray(), TextFeeds()),
            Outputs(rewritten.ToByteArray(), TextFeeds()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rewrite_AbsorbingThePivotOrderIntoTheNextMatMul_GivesTheSameOutputsWithoutItsGather(bool nextFactored)
    {
        var model = OnnxGraphs.Text();
        var layers = OnnxGraph.Layers(model);
        var matMuls = layers.Where(l => l.Kind == LayerKind.MatMul).Take(nextFactored ? 2 : 1);
        var factors = matMuls.ToDictionary(l => l.Name, l =>
        {
            var best = Svd.BestRankK(OnnxGraph.Weight(model, l), 3);
            return new OnnxGraph.Factors(best.Left, best.Right, PivotedFactors.OfFactors(best.Left, best.Right));
        });

        var ordered = OnnxGraph.Rewrite(model, layers, factors);
        var absorbed = OnnxGraph.Rewrite(model, layers, factors, absorbOrder: true);

        // up -> Add bias -> SiLU (a diamond) -> down: up's Gather goes when down is factored (down's output is the graph's, so its
        // own Gather stays); a dense down keeps its weight as it was, and up its Gather.
        Assert.Equal(ordered.Graph.Node.Count(n => n.OpType == "Gather") - (nextFactored ? 1 : 0),
            absorbed.Graph.Node.Count(n => n.OpType == "Gather"));
        Assert.Equal(nextFactored, !absorbed.Graph.Initializer.Any(t => t.Name == "b1"));
        Assert.Equal(nextFactored, !absorbed.Graph.Initializer.Any(t => t.Name == "w2"));
        AssertClose(Outputs(ordered.ToByteArray(), TextFeeds()), Outputs(absorbed.ToByteArray(), TextFeeds()));
    }

    [Fact]
    public void Compress_InThePivotedForm_BuysAHigherRankForTheSameBudget_WhereTheOpsetAllowsIt()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        var data = CalibrationData.Text(Sentences, Vocabulary(), 8);
        CompressedModel Run(bool pivoted) => ModelCompression.Compress(path, data, new ModelCompressionOptions
        {
            ParameterFraction = 0.85, Method = CompressionMethod.DataAware, Allocation = RankAllocation.Uniform,
            PivotedFactors = pivoted,
        });

        var pivotedResult = Run(true);
        var productResult = Run(false);

        // 4 x 12 at 85 %: k (n + d) <= 40.8 gives k = 2, k (n + d - k) <= 40.8 gives k = 3.
        Assert.All(pivotedResult.Layers.Where(l => l.Layer.Kind == LayerKind.MatMul), l =>
        {
            Assert.True(l.Pivoted);
            Assert.Equal(3, l.Rank);
            Assert.Equal(3L * (4 + 12 - 3), l.Parameters);
        });
        Assert.All(productResult.Layers.Where(l => l.Layer.Kind == LayerKind.MatMul), l => Assert.Equal((2, false), (l.Rank, l.Pivoted)));
        Assert.True(pivotedResult.ParametersAfter <= 0.85 * pivotedResult.ParametersBefore);
        var heldOut = CalibrationData.Text(Sentences.Reverse().ToArray(), Vocabulary(), 8);
        Assert.True(ModelFidelity.Evaluate(OnnxSource.File(path), OnnxSource.Bytes(pivotedResult.ToBytes()), heldOut).MeanCosine
            >= ModelFidelity.Evaluate(OnnxSource.File(path), OnnxSource.Bytes(productResult.ToBytes()), heldOut).MeanCosine - 1e-6);

        // Before opset 11, Concat and Gather take no negative axis: such models keep Left Right.
        Assert.False(OnnxGraph.AllowsPivotedForm(OnnxGraphs.Legacy(OnnxGraphs.Image())));
        Assert.True(OnnxGraph.AllowsPivotedForm(OnnxGraphs.Text()));
    }

    [Fact]
    public void Calibration_MomentsOfAMatMulInput_AreTheDirectOnesWithPaddingExcluded()
    {
        var model = OnnxGraphs.Text();
        var layers = OnnxGraph.Layers(model);
        var up = layers.Single(l => l.Name == "up");
        var data = CalibrationData.Text(Sentences, Vocabulary(), batchSize: 3);
        var calibrated = new ModelCompression.Calibrated(model, [up], []);
        calibrated.Run(data, null, CancellationToken.None);

        // Directly: the input of "up" at a real token is that token's table row.
        var table = OnnxGraph.Weight(model, layers.Single(l => l.Name == "embed"));
        var tokenizer = Microsoft.ML.Tokenizers.BertTokenizer.Create(Scratch("vocab.txt"));
        var rows = Sentences.SelectMany(s => tokenizer.EncodeToIds(s, addSpecialTokens: true)).Select(t => table.Row(t)).ToArray();
        var x = Matrix<double>.Build.DenseOfRowVectors(rows);
        var expected = x.TransposeThisAndMultiply(x) / rows.Length;

        var actual = calibrated.Covariance(up);
        Assert.True((actual - expected).FrobeniusNorm() <= 1e-6 * expected.FrobeniusNorm(),
            $"moment differs by {(actual - expected).FrobeniusNorm():G3} of {expected.FrobeniusNorm():G3}");
    }

    [Fact]
    public void Calibration_MomentsOfAConvInput_AreThoseOfItsPatches()
    {
        var model = OnnxGraphs.Image();
        var conv = OnnxGraph.Layers(model).Single(l => l.Kind == LayerKind.Conv);
        var path = Images(5);
        var calibrated = new ModelCompression.Calibrated(model, [conv], []);
        calibrated.Run(CalibrationData.Npy(path, batchSize: 2), null, CancellationToken.None);

        // Directly: every 3 x 3 patch of every channel, zero outside the 6 x 6 image (pads 1), (channel, row, column) order.
        var images = Npy.ReadMatrix(path);
        var patches = new List<double[]>();
        for (var e = 0; e < 5; e++)
            for (var y = 0; y < 6; y++)
                for (var x = 0; x < 6; x++)
                {
                    var patch = new double[18];
                    for (var c = 0; c < 2; c++)
                        for (var i = 0; i < 3; i++)
                            for (var j = 0; j < 3; j++)
                            {
                                int sy = y - 1 + i, sx = x - 1 + j;
                                if (sy is >= 0 and < 6 && sx is >= 0 and < 6)
                                    patch[(c * 3 + i) * 3 + j] = (float)images[e, (c * 6 + sy) * 6 + sx];
                            }
                    patches.Add(patch);
                }
        var p = Matrix<double>.Build.DenseOfRowArrays(patches);
        var expected = p.TransposeThisAndMultiply(p) / patches.Count;

        var actual = calibrated.Covariance(conv);
        Assert.True((actual - expected).FrobeniusNorm() <= 1e-6 * expected.FrobeniusNorm());
    }

    [Fact]
    public void Calibration_OfAModelWithABatchOfOne_FeedsOneImageAtATime_AndGetsTheSameMoments()
    {
        var path = Images(5);
        var moments = new[] { false, true }.Select(batchOfOne =>
        {
            var model = OnnxGraphs.Image(batchOfOne);
            var layers = OnnxGraph.Layers(model);
            var calibrated = new ModelCompression.Calibrated(model, layers, []);
            calibrated.Run(CalibrationData.Npy(path, batchSize: 4), null, CancellationToken.None);
            return layers.Select(calibrated.Covariance).ToArray();
        }).ToArray();

        for (var i = 0; i < moments[0].Length; i++)
            Assert.True((moments[0][i] - moments[1][i]).FrobeniusNorm() <= 1e-9 * moments[0][i].FrobeniusNorm());
    }

    [Fact]
    public void Calibration_CountsTokensOfRealPositionsOnly()
    {
        var model = OnnxGraphs.Text();
        var embed = OnnxGraph.Layers(model).Single(l => l.Kind == LayerKind.Gather);
        var calibrated = new ModelCompression.Calibrated(model, [], [embed]);
        calibrated.Run(CalibrationData.Text(Sentences, Vocabulary(), batchSize: 4), null, CancellationToken.None);

        var counts = calibrated.TokenCounts(embed);
        Assert.Equal(0, counts[0]); // [PAD] fills the short sentences of each batch, and is never counted
        Assert.Equal(Sentences.Length, counts[2]); // one [CLS] per sentence
        Assert.Equal(Sentences.Sum(s => s.Split(' ').Count(w => w == "the")), counts[5]);
    }

    [Theory]
    [InlineData(CompressionMethod.Svd, RankAllocation.Sensitivity)]
    [InlineData(CompressionMethod.DataAware, RankAllocation.Sensitivity)]
    [InlineData(CompressionMethod.Sequential, RankAllocation.Sensitivity)]
    [InlineData(CompressionMethod.DataAware, RankAllocation.Spectrum)]
    public async Task Compress_KeepsTheBudget_AndTheModelRunsInOnnxRuntime(CompressionMethod method, RankAllocation allocation)
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Image(), Scratch(""), "image.onnx");
        var options = new ModelCompressionOptions { ParameterFraction = 0.5, Method = method, Allocation = allocation };
        var result = await ModelCompression.CompressAsync(path, CalibrationData.Npy(Images(20)), options);
        var output = Scratch("small.onnx");
        result.Save(output);

        Assert.True(result.ParametersAfter <= 0.5 * result.ParametersBefore, $"{result.ParametersAfter} of {result.ParametersBefore}");
        Assert.Contains(result.Layers, l => !l.KeepsDense);
        var outputs = Outputs(File.ReadAllBytes(output), ImageFeeds());
        Assert.All(outputs, x => Assert.True(float.IsFinite(x)));
        var fidelity = ModelFidelity.Evaluate(OnnxSource.File(path), OnnxSource.File(output), CalibrationData.Npy(Images(12, seed: 10)));
        Assert.InRange(fidelity.MeanCosine, 0.5, 1.0);
        Assert.Equal(12, fidelity.Cosines.Count);
    }

    [Fact]
    public void Compress_AnIr3Model_KeepsItsInitializersListedAsInputs_AndRuns()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Legacy(OnnxGraphs.Image()), Scratch(""), "legacy.onnx");
        var result = ModelCompression.Compress(path, CalibrationData.Npy(Images(12)),
            new ModelCompressionOptions { ParameterFraction = 0.4, Method = CompressionMethod.Sequential, Allocation = RankAllocation.Uniform });

        var model = global::Onnx.ModelProto.Parser.ParseFrom(result.ToBytes());
        Assert.All(model.Graph.Initializer, t => Assert.Contains(model.Graph.Input, i => i.Name == t.Name));
        var factored = result.Layers.Where(l => !l.KeepsDense).Select(l => l.Layer.WeightName).ToArray();
        Assert.NotEmpty(factored);
        Assert.DoesNotContain(model.Graph.Input, i => factored.Contains(i.Name));
        Assert.Equal(["image"], model.Graph.Input.Select(i => i.Name).Except(model.Graph.Initializer.Select(t => t.Name)));
        Assert.All(Outputs(result.ToBytes(), ImageFeeds()), x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void Compress_SequentialIsNoWorseThanDataAware_OnTheCalibrationInputs()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Image(), Scratch(""), "image.onnx");
        var data = CalibrationData.Npy(Images(30));
        double Cosine(CompressionMethod method)
        {
            var result = ModelCompression.Compress(path, data, new ModelCompressionOptions { ParameterFraction = 0.3, Method = method });
            return ModelFidelity.Evaluate(OnnxSource.File(path), OnnxSource.Bytes(result.ToBytes()), data).MeanCosine;
        }

        Assert.True(Cosine(CompressionMethod.Sequential) >= Cosine(CompressionMethod.DataAware) - 1e-6);
    }

    [Fact]
    public void Compress_WithANamePattern_LeavesTheOtherLayersAsTheyWere()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        var result = ModelCompression.Compress(path, null,
            new ModelCompressionOptions { Method = CompressionMethod.Svd, ParameterFraction = 0.5, NamePattern = "^up$" });

        Assert.Equal("up", Assert.Single(result.Layers).Layer.Name);
        var model = global::Onnx.ModelProto.Parser.ParseFrom(result.ToBytes());
        Assert.Contains(model.Graph.Initializer, t => t.Name == "w2");
        Assert.DoesNotContain(model.Graph.Initializer, t => t.Name == "w1");
    }

    [Fact]
    public void Text_CutsLongExamplesAndCountsThem_AndMapsUnknownWordsToUnk()
    {
        var data = CalibrationData.Text(["the cat sat on the mat " + string.Join(" ", Enumerable.Repeat("dog", 40)), "zebra quokka"],
            Vocabulary(), maxTokens: 16);

        Assert.Equal(1, data.Truncated);
        Assert.Equal(1, data.Slice(0, 1).Truncated);
        Assert.Equal(0, data.Slice(1, 1).Truncated);
        using var session = new InferenceSession(OnnxGraphs.Text().ToByteArray());
        var batch = data.Batches(session).Single();
        var ids = batch.Inputs.Single(i => i.Name == "input_ids").AsTensor<long>();
        Assert.Equal(16, ids.Dimensions[1]);
        Assert.Equal(3, ids[0, 15]); // [SEP] closes the cut example
        Assert.Equal([2L, 1, 1, 3], Enumerable.Range(0, 4).Select(t => ids[1, t])); // [CLS] [UNK] [UNK] [SEP]
    }

    [Fact]
    public async Task ReadmeExample_CompressesAndMeasures()
    {
        var data = Scratch("data");
        Directory.CreateDirectory(Path.Combine(data, "models"));
        Directory.CreateDirectory(Path.Combine(data, "text"));
        OnnxGraphs.Save(OnnxGraphs.Text(), Path.Combine(data, "models"), "all-MiniLM-L6-v2.onnx");
        OnnxGraphs.SaveVocabulary(Path.Combine(data, "models"), "all-MiniLM-L6-v2.vocab.txt");
        File.WriteAllLines(Path.Combine(data, "text/calibration.txt"), Sentences);
        File.WriteAllLines(Path.Combine(data, "text/heldout.txt"), Sentences.Reverse());
        // README: begin
        var vocabulary = Path.Combine(data, "models/all-MiniLM-L6-v2.vocab.txt");
        var model = Path.Combine(data, "models/all-MiniLM-L6-v2.onnx");
        var calibration = CalibrationData.Text(File.ReadLines(Path.Combine(data, "text/calibration.txt")), vocabulary);
        var options = new ModelCompressionOptions { ParameterFraction = 0.75, Kinds = [LayerKind.MatMul] };
        var progress = new Progress<ModelCompressionProgress>(p => Console.Error.WriteLine($"{p.Stage} {p.Done}/{p.Total}"));
        var compressed = await ModelCompression.CompressAsync(model, calibration, options, progress);
        compressed.Save(Path.Combine(data, "minilm-75.onnx"));

        var heldOut = CalibrationData.Text(File.ReadLines(Path.Combine(data, "text/heldout.txt")), vocabulary);
        var fidelity = ModelFidelity.Evaluate(OnnxSource.File(model), OnnxSource.File(Path.Combine(data, "minilm-75.onnx")), heldOut);
        Console.WriteLine($"{compressed.ParametersAfter} of {compressed.ParametersBefore} weights, mean cosine {fidelity.MeanCosine:F3}");
        // README: end

        Assert.Equal(96, compressed.ParametersBefore);
        Assert.True(compressed.ParametersAfter <= 72, $"{compressed.ParametersAfter} numbers kept");
        Assert.InRange(fidelity.MeanCosine, 0.0, 1.0 + 1e-6);
        Assert.True(File.Exists(Path.Combine(data, "minilm-75.onnx")));
    }

    // Bad inputs: one clear exception each, and nothing half-written.

    [Fact]
    public void Compress_Throws_WhenTheFileIsNotOnnx()
    {
        var path = Scratch("not.onnx");
        File.WriteAllText(path, "this is not a model at all, just text\n");

        var error = Assert.Throws<InvalidDataException>(() => ModelCompression.Layers(path));
        Assert.Contains("is not an ONNX model", error.Message);
    }

    [Fact]
    public void Compress_Throws_WhenTheModelIsTruncated()
    {
        var bytes = OnnxGraphs.Image().ToByteArray();
        var path = Scratch("truncated.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<InvalidDataException>(() => ModelCompression.Layers(path));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Compress_Throws_WhenNoLayerCanBeCompressed()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.NothingToCompress(), Scratch(""), "relu.onnx");

        var error = Assert.Throws<ArgumentException>(() =>
            ModelCompression.Compress(path, null, new ModelCompressionOptions { Method = CompressionMethod.Svd }));
        Assert.Contains("has no layer to compress", error.Message);
    }

    [Fact]
    public void Compress_Throws_WhenImagesHaveAnotherSize()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Image(), Scratch(""), "image.onnx");

        var error = Assert.Throws<ArgumentException>(() =>
            ModelCompression.Compress(path, CalibrationData.Npy(Images(4, width: 50)), new ModelCompressionOptions()));
        Assert.Contains("Expected rows of 2 x 6 x 6 numbers", error.Message);
        Assert.Contains("rows of 50", error.Message);
    }

    [Fact]
    public void Compress_Throws_WhenTextMeetsAModelWithoutInputIds()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Image(), Scratch(""), "image.onnx");

        var error = Assert.Throws<ArgumentException>(() =>
            ModelCompression.Compress(path, CalibrationData.Text(Sentences, Vocabulary()), new ModelCompressionOptions()));
        Assert.Contains("input named input_ids", error.Message);
        Assert.Contains("image", error.Message);
    }

    [Fact]
    public void Compress_Throws_WhenTheOptionsAreOutOfRange()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Image(), Scratch(""), "image.onnx");

        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ModelCompression.Compress(path, null, new ModelCompressionOptions { Method = CompressionMethod.Svd, ParameterFraction = 1.5 }));
        Assert.Contains("ParameterFraction in (0, 1], but it is 1.5", error.Message);
        Assert.Throws<ArgumentNullException>(() => ModelCompression.Compress(path, null, new ModelCompressionOptions()));
        Assert.Contains("Expected EmbeddingExactRows >= 0, but it is -1", Assert.Throws<ArgumentOutOfRangeException>(() =>
            ModelCompression.Compress(path, null, new ModelCompressionOptions { Method = CompressionMethod.Svd, EmbeddingRank = 2, EmbeddingExactRows = -1 })).Message);
        Assert.Contains("but EmbeddingRank is 0", Assert.Throws<ArgumentException>(() =>
            ModelCompression.Compress(path, null, new ModelCompressionOptions { Method = CompressionMethod.Svd, EmbeddingExactRows = 10 })).Message);
        Assert.Contains("needs calibration data", Assert.Throws<ArgumentNullException>(() =>
            ModelCompression.Compress(path, null, new ModelCompressionOptions
            {
                Method = CompressionMethod.Svd, EmbeddingRank = 2, EmbeddingFrequencyWeights = false, EmbeddingExactRows = 3,
            })).Message);
    }

    [Fact]
    public void Save_Throws_WhenTheFolderIsMissing_AndLeavesNothing()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Image(), Scratch(""), "image.onnx");
        var result = ModelCompression.Compress(path, null, new ModelCompressionOptions { Method = CompressionMethod.Svd });
        var output = Path.Combine(Scratch("missing"), "small.onnx");

        var error = Assert.Throws<DirectoryNotFoundException>(() => result.Save(output));
        Assert.Contains("does not exist", error.Message);
        Assert.False(Directory.Exists(Scratch("missing")));
    }

    [Fact]
    public void Save_Throws_WhenTheFileCannotBeWritten_AndKeepsTheOldFile()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Image(), Scratch(""), "image.onnx");
        var result = ModelCompression.Compress(path, null, new ModelCompressionOptions { Method = CompressionMethod.Svd });
        var folder = Scratch("taken");
        Directory.CreateDirectory(Path.Combine(folder, "small.onnx")); // a folder where the file should go

        Assert.Throws<IOException>(() => result.Save(Path.Combine(folder, "small.onnx")));
        Assert.Equal(["small.onnx"], Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task CompressModelCommand_WritesTheModelAndReportsFidelity()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        var calibration = Scratch("calibration.txt");
        File.WriteAllLines(calibration, Sentences);
        var output = Scratch("small.onnx");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await App.RunAsync(["compress-model", path, "-c", calibration, "--vocab", Vocabulary(), "-p", "0.6", "--evaluate", calibration,
            "--embedding-rank", "2", "-o", output], Terminal.Captured(stdout, stderr), false, CancellationToken.None);

        Assert.True(code == 0, stderr.ToString() + stdout);
        Assert.True(File.Exists(output));
        Assert.Contains("cosine to original", stdout.ToString());
        Assert.Contains("embed", stdout.ToString());
        Assert.Contains("the vocabulary tables are not in it", stdout.ToString()); // the prediction covers the budget layers
    }

    [Theory]
    [InlineData("not-onnx", "is not an ONNX model")]
    [InlineData("text-without-vocab", "need the model's vocabulary")]
    [InlineData("unwritable", "--out")]
    [InlineData("ridge", "Expected a finite --ridge > 0, but it is 0.")]
    [InlineData("fraction", "Expected --parameters in (0, 1], but it is 1.5.")]
    [InlineData("exact-rows", "EmbeddingExactRows = 5 keeps rows of a factored table, but EmbeddingRank is 0")]
    [InlineData("tensor-folder", "has none for attention_mask.npy, token_type_ids.npy")]
    [InlineData("missing-data", "scripts/fetch-data.sh writes it: run that first")]
    public async Task CompressModelCommand_FailsInOneLine(string problem, string message)
    {
        var model = problem == "not-onnx" ? Scratch("bad.onnx") : OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        if (problem == "not-onnx")
            File.WriteAllText(model, "garbage");
        var calibration = Scratch("calibration.txt");
        File.WriteAllLines(calibration, Sentences);
        if (problem == "tensor-folder")
        {
            calibration = Directory.CreateDirectory(Scratch("tensors")).FullName;
            NpyFiles.Int64(Path.Combine(calibration, "input_ids.npy"), [2, 3], new long[6]);
        }
        if (problem == "missing-data")
            calibration = "data/text/no-such-calibration.txt"; // under data/, where scripts/fetch-data.sh writes
        var output = problem == "unwritable" ? Path.Combine(Scratch("missing"), "small.onnx") : Scratch("small.onnx");
        string[] vocabulary = problem == "text-without-vocab" ? [] : ["--vocab", Vocabulary()];
        string[] extra = problem switch
        {
            "ridge" => ["--ridge", "0"], "fraction" => ["-p", "1.5"], "exact-rows" => ["--embedding-exact-rows", "5"], _ => [],
        };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await App.RunAsync(["compress-model", model, "-c", calibration, .. vocabulary, .. extra, "-o", output],
            Terminal.Captured(stdout, stderr), false, CancellationToken.None);

        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("lowrank:"));
        Assert.Contains(message, line);
        Assert.False(File.Exists(output));
    }
}
