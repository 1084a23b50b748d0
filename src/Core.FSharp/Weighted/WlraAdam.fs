/// The adam baseline.
module internal LowRank.Core.WlraAdam

open System
open MathNet.Numerics.LinearAlgebra

open LowRank.Core.WlraShared
open LowRank.Core.WlraReweighted
open LowRank.Core.WlraEm
open LowRank.Core.WlraAls
open LowRank.Core.WlraPractical

/// The implementation of Wlra.adam.
let internal adam (options: WlraOptions) progress token (rank: int) (weights: Weights) (matrix: Matrix<float>) =
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
        iterationDone progress token "adam" t options.AdamSteps current

    result "adam" weights matrix bestU (bestV.Transpose()) Reweighting.None 0 t converged (history.ToArray())
