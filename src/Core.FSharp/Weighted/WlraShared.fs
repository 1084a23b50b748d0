/// The shared pieces of the weighted methods: argument checks, the loss, results, rank choices under a storage budget.
module internal LowRank.Core.WlraShared

open System
open MathNet.Numerics.LinearAlgebra

/// Checks the arguments every method shares. Weights were checked finite and nonnegative when built; only their
/// shape is left to check, and it is read from their structure, so no n x d weights are formed here.
let internal checkShapes (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    Guard.notNull (nameof weights) weights
    Guard.finiteMatrix (nameof matrix) matrix
    Guard.rank (nameof rank) rank (nameof matrix) matrix
    WeightColumns.requireShapeOf (nameof matrix) matrix weights

/// checkShapes, then the dense weights for the methods that iterate on dense n x d matrices.
let internal check (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkShapes rank weights matrix
    Weights.dense weights

let internal checkOptions (options: WlraOptions) =
    Guard.notNull (nameof options) options

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

/// Reports one finished iteration, then stops if cancellation was requested, so that a cancelled call returns within
/// one iteration.
let internal iterationDone
    (progress: WlraProgress -> unit)
    (token: Threading.CancellationToken)
    name
    iteration
    limit
    loss
    =
    progress {
        Method = name
        Iteration = iteration
        Limit = limit
        Loss = loss
    }

    token.ThrowIfCancellationRequested()

/// The exponent e the iterative methods scale A by (Dense.largestExponent): their squared quantities (a power step, a
/// Gram matrix) would overflow near 1e154 and lose their digits near 1e-154.
let internal exponentOf (matrix: Matrix<float>) =
    Dense.largestExponent (Dense.storedValues matrix)

/// ||W o (A - X)||_F for a dense X.
let internal lossOf (w: Matrix<float>) (a: Matrix<float>) (x: Matrix<float>) =
    Dense.twoNorm ((a - x).PointwiseMultiply(w).AsColumnMajorArray())

/// ||W o (A - A~)||_F and max |A~_ij| read a block of columns at a time: W's columns from its structure, A~'s from its
/// factors and reweighting, so no n x d matrix is formed; O(n d (t + r)) time, O(n b) memory for blocks of b = 256.
let internal streamedLoss (weights: Weights) (a: Matrix<float>) (approximation: WeightedApproximation) =
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
    let dataOfA = a.AsColumnMajorArray()

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

            // Straight from the column-major storage where there is one (A~'s block always; A unless sparse): the
            // matrix indexer and a copied column per j made this loop cost as much as svd_w's SVD.
            let column =
                match dataOfA with
                | null -> a.Column(j).ToArray()
                | _ -> null

            let lowData = low.AsColumnMajorArray()
            let scaleData = scale |> Option.map (fun m -> m.AsColumnMajorArray())

            for i in 0 .. n - 1 do
                let entry = lowData[i + c * n]

                let x =
                    match approximation.Reweighting, scaleData with
                    | Reweighting.DivideByWeights _, _ ->
                        let v = divisorColumn[i]
                        if v > 0.0 then entry / max v floor else 0.0
                    | Reweighting.MultiplyBy _, Some s -> entry * s[i + c * n]
                    | _ -> entry

                let original =
                    match column with
                    | null -> dataOfA[i + j * n]
                    | values -> values[i]

                largest <- max largest (abs x)
                residual[i] <- w[i] * (original - x)

            columnNorms[j] <- Dense.twoNorm residual

    Dense.twoNorm columnNorms, largest

let internal result
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

/// svd_w with a total rank budget t (validated by the callers).
/// [W o A]_t for a block-diagonal mask: W o A is block diagonal, so its singular triplets are those of the blocks
/// A_b, and the top t over all blocks (ties kept in block order) give [W o A]_t with factors supported on the blocks.
/// O(sum_b n_b d_b min(n_b, d_b)).
let internal blockTruncatedSvd (total: int) (blocks: MaskBlock[]) (matrix: Matrix<float>) =
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
let internal floorOf (options: WlraOptions) (weights: Weights) =
    if options.WeightFloor > 0.0 then
        options.WeightFloor * WeightColumns.maximum weights
    else
        0.0

/// svd_w with a total rank t (validated by the callers): W o A from W's structure, never W itself.
let internal reweighted name (total: int) floor (weights: Weights) (matrix: Matrix<float>) =
    let left, right =
        match weights with
        | BlockMask(_, _, blocks) -> blockTruncatedSvd total blocks matrix
        | _ ->
            let best = Svd.bestRankK total (WeightColumns.hadamard weights matrix)
            best.Left, best.Right

    result name weights matrix left right (Reweighting.DivideByWeights(weights, floor)) 0 1 true [||]

/// The largest total rank t whose storage, perRank (n + d) t numbers, fits the budget (options.Parameters, or k (n + d)
/// when 0), with why; at most min(n, d). W is the caller's input in every form and is not counted.
let internal budgetRank (options: WlraOptions) (rank: int) (perRank: int) (matrix: Matrix<float>) =
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
let internal chooseTotalRank
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
let internal svdWFor name (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    let total, r, why = chooseTotalRank options rank 1 weights matrix

    {
        reweighted name total (floorOf options weights) weights matrix with
            WeightRank = r
            RankChoice = why
    }

/// One majorise-minimise step of rank k: the best rank-k approximation of `m` whose rows lie in span(B), B an
/// orthonormal basis of span([V, M^T M V]) for the previous iterate's right factor V (k x d rows). The previous iterate
/// has its rows in span(V), so the result is at least as close to m as it is (which keeps em monotone), and one block
/// power step moves V towards m's top right singular subspace. O(n d k) in four products, against O(n d min(n, d)) for
/// a full SVD; without a previous factor, or when 2k >= d, it is the exact [m]_k.
let internal rankKStep (rank: int) (previous: Matrix<float> option) (m: Matrix<float>) : LowRankApproximation =
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
