/// The em baseline (Srebro and Jaakkola 2003) and em_w.
module internal LowRank.Core.WlraEm

open System
open MathNet.Numerics.LinearAlgebra

open LowRank.Core.WlraShared
open LowRank.Core.WlraReweighted

/// EM iterations X <- [W2 o A + (1 - W2) o X]_k from `start`, W2 = W^2 / max W^2 (Srebro and Jaakola 2003), each
/// step restricted to the previous iterate's row space widened by one power step (rankKStep). The n x d iterate, the
/// filled matrix and the scaled residual live in three buffers allocated once, so an iteration allocates only its
/// n x k and d x k factors. The iterations run on A 2^-e, e the exponent of max |A|, as LAPACK's drivers scale (dlascl):
/// the power step squares the filled matrix, which overflows near 1e154 and loses its digits to underflow near 1e-154;
/// a power of two scales exactly, and the factors and losses scale back by 2^e.
let internal emFrom
    name
    (options: WlraOptions)
    progress
    token
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
        iterationDone progress token name iteration options.MaxIterations (Math.ScaleB(current, e))

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

/// The implementation of Wlra.em.
let internal em (options: WlraOptions) progress token (rank: int) (weights: Weights) (matrix: Matrix<float>) =
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

    emFrom "em" options progress token rank weights w matrix start

/// The implementation of Wlra.emW.
let internal emW (options: WlraOptions) progress token (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    let w = check rank weights matrix
    // The start's storage is never kept (em_w stores rank k), so it takes the bicriteria rank r k of Theorem 1.2.
    let reweightedStart =
        svdWFor "svd_w" { options with Bicriteria = true } rank weights matrix

    let start = reweightedStart.ToMatrix() |> Svd.bestRankK rank

    {
        emFrom "em_w" options progress token rank weights w matrix start with
            WeightRank = reweightedStart.WeightRank
            RankChoice = reweightedStart.RankChoice
    }
