/// The Sarlos / Clarkson-Woodruff sketch-based low-rank approximation, Algorithm 1 of Indyk, Vakilian and Yuan,
/// "Learning-Based Low-Rank Approximations" (NeurIPS 2019), and the paper's test-error metric.
[<RequireQualifiedAccess>]
module LowRank.Core.Scw

open System
open MathNet.Numerics.LinearAlgebra

/// sqrt(total^2 - kept^2), the error of a projection of A (||A||_F = total) that keeps ||L||_F = kept, when that
/// subtraction keeps at least 8 good digits (error^2 above sqrt(eps) total^2); None when the residual must be formed.
/// Relative to total, so that norms near 1e155 do not overflow when squared, nor those near 1e-160 underflow.
let internal residualOfNorms (total: float) (kept: float) =
    let ratio = if total > 0.0 then kept / total else 0.0
    let relative = (1.0 - ratio) * (1.0 + ratio)

    if relative > sqrt (Math.Pow(2.0, -52.0)) then
        Some(total * sqrt relative)
    else
        None

/// ||A - L R||_F with the residual formed 256 columns at a time (O(n d r) time, O(256 n) memory): the measure with no
/// cancellation, for errors too small for a difference of squared norms.
let private formedResidual (matrix: Matrix<float>) (approximation: LowRankApproximation) =
    let n, d = matrix.RowCount, matrix.ColumnCount
    let width = 256
    let norms = ResizeArray()

    for start in 0..width .. d - 1 do
        let count = min width (d - start)
        let block = matrix.SubMatrix(0, n, start, count)

        let residual =
            if approximation.Rank = 0 then
                block
            else
                block
                - Dense.multiply approximation.Left (approximation.Right.SubMatrix(0, approximation.Rank, start, count))

        norms.Add(Dense.twoNorm (Dense.storedValues residual))

    Dense.twoNorm (norms.ToArray())

/// ||A - L R||_F for an approximation with orthonormal rows R and L = A R^T. Then
/// ||A - L R||_F^2 = ||A||_F^2 - ||L||_F^2 (Pythagoras, as A R^T R is an orthogonal projection of A's rows), which
/// costs O(nnz(A)) instead of O(n d r). The subtraction loses about eps ||A||_F^2 / error^2 of relative accuracy,
/// so when error^2 is below sqrt(eps) ||A||_F^2 (about 1.5e-8, leaving fewer than 8 good digits) the residual
/// is formed and measured directly (formedResidual).
let internal residualNorm (matrix: Matrix<float>) (approximation: LowRankApproximation) =
    let total = Dense.twoNorm (Dense.storedValues matrix)

    match residualOfNorms total (Dense.twoNorm approximation.SingularValues) with
    | Some error -> error
    | None -> formedResidual matrix approximation

/// SCW without argument checks, for callers that have validated already.
let internal approximateUnchecked (rank: int) (sketch: Sketch) (matrix: Matrix<float>) =
    RowSpace.withPower 0 rank sketch (RowSpace.ofMatrix matrix)

/// Rejects a sketch with fewer than k rows: its row space cannot hold a rank-k approximation.
let private checkSketchRows (rank: int) (sketch: Sketch) =
    let m, n = Sketch.rows sketch, Sketch.columns sketch

    if m < rank then
        raise (
            ArgumentException(
                $"Expected a sketch with at least rank = {rank} rows, but sketch is {m}x{n}: its row space cannot hold a rank-{rank} approximation.",
                nameof sketch
            )
        )

let private check (rank: int) (sketch: Sketch) (matrix: Matrix<float>) =
    Guard.notNull (nameof sketch) sketch
    Guard.finiteMatrix (nameof matrix) matrix
    Guard.rank (nameof rank) rank (nameof matrix) matrix
    Sketch.checkFits sketch matrix
    checkSketchRows rank sketch

/// <summary>SCW(S, A) = [A V]_k V^T, where V (d x r) spans the row space of S A (Algorithm 1 of Indyk, Vakilian and
/// Yuan, NeurIPS 2019; Sarlos 2006; Clarkson and Woodruff 2009): the best rank-k approximation of A whose rows lie in
/// the row space of S A.</summary>
/// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="sketch">S (m x n), with m &gt;= k.</param>
/// <param name="matrix">A (n x d): nonempty, finite, dense or sparse.</param>
/// <returns>Left = [A V]_k's left singular vectors times its singular values (n x r'), Right = its right singular
/// vectors times V^T (r' x d, orthonormal rows), with r' = min(k, r) where r is the numerical rank of S A
/// (Svd.numericalRank's threshold). r' &lt; k when S A has rank below k; r' = 0 when S A = 0 (for instance A = 0).</returns>
/// <exception cref="System.ArgumentNullException">sketch or matrix is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite; the sketch's columns differ from n or
/// its rows are fewer than k.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)].</exception>
/// <remarks>Cost: S A in O(nnz(A) + m d) for a CountSketch; the SVD of S A in O(d m^2); A V in O(nnz(A) r); the SVD
/// of A V in O(n r^2); forming Right in O(k r d). No n x n, d x d or n x d matrix is formed. Directions of S A with
/// singular values below the rank threshold are dropped, as a least-squares solver would.</remarks>
/// <example>
/// <code lang="fsharp">
/// let a = Matrix&lt;float&gt;.Build.Random(1000, 200, 1)
/// let sketch = Sketch.countSketch 7 20 a.RowCount // seed, m = 20 rows, n columns
/// let approximation = Scw.approximate 10 sketch a // rank k = 10
/// let error = Scw.errorOf a approximation // ||A - SCW(S, A)||_F, without forming the n x d product
/// </code>
/// </example>
[<CompiledName("Approximate")>]
let approximate (rank: int) (sketch: Sketch) (matrix: Matrix<float>) : LowRankApproximation =
    check rank sketch matrix
    approximateUnchecked rank sketch matrix

/// <summary>SCW with q power (subspace) iterations: the rows of S A span V_0, then V_(i+1) = orth(A^T orth(A V_i)), and
/// the result is [A V_q]_k V_q^T (Halko, Martinsson and Tropp 2011, Algorithms 4.3-4.4, on A's row space). q = 0 is
/// SCW(S, A). Each iteration raises the singular values the sketch sees to the power 2q + 1, so a slowly decaying
/// spectrum separates: with a Gaussian S of k + p rows (p &gt;= 2), E ||A - A V V^T||_2 &lt;= [(1 + sqrt(k/(p - 1)))
/// sigma_(k+1)^(2q+1) + (e sqrt(k + p) / p) (sum_(j&gt;k) sigma_j^(2(2q+1)))^(1/2)]^(1/(2q+1)) (HMT Corollary 10.10), and
/// the rank-k result adds at most sigma_(k+1) to that (HMT Theorem 9.3). Any sketch may start it (a CountSketch, or a
/// learned one, which starts closer to the top singular space).</summary>
/// <param name="powerIterations">q &gt;= 0.</param>
/// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="sketch">S (m x n), with m &gt;= k; m - k is the oversampling.</param>
/// <param name="matrix">A (n x d): nonempty, finite.</param>
/// <returns>As approximate: Left (n x r'), Right (r' x d, orthonormal rows), the singular values.</returns>
/// <exception cref="System.ArgumentNullException">sketch or matrix is null.</exception>
/// <exception cref="System.ArgumentException">as for approximate.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)], or powerIterations &lt; 0.
/// </exception>
/// <remarks>Cost: SCW's, plus per iteration two products with A (4 nnz(A) m flops for dense A): in one pass over A
/// (A^T (A V), then a thin QR of the d x m result) while A V is well conditioned (cond(A V) &lt;= 1e4, checked from its
/// m x m Gram matrix at no extra pass), else in two passes with a thin QR of A V (O(n m^2)) between them, which keeps
/// directions down to eps sigma_1 on steep spectra. No n x d matrix is formed.</remarks>
[<CompiledName("ApproximateWithPower")>]
let approximateWithPower (powerIterations: int) (rank: int) (sketch: Sketch) (matrix: Matrix<float>) =
    check rank sketch matrix

    Guard.nonNegative (nameof powerIterations) powerIterations

    RowSpace.withPower powerIterations rank sketch (RowSpace.ofMatrix matrix)

/// approximateTransposedWithPower, and ||A||_F^2 when the sketch's pass gave it (a CountSketch on dense storage), else
/// NaN.
let private transposedWithSquares (powerIterations: int) (rank: int) (sketch: Sketch) (transposed: Matrix<float>) =
    Guard.notNull (nameof sketch) sketch
    Guard.nonEmpty (nameof transposed) transposed

    // Entries are reported as A's, the matrix the caller has in mind.
    let nonFinite (row: int64) (column: int) (x: float) : exn =
        ArgumentException(
            $"Expected only finite entries in A, but A[{row}, {column}] = {x} (transposed[{column}, {row}]).",
            nameof transposed
        )

    // A CountSketch's pass over A also sums A's squares (RowBlocks.sketchTransposedChecked), a sum that is finite only
    // if A is (NaN and infinity propagate; a sum that overflows is checked too), so with one the check rides on that
    // pass and searches A only when the sum is not finite; any other sketch has A checked first. The separate check's
    // pass was a tenth of a whole `approx` command.
    let checkedBySketch =
        match sketch with
        | CountSketch _ -> not (isNull (transposed.AsColumnMajorArray()))
        | _ -> false

    if not checkedBySketch then
        match Guard.firstNonFinite transposed with
        | Some(j, i, x) -> raise (nonFinite (int64 i) j x)
        | None -> ()

    Guard.rank (nameof rank) rank (nameof transposed) transposed
    Guard.nonNegative (nameof powerIterations) powerIterations
    let m, n = Sketch.rows sketch, Sketch.columns sketch

    if n <> transposed.ColumnCount then
        raise (
            ArgumentException(
                $"Expected a sketch with as many columns as A has rows (transposed has {transposed.ColumnCount} columns), but sketch is {m}x{n}.",
                nameof sketch
            )
        )

    Sketch.checkOutput sketch transposed.RowCount
    checkSketchRows rank sketch
    let mutable squares = nan
    let a = RowSpace.ofTransposed transposed

    let a =
        if checkedBySketch then
            {
                a with
                    Sketched =
                        fun sketch ->
                            let sa, sum =
                                RowBlocks.sketchTransposedChecked nonFinite (BlockSketch.Given sketch) 0L transposed

                            squares <- sum
                            sa
            }
        else
            a

    let approximation = RowSpace.withPower powerIterations rank sketch a
    approximation, squares

/// <summary>approximateWithPower for an A stored by rows (C order, as NumPy and a .npy file hold it), given without a
/// copy as its transpose A^T: the d x n column-major matrix whose storage is A's rows one after another (Npy.readTransposed
/// reads a file so). The result approximates A itself (Left n x r', Right r' x d) and equals approximateWithPower's on
/// A to rounding.</summary>
/// <param name="powerIterations">q &gt;= 0; 0 is SCW(S, A).</param>
/// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="sketch">S (m x n), with m &gt;= k.</param>
/// <param name="transposed">A^T (d x n): nonempty, finite.</param>
/// <returns>As approximateWithPower.</returns>
/// <exception cref="System.ArgumentNullException">sketch or transposed is null.</exception>
/// <exception cref="System.ArgumentException">transposed is empty or not finite; the sketch's columns differ from n (the
/// columns of transposed) or its rows are fewer than k.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)], or powerIterations &lt; 0.
/// </exception>
/// <remarks>Cost as approximateWithPower. Transposing a C-order file into column-major storage was a quarter of a whole
/// `lowrank approx` command on an 80,000 x 768 matrix; here the products read A's rows where they lie (RowMajorGemm's
/// AVX-512 kernels for n &gt;= 4096 and 4-64 sketch rows; BLAS otherwise), and a CountSketch adds each row of A into its
/// row of S A.</remarks>
[<CompiledName("ApproximateTransposedWithPower")>]
let approximateTransposedWithPower (powerIterations: int) (rank: int) (sketch: Sketch) (transposed: Matrix<float>) =
    fst (transposedWithSquares powerIterations rank sketch transposed)

/// <summary>Randomized SVD (Halko, Martinsson and Tropp 2011; scikit-learn's randomized_svd): approximateWithPower from a
/// Gaussian sketch of k + oversample rows.</summary>
/// <param name="oversample">p &gt;= 0 extra sketch rows (scikit-learn's default is 10; p &gt;= 2 for the HMT bound).</param>
/// <param name="powerIterations">q &gt;= 0 (scikit-learn's default: 4 when k &lt; 0.1 min(n, d), else 7).</param>
/// <param name="seed">The Gaussian sketch's seed.</param>
/// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="matrix">A (n x d): nonempty, finite.</param>
/// <returns>The rank-k approximation; its error is bounded as for approximateWithPower.</returns>
/// <exception cref="System.ArgumentNullException">matrix is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)], oversample &lt; 0 or
/// powerIterations &lt; 0.</exception>
/// <remarks>S A costs O(n d (k + p)) with the dense Gaussian S; the rest as approximateWithPower.</remarks>
[<CompiledName("Randomized")>]
let randomized (oversample: int) (powerIterations: int) (seed: int) (rank: int) (matrix: Matrix<float>) =
    Guard.finiteMatrix (nameof matrix) matrix
    Guard.rank (nameof rank) rank (nameof matrix) matrix

    if oversample < 0 then
        raise (
            ArgumentOutOfRangeException(
                nameof oversample,
                oversample,
                $"Expected oversample >= 0, but it is {oversample}."
            )
        )

    approximateWithPower powerIterations rank (Sketch.gaussian seed (rank + oversample) matrix.RowCount) matrix

/// ||A||_F, after checking that A (held as `matrix`, or as its transpose when `transposed`) is nonempty and finite and
/// the approximation's L R is n x d.
let private checkedNormOf
    (name: string)
    (transposed: bool)
    (matrix: Matrix<float>)
    (approximation: LowRankApproximation)
    =
    Guard.notNull (nameof approximation) approximation
    let total = Dense.finiteFrobenius name matrix

    let n, d =
        if transposed then
            matrix.ColumnCount, matrix.RowCount
        else
            matrix.RowCount, matrix.ColumnCount

    if approximation.Left.RowCount <> n || approximation.Right.ColumnCount <> d then
        raise (
            ArgumentException(
                $"Expected an approximation of the matrix's shape {n}x{d}, but it is {approximation.Left.RowCount}x{approximation.Right.ColumnCount}.",
                nameof approximation
            )
        )

    total

let private checkedNorm (matrix: Matrix<float>) (approximation: LowRankApproximation) =
    checkedNormOf (nameof matrix) false matrix approximation

/// <summary>||A - L R||_F of an approximation's factors without forming the n x d approximation: what a caller that
/// already has the factors (of approximate, approximateWithPower or randomized) reports, without computing them again.
/// </summary>
/// <param name="matrix">A (n x d): nonempty and finite.</param>
/// <param name="approximation">Factors L (n x r) and R (r x d), any (not only orthonormal R).</param>
/// <returns>The Frobenius norm of the residual.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite, or the approximation is not n x d.</exception>
/// <remarks>||A - L R||_F^2 = ||A||_F^2 - 2 &lt;A R^T, L&gt; + &lt;L^T L, R R^T&gt;: one product A R^T (2 n d r flops) and
/// O((n + d) r^2), computed on A scaled by a power of two so nothing overflows. When the error is below about
/// 1.2e-4 ||A||_F that subtraction would keep fewer than 8 digits, and the residual is formed instead, 256 columns
/// at a time (O(n d r) time, O(256 n) memory).</remarks>
[<CompiledName("ErrorOf")>]
let errorOf (matrix: Matrix<float>) (approximation: LowRankApproximation) =
    let total = checkedNorm matrix approximation

    if approximation.Rank = 0 || total = 0.0 then
        formedResidual matrix approximation
    else
        // Everything relative to 2^e ~ ||A||_F, so squares of entries near 1e155 do not overflow.
        let e = Math.ILogB total
        let down (x: float) = Math.ScaleB(x, -e)
        let left = approximation.Left.Map down
        let right = approximation.Right
        let ar = Dense.gemm false matrix true right |> fun m -> m.Map down
        let cross = (ar.PointwiseMultiply left).ColumnSums().Sum()

        let kept =
            (Dense.gemm true left false left).PointwiseMultiply(Dense.gemm false right true right).ColumnSums().Sum()

        let whole = down total * down total
        let squared = whole - 2.0 * cross + kept

        if squared > sqrt (Math.Pow(2.0, -52.0)) * whole then
            Math.ScaleB(sqrt squared, e)
        else
            formedResidual matrix approximation

/// projectionError after its shape checks: R's orthonormality checked, then sqrt(||A||_F^2 - ||L||_F^2) from
/// total = ||A||_F, or `formed` (the residual measured directly) when that subtraction would keep fewer than 8 digits.
let private projectionFrom (total: float) (approximation: LowRankApproximation) (formed: unit -> float) =
    let right = approximation.Right
    let gram = Dense.gemm false right true right

    let offIdentity =
        Dense.storedValues (gram - Matrix<float>.Build.DenseIdentity right.RowCount)

    let deviation =
        offIdentity
        |> Array.fold (fun worst x -> if abs x <= worst then worst else abs x) 0.0

    if not (deviation <= sqrt (Math.Pow(2.0, -52.0))) then
        raise (
            ArgumentException(
                $"Expected an approximation whose Right has orthonormal rows (a projection of A), but max |R R^T - I| = {deviation:G3}; errorOf takes any factors.",
                nameof approximation
            )
        )

    match residualOfNorms total (Dense.twoNorm (Dense.storedValues approximation.Left)) with
    | Some error -> error
    | None -> formed ()

/// ||A - L R||_F formed from A^T: ||A^T - R^T L^T||_F, 256 rows of A at a time.
let private formedTransposed (transposed: Matrix<float>) (approximation: LowRankApproximation) =
    formedResidual transposed {
        Left = approximation.Right.Transpose()
        Right = approximation.Left.Transpose()
        SingularValues = approximation.SingularValues
    }

/// <summary>||A - L R||_F of an approximation that projects A onto R's row space: R has orthonormal rows and L = A R^T,
/// as the results of approximate, approximateWithPower and randomized do (and Streaming's, with its left factor). Then
/// ||A - L R||_F^2 = ||A||_F^2 - ||L||_F^2 (Pythagoras), so the error costs one pass over A for its norm instead of
/// errorOf's product A R^T: on an 80,000 x 768 matrix 0.07 s against 0.2 s.</summary>
/// <param name="matrix">A (n x d): nonempty and finite.</param>
/// <param name="approximation">L (n x r) and R (r x d) with R R^T = I and L = A R^T. R's orthonormality is checked
/// (O(r^2 d)); L = A R^T is not (that is the product this function avoids): for other factors use errorOf.</param>
/// <returns>The Frobenius norm of the residual.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">matrix is empty or not finite; the approximation is not n x d; R's rows
/// are not orthonormal (max |R R^T - I| above sqrt(eps), about 1.5e-8).</exception>
/// <remarks>The subtraction loses about eps ||A||_F^2 / error^2 of relative accuracy, so when the error is below about
/// 1.2e-4 ||A||_F (fewer than 8 digits would be left) the residual is formed as errorOf does, 256 columns at a time.
/// </remarks>
[<CompiledName("ProjectionError")>]
let projectionError (matrix: Matrix<float>) (approximation: LowRankApproximation) =
    let total = checkedNorm matrix approximation
    projectionFrom total approximation (fun () -> formedResidual matrix approximation)

/// <summary>projectionError for an A stored by rows and given as its transpose A^T (d x n), as
/// approximateTransposedWithPower takes it: the same error, from the same one pass for ||A||_F.</summary>
/// <param name="transposed">A^T (d x n): nonempty and finite.</param>
/// <param name="approximation">L (n x r) and R (r x d) of A with R R^T = I and L = A R^T (R's orthonormality checked).
/// </param>
/// <returns>||A - L R||_F.</returns>
/// <exception cref="System.ArgumentNullException">an argument is null.</exception>
/// <exception cref="System.ArgumentException">transposed is empty or not finite; the approximation is not n x d; R's
/// rows are not orthonormal (max |R R^T - I| above about 1.5e-8).</exception>
/// <remarks>As projectionError; a residual formed when the subtraction would cancel is ||A^T - R^T L^T||_F.</remarks>
[<CompiledName("ProjectionErrorTransposed")>]
let projectionErrorTransposed (transposed: Matrix<float>) (approximation: LowRankApproximation) =
    let total = checkedNormOf (nameof transposed) true transposed approximation

    projectionFrom total approximation (fun () -> formedTransposed transposed approximation)

/// <summary>approximateTransposedWithPower and the result's error ||A - L R||_F together: with a CountSketch, ||A||_F
/// comes from the sketch's own pass over A, so the error costs no pass of its own (projectionErrorTransposed's).
/// </summary>
/// <param name="powerIterations">q &gt;= 0; 0 is SCW(S, A).</param>
/// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="sketch">S (m x n), with m &gt;= k.</param>
/// <param name="transposed">A^T (d x n): nonempty, finite.</param>
/// <returns>The approximation, as approximateTransposedWithPower's, and its error, as projectionErrorTransposed's.
/// </returns>
/// <exception cref="System.ArgumentNullException">sketch or transposed is null.</exception>
/// <exception cref="System.ArgumentException">as for approximateTransposedWithPower.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">as for approximateTransposedWithPower.</exception>
/// <remarks>The error is sqrt(||A||_F^2 - ||L||_F^2), or the residual formed 256 rows of A at a time when that would
/// keep fewer than 8 digits. ||A||_F is taken from the sketch's pass when its sum of squares lies within [1e-200, 1e200]
/// (nothing underflowed or overflowed), else measured by one more pass.</remarks>
[<CompiledName("ApproximateTransposedWithPowerAndError")>]
let approximateTransposedWithPowerAndError
    (powerIterations: int)
    (rank: int)
    (sketch: Sketch)
    (transposed: Matrix<float>)
    =
    let approximation, squares =
        transposedWithSquares powerIterations rank sketch transposed

    let total =
        if squares >= 1e-200 && squares <= 1e200 then
            sqrt squares
        else
            Dense.finiteFrobenius (nameof transposed) transposed

    let error =
        projectionFrom total approximation (fun () -> formedTransposed transposed approximation)

    struct (approximation, error)

/// <summary>The SCW error ||A - SCW(S, A)||_F, without forming the n x d approximation unless the error is tiny.</summary>
/// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
/// <param name="sketch">S (m x n), with m &gt;= k.</param>
/// <param name="matrix">A (n x d): nonempty and finite.</param>
/// <returns>The Frobenius error, at least Svd.optimalError rank matrix up to rounding.</returns>
/// <exception cref="System.ArgumentNullException">sketch or matrix is null.</exception>
/// <exception cref="System.ArgumentException">as for approximate.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)].</exception>
/// <remarks>Uses ||A - [AV]_k V^T||_F^2 = ||A||_F^2 - ||[AV]_k||_F^2, valid because V has orthonormal columns, at
/// the cost of approximate plus O(nnz(A)). When the error is below about 1.2e-4 ||A||_F the subtraction would keep
/// fewer than 8 correct digits, so the residual is formed directly instead (O(n d k) time, 256 columns at a time).</remarks>
[<CompiledName("Error")>]
let error (rank: int) (sketch: Sketch) (matrix: Matrix<float>) =
    check rank sketch matrix
    approximateUnchecked rank sketch matrix |> residualNorm matrix

/// The test-set checks of testErrors and testResiduals, in order (the first bad sketch or matrix is the one reported):
/// the sketches and the matrices as arrays.
let private checkTestSet (rank: int) (sketches: seq<Sketch>) (testSet: seq<Matrix<float>>) =
    Guard.notNull (nameof sketches) sketches
    Guard.notNull (nameof testSet) testSet
    let sketches = Seq.toArray sketches
    let matrices = Seq.toArray testSet

    if sketches.Length = 0 then
        raise (ArgumentException("Expected at least one sketch, but sketches is empty.", nameof sketches))

    if matrices.Length = 0 then
        raise (ArgumentException("Expected at least one test matrix, but testSet is empty.", nameof testSet))

    Guard.noNullElement (nameof sketches) "a sketch" sketches

    // The argument checks first, in order, so that the first bad matrix is the one reported.
    matrices
    |> Array.iteri (fun i a ->
        sketches
        |> Array.iteri (fun j sketch ->
            try
                check rank sketch a
            with :? ArgumentException as e ->
                match e.ParamName with
                | "matrix" -> raise (ArgumentException($"testSet[{i}]: {e.Message}", nameof testSet, e))
                | "sketch" when sketches.Length > 1 ->
                    raise (ArgumentException($"sketches[{j}]: {e.Message}", nameof sketches, e))
                | _ -> reraise ()))

    sketches, matrices

/// A test matrix scaled as the normalization asks, with its singular values (before scaling) and the scale.
let private normalized (normalization: Normalization) (a: Matrix<float>) =
    let s = Dense.singularValues a

    let scale =
        match normalization with
        | Normalization.TopSingularValue when s[0] > 0.0 -> s[0]
        | _ -> 1.0

    (if scale = 1.0 then a else a / scale), s, scale

/// <summary>Err(Te, S) for several sketches at once: each test matrix's singular values (for the normalization and the
/// optimum) are computed once and shared by every sketch, so k sketches cost one SVD per matrix instead of k.</summary>
/// <param name="normalization">As for testError.</param>
/// <param name="rank">k, valid for every matrix of the test set.</param>
/// <param name="sketches">At least one sketch S (m x n), each with m &gt;= k.</param>
/// <param name="testSet">Te: at least one n x d matrix, each nonempty and finite.</param>
/// <returns>Err(Te, S) for each sketch, in order; each equals testError for that sketch.</returns>
/// <exception cref="System.ArgumentNullException">sketches, one of them, testSet or one of its matrices is null.
/// </exception>
/// <exception cref="System.ArgumentException">sketches or testSet is empty, or a matrix or sketch fails approximate's
/// checks (the message names the matrix's or the sketch's index).</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)] for a matrix.</exception>
/// <remarks>Per matrix: its singular values once, O(n d min(n, d)), and one SCW per sketch.</remarks>
[<CompiledName("TestErrors")>]
let testErrors (normalization: Normalization) (rank: int) (sketches: seq<Sketch>) (testSet: seq<Matrix<float>>) =
    let sketches, matrices = checkTestSet rank sketches testSet

    // errors[j][i]: SCW's error of sketch j on matrix i; optimal[i]: the optimum, both after normalization.
    let errors =
        Array.init sketches.Length (fun _ -> Array.zeroCreate<float> matrices.Length)

    let optimal = Array.zeroCreate<float> matrices.Length

    // Then each matrix's optimum (an exact values-only SVD: a randomized top-k estimate would understate sigma_i and so
    // overstate the optimal error, biasing Err(Te, S) low) and every sketch's SCW error, computed once per matrix for
    // all sketches, matrices side by side.
    let measure (i: int) =
        let a, s, scale = normalized normalization matrices[i]
        optimal[i] <- Dense.twoNorm s[rank..] / scale

        sketches
        |> Array.iteri (fun j sketch -> errors[j][i] <- residualNorm a (approximateUnchecked rank sketch a))

    Backend.sideBySide (fun workers -> Backend.mapSideBySide workers measure (Array.init matrices.Length id))
    |> ignore

    let meanOptimal = Array.average optimal
    errors |> Array.map (fun e -> Array.average e - meanOptimal)

/// <summary>SCW's residual on a test set measured in any norms: for each matrix A (scaled as testErrors scales it), the
/// residual R = A - SCW(S, A), and for each norm f the mean of f(R) over the test set. With Norm.frobenius this is the
/// first term of Err(Te, S); with Norm.vNorm or a weighted norm (Norm.weightedFrobenius W) it is what a loss other than
/// the paper's sees of the same approximations.</summary>
/// <param name="normalization">As for testError: TopSingularValue scales each matrix to sigma_1 = 1 first.</param>
/// <param name="rank">k, valid for every matrix of the test set.</param>
/// <param name="sketch">S (m x n), with m &gt;= k.</param>
/// <param name="norms">At least one norm, each a function of an n x d matrix.</param>
/// <param name="testSet">Te: at least one n x d matrix, each nonempty and finite.</param>
/// <returns>For each norm, in order, mean_(A in Te) f(A - SCW(S, A)).</returns>
/// <exception cref="System.ArgumentNullException">sketch, norms, one of them, testSet or one of its matrices is null.
/// </exception>
/// <exception cref="System.ArgumentException">norms or testSet is empty, or a matrix fails approximate's checks (the
/// message names its index).</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)] for a matrix.</exception>
/// <remarks>Per matrix: one SCW, the n x d residual (which a general norm needs; O(n d) memory), and each norm; the
/// singular values only under TopSingularValue.</remarks>
[<CompiledName("TestResiduals")>]
let testResiduals
    (normalization: Normalization)
    (rank: int)
    (sketch: Sketch)
    (norms: seq<Matrix<float> -> float>)
    (testSet: seq<Matrix<float>>)
    =
    Guard.notNull (nameof sketch) sketch
    Guard.notNull (nameof norms) norms
    let norms = Seq.toArray norms

    if norms.Length = 0 then
        raise (ArgumentException("Expected at least one norm, but norms is empty.", nameof norms))

    Guard.noNullElement (nameof norms) "a norm" norms

    let _, matrices = checkTestSet rank [| sketch |] testSet

    let residualNorms (a: Matrix<float>) =
        let scale =
            match normalization with
            | Normalization.TopSingularValue -> (Dense.singularValues a)[0]
            | _ -> 1.0

        let a = if scale > 0.0 && scale <> 1.0 then a / scale else a
        let residual = a - (approximateUnchecked rank sketch a).ToMatrix()
        norms |> Array.map (fun norm -> norm residual)

    let each = matrices |> Array.map residualNorms
    Array.init norms.Length (fun j -> each |> Array.averageBy (fun values -> values[j]))

/// <summary>The test error of Indyk, Vakilian and Yuan (NeurIPS 2019, Section 5):
/// Err(Te, S) = mean_(A in Te) ||A - SCW(S, A)||_F - mean_(A in Te) ||A - [A]_k||_F.</summary>
/// <param name="normalization">Normalization.TopSingularValue scales each matrix to sigma_1 = 1 first, as the
/// paper's experiments do; Normalization.None uses the matrices as given.</param>
/// <param name="rank">k, valid for every matrix of the test set.</param>
/// <param name="sketch">S (m x n), with m &gt;= k.</param>
/// <param name="testSet">Te: at least one n x d matrix, each nonempty and finite.</param>
/// <returns>The difference of means, nonnegative up to rounding (SCW is never better than the optimum).</returns>
/// <exception cref="System.ArgumentNullException">sketch, testSet or one of its matrices is null.</exception>
/// <exception cref="System.ArgumentException">testSet is empty, or a matrix fails approximate's checks (the
/// message names its index).</exception>
/// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)] for a matrix.</exception>
/// <remarks>Per matrix: one SCW plus the singular values of A, O(n d min(n, d)); the exact SVD dominates.</remarks>
[<CompiledName("TestError")>]
let testError (normalization: Normalization) (rank: int) (sketch: Sketch) (testSet: seq<Matrix<float>>) =
    Guard.notNull (nameof sketch) sketch
    (testErrors normalization rank [| sketch |] testSet)[0]
