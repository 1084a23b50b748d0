using System.Collections.Generic;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// NumPy .npy files, format versions 1.0, 2.0 and 3.0: 2-D matrices and 3-D stacks (count x rows x columns), dtypes
/// float64, float32, int8-64 and uint8-64 in little-endian, C or Fortran order.
/// </summary>
public static class Npy
{
    /// <summary>Reads a 2-D array as a matrix.</summary>
    /// <param name="path">The .npy file.</param>
    /// <returns>The matrix, in double precision.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">Not a .npy file, truncated, trailing data, an unsupported version or
    /// dtype, or not 2-D; the message names the file, the problem and the byte offset.</exception>
    public static Matrix<double> ReadMatrix(string path) => Core.Npy.ReadMatrix(path);

    /// <summary>Reads a 2-D n x d array as its transpose A^T (d x n), whose column-major storage is a C-order file's data
    /// as it lies: nothing is transposed (a Fortran-order file is read and transposed). What
    /// <see cref="Scw.ApproximateTransposedWithPower"/> takes.</summary>
    /// <param name="path">The file, as for <see cref="ReadMatrix"/>.</param>
    /// <returns>A^T, in double precision.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">As for <see cref="ReadMatrix"/>.</exception>
    /// <remarks>A C-order float64 file is read straight into the matrix's storage on every core (an 80,000 x 768 file in
    /// about 0.2 s, against 0.27-0.3 s for <see cref="ReadMatrix"/>, which transposes).</remarks>
    public static Matrix<double> ReadTransposed(string path) => Core.Npy.ReadTransposed(path);

    /// <summary>Rows <paramref name="first"/> .. first + count - 1 of a 2-D .npy matrix, read by positional reads
    /// without reading the rest: how each process of a cluster reads its own rows.</summary>
    /// <param name="path">The file, as for <see cref="ReadMatrix"/>.</param>
    /// <param name="first">The first row.</param>
    /// <param name="count">How many rows (0 gives a 0 x d matrix).</param>
    /// <returns>The rows, count x d.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">The rows lie outside the matrix.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">As for <see cref="ReadMatrix"/>.</exception>
    public static Matrix<double> ReadRows(string path, int first, int count) => Core.Npy.ReadRows(first, count, path);

    /// <summary>Examples <paramref name="first"/> .. first + count - 1 of a .npy array of any shape, one per index of its
    /// first axis, each flattened in C order to a row: a (N, 3, 224, 224) image stack gives rows of 150,528, token ids
    /// (N, T) rows of T, a vector (N) one column. Equals <see cref="ReadRows"/> on a 2-D matrix.</summary>
    /// <param name="path">The file: C order, or Fortran order for 1 or 2 axes.</param>
    /// <param name="first">The first example.</param>
    /// <param name="count">How many (0 gives a 0 x d matrix).</param>
    /// <returns>count x (product of the axes past the first), in double precision (integers up to 2^53 exactly).</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">The examples lie outside the array.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">As for <see cref="ReadMatrix"/>; also a 0-D array, or more
    /// than 2 axes in Fortran order.</exception>
    public static Matrix<double> ReadExamples(string path, int first, int count) => Core.Npy.ReadExamples(first, count, path);

    /// <summary>Reads a 3-D array (count x rows x columns) as a stack of matrices, for example video frames.</summary>
    /// <param name="path">The .npy file.</param>
    /// <returns>count matrices.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">As for <see cref="ReadMatrix"/>, or the array is not 3-D.</exception>
    public static Matrix<double>[] ReadStack(string path) => Core.Npy.ReadStack(path);

    /// <summary>
    /// Reads some matrices of a 3-D stack. For a C-order file (NumPy's default) only their bytes are read, so a few
    /// frames of a long video cost a few frames' time and memory.
    /// </summary>
    /// <param name="path">The .npy file.</param>
    /// <param name="indices">Indices into the stack, each in [0, count), in the order wanted; repeats give copies.</param>
    /// <returns>One matrix per index.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">An index is outside [0, count).</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">As for <see cref="ReadStack"/>.</exception>
    public static Matrix<double>[] ReadStackAt(string path, int[] indices) => Core.Npy.ReadStackAt(indices, path);

    /// <summary>The shape of the array in a .npy file, from its header alone (the data is not read).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The dimensions, outermost first: (rows, columns) for a matrix, (count, rows, columns) for a stack.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">The header is not a valid .npy header; the message names the file
    /// and the byte offset.</exception>
    public static int[] Shape(string path) => Core.Npy.Shape(path);

    /// <summary>Writes a matrix as a 2-D float64 .npy file (format 1.0, Fortran order), byte for byte as NumPy's np.save
    /// writes the same Fortran-ordered array.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="matrix">The matrix.</param>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    public static void WriteMatrix(string path, Matrix<double> matrix) => Core.Npy.WriteMatrix(path, matrix);

    /// <summary>Writes matrices of one shape as a 3-D float64 .npy file of shape (count, rows, columns), C order.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="matrices">At least one matrix, all of one shape.</param>
    /// <exception cref="System.ArgumentNullException">An argument or one of the matrices is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="matrices"/> is empty or the shapes differ.</exception>
    public static void WriteStack(string path, IEnumerable<Matrix<double>> matrices) => Core.Npy.WriteStack(path, matrices);
}
