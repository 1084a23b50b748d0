using System;
using System.Linq;

namespace LowRank;

/// <summary>The rank one layer of a model gets under a budget for the whole model.</summary>
public sealed class LayerRank
{
    internal LayerRank(Core.LayerRank core)
    {
        Rank = core.Rank;
        KeepsDense = core.KeepsDense;
        Pivoted = core.Pivoted;
        Parameters = core.Parameters;
        PredictedError = core.PredictedError;
    }

    /// <summary>k; min(n, d) when the layer stays dense.</summary>
    public int Rank { get; }

    /// <summary>True when the factors would store at least n d numbers, so the layer keeps its dense weight.</summary>
    public bool KeepsDense { get; }

    /// <summary>True when the factors are stored in the pivoted form (<see cref="PivotedFactors"/>), k (n + d - k) numbers.
    /// </summary>
    public bool Pivoted { get; }

    /// <summary>Numbers stored: k (n + d), k (n + d - k) when <see cref="Pivoted"/>, or n d when dense.</summary>
    public long Parameters { get; }

    /// <summary>The predicted relative output error sqrt(sum_(i &gt; k) sigma_i^2 / sum sigma_i^2) (0 when dense).</summary>
    public double PredictedError { get; }
}

/// <summary>
/// One parameter budget for the layers of a model: how many numbers each keeps, from the layers' whitened spectra
/// (<see cref="Compression.WhitenedSpectrum"/>). The allocator minimises the sum of the layers' predicted relative squared
/// output errors.
/// </summary>
public static class ModelBudget
{
    /// <summary>
    /// Ranks under a budget: every layer starts at rank 1, and each next rank goes to the layer where it buys the largest
    /// drop of predicted relative error per number stored (optimal for decreasing spectra up to the last step).
    /// </summary>
    /// <param name="budget">Numbers the layers may store together, at least sum (n_l + d_l).</param>
    /// <param name="inputs">n_l per layer.</param>
    /// <param name="outputs">d_l per layer.</param>
    /// <param name="spectra">Each layer's squared whitened singular values, descending, min(n_l, d_l) of them.</param>
    /// <returns>One <see cref="LayerRank"/> per layer; their parameters add up to at most the budget.</returns>
    /// <exception cref="ArgumentException">The arrays disagree or a spectrum is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is below rank 1 everywhere.</exception>
    public static LayerRank[] Allocate(long budget, int[] inputs, int[] outputs, double[][] spectra) =>
        Core.ModelBudget.Allocate(budget, inputs, outputs, spectra).Select(r => new LayerRank(r)).ToArray();

    /// <summary>
    /// Ranks under a budget minimising the sum of the layers' predicted relative squared output errors, each multiplied by
    /// its importance (how much a unit of that layer's error costs the model's output).
    /// </summary>
    /// <param name="budget">Numbers the layers may store together, at least sum (n_l + d_l).</param>
    /// <param name="inputs">n_l per layer.</param>
    /// <param name="outputs">d_l per layer.</param>
    /// <param name="spectra">Each layer's squared whitened singular values, descending.</param>
    /// <param name="importance">w_l &gt;= 0 per layer.</param>
    /// <returns>One <see cref="LayerRank"/> per layer; their parameters add up to at most the budget.</returns>
    /// <exception cref="ArgumentException">The arrays disagree, or a spectrum or an importance is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is below rank 1 everywhere.</exception>
    public static LayerRank[] AllocateWeighted(long budget, int[] inputs, int[] outputs, double[][] spectra, double[] importance) =>
        Core.ModelBudget.AllocateWeighted(importance, budget, inputs, outputs, spectra).Select(r => new LayerRank(r)).ToArray();

    /// <summary>The same fraction f of every layer: rank floor(f n d / (n + d)), at least 1, dense where that costs n d.</summary>
    /// <param name="fraction">f in (0, 1].</param>
    /// <param name="inputs">n_l per layer.</param>
    /// <param name="outputs">d_l per layer.</param>
    /// <param name="spectra">As for <see cref="Allocate"/>; used for the predicted errors.</param>
    /// <returns>One <see cref="LayerRank"/> per layer.</returns>
    /// <exception cref="ArgumentException">The arrays disagree or a spectrum is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is outside (0, 1].</exception>
    public static LayerRank[] Uniform(double fraction, int[] inputs, int[] outputs, double[][] spectra) =>
        Core.ModelBudget.Uniform(fraction, inputs, outputs, spectra).Select(r => new LayerRank(r)).ToArray();

    /// <summary>
    /// <see cref="AllocateWeighted"/> where the layers flagged in <paramref name="pivoted"/> store their factors in the
    /// pivoted form (<see cref="PivotedFactors"/>): rank k costs k (n + d - k) numbers there, and a layer stays factored up
    /// to rank min(n, d) - 1.
    /// </summary>
    /// <param name="budget">Numbers the layers may store together, at least rank 1 everywhere.</param>
    /// <param name="inputs">n_l per layer.</param>
    /// <param name="outputs">d_l per layer.</param>
    /// <param name="spectra">Each layer's squared whitened singular values, descending.</param>
    /// <param name="importance">w_l &gt;= 0 per layer.</param>
    /// <param name="pivoted">One flag per layer: true where the layer can be stored in the pivoted form.</param>
    /// <returns>One <see cref="LayerRank"/> per layer; their parameters add up to at most the budget.</returns>
    /// <exception cref="ArgumentException">The arrays disagree, or a spectrum or an importance is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is below rank 1 everywhere.</exception>
    public static LayerRank[] AllocatePivoted(long budget, int[] inputs, int[] outputs, double[][] spectra, double[] importance, bool[] pivoted) =>
        Core.ModelBudget.AllocatePivoted(pivoted, importance, budget, inputs, outputs, spectra).Select(r => new LayerRank(r)).ToArray();

    /// <summary>
    /// The fewest numbers the greedy allocation of <see cref="AllocatePivoted"/> needs for a predicted error: ranks grow
    /// where each number buys the largest drop of E = sum_l w_l e_l^2 (e_l = <see cref="LayerRank.PredictedError"/>)
    /// until E &lt;= <paramref name="target"/> or <paramref name="budget"/> is used. With importances measured as the
    /// drop 1 - cos of the model's output per unit of e_l^2 when layer l alone is compressed, E predicts 1 - cos to first
    /// order, so a target of 1 - c asks for the smallest model predicted to keep cosine c.
    /// </summary>
    /// <param name="target">The weighted error to reach, finite and &gt;= 0.</param>
    /// <param name="budget">An upper bound on the numbers stored, at least rank 1 everywhere (<see cref="long.MaxValue"/>:
    /// none).</param>
    /// <param name="inputs">n_l per layer.</param>
    /// <param name="outputs">d_l per layer.</param>
    /// <param name="spectra">Each layer's squared whitened singular values, descending.</param>
    /// <param name="importance">w_l &gt;= 0 per layer.</param>
    /// <param name="pivoted">One flag per layer: true where the layer can be stored in the pivoted form.</param>
    /// <returns>One <see cref="LayerRank"/> per layer, with sum_l w_l e_l^2 &lt;= target unless the budget ran out first.
    /// </returns>
    /// <exception cref="ArgumentException">The arrays disagree, or a spectrum or an importance is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="target"/> is negative or not finite, or
    /// <paramref name="budget"/> is below rank 1 everywhere.</exception>
    public static LayerRank[] AllocateToTarget(double target, long budget, int[] inputs, int[] outputs, double[][] spectra, double[] importance,
        bool[] pivoted) =>
        Core.ModelBudget.AllocateToTarget(pivoted, importance, target, budget, inputs, outputs, spectra).Select(r => new LayerRank(r)).ToArray();

    /// <summary>The same fraction f of every layer: the largest rank (at least 1) whose factors store at most f n d numbers,
    /// k (n + d), or k (n + d - k) for layers flagged in <paramref name="pivoted"/>; dense where that costs n d.</summary>
    /// <param name="fraction">f in (0, 1].</param>
    /// <param name="inputs">n_l per layer.</param>
    /// <param name="outputs">d_l per layer.</param>
    /// <param name="spectra">As for <see cref="Allocate"/>; used for the predicted errors.</param>
    /// <param name="pivoted">One flag per layer: true where the layer can be stored in the pivoted form.</param>
    /// <returns>One <see cref="LayerRank"/> per layer.</returns>
    /// <exception cref="ArgumentException">The arrays disagree or a spectrum is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is outside (0, 1].</exception>
    public static LayerRank[] UniformPivoted(double fraction, int[] inputs, int[] outputs, double[][] spectra, bool[] pivoted) =>
        Core.ModelBudget.UniformPivoted(pivoted, fraction, inputs, outputs, spectra).Select(r => new LayerRank(r)).ToArray();
}
