// The implementation of Norm.fsi, which documents each function.
[<RequireQualifiedAccess>]
module LowRank.Core.Norm

open MathNet.Numerics.LinearAlgebra

[<CompiledName("Frobenius")>]
let frobenius (matrix: Matrix<float>) =
    Guard.notNull (nameof matrix) matrix
    Dense.twoNorm (Dense.storedValues matrix)

[<CompiledName("VNorm")>]
let vNorm (matrix: Matrix<float>) =
    Guard.notNull (nameof matrix) matrix
    Dense.rowTwoNorms matrix |> Array.sum

[<CompiledName("WeightedFrobenius")>]
let weightedFrobenius (weights: Matrix<float>) (matrix: Matrix<float>) =
    Guard.nonEmpty (nameof matrix) matrix
    Guard.weights (nameof weights) weights (nameof matrix) matrix
    frobenius (weights.PointwiseMultiply matrix)

[<CompiledName("SqrtWeights")>]
let sqrtWeights (weights: Matrix<float>) =
    Guard.weights (nameof weights) weights (nameof weights) weights
    weights.PointwiseSqrt()
