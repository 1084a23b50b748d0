namespace LowRank;

/// <summary>
/// Saves and loads sketches of every kind (CountSketch, Gaussian or other dense, stacked, learned) in a documented,
/// versioned binary format.
/// </summary>
/// <remarks>
/// Format, version 1, little-endian: the ASCII magic "LRSKETCH", uint16 version = 1, one sketch, and the CRC-32 (IEEE)
/// of all preceding bytes. A sketch is a kind byte then its data: 1 = CountSketch (int32 m, int32 n, n int32 hashes in
/// [0, m), n float64 values), 2 = dense (int32 m, int32 n, m n float64 entries in column-major order), 3 = stacked
/// (int32 count &gt;= 1, then that many sketches with one column count).
/// </remarks>
/// <example>
/// <code>
/// SketchFile.Save("learned.sketch", result.Sketch);
/// Sketch sketch = SketchFile.Load("learned.sketch");
/// </code>
/// </example>
public static class SketchFile
{
    /// <summary>The sketch in the version-1 format.</summary>
    /// <param name="sketch">Any sketch.</param>
    /// <returns>16 + 12 n bytes for an m x n CountSketch, 19 + 8 m n for a dense one.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="sketch"/> is null.</exception>
    public static byte[] ToBytes(Sketch sketch) => Core.SketchFile.ToBytes(Sketch.CoreOf(sketch));

    /// <summary>Reads a sketch from bytes in the version-1 format.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The sketch, complete and validated (hashes in range, finite values).</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="bytes"/> is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">The bytes are not a sketch file, have another version, are truncated or
    /// corrupted (CRC-32 mismatch), or hold invalid content; the message says which.</exception>
    public static Sketch FromBytes(byte[] bytes) => new(Core.SketchFile.FromBytes(bytes));

    /// <summary>Writes a sketch to a file, replacing it; written under a temporary name and renamed, so an interrupted
    /// save never leaves a half-written file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="sketch">The sketch.</param>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    public static void Save(string path, Sketch sketch) => Core.SketchFile.Save(path, Sketch.CoreOf(sketch));

    /// <summary>Reads a sketch file written by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">As for <see cref="FromBytes"/>, with the path in the message.</exception>
    public static Sketch Load(string path) => new(Core.SketchFile.Load(path));
}
