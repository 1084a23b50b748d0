using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;

namespace LowRank.Onnx;

/// <summary>One batch of model inputs, with the positions that count (padding excluded).</summary>
internal sealed class ModelBatch
{
    public ModelBatch(List<NamedOnnxValue> inputs, int examples, int[]? mask, int positions)
    {
        Inputs = inputs;
        Examples = examples;
        Mask = mask;
        Positions = positions;
    }

    /// <summary>The feeds for ONNX Runtime.</summary>
    public List<NamedOnnxValue> Inputs { get; }

    /// <summary>Examples in the batch.</summary>
    public int Examples { get; }

    /// <summary>examples x positions, 1 where a token is real and 0 where it is padding; null when every position counts.
    /// </summary>
    public int[]? Mask { get; }

    /// <summary>Positions per example (the padded sequence length; 1 without a mask).</summary>
    public int Positions { get; }
}

/// <summary>
/// Inputs to run a model on, for calibration (the layers' input moments) or for measuring fidelity: text with a WordPiece
/// vocabulary for BERT-style models, a .npy matrix of examples for any model with one float input, or a folder of .npy
/// tensors named by the model's inputs for any other model.
/// </summary>
public abstract partial class CalibrationData
{
    private protected CalibrationData() { }

    /// <summary>The number of examples.</summary>
    public abstract int Count { get; }

    /// <summary>Examples whose input was cut to fit (text longer than the token limit); 0 when none was.</summary>
    public virtual int Truncated => 0;

    internal abstract IEnumerable<ModelBatch> Batches(InferenceSession session);

    /// <summary>
    /// Text, one example a string, for a BERT-style model with inputs input_ids and (optionally) attention_mask and
    /// token_type_ids: each is tokenised by WordPiece ([CLS] ... [SEP], lower-cased as BERT's uncased models expect),
    /// cut to <paramref name="maxTokens"/> tokens (the cut examples are counted in <see cref="Truncated"/>), and padded
    /// to the longest in its batch; padded positions are excluded from every moment and every pooled output.
    /// </summary>
    /// <param name="lines">The examples; empty lines are skipped.</param>
    /// <param name="vocabularyPath">The model's vocab.txt, one WordPiece token a line.</param>
    /// <param name="maxTokens">Tokens per example at most, [CLS] and [SEP] included: 3 to 512 (BERT's positions).</param>
    /// <param name="batchSize">Examples per run of the model, &gt;= 1.</param>
    /// <returns>The data.</returns>
    /// <exception cref="ArgumentException">No line has text, or the vocabulary cannot be read.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range.</exception>
    public static CalibrationData Text(IEnumerable<string> lines, string vocabularyPath, int maxTokens = 128, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(vocabularyPath);
        if (maxTokens is < 3 or > 512)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, $"Expected 3 to 512 tokens per example, but it is {maxTokens}.");
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a batch size >= 1, but it is {batchSize}.");
        var text = lines.Where(l => !string.IsNullOrWhiteSpace(l)).ToArray();
        if (text.Length == 0)
            throw new ArgumentException("Expected at least one line of text, but every line is empty.", nameof(lines));
        if (!File.Exists(vocabularyPath))
            throw new ArgumentException($"Expected a WordPiece vocabulary file, but '{vocabularyPath}' does not exist.", nameof(vocabularyPath));
        BertTokenizer tokenizer;
        try
        {
            tokenizer = BertTokenizer.Create(vocabularyPath, new BertOptions { LowerCaseBeforeTokenization = true });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ArgumentException($"Expected a WordPiece vocabulary in '{vocabularyPath}', but it cannot be read: {e.Message}",
                nameof(vocabularyPath), e);
        }
        var all = text.Select(line => tokenizer.EncodeToIds(line, addSpecialTokens: true)).ToArray();
        var cut = all.Select(t => t.Count > maxTokens).ToArray();
        var ids = all.Select(t => t.Count <= maxTokens ? t.ToArray() : t.Take(maxTokens - 1).Append(tokenizer.SeparatorTokenId).ToArray())
            .ToArray();
        return new TextData(ids, cut, batchSize);
    }

    /// <summary>
    /// Examples as the rows of a 2-D .npy matrix, for a model with one float input whose shape, past the batch axis, has
    /// as many numbers as a row (an image model's 3 x 224 x 224 input takes rows of 150,528).
    /// </summary>
    /// <param name="path">The .npy file (any numeric type; read as float).</param>
    /// <param name="batchSize">Examples per run of the model, &gt;= 1.</param>
    /// <returns>The data.</returns>
    /// <exception cref="ArgumentException">The file is not a 2-D .npy matrix.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    public static CalibrationData Npy(string path, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a batch size >= 1, but it is {batchSize}.");
        var shape = LowRank.Npy.Shape(path);
        if (shape.Length != 2)
            throw new ArgumentException(
                $"Expected a 2-D .npy matrix (an example per row), but '{path}' has shape ({string.Join(", ", shape)}).", nameof(path));
        return new NpyData(path, shape[0], shape[1], batchSize);
    }

    /// <summary>The examples from <paramref name="first"/> on, <paramref name="count"/> of them.</summary>
    /// <param name="first">The first example, 0-based.</param>
    /// <param name="count">How many.</param>
    /// <returns>The part.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside [0, Count).</exception>
    public abstract CalibrationData Slice(int first, int count);

    private protected static void CheckSlice(int first, int count, int total)
    {
        if (first < 0 || count < 1 || first + count > total)
            throw new ArgumentOutOfRangeException(nameof(first), first,
                $"Expected a range of at least one example inside [0, {total}), but it is [{first}, {first + count}).");
    }

    private sealed class TextData(int[][] ids, bool[] cut, int batchSize) : CalibrationData
    {
        public override int Count => ids.Length;

        public override int Truncated => cut.Count(c => c);

        public override CalibrationData Slice(int first, int count)
        {
            CheckSlice(first, count, ids.Length);
            return new TextData(ids[first..(first + count)], cut[first..(first + count)], batchSize);
        }

        internal override IEnumerable<ModelBatch> Batches(InferenceSession session)
        {
            var inputs = session.InputMetadata;
            if (!inputs.ContainsKey("input_ids"))
                throw new ArgumentException(
                    $"Text needs a BERT-style model with an input named input_ids, but the model's inputs are {string.Join(", ", inputs.Keys)}.");
            var unknown = inputs.Keys.Except(["input_ids", "attention_mask", "token_type_ids"]).ToArray();
            if (unknown.Length > 0)
                throw new ArgumentException($"Text fills input_ids, attention_mask and token_type_ids, but the model also needs {string.Join(", ", unknown)}.");
            for (var start = 0; start < ids.Length; start += batchSize)
            {
                var batch = ids[start..Math.Min(ids.Length, start + batchSize)];
                var length = batch.Max(b => b.Length);
                var mask = new int[batch.Length * length];
                var tokens = new DenseTensor<long>([batch.Length, length]);
                var maskTensor = new DenseTensor<long>([batch.Length, length]);
                for (var b = 0; b < batch.Length; b++)
                    for (var t = 0; t < batch[b].Length; t++)
                    {
                        tokens[b, t] = batch[b][t];
                        maskTensor[b, t] = 1;
                        mask[b * length + t] = 1;
                    }
                var feeds = new List<NamedOnnxValue>();
                foreach (var (name, metadata) in inputs)
                {
                    var source = name switch
                    {
                        "input_ids" => tokens,
                        "attention_mask" => maskTensor,
                        _ => new DenseTensor<long>([batch.Length, length]),
                    };
                    feeds.Add(metadata.ElementDataType == TensorElementType.Int32
                        ? NamedOnnxValue.CreateFromTensor(name, Int32Of(source))
                        : NamedOnnxValue.CreateFromTensor(name, source));
                }
                yield return new ModelBatch(feeds, batch.Length, mask, length);
            }
        }

        private static DenseTensor<int> Int32Of(DenseTensor<long> source)
        {
            var result = new DenseTensor<int>(source.Dimensions);
            for (var i = 0; i < source.Length; i++)
                result.SetValue(i, (int)source.GetValue(i));
            return result;
        }
    }

    private sealed class NpyData(string path, int rows, int columns, int batchSize, int first = 0) : CalibrationData
    {
        public override int Count => rows;

        public override CalibrationData Slice(int start, int count)
        {
            CheckSlice(start, count, rows);
            return new NpyData(path, count, columns, batchSize, first + start);
        }

        internal override IEnumerable<ModelBatch> Batches(InferenceSession session)
        {
            if (session.InputMetadata.Count != 1)
                throw new ArgumentException(
                    $"A .npy matrix feeds a model with one input, but the model has {session.InputMetadata.Count}: {string.Join(", ", session.InputMetadata.Keys)}.");
            var (name, metadata) = session.InputMetadata.First();
            if (metadata.ElementDataType != TensorElementType.Float)
                throw new ArgumentException($"A .npy matrix feeds a float input, but the model's input {name} is {metadata.ElementDataType}.");
            var dims = metadata.Dimensions.Skip(1).ToArray();
            if (dims.Any(d => d <= 0) || dims.Aggregate(1L, (p, d) => p * d) != columns)
                throw new ArgumentException(
                    $"Expected rows of {string.Join(" x ", dims)} numbers for the model's input {name}, but '{path}' has rows of {columns}.");
            // A model exported with a fixed batch size (ResNet-18's [1, 3, 224, 224]) gets batches of that size.
            var size = metadata.Dimensions[0] > 0 ? metadata.Dimensions[0] : batchSize;
            for (var start = 0; start < rows; start += size)
            {
                var count = Math.Min(size, rows - start);
                var block = LowRank.Npy.ReadRows(path, first + start, count);
                var tensor = new DenseTensor<float>([count, .. dims]);
                var span = tensor.Buffer.Span;
                for (var i = 0; i < count; i++)
                    for (var j = 0; j < columns; j++)
                        span[i * columns + j] = (float)block[i, j];
                yield return new ModelBatch([NamedOnnxValue.CreateFromTensor(name, tensor)], count, null, 1);
            }
        }
    }
}
