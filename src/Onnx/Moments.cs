using System;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LowRank.Onnx;

/// <summary>A running second moment sum_x x^T x over the rows a layer sees, and their count: O(n^2) memory, never the
/// activations themselves.</summary>
internal sealed class Moment(int size)
{
    public Matrix<double> Sum { get; } = Matrix<double>.Build.Dense(size, size);

    public long Count { get; private set; }

    public void Add(Matrix<double> rows)
    {
        if (rows.RowCount == 0)
            return;
        // C = X^T X / N through the facade's BLAS-backed product.
        var covariance = LowRank.Compression.InputCovariance(rows);
        Sum.Add(covariance.Multiply(rows.RowCount), Sum);
        Count += rows.RowCount;
    }

    /// <summary>C = sum / N.</summary>
    public Matrix<double> Covariance() => Count == 0 ? Sum.Clone() : Sum.Divide(Count);
}

/// <summary>Turning a layer's input tensor into the rows its weight multiplies.</summary>
internal static class LayerRows
{
    /// <summary>Rows of a MatMul or Gemm input [..., n]: every leading position, except padded ones when the tensor is
    /// [examples, positions, n] and a mask is given.</summary>
    public static Matrix<double> Linear(Tensor<float> tensor, int n, ModelBatch batch)
    {
        var dims = tensor.Dimensions.ToArray();
        if (dims[^1] != n)
            throw new InvalidOperationException($"Expected an input of width {n}, but ONNX Runtime returned shape ({string.Join(", ", dims)}).");
        var dense = tensor as DenseTensor<float> ?? tensor.ToDenseTensor();
        var data = dense.Buffer.Span;
        var positions = (int)(dense.Length / n);
        var masked = batch.Mask is not null && dims.Length == 3 && dims[0] == batch.Examples && dims[1] == batch.Positions;
        var keep = Enumerable.Range(0, positions).Where(p => !masked || batch.Mask![p] != 0).ToArray();
        var rows = Matrix<double>.Build.Dense(keep.Length, n);
        var column = rows.AsColumnMajorArray();
        for (var r = 0; r < keep.Length; r++)
        {
            var row = data.Slice(keep[r] * n, n);
            for (var j = 0; j < n; j++)
                column[(long)j * keep.Length + r] = row[j];
        }
        return rows;
    }

    /// <summary>The patches a Conv multiplies: one row per output position of every example, ordered (channel, kh, kw)
    /// as the weight's columns, zeros where the kernel reaches into the padding (im2col).</summary>
    public static Matrix<double> Patches(Tensor<float> tensor, ConvGeometry g)
    {
        var dims = tensor.Dimensions.ToArray();
        if (dims.Length != 4 || dims[1] != g.Channels)
            throw new InvalidOperationException(
                $"Expected a Conv input of shape (examples, {g.Channels}, height, width), but ONNX Runtime returned ({string.Join(", ", dims)}).");
        var dense = tensor as DenseTensor<float> ?? tensor.ToDenseTensor();
        var data = dense.Buffer.Span;
        int examples = dims[0], channels = dims[1], height = dims[2], width = dims[3];
        var (outH, padH) = g.Axis(height, g.KernelH, g.StrideH, g.DilationH, g.PadTop, g.PadBottom);
        var (outW, padW) = g.Axis(width, g.KernelW, g.StrideW, g.DilationW, g.PadLeft, g.PadRight);
        var count = examples * outH * outW;
        var size = channels * g.KernelH * g.KernelW;
        var rows = Matrix<double>.Build.Dense(count, size);
        var column = rows.AsColumnMajorArray();
        for (var e = 0; e < examples; e++)
            for (var c = 0; c < channels; c++)
                for (var i = 0; i < g.KernelH; i++)
                    for (var j = 0; j < g.KernelW; j++)
                    {
                        var feature = (c * g.KernelH + i) * g.KernelW + j;
                        var offset = (long)feature * count + (long)e * outH * outW;
                        var plane = ((long)e * channels + c) * height * width;
                        for (var y = 0; y < outH; y++)
                        {
                            var sourceY = y * g.StrideH - padH + i * g.DilationH;
                            if (sourceY < 0 || sourceY >= height)
                                continue;
                            for (var x = 0; x < outW; x++)
                            {
                                var sourceX = x * g.StrideW - padW + j * g.DilationW;
                                if (sourceX >= 0 && sourceX < width)
                                    column[offset + y * outW + x] = data[(int)(plane + (long)sourceY * width + sourceX)];
                            }
                        }
                    }
        return rows;
    }

    /// <summary>Adds each real position's index to a Gather's token counts.</summary>
    public static void CountTokens(Tensor<long> indices, ModelBatch batch, double[] counts)
    {
        var dims = indices.Dimensions.ToArray();
        var masked = batch.Mask is not null && dims.Length == 2 && dims[0] == batch.Examples && dims[1] == batch.Positions;
        var dense = indices as DenseTensor<long> ?? indices.ToDenseTensor();
        var data = dense.Buffer.Span;
        for (var p = 0; p < data.Length; p++)
        {
            if (masked && batch.Mask![p] == 0)
                continue;
            var token = data[p] < 0 ? data[p] + counts.Length : data[p];
            if (token >= 0 && token < counts.Length)
                counts[token] += 1;
        }
    }

    /// <summary>[X' X] side by side, so one product gives C', M = X'^T X and C together.</summary>
    public static Matrix<double> Stack(Matrix<double> shifted, Matrix<double> original) => shifted.Append(original);
}
