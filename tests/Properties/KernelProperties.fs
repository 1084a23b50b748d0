namespace LowRank.Properties

open System
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// The native and managed kernels agree with each other and with the definitions, on edge shapes (1x1, 1xn, nx1,
/// tall, wide, rank-deficient, zero), transposed operands, and sizes on both sides of the managed gemm's register
/// tile (24 rows), row block (192) and depth block (256).
module BackendAgreement =

    /// Every backend this machine can load: managed always, native when a BLAS/LAPACK loads.
    let internal backends = [
        yield Kernels.managed
        match Kernels.native.Value with
        | Some native -> yield native
        | None -> ()
    ]

    let private forEachBackend (law: Kernels.IKernels -> Property) =
        backends
        |> List.map (fun kernels -> law kernels |> Prop.label kernels.Name)
        |> all

    let private dimension = Gen.elements [ 1; 2; 3; 7; 23; 24; 25; 50; 191; 193; 257 ]

    let private identityDefect (q: Matrix<float>) =
        Norm.frobenius (q.TransposeThisAndMultiply q - Matrix<float>.Build.DenseIdentity q.ColumnCount)

    /// The sum of |r_ij| below the diagonal: 0 for an upper-trapezoidal R.
    let private belowDiagonal (r: Matrix<float>) =
        Seq.sum (
            seq {
                for j in 0 .. r.ColumnCount - 1 do
                    for i in j + 1 .. r.RowCount - 1 -> abs r[i, j]
            }
        )

    /// op(x) op(y) (rows x columns, inner dimension `inner`) by the managed backend's gemm: the reference the AVX-512
    /// kernels are held to.
    let private reference (transA: bool) (transB: bool) (x: Matrix<float>) (y: Matrix<float>) rows columns inner =
        let c = Array.zeroCreate<float>(rows * columns)

        Kernels.managed.Gemm(
            transA,
            transB,
            rows,
            columns,
            inner,
            1.0,
            x.ToColumnMajorArray(),
            x.RowCount,
            y.ToColumnMajorArray(),
            y.RowCount,
            0.0,
            c,
            rows
        )

        Matrix<float>.Build.Dense(rows, columns, c)

    /// The tall-matrix kernels (A V, A^T Q and S A for A with thousands of rows and a narrow V or Q or a short S, which
    /// Dense.gemm sends to TallGemm on AVX-512 machines) equal the managed backend's gemm to rounding, for every remainder: rows past the
    /// last whole strip (16 for A V, 8 for A^T Q), columns of A past the last group of six, widths past the last group
    /// of 12 or 32 columns, and V given either way round; and they give the same bits on every call. So does the fused
    /// A^T (A V) of the power iterations (one pass over A; rows past the last block of 64 zero-padded).
    [<Fact>]
    let ``tall-matrix products equal gemm for every remainder of rows, columns and widths, bit for bit on every call``
        ()
        =
        let case =
            gen {
                let! m = Gen.choose (4096, 4096 + 40)
                let! k = Gen.choose (16, 80)
                let! r = Gen.choose (4, 64)
                let! transV = Gen.elements [ false; true ]
                let! scale = scale
                let! seed = seed
                return m, k, r, transV, scale, seed
            }

        forAll case (fun (m, k, r, transV, scale, seed) ->
            let random = Random(seed)
            let a = scale * gaussian random m k
            let v = if transV then gaussian random r k else gaussian random k r
            let q = gaussian random m r
            let product = Dense.gemm false a transV v
            let transposed = Dense.gemm true a false q
            let short = q.Transpose()
            let sketched = Dense.gemm false short false a
            let vt = if transV then v else v.Transpose()
            let normal = Dense.normalProduct a vt

            let size = Norm.frobenius a * max (Norm.frobenius v) (Norm.frobenius q)

            all [
                holds "the tall kernels run on this machine" (TallGemm.fits m k r = TallGemm.supported)
                close
                    (medium |> scaledTo size)
                    "A op(V)"
                    (Norm.frobenius (product - reference false transV a v m r k))
                    0.0
                close
                    (medium |> scaledTo size)
                    "A^T Q"
                    (Norm.frobenius (transposed - reference true false a q k r m))
                    0.0
                close
                    (medium |> scaledTo size)
                    "Q^T A (a short matrix times the tall one)"
                    (Norm.frobenius (sketched - reference false false short a r k m))
                    0.0
                close
                    (medium |> scaledTo (size * Norm.frobenius a))
                    "A^T (A V) in one pass"
                    (Norm.frobenius (normal - reference true false a (reference false true a vt m r k) k r m))
                    0.0
                holds "A op(V) again, the same bits" ((Dense.gemm false a transV v).Equals product)
                holds "A^T (A V) again, the same bits" ((Dense.normalProduct a vt).Equals normal)
                holds "A^T Q again, the same bits" ((Dense.gemm true a false q).Equals transposed)
            ])
        |> checkWith 40

    /// The row-major kernels (A stored by rows, given as A^T: A V, A^T Y, A^T (A V) and a CountSketch's S A, which
    /// Dense and Sketch send to RowMajorGemm for n >= 4096) equal the managed gemm to rounding for every remainder: rows
    /// past the last block of 64 and group of six, columns of A past the last strip of 16, widths past the last group
    /// of 12 or 32 columns; and they give the same bits on every call.
    [<Fact>]
    let ``row-major products equal gemm for every remainder of rows, columns and widths, bit for bit on every call``
        ()
        =
        let case =
            gen {
                let! n = Gen.choose (4096, 4096 + 70)
                let! d = Gen.choose (16, 80)
                let! r = Gen.choose (4, 64)
                let! m = Gen.choose (1, 40)
                let! scale = scale
                let! seed = seed
                return n, d, r, m, scale, seed
            }

        forAll case (fun (n, d, r, m, scale, seed) ->
            let random = Random(seed)
            let transposed = scale * gaussian random d n
            let vt = gaussian random r d
            let y = gaussian random n r

            let av = Dense.rowMajorTimes transposed vt
            let aty = Dense.rowMajorTransposeTimes transposed y
            let normal = Dense.rowMajorNormalProduct transposed vt
            let sketch = Sketch.countSketch seed m n
            let sketched = Sketch.applyTransposedUnchecked sketch 0 transposed
            let norm = Norm.frobenius transposed
            let size = norm * max (Norm.frobenius vt) (Norm.frobenius y)
            let referenceAv = reference true true transposed vt n r d

            all [
                holds "the row-major kernels run on this machine" (RowMajorGemm.fits n d r = TallGemm.supported)
                close (medium |> scaledTo size) "A V" (Norm.frobenius (av - referenceAv)) 0.0
                close
                    (medium |> scaledTo size)
                    "A^T Y"
                    (Norm.frobenius (aty - reference false false transposed y d r n))
                    0.0
                close
                    (medium |> scaledTo (size * norm))
                    "A^T (A V) in one pass"
                    (Norm.frobenius (normal - reference false false transposed referenceAv d r n))
                    0.0
                close
                    (medium |> scaledTo norm)
                    "S A of a CountSketch"
                    (Norm.frobenius (sketched - Sketch.applyUnchecked sketch 0 (transposed.Transpose())))
                    0.0
                holds "A V again, the same bits" ((Dense.rowMajorTimes transposed vt).Equals av)
                holds "A^T Y again, the same bits" ((Dense.rowMajorTransposeTimes transposed y).Equals aty)
                holds "A^T (A V) again, the same bits" ((Dense.rowMajorNormalProduct transposed vt).Equals normal)
                holds
                    "S A again, the same bits"
                    ((Sketch.applyTransposedUnchecked sketch 0 transposed).Equals sketched)
            ])
        |> checkWith 40

    [<Fact>]
    let ``gemm equals the triple-loop product for every transpose, alpha and beta`` () =
        let case =
            gen {
                let! m = dimension
                let! n = Gen.elements [ 1; 2; 5; 24; 33 ]
                let! k = dimension
                let! transA = Gen.elements [ false; true ]
                let! transB = Gen.elements [ false; true ]
                let! alpha = Gen.elements [ 1.0; -0.5 ]
                let! beta = Gen.elements [ 0.0; 1.0; 2.0 ]
                let! seed = seed
                return m, n, k, transA, transB, alpha, beta, seed
            }

        forAll case (fun (m, n, k, transA, transB, alpha, beta, seed) ->
            let random = Random(seed)
            let opA = gaussian random m k
            let opB = gaussian random k n
            let c0 = gaussian random m n
            let a = if transA then opA.Transpose() else opA
            let b = if transB then opB.Transpose() else opB

            let expected =
                Matrix<float>
                    .Build.Dense(
                        m,
                        n,
                        fun i j ->
                            alpha * Seq.sum (seq { for p in 0 .. k - 1 -> opA[i, p] * opB[p, j] })
                            + beta * c0[i, j]
                    )

            let scale = float k * Norm.frobenius opA * Norm.frobenius opB + Norm.frobenius c0

            // The portable micro-kernel, which machines without AVX-512 run, is checked here on every machine.
            let portable =
                let c = c0.ToColumnMajorArray()

                ManagedGemm.gemmWith
                    false
                    transA
                    transB
                    m
                    n
                    k
                    alpha
                    (a.ToColumnMajorArray())
                    a.RowCount
                    (b.ToColumnMajorArray())
                    b.RowCount
                    beta
                    c
                    m

                close
                    (high |> scaledTo scale)
                    "portable kernel: ||C - reference||_F"
                    (Norm.frobenius (Matrix<float>.Build.Dense(m, n, c) - expected))
                    0.0

            portable
            .&. forEachBackend (fun kernels ->
                let c = c0.ToColumnMajorArray()

                kernels.Gemm(
                    transA,
                    transB,
                    m,
                    n,
                    k,
                    alpha,
                    a.ToColumnMajorArray(),
                    a.RowCount,
                    b.ToColumnMajorArray(),
                    b.RowCount,
                    beta,
                    c,
                    m
                )

                let got = Matrix<float>.Build.Dense(m, n, c)
                close (high |> scaledTo scale) "||C - reference||_F" (Norm.frobenius (got - expected)) 0.0)
            |> Prop.label (
                sprintf "m=%d n=%d k=%d transA=%b transB=%b alpha=%g beta=%g" m n k transA transB alpha beta
            ))
        |> checkWith 60

    [<Fact>]
    let ``gemm with beta = 0 overwrites C even where it holds NaN`` () =
        forEachBackend (fun kernels ->
            let c = Array.create 6 nan
            kernels.Gemm(false, false, 2, 3, 1, 1.0, [| 1.0; 2.0 |], 2, [| 1.0; 1.0; 1.0 |], 1, 0.0, c, 2)
            holds "C = A B" (c = [| 1.0; 2.0; 1.0; 2.0; 1.0; 2.0 |]))
        |> check

    [<Fact>]
    let ``thin SVD reconstructs A with orthonormal factors, both backends give the same singular values, and A is left as it was``
        ()
        =
        forAll matrix (fun spec ->
            let a = spec.Build()
            let m, n = a.RowCount, a.ColumnCount
            let p = min m n
            let norm = Norm.frobenius a
            let reference = (Kernels.managed.SingularValues(m, n, a.ToColumnMajorArray()))

            forEachBackend (fun kernels ->
                let input = a.ToColumnMajorArray()
                let u, s, vt = kernels.ThinSvd(m, n, input)
                let u, vt = Matrix<float>.Build.Dense(m, p, u), Matrix<float>.Build.Dense(p, n, vt)
                let values = kernels.SingularValues(m, n, input)
                let reconstructed = u * Matrix<float>.Build.DenseOfDiagonalArray s * vt

                all [
                    close (medium |> scaledTo norm) "||U S Vt - A||_F" (Norm.frobenius (reconstructed - a)) 0.0
                    close (medium |> scaledTo 1.0) "U^T U = I" (identityDefect u) 0.0
                    close (medium |> scaledTo 1.0) "Vt Vt^T = I" (identityDefect (vt.Transpose())) 0.0
                    holds "descending" (s |> Array.pairwise |> Array.forall (fun (x, y) -> x >= y))
                    close
                        (medium |> scaledTo norm)
                        "values-only = with vectors"
                        (Dense.twoNorm (Array.map2 (-) values s))
                        0.0
                    close
                        (medium |> scaledTo norm)
                        "agrees with managed"
                        (Dense.twoNorm (Array.map2 (-) reference s))
                        0.0
                    holds "A is read, not overwritten" (input = a.ToColumnMajorArray())
                ]))
        |> check

    /// LeadingSvd (Householder QR, the SVD of R, Q applied to U_R's kept columns) gives, for a tall A and any count,
    /// orthonormal U and Vt, A's singular values, and a rank-count approximation whose error is the optimal
    /// sqrt(sum_(i > count) sigma_i^2) (Eckart-Young), on both backends; A is left as it was.
    [<Fact>]
    let ``leading SVD of a tall matrix is optimal at its rank, with orthonormal factors, on both backends`` () =
        let cases =
            gen {
                let! spec = matrix
                let rows = max spec.Rows spec.Columns
                let! count = Gen.choose (1, spec.Columns)
                return { spec with Rows = rows }, count
            }

        forAll cases (fun (spec, count) ->
            let a = spec.Build()
            let m, n = a.RowCount, a.ColumnCount
            let norm = Norm.frobenius a
            let reference = Kernels.managed.SingularValues(m, n, a.ToColumnMajorArray())

            forEachBackend (fun kernels ->
                let input = a.ToColumnMajorArray()
                let u, s, vt = kernels.LeadingSvd(m, n, input, count)

                let u = Matrix<float>.Build.Dense(m, count, u)
                let vt = Matrix<float>.Build.Dense(n, n, vt).SubMatrix(0, count, 0, n)

                let kept = u * Matrix<float>.Build.DenseOfDiagonalArray s[.. count - 1] * vt

                all [
                    close
                        (medium |> scaledTo norm)
                        "||A - U S Vt||_F = sqrt(sum of the tail's squares)"
                        (Norm.frobenius (a - kept))
                        (Dense.twoNorm reference[count..])
                    close (medium |> scaledTo 1.0) "U^T U = I" (identityDefect u) 0.0
                    close (medium |> scaledTo 1.0) "Vt Vt^T = I" (identityDefect (vt.Transpose())) 0.0
                    close
                        (medium |> scaledTo norm)
                        "the singular values"
                        (Dense.twoNorm (Array.map2 (-) reference s))
                        0.0
                    holds "A is read, not overwritten" (input = a.ToColumnMajorArray())
                ]))
        |> check

    [<Fact>]
    let ``QR reconstructs A with orthonormal Q and upper-trapezoidal R, RFactor is its R, and A is left as it was`` () =
        forAll matrix (fun spec ->
            let a = spec.Build()
            let m, n = a.RowCount, a.ColumnCount
            let p = min m n
            let norm = Norm.frobenius a

            forEachBackend (fun kernels ->
                let values = a.ToColumnMajorArray()
                let q, r = kernels.Qr(m, n, values)
                let rAlone = kernels.RFactor(m, n, values)
                let q, r = Matrix<float>.Build.Dense(m, p, q), Matrix<float>.Build.Dense(p, n, r)

                let below = belowDiagonal r

                all [
                    close (medium |> scaledTo norm) "||Q R - A||_F" (Norm.frobenius (q * r - a)) 0.0
                    close (medium |> scaledTo 1.0) "Q^T Q = I" (identityDefect q) 0.0
                    holds "R is upper trapezoidal" (below = 0.0)
                    holds "RFactor is Qr's R, bit for bit" (rAlone = r.ToColumnMajorArray())
                    holds "A is read, not overwritten" (values = a.ToColumnMajorArray())
                ]))
        |> check

    /// The tall QR of the power iterations: CholeskyQR2 where it is accurate, Householder where it would not be. Either
    /// way Q is orthonormal and A = Q R to O(eps), on tall matrices of every rank (zero included) and spectra up to a
    /// condition of 1e14; and CholeskyQR2 is not declined on well-conditioned full-rank ones (cond <= 1e4), so the fast
    /// path is the one taken where it should be.
    [<Fact>]
    let ``tall QR reconstructs A with orthonormal Q, by CholeskyQR2 whenever A is well conditioned`` () =
        let cases' = NonTrivial "went through CholeskyQR2"

        let cases =
            gen {
                let! n = Gen.choose (1, 12)
                let! m = Gen.choose (4 * n, 40 * n)
                let! rank = rankFor m n
                return! spectrumOfShape m n rank
            }

        forAll cases (fun spec ->
            let a = spec.Build()
            let n = a.ColumnCount
            let q, r = Dense.tallQr a
            let cholesky = Dense.choleskyQr2 a
            let sigma = spec.SingularValues

            let wellConditioned =
                spec.Rank = n && sigma[n - 1] > 0.0 && sigma[0] / sigma[n - 1] <= 1e4

            let below = belowDiagonal r

            all [
                close (medium |> scaledTo (Norm.frobenius a)) "||Q R - A||_F" (Norm.frobenius (q * r - a)) 0.0
                close (medium |> scaledTo 1.0) "Q^T Q = I" (identityDefect q) 0.0
                holds "R is upper triangular" (below = 0.0)
                holds "CholeskyQR2 takes a full-rank A with cond <= 1e4" (not wellConditioned || cholesky.IsSome)
            ]
            |> cases'.Classify cholesky.IsSome)
        |> checkNonTrivial 100 20 cases'

    [<Fact>]
    let ``symmetric eigendecomposition reconstructs A with orthonormal vectors and ascending values`` () =
        forAll matrix (fun spec ->
            let b = spec.Build()

            let a =
                b.TransposeThisAndMultiply b - Matrix<float>.Build.DenseIdentity b.ColumnCount

            let n = a.RowCount
            let norm = Norm.frobenius a + 1.0
            let reference, _ = Kernels.managed.SymmetricEigen(n, a.ToColumnMajorArray())

            forEachBackend (fun kernels ->
                let w, v = kernels.SymmetricEigen(n, a.ToColumnMajorArray())
                let v = Matrix<float>.Build.Dense(n, n, v)

                all [
                    close
                        (medium |> scaledTo norm)
                        "||V W V^T - A||_F"
                        (Norm.frobenius (v * Matrix<float>.Build.DenseOfDiagonalArray w * v.Transpose() - a))
                        0.0
                    close (medium |> scaledTo 1.0) "V^T V = I" (identityDefect v) 0.0
                    holds "ascending" (w |> Array.pairwise |> Array.forall (fun (x, y) -> x <= y))
                    close
                        (medium |> scaledTo norm)
                        "agrees with managed"
                        (Dense.twoNorm (Array.map2 (-) reference w))
                        0.0
                ]))
        |> check

    [<Fact>]
    let ``least squares gives the minimum-norm solution: normal equations hold and backends agree`` () =
        forAll (Gen.zip matrix seed) (fun (spec, seed) ->
            let a = spec.Build()
            let m, n = a.RowCount, a.ColumnCount
            let b = gaussian (Random(seed)) m 2
            let tolerance = Dense.rankTolerance m n

            let reference, referenceRank =
                Kernels.managed.LeastSquares(m, n, a.ToColumnMajorArray(), 2, b.ToColumnMajorArray(), tolerance)

            let reference = Matrix<float>.Build.Dense(n, 2, reference)
            let scale = (Norm.frobenius a + 1.0) * (Norm.frobenius b + 1.0)

            forEachBackend (fun kernels ->
                let x, rank =
                    kernels.LeastSquares(m, n, a.ToColumnMajorArray(), 2, b.ToColumnMajorArray(), tolerance)

                let x = Matrix<float>.Build.Dense(n, 2, x)
                // For a zero A the minimum-norm solution is 0; otherwise the residual is orthogonal to A's columns.
                let residual = a.TransposeThisAndMultiply(a * x - b)

                all [
                    holds
                        (sprintf "rank %d = constructed %d = managed %d" rank spec.Rank referenceRank)
                        (rank = spec.Rank && rank = referenceRank)
                    close (medium |> scaledTo scale) "||A^T (A X - B)||_F" (Norm.frobenius residual) 0.0
                    close
                        (medium |> scaledTo (Norm.frobenius reference + 1.0))
                        "agrees with managed"
                        (Norm.frobenius (x - reference))
                        0.0
                ]))
        |> check
