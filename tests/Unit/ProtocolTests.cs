using System;
using System.IO;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>The Theorem 3.1 protocol: Bob rebuilds Alice's approximation, and bad bytes are rejected with a reason.</summary>
public class ProtocolTests
{
    private static readonly Matrix<double> A = Matrix<double>.Build.Random(30, 12, 31)
        .PointwiseMultiply(Matrix<double>.Build.Random(30, 12, 32).Map(x => x > 0.5 ? 1.0 : 0.0));

    private static readonly Weights W = Weights.RankOne(System.Linq.Enumerable.Repeat(1.5, 30).ToArray(), System.Linq.Enumerable.Repeat(0.5, 12).ToArray());

    private static byte[] MessageBytes() => Protocol.ToBytes(Protocol.Send(A, W, rank: 3, columns: 5));

    [Fact]
    public void Receive_RebuildsTheColumnSubsetApproximation_FromTheBytesAlone()
    {
        var message = Protocol.FromBytes(MessageBytes());
        var expected = Wlra.ColumnSubset(A, W, rank: 3, columns: 5).Approximation.ToMatrix();
        Assert.True((Protocol.Receive(W, message) - expected).FrobeniusNorm() <= 1e-12 * (1 + expected.FrobeniusNorm()));
        Assert.Equal(8L * MessageBytes().Length, Protocol.SizeInBits(message));
    }

    [Fact]
    public void FromBytes_Throws_WhenTruncated()
    {
        var bytes = MessageBytes();
        var error = Assert.Throws<InvalidDataException>(() => Protocol.FromBytes(bytes[..^3]));
        Assert.Contains("CRC-32", error.Message, StringComparison.Ordinal);
        // Truncated inside X with a valid CRC: the field check still catches it.
        var resealed = Crc32.Resealed([.. bytes[..^12], 0, 0, 0, 0]);
        Assert.Contains("truncated while reading X", Assert.Throws<InvalidDataException>(() => Protocol.FromBytes(resealed)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_Throws_WhenTheMagicIsWrong()
    {
        var bytes = MessageBytes();
        bytes[0] = (byte)'X';
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => Protocol.FromBytes(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_Throws_WhenAColumnIndexIsOutOfRange()
    {
        var bytes = MessageBytes();
        BitConverter.GetBytes(99).CopyTo(bytes, 17); // the first column index follows 4 + 1 + 12 header bytes
        var error = Assert.Throws<InvalidDataException>(() => Protocol.FromBytes(Crc32.Resealed(bytes)));
        Assert.Contains("column index 0 = 99, expected 0..11", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_Throws_WhenBytesTrail()
    {
        var bytes = MessageBytes();
        Array.Resize(ref bytes, bytes.Length + 2);
        Assert.Contains("CRC-32", Assert.Throws<InvalidDataException>(() => Protocol.FromBytes(bytes)).Message, StringComparison.Ordinal);
        Assert.Contains("2 bytes of trailing data", Assert.Throws<InvalidDataException>(() => Protocol.FromBytes(Crc32.Resealed(bytes))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_Throws_WhenAnyBitOfAValueFlips()
    {
        var bytes = MessageBytes();
        for (var position = 5; position < bytes.Length - 4; position += 7)
        {
            var mutant = (byte[])bytes.Clone();
            mutant[position] ^= 0x10;
            Assert.Throws<InvalidDataException>(() => Protocol.FromBytes(mutant));
        }
    }

    [Fact]
    public void FromBytes_Throws_WhenAValueIsNotFinite()
    {
        var bytes = MessageBytes();
        BitConverter.GetBytes(double.NaN).CopyTo(bytes, bytes.Length - 12); // the last entry of X
        var error = Assert.Throws<InvalidDataException>(() => Protocol.FromBytes(Crc32.Resealed(bytes)));
        Assert.Contains("not finite", error.Message, StringComparison.Ordinal);
    }
}
