/// Matrix-level entry points to the dense kernels that every algorithm above shares: products, thin SVD, QR. Dense
/// matrices go to the selected backend (Kernels.current) without copying their storage; sparse ones to MathNet.
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

let private wrap (rows: int) (columns: int) (data: float[]) =
    Matrix<float>.Build.Dense(rows, columns, data)

/// A^T as a new dense matrix, by a plain loop over the column-major storage (MathNet's Transpose took 0.5 ms for a
/// 20 x 768 matrix, about 30 ns per entry, which made it a visible part of a training step). Sparse input goes to
/// MathNet's own transpose.
let transpose (a: Matrix<float>) : Matrix<float> =
    match a.AsColumnMajorArray() with
    | null -> a.Transpose()
    | x ->
        let m, n = a.RowCount, a.ColumnCount
        let y = Array.zeroCreate<float>(m * n)

        for j in 0 .. n - 1 do
            let column = j * m

            for i in 0 .. m - 1 do
                y[i * n + j] <- x[column + i]

        Matrix<float>.Build.Dense(n, m, y)

/// op(A) op(B), with op the transpose when the flag is set. Dense operands go to the backend's gemm; a sparse operand
/// goes to MathNet's sparse product, which costs O(nnz) per output column.
let gemm (transA: bool) (a: Matrix<float>) (transB: bool) (b: Matrix<float>) : Matrix<float> =
    let m = if transA then a.ColumnCount else a.RowCount
    let k = if transA then a.RowCount else a.ColumnCount
    let n = if transB then b.RowCount else b.ColumnCount

    match a.AsColumnMajorArray(), b.AsColumnMajorArray() with
    | null, _
    | _, null ->
        match transA, transB with
        | false, false -> a * b
        | true, false -> a.TransposeThisAndMultiply b
        | false, true -> a.TransposeAndMultiply b
        | true, true -> (b * a).Transpose()
    | da, db ->
        let product (fill: float[] -> unit) =
            let c = Array.zeroCreate<float>(m * n)
            fill c
            wrap m n c

        // A tall A times a narrow matrix, either way round, goes to the kernel that reads A where it lies (TallGemm):
        // 1.5-2x OpenBLAS's packed dgemm on the power iterations' 80,000 x 768 by 768 x 30 products.
        if k = 0 then
            product ignore
        elif not transA && TallGemm.fits a.RowCount a.ColumnCount n then
            product (TallGemm.multiply da a.RowCount m k transB db b.RowCount n)
        elif transA && not transB && TallGemm.fits a.RowCount a.ColumnCount n then
            product (TallGemm.transposedMultiply da a.RowCount k m db b.RowCount n)
        elif not transB && TallGemm.fits b.RowCount b.ColumnCount m then
            // A short op(A) times a tall B (a dense sketch S A): (B^T op(A)^T)^T, by the same kernel.
            let q, ldq =
                if transA then
                    da, a.RowCount
                else
                    (transpose a).AsColumnMajorArray(), k

            let ct = Array.zeroCreate<float>(n * m)
            TallGemm.transposedMultiply db b.RowCount k n q ldq m ct
            transpose (wrap n m ct)
        else
            product (fun c ->
                Kernels.current().Gemm(transA, transB, m, n, k, 1.0, da, a.RowCount, db, b.RowCount, 0.0, c, max 1 m))

/// A^T (A V) (d x r) for A n x d and V given as V^T (r x d): both products of a power iteration. A tall dense A with
/// 4-64 columns in V goes to TallGemm.normalMultiply, which reads A once for both (on the reference machine 0.08-0.09 s
/// for 80,000 x 768 and r = 30, against 0.10-0.11 s for the two products apart); otherwise the two products.
let normalProduct (a: Matrix<float>) (vt: Matrix<float>) : Matrix<float> =
    let n, d, r = a.RowCount, a.ColumnCount, vt.RowCount

    match a.AsColumnMajorArray(), vt.AsColumnMajorArray() with
    | null, _
    | _, null -> gemm true a false (gemm false a true vt)
    | da, dv when TallGemm.fits n d r ->
        let c = Array.zeroCreate<float>(d * r)
        TallGemm.normalMultiply da n n d true dv r r c
        wrap d r c
    | _ -> gemm true a false (gemm false a true vt)

/// A product with A stored by rows (given as its transpose, d x n) and `other` (V^T or Y, r of whose dimensions are
/// the result's columns): RowMajorGemm's `kernel x n d values r result` (result `rows` x r) when both are dense, n >=
/// 4096 and r is 4-64; else `otherwise ()`.
let private rowMajorProduct
    (transposed: Matrix<float>)
    (other: Matrix<float>)
    (r: int)
    (rows: int)
    (kernel: float[] -> int -> int -> float[] -> int -> float[] -> unit)
    (otherwise: unit -> Matrix<float>)
    =
    let d, n = transposed.RowCount, transposed.ColumnCount

    match transposed.AsColumnMajorArray(), other.AsColumnMajorArray() with
    | x, values when not (isNull x) && not (isNull values) && RowMajorGemm.fits n d r ->
        let c = Array.zeroCreate<float>(rows * r)
        kernel x n d values r c
        wrap rows r c
    | _ -> otherwise ()

/// A V (n x r) for A stored by rows, given as its transpose (d x n, column-major: A's rows contiguous, as a C-order .npy
/// file holds them), and V as V^T (r x d): RowMajorGemm's kernel for n >= 4096 and 4-64 columns, else gemm.
let rowMajorTimes (transposed: Matrix<float>) (vt: Matrix<float>) : Matrix<float> =
    rowMajorProduct transposed vt vt.RowCount transposed.ColumnCount RowMajorGemm.multiply (fun () ->
        gemm true transposed true vt)

/// A^T Y (d x r) for A stored by rows, given as its transpose (d x n), and Y n x r.
let rowMajorTransposeTimes (transposed: Matrix<float>) (y: Matrix<float>) : Matrix<float> =
    rowMajorProduct transposed y y.ColumnCount transposed.RowCount RowMajorGemm.transposedMultiply (fun () ->
        gemm false transposed false y)

/// A^T (A V) (d x r) for A stored by rows, given as its transpose (d x n), and V as V^T (r x d): normalProduct's one
/// pass over A.
let rowMajorNormalProduct (transposed: Matrix<float>) (vt: Matrix<float>) : Matrix<float> =
    rowMajorProduct transposed vt vt.RowCount transposed.RowCount RowMajorGemm.normalMultiply (fun () ->
        rowMajorTransposeTimes transposed (rowMajorTimes transposed vt))

/// op(A) op(B) into the dense matrix `into` (overwritten), for loops that would otherwise allocate an n x d product per
/// iteration; A and B dense. Returns `into`.
let gemmInto (transA: bool) (a: Matrix<float>) (transB: bool) (b: Matrix<float>) (into: Matrix<float>) =
    let m = if transA then a.ColumnCount else a.RowCount
    let k = if transA then a.RowCount else a.ColumnCount
    let n = if transB then b.RowCount else b.ColumnCount
    let c = into.AsColumnMajorArray()

    if k = 0 then
        Array.Clear c
    else
        Kernels
            .current()
            .Gemm(
                transA,
                transB,
                m,
                n,
                k,
                1.0,
                a.ToColumnMajorArray(),
                a.RowCount,
                b.ToColumnMajorArray(),
                b.RowCount,
                0.0,
                c,
                max 1 m
            )

    into

/// A standard normal draw by the Box-Muller transform, from two uniforms drawn in order. 1 - NextDouble() lies in
/// (0, 1], so the logarithm is finite.
let standardNormal (random: Random) =
    let u1 = 1.0 - random.NextDouble()
    let u2 = random.NextDouble()
    sqrt (-2.0 * log u1) * cos (2.0 * Math.PI * u2)

/// A B.
let multiply (a: Matrix<float>) (b: Matrix<float>) = gemm false a false b

/// A's column-major values for a kernel that only reads them: dense storage as it is, no copy (the kernels copy into
/// pooled scratch where LAPACK overwrites); sparse storage expanded.
let private readOnlyValues (a: Matrix<float>) =
    match a.AsColumnMajorArray() with
    | null -> a.ToColumnMajorArray()
    | data -> data

/// Thin QR: Q (m x p, orthonormal columns) and R (p x n, upper trapezoidal), p = min(m, n).
let qr (a: Matrix<float>) : Matrix<float> * Matrix<float> =
    let m, n = a.RowCount, a.ColumnCount
    let p = min m n
    let q, r = Kernels.current().Qr(m, n, readOnlyValues a)
    wrap m p q, wrap p n r

/// The upper-triangular R (n x n, column-major) with R^T R = G, for a symmetric positive definite G (n x n,
/// column-major); None when a pivot is not positive and finite (G singular or indefinite in working precision).
let private cholesky (n: int) (g: float[]) =
    let r = Array.zeroCreate<float>(n * n)
    let mutable ok = true
    let mutable j = 0

    while ok && j < n do
        for i in 0 .. j - 1 do
            let mutable sum = g[i + j * n]

            for l in 0 .. i - 1 do
                sum <- sum - r[l + i * n] * r[l + j * n]

            r[i + j * n] <- sum / r[i + i * n]

        let mutable pivot = g[j + j * n]

        for l in 0 .. j - 1 do
            pivot <- pivot - r[l + j * n] * r[l + j * n]

        if pivot > 0.0 && Double.IsFinite pivot then
            r[j + j * n] <- sqrt pivot
        else
            ok <- false

        j <- j + 1

    if ok then Some r else None

/// R^-1 of an upper-triangular n x n R with a positive diagonal, by back substitution a column at a time.
let private upperInverse (n: int) (r: float[]) =
    let x = Array.zeroCreate<float>(n * n)

    for j in 0 .. n - 1 do
        x[j + j * n] <- 1.0 / r[j + j * n]

        for i in j - 1 .. -1 .. 0 do
            let mutable sum = 0.0

            for l in i + 1 .. j do
                sum <- sum + r[i + l * n] * x[l + j * n]

            x[i + j * n] <- -sum / r[i + i * n]

    x

/// Thin QR of a dense m x n matrix by CholeskyQR2 (Fukaya, Nakatsukasa, Yanagisawa and Yamamoto, "CholeskyQR2: a simple
/// and communication-avoiding algorithm", 2014): R_1 = chol(A^T A), Q_1 = A R_1^-1, then the same on Q_1, Q = Q_1 R_2^-1,
/// R = R_2 R_1. Q_1 is orthonormal only to about cond(A)^2 eps, so the second step is taken only when
/// ||Q_1^T Q_1 - I||_F <= 1/2 (then cond(Q_1) <= sqrt 3, and Q is orthonormal and A = Q R to O(eps), as with
/// Householder). None when that test fails or a Cholesky pivot is not positive: A rank-deficient, or cond(A) above
/// about 1e7.
let choleskyQr2 (a: Matrix<float>) : (Matrix<float> * Matrix<float>) option =
    let n = a.ColumnCount

    let step (x: Matrix<float>) (g: Matrix<float>) =
        cholesky n (g.AsColumnMajorArray())
        |> Option.map (fun r -> gemm false x false (wrap n n (upperInverse n r)), wrap n n r)

    match step a (gemm true a false a) with
    | None -> None
    | Some(q1, r1) ->
        let g = gemm true q1 false q1
        // Summed directly: MathNet's FrobeniusNorm goes through a matrix product (on an 80,000 x 30 matrix it threw an
        // index error from MatrixMultiplyWithUpdate).
        let deviation =
            (g - Matrix<float>.Build.DenseIdentity n).Enumerate()
            |> Seq.sumBy (fun x -> x * x)
            |> sqrt

        if deviation <= 0.5 then
            step q1 g |> Option.map (fun (q, r2) -> q, multiply r2 r1)
        else
            None

/// R (p x n) of a thin QR alone, without Householder's Q. For a tall dense matrix (m >= n, n <= 128) CholeskyQR2's R
/// when it accepts A (four products that read A once each), else Householder's (dgeqrf without dorgqr: half the work
/// of qr). The two differ in their rows' signs, which changes neither A's singular values nor its right singular
/// vectors.
let rFactor (a: Matrix<float>) : Matrix<float> =
    let m, n = a.RowCount, a.ColumnCount

    let cholesky =
        if m >= n && n <= 128 && not (isNull (a.AsColumnMajorArray())) then
            choleskyQr2 a
        else
            None

    match cholesky with
    | Some(_, factor) -> factor
    | None -> wrap (min m n) n (Kernels.current().RFactor(m, n, readOnlyValues a))

/// Thin QR of a tall dense matrix (m >= 4 n, n <= 128) by choleskyQr2, whose four products read the m x n matrix once
/// each where Householder sweeps it column by column (80,000 x 30: 0.03 s against dgeqrf + dorgqr's 0.04-0.06 s), and
/// by Householder's qr when choleskyQr2 declines (ill-conditioned or rank-deficient A) or for other shapes.
let tallQr (a: Matrix<float>) : Matrix<float> * Matrix<float> =
    let m, n = a.RowCount, a.ColumnCount

    if m < 4 * n || n > 128 || isNull (a.AsColumnMajorArray()) then
        qr a
    else
        match choleskyQr2 a with
        | Some qr' -> qr'
        | None -> qr a

/// The backend's thin SVD of the whole matrix.
let private directSvd (a: Matrix<float>) : ThinSvd =
    let m, n = a.RowCount, a.ColumnCount
    let p = min m n
    let u, s, vt = Kernels.current().ThinSvd(m, n, readOnlyValues a)

    {
        U = wrap m p u
        S = s
        Vt = wrap p n vt
    }

/// The leading `count` singular triplets of A (count clamped to p = min(m, n)): U (m x count), S, Vt (count x n),
/// O(n d p). A matrix at least four times longer than wide is first reduced by QR, A = Q R, and only the p x p factor R
/// goes through the SVD (U = Q U_R, for the count columns kept only): dgesdd on a 20 x 768 sketch costs over 1 ms in
/// its own overheads, while QR plus a 20 x 20 SVD costs a fraction of that, with the same backward stability.
let truncatedSvd (count: int) (a: Matrix<float>) : ThinSvd =
    let m, n = a.RowCount, a.ColumnCount
    let p = min m n
    let count = min count p

    let leading (svd: ThinSvd) =
        if count = svd.S.Length then
            svd
        else
            {
                U = svd.U.SubMatrix(0, svd.U.RowCount, 0, count)
                S = svd.S[.. count - 1]
                Vt = svd.Vt.SubMatrix(0, count, 0, svd.Vt.ColumnCount)
            }

    if m >= 4 * n && m * n >= (1 <<< 18) then
        // Big enough that the QR's passes over A show: CholeskyQR2, with Householder as its fallback.
        let q, r = tallQr a
        let small = leading (directSvd r)
        { small with U = multiply q small.U }
    elif m >= 4 * n then
        // Householder QR, the SVD of R, and Q applied to the `count` kept columns of U_R without forming Q.
        let u, s, vt = Kernels.current().LeadingSvd(m, n, readOnlyValues a, count)

        {
            U = wrap m count u
            S = s[.. count - 1]
            Vt = (wrap n n vt).SubMatrix(0, count, 0, n)
        }
    elif n >= 4 * m then
        // The same on A^T = U S V^T, so A = V S U^T.
        let u, s, vt =
            Kernels.current().LeadingSvd(n, m, readOnlyValues (transpose a), count)

        {
            U = transpose ((wrap m m vt).SubMatrix(0, count, 0, m))
            S = s[.. count - 1]
            Vt = transpose (wrap n count u)
        }
    else
        leading (directSvd a)

/// Thin SVD, O(n d p): every one of the p = min(m, n) triplets (truncatedSvd p).
let thinSvd (a: Matrix<float>) : ThinSvd =
    truncatedSvd (min a.RowCount a.ColumnCount) a

/// Singular values only, descending.
let singularValues (a: Matrix<float>) : float[] =
    Kernels.current().SingularValues(a.RowCount, a.ColumnCount, readOnlyValues a)

/// The top `count` singular values of A (descending; fewer when min(n, d) is smaller). Without a full SVD when count
/// is small against min(n, d): randomized subspace iteration (Halko, Martinsson and Tropp 2011, Algorithm 4.4) with 10
/// extra columns and 3 power iterations from a fixed seed, 8 products of O(n d (count + 10)). Its values never exceed
/// the true ones, and sigma_j's relative error is of order (sigma_(count+11) / sigma_j)^7 (Halko et al., Theorem 9.2
/// with q = 3): negligible when the spectrum decays past count, as for images and weights whose energy sits in a few
/// directions.
let topSingularValues (count: int) (a: Matrix<float>) =
    let n, d = a.RowCount, a.ColumnCount
    let p = min n d

    if 4 * (count + 10) >= p then
        singularValues a |> Array.truncate count
    else
        let random = Random(0)
        let columns = count + 10

        let omega = Matrix<float>.Build.Dense(d, columns, fun _ _ -> standardNormal random)

        let mutable q = fst (qr (multiply a omega))

        for _ in 1..3 do
            let z = fst (qr (gemm true a false q))
            q <- fst (qr (multiply a z))

        singularValues (gemm true q false a) |> Array.truncate count

/// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix; only its lower triangle is read.
let symmetricEigen (a: Matrix<float>) : float[] * Matrix<float> =
    let n = a.RowCount
    let values, vectors = Kernels.current().SymmetricEigen(n, a.ToColumnMajorArray())
    values, wrap n n vectors

/// e with max |x| in [2^e, 2^(e+1)), 0 when every value is 0: the exponent by which the iterative paths scale their
/// inputs (Math.ScaleB by -e, exact for powers of two, subnormals included), as LAPACK's drivers do (dlascl), so that
/// squares near 1e154 do not overflow nor those near 1e-154 lose their digits.
let largestExponent (values: float[]) =
    let largest = values |> Array.fold (fun m x -> max m (abs x)) 0.0
    if largest > 0.0 then Math.ILogB largest else 0

/// The relative threshold below which a singular value counts as zero: max(rows, columns) * eps,
/// eps = 2^-52. It is NumPy's matrix_rank default and LAPACK's convention for rcond < 0.
let rankTolerance (rows: int) (columns: int) =
    float (max rows columns) * Math.Pow(2.0, -52.0)

/// The minimum-norm least-squares solution X of A X = B (A m x n, B m x r), with singular values below
/// rankTolerance * sigma_1 treated as zero, and the effective rank.
let leastSquares (a: Matrix<float>) (b: Matrix<float>) : Matrix<float> * int =
    let m, n = a.RowCount, a.ColumnCount
    let tolerance = rankTolerance m n

    let x, rank =
        Kernels.current().LeastSquares(m, n, a.ToColumnMajorArray(), b.ColumnCount, b.ToColumnMajorArray(), tolerance)

    wrap n b.ColumnCount x, rank

/// The number of singular values greater than sigma_1 * rankTolerance; 0 for a zero matrix.
let numericalRankOf (rows: int) (columns: int) (s: float[]) =
    if s.Length = 0 || s[0] = 0.0 then
        0
    else
        let threshold = s[0] * rankTolerance rows columns
        s |> Array.sumBy (fun x -> if x > threshold then 1 else 0)

/// x / w entrywise with 1/0 taken as 0: the division by W^(o+) of the reweighted methods (Woodruff and Yasuda 2024),
/// which leaves 0 wherever the weight is 0.
let divideByWeights (w: Matrix<float>) (x: Matrix<float>) =
    x.Map2((fun value weight -> if weight > 0.0 then value / weight else 0.0), w)

/// Multiplies column j of `a` by scales[j], in place; returns `a`.
let scaleColumnsInPlace (scales: float[]) (a: Matrix<float>) =
    match a.AsColumnMajorArray() with
    | null ->
        for j in 0 .. scales.Length - 1 do
            a.SetColumn(j, scales[j] * a.Column j)
    | data ->
        let n = a.RowCount

        for j in 0 .. scales.Length - 1 do
            for i in j * n .. j * n + n - 1 do
                data[i] <- data[i] * scales[j]

    a

/// The stored entries: the backing column-major array of a dense matrix (no copy), or the nonzeros of a
/// sparse one. Sums and maxima over it equal those over all n*d entries.
let storedValues (a: Matrix<float>) : float[] =
    match a.AsColumnMajorArray() with
    | null -> a.Enumerate(Zeros.AllowSkip) |> Seq.toArray
    | data -> data

/// The largest magnitude and the plain sum of squares of a span, in one SIMD pass (twoNorm's fast path).
let private squaresOf (xs: ReadOnlySpan<float>) =
    let width = Numerics.Vector<float>.Count
    let mutable largest = Numerics.Vector<float>.Zero
    let mutable squares = Numerics.Vector<float>.Zero
    let mutable i = 0

    while i <= xs.Length - width do
        let v = Numerics.Vector<float>(xs.Slice(i, width))
        largest <- Numerics.Vector.Max(largest, Numerics.Vector.Abs v)
        squares <- squares + v * v
        i <- i + width

    let mutable top = 0.0
    let mutable sum = Numerics.Vector.Sum squares

    for lane in 0 .. width - 1 do
        top <- max top largest[lane]

    while i < xs.Length do
        top <- max top (abs xs[i])
        sum <- sum + xs[i] * xs[i]
        i <- i + 1

    struct (top, sum)

/// Whether a plain sum of squares is exact enough for a norm, given the largest magnitude `top` among its terms: within
/// [1e-100, 1e100] nothing overflows or loses accuracy to underflow (entries far below the largest do not matter to
/// the sum). twoNorm's fast path, and any pass that sums squares on its way (RowBlocks).
let internal plainSquaresHold (top: float) (sum: float) =
    top >= 1e-100 && top <= 1e100 && Double.IsFinite sum

/// sqrt(sum x_i^2) in two passes (scale by max |x_i|, then sum), so it neither overflows for entries
/// near 1e154 nor loses accuracy to underflow for entries near 1e-154, as LAPACK's dnrm2 and dlange.
/// NaN in, NaN out; otherwise an infinite entry gives +infinity.
let rec twoNorm (xs: float[]) =
    // Fast path: one SIMD pass when the plain sum of squares holds (plainSquaresHold). Long arrays are summed in fixed chunks on every core and the chunks' sums added in order, so the result does not
    // depend on the number of cores.
    let struct (top, sum) =
        if xs.Length < Guard.ParallelFrom then
            squaresOf (ReadOnlySpan xs)
        else
            let chunks = (xs.Length + Guard.ParallelChunk - 1) / Guard.ParallelChunk
            let parts = Array.zeroCreate<struct (float * float)> chunks

            Threading.Tasks.Parallel.For(
                0,
                chunks,
                fun c ->
                    let first = c * Guard.ParallelChunk
                    parts[c] <- squaresOf (ReadOnlySpan(xs, first, min Guard.ParallelChunk (xs.Length - first)))
            )
            |> ignore

            parts
            |> Array.fold (fun (struct (top, sum)) (struct (t, s)) -> struct (max top t, sum + s)) (struct (0.0, 0.0))

    if plainSquaresHold top sum then
        sqrt sum
    else
        twoNormScaled xs

/// The careful path of twoNorm: NaN and infinity semantics, and scaling for extreme magnitudes.
and private twoNormScaled (xs: float[]) =
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

/// ||A||_F of a matrix that must be nonempty and finite, checked in the pass that computes the norm: the norm is NaN or
/// infinite exactly when an entry is (it scales, so finite entries never overflow it), and only then is the matrix
/// searched for the entry to name (Guard.finiteMatrix's exception). One pass over A instead of two.
let finiteFrobenius (name: string) (a: Matrix<float>) =
    Guard.nonEmpty name a
    let norm = twoNorm (storedValues a)

    if not (Double.IsFinite norm) then
        Guard.finiteMatrix name a

    norm

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
