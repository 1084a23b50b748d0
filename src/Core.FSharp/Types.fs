namespace LowRank.Core

open MathNet.Numerics.LinearAlgebra

/// A rank-r approximation of an n x d matrix A held as two factors, Left (n x r) and Right (r x d), with
/// Right's rows orthonormal and Left = A Right^T, so the approximation is the projection A Right^T Right of
/// A's rows onto span(Right's rows). Storing it costs (n + d) r numbers instead of n d.
/// Both Svd.bestRankK and Scw.approximate return this form. r may be 0 (a zero approximation, as for a zero
/// A): the factors are then n x 0 and 0 x d.
type LowRankApproximation = {
    /// n x r: the approximation's left factor, equal to A Right^T (its columns are orthogonal, with
    /// norms SingularValues).
    Left: Matrix<float>
    /// r x d, orthonormal rows spanning the approximation's row space.
    Right: Matrix<float>
    /// The approximation's r singular values, descending; Left's column norms.
    SingularValues: float[]
} with

    /// The rank r used: the factors' inner dimension.
    member this.Rank = this.SingularValues.Length

    /// The number of rows n of the approximated matrix.
    member this.Rows = this.Left.RowCount

    /// The number of columns d of the approximated matrix.
    member this.Columns = this.Right.ColumnCount

    /// Forms the dense n x d matrix Left * Right. Costs O(n d r) time and n d memory.
    member this.ToMatrix() : Matrix<float> =
        if this.Rank = 0 then
            Matrix<float>.Build.Dense(this.Rows, this.Columns)
        else
            this.Left * this.Right

/// How each matrix is scaled before an error is measured.
[<RequireQualifiedAccess>]
type Normalization =
    /// Matrices are used as given.
    | None
    /// Every nonzero matrix is divided by its largest singular value, so sigma_1 = 1, as in the experiments of
    /// Indyk, Vakilian and Yuan (NeurIPS 2019, Section 5); zero matrices are left as they are.
    | TopSingularValue
