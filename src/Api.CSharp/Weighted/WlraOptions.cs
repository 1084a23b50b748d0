using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>Options of the weighted algorithms; each algorithm reads the properties it uses.</summary>
public sealed record WlraOptions
{
    /// <summary>Iteration limit of em, em_w and als (and of the fit of 1/W in practical svd_w); adam uses <see cref="AdamSteps"/>.
    /// Default 25.</summary>
    public int MaxIterations { get; init; } = 25;

    /// <summary>Stop when an iteration lowers the loss by less than this fraction of it. Default 1e-6.</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>als's ridge term, relative to the largest squared weight. Default 1e-8.</summary>
    public double Ridge { get; init; } = 1e-8;

    /// <summary>adam's learning rate, relative to the root-mean-square entry of A. Default 1e-2.</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>adam's number of steps. Default 500.</summary>
    public int AdamSteps { get; init; } = 500;

    /// <summary>Seed of sample's row sampling. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>sample's number of rows; 0 chooses 4 t ln(t + 1) + 10 for total rank t. Default 0.</summary>
    public int Samples { get; init; }

    /// <summary>em's starting point (n x d); null starts from [A]_k, a zero matrix from 0.</summary>
    public Matrix<double>? WarmStart { get; init; }

    /// <summary>r, the weights' rank for svd_w and the methods built on it: a given r sets the total rank t = r k (as
    /// <see cref="Bicriteria"/> does, with this r); 0 chooses it when <see cref="Bicriteria"/> asks for r k (see
    /// <see cref="EnergyFraction"/>). Default 0.</summary>
    public int WeightRank { get; init; }

    /// <summary>When r is chosen: W's own rank r_W if r_W k &lt;= min(n, d) (Theorem 1.2 then holds), else the smallest r
    /// whose rank-r approximation of W holds this fraction of ||W||_F^2, at most min(n, d) / k. Default 0.99.</summary>
    public double EnergyFraction { get; init; } = 0.99;

    /// <summary>svd_w's total rank t directly, overriding the budget and r k; 0 for neither. Default 0.</summary>
    public int TotalRank { get; init; }

    /// <summary>Positive weights below this fraction of the largest divide as if they were that large (0 = exact
    /// division); bounds the amplification of tiny weights at some cost in loss. Default 0.</summary>
    public double WeightFloor { get; init; }

    /// <summary>The storage budget, in numbers, of svd_w, practical svd_w and sample when neither <see cref="TotalRank"/>,
    /// <see cref="WeightRank"/> nor <see cref="Bicriteria"/> sets their total rank t: t is then the largest whose storage
    /// (<see cref="WeightedApproximation.Parameters"/>) fits it. 0 stands for k (n + d), what rank-k factors store, so
    /// that every method is compared at equal storage. Default 0.</summary>
    public long Parameters { get; init; }

    /// <summary>svd_w, practical svd_w and sample at total rank t = r k, r chosen as <see cref="WeightRank"/> and
    /// <see cref="EnergyFraction"/> say: the bicriteria form of Theorem 1.2 (Woodruff and Yasuda 2024), whose loss is at
    /// most the best rank-k loss when W has rank r, at r times the storage of rank-k factors. Default false (the budget
    /// rule of <see cref="Parameters"/>).</summary>
    public bool Bicriteria { get; init; }

    internal Core.WlraOptions ToCore() =>
        new(MaxIterations, Tolerance, Ridge, LearningRate, Seed, Samples,
            WarmStart is null ? null : Microsoft.FSharp.Core.FSharpOption<Matrix<double>>.Some(WarmStart),
            AdamSteps, WeightRank, EnergyFraction, TotalRank, WeightFloor, Parameters, Bicriteria);
}

/// <summary>One finished iteration of a weighted method.</summary>
/// <param name="Method">The method, as in <see cref="WeightedApproximation.Method"/>.</param>
/// <param name="Iteration">Iterations done, from 1.</param>
/// <param name="Limit">The iteration limit.</param>
/// <param name="Loss">The weighted loss after this iteration.</param>
public sealed record WlraProgress(string Method, int Iteration, int Limit, double Loss);
