using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// The sketch S that a streaming or distributed SCW applies to A one row block at a time: the counter-based CountSketch
/// of (seed, rows), whose column i comes from (seed, i) alone so that A may have any number of rows, or a given sketch
/// with exactly n columns (for example a trained one).
/// </summary>
public sealed class BlockSketch
{
    private BlockSketch(Core.BlockSketch core) => Core = core;

    internal Core.BlockSketch Core { get; }

    internal static Core.BlockSketch CoreOf(BlockSketch? sketch) => sketch?.Core!;

    /// <summary>The counter-based CountSketch of <paramref name="seed"/> with <paramref name="rows"/> rows
    /// (<see cref="Sketch.HashedCountSketch"/> for any number of columns).</summary>
    /// <param name="seed">Seed.</param>
    /// <param name="rows">m &gt;= 1.</param>
    /// <returns>The block sketch.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is less than 1.</exception>
    public static BlockSketch Hashed(int seed, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        return new(LowRank.Core.BlockSketch.NewHashed(seed, rows));
    }

    /// <summary>A given sketch with one column per row of A.</summary>
    /// <param name="sketch">S (m x n).</param>
    /// <returns>The block sketch.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sketch"/> is null.</exception>
    public static BlockSketch Of(Sketch sketch)
    {
        ArgumentNullException.ThrowIfNull(sketch);
        return new(LowRank.Core.BlockSketch.NewGiven(Sketch.CoreOf(sketch)));
    }

    /// <summary>A short description.</summary>
    /// <returns>For example "Hashed (1, 20)".</returns>
    public override string ToString() => Core.ToString();
}

/// <summary>
/// S A of a counter-based CountSketch accumulated over row blocks of A: the state of a sketch of a matrix that arrives in
/// pieces. Two states of the same sketch merge by adding; a state is saved and read back bit for bit (format documented
/// on the F# module: "LRSKSTAT", version, seed, m, d, rows covered, S A, CRC-32).
/// </summary>
public sealed class SketchState : IEquatable<SketchState>
{
    private SketchState(Core.SketchState core) => Core = core;

    internal Core.SketchState Core { get; }

    /// <summary>The sketch's seed.</summary>
    public int SketchSeed => Core.SketchSeed;

    /// <summary>m, the rows of S and of S A.</summary>
    public int Rows => Core.Rows;

    /// <summary>d, the columns of A and of S A.</summary>
    public int Columns => Core.Columns;

    /// <summary>How many rows of A the state holds.</summary>
    public long RowsCovered => Core.RowsCovered;

    /// <summary>S A so far, as a new m x d matrix.</summary>
    public Matrix<double> Value => Core.Value;

    /// <summary>The state of no rows yet: S A = 0.</summary>
    /// <param name="seed">The counter-based CountSketch's seed.</param>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="columns">d &gt;= 1.</param>
    /// <returns>The empty state.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is less than 1.</exception>
    public static SketchState Empty(int seed, int rows, int columns) => new(LowRank.Core.SketchStateModule.Empty(seed, rows, columns));

    /// <summary>Adds one row block of A (blocks added to states that are later merged must not overlap).</summary>
    /// <param name="state">The state to add to (unchanged).</param>
    /// <param name="rowOffset">The index in A of the block's first row, &gt;= 0.</param>
    /// <param name="block">b x d rows of A: nonempty and finite.</param>
    /// <returns>A new state.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="block"/> is empty, not finite or has other columns.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rowOffset"/> is negative.</exception>
    public static SketchState Add(SketchState state, long rowOffset, Matrix<double> block) =>
        new(LowRank.Core.SketchStateModule.Add(rowOffset, block, state?.Core!));

    /// <summary>Merges two states of the same sketch built from disjoint row blocks.</summary>
    /// <param name="first">A state.</param>
    /// <param name="second">A state with the same seed, rows and columns.</param>
    /// <returns>The state of their union.</returns>
    /// <exception cref="ArgumentNullException">A state is null.</exception>
    /// <exception cref="ArgumentException">The states belong to different sketches or shapes.</exception>
    public static SketchState Merge(SketchState first, SketchState second) =>
        new(LowRank.Core.SketchStateModule.Merge(first?.Core!, second?.Core!));

    /// <summary>The state's bytes.</summary>
    /// <param name="state">The state.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    public static byte[] ToBytes(SketchState state) => LowRank.Core.SketchStateModule.ToBytes(state?.Core!);

    /// <summary>Reads a state from <see cref="ToBytes"/>' format.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The state.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="bytes"/> is null.</exception>
    /// <exception cref="InvalidDataException">The bytes are not a valid state.</exception>
    public static SketchState FromBytes(byte[] bytes) => new(LowRank.Core.SketchStateModule.FromBytes(bytes));

    /// <summary>Saves a state, atomically (a temporary file renamed into place).</summary>
    /// <param name="path">The file.</param>
    /// <param name="state">The state.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, SketchState state) => LowRank.Core.SketchStateModule.Save(path, state?.Core!);

    /// <summary>Reads a state saved by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The state.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid state.</exception>
    public static SketchState Load(string path) => new(LowRank.Core.SketchStateModule.Load(path));

    /// <inheritdoc/>
    public bool Equals(SketchState? other) => other is not null && Core.Equals(other.Core);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SketchState);

    /// <inheritdoc/>
    public override int GetHashCode() => Core.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => Core.ToString();
}

/// <summary>SCW of a matrix streamed from a file: the left factor was written to a file; this holds the rest.</summary>
public sealed class StreamedApproximation
{
    internal StreamedApproximation(Core.StreamedApproximation core) => this.core = core;

    private readonly Core.StreamedApproximation core;

    /// <summary>n, the rows of A and of the left factor.</summary>
    public int Rows => core.Rows;

    /// <summary>k' x d with orthonormal rows: the approximation's row space.</summary>
    public Matrix<double> Right => core.Right;

    /// <summary>The k' singular values, descending.</summary>
    public IReadOnlyList<double> SingularValues => Array.AsReadOnly(core.SingularValues);

    /// <summary>||A - SCW(S, A)||_F, from ||A||_F^2 - sum sigma_i^2 over the kept singular values; when that would keep
    /// fewer than 8 digits (a nearly exact approximation), from one more pass that forms each block's residual.</summary>
    public double Error => core.Error;
}

/// <summary>
/// SCW(S, A) of a matrix read one row block at a time, in two passes: S A first, then A V block by block into the R
/// factor of a tall-skinny QR, so neither A nor A V is held. Equal to <see cref="Scw.Approximate(Matrix{double}, Sketch, int)"/>
/// up to rounding.
/// </summary>
public static class Streaming
{
    /// <summary>SCW(S, A) of a matrix given as row blocks (enumerated twice).</summary>
    /// <param name="blocks">A's rows in blocks, each nonempty, finite, with d columns; the second enumeration must give
    /// the same blocks.</param>
    /// <param name="sketch">S with m &gt;= k rows.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <returns>The approximation; Left (n x k') is the only n-sized thing held.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">No block, a bad block, a differing second pass, or a sketch that does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)].</exception>
    public static LowRankApproximation ApproximateRows(IEnumerable<Matrix<double>> blocks, BlockSketch sketch, int rank) =>
        new(LowRank.Core.Streaming.ApproximateRows(rank, BlockSketch.CoreOf(sketch), blocks));

    /// <summary>SCW(S, A) of a 2-D .npy matrix larger than memory, read in blocks of rows in two
    /// passes; the left factor (n x k', float64, C order) is written to <paramref name="leftPath"/>.</summary>
    /// <param name="path">A's .npy file.</param>
    /// <param name="sketch">S with m &gt;= k rows.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="blockRows">Rows per block: memory is O(m d + blockRows d).</param>
    /// <param name="leftPath">Where the left factor is written.</param>
    /// <param name="progress">Told after every block of both passes; null for none.</param>
    /// <param name="cancellationToken">Checked before every block: cancelling stops within one block, before the left
    /// factor's file is created.</param>
    /// <returns>Right, the singular values and the error.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A has a NaN or infinite entry (its row is named) or the sketch does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> or <paramref name="blockRows"/> is out of range.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid 2-D .npy file.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static StreamedApproximation ApproximateFile(string path, BlockSketch sketch, int rank, int blockRows, string leftPath,
        IProgress<StreamingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ApproximateFileWithPower(path, sketch, rank, 0, blockRows, leftPath, progress, cancellationToken);

    /// <summary><see cref="ApproximateFile"/> with q power iterations after the sketch, one more pass over the file each:
    /// V_(i+1) = orth(A^T A V_i) accumulated block by block, and the result is [A V_q]_k V_q^T (Halko, Martinsson and
    /// Tropp 2011); its error equals <see cref="Scw.ApproximateWithPower"/>'s in memory up to eps ||A||_F.</summary>
    /// <param name="path">A's .npy file.</param>
    /// <param name="sketch">S with m &gt;= k rows.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="powerIterations">q &gt;= 0; 0 is <see cref="ApproximateFile"/>.</param>
    /// <param name="blockRows">Rows per block: memory is O(m d + blockRows d).</param>
    /// <param name="leftPath">Where the left factor is written.</param>
    /// <param name="progress">Told after every block of every pass; null for none.</param>
    /// <param name="cancellationToken">Checked before every block: cancelling stops within one block.</param>
    /// <returns>Right, the singular values and the error.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A has a NaN or infinite entry (its row is named) or the sketch does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/>, <paramref name="powerIterations"/> or
    /// <paramref name="blockRows"/> is out of range.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid 2-D .npy file.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <remarks>q + 2 passes over A; one pass per iteration (A^T (A V) summed over blocks, then a QR of the d x m sum)
    /// resolves the directions above sqrt(eps) sigma_1, which is what a rank-k error can see.</remarks>
    public static StreamedApproximation ApproximateFileWithPower(
        string path, BlockSketch sketch, int rank, int powerIterations, int blockRows, string leftPath,
        IProgress<StreamingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new(LowRank.Core.Streaming.ApproximateFileWithPower(powerIterations, rank, BlockSketch.CoreOf(sketch), blockRows,
            Reporters.Of<Core.StreamingProgress, StreamingProgress>(progress, p => new StreamingProgress(p.Pass, p.Passes, p.Rows, p.TotalRows)),
            cancellationToken, path, leftPath));

    /// <summary><see cref="ApproximateFileWithPower"/> on a worker thread, for callers that must not block.</summary>
    /// <param name="path">A's .npy file.</param>
    /// <param name="sketch">S with m &gt;= k rows.</param>
    /// <param name="rank">k.</param>
    /// <param name="powerIterations">q &gt;= 0.</param>
    /// <param name="blockRows">Rows per block.</param>
    /// <param name="leftPath">Where the left factor is written.</param>
    /// <param name="progress">Told after every block of every pass; null for none.</param>
    /// <param name="cancellationToken">Checked before every block; cancelling ends the task cancelled.</param>
    /// <returns>A task completing with the result; argument errors fault it with the exceptions of ApproximateFileWithPower.</returns>
    public static Task<StreamedApproximation> ApproximateFileAsync(
        string path, BlockSketch sketch, int rank, int powerIterations, int blockRows, string leftPath,
        IProgress<StreamingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => ApproximateFileWithPower(path, sketch, rank, powerIterations, blockRows, leftPath, progress, cancellationToken),
            cancellationToken);
}

/// <summary>How far a streamed approximation of a file is, reported after every block of every pass over A.</summary>
/// <param name="Pass">The pass over A, from 1: 1 forms S A, 2 .. q + 1 are the power iterations, q + 2 forms A V.</param>
/// <param name="Passes">The passes in all: q + 2, and one more when a nearly exact approximation's error is formed block by block.</param>
/// <param name="Rows">Rows read in this pass so far.</param>
/// <param name="TotalRows">Rows of A, n.</param>
public sealed record StreamingProgress(int Pass, int Passes, int Rows, int TotalRows);
