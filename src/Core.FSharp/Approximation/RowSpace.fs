/// A's row space from a sketch and power iterations, and the best rank-k approximation of A within it: the computation
/// behind Scw.approximate, approximateWithPower and their by-rows forms, written once over the products it takes of A
/// (A held by columns, or by rows as its transpose).
module internal LowRank.Core.RowSpace

open MathNet.Numerics.LinearAlgebra

let internal empty (rows: int) (columns: int) = {
    Left = Matrix<float>.Build.Dense(rows, 0)
    Right = Matrix<float>.Build.Dense(0, columns)
    SingularValues = [||]
}

/// The products SCW and the power iterations take of A (n x d), for A held as itself (column-major) or by rows (given as
/// its transpose A^T, column-major d x n): A V and A^T (A V) for V given as V^T, A^T Y, and S A.
type internal Products = {
    Rows: int
    Columns: int
    Times: Matrix<float> -> Matrix<float>
    TransposeTimes: Matrix<float> -> Matrix<float>
    Normal: Matrix<float> -> Matrix<float>
    Sketched: Sketch -> Matrix<float>
}

let internal ofMatrix (matrix: Matrix<float>) = {
    Rows = matrix.RowCount
    Columns = matrix.ColumnCount
    Times = fun vt -> Dense.gemm false matrix true vt
    TransposeTimes = fun y -> Dense.gemm true matrix false y
    Normal = Dense.normalProduct matrix
    Sketched = fun sketch -> Sketch.applyUnchecked sketch 0 matrix
}

let internal ofTransposed (transposed: Matrix<float>) = {
    Rows = transposed.ColumnCount
    Columns = transposed.RowCount
    Times = Dense.rowMajorTimes transposed
    TransposeTimes = Dense.rowMajorTransposeTimes transposed
    Normal = Dense.rowMajorNormalProduct transposed
    Sketched = fun sketch -> Sketch.applyTransposedUnchecked sketch 0 transposed
}

/// V^T (r x d, orthonormal rows) spanning the numerical row space of S A; None when S A = 0.
let internal sketchRowSpace (sketch: Sketch) (a: Products) =
    let sa = a.Sketched sketch
    let svdSa = Dense.thinSvd sa
    let r = Dense.numericalRankOf sa.RowCount a.Columns svdSa.S

    if r = 0 then
        None
    else
        Some(svdSa.Vt.SubMatrix(0, r, 0, a.Columns))

/// Eigenvalues of a Gram matrix (A V)^T (A V) within this factor of the largest make it as good as A V itself: each
/// sigma_i of A V then within a relative eps cond(A V)^2 &lt;= 2.2e-8 (powerIn, bestInRowSpace, the stream's R).
let internal WellConditioned = 1e-8

/// The SVD of a Gram matrix G = (A V)^T (A V) (r x r) when G is not zero and every eigenvalue lies above
/// WellConditioned times the largest: its singular values are A V's squared and its right singular vectors A V's.
/// None otherwise. The one test that powerIn, bestInRowSpace and the stream's R factor (Streaming) share.
let internal wellConditionedGram (gram: Matrix<float>) =
    let svd = Dense.thinSvd gram
    let l = svd.S

    if l.Length > 0 && l[0] > 0.0 && l[l.Length - 1] >= WellConditioned * l[0] then
        Some svd
    else
        None

/// Rows of A V from which bestInRowSpace takes [A V]_k from its Gram matrix.
let private GramRows = 4096

/// [A V]_k V^T for V^T (r x d) with orthonormal rows: the best rank-k approximation of A with rows in span(V). A tall A V
/// (4096+ rows) that is well conditioned gives it from its Gram matrix (A V)^T (A V) = W Sigma^2 W^T: Left = A V W_k
/// (= U_k Sigma_k), Right = W_k^T V^T, two passes over A V (0.012-0.025 s at 80,000 x 40) instead of a QR's five and
/// its Q (0.04-0.13 s); its singular values are then within eps cond(A V) sigma_1 of A V's. Otherwise the truncated SVD
/// of A V.
let internal bestInRowSpace (rank: int) (vt: Matrix<float>) (a: Products) =
    let av = a.Times vt
    let r = av.ColumnCount

    let gram =
        if av.RowCount >= GramRows && r > 0 then
            wellConditionedGram (Dense.gemm true av false av)
        else
            None

    match gram with
    | Some svd ->
        let kept = min rank r
        let wkt = svd.Vt.SubMatrix(0, kept, 0, r)

        {
            Left = Dense.gemm false av true wkt
            Right = Dense.multiply wkt vt
            SingularValues = Array.map sqrt svd.S[.. kept - 1]
        }
    | None ->
        // Only the k leading triplets: for a tall A V the left vectors are Q U_R for k columns of U_R, not all r.
        let svdAv = Dense.truncatedSvd rank av

        {
            Left = Dense.scaleColumnsInPlace svdAv.S svdAv.U
            Right = Dense.multiply svdAv.Vt vt
            SingularValues = svdAv.S
        }

/// q steps of subspace iteration on A's row space from V^T (r x d) (Halko, Martinsson and Tropp 2011, Algorithm 4.4).
/// A step forms W = A^T (A V) in one pass over A (Dense.normalProduct) and V = orth(W) while A V is well conditioned:
/// its Gram matrix V^T W = (A V)^T (A V), free at r^2 d flops, has every eigenvalue above 1e-8 of the largest
/// (cond(A V) &lt;= 1e4), so W holds each direction of A V to a relative eps cond(A V)^2 &lt;= 2.2e-8. Otherwise (a steep
/// or rank-deficient spectrum) that step is redone and the rest taken with A V orthonormalised between the products,
/// Q = orth(A V), V = orth(A^T Q): two passes, resolving directions down to eps sigma_1.
let internal powerIn (a: Products) (iterations: int) (vt: Matrix<float>) =
    let mutable vt = vt
    let mutable fused = true

    for _ in 1..iterations do
        let w =
            if fused then
                let w = a.Normal vt
                fused <- (wellConditionedGram (Dense.multiply vt w)).IsSome
                if fused then Some w else None
            else
                None

        let w =
            match w with
            | Some w -> w
            | None -> a.TransposeTimes(fst (Dense.tallQr (a.Times vt)))

        vt <- Dense.transpose (fst (Dense.qr w))

    vt

/// powerIn for a column-major A.
let internal powerRowSpace (iterations: int) (vt: Matrix<float>) (matrix: Matrix<float>) =
    powerIn (ofMatrix matrix) iterations vt

/// SCW with q power iterations on A's products, after the checks.
let internal withPower (powerIterations: int) (rank: int) (sketch: Sketch) (a: Products) =
    match sketchRowSpace sketch a with
    | None -> empty a.Rows a.Columns
    | Some vt -> bestInRowSpace rank (powerIn a powerIterations vt) a
