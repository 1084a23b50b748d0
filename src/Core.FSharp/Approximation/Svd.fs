/// Exact truncated SVD: the optimal rank-k approximation [A]_k that sketching algorithms are measured against.
[<RequireQualifiedAccess>]
module LowRank.Core.Svd

open MathNet.Numerics.LinearAlgebra

/// <summary>The singular values of A, descending, min(n, d) of them.</summary>
/// <param name="matrix">A: nonempty, finite.</param>
/// <returns>sigma_1 &gt;= ... &gt;= sigma_min(n,d) &gt;= 0.</returns>
/// <exception cref="System.ArgumentNullException">matrix is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or has a NaN or infinite entry.</exception>
/// <remarks>O(n d min(n, d)): a QR reduces the longer side first when the matrix is far from square.</remarks>
[<CompiledName("SingularValues")>]
let singularValues (matrix: Matrix<float>) =
    Guard.finiteMatrix (nameof matrix) matrix
    Dense.singularValues matrix

/// <summary>The numerical rank of A: the number of singular values above sigma_1 max(n, d) eps, eps = 2^-52 (the
/// threshold of NumPy's matrix_rank and of LAPACK with rcond &lt; 0).</summary>
/// <param name="matrix">A: nonempty, finite.</param>
/// <returns>An integer in [0, min(n, d)]; 0 exactly for the zero matrix.</returns>
/// <exception cref="System.ArgumentNullException">matrix is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or has a NaN or infinite entry.</exception>
/// <remarks>O(n d min(n, d)). Relative, so scaling A does not change it.</remarks>
[<CompiledName("NumericalRank")>]
let numericalRank (matrix: Matrix<float>) =
    singularValues matrix
    |> Dense.numericalRankOf matrix.RowCount matrix.ColumnCount

/// <summary>The best rank-k approximation [A]_k = U_k Sigma_k V_k^T by truncated SVD: it minimises ||A - X||_F (and
/// ||A - X||_2) over all X of rank at most k (Eckart-Young-Mirsky).</summary>
/// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="matrix">A: nonempty, finite.</param>
/// <returns>Left = U_k Sigma_k (n x k), Right = V_k^T (k x d), SingularValues = sigma_1..sigma_k. Zero singular
/// values are kept, so Rank = k always. When sigma_k = sigma_(k+1) the optimum is not unique and one is
/// returned.</returns>
/// <exception cref="System.ArgumentNullException">matrix is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or has a NaN or infinite entry.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)].</exception>
/// <remarks>O(n d min(n, d)) time through a thin SVD; never forms an n x n or d x d matrix.</remarks>
[<CompiledName("BestRankK")>]
let bestRankK (rank: int) (matrix: Matrix<float>) : LowRankApproximation =
    Guard.finiteMatrix (nameof matrix) matrix
    Guard.rank (nameof rank) rank (nameof matrix) matrix
    let svd = Dense.truncatedSvd rank matrix

    {
        Left = Dense.scaleColumnsInPlace svd.S svd.U
        Right = svd.Vt
        SingularValues = svd.S
    }

/// <summary>The optimal rank-k error ||A - [A]_k||_F = sqrt(sum_(i &gt; k) sigma_i^2).</summary>
/// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="matrix">A: nonempty, finite.</param>
/// <returns>The error; 0 when k &gt;= rank(A).</returns>
/// <exception cref="System.ArgumentNullException">matrix is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or has a NaN or infinite entry.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)].</exception>
/// <remarks>O(n d min(n, d)), singular values only. Summing the tail (not ||A||_F^2 - sum_(i &lt;= k) sigma_i^2)
/// keeps full relative accuracy however small the error is.</remarks>
[<CompiledName("OptimalError")>]
let optimalError (rank: int) (matrix: Matrix<float>) =
    Guard.finiteMatrix (nameof matrix) matrix
    Guard.rank (nameof rank) rank (nameof matrix) matrix
    Dense.singularValues matrix |> Array.skip rank |> Dense.twoNorm
