using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Google.Protobuf;
using LowRank.Onnx;
using LowRank.Tests;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using Xunit;
using static LowRank.Unit.OnnxModelTests;

namespace LowRank.Unit;

/// <summary>Vocabulary tables (Gather) in LowRank.Onnx: frequency-weighted factors keep the tokens seen, exact rows keep
/// the most frequent tokens exactly, and a table feeding a layer normalisation spends no rank on its mean.</summary>
public sealed class OnnxEmbeddingTests : ScratchDirectory
{
    private string Vocabulary() => OnnxGraphs.SaveVocabulary(Scratch(""));

    [Fact]
    public void Compress_AnEmbeddingTableByFrequency_KeepsTheTokensSeenBest()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        var data = CalibrationData.Text(Sentences, Vocabulary());
        var result = ModelCompression.Compress(path, data,
            new ModelCompressionOptions { Method = CompressionMethod.Svd, Kinds = [LayerKind.Gemm], EmbeddingRank = 2 });

        var table = result.Layers.Single();
        Assert.Equal(LayerKind.Gather, table.Layer.Kind);
        Assert.Equal(2 * (16 + 4), table.Parameters);
        using var session = new InferenceSession(result.ToBytes());
        using var outputs = session.Run(TextFeeds());
        Assert.All(outputs.First().AsTensor<float>().ToArray(), x => Assert.True(float.IsFinite(x)));
    }

    /// <summary>Exact rows: the most frequent calibration tokens' rows come back exactly, the others from rank-1 factors
    /// whose rows for the kept tokens are zero, the model computes Gather(Left) Right + the exact rows (its outputs equal
    /// the original model's with the table replaced by that reconstruction), and the count is k (n + d) + f d.</summary>
    [Fact]
    public void Compress_AnEmbeddingTableWithExactRows_KeepsTheMostFrequentTokensExactly()
    {
        var path = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        var data = CalibrationData.Text(Sentences, Vocabulary());
        var result = ModelCompression.Compress(path, data, new ModelCompressionOptions
        {
            Method = CompressionMethod.Svd, Kinds = [LayerKind.Gemm], EmbeddingRank = 1, EmbeddingExactRows = 4,
        });

        var n = OnnxGraphs.VocabularySize;
        Assert.Equal(1 * (n + 4) + 4 * 4, Assert.Single(result.Layers).Parameters);
        var model = global::Onnx.ModelProto.Parser.ParseFrom(result.ToBytes());
        float[] Floats(string name) => model.Graph.Initializer.Single(t => t.Name == name).FloatData.Count > 0
            ? model.Graph.Initializer.Single(t => t.Name == name).FloatData.ToArray()
            : MemoryMarshal.Cast<byte, float>(model.Graph.Initializer.Single(t => t.Name == name).RawData.Span).ToArray();
        var left = Floats("table_lowrank_left");
        var right = Floats("table_lowrank_right");
        var rows = Floats("table_lowrank_exact_rows");
        var slots = model.Graph.Initializer.Single(t => t.Name == "table_lowrank_exact_slots").Int64Data.ToArray();
        var original = OnnxGraphs.Text().Graph.Initializer.Single(t => t.Name == "table");
        var table = original.FloatData.Count > 0 ? original.FloatData.ToArray() : MemoryMarshal.Cast<byte, float>(original.RawData.Span).ToArray();

        // The kept tokens are the 4 most frequent among the calibration batches' real positions.
        var counts = new double[n];
        using (var session = new InferenceSession(OnnxGraphs.Text().ToByteArray()))
            foreach (var batch in data.Batches(session))
            {
                var ids = batch.Inputs.Single(i => i.Name == "input_ids").AsTensor<long>().ToArray();
                for (var p = 0; p < ids.Length; p++)
                    if (batch.Mask is null || batch.Mask[p] == 1)
                        counts[ids[p]]++;
            }
        var expected = Enumerable.Range(0, n).OrderByDescending(t => counts[t]).ThenBy(t => t).Take(4).Order().ToArray();
        Assert.Equal(expected, Enumerable.Range(0, n).Where(t => slots[t] < 4).ToArray());

        var reconstructed = new float[n * 4];
        for (var t = 0; t < n; t++)
            for (var j = 0; j < 4; j++)
            {
                reconstructed[t * 4 + j] = left[t] * right[j] + rows[slots[t] * 4 + j];
                if (slots[t] < 4)
                {
                    Assert.Equal(0f, left[t]);
                    Assert.Equal(table[t * 4 + j], reconstructed[t * 4 + j]);
                }
            }
        Assert.All(rows[(4 * 4)..], x => Assert.Equal(0f, x)); // the zero row of the factored tokens
        var replaced = OnnxGraphs.Text();
        var tensor = replaced.Graph.Initializer.Single(t => t.Name == "table");
        tensor.RawData = Google.Protobuf.ByteString.Empty;
        tensor.FloatData.Clear();
        tensor.FloatData.AddRange(reconstructed);
        AssertClose(Outputs(replaced.ToByteArray(), TextFeeds()), Outputs(result.ToBytes(), TextFeeds()));
    }

    [Fact]
    public void FeedsLayerNorm_FindsAMeanSubtractionThroughAdds_AndNothingElse()
    {
        Assert.True(OnnxGraph.FeedsLayerNorm(OnnxGraphs.CentredEmbedding(), "embedded"));
        Assert.False(OnnxGraph.FeedsLayerNorm(OnnxGraphs.Text(), "embedded")); // multiplied by the mask
        Assert.False(OnnxGraph.FeedsLayerNorm(OnnxGraphs.Text(), "h")); // into a bias and a SiLU
        Assert.False(OnnxGraph.FeedsLayerNorm(OnnxGraphs.Text(), "last_hidden_state")); // a model output
    }

    [Fact]
    public void Compress_ATableBeforeALayerNorm_SpendsNoRankOnItsMean()
    {
        // The centred table has rank <= 3 of 4, so rank 3 reproduces the mean-subtracted output exactly, which it could
        // not if the factors had to carry the table's large mean direction too.
        var path = OnnxGraphs.Save(OnnxGraphs.CentredEmbedding(), Scratch(""), "centred.onnx");
        var result = ModelCompression.Compress(path, null,
            new ModelCompressionOptions { Method = CompressionMethod.Svd, EmbeddingRank = 3, EmbeddingFrequencyWeights = false });

        var ids = new DenseTensor<long>(Enumerable.Range(0, 16).Select(i => (long)i).ToArray(), [2, 8]);
        List<NamedOnnxValue> feeds = [NamedOnnxValue.CreateFromTensor("input_ids", ids)];
        Assert.Equal(3, Assert.Single(result.Layers).Rank);
        AssertClose(Outputs(OnnxGraphs.CentredEmbedding().ToByteArray(), feeds), Outputs(result.ToBytes(), feeds));
    }
}
