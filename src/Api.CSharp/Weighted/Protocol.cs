using System;
using System.IO;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// Alice's message in the communication protocol of Woodruff and Yasuda (2024, Theorem 3.1): the selected column
/// indices, those columns of A stored sparsely, and X.
/// </summary>
public sealed class ProtocolMessage
{
    internal ProtocolMessage(Core.ProtocolMessage core) => Core = core;

    internal Core.ProtocolMessage Core { get; }

    /// <summary>The message's null flows on to the core, whose exception names the caller's argument.</summary>
    internal static Core.ProtocolMessage CoreOf(ProtocolMessage? message) => message?.Core!;

    /// <summary>n, the rows of A.</summary>
    public int Rows => Core.Rows;

    /// <summary>d, the columns of A.</summary>
    public int Columns => Core.Columns;

    /// <summary>The selected column indices.</summary>
    public System.Collections.Generic.IReadOnlyList<int> Selected => Array.AsReadOnly(Core.Selected);
}

/// <summary>
/// The communication protocol of Woodruff and Yasuda (2024, Theorem 3.1): Alice, who holds A, sends Bob, who knows W, a
/// message from which he rebuilds the column-subset approximation. Its binary format (documented on the F# module) is
/// versioned, and reading a truncated or corrupted message throws <see cref="InvalidDataException"/>.
/// </summary>
public static class Protocol
{
    /// <summary>Alice's side: column subset selection on W o A and the message carrying the chosen columns of A and X.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W, known to both parties.</param>
    /// <param name="rank">k.</param>
    /// <param name="columns">c, with r k &lt;= c &lt;= d.</param>
    /// <returns>The message.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="Wlra.ColumnSubset"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As for <see cref="Wlra.ColumnSubset"/>.</exception>
    public static ProtocolMessage Send(Matrix<double> matrix, Weights weights, int rank, int columns) =>
        new(Core.Protocol.Send(columns, rank, Weights.CoreOf(weights), matrix));

    /// <summary>Bob's side: A~ = W^(o+) o (C X), with C rebuilt from the message and W.</summary>
    /// <param name="weights">W.</param>
    /// <param name="message">Alice's message.</param>
    /// <returns>The dense reconstruction.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The message's shape does not match W.</exception>
    public static Matrix<double> Receive(Weights weights, ProtocolMessage message) =>
        Core.Protocol.Receive(Weights.CoreOf(weights), ProtocolMessage.CoreOf(message));

    /// <summary>The message in its binary format.</summary>
    /// <param name="message">The message.</param>
    /// <returns>Its bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    public static byte[] ToBytes(ProtocolMessage message) => Core.Protocol.ToBytes(ProtocolMessage.CoreOf(message));

    /// <summary>Reads a message, checking every field.</summary>
    /// <param name="bytes">The bytes written by <see cref="ToBytes"/>.</param>
    /// <returns>The message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="bytes"/> is null.</exception>
    /// <exception cref="InvalidDataException">Truncated, trailing data, wrong magic or version, or a value out of range;
    /// the message names the field and the byte offset.</exception>
    public static ProtocolMessage FromBytes(byte[] bytes) => new(Core.Protocol.FromBytes(bytes));

    /// <summary>The exact message size in bits (8 times the length of <see cref="ToBytes"/>).</summary>
    /// <param name="message">The message.</param>
    /// <returns>Bits.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    public static long SizeInBits(ProtocolMessage message) => Core.Protocol.SizeInBits(ProtocolMessage.CoreOf(message));

    /// <summary>Theorem 3.1's bound with constant 1: (s c + t d) log2(n d) bits, with eps = t / c.</summary>
    /// <param name="nonzerosPerColumn">s.</param>
    /// <param name="totalRank">t = r k.</param>
    /// <param name="columns">c.</param>
    /// <param name="rows">n.</param>
    /// <param name="matrixColumns">d.</param>
    /// <returns>Bits.</returns>
    public static double BoundInBits(int nonzerosPerColumn, int totalRank, int columns, int rows, int matrixColumns) =>
        Core.Protocol.BoundInBits(nonzerosPerColumn, totalRank, columns, rows, matrixColumns);
}
