/// The als baseline: weighted alternating least squares.
module internal LowRank.Core.WlraAls

open System
open MathNet.Numerics.LinearAlgebra

open LowRank.Core.WlraShared
open LowRank.Core.WlraReweighted
open LowRank.Core.WlraEm

/// Solves (G + lambda I) x = b in place in `b` by Cholesky, G symmetric k x k in column-major `g` (overwritten);
/// false when a pivot is not safely positive (G + lambda I singular to working precision), leaving b unusable.
let internal choleskySolve (k: int) (g: float[]) (b: float[]) =
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
let internal minimumNormSolve (k: int) (g: float[]) (b: float[]) =
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

/// The implementation of Wlra.als.
let internal als (options: WlraOptions) progress token (rank: int) (weights: Weights) (matrix: Matrix<float>) =
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
        iterationDone progress token "als" iteration options.MaxIterations (unscale current)

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
