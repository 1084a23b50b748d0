using System.Collections.Generic;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>
/// The result of a weighted low-rank approximation: a low-rank part Left Right (t = <see cref="Rank"/>), possibly
/// reweighted entrywise, with its weighted loss, storage, iterations and convergence.
/// </summary>
/// <remarks>
/// Reweighted methods (svd_w, svd_w practical, sample) divide by W with 1/0 taken as 0, so their approximation is 0 on
/// entries of zero weight, where W o A carries no information; factorised methods (svd, em, em_w, als, adam, greedy)
/// give their low-rank value there.
/// </remarks>
public sealed class WeightedApproximation
{
    private readonly Core.WeightedApproximation core;

    internal WeightedApproximation(Core.WeightedApproximation core) => this.core = core;

    /// <summary>The core result, or null for a null approximation (so the core's exception names the argument).</summary>
    internal static Core.WeightedApproximation CoreOf(WeightedApproximation? approximation) => approximation?.core!;

    /// <summary>The algorithm: "svd", "svd_w", "svd_w practical", "em", "em_w", "als", "adam", "greedy", "sample" or "css".</summary>
    public string Method => core.Method;

    /// <summary>The n x t left factor of the low-rank part (the result's own matrix: treat it as read-only).</summary>
    public Matrix<double> Left => core.Left;

    /// <summary>The t x d right factor of the low-rank part (the result's own matrix: treat it as read-only).</summary>
    public Matrix<double> Right => core.Right;

    /// <summary>The rank t of the low-rank part.</summary>
    public int Rank => core.Rank;

    /// <summary>The weighted loss ||W o (A - approximation)||_F.</summary>
    public double Loss => core.Loss;

    /// <summary>Numbers stored: (n + d) t, plus the reweighting's own factors (practical svd_w's P and Q); the weights,
    /// dense or factored, are the problem's input, which the caller holds, and are not counted.</summary>
    public int Parameters => core.Parameters;

    /// <summary>Iterations run (1 for one-shot methods, k for greedy).</summary>
    public int Iterations => core.Iterations;

    /// <summary>Whether the stopping rule was met before the iteration limit (true for one-shot methods).</summary>
    public bool Converged => core.Converged;

    /// <summary>The loss after each iteration.</summary>
    public IReadOnlyList<double> LossHistory => System.Array.AsReadOnly(core.LossHistory);

    /// <summary>r, the weights' rank that svd_w (and practical svd_w, sample, css, em_w's start) multiplied k by; 0 for
    /// the other methods and for a total rank given directly.</summary>
    public int WeightRank => core.WeightRank;

    /// <summary>Why r (or the total rank) is what it is, in one sentence; empty for methods that do not choose one.</summary>
    public string RankChoice => core.RankChoice;

    /// <summary>max |A~_ij| / max |A_ij|: how far the approximation reaches beyond A (0 when both are 0). Dividing by tiny
    /// weights can make it large; <see cref="WlraOptions.WeightFloor"/> bounds it.</summary>
    public double Amplification => core.Amplification;

    /// <summary>Forms the dense n x d approximation in O(n d t).</summary>
    /// <returns>A new matrix.</returns>
    public Matrix<double> ToMatrix() => core.ToMatrix();

    /// <summary>Forms the dense n x d approximation as an array, in O(n d t).</summary>
    /// <returns>A new array.</returns>
    public double[,] ToArray() => core.ToMatrix().ToArray();

    /// <summary>The method, rank and loss.</summary>
    /// <returns>For example "svd_w: rank 20, loss 1.2345".</returns>
    public override string ToString() => $"{Method}: rank {Rank}, loss {Loss:G6}";
}
