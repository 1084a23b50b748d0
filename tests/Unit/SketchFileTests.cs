using System;
using System.IO;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>The versioned sketch file: every kind round-trips, and bad files are rejected with a reason.</summary>
public class SketchFileTests : ScratchDirectory
{
    private static readonly Sketch Stacked = Sketch.Stack(
        Sketch.CountSketch(rows: 4, columns: 9, seed: 1),
        Sketch.Gaussian(rows: 3, columns: 9, seed: 2),
        Sketch.FromCountSketch(rows: 2, hash: [0, 1, 1, 0, 1, 0, 0, 1, 1], values: [0.5, -2, 3, 0, 1e-300, 7, -1, 2, 4]));

    [Fact]
    public void SaveAndLoad_RoundTripEveryKindExactly()
    {
        var path = Scratch("stacked.sketch");
        SketchFile.Save(path, Stacked);

        var loaded = SketchFile.Load(path);

        Assert.Equal(Stacked, loaded);
        var a = Matrix<double>.Build.Random(9, 5, 3);
        Assert.Equal(Stacked.Apply(a), loaded.Apply(a));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void FromBytes_Throws_WhenTruncated()
    {
        var bytes = SketchFile.ToBytes(Stacked);
        var error = Assert.Throws<InvalidDataException>(() => SketchFile.FromBytes(bytes[..^10]));
        Assert.Contains("CRC-32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_Throws_WhenABitFlips()
    {
        var bytes = SketchFile.ToBytes(Stacked);
        bytes[40] ^= 1;
        var error = Assert.Throws<InvalidDataException>(() => SketchFile.FromBytes(bytes));
        Assert.Contains("corrupted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Throws_NamingTheFile_WhenItIsNotASketchFile()
    {
        var path = Scratch("frames.npy");
        File.WriteAllBytes(path, [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        var error = Assert.Throws<InvalidDataException>(() => SketchFile.Load(path));
        Assert.StartsWith(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("not a LowRank sketch file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_Throws_WhenTheVersionIsNewer()
    {
        var bytes = SketchFile.ToBytes(Stacked);
        bytes[8] = 2;
        var error = Assert.Throws<InvalidDataException>(() => SketchFile.FromBytes(bytes));
        Assert.Contains("format version 2 is not supported", error.Message, StringComparison.Ordinal);
    }
}
