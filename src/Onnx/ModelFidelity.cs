using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LowRank.Onnx;

/// <summary>How closely a compressed model's outputs follow the original's on held-out inputs.</summary>
public sealed class FidelityReport
{
    internal FidelityReport(string output, double[] cosines, double neighbours, double top1, double originalSeconds, double compressedSeconds)
    {
        Output = output;
        Cosines = cosines;
        var sorted = cosines.Order().ToArray();
        MeanCosine = cosines.Average();
        Cosine5thPercentile = sorted[(int)Math.Floor(0.05 * (sorted.Length - 1))];
        NeighbourAgreement = neighbours;
        Top1Agreement = top1;
        SecondsPerInputOriginal = originalSeconds;
        SecondsPerInputCompressed = compressedSeconds;
    }

    /// <summary>The output compared (the model's first by default).</summary>
    public string Output { get; }

    /// <summary>Each input's cosine between the two models' pooled outputs.</summary>
    public IReadOnlyList<double> Cosines { get; }

    /// <summary>The mean of <see cref="Cosines"/>.</summary>
    public double MeanCosine { get; }

    /// <summary>The 5th percentile of <see cref="Cosines"/> (the value at index floor(0.05 (N - 1)) of the sorted list).</summary>
    public double Cosine5thPercentile { get; }

    /// <summary>The fraction of inputs whose nearest other input by cosine of the pooled outputs is the same in both
    /// models (what a search over embeddings returns).</summary>
    public double NeighbourAgreement { get; }

    /// <summary>The fraction of inputs whose pooled output has its largest entry at the same index in both models: the
    /// top-1 agreement of a classifier (meaningless for an embedding model).</summary>
    public double Top1Agreement { get; }

    /// <summary>ONNX Runtime's time per input of the original model, in seconds.</summary>
    public double SecondsPerInputOriginal { get; }

    /// <summary>ONNX Runtime's time per input of the compressed model, in seconds.</summary>
    public double SecondsPerInputCompressed { get; }
}

/// <summary>Measuring a compressed model against its original on held-out inputs.</summary>
public static class ModelFidelity
{
    /// <summary>
    /// Runs both models on the same inputs and compares their pooled outputs: an output [examples, positions, h] is
    /// averaged over the real positions (mean pooling, as sentence embeddings are formed), any other is flattened per
    /// example. Reports cosines, nearest-neighbour and top-1 agreement, and the time per input of each model (the models
    /// alternate batch by batch, so both see the same machine load).
    /// </summary>
    /// <param name="originalModel">The original model's ONNX bytes or file.</param>
    /// <param name="compressedModel">The compressed model's ONNX bytes or file.</param>
    /// <param name="data">Held-out inputs, at least 2.</param>
    /// <param name="outputName">The output to compare; null for the model's first.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentException">The models' outputs differ, or the output is unknown.</exception>
    public static FidelityReport Evaluate(
        OnnxSource originalModel,
        OnnxSource compressedModel,
        CalibrationData data,
        string? outputName = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(originalModel);
        ArgumentNullException.ThrowIfNull(compressedModel);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count < 2)
            throw new ArgumentException($"Expected at least 2 held-out inputs, but there are {data.Count}.", nameof(data));
        using var original = originalModel.Open();
        using var compressed = compressedModel.Open();
        var output = outputName ?? original.OutputMetadata.Keys.First();
        if (!original.OutputMetadata.ContainsKey(output) || !compressed.OutputMetadata.ContainsKey(output))
            throw new ArgumentException(
                $"Expected an output both models have, but '{output}' is not among {string.Join(", ", original.OutputMetadata.Keys)}.", nameof(outputName));
        var a = new List<double[]>();
        var b = new List<double[]>();
        var timeOriginal = new Stopwatch();
        var timeCompressed = new Stopwatch();
        // One unmeasured run of each first: ONNX Runtime prepares its kernels on the first call.
        var warm = data.Batches(original).First();
        using (original.Run(warm.Inputs, [output])) { }
        using (compressed.Run(warm.Inputs, [output])) { }
        foreach (var batch in data.Batches(original))
        {
            cancellationToken.ThrowIfCancellationRequested();
            timeOriginal.Start();
            using var first = original.Run(batch.Inputs, [output]);
            timeOriginal.Stop();
            timeCompressed.Start();
            using var second = compressed.Run(batch.Inputs, [output]);
            timeCompressed.Stop();
            a.AddRange(Pool(first.First().AsTensor<float>(), batch));
            b.AddRange(Pool(second.First().AsTensor<float>(), batch));
        }
        var cosines = a.Select((x, i) => Cosine(x, b[i])).ToArray();
        var neighbours = Enumerable.Range(0, a.Count).Count(i => Nearest(a, i) == Nearest(b, i)) / (double)a.Count;
        var top1 = Enumerable.Range(0, a.Count).Count(i => ArgMax(a[i]) == ArgMax(b[i])) / (double)a.Count;
        return new FidelityReport(output, cosines, neighbours, top1, timeOriginal.Elapsed.TotalSeconds / a.Count,
            timeCompressed.Elapsed.TotalSeconds / a.Count);
    }

    private static IEnumerable<double[]> Pool(Tensor<float> tensor, ModelBatch batch)
    {
        var dims = tensor.Dimensions.ToArray();
        var dense = tensor as DenseTensor<float> ?? tensor.ToDenseTensor();
        var data = dense.Buffer.ToArray();
        var examples = dims[0];
        var width = (int)(data.Length / examples);
        if (batch.Mask is not null && dims.Length == 3 && dims[1] == batch.Positions)
        {
            var h = dims[2];
            for (var e = 0; e < examples; e++)
            {
                var sum = new double[h];
                var count = 0;
                for (var p = 0; p < dims[1]; p++)
                {
                    if (batch.Mask[e * dims[1] + p] == 0)
                        continue;
                    count++;
                    for (var j = 0; j < h; j++)
                        sum[j] += data[(e * dims[1] + p) * h + j];
                }
                yield return sum.Select(x => x / Math.Max(count, 1)).ToArray();
            }
            yield break;
        }
        for (var e = 0; e < examples; e++)
            yield return data.Skip(e * width).Take(width).Select(x => (double)x).ToArray();
    }

    private static double Cosine(double[] x, double[] y)
    {
        double xy = 0, xx = 0, yy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            xy += x[i] * y[i];
            xx += x[i] * x[i];
            yy += y[i] * y[i];
        }
        return xx > 0 && yy > 0 ? xy / Math.Sqrt(xx * yy) : (xx == yy ? 1 : 0);
    }

    private static int Nearest(List<double[]> points, int i)
    {
        var best = -1;
        var bestCosine = double.NegativeInfinity;
        for (var j = 0; j < points.Count; j++)
        {
            if (j == i)
                continue;
            var c = Cosine(points[i], points[j]);
            if (c > bestCosine)
            {
                best = j;
                bestCosine = c;
            }
        }
        return best;
    }

    private static int ArgMax(double[] x)
    {
        var best = 0;
        for (var i = 1; i < x.Length; i++)
            if (x[i] > x[best])
                best = i;
        return best;
    }
}

/// <summary>An ONNX model given as a file or as bytes.</summary>
public sealed class OnnxSource
{
    private readonly string? path;
    private readonly byte[]? bytes;

    private OnnxSource(string? path, byte[]? bytes)
    {
        this.path = path;
        this.bytes = bytes;
    }

    /// <summary>A model file.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <returns>The source.</returns>
    public static OnnxSource File(string path) => new(path ?? throw new ArgumentNullException(nameof(path)), null);

    /// <summary>A model in memory.</summary>
    /// <param name="bytes">The ONNX bytes.</param>
    /// <returns>The source.</returns>
    public static OnnxSource Bytes(byte[] bytes) => new(null, bytes ?? throw new ArgumentNullException(nameof(bytes)));

    internal InferenceSession Open()
    {
        if (path is not null && !System.IO.File.Exists(path))
            throw new System.IO.FileNotFoundException($"The model '{path}' does not exist.", path);
        var data = bytes ?? System.IO.File.ReadAllBytes(path!);
        // Parsed first, so that what is not ONNX fails with the same clear message as everywhere else.
        OnnxGraph.Parse(data, path ?? "the model bytes");
        return new InferenceSession(data);
    }
}
