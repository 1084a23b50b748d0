using System;
using System.IO;
using System.Linq;
using System.Threading;
using LowRank.Onnx;
using LowRank.Tests;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>Calibration inputs as .npy tensors named by the model's inputs: the same examples give the same moments and
/// token counts as text and image matrices do, padding marked by attention_mask is excluded, and every mismatch between
/// the folder and the model fails in one line naming the file.</summary>
public sealed class OnnxTensorInputTests : ScratchDirectory
{
    private string Vocabulary() => OnnxGraphs.SaveVocabulary(Scratch(""));

    private string Folder(string name) => Directory.CreateDirectory(Scratch(name)).FullName;

    /// <summary>The sentences' token ids, padded to `length` with [PAD] (0), as input_ids, attention_mask and token_type_ids.
    /// </summary>
    private string TextTensors(int[][] ids, int length)
    {
        var folder = Folder("text");
        int[] shape = [ids.Length, length];
        long[] Each(Func<int[], int, long> value) =>
            ids.SelectMany(row => Enumerable.Range(0, length).Select(p => p < row.Length ? value(row, p) : 0L)).ToArray();
        NpyFiles.Int64(Path.Combine(folder, "input_ids.npy"), shape, Each((row, p) => row[p]));
        NpyFiles.Int64(Path.Combine(folder, "attention_mask.npy"), shape, Each((_, _) => 1));
        NpyFiles.Int64(Path.Combine(folder, "token_type_ids.npy"), shape, new long[ids.Length * length]);
        return folder;
    }

    private static (Matrix<double> Up, double[] Counts) Calibrate(CalibrationData data)
    {
        var model = OnnxGraphs.Text();
        var layers = OnnxGraph.Layers(model);
        var up = layers.Single(l => l.Name == "up");
        var embed = layers.Single(l => l.Kind == LayerKind.Gather);
        var calibrated = new ModelCompression.Calibrated(model, [up], [embed]);
        calibrated.Run(data, null, CancellationToken.None);
        return (calibrated.Covariance(up), calibrated.TokenCounts(embed).ToArray());
    }

    [Fact]
    public void Tensors_OfTokenIds_GiveTextsMomentsAndCounts_WithTheMasksPaddingExcluded()
    {
        var vocabulary = Vocabulary();
        var tokenizer = Microsoft.ML.Tokenizers.BertTokenizer.Create(vocabulary);
        var ids = OnnxModelTests.Sentences.Select(s => tokenizer.EncodeToIds(s, addSpecialTokens: true).ToArray()).ToArray();
        // Padded well past every batch's longest example: the text batches are padded less, and differently.
        var folder = TextTensors(ids, ids.Max(i => i.Length) + 3);

        var text = Calibrate(CalibrationData.Text(OnnxModelTests.Sentences, vocabulary, batchSize: 3));
        var tensors = Calibrate(CalibrationData.Tensors(folder, batchSize: 4));

        Assert.True((text.Up - tensors.Up).FrobeniusNorm() <= 1e-12 * text.Up.FrobeniusNorm(),
            $"moments differ by {(text.Up - tensors.Up).FrobeniusNorm():G3} of {text.Up.FrobeniusNorm():G3}");
        Assert.Equal(text.Counts, tensors.Counts);
        Assert.Equal(0, tensors.Counts[0]); // the padding is never counted

        // A slice reads its own examples only.
        var sliced = Calibrate(CalibrationData.Tensors(folder).Slice(2, 5));
        var expected = Calibrate(CalibrationData.Text(OnnxModelTests.Sentences[2..7], vocabulary));
        Assert.Equal(expected.Counts, sliced.Counts);
    }

    [Fact]
    public void Tensors_OfImages_GiveTheMomentsOfTheSameRowsAsAMatrix()
    {
        var random = new Random(4);
        var pixels = Enumerable.Range(0, 5 * 72).Select(_ => (float)random.NextDouble()).ToArray();
        var folder = Folder("images");
        NpyFiles.Float32(Path.Combine(folder, "image.npy"), [5, 2, 6, 6], pixels);
        var matrix = Scratch("images.npy");
        Npy.WriteMatrix(matrix, Matrix<double>.Build.Dense(5, 72, (i, j) => pixels[i * 72 + j]));

        var model = OnnxGraphs.Image();
        var layers = OnnxGraph.Layers(model);
        var moments = new[] { CalibrationData.Tensors(folder, batchSize: 2), CalibrationData.Npy(matrix, batchSize: 3) }.Select(data =>
        {
            var calibrated = new ModelCompression.Calibrated(model, layers, []);
            calibrated.Run(data, null, CancellationToken.None);
            return layers.Select(calibrated.Covariance).ToArray();
        }).ToArray();

        for (var i = 0; i < layers.Count; i++)
            Assert.True((moments[0][i] - moments[1][i]).FrobeniusNorm() <= 1e-12 * moments[1][i].FrobeniusNorm(), layers[i].Name);
    }

    [Fact]
    public void Tensors_Throw_NamingTheFile_WhenTheFolderDoesNotMatchTheModel()
    {
        var image = OnnxGraphs.Save(OnnxGraphs.Image(), Scratch(""), "image.onnx");
        var text = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        string Fails(string model, string folder) =>
            Assert.Throws<ArgumentException>(() =>
                ModelCompression.Compress(model, CalibrationData.Tensors(folder), new ModelCompressionOptions())).Message;

        var wrongShape = Folder("wrong-shape");
        NpyFiles.Float32(Path.Combine(wrongShape, "image.npy"), [3, 2, 6, 5], new float[180]);
        Assert.Contains("Expected image.npy to have shape (N, 2, 6, 6) for the model's input image, but it has (3, 2, 6, 5)",
            Fails(image, wrongShape));

        var extra = Folder("extra");
        NpyFiles.Float32(Path.Combine(extra, "image.npy"), [3, 2, 6, 6], new float[216]);
        NpyFiles.Float32(Path.Combine(extra, "labels.npy"), [3], new float[3]);
        Assert.Contains("also has labels.npy", Fails(image, extra));

        var missing = Folder("missing");
        NpyFiles.Int64(Path.Combine(missing, "input_ids.npy"), [2, 4], new long[8]);
        NpyFiles.Int64(Path.Combine(missing, "attention_mask.npy"), [2, 4], new long[8]);
        Assert.Contains("has none for token_type_ids.npy", Fails(text, missing));

        var counts = Folder("counts");
        NpyFiles.Int64(Path.Combine(counts, "input_ids.npy"), [2, 4], new long[8]);
        NpyFiles.Int64(Path.Combine(counts, "attention_mask.npy"), [3, 4], new long[12]);
        Assert.Contains("the first axes differ: attention_mask.npy 3, input_ids.npy 2",
            Assert.Throws<ArgumentException>(() => CalibrationData.Tensors(counts)).Message);
        Assert.Contains("holds no .npy file", Assert.Throws<ArgumentException>(() => CalibrationData.Tensors(Folder("empty"))).Message);
        Assert.Contains("is not a folder", Assert.Throws<ArgumentException>(() => CalibrationData.Tensors(Scratch("absent"))).Message);
    }
}
