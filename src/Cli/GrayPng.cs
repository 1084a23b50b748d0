using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;

namespace LowRank.Cli;

/// <summary>
/// Grayscale images as PNG files (8-bit gray, one pixel per matrix entry, no plotting package or font needed): the
/// reconstructions of `lowrank reproduce learned-sketches`. The format is PNG's (ISO/IEC 15948): the signature, an
/// IHDR chunk, one zlib-compressed IDAT chunk whose rows each start with filter byte 0, and IEND; every chunk ends in
/// the CRC-32 of its type and data.
/// </summary>
internal static class GrayPng
{
    internal static uint Crc(ReadOnlySpan<byte> bytes) => System.IO.Hashing.Crc32.HashToUInt32(bytes);

    private static void Chunk(Stream output, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        var typed = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type).CopyTo(typed, 0);
        data.CopyTo(typed, 4);
        output.Write(typed);
        Span<byte> crc = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc(typed));
        output.Write(crc);
    }

    /// <summary>Writes <paramref name="pixels"/> (rows x columns, 0 black to 255 white) as a PNG file.</summary>
    public static void Write(string path, byte[,] pixels)
    {
        int rows = pixels.GetLength(0), columns = pixels.GetLength(1);
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(0), columns);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), rows);
        header[8] = 8; // bit depth
        header[9] = 0; // grayscale; compression, filter and interlace methods 0

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var line = new byte[columns + 1];
            for (var i = 0; i < rows; i++)
            {
                line[0] = 0;
                for (var j = 0; j < columns; j++)
                    line[j + 1] = pixels[i, j];
                zlib.Write(line);
            }
        }

        using var file = File.Create(path);
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(file, "IHDR", header);
        Chunk(file, "IDAT", compressed.ToArray());
        Chunk(file, "IEND", []);
    }

    /// <summary>Matrices side by side (a gap of 8 white pixels between them) as gray levels: each entry clamped to
    /// [low, high] and mapped linearly to 0..255, so that every panel shares one scale.</summary>
    public static byte[,] SideBySide(double low, double high, params MathNet.Numerics.LinearAlgebra.Matrix<double>[] panels)
    {
        const int gap = 8;
        var rows = panels[0].RowCount;
        var columns = panels.Sum(p => p.ColumnCount) + gap * (panels.Length - 1);
        var pixels = new byte[rows, columns];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < columns; j++)
                pixels[i, j] = 255;
        var offset = 0;
        foreach (var panel in panels)
        {
            for (var i = 0; i < rows; i++)
                for (var j = 0; j < panel.ColumnCount; j++)
                    pixels[i, offset + j] = high > low ? (byte)Math.Round(255 * Math.Clamp((panel[i, j] - low) / (high - low), 0, 1)) : (byte)0;
            offset += panel.ColumnCount + gap;
        }
        return pixels;
    }
}
