/// The dense kernels every algorithm above calls (gemm, thin SVD, QR, symmetric eigendecomposition, least squares),
/// over column-major double[] buffers: MathNet's DenseMatrix storage, so no copies are needed to reach them. Two
/// implementations stand behind one interface: a system BLAS/LAPACK through P/Invoke, and a managed fallback.
module internal LowRank.Core.Kernels

#nowarn "9" // native pointers into buffers pinned with `fixed`

open System
open System.Threading
open MathNet.Numerics.LinearAlgebra

type IKernels =
    abstract Name: string

    /// C (m x n) <- alpha op(A) op(B) + beta C; op(A) is m x k, op(B) is k x n; column-major with leading dimensions.
    abstract Gemm:
        transA: bool *
        transB: bool *
        m: int *
        n: int *
        k: int *
        alpha: float *
        a: float[] *
        lda: int *
        b: float[] *
        ldb: int *
        beta: float *
        c: float[] *
        ldc: int ->
            unit

    /// Thin SVD of the m x n matrix in `a` (read, never overwritten): U (m x p), s (p, descending), Vt (p x n),
    /// p = min(m, n).
    abstract ThinSvd: m: int * n: int * a: float[] -> float[] * float[] * float[]

    /// Singular values only, descending; `a` is read, never overwritten.
    abstract SingularValues: m: int * n: int * a: float[] -> float[]

    /// Thin QR: Q (m x p) with orthonormal columns and upper-trapezoidal R (p x n); `a` is read, never overwritten.
    abstract Qr: m: int * n: int * a: float[] -> float[] * float[]

    /// R alone (p x n) of Qr, without forming Q (half the work for a tall A); `a` is read, never overwritten.
    abstract RFactor: m: int * n: int * a: float[] -> float[]

    /// A tall A's (m >= n) leading `count` left singular vectors U (m x count), all n singular values (descending) and
    /// all n right singular vectors Vt (n x n, the rows a caller keeps are its own choice), from A = Q R and the SVD of
    /// R, with Q applied to U_R's first `count` columns without being formed; `a` is read, never overwritten.
    abstract LeadingSvd: m: int * n: int * a: float[] * count: int -> float[] * float[] * float[]

    /// Eigenvalues (ascending) and orthonormal eigenvectors (columns) of the symmetric n x n `a`, of which only the
    /// lower triangle is read; may overwrite `a`.
    abstract SymmetricEigen: n: int * a: float[] -> float[] * float[]

    /// The minimum-norm least-squares solution X (n x nrhs) of A X = B for the m x n A and m x nrhs B, treating singular
    /// values below rcond * sigma_1 as zero, and the effective rank. May overwrite `a` and `b`.
    abstract LeastSquares: m: int * n: int * a: float[] * nrhs: int * b: float[] * rcond: float -> float[] * int

let private lapackFailure routine info : exn =
    if info < 0 then
        InvalidOperationException($"LAPACK {routine} rejected argument {-info}: this is a bug in LowRank.")
    else
        ArithmeticException($"LAPACK {routine} did not converge (info = {info}).")

/// Runs `work` on a buffer of at least `length` doubles from the shared pool, returned afterwards. LAPACK overwrites its
/// input and wants workspace, and fresh arrays for both (a copy of the input and dgesdd's workspace: 8 MB and 24 MB
/// for a 1000 x 1000 SVD) went to the large-object heap on every call; in a process with a large heap (F# interactive)
/// the gen-2 collections they set off made a call take 2-8 times its median.
let private pooled (length: int) (work: float[] -> 'T) =
    let buffer = Buffers.ArrayPool<float>.Shared.Rent(max 1 length)

    try
        work buffer
    finally
        Buffers.ArrayPool<float>.Shared.Return buffer

/// `work` on a pooled copy of the first `length` values of `a`, for a LAPACK routine that overwrites its input.
let private pooledCopy (a: float[]) (length: int) (work: float[] -> 'T) =
    pooled length (fun scratch ->
        Array.blit a 0 scratch 0 length
        work scratch)

/// A LAPACK routine called as its workspace wants: once with lwork = -1, which puts the optimal size in work[0], then
/// with a pooled workspace of that size (at least `least`); `call work lwork` makes one call and returns its info, and
/// a nonzero info of the second call raises, naming `routine`.
let private withWorkspace (routine: string) (least: int) (call: nativeptr<float> -> int -> int) =
    let query = Array.zeroCreate<float> 1

    do
        use pq = fixed query
        call pq -1 |> ignore

    let lwork = max least (int query[0])
    let work = Buffers.ArrayPool<float>.Shared.Rent lwork

    let info =
        try
            use pw = fixed work
            call pw lwork
        finally
            Buffers.ArrayPool<float>.Shared.Return work

    if info <> 0 then
        raise (lapackFailure routine info)

/// The system BLAS/LAPACK. Every LAPACK call asks for its optimal workspace first (lwork = -1).
type private NativeKernels(library: Native.Library) =
    interface IKernels with
        member _.Name = "native"

        member _.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =
            if m > 0 && n > 0 then
                use pa = fixed a
                use pb = fixed b
                use pc = fixed c

                Native.dgemm (
                    Native.ColumnMajor,
                    (if transA then Native.Trans else Native.NoTrans),
                    (if transB then Native.Trans else Native.NoTrans),
                    m,
                    n,
                    k,
                    alpha,
                    pa,
                    max 1 lda,
                    pb,
                    max 1 ldb,
                    beta,
                    pc,
                    max 1 ldc
                )

        member this.ThinSvd(m, n, a) =
            let p = min m n
            let s = Array.zeroCreate<float> p
            let u = Array.zeroCreate<float>(m * p)
            let vt = Array.zeroCreate<float>(p * n)
            pooledCopy a (m * n) (fun scratch -> this.Gesdd('S'B, m, n, scratch, s, u, vt))
            u, s, vt

        member this.SingularValues(m, n, a) =
            let s = Array.zeroCreate<float>(min m n)

            pooledCopy a (m * n) (fun scratch ->
                this.Gesdd('N'B, m, n, scratch, s, Array.zeroCreate 1, Array.zeroCreate 1))

            s

        member this.Qr(m, n, a) =
            pooledCopy a (m * n) (fun scratch -> this.QrInPlace(m, n, scratch))

        member this.RFactor(m, n, a) =
            pooledCopy a (m * n) (fun scratch ->
                this.Householder(m, n, scratch) |> ignore
                NativeKernels.UpperOf(m, n, scratch))

        member this.LeadingSvd(m, n, a, count) =
            pooledCopy a (m * n) (fun scratch ->
                let tau = this.Householder(m, n, scratch)

                let ur, s, vt =
                    (this :> IKernels).ThinSvd(n, n, NativeKernels.UpperOf(m, n, scratch))
                // Q [U_R,k; 0] by dormqr: 4 m n k flops, where forming Q (dorgqr) costs about 4 m n^2 / 3.
                let u = Array.zeroCreate<float>(m * count)

                for j in 0 .. count - 1 do
                    Array.blit ur (j * n) u (j * m) n

                use pa = fixed scratch
                use ptau = fixed tau
                use pu = fixed u

                withWorkspace "dormqr" (max 1 count) (fun work size ->
                    let mutable side, trans = 'L'B, 'N'B
                    let mutable m', n', k', lda, ldc = m, count, n, m, m
                    let mutable lwork, info = size, 0

                    Native.dormqr (
                        &side,
                        &trans,
                        &m',
                        &n',
                        &k',
                        pa,
                        &lda,
                        ptau,
                        pu,
                        &ldc,
                        work,
                        &lwork,
                        &info,
                        1un,
                        1un
                    )

                    info)

                u, s, vt)

        member _.SymmetricEigen(n, a) =
            let w = Array.zeroCreate<float> n
            let mutable jobz = 'V'B
            let mutable uplo = 'L'B
            let mutable n' = n
            let mutable lda = n
            let mutable info = 0
            let mutable lwork = -1
            let mutable liwork = -1
            let query = Array.zeroCreate<float> 1
            let iquery = Array.zeroCreate<int> 1
            use pa = fixed a
            use pw = fixed w

            do
                use pq = fixed query
                use piq = fixed iquery
                Native.dsyevd (&jobz, &uplo, &n', pa, &lda, pw, pq, &lwork, piq, &liwork, &info, 1un, 1un)

            lwork <- max 1 (int query[0])
            liwork <- max 1 iquery[0]
            let work = Array.zeroCreate<float> lwork
            let iwork = Array.zeroCreate<int> liwork

            do
                use pwork = fixed work
                use piwork = fixed iwork
                Native.dsyevd (&jobz, &uplo, &n', pa, &lda, pw, pwork, &lwork, piwork, &liwork, &info, 1un, 1un)

            if info <> 0 then
                raise (lapackFailure "dsyevd" info)

            w, a

        member _.LeastSquares(m, n, a, nrhs, b, rcond) =
            let ldb = max m n
            // dgelsd needs B with max(m, n) rows: the solution's n rows come back in its top.
            let padded = Array.zeroCreate<float>(ldb * nrhs)

            for j in 0 .. nrhs - 1 do
                Array.blit b (j * m) padded (j * ldb) m

            let s = Array.zeroCreate<float>(min m n)
            let mutable m' = m
            let mutable n' = n
            let mutable nrhs' = nrhs
            let mutable lda = m
            let mutable ldb' = ldb
            let mutable rcond' = rcond
            let mutable rank = 0
            let mutable info = 0
            let mutable lwork = -1
            let query = Array.zeroCreate<float> 1
            let iquery = Array.zeroCreate<int> 1
            use pa = fixed a
            use pb = fixed padded
            use ps = fixed s

            do
                use pq = fixed query
                use piq = fixed iquery
                Native.dgelsd (&m', &n', &nrhs', pa, &lda, pb, &ldb', ps, &rcond', &rank, pq, &lwork, piq, &info)

            lwork <- max 1 (int query[0])
            let work = Array.zeroCreate<float> lwork
            let iwork = Array.zeroCreate<int>(max 1 iquery[0])

            do
                use pw = fixed work
                use piw = fixed iwork
                Native.dgelsd (&m', &n', &nrhs', pa, &lda, pb, &ldb', ps, &rcond', &rank, pw, &lwork, piw, &info)

            if info <> 0 then
                raise (lapackFailure "dgelsd" info)

            let x = Array.zeroCreate<float>(n * nrhs)

            for j in 0 .. nrhs - 1 do
                Array.blit padded (j * ldb) x (j * n) n

            x, rank

    /// dgeqrf on `a` (overwritten by the Householder vectors below R), returning tau.
    member _.Householder(m: int, n: int, a: float[]) =
        let tau = Array.zeroCreate<float>(min m n)
        use pa = fixed a
        use ptau = fixed tau

        withWorkspace "dgeqrf" (max 1 n) (fun work size ->
            let mutable m' = m
            let mutable n' = n
            let mutable lda = m
            let mutable lwork = size
            let mutable info = 0
            Native.dgeqrf (&m', &n', pa, &lda, ptau, work, &lwork, &info)
            info)

        tau

    /// The upper trapezoid R (p x n) of `a` after Householder.
    static member UpperOf(m: int, n: int, a: float[]) =
        let p = min m n
        let r = Array.zeroCreate<float>(p * n)

        for j in 0 .. n - 1 do
            for i in 0 .. min j (p - 1) do
                r[i + j * p] <- a[i + j * m]

        r

    /// Thin QR of `a`, overwritten: Q is its first m p values once dorgqr is done; R is copied out before that.
    member this.QrInPlace(m: int, n: int, a: float[]) =
        let p = min m n
        let tau = this.Householder(m, n, a)
        let r = NativeKernels.UpperOf(m, n, a)
        use pa = fixed a
        use ptau = fixed tau

        withWorkspace "dorgqr" (max 1 p) (fun work size ->
            let mutable m' = m
            let mutable p' = p
            let mutable lda = m
            let mutable lwork = size
            let mutable info = 0
            Native.dorgqr (&m', &p', &p', pa, &lda, ptau, work, &lwork, &info)
            info)

        Array.sub a 0 (m * p), r

    /// dgesdd (divide and conquer, several times faster than dgesvd) after a workspace query.
    member _.Gesdd(job: byte, m: int, n: int, a: float[], s: float[], u: float[], vt: float[]) =
        let p = min m n
        let iwork = Array.zeroCreate<int>(8 * p)
        use pa = fixed a
        use ps = fixed s
        use pu = fixed u
        use pvt = fixed vt
        use piw = fixed iwork

        withWorkspace "dgesdd" 1 (fun work size ->
            let mutable jobz = job
            let mutable m' = m
            let mutable n' = n
            let mutable lda = m
            let mutable ldu = if job = 'N'B then 1 else m
            let mutable ldvt = if job = 'N'B then 1 else p
            let mutable lwork = size
            let mutable info = 0
            Native.dgesdd (&jobz, &m', &n', pa, &lda, ps, pu, &ldu, pvt, &ldvt, work, &lwork, piw, &info, 1un)
            info)

    member _.Library = library

/// The managed fallback: LowRank's packed SIMD gemm, and MathNet's managed factorizations on the small factors.
type private ManagedKernels() =
    static let wrap (m: int) (n: int) (a: float[]) = Matrix<float>.Build.Dense(m, n, a)

    static let thinSvdOfNormalized (m: int) (n: int) (a: float[]) =
        // MathNet's Svd forms the full U and V^T; reduce the long side by QR first so only a p x p SVD is done.
        let matrix = wrap m n a

        if m = n then
            let svd = matrix.Svd(true)
            svd.U, svd.S.ToArray(), svd.VT
        elif m > n then
            let qr = matrix.QR(Factorization.QRMethod.Thin)
            let svd = qr.R.Svd(true)
            qr.Q * svd.U, svd.S.ToArray(), svd.VT
        else
            let qr = matrix.Transpose().QR(Factorization.QRMethod.Thin)
            let svd = qr.R.Svd(true)
            // A^T = Q R = Q U S V^T, so A = V S (Q U)^T.
            svd.VT.Transpose(), svd.S.ToArray(), (qr.Q * svd.U).Transpose()

    /// A scaled by an exact power of two 2^-e so that its largest entry is in [1, 2), and e. MathNet's managed SVD
    /// loses accuracy on entries far from 1 (below about 1e-20 its singular values are wrong, above 1e155 it stops
    /// converging); LAPACK's drivers scale the same way (dlascl). A zero or non-finite A is left as it is (e = 0).
    static let normalized (a: float[]) =
        let mutable top = 0.0

        for x in a do
            top <- max top (abs x)

        if top = 0.0 || not (Double.IsFinite top) then
            a, 0
        else
            let e = Math.ILogB top

            // A subnormal largest entry (e < -1022) needs 2^-e > 2^1023, which overflows as a factor; ScaleB scales each
            // entry exactly instead. Otherwise one multiplication by the exact power of two is as exact and faster.
            if -e > 1023 then
                Array.map (fun x -> Math.ScaleB(x, -e)) a, e
            else
                let factor = Math.ScaleB(1.0, -e)
                Array.map (fun x -> x * factor) a, e

    /// The thin SVD of A from that of its normalized copy: U and V^T are the same, S scales back by 2^e.
    static let thinSvd (m: int) (n: int) (a: float[]) =
        let a, e = normalized a
        let u, s, vt = thinSvdOfNormalized m n a
        u, Array.map (fun x -> Math.ScaleB(x, e)) s, vt

    interface IKernels with
        member _.Name = "managed"

        member _.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =
            ManagedGemm.gemm transA transB m n k alpha a lda b ldb beta c ldc

        member _.ThinSvd(m, n, a) =
            let u, s, vt = thinSvd m n a
            u.ToColumnMajorArray(), s, vt.ToColumnMajorArray()

        member _.SingularValues(m, n, a) =
            let a, e = normalized a
            let matrix = wrap m n a

            let small =
                if m > 2 * n then
                    matrix.QR(Factorization.QRMethod.Thin).R
                elif n > 2 * m then
                    matrix.Transpose().QR(Factorization.QRMethod.Thin).R
                else
                    matrix

            small.Svd(false).S.ToArray() |> Array.map (fun x -> Math.ScaleB(x, e))

        member _.Qr(m, n, a) =
            // Normalized like the SVD: MathNet's Householder norms overflow near 1e155 and underflow near 1e-160.
            let a, e = normalized a
            let matrix = wrap m n a

            let back (r: float[]) =
                Array.map (fun x -> Math.ScaleB(x, e)) r

            if m >= n then
                let qr = matrix.QR(Factorization.QRMethod.Thin)
                qr.Q.ToColumnMajorArray(), back (qr.R.ToColumnMajorArray())
            else
                // A = [A1 A2] with A1 m x m: A1 = Q R1, so R = [R1, Q^T A2] (R1 taken as computed, exactly triangular).
                let qr = matrix.SubMatrix(0, m, 0, m).QR(Factorization.QRMethod.Thin)
                let rest = qr.Q.TransposeThisAndMultiply(matrix.SubMatrix(0, m, m, n - m))
                qr.Q.ToColumnMajorArray(), back (qr.R.Append(rest).ToColumnMajorArray())

        member this.RFactor(m, n, a) = snd ((this :> IKernels).Qr(m, n, a))

        member this.LeadingSvd(m, n, a, count) =
            let kernels = this :> IKernels
            let q, r = kernels.Qr(m, n, a)
            let ur, s, vt = kernels.ThinSvd(n, n, r)
            let u = Array.zeroCreate<float>(m * count)
            kernels.Gemm(false, false, m, count, n, 1.0, q, m, ur, n, 0.0, u, m)
            u, s, vt

        member _.SymmetricEigen(n, a) =
            let a, e = normalized a
            let matrix = wrap n n a
            // Mirror the lower triangle, as LAPACK reads only that half.
            let symmetric =
                Matrix<float>.Build.Dense(n, n, fun i j -> if i >= j then matrix[i, j] else matrix[j, i])

            let evd = symmetric.Evd(Symmetricity.Symmetric)
            let values = evd.EigenValues.Real().ToArray()
            let order = Array.init n id |> Array.sortBy (fun i -> values[i])
            let vectors = evd.EigenVectors

            Array.map (fun i -> Math.ScaleB(values[i], e)) order,
            Matrix<float>.Build.Dense(n, n, fun i j -> vectors[i, order[j]]).ToColumnMajorArray()

        member _.LeastSquares(m, n, a, nrhs, b, rcond) =
            let u, s, vt = thinSvd m n a
            let threshold = if s.Length = 0 then 0.0 else rcond * s[0]
            let rank = s |> Array.sumBy (fun x -> if x > threshold then 1 else 0)

            if rank = 0 then
                Array.zeroCreate (n * nrhs), 0
            else
                // X = V_r S_r^-1 U_r^T B.
                let projected = u.SubMatrix(0, m, 0, rank).TransposeThisAndMultiply(wrap m nrhs b)
                let scaled = projected.MapIndexed(fun i _ x -> x / s[i])
                (vt.SubMatrix(0, rank, 0, n).TransposeThisAndMultiply scaled).ToColumnMajorArray(), rank

let managed: IKernels = ManagedKernels()

/// The native kernels with concurrent callers in mind. OpenBLAS's worker threads spin while they wait, so several
/// multi-threaded calls at once fight over the cores (8 callers measured 2.8 calls/s against 55 from one caller). With
/// more than one BLAS thread the calls are therefore serialized, which makes concurrent use at least as fast as
/// sequential use; with one thread (Backend.setNativeThreads 1, for servers with many callers) they run side by side
/// and scale with the callers.
type private SerializedKernels(inner: IKernels) =
    static let exclusive (call: unit -> 'T) =
        if NativeSections.InSection.Value then
            call ()
        elif NativeSections.configuredMulti () then
            NativeSections.outside call
        else
            call ()

    interface IKernels with
        member _.Name = inner.Name

        member _.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =
            exclusive (fun () -> inner.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))

        member _.ThinSvd(m, n, a) =
            exclusive (fun () -> inner.ThinSvd(m, n, a))

        member _.SingularValues(m, n, a) =
            exclusive (fun () -> inner.SingularValues(m, n, a))

        member _.Qr(m, n, a) = exclusive (fun () -> inner.Qr(m, n, a))

        member _.RFactor(m, n, a) =
            exclusive (fun () -> inner.RFactor(m, n, a))

        member _.LeadingSvd(m, n, a, count) =
            exclusive (fun () -> inner.LeadingSvd(m, n, a, count))

        member _.SymmetricEigen(n, a) =
            exclusive (fun () -> inner.SymmetricEigen(n, a))

        member _.LeastSquares(m, n, a, nrhs, b, rcond) =
            exclusive (fun () -> inner.LeastSquares(m, n, a, nrhs, b, rcond))

/// The native kernels, when a BLAS/LAPACK with every needed symbol loads.
let native: Lazy<IKernels option> =
    lazy
        (Native.library.Value
         |> Option.map (fun lib -> SerializedKernels(NativeKernels(lib)) :> IKernels))

let private requested () =
    match Environment.GetEnvironmentVariable "LOWRANK_BACKEND" with
    | null
    | "" -> None
    | text -> Some(text.Trim().ToLowerInvariant())

let private initial () =
    match requested () with
    | Some "managed" -> managed
    | Some "native" ->
        match native.Value with
        | Some kernels -> kernels
        | None ->
            raise (
                InvalidOperationException(
                    "LOWRANK_BACKEND=native, but no BLAS/LAPACK with cblas_dgemm, dgesdd_, dgeqrf_, dorgqr_, dsyevd_ and dgelsd_ could be loaded (tried libopenblas.so.0, libopenblas.so, libblas.so.3 with liblapack.so.3). Install one (on Debian: apt-get install libopenblas0-pthread) or unset LOWRANK_BACKEND."
                )
            )
    | Some other ->
        raise (InvalidOperationException($"Expected LOWRANK_BACKEND to be 'native' or 'managed', but it is '{other}'."))
    | None -> native.Value |> Option.defaultValue managed

let mutable private selected: IKernels option = None

/// The kernels in use: the last selected, else LOWRANK_BACKEND's choice, else native when it loads, else managed.
let current () =
    match Volatile.Read(&selected) with
    | Some kernels -> kernels
    | None ->
        let kernels = initial ()
        Volatile.Write(&selected, Some kernels)
        kernels

let select (kernels: IKernels) = Volatile.Write(&selected, Some kernels)
