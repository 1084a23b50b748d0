/// Row-norm sampling and column subset selection.
module internal LowRank.Core.WlraSampling

open System
open MathNet.Numerics.LinearAlgebra

open LowRank.Core.WlraShared
open LowRank.Core.WlraReweighted
open LowRank.Core.WlraEm
open LowRank.Core.WlraAls
open LowRank.Core.WlraPractical
open LowRank.Core.WlraAdam
open LowRank.Core.WlraGreedy

/// The implementation of Wlra.sample.
let internal sample (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
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

/// The implementation of Wlra.columnSubset.
let internal columnSubset (columns: int) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
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
