namespace LowRank.Core

open System
open MathNet.Numerics.LinearAlgebra

/// A compressed layer A~ = Left Right (n x k times k x d) with the objective its method minimised.
[<NoComparison; NoEquality>]
type CompressedLayer = {
    /// "data-aware", "data-and-weights" or "two-sided".
    Method: string
    /// n x k.
    Left: Matrix<float>
    /// k x d.
    Right: Matrix<float>
    /// The minimised objective at the result: ||C_l^(1/2) (A - A~) R||_F (R = I for data-aware, diag(g) for
    /// data-and-weights, G_l^(1/2) for two-sided).
    Objective: float
    /// Objective divided by its value at A~ = 0, ||C_lambda^(1/2) A D||_F (0 when that is 0).
    RelativeObjective: float
    /// The ridge lambda added to C's eigenvalues.
    Ridge: float
} with

    /// The rank k.
    member this.Rank = this.Left.ColumnCount

    /// Numbers stored: (n + d) k.
    member this.Parameters =
        (this.Left.RowCount + this.Right.ColumnCount) * this.Left.ColumnCount

    /// The dense n x d approximation, O(n d k).
    member this.ToMatrix() : Matrix<float> = Dense.multiply this.Left this.Right

/// Compressing a linear layer y = x A (A: inputs n x outputs d, x a row of inputs) to rank k using what the layer sees.
///
/// Objectives, from least to most information:
/// - Wlra with W = 1: ||A - A~||_F, blind to the data ([A]_k).
/// - Wlra with Fisher weights W = sqrt(F): sum F_ab (A - A~)_ab^2, the diagonal second-order estimate of the loss
///   increase (Hsu et al., ICLR 2022). It sees each entry's importance but no correlation between inputs.
/// - dataAware: ||X (A - A~)||_F^2 / N = tr((A - A~)^T C (A - A~)), C = X^T X / N: the mean squared change of the
///   layer's outputs on its training inputs X. It sees the inputs' correlations (most pixels move together), which the
///   diagonal Fisher discards, but treats all outputs alike.
/// - dataAndWeights: ||C^(1/2) (A - A~) D||_F with D = diag(g) an output scale fitted to the Fisher weights, F_ab ~ C_aa
///   g_b^2 (least squares over a for each b): the Kronecker (K-FAC-like) approximation of the Fisher, C (x) diag(g^2),
///   whose diagonal matches the elementwise Fisher's as closely as a product can. This is how elementwise weights and
///   inputs combine here: the inputs give the row-side metric with its correlations, the weights the output side.
/// - twoSided: ||C^(1/2) (A - A~) G^(1/2)||_F with G = E[delta delta^T] the gradient's second moment at the outputs:
///   the Kronecker-factored Fisher C (x) G (K-FAC), which keeps the correlations on both sides.
/// Each has the closed form A~ = C^(-1/2) [C^(1/2) A R]_k R^(-1) (Eckart-Young in the whitened coordinates).
[<RequireQualifiedAccess>]
module Compression =

    /// How far below 0 an eigenvalue of a second moment may fall, relative to the largest, and still count as rounding.
    [<Literal>]
    let private EigenvalueTolerance = 1e-9

    /// C + lambda I's square root and inverse square root through C's eigendecomposition, lambda = ridge tr(C) / n;
    /// negative rounding-level eigenvalues (above -1e-9 lambda_max) count as 0. Rejects a C `name` whose eigenvalues
    /// show it is not a nonzero positive semidefinite matrix: the check costs nothing here, where they are computed.
    let private roots (name: string) (ridge: float) (covariance: Matrix<float>) =
        let n = covariance.RowCount
        let trace = covariance.Diagonal().Sum()
        let lambda = ridge * trace / float n
        let values, vectors = Dense.symmetricEigen covariance
        let top = values[n - 1]

        if not (top > 0.0) then
            raise (
                ArgumentException(
                    $"Expected {name} to be a nonzero positive semidefinite matrix (a second moment X^T X / N), but its largest eigenvalue is {top:G6}.",
                    name
                )
            )

        if values[0] < -EigenvalueTolerance * top then
            raise (
                ArgumentException(
                    $"Expected {name} to be positive semidefinite (eigenvalues >= -{EigenvalueTolerance:G1} times the largest), but its smallest eigenvalue is {values[0]:G6} and its largest {top:G6}.",
                    name
                )
            )

        let s = values |> Array.map (fun e -> sqrt (max e 0.0 + lambda))

        let scaled (f: float -> float) =
            let v = vectors.Clone()
            Dense.scaleColumnsInPlace (s |> Array.map f) v |> ignore
            Dense.gemm false v true vectors

        scaled id, scaled (fun x -> 1.0 / x), lambda

    /// Rejects a covariance `name` that is not finite or not size x size (the layer's `side`), naming it.
    let private checkCovariance (name: string) (size: int) (side: string) (covariance: Matrix<float>) =
        Guard.finiteMatrix name covariance

        if covariance.RowCount <> size || covariance.ColumnCount <> size then
            raise (
                ArgumentException(
                    $"Expected {name} to be {size}x{size} (the layer's {side}), but it is {Guard.shape covariance}.",
                    name
                )
            )

    /// Rejects a second moment `name` that is not symmetric (to 1e-10 of its largest entry), has a negative diagonal
    /// entry or an all-zero diagonal: necessary conditions of a nonzero positive semidefinite matrix, in O(n^2); `roots`
    /// checks the eigenvalues themselves wherever it computes them.
    let private checkSecondMoment (name: string) (size: int) (side: string) (covariance: Matrix<float>) =
        checkCovariance name size side covariance

        let largest =
            Dense.storedValues covariance |> Array.fold (fun m x -> max m (abs x)) 0.0

        for i in 0 .. size - 1 do
            for j in i + 1 .. size - 1 do
                if abs (covariance[i, j] - covariance[j, i]) > 1e-10 * largest then
                    raise (
                        ArgumentException(
                            $"Expected {name} to be symmetric (a second moment X^T X / N), but {name}[{i}, {j}] = {covariance[i, j]:G6} and {name}[{j}, {i}] = {covariance[j, i]:G6}.",
                            name
                        )
                    )

        let diagonal = covariance.Diagonal().ToArray()

        match Array.tryFindIndex (fun x -> x < 0.0) diagonal with
        | Some i ->
            raise (
                ArgumentException(
                    $"Expected {name} to be positive semidefinite, but its diagonal entry {name}[{i}, {i}] = {diagonal[i]:G6} is negative.",
                    name
                )
            )
        | None ->
            if Array.forall (fun x -> x = 0.0) diagonal then
                raise (
                    ArgumentException(
                        $"Expected {name} to be a nonzero positive semidefinite matrix (a second moment X^T X / N), but it is 0.",
                        name
                    )
                )

    /// The checks every method shares; `covarianceName` is the caller's name for the input covariance.
    let private check
        (ridge: float)
        (rank: int)
        (covarianceName: string)
        (covariance: Matrix<float>)
        (layer: Matrix<float>)
        =
        Guard.finiteMatrix (nameof layer) layer
        Guard.rank (nameof rank) rank (nameof layer) layer
        checkSecondMoment covarianceName layer.RowCount "inputs" covariance

        if not (ridge > 0.0 && Double.IsFinite ridge) then
            raise (ArgumentOutOfRangeException(nameof ridge, ridge, $"Expected a finite ridge > 0, but it is {ridge}."))

    /// A~ = C^(-1/2) [C^(1/2) A R]_k R^(-1) for the output-side factor R and its inverse (identity when None).
    let private whitened name covarianceName ridge rank (covariance: Matrix<float>) output (layer: Matrix<float>) =
        let root, inverseRoot, lambda = roots covarianceName ridge covariance
        let z = Dense.multiply root layer

        let z =
            match output with
            | Some(right: Matrix<float>, _) -> Dense.multiply z right
            | None -> z

        let best = Svd.bestRankK rank z

        let right =
            match output with
            | Some(_, inverse) -> Dense.multiply best.Right inverse
            | None -> best.Right

        let objective = Svd.optimalError rank z
        let whole = Norm.frobenius z

        {
            Method = name
            Left = Dense.multiply inverseRoot best.Left
            Right = right
            Objective = objective
            RelativeObjective = (if whole > 0.0 then objective / whole else 0.0)
            Ridge = lambda
        }

    /// <summary>The second-moment matrix C = X^T X / N of a layer's inputs X (N x n, an example per row).</summary>
    /// <param name="inputs">X, finite.</param>
    /// <returns>C (n x n), symmetric positive semidefinite; O(N n^2).</returns>
    /// <exception cref="System.ArgumentException">inputs is empty or not finite.</exception>
    [<CompiledName("InputCovariance")>]
    let inputCovariance (inputs: Matrix<float>) =
        Guard.finiteMatrix (nameof inputs) inputs
        Dense.gemm true inputs false inputs / float inputs.RowCount

    /// <summary>Data-aware compression: the rank-k A~ minimising tr((A - A~)^T (C + lambda I) (A - A~)), i.e. the mean
    /// squared change ||X (A - A~)||_F^2 / N of the layer's outputs on its inputs, plus lambda ||A - A~||_F^2. Closed form
    /// A~ = C_l^(-1/2) [C_l^(1/2) A]_k with C_l = C + lambda I.</summary>
    /// <param name="ridge">lambda relative to C's mean eigenvalue tr(C)/n, &gt; 0 (1e-4 is a good default): it makes C_l
    /// invertible when C is singular (inputs that are always 0, or fewer examples than inputs), where A~ then keeps A's
    /// component shrunk instead of dividing by 0.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="covariance">C = X^T X / N (n x n), from inputCovariance.</param>
    /// <param name="layer">A (n x d), inputs by outputs.</param>
    /// <returns>Rank-k factors with the objective's value; O(n^3 + n^2 d) (an eigendecomposition of C and an SVD).
    /// </returns>
    /// <exception cref="System.ArgumentException">a matrix is empty or not finite, or covariance is not n x n, not
    /// symmetric (to 1e-10 of its largest entry), zero, or not positive semidefinite (an eigenvalue below -1e-9 times the
    /// largest).</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank or ridge is out of range.</exception>
    /// <example>
    /// <code lang="fsharp">
    /// let inputs = Matrix&lt;float&gt;.Build.Random(5000, 784, 1) // N examples of the layer's n inputs
    /// let layer = Matrix&lt;float&gt;.Build.Random(784, 128, 2) // A, inputs x outputs
    /// let compressed = Compression.dataAware 1e-4 20 (Compression.inputCovariance inputs) layer
    /// let approximation = compressed.ToMatrix() // Left Right, rank 20
    /// </code>
    /// </example>
    [<CompiledName("DataAware")>]
    let dataAware (ridge: float) (rank: int) (covariance: Matrix<float>) (layer: Matrix<float>) =
        check ridge rank (nameof covariance) covariance layer
        whitened "data-aware" (nameof covariance) ridge rank covariance None layer

    /// <summary>Compression with both the inputs' covariance and elementwise (Fisher) weights: the rank-k A~ minimising
    /// ||C_l^(1/2) (A - A~) diag(g)||_F, with g_b^2 the least-squares fit of F_ab ~ C_aa g_b^2 for F = W^2 (the
    /// Kronecker approximation of the elementwise Fisher with the inputs' correlations kept). Closed form
    /// A~ = C_l^(-1/2) [C_l^(1/2) A diag(g)]_k diag(g)^(-1).</summary>
    /// <param name="ridge">As for dataAware; it also floors g_b^2 at ridge times its largest value, so that an output
    /// with no weight stays finite.</param>
    /// <param name="rank">k.</param>
    /// <param name="covariance">C (n x n).</param>
    /// <param name="weights">W (n x d), the elementwise weights (e.g. the square root of the empirical Fisher).</param>
    /// <param name="layer">A (n x d).</param>
    /// <returns>Rank-k factors; O(n^3 + n^2 d).</returns>
    /// <exception cref="System.ArgumentException">as for dataAware, or weights differ in shape.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank or ridge is out of range.</exception>
    [<CompiledName("DataAndWeights")>]
    let dataAndWeights
        (ridge: float)
        (rank: int)
        (covariance: Matrix<float>)
        (weights: Weights)
        (layer: Matrix<float>)
        =
        check ridge rank (nameof covariance) covariance layer
        WeightColumns.requireShapeOf (nameof layer) layer weights
        let n, d = WeightColumns.shape weights

        let diagonal = covariance.Diagonal().ToArray()
        let denominator = diagonal |> Array.sumBy (fun c -> c * c)
        let column = Array.zeroCreate<float> n

        let g2 =
            Array.init d (fun j ->
                WeightColumns.into weights j column
                let mutable sum = 0.0

                for a in 0 .. n - 1 do
                    sum <- sum + column[a] * column[a] * diagonal[a]

                if denominator > 0.0 then sum / denominator else 1.0)

        let top = Array.max g2
        let floor = if top > 0.0 then ridge * top else 1.0
        let g = g2 |> Array.map (fun x -> sqrt (max x floor))

        let diagonal (values: float[]) =
            Matrix<float>.Build.DenseOfDiagonalArray values

        whitened
            "data-and-weights"
            (nameof covariance)
            ridge
            rank
            covariance
            (Some(diagonal g, diagonal (Array.map (fun x -> 1.0 / x) g)))
            layer

    /// <summary>Compression with the Kronecker-factored Fisher (K-FAC; Martens and Grosse 2015): the rank-k A~ minimising
    /// ||C_l^(1/2) (A - A~) G_l^(1/2)||_F^2 = E[(x (A - A~) delta^T)^2]-style second-order estimate of the loss increase,
    /// with C the inputs' second moment and G = E[delta delta^T] the second moment of the loss gradient at the layer's
    /// outputs (Mlp.outputGradientCovariance), both ridged as in dataAware. Closed form
    /// A~ = C_l^(-1/2) [C_l^(1/2) A G_l^(1/2)]_k G_l^(-1/2). Of the objectives here it is the only one that sees both the
    /// inputs' correlations and which outputs the loss is sensitive to, and the one LowRank recommends for compressing a
    /// layer when gradients are at hand (EXPERIMENTS.md, "Compressing a Fisher-weighted layer").</summary>
    /// <param name="ridge">lambda relative to each covariance's mean eigenvalue, &gt; 0 (1e-4 is a good default).</param>
    /// <param name="rank">k.</param>
    /// <param name="inputCovariance">C (n x n).</param>
    /// <param name="outputCovariance">G (d x d), symmetric positive semidefinite.</param>
    /// <param name="layer">A (n x d).</param>
    /// <returns>Rank-k factors; O(n^3 + d^3 + n^2 d).</returns>
    /// <exception cref="System.ArgumentException">a matrix is empty or not finite, or a covariance has the wrong shape or
    /// is not a second moment (as for dataAware).</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank or ridge is out of range.</exception>
    [<CompiledName("TwoSided")>]
    let twoSided
        (ridge: float)
        (rank: int)
        (inputCovariance: Matrix<float>)
        (outputCovariance: Matrix<float>)
        (layer: Matrix<float>)
        =
        check ridge rank (nameof inputCovariance) inputCovariance layer
        checkSecondMoment (nameof outputCovariance) layer.ColumnCount "outputs" outputCovariance
        let root, inverseRoot, _ = roots (nameof outputCovariance) ridge outputCovariance

        {
            whitened "two-sided" (nameof inputCovariance) ridge rank inputCovariance (Some(root, inverseRoot)) layer with
                Method = "two-sided"
        }

    /// <summary>The squared singular values of C_l^(1/2) A, descending (min(n, d) of them): sigma_(i+1)^2 is the
    /// decrease of dataAware's squared objective when the rank goes from i to i + 1, so the whitened spectrum predicts a
    /// layer's output error at every rank before any rank is chosen (ModelBudget.allocate ranks layers by it).</summary>
    /// <param name="ridge">lambda relative to tr(C)/n, &gt; 0, as for dataAware.</param>
    /// <param name="covariance">C = X^T X / N (n x n).</param>
    /// <param name="layer">A (n x d), inputs by outputs.</param>
    /// <returns>sigma_1^2 &gt;= ... &gt;= sigma_min(n,d)^2 &gt;= 0; their sum is tr(A^T C_l A). O(n^3 + n^2 d).</returns>
    /// <exception cref="System.ArgumentException">a matrix is empty or not finite, or covariance is not n x n, not
    /// symmetric (to 1e-10 of its largest entry), zero, or not positive semidefinite (an eigenvalue below -1e-9 times the
    /// largest).</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">ridge is out of range.</exception>
    [<CompiledName("WhitenedSpectrum")>]
    let whitenedSpectrum (ridge: float) (covariance: Matrix<float>) (layer: Matrix<float>) =
        check ridge 1 (nameof covariance) covariance layer
        let root, _, _ = roots (nameof covariance) ridge covariance
        Dense.singularValues (Dense.multiply root layer) |> Array.map (fun s -> s * s)

    /// <summary>Sequential (output-matching) compression of a layer whose inputs have already changed: the rank-k A~
    /// minimising ||X A - X' A~||_F^2 / N + lambda ||A - A~||_F^2, where X are the layer's inputs in the original model and
    /// X' the same positions' inputs in the model whose earlier layers are already compressed. It targets the original
    /// outputs, so the layer corrects what earlier layers changed instead of passing it on (the idea of SVD-LLM's
    /// parameter update, Wang et al. 2024, section 3.2, in closed form); the ridge pulls toward A where the data say
    /// nothing. With C' = X'^T X' / N, M = X'^T X / N and C'_l = C' + lambda I, the objective is
    /// const + ||C'_l^(1/2) A~ - Z||_F^2 with Z = C'_l^(-1/2) (M + lambda I) A, so A~ = C'_l^(-1/2) [Z]_k (Eckart-Young).
    /// When X' = X it is dataAware exactly.</summary>
    /// <param name="ridge">lambda relative to tr(C')/n, &gt; 0 (1e-4 is a good default).</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="covariance">C = X^T X / N (n x n), the original inputs' second moment.</param>
    /// <param name="shiftedCovariance">C' = X'^T X' / N (n x n).</param>
    /// <param name="crossCovariance">M = X'^T X / N (n x n; not symmetric in general).</param>
    /// <param name="layer">A (n x d).</param>
    /// <returns>Rank-k factors; Objective = ||X A - X' A~||_F / sqrt(N) (without the ridge term) computed from the three
    /// moments and the factors, RelativeObjective its ratio to ||X A||_F / sqrt(N). O(n^3 + n^2 d).</returns>
    /// <exception cref="System.ArgumentException">a matrix is empty or not finite, a moment is not n x n, or C or C' is not
    /// a second moment (as for dataAware; C's eigenvalues are not computed, so only its symmetry and diagonal are
    /// checked).</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank or ridge is out of range.</exception>
    [<CompiledName("MatchOutputs")>]
    let matchOutputs
        (ridge: float)
        (rank: int)
        (covariance: Matrix<float>)
        (shiftedCovariance: Matrix<float>)
        (crossCovariance: Matrix<float>)
        (layer: Matrix<float>)
        =
        check ridge rank (nameof shiftedCovariance) shiftedCovariance layer
        checkSecondMoment (nameof covariance) layer.RowCount "inputs" covariance
        checkCovariance (nameof crossCovariance) layer.RowCount "inputs" crossCovariance

        let _, inverseRoot, lambda =
            roots (nameof shiftedCovariance) ridge shiftedCovariance

        let target = Dense.multiply crossCovariance layer // M A
        let best = Svd.bestRankK rank (Dense.multiply inverseRoot (target + lambda * layer))
        let left = Dense.multiply inverseRoot best.Left
        // ||X A - X' B||^2 / N = tr(A^T C A) - 2 tr(B^T M A) + tr(B^T C' B), with B = Left Right kept factored.
        let original = Dense.gemm true layer false (Dense.multiply covariance layer)
        let projected = Dense.gemm true left false target // Left^T M A (k x d)
        let kept = Dense.gemm true left false (Dense.multiply shiftedCovariance left) // Left^T C' Left (k x k)
        let rightGram = Dense.gemm false best.Right true best.Right

        let cross = (projected.PointwiseMultiply best.Right).RowSums().Sum()

        let whole = original.Diagonal().Sum()

        let squared =
            whole - 2.0 * cross + (kept.PointwiseMultiply rightGram).RowSums().Sum()

        let objective = sqrt (max squared 0.0)

        {
            Method = "sequential"
            Left = left
            Right = best.Right
            Objective = objective
            RelativeObjective = (if whole > 0.0 then objective / sqrt whole else 0.0)
            Ridge = lambda
        }

    /// <summary>Row-weighted compression of a table (an embedding): the rank-k A~ minimising ||D (A - A~)||_F with
    /// D = diag(w), w &gt;= 0 a weight per row, e.g. sqrt of each token's frequency. These are rank-one weights
    /// W = w 1^T, for which Woodruff and Yasuda's svd_w, W^(o-1) o [W o A]_k, is optimal (Theorem 1.2 with r = 1):
    /// D^(-1) [D A]_k = D^(-1) D A V_k V_k^T = A V_k V_k^T with V_k the top right singular vectors of D A. That form
    /// needs no division, so rows of weight 0 (tokens never seen in calibration) are kept too: projected onto the
    /// subspace the weighted rows chose, the limit of svd_w as their weight goes to 0.</summary>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="rowWeights">w (n of them), finite, &gt;= 0, not all 0.</param>
    /// <param name="layer">A (n x d), a row per token.</param>
    /// <returns>Left = A V_k (n x k), Right = V_k^T; Objective = ||D (A - A~)||_F, RelativeObjective its ratio to
    /// ||D A||_F, Ridge 0. O(n d min(n, d)).</returns>
    /// <exception cref="System.ArgumentException">layer is empty or not finite, or the weights are negative, not finite,
    /// all 0 or not n of them.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank is out of range.</exception>
    [<CompiledName("RowWeighted")>]
    let rowWeighted (rank: int) (rowWeights: float[]) (layer: Matrix<float>) =
        Guard.notNull (nameof rowWeights) rowWeights
        Guard.finiteMatrix (nameof layer) layer
        Guard.rank (nameof rank) rank (nameof layer) layer

        if rowWeights.Length <> layer.RowCount then
            raise (
                ArgumentException(
                    $"Expected {layer.RowCount} row weights (one per row of layer), but there are {rowWeights.Length}.",
                    nameof rowWeights
                )
            )

        Guard.nonNegativeFinite (nameof rowWeights) (nameof rowWeights) "row weights" rowWeights

        if rowWeights |> Array.forall (fun w -> w = 0.0) then
            raise (ArgumentException("Expected a positive row weight, but every row weight is 0.", nameof rowWeights))

        let svd = Dense.thinSvd (layer.MapIndexed(fun i _ x -> rowWeights[i] * x))
        let right = svd.Vt.SubMatrix(0, rank, 0, layer.ColumnCount)
        let objective = svd.S |> Array.skip rank |> Dense.twoNorm
        let whole = Dense.twoNorm svd.S

        {
            Method = "row-weighted"
            Left = Dense.gemm false layer true right
            Right = right
            Objective = objective
            RelativeObjective = (if whole > 0.0 then objective / whole else 0.0)
            Ridge = 0.0
        }
