using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed (uint8, int8, int16, int32, float32 and
/// float64 data, big-endian, row-major).
/// </summary>
public static class Idx
{
    /// <summary>
    /// Reads an IDX file as a matrix with one row per item: (count, d1, d2, ...) becomes count rows of d1 d2 ... entries (an
    /// image per row); a 1-D array (labels) becomes one column.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The matrix, in double precision.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">Not an IDX file, an unknown type, a corrupt gzip stream, or a size
    /// that does not match the dimensions.</exception>
    public static Matrix<double> ReadRows(string path) => Core.Idx.ReadRows(path);

    /// <summary>Reads a 3-D IDX file (count, rows, columns) as a stack of matrices.</summary>
    /// <param name="path">The file.</param>
    /// <returns>count matrices.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">As for <see cref="ReadRows"/>, or the array is not 3-D.</exception>
    public static Matrix<double>[] ReadStack(string path) => Core.Idx.ReadStack(path);
}

/// <summary>Comma-separated numbers: one matrix row per line, invariant culture, blank lines ignored, no header.</summary>
public static class Csv
{
    /// <summary>Reads a CSV file of numbers as a matrix.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The matrix.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">A field is not a number, the rows differ in length, or there are
    /// no rows; the message names the file, line and field.</exception>
    public static Matrix<double> ReadMatrix(string path) => Core.Csv.ReadMatrix(path);

    /// <summary>Writes a matrix as CSV with round-trip number formatting, so reading it back gives the same doubles.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="matrix">The matrix.</param>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    public static void WriteMatrix(string path, Matrix<double> matrix) => Core.Csv.WriteMatrix(path, matrix);
}
