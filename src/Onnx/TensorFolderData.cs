using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LowRank.Onnx;

public abstract partial class CalibrationData
{
    /// <summary>
    /// Examples as .npy tensors named by the model's inputs, for any model: <c>folder/input_ids.npy</c>,
    /// <c>folder/attention_mask.npy</c>, ... one file per input, each of shape (N, the input's shape past its batch axis),
    /// with the same N in every file. Dimensions the model leaves open take the file's; integers are read exactly up to
    /// 2^53. When the model has a 2-D input named <c>attention_mask</c>, its zeros mark padded positions, which are
    /// excluded from every moment and pooled output, as for text.
    /// </summary>
    /// <param name="folder">The folder; every .npy file in it must name an input of the model (checked when the model
    /// runs, since the names are the model's).</param>
    /// <param name="batchSize">Examples per run of the model, &gt;= 1 (a model exported with a fixed batch size gets that).</param>
    /// <returns>The data.</returns>
    /// <exception cref="ArgumentException">The folder does not exist, holds no .npy file, or the files disagree on N or
    /// are not arrays with a first axis.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    public static CalibrationData Tensors(string folder, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a batch size >= 1, but it is {batchSize}.");
        if (!Directory.Exists(folder))
            throw new ArgumentException($"Expected a folder of .npy tensors, but '{folder}' is not a folder.", nameof(folder));
        var files = Directory.GetFiles(folder, "*.npy").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
            throw new ArgumentException($"Expected .npy tensors named by the model's inputs in '{folder}', but it holds no .npy file.",
                nameof(folder));
        var shapes = files.ToDictionary(f => Path.GetFileNameWithoutExtension(f), LowRank.Npy.Shape, StringComparer.Ordinal);
        foreach (var (name, shape) in shapes)
            if (shape.Length == 0)
                throw new ArgumentException($"Expected an array with an example axis in '{name}.npy', but it is 0-D.", nameof(folder));
        var counts = shapes.Values.Select(s => s[0]).Distinct().ToArray();
        if (counts.Length > 1)
            throw new ArgumentException(
                $"Expected the same number of examples in every tensor, but the first axes differ: {string.Join(", ", shapes.Select(s => $"{s.Key}.npy {s.Value[0]}"))}.",
                nameof(folder));
        if (counts[0] == 0)
            throw new ArgumentException($"Expected at least one example, but the tensors in '{folder}' have none.", nameof(folder));
        return new TensorFolderData(folder, shapes, counts[0], 0, batchSize);
    }

    private sealed class TensorFolderData(string folder, Dictionary<string, int[]> shapes, int count, int first, int batchSize)
        : CalibrationData
    {
        private const string MaskName = "attention_mask";

        public override int Count => count;

        public override CalibrationData Slice(int start, int length)
        {
            CheckSlice(start, length, count);
            return new TensorFolderData(folder, shapes, length, first + start, batchSize);
        }

        internal override IEnumerable<ModelBatch> Batches(InferenceSession session)
        {
            var inputs = session.InputMetadata;
            var missing = inputs.Keys.Where(k => !shapes.ContainsKey(k)).ToArray();
            if (missing.Length > 0)
                throw new ArgumentException(
                    $"Expected a tensor for each of the model's inputs ({string.Join(", ", inputs.Keys)}), but '{folder}' has none for {string.Join(", ", missing.Select(m => m + ".npy"))}.");
            var extra = shapes.Keys.Where(k => !inputs.ContainsKey(k)).ToArray();
            if (extra.Length > 0)
                throw new ArgumentException(
                    $"Expected only tensors named by the model's inputs ({string.Join(", ", inputs.Keys)}), but '{folder}' also has {string.Join(", ", extra.Select(e => e + ".npy"))}.");
            foreach (var (name, metadata) in inputs)
                Check(name, metadata);
            var fixedBatch = inputs.Values.Select(m => m.Dimensions.Length > 0 ? m.Dimensions[0] : -1).FirstOrDefault(d => d > 0);
            var size = fixedBatch > 0 ? fixedBatch : batchSize;
            for (var start = 0; start < count; start += size)
            {
                var examples = Math.Min(size, count - start);
                var feeds = new List<NamedOnnxValue>();
                int[]? mask = null;
                var positions = 1;
                foreach (var (name, metadata) in inputs)
                {
                    var block = LowRank.Npy.ReadExamples(Path.Combine(folder, name + ".npy"), first + start, examples);
                    int[] dims = [examples, .. shapes[name][1..]];
                    feeds.Add(Feed(name, metadata.ElementDataType, dims, block));
                    if (name == MaskName && dims.Length == 2)
                    {
                        positions = dims[1];
                        mask = new int[examples * positions];
                        for (var e = 0; e < examples; e++)
                            for (var p = 0; p < positions; p++)
                                mask[e * positions + p] = block[e, p] != 0 ? 1 : 0;
                    }
                }
                yield return new ModelBatch(feeds, examples, mask, positions);
            }
        }

        private void Check(string name, NodeMetadata metadata)
        {
            var file = shapes[name];
            var model = metadata.Dimensions;
            var agrees = model.Length == file.Length && model.Skip(1).Zip(file.Skip(1)).All(p => p.First <= 0 || p.First == p.Second);
            if (!agrees)
                throw new ArgumentException(
                    $"Expected {name}.npy to have shape (N, {string.Join(", ", model.Skip(1).Select(d => d > 0 ? d.ToString() : "any"))}) for the model's input {name}, but it has ({string.Join(", ", file)}).");
            if (metadata.ElementDataType is not (TensorElementType.Float or TensorElementType.Double or TensorElementType.Int64
                or TensorElementType.Int32))
                throw new ArgumentException(
                    $"Tensors feed float, double, int64 and int32 inputs, but the model's input {name} is {metadata.ElementDataType}.");
        }

        private static NamedOnnxValue Feed(string name, TensorElementType type, int[] dims, MathNet.Numerics.LinearAlgebra.Matrix<double> block)
        {
            var columns = block.ColumnCount;
            DenseTensor<T> Fill<T>(Func<double, T> convert)
            {
                var tensor = new DenseTensor<T>(dims);
                var span = tensor.Buffer.Span;
                for (var i = 0; i < block.RowCount; i++)
                    for (var j = 0; j < columns; j++)
                        span[i * columns + j] = convert(block[i, j]);
                return tensor;
            }
            return type switch
            {
                TensorElementType.Float => NamedOnnxValue.CreateFromTensor(name, Fill(v => (float)v)),
                TensorElementType.Double => NamedOnnxValue.CreateFromTensor(name, Fill(v => v)),
                TensorElementType.Int64 => NamedOnnxValue.CreateFromTensor(name, Fill(v => (long)v)),
                _ => NamedOnnxValue.CreateFromTensor(name, Fill(v => (int)v)),
            };
        }
    }
}
