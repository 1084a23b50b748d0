/// The greedy baseline (Bhaskara, Ruwanpathirana and Wijewardena 2021).
module internal LowRank.Core.WlraGreedy

open System
open MathNet.Numerics.LinearAlgebra

open LowRank.Core.WlraShared
open LowRank.Core.WlraReweighted
open LowRank.Core.WlraEm
open LowRank.Core.WlraAls
open LowRank.Core.WlraPractical
open LowRank.Core.WlraAdam

/// The implementation of Wlra.greedy.
let internal greedy progress token (rank: int) (weights: Weights) (matrix: Matrix<float>) =
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
        iterationDone progress token "greedy" step rank current

    result "greedy" weights matrix u (basis.Transpose()) Reweighting.None 0 rank true (history.ToArray())
