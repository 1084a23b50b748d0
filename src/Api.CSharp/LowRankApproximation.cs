using System.Collections.Generic;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// A rank-r approximation of an n x d matrix A held as two factors, <see cref="Left"/> (n x r) and
/// <see cref="Right"/> (r x d), where Right has orthonormal rows and Left = A Right^T: the approximation projects
/// A's rows onto the span of Right's rows. Storing it costs (n + d) r numbers instead of n d.
/// </summary>
/// <remarks>
/// The factors are the result's own matrices, not copies: treat them as read-only. r may be 0 (a zero
/// approximation, as for a zero A), with n x 0 and 0 x d factors.
/// </remarks>
public sealed class LowRankApproximation
{
    private readonly Core.LowRankApproximation core;

    internal LowRankApproximation(Core.LowRankApproximation core) => this.core = core;

    /// <summary>The core value behind this approximation.</summary>
    internal Core.LowRankApproximation Core => core;

    /// <summary>The n x r left factor, A Right^T; its columns are orthogonal with norms <see cref="SingularValues"/>.</summary>
    public Matrix<double> Left => core.Left;

    /// <summary>The r x d right factor, with orthonormal rows.</summary>
    public Matrix<double> Right => core.Right;

    /// <summary>The approximation's r singular values, in descending order.</summary>
    public IReadOnlyList<double> SingularValues => System.Array.AsReadOnly(core.SingularValues);

    /// <summary>The rank r used: the factors' inner dimension.</summary>
    public int Rank => core.Rank;

    /// <summary>The number of rows n of the approximated matrix.</summary>
    public int Rows => core.Rows;

    /// <summary>The number of columns d of the approximated matrix.</summary>
    public int Columns => core.Columns;

    /// <summary>Forms the dense n x d matrix Left * Right in O(n d r) time and n d memory.</summary>
    /// <returns>A new dense matrix.</returns>
    public Matrix<double> ToMatrix() => core.ToMatrix();

    /// <summary>Forms the approximation as a new n x d array, for callers that do not use MathNet.</summary>
    /// <returns>A new array.</returns>
    public double[,] ToArray() => core.ToMatrix().ToArray();

    /// <summary>A short description: rank and shape.</summary>
    /// <returns>For example "rank 10 approximation of a 200x100 matrix".</returns>
    public override string ToString() => $"rank {Rank} approximation of a {Rows}x{Columns} matrix";
}
