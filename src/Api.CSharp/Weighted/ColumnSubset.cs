using System.Collections.Generic;

namespace LowRank;

/// <summary>The result of column subset selection on W o A (Woodruff and Yasuda 2024, Corollary 1.3).</summary>
public sealed class ColumnSubset
{
    private readonly Core.ColumnSubset core;

    internal ColumnSubset(Core.ColumnSubset core)
    {
        this.core = core;
        Approximation = new WeightedApproximation(core.Approximation);
    }

    /// <summary>The selected column indices of W o A, in decreasing order of leverage.</summary>
    public IReadOnlyList<int> Columns => System.Array.AsReadOnly(core.Columns);

    /// <summary>Left = the selected columns C of W o A, Right = X = C^+ (W o A), reweighted by W^(o+).</summary>
    public WeightedApproximation Approximation { get; }

    /// <summary>
    /// epsilon = t - (sum of the selected rank-t leverage scores): when below 1, the loss is within
    /// sqrt(1 + 1/(1 - epsilon)) of ||W o A - [W o A]_t||_F.
    /// </summary>
    public double LeverageDeficit => core.LeverageDeficit;
}
