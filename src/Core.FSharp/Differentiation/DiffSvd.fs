namespace LowRank.Core

open System
open MathNet.Numerics.LinearAlgebra

/// How the SVDs inside SCW are differentiated when a sketch is trained.
[<RequireQualifiedAccess>]
type SvdMethod =
    /// One LAPACK thin SVD per call, differentiated by its analytic adjoint (Ionescu, Vantzos and Sminchisescu
    /// 2015; Townsend 2016), with the broadening described in the training documentation so that close or repeated
    /// singular values give finite gradients. A step costs a small multiple of one SCW evaluation.
    | Exact
    /// Algorithm 2 of Indyk, Vakilian and Yuan (NeurIPS 2019): for each singular vector, `iterations` power
    /// iterations v &lt;- A^T A v / ||A^T A v|| from a seeded start, then deflation; differentiated through the
    /// unrolled iterations, so its cost grows linearly with `iterations`.
    | PowerMethod of iterations: int

/// Differentiable thin SVDs X = U diag(s) V^T (X m x n, p = min(m, n)) truncated to the top k triplets: U is
/// m x k, s is k x 1 and V (not V^T) is n x k.
[<RequireQualifiedAccess>]
module internal DiffSvd =

    let private build = Matrix<float>.Build

    /// The relative broadening of the adjoint's singular-value gaps: 1/(s_j^2 - s_i^2) becomes
    /// (s_j^2 - s_i^2) / ((s_j^2 - s_i^2)^2 + (beta s_1^2)^2), and 1/s_i becomes s_i / (s_i^2 + (beta s_1)^2).
    /// A gap wider than 1e3 beta s_1^2 changes by less than a relative 1e-6, and so does 1/s_i for s_i above
    /// 1e3 beta s_1; a singular value of 0 (rank-deficient X) contributes 0 instead of infinity, while equal or
    /// nearly equal singular values (where the exact adjoint divides by zero, the NaN gradients reported to PyTorch
    /// and JAX) give a bounded term. For a loss invariant to rotations within a degenerate singular subspace, as the
    /// SCW losses are, the numerator vanishes there, so the broadening costs nothing. (The Lorentzian broadening of
    /// Liao, Liu, Wang and Xiang, "Differentiable Programming Tensor Networks", PRX 2019.)
    [<Literal>]
    let Broadening = 1e-9

    /// The top-k triplets by LAPACK's thin SVD, with the analytic adjoint of Townsend (2016):
    /// dX = U [ (F o (U^T dU - dU^T U)) S + diag(ds) + S (F o (V^T dV - dV^T V)) ] V^T
    ///      + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T),
    /// F_ij = 1/(s_j^2 - s_i^2) off the diagonal, over all p triplets with the adjoints of the dropped p - k set to
    /// 0 (truncation). The formula is linear in (dU, ds, dV), so each output carries its own part. Cost: the SVD,
    /// O(m n p), plus O((m + n) p^2) per output in the reverse sweep.
    let private exactOf (svd: Dense.ThinSvd) (k: int) (x: Node) : Node * Node * Node =
        let m, n = x.Value.RowCount, x.Value.ColumnCount
        let p = min m n

        if k < 1 || k > p then
            raise (
                ArgumentOutOfRangeException(nameof k, k, $"Expected 1 <= k <= {p} for a {Guard.shape x.Value} matrix.")
            )

        let u, s, v = svd.U, svd.S, Dense.transpose svd.Vt
        let top = if p = 0 then 0.0 else s[0] * s[0]
        let gap = Broadening * top
        let floor = Double.Epsilon

        let f =
            build.Dense(
                p,
                p,
                fun i j ->
                    if i = j then
                        0.0
                    else
                        let d = s[j] * s[j] - s[i] * s[i]
                        d / (d * d + gap * gap + floor)
            )

        let inverse =
            s |> Array.map (fun x -> x / (x * x + Broadening * Broadening * top + floor))

        let sigma = build.DiagonalOfDiagonalArray s
        let sigmaInverse = build.DiagonalOfDiagonalArray inverse

        let pad (g: Matrix<float>) =
            if k = p then
                g
            else
                let full = build.Dense(g.RowCount, p)
                full.SetSubMatrix(0, 0, g)
                full

        let antisymmetric (basis: Matrix<float>) (adjoint: Matrix<float>) =
            let product = Dense.gemm true basis false adjoint
            f.PointwiseMultiply(product - product.Transpose())

        // U core V^T for a p x p core.
        let sandwich (core: Matrix<float>) =
            Dense.multiply u (Dense.gemm false core true v)

        let output value reverse = Diff.record value [ x ] reverse

        let uNode =
            output (u.SubMatrix(0, m, 0, k)) (fun g ->
                let du = pad g
                let projected = du - Dense.multiply u (Dense.gemm true u false du)

                x.Accumulate(
                    sandwich (antisymmetric u du * sigma)
                    + Dense.gemm false (projected * sigmaInverse) true v
                ))

        let sNode =
            output (build.Dense(k, 1, s[.. k - 1])) (fun g ->
                let ds = Array.init p (fun i -> if i < k then g[i, 0] else 0.0)
                x.Accumulate(sandwich (build.DiagonalOfDiagonalArray ds)))

        let vNode =
            output (v.SubMatrix(0, n, 0, k)) (fun g ->
                let dv = pad g
                let projected = dv - Dense.multiply v (Dense.gemm true v false dv)

                x.Accumulate(
                    sandwich (sigma * antisymmetric v dv)
                    + Dense.gemm false (u * sigmaInverse) true projected
                ))

        uNode, sNode, vNode

    /// exactOf with X's SVD computed here.
    let exact (k: int) (x: Node) = exactOf (Dense.thinSvd x.Value) k x

    /// Algorithm 2 of Indyk, Vakilian and Yuan (NeurIPS 2019), recorded operation by operation so that the reverse
    /// sweep runs back through every power iteration and deflation. The start vectors are Gaussian from
    /// System.Random(seed). Cost: k T products with X and X^T forward, the same again backward, and O(k T) tape
    /// nodes. A deflated X that reaches 0 gives a division by zero, which surfaces as a non-finite value.
    let powerMethod (iterations: int) (seed: int) (k: int) (x: Node) : Node * Node * Node =
        let m, n = x.Value.RowCount, x.Value.ColumnCount

        if k < 1 || k > min m n then
            raise (
                ArgumentOutOfRangeException(
                    nameof k,
                    k,
                    $"Expected 1 <= k <= {min m n} for a {Guard.shape x.Value} matrix."
                )
            )

        if iterations < 1 then
            raise (ArgumentOutOfRangeException(nameof iterations, iterations, "Expected at least one power iteration."))

        let random = Random(seed)

        let norm (a: Node) = Diff.sqrt (Diff.squaredNorm a)

        let triplets =
            ((x, []), [ 1..k ])
            ||> List.fold (fun (a, found) _ ->
                let start = build.Dense(n, 1, fun _ _ -> Dense.standardNormal random)
                let mutable v = Diff.constant (start / start.L2Norm())

                for _ in 1..iterations do
                    let w = Diff.mul true a false (Diff.mul false a false v)
                    v <- Diff.scaleBy (Diff.reciprocal (norm w)) w

                let av = Diff.mul false a false v
                let sigma = norm av
                let u = Diff.scaleBy (Diff.reciprocal sigma) av
                let deflated = Diff.sub a (Diff.scaleBy sigma (Diff.mul false u true v))
                deflated, (u, sigma, v) :: found)
            |> snd
            |> List.rev

        let pick f = triplets |> List.map f

        Diff.stackColumns (pick (fun (u, _, _) -> u)),
        Diff.stackRows (pick (fun (_, s, _) -> s)),
        Diff.stackColumns (pick (fun (_, _, v) -> v))

    /// The top-k triplets by the chosen method; `seed` drives the power method's start vectors.
    let top (method: SvdMethod) (seed: int) (k: int) (x: Node) =
        match method with
        | SvdMethod.Exact -> exact k x
        | SvdMethod.PowerMethod iterations -> powerMethod iterations seed k x

    /// The r triplets of X above its numerical-rank threshold (Svd.numericalRank's), by the chosen method, or None
    /// when r = 0. One LAPACK SVD decides r and, for Exact, is the SVD that is differentiated.
    let aboveRank (method: SvdMethod) (seed: int) (x: Node) =
        let svd = Dense.thinSvd x.Value
        let r = Dense.numericalRankOf x.Value.RowCount x.Value.ColumnCount svd.S

        if r = 0 then
            None
        else
            match method with
            | SvdMethod.Exact -> Some(exactOf svd r x)
            | SvdMethod.PowerMethod iterations -> Some(powerMethod iterations seed r x)
