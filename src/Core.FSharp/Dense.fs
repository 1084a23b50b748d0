/// Dense kernels over MathNet matrices that every algorithm above shares. Kept internal so the
/// representation (and, later, the backend behind it) can change without touching the public API.
module internal LowRank.Core.Dense

open System
open MathNet.Numerics.LinearAlgebra

/// A thin SVD A = U diag(S) Vt with p = min(rows, columns): U is rows x p, Vt is p x columns,
/// S is descending and nonnegative.
type ThinSvd = {
    U: Matrix<float>
    S: float[]
    Vt: Matrix<float>
}

/// Thin SVD through a QR of the tall side and a full SVD of the small p x p factor.
/// MathNet's own Svd forms the full n x n U and d x d V^T, which costs O(n^2 d) for a tall matrix;
/// this costs O(n d p) for the QR plus O(p^3) for the small SVD.
let rec thinSvd (a: Matrix<float>) : ThinSvd =
    let n, d = a.RowCount, a.ColumnCount

    if n < d then
        let t = thinSvd (a.Transpose())

        {
            U = t.Vt.Transpose()
            S = t.S
            Vt = t.U.Transpose()
        }
    elif n = d then
        let svd = a.Svd(true)

        {
            U = svd.U
            S = svd.S.ToArray()
            Vt = svd.VT
        }
    else
        let qr = a.QR(Factorization.QRMethod.Thin)
        let svd = qr.R.Svd(true)

        {
            U = qr.Q * svd.U
            S = svd.S.ToArray()
            Vt = svd.VT
        }

/// Singular values only, descending. Reduces the tall side by QR first for the same reason as thinSvd.
let singularValues (a: Matrix<float>) : float[] =
    let small =
        if a.RowCount > 2 * a.ColumnCount then
            a.QR(Factorization.QRMethod.Thin).R
        elif a.ColumnCount > 2 * a.RowCount then
            a.Transpose().QR(Factorization.QRMethod.Thin).R
        else
            a

    small.Svd(false).S.ToArray()

/// The relative threshold below which a singular value counts as zero: max(rows, columns) * eps,
/// eps = 2^-52. It is NumPy's matrix_rank default and LAPACK's convention for rcond < 0.
let rankTolerance (rows: int) (columns: int) =
    float (max rows columns) * Math.Pow(2.0, -52.0)

/// The number of singular values greater than sigma_1 * rankTolerance; 0 for a zero matrix.
let numericalRankOf (rows: int) (columns: int) (s: float[]) =
    if s.Length = 0 || s[0] = 0.0 then
        0
    else
        let threshold = s[0] * rankTolerance rows columns
        s |> Array.sumBy (fun x -> if x > threshold then 1 else 0)

/// The stored entries: the backing column-major array of a dense matrix (no copy), or the nonzeros of a
/// sparse one. Sums and maxima over it equal those over all n*d entries.
let storedValues (a: Matrix<float>) : float[] =
    match a.AsColumnMajorArray() with
    | null -> a.Enumerate(Zeros.AllowSkip) |> Seq.toArray
    | data -> data

/// sqrt(sum x_i^2) in two passes (scale by max |x_i|, then sum), so it neither overflows for entries
/// near 1e154 nor loses accuracy to underflow for entries near 1e-154, as LAPACK's dnrm2 and dlange.
/// NaN in, NaN out; otherwise an infinite entry gives +infinity.
let twoNorm (xs: float[]) =
    let mutable scale = 0.0
    let mutable nan = false

    for x in xs do
        let ax = abs x

        if Double.IsNaN ax then
            nan <- true
        elif ax > scale then
            scale <- ax

    if nan then
        Double.NaN
    elif Double.IsPositiveInfinity scale then
        Double.PositiveInfinity
    elif scale = 0.0 then
        0.0
    else
        let mutable sum = 0.0

        for x in xs do
            let y = x / scale
            sum <- sum + y * y

        scale * sqrt sum

/// The 2-norm of each row, scaled per row as twoNorm. O(n d) for dense storage, O(nnz) for sparse.
let rowTwoNorms (a: Matrix<float>) : float[] =
    let n = a.RowCount
    let scale = Array.zeroCreate<float> n
    let nan = Array.zeroCreate<bool> n
    let entries = a.EnumerateIndexed(Zeros.AllowSkip) |> Seq.toArray

    for struct (i, _, x) in entries do
        let ax = abs x

        if Double.IsNaN ax then
            nan[i] <- true
        elif ax > scale[i] then
            scale[i] <- ax

    let sum = Array.zeroCreate<float> n

    for struct (i, _, x) in entries do
        if scale[i] > 0.0 && not (Double.IsPositiveInfinity scale[i]) then
            let y = x / scale[i]
            sum[i] <- sum[i] + y * y

    Array.init n (fun i ->
        if nan[i] then
            Double.NaN
        elif Double.IsPositiveInfinity scale[i] then
            Double.PositiveInfinity
        else
            scale[i] * sqrt sum[i])
