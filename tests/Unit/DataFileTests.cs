using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>IDX and CSV files: crafted byte by byte, read back exactly, and bad files named with their problem.</summary>
public sealed class DataFileTests : ScratchDirectory
{
    private string Write(string name, byte[] bytes)
    {
        var path = Scratch(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] BigEndian(int value) => BitConverter.GetBytes(value).Reverse().ToArray();

    /// <summary>An IDX file: header, big-endian dimensions, then the data bytes as given.</summary>
    private static byte[] IdxFile(byte type, int[] dims, byte[] data) =>
        new byte[] { 0, 0, type, (byte)dims.Length }.Concat(dims.SelectMany(BigEndian)).Concat(data).ToArray();

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    private static readonly byte[] Pixels = Enumerable.Range(0, 12).Select(i => (byte)(20 * i)).ToArray();

    [Fact]
    public void Idx_ReadsImages_AsAStackAndAsRows_PlainOrGzipped()
    {
        var plain = IdxFile(0x08, new[] { 2, 2, 3 }, Pixels);
        foreach (var path in new[] { Write("images.idx", plain), Write("images.idx.gz", Gzip(plain)) })
        {
            var stack = Idx.ReadStack(path);
            Assert.Equal(2, stack.Length);
            Assert.Equal(Matrix<double>.Build.DenseOfArray(new double[,] { { 0, 20, 40 }, { 60, 80, 100 } }), stack[0]);
            Assert.Equal(220, stack[1][1, 2]);
            var rows = Idx.ReadRows(path);
            Assert.Equal((2, 6), (rows.RowCount, rows.ColumnCount));
            Assert.Equal(Pixels.Select(p => (double)p), rows.EnumerateRows().SelectMany(r => r));
        }
    }

    [Fact]
    public void Idx_ReadsBigEndianInt32Labels_AsOneColumn()
    {
        var labels = Idx.ReadRows(Write("labels.idx", IdxFile(0x0C, new[] { 3 }, new[] { 7, -1, 65536 }.SelectMany(BigEndian).ToArray())));
        Assert.Equal(new double[] { 7, -1, 65536 }, labels.Column(0).ToArray());
    }

    [Fact]
    public void Idx_ReadsBigEndianFloat64()
    {
        var data = new[] { 1.5, -2.25 }.SelectMany(x => BitConverter.GetBytes(x).Reverse()).ToArray();
        Assert.Equal(new[] { 1.5, -2.25 }, Idx.ReadRows(Write("f.idx", IdxFile(0x0E, new[] { 1, 2 }, data))).Row(0).ToArray());
    }

    [Fact]
    public void Idx_Throws_WhenTheSizeDoesNotMatchTheDimensions()
    {
        var path = Write("short.idx", IdxFile(0x08, new[] { 2, 2, 3 }, Pixels[..11]));
        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadRows(path));
        Assert.Contains("dimensions (2, 2, 3) need 28 bytes, the file has 27", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Idx_Throws_WhenTheTypeIsUnknown() =>
        Assert.Contains("data type 0x07 is not an IDX type",
            Assert.Throws<InvalidDataException>(() => Idx.ReadRows(Write("t.idx", IdxFile(0x07, new[] { 1 }, new byte[] { 1 })))).Message,
            StringComparison.Ordinal);

    [Fact]
    public void Idx_Throws_WhenTheGzipStreamIsCorrupt()
    {
        var gz = Gzip(IdxFile(0x08, new[] { 2, 2, 3 }, Pixels));
        var path = Write("bad.gz", gz[..(gz.Length / 2)]);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => Idx.ReadRows(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_RoundTripsEveryDouble_IncludingNaNInfinitiesAndSubnormals()
    {
        var m = Matrix<double>.Build.DenseOfArray(new[,] { { 0.1, double.NaN, double.PositiveInfinity }, { -5e-324, 1e300, -0.0 } });
        var path = Scratch("m.csv");
        Csv.WriteMatrix(path, m);
        var back = Csv.ReadMatrix(path);
        Assert.Equal(m.ToColumnMajorArray().Select(BitConverter.DoubleToInt64Bits), back.ToColumnMajorArray().Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void Csv_Throws_NamingLineAndField_WhenAFieldIsNotANumber()
    {
        var path = Scratch("bad.csv");
        File.WriteAllText(path, "1,2\n\n3,x\n");
        Assert.Contains("line 3, field 2: 'x' is not a number", Assert.Throws<InvalidDataException>(() => Csv.ReadMatrix(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_Throws_WhenRowsDifferInLength()
    {
        var path = Scratch("ragged.csv");
        File.WriteAllText(path, "1,2\n3\n");
        Assert.Contains("line 2 has 1 fields, but the first row has 2", Assert.Throws<InvalidDataException>(() => Csv.ReadMatrix(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Npy_Shape_ReadsTheHeader_OfMatricesAndStacks()
    {
        Npy.WriteMatrix(Scratch("m.npy"), Matrix<double>.Build.Dense(3, 5));
        Npy.WriteStack(Scratch("s.npy"), new[] { Matrix<double>.Build.Dense(2, 4), Matrix<double>.Build.Dense(2, 4) });

        Assert.Equal(new[] { 3, 5 }, Npy.Shape(Scratch("m.npy")));
        Assert.Equal(new[] { 2, 2, 4 }, Npy.Shape(Scratch("s.npy")));
        Assert.Throws<FileNotFoundException>(() => Npy.Shape(Scratch("absent.npy")));
    }

    [Fact]
    public void Npy_ReadExamples_FlattensEachExample_InCOrder_WhateverItsShape()
    {
        // (2, 2, 3) int64: example e holds 6e .. 6e + 5 in C order.
        var stack = NpyFiles.Int64(Scratch("ids.npy"), [2, 2, 3], Enumerable.Range(0, 12).Select(i => (long)i).ToArray());
        var rows = Npy.ReadExamples(stack, 1, 1);
        Assert.Equal((1, 6), (rows.RowCount, rows.ColumnCount));
        Assert.Equal(new double[] { 6, 7, 8, 9, 10, 11 }, rows.Row(0).ToArray());
        Assert.Equal(Matrix<double>.Build.Dense(0, 6), Npy.ReadExamples(stack, 2, 0));

        // A vector is one column; integers beyond float32's 2^24 come back exactly.
        var vector = NpyFiles.Int64(Scratch("v.npy"), [3], [5, -1, (1L << 40) + 1]);
        Assert.Equal(new double[] { 5, -1, (1L << 40) + 1 }, Npy.ReadExamples(vector, 0, 3).Column(0).ToArray());

        // On a 2-D matrix (here Fortran order, as the library writes it) it is ReadRows.
        var m = Matrix<double>.Build.Random(5, 4, 3);
        Npy.WriteMatrix(Scratch("m.npy"), m);
        Assert.Equal(Npy.ReadRows(Scratch("m.npy"), 1, 3), Npy.ReadExamples(Scratch("m.npy"), 1, 3));
    }

    [Fact]
    public void Npy_ReadExamples_RefusesFortranOrderPastTwoAxes_AndReadRowsStaysTwoDimensional()
    {
        var fortran = NpyFiles.Write(Scratch("f.npy"), "<f8", true, [2, 2, 3], new double[12]);
        Assert.Contains("expected C order for an array of 3 axes, but it is in Fortran order",
            Assert.Throws<InvalidDataException>(() => Npy.ReadExamples(fortran, 0, 1)).Message, StringComparison.Ordinal);
        var stack = NpyFiles.Int64(Scratch("ids.npy"), [2, 2, 3], new long[12]);
        Assert.Contains("expected a 2-D array, but the shape is (2, 2, 3)",
            Assert.Throws<InvalidDataException>(() => Npy.ReadRows(stack, 0, 1)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Npy.ReadExamples(stack, 1, 2));
    }

    [Fact]
    public void Synthetic_VideoLike_IsFixedBySeed_AndLowRankUpToItsObjectsAndNoise()
    {
        const int height = 60, width = 72;
        var frames = Synthetic.VideoLike(4, height, width, 7);

        Assert.Equal(frames, Synthetic.VideoLike(4, height, width, 7));
        Assert.NotEqual(frames[0], Synthetic.VideoLike(4, height, width, 8)[0]);
        foreach (var frame in frames)
        {
            Assert.Equal((height, width), (frame.RowCount, frame.ColumnCount));
            // Rank 4 background plus three rectangles (each at most rank 2 when it wraps around the edge): at rank 10
            // only the noise remains, whose norm is about 2 sqrt(height width).
            var noise = 2 * Math.Sqrt(height * width);
            Assert.InRange(Svd.OptimalError(frame, 10), 0.5 * noise, 1.05 * noise);
            Assert.True(Svd.OptimalError(frame, 1) > 3 * noise, "a rank-1 approximation leaves the objects and components");
        }
        Assert.Equal("frames", Assert.Throws<ArgumentOutOfRangeException>(() => Synthetic.VideoLike(0, 2, 2, 1)).ParamName);
    }
}
