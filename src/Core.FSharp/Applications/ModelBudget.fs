namespace LowRank.Core

open System

/// The rank one layer of a model gets under a budget for the whole model, with what it costs and what it predicts.
[<NoComparison; NoEquality>]
type LayerRank = {
    /// k, 1 &lt;= k &lt;= min(n, d); min(n, d) when the layer stays dense.
    Rank: int
    /// True when the factors would store at least n d numbers, so the layer keeps its dense weight.
    KeepsDense: bool
    /// True when the factors are stored in the pivoted form (PivotedFactors), k (n + d - k) numbers.
    Pivoted: bool
    /// Numbers stored: k (n + d), k (n + d - k) when pivoted, or n d when dense.
    Parameters: int64
    /// The predicted relative output error sqrt(sum_(i &gt; k) sigma_i^2 / sum_i sigma_i^2) from the whitened spectrum
    /// (0 when dense).
    PredictedError: float
}

/// Allocating one parameter budget across the layers of a model (issue 23): how many numbers each layer keeps.
///
/// Each layer l (n_l inputs, d_l outputs) is described by its whitened spectrum sigma_(l,1)^2 &gt;= ... (from
/// Compression.whitenedSpectrum): at rank k its data-aware output error is sum_(i &gt; k) sigma_(l,i)^2. Errors of
/// different layers are made comparable by dividing by the layer's whole output energy sum_i sigma_(l,i)^2, so the
/// allocator minimises the sum over layers of the relative squared output errors: a layer that feeds a residual stream
/// matters in proportion to what it adds, not to its own scale.
[<RequireQualifiedAccess>]
module ModelBudget =

    let private check (name: string) (inputs: int[]) (outputs: int[]) (spectra: float[][]) =
        if inputs.Length <> outputs.Length || inputs.Length <> spectra.Length then
            raise (
                ArgumentException(
                    $"Expected one size and one spectrum per layer, but there are {inputs.Length} input sizes, {outputs.Length} output sizes and {spectra.Length} spectra.",
                    name
                )
            )

        for l in 0 .. inputs.Length - 1 do
            if inputs[l] < 1 || outputs[l] < 1 then
                raise (
                    ArgumentException(
                        $"Expected layer sizes >= 1, but layer {l} is {inputs[l]}x{outputs[l]}.",
                        nameof inputs
                    )
                )

            let s = spectra[l]

            if s.Length <> min inputs[l] outputs[l] then
                raise (
                    ArgumentException(
                        $"Expected min(n, d) = {min inputs[l] outputs[l]} squared singular values for layer {l}, but there are {s.Length}.",
                        nameof spectra
                    )
                )

            Guard.nonNegativeFinite (nameof spectra) $"spectra[{l}]" "squared singular values" s

    /// The largest rank at which the factored form stores fewer numbers than the dense n x d weight: min(n, d) - 1 in the
    /// pivoted form, where n d - k (n + d - k) = (n - k)(d - k).
    let private largestFactoredRank (pivoted: bool) (n: int) (d: int) =
        if pivoted then
            min n d - 1
        else
            let k = int ((int64 n * int64 d - 1L) / int64 (n + d))
            min k (min n d)

    /// Numbers rank-k factors of an n x d layer store.
    let private factored (pivoted: bool) (n: int) (d: int) (k: int) =
        int64 k * int64 (n + d - (if pivoted then k else 0))

    let private checkPivoted (layers: int) (pivoted: bool[]) =
        Guard.notNull (nameof pivoted) pivoted

        if pivoted.Length <> layers then
            raise (
                ArgumentException(
                    $"Expected one pivoted flag per layer ({layers}), but there are {pivoted.Length}.",
                    nameof pivoted
                )
            )

    let private result (pivoted: bool) (n: int) (d: int) (s: float[]) (rank: int) (dense: bool) =
        let total = Array.sum s
        let tail = if dense then 0.0 else Array.sum s[rank..]

        {
            Rank = (if dense then min n d else rank)
            KeepsDense = dense
            Pivoted = pivoted && not dense
            Parameters =
                (if dense then
                     int64 n * int64 d
                 else
                     factored pivoted n d rank)
            PredictedError = (if total > 0.0 then sqrt (max tail 0.0 / total) else 0.0)
        }

    /// The greedy allocation behind allocatePivoted and allocateToTarget: every layer starts at rank 1 and each step goes
    /// where it buys the largest drop of the weighted predicted error sum_l w_l e_l^2 per number stored, among the steps
    /// that keep the total within `budget`, until none fits or that error is at most `target`.
    let private grow
        (pivoted: bool[])
        (importance: float[])
        (budget: int64)
        (target: float)
        (inputs: int[])
        (outputs: int[])
        (spectra: float[][])
        =
        Guard.notNull (nameof importance) importance
        Guard.notNull (nameof inputs) inputs
        Guard.notNull (nameof outputs) outputs
        Guard.notNull (nameof spectra) spectra
        check (nameof inputs) inputs outputs spectra
        checkPivoted inputs.Length pivoted

        if importance.Length <> inputs.Length then
            raise (
                ArgumentException(
                    $"Expected one importance per layer ({inputs.Length}), but there are {importance.Length}.",
                    nameof importance
                )
            )

        Guard.nonNegativeFinite (nameof importance) (nameof importance) "importances" importance

        let layers = inputs.Length

        let largest l =
            largestFactoredRank pivoted[l] inputs[l] outputs[l]

        let cost l k =
            factored pivoted[l] inputs[l] outputs[l] k
        // A layer whose rank-1 factors already cost n d (a 1 x d or n x 1 weight) is dense from the start.
        let dense = Array.init layers (fun l -> largest l < 1)

        let minimum =
            Array.init layers (fun l ->
                if dense[l] then
                    int64 inputs[l] * int64 outputs[l]
                else
                    cost l 1)
            |> Array.sum

        if budget < minimum then
            raise (
                ArgumentOutOfRangeException(
                    nameof budget,
                    budget,
                    $"Expected a budget of at least {minimum} numbers (rank 1 in each of the {layers} layers), but it is {budget}."
                )
            )

        let totals = spectra |> Array.map Array.sum
        let ranks = Array.create layers 1
        let mutable used = minimum

        // sum_l w_l e_l^2 at rank 1 everywhere (0 for the layers that start dense).
        let mutable error =
            Array.init layers (fun l ->
                if dense[l] || totals[l] <= 0.0 then
                    0.0
                else
                    let tail = spectra[l][1..]
                    importance[l] * Array.sum tail / totals[l])
            |> Array.sum

        // The next step of layer l: (gain, cost), or None when it is dense.
        let next l =
            if dense[l] then
                None
            else
                let k = ranks[l]
                let total = totals[l]
                let s = spectra[l]

                let relative x =
                    if total > 0.0 then importance[l] * x / total else 0.0

                if k + 1 <= largest l then
                    Some(relative s[k], cost l (k + 1) - cost l k)
                else
                    Some(relative (Array.sum s[k..]), int64 inputs[l] * int64 outputs[l] - cost l k)

        // The running error loses rounding in each subtraction: below 1e-12 of where it started it counts as 0. A negative
        // target (allocatePivoted) is never reached: the budget alone stops the growth.
        let floor = 1e-12 * error

        let reached () =
            target >= 0.0 && (error <= target || error <= floor)

        let mutable stepping = not (reached ())

        while stepping do
            let mutable best = -1
            let mutable bestRatio = -1.0

            for l in 0 .. layers - 1 do
                match next l with
                | Some(gain, step) when used + step <= budget ->
                    let ratio = gain / float step

                    if ratio > bestRatio then
                        best <- l
                        bestRatio <- ratio
                | _ -> ()

            if best < 0 then
                stepping <- false
            else
                let gain, step = (next best).Value
                used <- used + step
                error <- error - gain

                if ranks[best] + 1 <= largest best then
                    ranks[best] <- ranks[best] + 1
                else
                    dense[best] <- true

                if reached () then
                    stepping <- false

        Array.init layers (fun l -> result pivoted[l] inputs[l] outputs[l] spectra[l] ranks[l] dense[l])

    /// <summary>allocateWeighted where the layers flagged in `pivoted` store their factors in the pivoted form
    /// (PivotedFactors, Zhao et al. 2025): rank k then costs k (n + d - k) numbers, one more rank n + d - 2k - 1, and a
    /// layer stays factored up to rank min(n, d) - 1. Those steps get cheaper as k grows, so the greedy order is no longer
    /// the exact optimum of the separable problem, only a good allocation; for layers not flagged it is as in
    /// allocateWeighted.</summary>
    /// <param name="pivoted">One flag per layer: true where the layer can be stored in the pivoted form.</param>
    /// <param name="importance">w_l &gt;= 0 for each layer (as for allocateWeighted).</param>
    /// <param name="budget">The numbers the layers may store together, at least rank 1 everywhere.</param>
    /// <param name="inputs">n_l for each layer.</param>
    /// <param name="outputs">d_l for each layer.</param>
    /// <param name="spectra">Each layer's squared singular values, descending, min(n_l, d_l) of them.</param>
    /// <returns>One LayerRank per layer, in the given order; the Parameters add up to at most budget.</returns>
    /// <exception cref="System.ArgumentException">as for allocateWeighted, or pivoted has not one flag per layer.
    /// </exception>
    /// <exception cref="System.ArgumentOutOfRangeException">budget is below rank 1 everywhere.</exception>
    [<CompiledName("AllocatePivoted")>]
    let allocatePivoted
        (pivoted: bool[])
        (importance: float[])
        (budget: int64)
        (inputs: int[])
        (outputs: int[])
        (spectra: float[][])
        =
        grow pivoted importance budget -1.0 inputs outputs spectra

    /// <summary>The fewest numbers the greedy allocation of allocatePivoted needs for a predicted error: ranks grow, each
    /// step where it buys the largest drop of the weighted predicted error E = sum_l w_l e_l^2 per number stored (e_l the
    /// layer's predicted relative output error, LayerRank.PredictedError), until E &lt;= target or the budget is used.
    /// With importances measured as the drop 1 - cos of the model's output per unit of e_l^2 (a layer compressed alone),
    /// E is a first-order prediction of 1 - cos for all layers together, so target = 1 - c asks for the smallest model
    /// predicted to keep cosine c.</summary>
    /// <param name="pivoted">One flag per layer, as for allocatePivoted.</param>
    /// <param name="importance">w_l &gt;= 0 for each layer.</param>
    /// <param name="target">The weighted error to reach, &gt;= 0 (0 keeps every layer whose spectrum has a tail as large
    /// as the budget allows).</param>
    /// <param name="budget">An upper bound on the numbers stored, at least rank 1 everywhere (Int64.MaxValue: none).</param>
    /// <param name="inputs">n_l for each layer.</param>
    /// <param name="outputs">d_l for each layer.</param>
    /// <param name="spectra">Each layer's squared singular values, descending, min(n_l, d_l) of them.</param>
    /// <returns>One LayerRank per layer; sum_l w_l PredictedError_l^2 &lt;= target unless the budget ran out first. O(S L)
    /// for S steps over L layers.</returns>
    /// <exception cref="System.ArgumentException">as for allocatePivoted.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">target is negative or not finite, or budget is below rank 1
    /// everywhere.</exception>
    /// <example>
    /// <code lang="fsharp">
    /// // Two 384 x 384 layers, their whitened spectra, importances from probes; the fewest numbers for E &lt;= 0.05.
    /// let spectra = [| Array.init 384 (fun i -> exp (-0.02 * float i)); Array.init 384 (fun i -> exp (-0.05 * float i)) |]
    /// let ranks = ModelBudget.allocateToTarget [| true; true |] [| 0.3; 0.1 |] 0.05 Int64.MaxValue [| 384; 384 |] [| 384; 384 |] spectra
    /// </code>
    /// </example>
    [<CompiledName("AllocateToTarget")>]
    let allocateToTarget
        (pivoted: bool[])
        (importance: float[])
        (target: float)
        (budget: int64)
        (inputs: int[])
        (outputs: int[])
        (spectra: float[][])
        =
        if not (target >= 0.0 && Double.IsFinite target) then
            raise (
                ArgumentOutOfRangeException(
                    nameof target,
                    target,
                    $"Expected a finite target >= 0, but it is {target}."
                )
            )

        grow pivoted importance budget target inputs outputs spectra

    /// <summary>Ranks for every layer so that the model stores at most `budget` numbers in them and the sum of the
    /// layers' predicted relative squared output errors, each multiplied by its importance w_l, is small: greedily, every layer starts at rank 1 and the next
    /// number goes where it buys the largest drop of predicted error per number stored (one more rank, n + d numbers,
    /// buys sigma_(k+1)^2 / sum sigma^2; once k (n + d) would reach n d, the step is to the dense weight). With decreasing
    /// spectra each layer's gains per number decrease, so this is the exact optimum of the separable problem up to the
    /// last step that no longer fits (a knapsack's greedy bound).</summary>
    /// <param name="importance">w_l &gt;= 0 for each layer: how much a unit of its relative squared output error costs the
    /// model's output (measured, for example, by compressing that layer alone).</param>
    /// <param name="budget">The numbers the layers may store together, at least sum_l (n_l + d_l) (rank 1 everywhere).
    /// </param>
    /// <param name="inputs">n_l for each layer.</param>
    /// <param name="outputs">d_l for each layer.</param>
    /// <param name="spectra">Each layer's squared singular values, descending, min(n_l, d_l) of them
    /// (Compression.whitenedSpectrum).</param>
    /// <returns>One LayerRank per layer, in the given order; the Parameters add up to at most budget. O(S L) for S
    /// steps over L layers.</returns>
    /// <exception cref="System.ArgumentException">the arrays differ in length, a size is below 1, a spectrum has the
    /// wrong length or a negative or non-finite value, or an importance is negative or not finite.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">budget is below rank 1 everywhere.</exception>
    [<CompiledName("AllocateWeighted")>]
    let allocateWeighted (importance: float[]) (budget: int64) (inputs: int[]) (outputs: int[]) (spectra: float[][]) =
        Guard.notNull (nameof inputs) inputs
        allocatePivoted (Array.zeroCreate inputs.Length) importance budget inputs outputs spectra

    /// <summary>allocateWeighted with every importance 1: the sum of the layers' predicted relative squared output
    /// errors is what the budget minimises.</summary>
    /// <param name="budget">The numbers the layers may store together, at least sum_l (n_l + d_l).</param>
    /// <param name="inputs">n_l for each layer.</param>
    /// <param name="outputs">d_l for each layer.</param>
    /// <param name="spectra">Each layer's squared singular values, descending (Compression.whitenedSpectrum).</param>
    /// <returns>One LayerRank per layer; the Parameters add up to at most budget.</returns>
    /// <exception cref="System.ArgumentException">as for allocateWeighted.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">budget is below rank 1 everywhere.</exception>
    [<CompiledName("Allocate")>]
    let allocate (budget: int64) (inputs: int[]) (outputs: int[]) (spectra: float[][]) =
        Guard.notNull (nameof inputs) inputs
        allocateWeighted (Array.create inputs.Length 1.0) budget inputs outputs spectra

    /// <summary>The same fraction of every layer: the largest rank k_l (at least 1) whose factors store at most
    /// f n_l d_l numbers, k (n + d) or, for layers flagged in `pivoted`, k (n + d - k); dense where that rank would store
    /// n_l d_l or more. The baseline that ignores how much each layer matters.</summary>
    /// <param name="pivoted">One flag per layer: true where the layer can be stored in the pivoted form.</param>
    /// <param name="fraction">f in (0, 1].</param>
    /// <param name="inputs">n_l for each layer.</param>
    /// <param name="outputs">d_l for each layer.</param>
    /// <param name="spectra">As for allocate; used only for PredictedError.</param>
    /// <returns>One LayerRank per layer.</returns>
    /// <exception cref="System.ArgumentException">as for allocate, or pivoted has not one flag per layer.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">fraction is outside (0, 1].</exception>
    [<CompiledName("UniformPivoted")>]
    let uniformPivoted (pivoted: bool[]) (fraction: float) (inputs: int[]) (outputs: int[]) (spectra: float[][]) =
        Guard.notNull (nameof inputs) inputs
        Guard.notNull (nameof outputs) outputs
        Guard.notNull (nameof spectra) spectra
        check (nameof inputs) inputs outputs spectra
        checkPivoted inputs.Length pivoted

        if not (fraction > 0.0 && fraction <= 1.0) then
            raise (
                ArgumentOutOfRangeException(
                    nameof fraction,
                    fraction,
                    $"Expected a fraction in (0, 1], but it is {fraction}."
                )
            )

        Array.init inputs.Length (fun l ->
            let n, d = inputs[l], outputs[l]
            let allowed = fraction * float n * float d
            // factored is increasing in k up to min(n, d), so the largest k within the allowance is found by counting up.
            let mutable k = 1

            while k < min n d && float (factored pivoted[l] n d (k + 1)) <= allowed do
                k <- k + 1

            let dense = k > largestFactoredRank pivoted[l] n d
            result pivoted[l] n d spectra[l] k dense)

    /// <summary>The same fraction of every layer: rank k_l = floor(f n_l d_l / (n_l + d_l)) (at least 1), dense where
    /// that would store n_l d_l or more. The baseline that ignores how much each layer matters.</summary>
    /// <param name="fraction">f in (0, 1].</param>
    /// <param name="inputs">n_l for each layer.</param>
    /// <param name="outputs">d_l for each layer.</param>
    /// <param name="spectra">As for allocate; used only for PredictedError.</param>
    /// <returns>One LayerRank per layer.</returns>
    /// <exception cref="System.ArgumentException">as for allocate.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">fraction is outside (0, 1].</exception>
    [<CompiledName("Uniform")>]
    let uniform (fraction: float) (inputs: int[]) (outputs: int[]) (spectra: float[][]) =
        Guard.notNull (nameof inputs) inputs
        uniformPivoted (Array.zeroCreate inputs.Length) fraction inputs outputs spectra
