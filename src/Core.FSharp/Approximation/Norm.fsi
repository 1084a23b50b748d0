/// The norms LowRank's losses are built on: Frobenius, the V-norm (L2,1) and the weighted Frobenius norm. The
/// module's surface, with its documentation; Norm.fs holds the implementation.
[<RequireQualifiedAccess>]
module LowRank.Core.Norm

open MathNet.Numerics.LinearAlgebra

/// <summary>The Frobenius norm ||A||_F = sqrt(sum_ij A_ij^2).</summary>
/// <param name="matrix">Any matrix, dense or sparse; empty gives 0.</param>
/// <returns>The norm; NaN if an entry is NaN, otherwise +infinity if an entry is infinite.</returns>
/// <exception cref="System.ArgumentNullException">matrix is null.</exception>
/// <remarks>O(nnz) time, no allocation for dense storage. Computed with a scaled sum of squares (as LAPACK's
/// dlange), so it is exact to a few ulps for entries anywhere in the double range, without overflow.</remarks>
[<CompiledName("Frobenius")>]
val frobenius: matrix: Matrix<float> -> float

/// <summary>The V-norm ||A||_v = sum_i ||A_i,:||_2, the sum of the rows' 2-norms (also written L2,1).</summary>
/// <param name="matrix">Any matrix; empty gives 0.</param>
/// <returns>The norm; NaN if an entry is NaN, otherwise +infinity if an entry is infinite.</returns>
/// <exception cref="System.ArgumentNullException">matrix is null.</exception>
/// <remarks>O(nnz) time and O(n) memory. It is the loss of the "comparison of loss functions" follow-up to
/// Indyk, Vakilian and Yuan (NeurIPS 2019): robust to a few outlying rows, which it weighs linearly rather
/// than quadratically. ||A||_F &lt;= ||A||_v &lt;= sqrt(n) ||A||_F.</remarks>
[<CompiledName("VNorm")>]
val vNorm: matrix: Matrix<float> -> float

/// <summary>The weighted Frobenius norm ||A||_{W,F} = ||W o A||_F = sqrt(sum_ij W_ij^2 A_ij^2), the convention of
/// Woodruff and Yasuda (2024), Section 1.</summary>
/// <param name="weights">W: finite, nonnegative, of A's shape.</param>
/// <param name="matrix">A.</param>
/// <returns>The norm; NaN if an entry of A is NaN, otherwise +infinity if an entry is infinite with positive
/// weight.</returns>
/// <exception cref="System.ArgumentNullException">weights or matrix is null.</exception>
/// <exception cref="System.ArgumentException">weights is empty, has a negative, NaN or infinite entry, or
/// differs in shape from matrix.</exception>
/// <remarks>O(n d) time and one n x d temporary. With every W_ij &gt; 0 this is a norm. If some W_ij = 0 it is
/// only a seminorm: a nonzero A supported on the zero weights has norm 0. For the other convention in the
/// literature, sum_ij w_ij A_ij^2, pass Norm.sqrtWeights w: it is the same norm.</remarks>
[<CompiledName("WeightedFrobenius")>]
val weightedFrobenius: weights: Matrix<float> -> matrix: Matrix<float> -> float

/// <summary>Converts weights in the squared convention, ||A||^2 = sum_ij w_ij A_ij^2, to LowRank's convention
/// W = sqrt(w) entrywise, so that weightedFrobenius (sqrtWeights w) A = sqrt(sum_ij w_ij A_ij^2).</summary>
/// <param name="weights">w: finite and nonnegative, for instance inverse variances or Fisher information.</param>
/// <returns>A new matrix sqrt(w); O(n d).</returns>
/// <exception cref="System.ArgumentNullException">weights is null.</exception>
/// <exception cref="System.ArgumentException">weights is empty or has a negative, NaN or infinite entry.</exception>
[<CompiledName("SqrtWeights")>]
val sqrtWeights: weights: Matrix<float> -> Matrix<float>
