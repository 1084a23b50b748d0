using System;
using System.IO;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>
/// .npy against real NumPy: tests/fixtures/npy holds files written by NumPy 1.24 (scripts/make-npy-fixtures.py) with
/// entry (k, i, j) = 100 k + 10 i + j for every dtype, order, shape and format version LowRank reads.
/// </summary>
public sealed class NpyTests : ScratchDirectory
{
    private static string Fixture(string name) => RepositoryFiles.PathOf(Path.Combine("tests", "fixtures", "npy", name));

    private static double Expected(int k, int i, int j) => 100 * k + 10 * i + j;

    private static void AssertValues(Matrix<double> m, int k)
    {
        for (var i = 0; i < m.RowCount; i++)
        {
            for (var j = 0; j < m.ColumnCount; j++)
            {
                Assert.Equal(Expected(k, i, j), m[i, j]);
            }
        }
    }

    [Fact]
    public void ReadMatrix_ReadsEveryNumPyFixture_ForEveryDtypeOrderAndVersion()
    {
        var files = Directory.GetFiles(Path.GetDirectoryName(Fixture("x"))!, "*.npy")
            .Where(f => !Path.GetFileName(f).Contains("-2x3x4")).ToList();
        Assert.Equal(43, files.Count); // 10 dtypes x 2 orders x 2 two-dimensional shapes, and 3 format versions

        foreach (var file in files)
        {
            var m = Npy.ReadMatrix(file);
            var shape = Path.GetFileNameWithoutExtension(file).Split('-').Last().Split('x').Select(int.Parse).ToArray();
            Assert.Equal((shape[0], shape[1]), (m.RowCount, m.ColumnCount));
            AssertValues(m, 0);
        }
    }

    /// <summary>Files of several megabytes are read in 1 MB chunks on every core: each chunk's rows land where they belong,
    /// for float64 (taken as they are) and uint8 (converted), whole matrices, row blocks that start and end inside a
    /// chunk, Fortran order (one range per column) and a stack of many frames.</summary>
    [Fact]
    public void LargeFiles_ReadInParallelChunks_GiveEveryEntryInItsPlace()
    {
        static double F8(int i, int j) => 1000.0 * i + j;
        static byte U1(int k, int i, int j) => (byte)((7 * k + 13 * i + 29 * j) % 251);

        const int n = 1200, d = 600;
        var f8 = NpyFiles.Write(Scratch("f8.npy"), "<f8", false, [n, d],
            Enumerable.Range(0, n * d).Select(e => F8(e / d, e % d)).ToArray());
        var fortran = NpyFiles.Write(Scratch("f8F.npy"), "<f8", true, [n, d],
            Enumerable.Range(0, n * d).Select(e => F8(e % n, e / n)).ToArray());
        const int rows = 3000, columns = 2000;
        var u1 = NpyFiles.Write(Scratch("u1.npy"), "|u1", false, [rows, columns],
            Enumerable.Range(0, rows * columns).Select(e => U1(0, e / columns, e % columns)).ToArray());
        const int frames = 40, h = 300, w = 400;
        var stack = NpyFiles.Write(Scratch("stack.npy"), "|u1", false, [frames, h, w],
            Enumerable.Range(0, frames * h * w).Select(e => U1(e / (h * w), e / w % h, e % w)).ToArray());

        void Check(Matrix<double> m, int firstRow, Func<int, int, double> expected)
        {
            for (var i = 0; i < m.RowCount; i++)
            {
                for (var j = 0; j < m.ColumnCount; j++)
                {
                    if (m[i, j] != expected(firstRow + i, j))
                        Assert.Fail($"entry ({firstRow + i}, {j}) is {m[i, j]}, expected {expected(firstRow + i, j)}");
                }
            }
        }

        Check(Npy.ReadMatrix(f8), 0, F8);
        Check(Npy.ReadMatrix(fortran), 0, F8);
        // By rows: A^T, read straight into its storage (float64), converted in order (uint8), or transposed (Fortran).
        Check(Npy.ReadTransposed(f8).Transpose(), 0, F8);
        Check(Npy.ReadTransposed(fortran).Transpose(), 0, F8);
        Check(Npy.ReadTransposed(u1).Transpose(), 0, (i, j) => U1(0, i, j));
        Check(Npy.ReadRows(f8, 217, 900), 217, F8);
        Check(Npy.ReadRows(fortran, 217, 900), 217, F8);
        Check(Npy.ReadMatrix(u1), 0, (i, j) => U1(0, i, j));
        Check(Npy.ReadRows(u1, 1001, 1999), 1001, (i, j) => U1(0, i, j));
        var read = Npy.ReadStack(stack);
        Assert.Equal(frames, read.Length);
        for (var k = 0; k < frames; k++)
            Check(read[k], 0, (i, j) => U1(k, i, j));
    }

    [Fact]
    public void ReadTransposed_ReadsEveryNumPyFixture_AsTheTransposeOfReadMatrix()
    {
        var files = Directory.GetFiles(Path.GetDirectoryName(Fixture("x"))!, "*.npy")
            .Where(f => !Path.GetFileName(f).Contains("-2x3x4")).ToList();
        Assert.Equal(43, files.Count);

        foreach (var file in files)
            Assert.Equal(Npy.ReadMatrix(file).Transpose(), Npy.ReadTransposed(file));

        var stack = Directory.GetFiles(Path.GetDirectoryName(Fixture("x"))!, "*-2x3x4.npy").First();
        var e = Assert.Throws<InvalidDataException>(() => Npy.ReadTransposed(stack));
        Assert.Contains("expected a 2-D array", e.Message);
    }

    [Fact]
    public void ReadStack_ReadsEveryThreeDimensionalNumPyFixture()
    {
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(Fixture("x"))!, "*-2x3x4.npy"))
        {
            var stack = Npy.ReadStack(file);
            Assert.Equal(2, stack.Length);
            for (var k = 0; k < 2; k++)
            {
                Assert.Equal((3, 4), (stack[k].RowCount, stack[k].ColumnCount));
                AssertValues(stack[k], k);
            }
        }
    }

    [Fact]
    public void ReadStackAt_ReadsTheChosenMatrices_InTheirOrder_FromCAndFortranFixtures()
    {
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(Fixture("x"))!, "*-2x3x4.npy"))
        {
            var chosen = Npy.ReadStackAt(file, [1, 0, 1]);

            Assert.Equal(3, chosen.Length);
            AssertValues(chosen[0], 1);
            AssertValues(chosen[1], 0);
            AssertValues(chosen[2], 1);
            Assert.NotSame(chosen[0], chosen[2]);
        }
    }

    [Fact]
    public void ReadStackAt_Throws_NamingAnIndexOutsideTheStack()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Npy.ReadStackAt(Fixture("f8-C-2x3x4.npy"), [0, 2]));

        Assert.Equal("indices", e.ParamName);
        Assert.Contains("[0, 2)", e.Message);
        Assert.Throws<InvalidDataException>(() => Npy.ReadStackAt(Fixture("f8-C-3x4.npy"), [0]));
    }

    [Fact]
    public void WriteMatrix_WritesTheBytesNumPyWrites()
    {
        Npy.WriteMatrix(Scratch("m.npy"), Matrix<double>.Build.Dense(3, 4, (i, j) => Expected(0, i, j)));
        Assert.Equal(File.ReadAllBytes(Fixture("f8-F-3x4.npy")), File.ReadAllBytes(Scratch("m.npy")));
    }

    [Fact]
    public void WriteStack_WritesTheBytesNumPyWrites()
    {
        var stack = Enumerable.Range(0, 2).Select(k => Matrix<double>.Build.Dense(3, 4, (i, j) => Expected(k, i, j)));
        Npy.WriteStack(Scratch("s.npy"), stack);
        Assert.Equal(File.ReadAllBytes(Fixture("f8-C-2x3x4.npy")), File.ReadAllBytes(Scratch("s.npy")));
    }

    private InvalidDataException ReadBroken(Func<byte[], byte[]> breakIt)
    {
        var path = Scratch("broken.npy");
        File.WriteAllBytes(path, breakIt(File.ReadAllBytes(Fixture("f8-C-3x4.npy"))));
        var error = Assert.Throws<InvalidDataException>(() => Npy.ReadMatrix(path));
        Assert.StartsWith(path + ":", error.Message, StringComparison.Ordinal);
        return error;
    }

    [Fact]
    public void ReadMatrix_Throws_WhenTruncated() =>
        Assert.Contains("needs 96 bytes of data, 90 are present", ReadBroken(b => b[..^6]).Message, StringComparison.Ordinal);

    [Fact]
    public void ReadMatrix_Throws_WhenBytesTrail() =>
        Assert.Contains("4 bytes of trailing data", ReadBroken(b => b.Concat(new byte[4]).ToArray()).Message, StringComparison.Ordinal);

    [Fact]
    public void ReadMatrix_Throws_WhenTheMagicIsMissing() =>
        Assert.Contains("magic string", ReadBroken(b => { b[1] = (byte)'X'; return b; }).Message, StringComparison.Ordinal);

    [Fact]
    public void ReadMatrix_Throws_WhenTheVersionIsUnknown() =>
        Assert.Contains("format version 4 is not supported", ReadBroken(b => { b[6] = 4; return b; }).Message, StringComparison.Ordinal);

    [Fact]
    public void ReadMatrix_Throws_WhenTheDataIsBigEndian() =>
        Assert.Contains("big-endian data ('>f8')", ReadBroken(b => Replace(b, "'<f8'", "'>f8'")).Message, StringComparison.Ordinal);

    [Fact]
    public void ReadMatrix_Throws_WhenTheHeaderHasNoShape() =>
        Assert.Contains("no valid 'shape' entry", ReadBroken(b => Replace(b, "'shape'", "'shope'")).Message, StringComparison.Ordinal);

    /// <summary>A matrix with more entries than one array holds is what streaming is for: its rows read a block at a
    /// time, while reading it whole fails naming the limit. The file is sparse (3,000,000 x 768 float64 announced, 18 GB,
    /// written as a header, one row of values at the end and a hole), so it costs no disk.</summary>
    [Fact]
    public void ReadRows_ReadsAMatrixLargerThanOneArray_WhichReadMatrixRefuses()
    {
        const int rows = 3_000_000, columns = 768;
        var path = NpyFiles.Write(Scratch("huge.npy"), "<f8", false, [rows, columns], Array.Empty<double>());
        var last = Enumerable.Range(0, columns).Select(j => j + 0.5).ToArray();
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            var header = stream.Length;
            stream.SetLength(header + (long)rows * columns * 8);
            stream.Seek(header + (long)(rows - 1) * columns * 8, SeekOrigin.Begin);
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(last.AsSpan()));
        }

        var block = Npy.ReadRows(path, rows - 2, 2);
        Assert.Equal((2, columns), (block.RowCount, block.ColumnCount));
        Assert.All(block.Row(0).ToArray(), x => Assert.Equal(0.0, x));
        Assert.Equal(last, block.Row(1).ToArray());
        var error = Assert.Throws<InvalidDataException>(() => Npy.ReadMatrix(path));
        Assert.Contains("a 3000000 x 768 matrix has more entries than one array holds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMatrix_Throws_ForAThreeDimensionalArray_AndPointsToReadStack()
    {
        var error = Assert.Throws<InvalidDataException>(() => Npy.ReadMatrix(Fixture("f8-C-2x3x4.npy")));
        Assert.Contains("expected a 2-D array, but the shape is (2, 3, 4); read a 3-D stack with readStack", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteStack_Throws_WhenShapesDiffer()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Npy.WriteStack(Scratch("x.npy"), new[] { Matrix<double>.Build.Dense(2, 2), Matrix<double>.Build.Dense(2, 3) }));
        Assert.Equal("matrices", error.ParamName);
        Assert.Contains("matrices[1] to have the shape of matrices[0] (2x2), but matrices[1] is 2x3", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Replace(byte[] bytes, string from, string to)
    {
        var text = System.Text.Encoding.Latin1.GetString(bytes);
        Assert.Contains(from, text, StringComparison.Ordinal);
        return System.Text.Encoding.Latin1.GetBytes(text.Replace(from, to, StringComparison.Ordinal));
    }
}

/// <summary>MatrixStack.ReadNpy: a stack kept in the file's dtype reads as Npy.ReadStack does, and trains as the same
/// matrices in memory do.</summary>
public sealed class MatrixStackTests : ScratchDirectory
{
    [Fact]
    public void ReadNpy_MatchesReadStack_ForEveryThreeDimensionalNumPyFixture()
    {
        var files = Directory.GetFiles(Path.GetDirectoryName(RepositoryFiles.PathOf(Path.Combine("tests", "fixtures", "npy", "x")))!, "*-2x3x4.npy");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var all = Npy.ReadStack(file);
            var stack = MatrixStack.ReadNpy(file, [1, 0, 1]);
            Assert.Equal((3, 3, 4), (stack.Count, stack.Rows, stack.Columns));
            Assert.Equal(all[1], stack[0]);
            Assert.Equal(all[0], stack[1]);
            Assert.Equal(all[1], stack[2]);
            Assert.Equal(new[] { all[1], all[0], all[1] }, stack.ToArray());
        }
    }

    [Fact]
    public void ReadNpy_RejectsIndicesOutOfRangeAndAnEmptySelection()
    {
        var file = Directory.GetFiles(Path.GetDirectoryName(RepositoryFiles.PathOf(Path.Combine("tests", "fixtures", "npy", "x")))!, "*-2x3x4.npy")[0];
        var outside = Assert.Throws<ArgumentOutOfRangeException>(() => MatrixStack.ReadNpy(file, [0, 2]));
        Assert.Equal("indices", outside.ParamName);
        Assert.Contains("[0, 2)", outside.Message, StringComparison.Ordinal);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => MatrixStack.ReadNpy(file, [])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => MatrixStack.ReadNpy(file, [0])[1]);
    }

    private static readonly Matrix<double>[] Frames = Enumerable.Range(0, 12)
        .Select(k => Matrix<double>.Build.Dense(9, 7, (i, j) => Math.Sin(1 + k + 0.3 * i * j) + (i == k % 9 ? 2.0 : 0.0)))
        .ToArray();

    [Fact]
    public void Train_OnAStackReadFromAFile_EqualsTrainingOnTheSameMatricesInMemory()
    {
        var path = Scratch("frames.npy");
        Npy.WriteStack(path, Frames);
        var options = Training.Defaults(rank: 2, sketchRows: 4) with { Steps = 12, BatchSize = 3, ValidationFraction = 0.25 };

        var inMemory = Training.Train(Frames, options);
        var fromStack = Training.Train(MatrixStack.ReadNpy(path, Enumerable.Range(0, Frames.Length).ToArray()), options);

        Assert.Equal(inMemory.LossHistory, fromStack.LossHistory);
        Assert.Equal(SketchFile.ToBytes(inMemory.Sketch), SketchFile.ToBytes(fromStack.Sketch));
        Assert.Equal(inMemory.ValidationError, fromStack.ValidationError);
    }

    [Fact]
    public void Train_OnAStackWithANonFiniteValue_NamesTheMatrix()
    {
        var path = Scratch("bad.npy");
        var bad = Frames.Select(m => m.Clone()).ToArray();
        bad[5][2, 3] = double.PositiveInfinity;
        Npy.WriteStack(path, bad);

        var error = Assert.Throws<ArgumentException>(() =>
            Training.Train(MatrixStack.ReadNpy(path, Enumerable.Range(0, bad.Length).ToArray()), Training.Defaults(2, 4)));
        Assert.Equal("matrices", error.ParamName);
        Assert.Contains("matrices[5]", error.Message, StringComparison.Ordinal);
    }
}
