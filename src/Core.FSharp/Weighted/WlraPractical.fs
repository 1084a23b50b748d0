/// Practical svd_w (after Woodruff and Yasuda 2024, Algorithm 2).
module internal LowRank.Core.WlraPractical

open System
open MathNet.Numerics.LinearAlgebra

open LowRank.Core.WlraShared
open LowRank.Core.WlraReweighted
open LowRank.Core.WlraEm
open LowRank.Core.WlraAls

/// The implementation of Wlra.svdWPractical.
let internal svdWPractical (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
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
            ignore
            Threading.CancellationToken.None
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
