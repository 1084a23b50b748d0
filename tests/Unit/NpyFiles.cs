using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace LowRank.Unit;

/// <summary>.npy files of any element type, shape and order, written byte by byte as NumPy's format 1.0 defines them
/// (the library itself writes only float64), for reading tests.</summary>
internal static class NpyFiles
{
    /// <summary>Writes <paramref name="values"/> (already in the file's element order) with the given header.</summary>
    public static string Write<T>(string path, string descr, bool fortran, int[] shape, T[] values)
        where T : struct
    {
        var dims = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {dims}, }}";
        // Magic (6) + version (2) + length (2) + dictionary + padding + '\n', a multiple of 64 bytes.
        var padding = 63 - (10 + dict.Length) % 64;
        var header = dict + new string(' ', padding) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, .. "NUMPY"u8, 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        return path;
    }

    /// <summary>A C-order int64 array ('&lt;i8').</summary>
    public static string Int64(string path, int[] shape, long[] values) => Write(path, "<i8", false, shape, values);

    /// <summary>A C-order float32 array ('&lt;f4').</summary>
    public static string Float32(string path, int[] shape, float[] values) => Write(path, "<f4", false, shape, values);
}
