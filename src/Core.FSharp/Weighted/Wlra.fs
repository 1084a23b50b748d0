/// Weighted low-rank approximation: given A (n x d), nonnegative weights W and a rank k, find A~ that makes
/// ||A - A~||_{W,F} = ||W o (A - A~)||_F small. The reweighted algorithms of Woodruff and Yasuda, "Reweighted
/// Solutions for Weighted Low Rank Approximation" (2024), and the classic baselines they are compared with.
[<RequireQualifiedAccess>]
module LowRank.Core.Wlra

open System
open MathNet.Numerics.LinearAlgebra

/// Checks the arguments every method shares. Weights were checked finite and nonnegative when built; only their
/// shape is left to check, and it is read from their structure, so no n x d weights are formed here.
let private checkShapes (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    Guard.notNull (nameof weights) weights
    Guard.finiteMatrix (nameof matrix) matrix
    Guard.rank (nameof rank) rank (nameof matrix) matrix
    WeightColumns.requireShapeOf (nameof matrix) matrix weights

/// checkShapes, then the dense weights for the methods that iterate on dense n x d matrices.
let private check (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkShapes rank weights matrix
    Weights.dense weights

let private checkOptions (options: WlraOptions) =
    Guard.notNull (nameof options) options
    Guard.notNull "options.Progress" options.Progress

    let outOfRange (field: string) (value: obj) (expected: string) =
        raise (
            ArgumentOutOfRangeException(
                nameof options,
                value,
                $"Expected options.{field} {expected}, but it is {value}."
            )
        )

    if options.MaxIterations < 1 then
        outOfRange "MaxIterations" options.MaxIterations ">= 1"

    if options.AdamSteps < 1 then
        outOfRange "AdamSteps" options.AdamSteps ">= 1"

    if not (options.Tolerance >= 0.0) then
        outOfRange "Tolerance" options.Tolerance ">= 0"

    if not (options.Ridge >= 0.0 && Double.IsFinite options.Ridge) then
        outOfRange "Ridge" options.Ridge "finite and >= 0"

    if not (options.LearningRate > 0.0 && Double.IsFinite options.LearningRate) then
        outOfRange "LearningRate" options.LearningRate "finite and > 0"

    if options.WeightRank < 0 then
        outOfRange "WeightRank" options.WeightRank ">= 0 (0 chooses r)"

    if options.TotalRank < 0 then
        outOfRange "TotalRank" options.TotalRank ">= 0 (0: the budget, or r k)"

    if not (options.EnergyFraction > 0.0 && options.EnergyFraction <= 1.0) then
        outOfRange "EnergyFraction" options.EnergyFraction "in (0, 1]"

    if not (options.WeightFloor >= 0.0 && options.WeightFloor < 1.0) then
        outOfRange "WeightFloor" options.WeightFloor "in [0, 1)"

    if options.Parameters < 0L then
        outOfRange "Parameters" options.Parameters ">= 0 (0 is k (n + d))"

/// <summary>Checks every option's range as each method does before it runs, so that a caller running several methods
/// can reject bad options before any of them runs.</summary>
/// <param name="options">The options.</param>
/// <exception cref="System.ArgumentNullException">options or options.Progress is null.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">an option is out of range; the message names it
/// (options.Field), the expectation and the value.</exception>
[<CompiledName("Validate")>]
let validate (options: WlraOptions) = checkOptions options

/// Reports one finished iteration, then stops if cancellation was requested, so that a cancelled call returns within
/// one iteration.
let private iterationDone (options: WlraOptions) name iteration limit loss =
    options.Progress {
        Method = name
        Iteration = iteration
        Limit = limit
        Loss = loss
    }

    options.Cancellation.ThrowIfCancellationRequested()

/// The exponent e the iterative methods scale A by (Dense.largestExponent): their squared quantities (a power step, a
/// Gram matrix) would overflow near 1e154 and lose their digits near 1e-154.
let private exponentOf (matrix: Matrix<float>) =
    Dense.largestExponent (Dense.storedValues matrix)

/// ||W o (A - X)||_F for a dense X.
let private lossOf (w: Matrix<float>) (a: Matrix<float>) (x: Matrix<float>) =
    Dense.twoNorm ((a - x).PointwiseMultiply(w).AsColumnMajorArray())

/// ||W o (A - A~)||_F and max |A~_ij| read a block of columns at a time: W's columns from its structure, A~'s from its
/// factors and reweighting, so no n x d matrix is formed; O(n d (t + r)) time, O(n b) memory for blocks of b = 256.
let private streamedLoss (weights: Weights) (a: Matrix<float>) (approximation: WeightedApproximation) =
    let n, d = a.RowCount, a.ColumnCount
    let width = 256
    let w = Array.zeroCreate<float> n
    let residual = Array.zeroCreate<float> n
    let columnNorms = Array.zeroCreate<float> d

    // The reweighting's own weights W^(o+) divides by; they are the loss's weights in every method here, so their
    // columns are read once for both.
    let mutable largest = 0.0

    let divisor, floor =
        match approximation.Reweighting with
        | Reweighting.DivideByWeights(v, floor) -> Some v, floor
        | _ -> Option.None, 0.0

    let shared = divisor |> Option.forall (fun v -> obj.ReferenceEquals(v, weights))

    let divisorColumn = if shared then w else Array.zeroCreate<float> n

    for start in 0..width .. d - 1 do
        let count = min width (d - start)

        let low =
            if approximation.Rank = 0 then
                Matrix<float>.Build.Dense(n, count)
            else
                Dense.multiply approximation.Left (approximation.Right.SubMatrix(0, approximation.Rank, start, count))

        let scale =
            match approximation.Reweighting with
            | Reweighting.MultiplyBy(p, q) -> Some(Dense.multiply p (q.SubMatrix(0, q.RowCount, start, count)))
            | _ -> Option.None

        for c in 0 .. count - 1 do
            let j = start + c
            WeightColumns.into weights j w

            match divisor with
            | Some v when not shared -> WeightColumns.into v j divisorColumn
            | _ -> ()

            let column = a.Column(j)

            for i in 0 .. n - 1 do
                let x =
                    match approximation.Reweighting, scale with
                    | Reweighting.DivideByWeights _, _ ->
                        let v = divisorColumn[i]
                        if v > 0.0 then low[i, c] / max v floor else 0.0
                    | Reweighting.MultiplyBy _, Some s -> low[i, c] * s[i, c]
                    | _ -> low[i, c]

                largest <- max largest (abs x)
                residual[i] <- w[i] * (column[i] - x)

            columnNorms[j] <- Dense.twoNorm residual

    Dense.twoNorm columnNorms, largest

/// <summary>The weighted loss ||W o (A - A~)||_F of an approximation returned by this module.</summary>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <param name="approximation">A~.</param>
/// <returns>The loss; O(n d t).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">the shapes differ.</exception>
[<CompiledName("Loss")>]
let loss (weights: Weights) (matrix: Matrix<float>) (approximation: WeightedApproximation) =
    Guard.notNull (nameof approximation) approximation
    checkShapes 1 weights matrix

    if
        approximation.Left.RowCount <> matrix.RowCount
        || approximation.Right.ColumnCount <> matrix.ColumnCount
    then
        raise (
            ArgumentException(
                $"Expected an approximation of matrix's shape ({Guard.shape matrix}), but approximation is {approximation.Left.RowCount}x{approximation.Right.ColumnCount}.",
                nameof approximation
            )
        )

    streamedLoss weights matrix approximation |> fst

let private result
    name
    (weights: Weights)
    (a: Matrix<float>)
    left
    right
    reweighting
    extra
    iterations
    converged
    history
    =
    let approximation = {
        Method = name
        Left = left
        Right = right
        Reweighting = reweighting
        Loss = 0.0
        Parameters = (a.RowCount + a.ColumnCount) * (left: Matrix<float>).ColumnCount + extra
        Iterations = iterations
        Converged = converged
        LossHistory = [||]
        WeightRank = 0
        RankChoice = ""
        Amplification = 0.0
    }

    let loss, largest = streamedLoss weights a approximation
    let top = Dense.storedValues a |> Array.fold (fun m x -> max m (abs x)) 0.0

    {
        approximation with
            Loss = loss
            LossHistory = (if Array.isEmpty history then [| loss |] else history)
            Amplification =
                if top > 0.0 then largest / top
                elif largest > 0.0 then infinity
                else 0.0
    }

/// <summary>The unweighted baseline `svd`: the best rank-k approximation [A]_k, ignoring the weights.</summary>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W, used only to report the loss.</param>
/// <param name="matrix">A (n x d), finite.</param>
/// <returns>Rank k factors; cost O(n d min(n, d)).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite, or weights differ in shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)].</exception>
[<CompiledName("Svd")>]
let svd (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkShapes rank weights matrix
    let best = Svd.bestRankK rank matrix
    result "svd" weights matrix best.Left best.Right Reweighting.None 0 1 true [||]

/// svd_w with a total rank budget t (validated by the callers).
/// [W o A]_t for a block-diagonal mask: W o A is block diagonal, so its singular triplets are those of the blocks
/// A_b, and the top t over all blocks (ties kept in block order) give [W o A]_t with factors supported on the blocks.
/// O(sum_b n_b d_b min(n_b, d_b)).
let private blockTruncatedSvd (total: int) (blocks: MaskBlock[]) (matrix: Matrix<float>) =
    let parts =
        blocks
        |> Array.map (fun b ->
            let block = matrix.SubMatrix(b.RowStart, b.RowCount, b.ColumnStart, b.ColumnCount)
            b, Svd.bestRankK (min total (min b.RowCount b.ColumnCount)) block)

    let chosen =
        parts
        |> Array.collect (fun (b, best) -> best.SingularValues |> Array.mapi (fun i s -> s, b, best, i))
        |> Array.sortBy (fun (s, _, _, _) -> -s)
        |> Array.truncate total

    let left = Matrix<float>.Build.Dense(matrix.RowCount, chosen.Length)
    let right = Matrix<float>.Build.Dense(chosen.Length, matrix.ColumnCount)

    chosen
    |> Array.iteri (fun c (_, b, best, i) ->
        left.SetSubMatrix(b.RowStart, b.RowCount, c, 1, best.Left.SubMatrix(0, b.RowCount, i, 1))
        right.SetSubMatrix(c, 1, b.ColumnStart, b.ColumnCount, best.Right.SubMatrix(i, 1, 0, b.ColumnCount)))

    left, right

/// The absolute floor below which positive weights divide as the floor: options.WeightFloor max W, or 0.
let private floorOf (options: WlraOptions) (weights: Weights) =
    if options.WeightFloor > 0.0 then
        options.WeightFloor * WeightColumns.maximum weights
    else
        0.0

/// svd_w with a total rank t (validated by the callers): W o A from W's structure, never W itself.
let private reweighted name (total: int) floor (weights: Weights) (matrix: Matrix<float>) =
    let left, right =
        match weights with
        | BlockMask(_, _, blocks) -> blockTruncatedSvd total blocks matrix
        | _ ->
            let best = Svd.bestRankK total (WeightColumns.hadamard weights matrix)
            best.Left, best.Right

    result name weights matrix left right (Reweighting.DivideByWeights(weights, floor)) 0 1 true [||]

/// The largest total rank t whose storage, perRank (n + d) t numbers, fits the budget (options.Parameters, or k (n + d)
/// when 0), with why; at most min(n, d). W is the caller's input in every form and is not counted.
let private budgetRank (options: WlraOptions) (rank: int) (perRank: int) (matrix: Matrix<float>) =
    let n, d = matrix.RowCount, matrix.ColumnCount
    let unit = int64 perRank * int64 (n + d)
    let given = options.Parameters > 0L

    let budget =
        if given then
            options.Parameters
        else
            int64 rank * int64 (n + d)

    let source =
        if given then
            $"options.Parameters = {budget}"
        else
            $"k (n + d) = {budget}, what rank-{rank} factors store"

    let storage = if perRank = 1 then "(n + d) t" else $"{perRank} (n + d) t"

    let t = min (int64 (min n d)) (budget / unit)

    if t < 1L then

        let message =
            $"Expected a budget of at least {unit} numbers, {storage} at t = 1, but it is {source}; raise the budget, or ask for the bicriteria rank r k."

        if given then
            raise (ArgumentOutOfRangeException(nameof options, options.Parameters, message))
        else
            raise (ArgumentOutOfRangeException(nameof rank, rank, message))

    int t,
    $"t = {t}: the largest total rank whose {storage} numbers fit the budget {source} (the bicriteria rank r k of Theorem 1.2 is an option)"

/// svd_w's total rank t, the weights' rank r behind it (0 when r is not used), and why, for rank k. The method stores
/// perRank (n + d) t numbers, which the budget rule fits to the budget.
let private chooseTotalRank
    (options: WlraOptions)
    (rank: int)
    (perRank: int)
    (weights: Weights)
    (matrix: Matrix<float>)
    =
    let n, d = matrix.RowCount, matrix.ColumnCount
    let limit = min n d

    if options.TotalRank > 0 then
        if options.TotalRank > limit then
            raise (
                ArgumentOutOfRangeException(
                    nameof options,
                    options.TotalRank,
                    $"Expected options.TotalRank <= min(n, d) = {limit}, but it is {options.TotalRank}."
                )
            )

        options.TotalRank, 0, $"total rank t = {options.TotalRank} given"
    elif options.WeightRank > 0 then
        let r = options.WeightRank

        if r * rank > limit then
            raise (
                ArgumentOutOfRangeException(
                    nameof rank,
                    rank,
                    $"options.WeightRank = {r} needs r*k = {r * rank} <= min(n, d) = {limit}; use k <= {limit / r}, a smaller WeightRank, or 0 to choose it."
                )
            )

        r * rank, r, $"r = {r} given"
    elif not options.Bicriteria then
        let t, why = budgetRank options rank perRank matrix
        t, 0, why
    else
        let cap = limit / rank

        // The exact rank when it fits (Theorem 1.2 then holds); otherwise the energy rule on W's top singular values.
        let exact, top =
            match weights with
            | DenseWeights w ->
                let top = Dense.topSingularValues (cap + 1) w
                let threshold = top[0] * Dense.rankTolerance n d
                let above = top |> Array.sumBy (fun s -> if s > threshold then 1 else 0)
                (if above <= cap then Some above else Option.None), Some top
            | _ ->
                let r = Weights.rank weights
                (if r <= cap then Some r else Option.None), Option.None

        match exact with
        | Some r ->
            let what =
                match weights with
                | DenseWeights _ -> "the numerical rank of W"
                | FactoredWeights _ -> "the inner dimension of W's factors"
                | BlockMask _ -> "the number of blocks of the mask"
                | LowRankPlusSparse _ -> "the rank bound of W = L R + S"

            r * rank, r, $"r = {r}, {what} (Theorem 1.2 holds)"
        | Option.None ->
            let w = Weights.dense weights
            let top = top |> Option.defaultWith (fun () -> Dense.topSingularValues cap w)
            let total = Dense.twoNorm (Dense.storedValues w) ** 2.0
            let held = Array.scan (fun sum s -> sum + s * s / total) 0.0 top

            let r =
                match Array.tryFindIndex (fun h -> h >= options.EnergyFraction) held with
                | Some r when r >= 1 && r <= cap -> r
                | _ -> cap

            let reached =
                if held[r] >= options.EnergyFraction then
                    $"the smallest r holding {options.EnergyFraction:P1} of ||W||_F^2"
                else
                    $"capped by min(n, d)/k = {cap}; {options.EnergyFraction:P1} needs more"

            r * rank,
            r,
            $"r = {r}: W has rank above min(n, d)/k = {cap}; the top {r} singular values of W hold {held[r]:P1} of ||W||_F^2 ({reached}); Theorem 1.2 does not apply"

/// svd_w with the total rank chosen by chooseTotalRank, then r and the reason recorded in the result.
let private svdWFor name (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    let total, r, why = chooseTotalRank options rank 1 weights matrix

    {
        reweighted name total (floorOf options weights) weights matrix with
            WeightRank = r
            RankChoice = why
    }

/// <summary>svd_w with a total rank budget: A~ = W^(o+) o [W o A]_t, the rank-t truncated SVD of W o A divided
/// entrywise by W (1/0 taken as 0).</summary>
/// <param name="totalRank">t, 1 &lt;= t &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>The approximation with its weighted loss; O(n d min(n, d)).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite, or weights differ in shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">totalRank is outside [1, min(n, d)].</exception>
/// <remarks>The approximation is 0 on entries of zero weight: W o A carries no information there.</remarks>
[<CompiledName("SvdWBudget")>]
let svdWBudget (totalRank: int) (weights: Weights) (matrix: Matrix<float>) =
    // The matrix first: its emptiness would otherwise be reported as totalRank out of [1, 0].
    checkShapes 1 weights matrix
    Guard.rank (nameof totalRank) totalRank (nameof matrix) matrix

    {
        reweighted "svd_w" totalRank 0.0 weights matrix with
            RankChoice = $"total rank t = {totalRank} given"
    }

/// <summary>svd_w (Algorithm 1 of Woodruff and Yasuda 2024): A~ = W^(o+) o [W o A]_t. By default t is the largest
/// total rank whose (n + d) t numbers fit the storage of rank-k factors,
/// k (n + d), or options.Parameters: equal storage with the rank-k methods. The bicriteria form, t = r k
/// (options.Bicriteria or a given WeightRank), is the paper's theorem: when W has rank r with r k &lt;= min(n, d), its
/// weighted error is at most that of every rank-k matrix (Theorem 1.2), because rank(W o A') &lt;= r k for rank-k A'
/// (Lemma 2.1), at r times the storage.</summary>
/// <param name="options">How t is chosen: TotalRank (t given); WeightRank (r given, t = r k); Bicriteria (t = r k with
/// W's own rank when r_W k &lt;= min(n, d), else the smallest r whose rank-r approximation of W holds EnergyFraction of
/// ||W||_F^2, at most min(n, d)/k, found from W's top singular values by randomized subspace iteration, not a full SVD
/// of W); else the budget, Parameters or k (n + d). WeightFloor bounds the division by tiny weights.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A (n x d), finite.</param>
/// <returns>The approximation: rank t factors of W o A, divided by W; 0 on entries of zero weight. WeightRank (0 under
/// the budget rule) and RankChoice say which t (and r) was used and why.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite, or weights differ in shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)], a given r has r k &gt; min(n, d),
/// the budget leaves no rank (it is below n + d), or an option is out of range.</exception>
/// <remarks>O(n d min(n, d)) for the SVD of W o A, plus O(n d r) to choose r for dense weights under Bicriteria. With
/// rank-one weights w u^T and t = k it is the exact weighted rank-k optimum.</remarks>
[<CompiledName("SvdW")>]
let svdW (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    checkShapes rank weights matrix
    svdWFor "svd_w" options rank weights matrix

/// One majorise-minimise step of rank k: the best rank-k approximation of `m` whose rows lie in span(B), B an
/// orthonormal basis of span([V, M^T M V]) for the previous iterate's right factor V (k x d rows). The previous iterate
/// has its rows in span(V), so the result is at least as close to m as it is (which keeps em monotone), and one block
/// power step moves V towards m's top right singular subspace. O(n d k) in four products, against O(n d min(n, d)) for
/// a full SVD; without a previous factor, or when 2k >= d, it is the exact [m]_k.
let private rankKStep (rank: int) (previous: Matrix<float> option) (m: Matrix<float>) : LowRankApproximation =
    match previous with
    | Some right when 2 * rank < m.ColumnCount && right.RowCount = rank ->
        let v = right.Transpose()
        let power = Dense.gemm true m false (Dense.multiply m v)
        let basis = fst (Dense.qr (v.Append power))
        let svd = Dense.thinSvd (Dense.multiply m basis)
        let k = min rank svd.S.Length
        let s = svd.S[.. k - 1]

        {
            Left = Dense.scaleColumnsInPlace s (svd.U.SubMatrix(0, m.RowCount, 0, k))
            Right = Dense.gemm false (svd.Vt.SubMatrix(0, k, 0, basis.ColumnCount)) true basis
            SingularValues = s
        }
    | _ -> Svd.bestRankK rank m

/// EM iterations X <- [W2 o A + (1 - W2) o X]_k from `start`, W2 = W^2 / max W^2 (Srebro and Jaakola 2003), each
/// step restricted to the previous iterate's row space widened by one power step (rankKStep). The n x d iterate, the
/// filled matrix and the scaled residual live in three buffers allocated once, so an iteration allocates only its
/// n x k and d x k factors. The iterations run on A 2^-e, e the exponent of max |A|, as LAPACK's drivers scale (dlascl):
/// the power step squares the filled matrix, which overflows near 1e154 and loses its digits to underflow near 1e-154;
/// a power of two scales exactly, and the factors and losses scale back by 2^e.
let private emFrom
    name
    (options: WlraOptions)
    rank
    (weights: Weights)
    (w: Matrix<float>)
    (matrix: Matrix<float>)
    (start: LowRankApproximation)
    =
    let n, d = matrix.RowCount, matrix.ColumnCount
    let e = exponentOf matrix
    let target = matrix.ToColumnMajorArray() |> Array.map (fun x -> Math.ScaleB(x, -e))

    let start = {
        start with
            Left = start.Left.Map(fun x -> Math.ScaleB(x, -e))
    }

    let weight = w.ToColumnMajorArray()
    let top = weight |> Array.fold (fun m x -> max m (x * x)) 0.0
    let w2 = weight |> Array.map (fun x -> x * x / top)
    let x = Matrix<float>.Build.Dense(n, d)
    let xs = x.AsColumnMajorArray()
    let filled = Matrix<float>.Build.Dense(n, d)
    let fs = filled.AsColumnMajorArray()
    let scaled = Array.zeroCreate<float>(n * d)

    let loss () =
        for i in 0 .. xs.Length - 1 do
            scaled[i] <- weight[i] * (target[i] - xs[i])

        Dense.twoNorm scaled

    let history = ResizeArray()
    let mutable best = start

    if start.Rank > 0 then
        Dense.gemmInto false start.Left false start.Right x |> ignore

    let mutable previous = loss ()
    let mutable converged = false
    let mutable iteration = 0

    while not converged && iteration < options.MaxIterations do
        iteration <- iteration + 1

        // W2 o A + (1 - W2) o X = X + W2 o (A - X).
        for i in 0 .. xs.Length - 1 do
            fs[i] <- xs[i] + w2[i] * (target[i] - xs[i])

        let basis = if best.Rank = rank then Some best.Right else Option.None

        best <- rankKStep rank basis filled
        Dense.gemmInto false best.Left false best.Right x |> ignore
        let current = loss ()
        history.Add current
        converged <- previous - current <= options.Tolerance * previous
        previous <- current
        iterationDone options name iteration options.MaxIterations (Math.ScaleB(current, e))

    let unscale (x: float) = Math.ScaleB(x, e)

    result
        name
        weights
        matrix
        (best.Left.Map unscale)
        best.Right
        Reweighting.None
        0
        iteration
        converged
        (history.ToArray() |> Array.map unscale)

/// <summary>The `em` baseline (Srebro and Jaakkola 2003): X &lt;- [W2 o A + (1 - W2) o X]_k with W2 = W^2 / max W^2,
/// from options.WarmStart or [A]_k, until the loss decreases by less than options.Tolerance times itself or
/// options.MaxIterations is reached.</summary>
/// <param name="options">MaxIterations, Tolerance, WarmStart (a zero matrix starts from 0), Progress, Cancellation.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A, finite.</param>
/// <returns>Rank-k factors. Each iteration is a majorise-minimise step for sum W2_ij (A - X)_ij^2 and never increases
/// the loss: its rank-k step is the best approximation of the filled matrix with rows in span([V, M^T M V]) (V the
/// previous iterate's row space, M the filled matrix), O(n d k) instead of a full SVD's O(n d min(n, d)); the first
/// step from a zero start is an exact SVD.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix or the warm start is not finite or of the wrong shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank or an option is out of range.</exception>
/// <exception cref="System.OperationCanceledException">options.Cancellation was cancelled (checked every iteration).</exception>
[<CompiledName("Em")>]
let em (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    let w = check rank weights matrix

    let start =
        match options.WarmStart with
        | Some start ->
            Guard.finiteMatrix "options.WarmStart" start
            Guard.sameShape "options.WarmStart" start (nameof matrix) matrix (nameof options)

            if Dense.storedValues start |> Array.forall ((=) 0.0) then
                {
                    Left = Matrix<float>.Build.Dense(matrix.RowCount, 0)
                    Right = Matrix<float>.Build.Dense(0, matrix.ColumnCount)
                    SingularValues = [||]
                }
            else
                Svd.bestRankK rank start
        | None -> Svd.bestRankK rank matrix

    emFrom "em" options rank weights w matrix start

/// <summary>The `em_w` method: em started from svd_w's solution truncated to rank k.</summary>
/// <param name="options">MaxIterations, Tolerance, Progress, Cancellation, and svd_w's options (WarmStart is ignored).
/// </param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A, finite.</param>
/// <returns>Rank-k factors, with svd_w's WeightRank and RankChoice; the cost of svd_w plus em's.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for em.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">as for svdW and em.</exception>
/// <exception cref="System.OperationCanceledException">options.Cancellation was cancelled.</exception>
[<CompiledName("EmW")>]
let emW (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    let w = check rank weights matrix
    // The start's storage is never kept (em_w stores rank k), so it takes the bicriteria rank r k of Theorem 1.2.
    let reweightedStart =
        svdWFor "svd_w" { options with Bicriteria = true } rank weights matrix

    let start = reweightedStart.ToMatrix() |> Svd.bestRankK rank

    {
        emFrom "em_w" options rank weights w matrix start with
            WeightRank = reweightedStart.WeightRank
            RankChoice = reweightedStart.RankChoice
    }

/// Solves (G + lambda I) x = b in place in `b` by Cholesky, G symmetric k x k in column-major `g` (overwritten);
/// false when a pivot is not safely positive (G + lambda I singular to working precision), leaving b unusable.
let private choleskySolve (k: int) (g: float[]) (b: float[]) =
    let mutable ok = true
    let mutable largest = 0.0

    for c in 0 .. k - 1 do
        largest <- max largest g[c + c * k]

    let floor = largest * 1e-13
    let mutable c = 0

    while ok && c < k do
        let mutable pivot = g[c + c * k]

        for q in 0 .. c - 1 do
            pivot <- pivot - g[c + q * k] * g[c + q * k]

        if not (pivot > floor) then
            ok <- false
        else
            let root = sqrt pivot
            g[c + c * k] <- root

            for row in c + 1 .. k - 1 do
                let mutable value = g[row + c * k]

                for q in 0 .. c - 1 do
                    value <- value - g[row + q * k] * g[c + q * k]

                g[row + c * k] <- value / root

            c <- c + 1

    if ok then
        // L y = b, then L^T x = y; L is the lower triangle of g.
        for row in 0 .. k - 1 do
            let mutable value = b[row]

            for q in 0 .. row - 1 do
                value <- value - g[row + q * k] * b[q]

            b[row] <- value / g[row + row * k]

        for row in k - 1 .. -1 .. 0 do
            let mutable value = b[row]

            for q in row + 1 .. k - 1 do
                value <- value - g[q + row * k] * b[q]

            b[row] <- value / g[row + row * k]

    ok

/// The minimum-norm solution of G x = b for a symmetric positive semidefinite k x k G (column-major `g`), eigenvalues
/// below k eps lambda_max taken as zero: the least-squares fallback of a singular Gram matrix. An eigendecomposition of
/// the k x k G costs a fraction of an SVD of it, and the fallback runs for every row whose weights leave V's columns
/// dependent (a row with fewer positive weights than k), which can be most rows of a fit of rank near d.
let private minimumNormSolve (k: int) (g: float[]) (b: float[]) =
    let values, vectors = Dense.symmetricEigen (Matrix<float>.Build.Dense(k, k, g))
    let threshold = values[k - 1] * Dense.rankTolerance k k
    let x = Array.zeroCreate<float> k
    let right = Vector<float>.Build.Dense b

    for e in 0 .. k - 1 do
        if values[e] > threshold then
            let q = vectors.Column e
            let coefficient = q.DotProduct right / values[e]

            for c in 0 .. k - 1 do
                x[c] <- x[c] + coefficient * q[c]

    x

/// Rows of X (n x k) minimising sum_j W2_ij (A_ij - x_i . V_j)^2 + lambda ||x_i||^2 for fixed V (d x k), batched: all n
/// Gram matrices V^T diag(W2_i) V come from one product W2 P, where column (c, c') of P (d x k(k+1)/2) holds the
/// products V_jc V_jc', and all right-hand sides from one product (W2 o A) V; then n k x k Cholesky solves. Cost
/// O(n d k^2 + n k^3) in two gemms and a loop, instead of n separate least-squares calls. A row whose Gram matrix is
/// singular to working precision (its weights vanish on V's support and lambda = 0) falls back to a least-squares
/// solve, which gives the minimum-norm optimum.
let internal weightedRows (w2: Matrix<float>) (a: Matrix<float>) (v: Matrix<float>) (lambda: float) =
    let n, d, k = a.RowCount, v.RowCount, v.ColumnCount
    let pairs = k * (k + 1) / 2
    let x = Matrix<float>.Build.Dense(n, k)

    if k > 0 then
        let products = Matrix<float>.Build.Dense(d, pairs)
        let mutable pair = 0

        for c in 0 .. k - 1 do
            for c' in c .. k - 1 do
                for j in 0 .. d - 1 do
                    products[j, pair] <- v[j, c] * v[j, c']

                pair <- pair + 1

        let grams = Dense.multiply w2 products
        let rhs = Dense.multiply (w2.PointwiseMultiply a) v
        let g = Array.zeroCreate<float>(k * k)
        let b = Array.zeroCreate<float> k

        // g = V^T diag(W2_i) V + lambda I and b = row i of (W2 o A) V, unpacked from the batched products.
        let fill i =
            let mutable pair = 0

            for c in 0 .. k - 1 do
                for c' in c .. k - 1 do
                    g[c + c' * k] <- grams[i, pair]
                    g[c' + c * k] <- grams[i, pair]
                    pair <- pair + 1

                g[c + c * k] <- g[c + c * k] + lambda
                b[c] <- rhs[i, c]

        for i in 0 .. n - 1 do
            fill i

            let solution =
                if choleskySolve k g b then
                    b
                else
                    // Singular to working precision: first G + delta I with delta = 1e-12 max G_cc, which Cholesky
                    // always factors and whose solution differs from the minimum-norm one only along G's eigenvalues
                    // near delta; an eigendecomposition only if rounding defeats even that.
                    fill i
                    let largest = Seq.init k (fun c -> g[c + c * k]) |> Seq.max
                    let gram = Array.copy g

                    for c in 0 .. k - 1 do
                        g[c + c * k] <- g[c + c * k] + 1e-12 * largest

                    if largest > 0.0 && choleskySolve k g b then
                        b
                    else
                        fill i
                        minimumNormSolve k gram b

            for c in 0 .. k - 1 do
                x[i, c] <- solution[c]

    x

/// <summary>The `als` baseline: weighted alternating least squares on A ~ U V^T, each half-step solving
/// min sum_ij W_ij^2 (A_ij - u_i . v_j)^2 + lambda (||U||^2 + ||V||^2) exactly for one factor, lambda =
/// options.Ridge max W^2, on A scaled by the power of two 2^-e that puts max |A| in [1, 2) (so the ridge is relative to
/// A's scale too, the result scales with A, and Gram matrices neither overflow nor underflow); started from [A]_k.
/// </summary>
/// <param name="options">MaxIterations, Tolerance, Ridge.</param>
/// <param name="rank">k.</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>Rank-k factors. A sweep costs O(n d k^2 + (n + d) k^3); stops as em does.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for em.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank or an option is out of range.</exception>
[<CompiledName("Als")>]
let als (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    let w = check rank weights matrix
    let w2 = w.PointwiseMultiply w
    let lambda = options.Ridge * (Dense.storedValues w2 |> Array.max)
    // On A 2^-e (see exponentOf), so the ridge is relative to A's scale as well as W's and the result scales with A.
    let e = exponentOf matrix
    let unscale (x: float) = Math.ScaleB(x, e)
    let a = matrix.Map(fun x -> Math.ScaleB(x, -e))
    let start = Svd.bestRankK rank a
    let mutable v = start.Right.Transpose()
    let mutable u = start.Left
    let history = ResizeArray()
    let mutable previous = lossOf w a (start.ToMatrix())
    let mutable converged = false
    let mutable iteration = 0

    let w2t, at = w2.Transpose(), a.Transpose()

    while not converged && iteration < options.MaxIterations do
        iteration <- iteration + 1
        u <- weightedRows w2 a v lambda
        v <- weightedRows w2t at u lambda
        let current = lossOf w a (Dense.gemm false u true v)
        history.Add(unscale current)
        converged <- abs (previous - current) <= options.Tolerance * previous
        previous <- current
        iterationDone options "als" iteration options.MaxIterations (unscale current)

    result
        "als"
        weights
        matrix
        (u.Map unscale)
        (v.Transpose())
        Reweighting.None
        0
        iteration
        converged
        (history.ToArray())

/// <summary>Practical svd_w (after Algorithm 2 of Woodruff and Yasuda 2024): P Q, a rank-t approximation of the
/// entrywise inverse of W, and A~ = (P Q) o [W o A]_t with t as for svdW, so that W^(o-1) is never needed at reconstruction.
/// </summary>
/// <param name="options">t as for svdW (its budget rule counts the 2 (n + d) t numbers of both rank-t parts; W is not
/// kept), WeightFloor as for svdW; MaxIterations and Tolerance for the fit of P Q.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W (r as for svdW).</param>
/// <param name="matrix">A, finite.</param>
/// <returns>The approximation; it stores 2 (n + d) t numbers (the factors of both rank-t parts).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite, or weights differ in shape.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">as for svdW.</exception>
/// <remarks>P Q minimises ||W o (P Q) - S||_F (S the 0/1 support of W), the weighted fit of 1 / max(W, floor) with
/// weights W, by als without a ridge (MaxIterations sweeps): on entries of positive weight W o A~ = (W o P Q) o [W o A]_t, so the loss is svd_w's plus at most
/// max |1 - W o P Q| ||[W o A]_t||_F, and relative errors of the inverse are what matter. Entries of zero weight carry no
/// weight in that fit, so the inverse is free there, which is what 1/0 means here: nothing is asked of A~ there. (An
/// unweighted [W^(o+)]_t would be dominated by the largest 1/W, i.e. the tiniest weights, and dividing A by P Q, as
/// [(P Q)^(o+) o A]_t would, blows up where P Q is near 0.) The low-rank part is [W o A]_t itself. O(n d min(n, d))
/// for the SVD, plus MaxIterations als sweeps of O(n d t^2).</remarks>
[<CompiledName("SvdWPractical")>]
let svdWPractical (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    let w = check rank weights matrix
    let total, r, why = chooseTotalRank options rank 2 weights matrix
    // 1e-300 keeps 1 / W finite for subnormal weights.
    let floor = max (floorOf options weights) 1e-300

    let inverse =
        w.Map((fun x -> if x > 0.0 then 1.0 / max x floor else 0.0), Zeros.Include)

    // No ridge: the weights span orders of magnitude, and a ridge relative to max W^2 would swamp the fit where W is
    // small; als falls back to least squares where a row's Gram matrix is singular.
    let fit =
        als
            {
                options with
                    WarmStart = None
                    Ridge = 0.0
            }
            total
            weights
            inverse

    let best = Svd.bestRankK total (WeightColumns.hadamard weights matrix)
    let extra = (matrix.RowCount + matrix.ColumnCount) * total

    {
        result
            "svd_w practical"
            weights
            matrix
            best.Left
            best.Right
            (Reweighting.MultiplyBy(fit.Left, fit.Right))
            extra
            1
            true
            [||] with
            WeightRank = r
            RankChoice = why
    }

/// <summary>The `adam` baseline: U V^T optimised by Adam (beta1 0.9, beta2 0.999) on ||W o (A - U V^T)||_F^2 from
/// the balanced factors of [A]_k, step options.LearningRate times the root-mean-square entry of A.</summary>
/// <param name="options">AdamSteps, Tolerance, LearningRate, Progress, Cancellation.</param>
/// <param name="rank">k.</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>Rank-k factors with the best loss seen. A step costs O(n d k).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for em.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank or an option is out of range.</exception>
[<CompiledName("Adam")>]
let adam (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    let w = check rank weights matrix
    let start = Svd.bestRankK rank matrix
    let roots = start.SingularValues |> Array.map sqrt
    // Balanced start: U = U_k Sigma^(1/2), V = V_k Sigma^(1/2).
    let u =
        start.Left.MapIndexed(fun _ j x -> if roots[j] > 0.0 then x / roots[j] else 0.0)

    let v = start.Right.Transpose().MapIndexed(fun _ j x -> x * roots[j])

    let rms =
        Norm.frobenius matrix / sqrt (float (matrix.RowCount * matrix.ColumnCount))

    let step = options.LearningRate * (if rms > 0.0 then rms else 1.0)

    let n, d = matrix.RowCount, matrix.ColumnCount
    let target = matrix.ToColumnMajorArray()
    let weight = w.ToColumnMajorArray()
    let scaled = Array.zeroCreate<float>(n * d)
    let residual = Matrix<float>.Build.Dense(n, d)
    let r = residual.AsColumnMajorArray()

    // One product U V^T per step, into one buffer, gives both the loss ||W o (U V^T - A)||_F and the gradient's
    // residual W^2 o (U V^T - A), in place.
    let evaluate (u: Matrix<float>) (v: Matrix<float>) =
        Dense.gemmInto false u true v residual |> ignore

        for i in 0 .. r.Length - 1 do
            let e = weight[i] * (r[i] - target[i])
            scaled[i] <- e
            r[i] <- weight[i] * e

        Dense.twoNorm scaled

    let moment (m: Matrix<float>) =
        Array.zeroCreate<float>(m.RowCount * m.ColumnCount)

    let mu, su, mv, sv = moment u, moment u, moment v, moment v
    let history = ResizeArray()
    let mutable current = evaluate u v
    let mutable bestLoss = current
    let mutable bestU, bestV = u.Clone(), v.Clone()
    let mutable converged = false
    let mutable t = 0

    let update (parameter: Matrix<float>) (gradient: Matrix<float>) (m: float[]) (s: float[]) =
        let c1 = 1.0 - Math.Pow(0.9, float t)
        let c2 = 1.0 - Math.Pow(0.999, float t)
        let p, g = parameter.AsColumnMajorArray(), gradient.AsColumnMajorArray()

        for i in 0 .. p.Length - 1 do
            // The gradient of the squared loss is 2 R V (and 2 R^T U); the 2 is folded in here.
            let gi = 2.0 * g[i]
            m[i] <- 0.9 * m[i] + 0.1 * gi
            s[i] <- 0.999 * s[i] + 0.001 * gi * gi
            p[i] <- p[i] - step * (m[i] / c1) / (sqrt (s[i] / c2) + 1e-12)

    while not converged && t < options.AdamSteps do
        t <- t + 1
        let gu = Dense.multiply residual v
        let gv = Dense.gemm true residual false u
        update u gu mu su
        update v gv mv sv
        let previous = current
        current <- evaluate u v
        history.Add current

        if current < bestLoss then
            bestLoss <- current
            bestU <- u.Clone()
            bestV <- v.Clone()

        converged <- abs (previous - current) <= options.Tolerance * previous
        iterationDone options "adam" t options.AdamSteps current

    result "adam" weights matrix bestU (bestV.Transpose()) Reweighting.None 0 t converged (history.ToArray())

/// <summary>The `greedy` baseline (Bhaskara, Ruwanpathirana and Wijewardena 2021): k times, add the top right singular
/// vector of the gradient W^2 o (A - X) to an orthonormal basis V, then refit the rows of X = U V^T by weighted least
/// squares.</summary>
/// <param name="options">Progress and Cancellation.</param>
/// <param name="rank">k.</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>Rank-k factors after exactly k steps, each O(n d min(n, d) + n d k^2).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for svd.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)].</exception>
[<CompiledName("Greedy")>]
let greedy (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    let w = check rank weights matrix
    let w2 = w.PointwiseMultiply w
    let d = matrix.ColumnCount
    let history = ResizeArray()
    let mutable basis = Matrix<float>.Build.Dense(d, 0)
    let mutable u = Matrix<float>.Build.Dense(matrix.RowCount, 0)

    for step in 1..rank do
        let x =
            if basis.ColumnCount = 0 then
                Matrix<float>.Build.Dense(matrix.RowCount, d)
            else
                Dense.gemm false u true basis

        let gradient = w2.PointwiseMultiply(matrix - x)
        let direction = (Dense.thinSvd gradient).Vt.Row 0
        // Gram-Schmidt twice against the basis keeps it orthonormal to working precision.
        let mutable v = direction

        for _ in 1..2 do
            if basis.ColumnCount > 0 then
                v <- v - basis * basis.TransposeThisAndMultiply v

        let norm = v.L2Norm()
        // A direction already in the span (the gradient vanished there) adds nothing; keep the basis as is.
        if norm > 1e-12 then
            basis <- basis.Append((v / norm).ToColumnMatrix())

        u <- weightedRows w2 matrix basis 0.0
        let current = lossOf w matrix (Dense.gemm false u true basis)
        history.Add current
        iterationDone options "greedy" step rank current

    result "greedy" weights matrix u (basis.Transpose()) Reweighting.None 0 rank true (history.ToArray())

/// <summary>The `sample` baseline (row-norm sampling of W o A, Frieze, Kannan and Vempala; Dai 2023): sample s rows of
/// M = W o A with probability proportional to their squared norms, scaled by 1/sqrt(s p_i); V spans the sample's top
/// t right singular vectors (t as for svdW); A~ = W^(o+) o (M V V^T).</summary>
/// <param name="options">Samples (0 chooses 4 t ln(t + 1) + 10), Seed, and t and WeightFloor as for svdW.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A.</param>
/// <returns>The approximation; O(n d) to sample plus O(s d min(s, d) + n d t).</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for svdW.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">as for svdW, or options.Samples &lt; 0.</exception>
[<CompiledName("Sample")>]
let sample (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    checkShapes rank weights matrix
    let total, r, why = chooseTotalRank options rank 1 weights matrix

    if options.Samples < 0 then
        raise (
            ArgumentOutOfRangeException(
                nameof options,
                options.Samples,
                $"Expected options.Samples >= 0, but it is {options.Samples}."
            )
        )

    let s =
        if options.Samples > 0 then
            options.Samples
        else
            int (4.0 * float total * log (float total + 1.0)) + 10

    let m = WeightColumns.hadamard weights matrix
    // Relative to the largest row norm: squared norms of rows near 1e155 overflow and near 1e-155 underflow, and
    // the probabilities are scale-free.
    let norms = Dense.rowTwoNorms m
    let largest = Array.max norms

    let squares =
        norms
        |> Array.map (fun x ->
            let r = if largest > 0.0 then x / largest else 0.0
            r * r)

    let totalMass = Array.sum squares
    let random = Random(options.Seed)
    let cumulative = Array.scan (+) 0.0 squares |> Array.tail

    let rows =
        Array.init s (fun _ ->
            let target = random.NextDouble() * totalMass
            let index = Array.BinarySearch(cumulative, target)
            let index = if index < 0 then ~~~index else index
            min index (squares.Length - 1))

    let sampled =
        Matrix<float>
            .Build.Dense(
                s,
                m.ColumnCount,
                fun i j ->
                    let p = squares[rows[i]] / totalMass
                    if p > 0.0 then m[rows[i], j] / sqrt (float s * p) else 0.0
            )

    let svd = Dense.thinSvd sampled
    let t = min total svd.S.Length
    let vt = svd.Vt.SubMatrix(0, t, 0, m.ColumnCount)
    let left = Dense.gemm false m true vt

    {
        result "sample" weights matrix left vt (Reweighting.DivideByWeights(weights, floorOf options weights)) 0 1 true [||] with
            WeightRank = r
            RankChoice = why
    }

/// <summary>Column subset selection (Woodruff and Yasuda 2024, Corollary 1.3) by deterministic leverage scores: with
/// M = W o A and t = r k, choose the c columns of M with the largest leverage scores l_j = ||V_t^T e_j||^2 (V_t the top-t
/// right singular vectors of M), set C = M restricted to them and X = C^+ M, and return A~ = W^(o+) o (C X).</summary>
/// <param name="columns">c, with t &lt;= c &lt;= d.</param>
/// <param name="rank">k, 1 &lt;= k &lt;= min(n, d); r as svdW chooses it, with r k &lt;= min(n, d).</param>
/// <param name="weights">W.</param>
/// <param name="matrix">A, finite.</param>
/// <returns>The column indices, the approximation (storing (n + d) c numbers: C and X) and epsilon = t - sum of the
/// selected leverage scores.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">as for svdW.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">as for svdW, or columns outside [t, d].</exception>
/// <remarks>Guarantee (derived here, in the spirit of Boutsidis, Drineas and Magdon-Ismail 2014 and Papailiopoulos,
/// Kyrillidis and Boutsidis 2014): if epsilon &lt; 1 then sigma_min(V_t^T S)^2 &gt;= 1 - epsilon for the selection S, and
/// X' = C (V_t^T S)^+ V_t^T in span(C) satisfies M - X' = E - E S (V_t^T S)^+ V_t^T with E = M - [M]_t, two terms with
/// orthogonal row spaces; hence ||M - C C^+ M||_F^2 &lt;= (1 + 1/(1 - epsilon)) ||M - [M]_t||_F^2. With positive weights the
/// right side is svd_w's squared loss, so the CSS loss is within sqrt(1 + 1/(1 - epsilon)) of svd_w's.
/// Cost: a thin SVD of M, O(n d min(n, d)), and a least-squares solve, O(n c d).</remarks>
[<CompiledName("ColumnSubset")>]
let columnSubset (columns: int) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkShapes rank weights matrix
    // Only the leverage scores use t, and the guarantee below is svd_w's at the bicriteria rank r k.
    let total, r, why =
        chooseTotalRank
            {
                WlraOptions.Default with
                    Bicriteria = true
            }
            rank
            1
            weights
            matrix

    let d = matrix.ColumnCount

    if columns < total || columns > d then
        raise (
            ArgumentOutOfRangeException(
                nameof columns,
                columns,
                $"Expected r k = {total} <= columns <= d = {d}, but columns = {columns}."
            )
        )

    let m = WeightColumns.hadamard weights matrix
    let top = (Dense.thinSvd m).Vt.SubMatrix(0, total, 0, d)
    let leverage = Array.init d (fun j -> top.Column(j).DotProduct(top.Column j))

    let chosen =
        Array.init d id
        |> Array.sortBy (fun j -> -leverage[j], j)
        |> Array.truncate columns

    let c = Matrix<float>.Build.Dense(m.RowCount, columns, fun i j -> m[i, chosen[j]])
    let x, _ = Dense.leastSquares c m
    let deficit = float total - (chosen |> Array.sumBy (fun j -> leverage[j]))

    {
        Columns = chosen
        Approximation = {
            result "css" weights matrix c x (Reweighting.DivideByWeights(weights, 0.0)) 0 1 true [||] with
                WeightRank = r
                RankChoice = why
        }
        LeverageDeficit = max 0.0 deficit
    }
