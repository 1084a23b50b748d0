/// The unweighted baseline and svd_w (Woodruff and Yasuda 2024, Algorithm 1).
module internal LowRank.Core.WlraReweighted

open System
open MathNet.Numerics.LinearAlgebra

open LowRank.Core.WlraShared

/// The implementation of Wlra.svd.
let internal svd (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkShapes rank weights matrix
    let best = Svd.bestRankK rank matrix
    result "svd" weights matrix best.Left best.Right Reweighting.None 0 1 true [||]

/// The implementation of Wlra.svdWBudget.
let internal svdWBudget (totalRank: int) (weights: Weights) (matrix: Matrix<float>) =
    // The matrix first: its emptiness would otherwise be reported as totalRank out of [1, 0].
    checkShapes 1 weights matrix
    Guard.rank (nameof totalRank) totalRank (nameof matrix) matrix

    {
        reweighted "svd_w" totalRank 0.0 weights matrix with
            RankChoice = $"total rank t = {totalRank} given"
    }

/// The implementation of Wlra.svdW.
let internal svdW (options: WlraOptions) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
    checkOptions options
    checkShapes rank weights matrix
    svdWFor "svd_w" options rank weights matrix
