using System;
using System.Collections;
using System.Collections.Generic;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// A read-only list of matrices of one shape, stored compactly and converted to double precision when used: a .npy
/// stack of uint8 video frames takes one byte per entry instead of eight. <see cref="Training.Train"/> reads a stack a
/// matrix at a time, so training holds the stack plus a few frames in double precision.
/// </summary>
/// <example>
/// <code>
/// var frames = MatrixStack.ReadNpy("data/vtest.npy", Enumerable.Range(0, 600).ToArray());   // 265 MB, not 2.1 GB
/// TrainingResult result = Training.Train(frames, Training.Defaults(rank: 10, sketchRows: 20));
/// </code>
/// </example>
/// <remarks>The indexer and the enumerator return a new matrix each time (O(rows columns) time and memory).</remarks>
public sealed class MatrixStack : IReadOnlyList<Matrix<double>>
{
    internal MatrixStack(Core.MatrixStack core) => Core = core;

    internal Core.MatrixStack Core { get; }

    /// <summary>The number of matrices.</summary>
    public int Count => Core.Count;

    /// <summary>The rows of every matrix.</summary>
    public int Rows => Core.Rows;

    /// <summary>The columns of every matrix.</summary>
    public int Columns => Core.Columns;

    /// <summary>Matrix <paramref name="index"/> (from 0), as a new dense matrix.</summary>
    /// <param name="index">In [0, <see cref="Count"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public Matrix<double> this[int index] => Core[index];

    /// <summary>A stack over matrices already in memory, without copying them; it reflects later changes to them.</summary>
    /// <param name="matrices">At least one matrix, none null, all of one shape.</param>
    /// <returns>The stack.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="matrices"/> or one of them is null.</exception>
    /// <exception cref="ArgumentException">The sequence is empty or the shapes differ (the message names the index).</exception>
    public static MatrixStack OfMatrices(IEnumerable<Matrix<double>> matrices) =>
        new(LowRank.Core.MatrixStackModule.OfMatrices(matrices));

    /// <summary>The matrices <paramref name="indices"/> of a 3-D .npy stack (count, rows, columns), kept in the file's
    /// own dtype and converted when used; a Fortran-order stack is read into double precision instead.</summary>
    /// <param name="path">The file, as for <see cref="Npy.ReadStack"/>.</param>
    /// <param name="indices">Indices into the first axis, each in [0, count); repeats share storage.</param>
    /// <returns>The stack, in the order of <paramref name="indices"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="indices"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="indices"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, count).</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">As for <see cref="Npy.ReadStack"/>.</exception>
    public static MatrixStack ReadNpy(string path, int[] indices) => new(LowRank.Core.MatrixStackModule.ReadNpy(indices, path));

    /// <summary>Matrices <paramref name="first"/> .. first + count - 1 of a stack, sharing its storage (nothing is copied
    /// or converted): a rank's share of a training set in data-parallel training.</summary>
    /// <param name="stack">The stack.</param>
    /// <param name="first">The first index.</param>
    /// <param name="count">How many, at least 1.</param>
    /// <returns>The slice.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stack"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range lies outside the stack or is empty.</exception>
    public static MatrixStack Slice(MatrixStack stack, int first, int count) =>
        new(LowRank.Core.MatrixStackModule.Slice(first, count, stack?.Core!));

    /// <inheritdoc />
    public IEnumerator<Matrix<double>> GetEnumerator() => ((IEnumerable<Matrix<double>>)Core).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => Core.ToString();

    /// <summary>The core stack for a facade stack, else the sequence itself.</summary>
    internal static IEnumerable<Matrix<double>> CoreOf(IEnumerable<Matrix<double>> matrices) =>
        matrices is MatrixStack stack ? stack.Core : matrices;
}
