using System;
using System.Collections.Generic;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// A sketching matrix S (m x n), applied to an n x d matrix A as S A without forming a dense S when S is sparse.
/// Random sketches are deterministic functions of their seed (System.Random(seed), whose seeded sequence .NET keeps
/// stable across versions).
/// </summary>
/// <example>
/// <code>
/// var sketch = Sketch.Stack(Sketch.CountSketch(rows: 10, columns: 200, seed: 1), Sketch.Gaussian(10, 200, seed: 2));
/// Matrix&lt;double&gt; sa = sketch.Apply(a);   // 20 x d
/// </code>
/// </example>
public sealed class Sketch : IEquatable<Sketch>
{
    internal Sketch(Core.Sketch core) => Core = core;

    internal Core.Sketch Core { get; }

    /// <summary>The core sketch, or null for a null sketch: the null flows on on purpose, so that the core's
    /// ArgumentNullException names the caller's argument and there is one check, not two.</summary>
    internal static Core.Sketch CoreOf(Sketch? sketch) => sketch?.Core!;

    /// <summary>The number of rows m (the sketch size).</summary>
    public int Rows => LowRank.Core.SketchModule.Rows(Core);

    /// <summary>The number of columns n, which must equal the rows of every matrix the sketch is applied to.</summary>
    public int Columns => LowRank.Core.SketchModule.Columns(Core);

    /// <summary>
    /// A random CountSketch (Clarkson and Woodruff 2017; the "sparse random" sketch of Indyk, Vakilian and Yuan): each
    /// column i has one nonzero, a random sign, in a uniformly random row h(i).
    /// </summary>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="columns">n &gt;= 1.</param>
    /// <param name="seed">The seed; the same seed and sizes give the same sketch.</param>
    /// <returns>The sketch, stored in O(n) memory; applying it costs O(nnz(A) + m d).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is less than 1.</exception>
    public static Sketch CountSketch(int rows, int columns, int seed) =>
        new(LowRank.Core.SketchModule.CountSketch(seed, rows, columns));

    /// <summary>A counter-based CountSketch: column i's row and sign are a fixed function of (<paramref name="seed"/>, i)
    /// (SplitMix64), so any process builds any range of columns alone and row blocks of a matrix spread over machines
    /// are sketched by the same S in any order. O(n) time and memory.</summary>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="columns">n &gt;= 1.</param>
    /// <param name="seed">Seed; column i is the same for every n &gt; i.</param>
    /// <exception cref="ArgumentOutOfRangeException">rows or columns is less than 1.</exception>
    public static Sketch HashedCountSketch(int rows, int columns, int seed) =>
        new(LowRank.Core.SketchModule.HashedCountSketch(seed, rows, columns));

    /// <summary>Columns <paramref name="offset"/> .. offset + count - 1 of <see cref="HashedCountSketch"/>, as a sketch of
    /// <paramref name="count"/> columns: the part of S for one row block of A, built without the rest.</summary>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="offset">The first global column (row of A), &gt;= 0.</param>
    /// <param name="count">How many columns, &gt;= 1.</param>
    /// <param name="seed">Seed.</param>
    /// <exception cref="ArgumentOutOfRangeException">rows or count is less than 1, or offset is negative.</exception>
    public static Sketch HashedCountSketchColumns(int rows, long offset, int count, int seed) =>
        new(LowRank.Core.SketchModule.HashedCountSketchColumns(seed, rows, offset, count));

    /// <summary>A CountSketch-shaped sketch with given positions and values, as a learned sketch has.</summary>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="hash">The row of each column's nonzero, each in [0, m); its length is n &gt;= 1.</param>
    /// <param name="values">The value of each column's nonzero, finite, of length n; copied.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="hash"/> or <paramref name="values"/> is null.</exception>
    /// <exception cref="ArgumentException">The lengths differ or are 0, a hash is out of range, or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is less than 1.</exception>
    public static Sketch FromCountSketch(int rows, int[] hash, double[] values) =>
        new(LowRank.Core.SketchModule.FromCountSketch(rows, hash, values));

    /// <summary>The n x n identity as a sketch; SCW with it is the exact truncated SVD.</summary>
    /// <param name="size">n &gt;= 1.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is less than 1.</exception>
    public static Sketch Identity(int size) => new(LowRank.Core.SketchModule.Identity(size));

    /// <summary>A dense Gaussian sketch with independent N(0, 1/m) entries, so that E ||S x||^2 = ||x||^2.</summary>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="columns">n &gt;= 1.</param>
    /// <param name="seed">The seed; the same seed and sizes give the same sketch.</param>
    /// <returns>The sketch, stored densely; applying it costs O(m n d).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is less than 1.</exception>
    public static Sketch Gaussian(int rows, int columns, int seed) =>
        new(LowRank.Core.SketchModule.Gaussian(seed, rows, columns));

    /// <summary>A dense sketch with the given entries (copied).</summary>
    /// <param name="matrix">S: nonempty and finite.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="matrix"/> is empty or has a NaN or infinite entry.</exception>
    public static Sketch FromMatrix(Matrix<double> matrix) => new(LowRank.Core.SketchModule.FromMatrix(matrix));

    /// <summary>
    /// Stacks sketches' rows, [S1; S2; ...]: how mixed learned+random sketches are built. By Theorem 1 of Indyk,
    /// Vakilian and Yuan (NeurIPS 2019), SCW with the stack is never worse than with any one part.
    /// </summary>
    /// <param name="sketches">At least one sketch, all with the same number of columns.</param>
    /// <returns>The stacked sketch.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sketches"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="sketches"/> is empty or the column counts differ.</exception>
    public static Sketch Stack(params Sketch[] sketches) => Stack((IEnumerable<Sketch>)sketches);

    /// <inheritdoc cref="Stack(Sketch[])"/>
    public static Sketch Stack(IEnumerable<Sketch> sketches) =>
        new(LowRank.Core.SketchModule.Stack(sketches?.Select(CoreOf)!));

    /// <summary>S A: the m x d sketch of an n x d matrix A.</summary>
    /// <param name="matrix">A: nonempty, finite, dense or sparse, with n rows.</param>
    /// <returns>A new dense m x d matrix.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="matrix"/> is empty, not finite, or has a row count other than
    /// <see cref="Columns"/>.</exception>
    /// <remarks>A CountSketch costs O(nnz(A) + m d) and never forms S; a dense sketch costs O(m n d).</remarks>
    public Matrix<double> Apply(Matrix<double> matrix) => LowRank.Core.SketchModule.Apply(matrix, Core);

    /// <inheritdoc cref="Apply(Matrix{double})"/>
    public Matrix<double> Apply(double[,] matrix) =>
        LowRank.Core.SketchModule.Apply(Matrices.Of(matrix, nameof(matrix)), Core);

    /// <summary>
    /// Sketches one block of A's rows, S[:, rowOffset .. rowOffset + b) * block, to stream a tall A through S; the sum
    /// over blocks that partition A's rows is S A.
    /// </summary>
    /// <param name="rowOffset">The index in A of the block's first row.</param>
    /// <param name="block">b rows of A: nonempty and finite.</param>
    /// <returns>A new dense m x d matrix.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="block"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="block"/> is empty or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The block does not lie within the sketch's columns.</exception>
    public Matrix<double> ApplyToRowBlock(int rowOffset, Matrix<double> block) =>
        LowRank.Core.SketchModule.ApplyToRowBlock(rowOffset, block, Core);

    /// <summary>The dense m x n matrix S, for inspection; O(m n) memory.</summary>
    /// <returns>A new dense matrix.</returns>
    public Matrix<double> ToMatrix() => LowRank.Core.SketchModule.ToMatrix(Core);

    /// <summary>Whether both sketches have the same kind, shape and entries.</summary>
    /// <param name="other">Another sketch.</param>
    /// <returns>True when they are equal.</returns>
    public bool Equals(Sketch? other) => other is not null && Core.Equals(other.Core);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Sketch);

    /// <inheritdoc/>
    public override int GetHashCode() => Core.GetHashCode();

    /// <summary>The kind and shape, for example "CountSketch 20x200".</summary>
    /// <returns>A short description.</returns>
    public override string ToString() => Core.ToString();
}
