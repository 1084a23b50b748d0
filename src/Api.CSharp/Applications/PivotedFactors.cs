using System;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// A rank-r matrix A~ (n x d) stored as r of its own columns B = A~[:, P] and the coefficients C with A~[:, Q] = B C: r (n
/// + d - r) numbers instead of the r (n + d) of Left Right, for the same matrix (Zhao et al., "PIFA: Pivoting Factorization
/// for Low-Rank Compression", ICML 2025). A layer y = x A~ computes y_P = x B, then y_Q = y_P C.
/// </summary>
public sealed class PivotedFactors
{
    private readonly Core.PivotedFactors core;

    private PivotedFactors(Core.PivotedFactors core) => this.core = core;

    /// <summary>B = A~[:, P] (n x r; the result's own matrix: treat it as read-only).</summary>
    public Matrix<double> Columns => core.Columns;

    /// <summary>C (r x (d - r)), entries at most 1.01 in magnitude (the result's own matrix: treat it as read-only).</summary>
    public Matrix<double> Coefficients => core.Coefficients;

    /// <summary>P: the pivot columns, in the order of B's columns.</summary>
    public int[] Pivots => (int[])core.Pivots.Clone();

    /// <summary>Q: the other columns, in the order of C's columns.</summary>
    public int[] Others => (int[])core.Others.Clone();

    /// <summary>r.</summary>
    public int Rank => core.Rank;

    /// <summary>Numbers stored: r (n + d - r).</summary>
    public long Parameters => core.Parameters;

    /// <summary>The dense n x d matrix A~.</summary>
    /// <returns>A new matrix.</returns>
    public Matrix<double> ToMatrix() => core.ToMatrix();

    /// <summary>
    /// The pivoted form of Left Right: pivots from a column-pivoted QR of Right, improved by maxvol swaps until every
    /// coefficient is at most 1.01 in magnitude; fewer than k pivots when Right has numerical rank below k. O(k d r + n k r).
    /// </summary>
    /// <param name="left">n x k.</param>
    /// <param name="right">k x d.</param>
    /// <returns>The same matrix as Left Right up to rounding.</returns>
    /// <exception cref="ArgumentException">A factor is empty or not finite, or their inner sizes differ.</exception>
    public static PivotedFactors OfFactors(Matrix<double> left, Matrix<double> right) =>
        new(Core.PivotedFactorsModule.OfFactors(left, right));

    /// <summary>Numbers a rank-k matrix of n x d stores in the pivoted form: k (n + d - k), below n d for k &lt; min(n, d).</summary>
    /// <param name="inputs">n &gt;= 1.</param>
    /// <param name="outputs">d &gt;= 1.</param>
    /// <param name="rank">0 &lt;= k &lt;= min(n, d).</param>
    /// <returns>k (n + d - k).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size or the rank is out of range.</exception>
    public static long ParametersOf(int inputs, int outputs, int rank) => Core.PivotedFactorsModule.Parameters(inputs, outputs, rank);
}
