namespace LowRank.Core

open System
open System.Threading
open MathNet.Numerics.LinearAlgebra

/// The nonzeros of a sparse n x d matrix by column (compressed sparse columns): column j's entries are
/// Rows[ColumnStarts[j] .. ColumnStarts[j + 1] - 1] with their Values, rows ascending.
[<NoComparison; NoEquality>]
type internal SparseColumns = {
    RowCount: int
    ColumnStarts: int[]
    Rows: int[]
    Values: float[]
}

/// One block of a block-diagonal mask: W is 1 on rows RowStart .. RowStart + RowCount - 1 times columns
/// ColumnStart .. ColumnStart + ColumnCount - 1, and 0 outside every block.
[<NoComparison; NoEquality>]
type internal MaskBlock = {
    RowStart: int
    RowCount: int
    ColumnStart: int
    ColumnCount: int
}

/// Nonnegative weights W (n x d) for weighted low-rank approximation: dense, low rank in factored form W = L R (L n x r,
/// R r x d; a rank-one w u^T is the r = 1 case), a block-diagonal 0/1 mask, or low rank plus sparse W = L R + S.
/// Build them with the Weights module. Only dense weights hold an n x d matrix: the others are applied from their
/// structure (Woodruff and Yasuda 2024, Lemma A.1: W o A and its products never need W itself).
[<NoComparison; NoEquality>]
type Weights =
    internal
    | DenseWeights of Matrix<float>
    | FactoredWeights of left: Matrix<float> * right: Matrix<float>
    | BlockMask of rows: int * columns: int * blocks: MaskBlock[]
    | LowRankPlusSparse of left: Matrix<float> * right: Matrix<float> * sparse: SparseColumns

/// Weights read column by column from their structure, so that no n x d matrix of weights is ever formed for
/// factored, block-mask or low-rank-plus-sparse weights (Woodruff and Yasuda 2024, Lemma A.1).
module internal WeightColumns =

    /// (n, d).
    let shape (weights: Weights) =
        match weights with
        | DenseWeights w -> w.RowCount, w.ColumnCount
        | FactoredWeights(left, right)
        | LowRankPlusSparse(left, right, _) -> left.RowCount, right.ColumnCount
        | BlockMask(rows, columns, _) -> rows, columns

    /// Rejects null weights, or weights whose shape differs from the matrix `matrixName`'s, naming "weights".
    let requireShapeOf (matrixName: string) (matrix: Matrix<float>) (weights: Weights) =
        Guard.notNull "weights" weights
        let n, d = shape weights

        if n <> matrix.RowCount || d <> matrix.ColumnCount then
            raise (
                ArgumentException(
                    $"Expected weights to have the shape of {matrixName} ({Guard.shape matrix}), but weights is {n}x{d}.",
                    "weights"
                )
            )

    /// Column j of L R into `into` (overwritten): O(n r).
    let private lowRankColumn (left: Matrix<float>) (right: Matrix<float>) (j: int) (into: float[]) =
        Array.Clear into
        let n = left.RowCount
        let l = left.AsColumnMajorArray()

        for q in 0 .. left.ColumnCount - 1 do
            let r = right[q, j]

            if r <> 0.0 then
                match l with
                | null ->
                    for i in 0 .. n - 1 do
                        into[i] <- into[i] + left[i, q] * r
                | l ->
                    let offset = q * n

                    for i in 0 .. n - 1 do
                        into[i] <- into[i] + l[offset + i] * r

    /// Column j of W into `into` (length n, overwritten): O(n) dense, O(n r) factored, O(n + nnz) otherwise.
    let into (weights: Weights) (j: int) (into: float[]) =
        match weights with
        | DenseWeights w ->
            for i in 0 .. into.Length - 1 do
                into[i] <- w[i, j]
        | FactoredWeights(left, right) -> lowRankColumn left right j into
        | LowRankPlusSparse(left, right, sparse) ->
            lowRankColumn left right j into

            for p in sparse.ColumnStarts[j] .. sparse.ColumnStarts[j + 1] - 1 do
                into[sparse.Rows[p]] <- into[sparse.Rows[p]] + sparse.Values[p]
        | BlockMask(_, _, blocks) ->
            Array.Clear into

            for b in blocks do
                if j >= b.ColumnStart && j < b.ColumnStart + b.ColumnCount then
                    Array.Fill(into, 1.0, b.RowStart, b.RowCount)

    /// f applied to every column j of x with column j of W: x[:, j] <- f w_j x[:, j], in place on a dense copy of x.
    let private mapColumns (f: float -> float -> float) (weights: Weights) (x: Matrix<float>) =
        let n, d = x.RowCount, x.ColumnCount
        let result = Matrix<float>.Build.Dense(n, d)
        let values = result.AsColumnMajorArray()
        x.CopyTo result
        let w = Array.zeroCreate<float> n

        for j in 0 .. d - 1 do
            into weights j w

            for i in 0 .. n - 1 do
                values[j * n + i] <- f w[i] values[j * n + i]

        result

    /// W o X without forming W. A sparse X gives a sparse result over X's nonzeros; a dense X a dense result. O(n d r)
    /// for factored weights (O(nnz(X) r) when X is sparse), O(n d) for the others.
    let hadamard (weights: Weights) (x: Matrix<float>) : Matrix<float> =
        match weights, x.Storage with
        | DenseWeights w, _ -> w.PointwiseMultiply x
        | _, (:? Storage.SparseCompressedRowMatrixStorage<float>) ->
            let w = Array.zeroCreate<float> x.RowCount
            let result = Matrix<float>.Build.Sparse(x.RowCount, x.ColumnCount)

            let byColumn =
                x.EnumerateIndexed(Zeros.AllowSkip) |> Seq.groupBy (fun struct (_, j, _) -> j)

            for j, entries in byColumn do
                into weights j w

                for struct (i, _, value) in entries do
                    result[i, j] <- w[i] * value

            result
        | _ -> mapColumns (fun w value -> w * value) weights x

    /// X / max(W, floor) entrywise with 1/0 taken as 0 (the reweighting W^(o+) o X, with positive weights below
    /// `floor` raised to it), without forming W.
    let divide (floor: float) (weights: Weights) (x: Matrix<float>) : Matrix<float> =
        mapColumns (fun w value -> if w > 0.0 then value / max w floor else 0.0) weights x

    /// The largest weight, read a column at a time: O(n d r) for factored weights, O(n d) otherwise.
    let maximum (weights: Weights) =
        let n, d = shape weights
        let column = Array.zeroCreate<float> n
        let mutable top = 0.0

        for j in 0 .. d - 1 do
            into weights j column

            for i in 0 .. n - 1 do
                top <- max top column[i]

        top

/// How a weighted approximation turns its low-rank part Left Right into the approximation of A.
[<RequireQualifiedAccess; NoComparison; NoEquality>]
type Reweighting =
    /// The approximation is Left Right itself.
    | None
    /// The approximation is W^(o+) o (Left Right): entrywise division by the weights, with 1/0 taken as 0, so it is 0
    /// wherever W is 0 (Woodruff and Yasuda 2024, Algorithm 1). Positive weights below `floor` (0: none) divide as
    /// `floor` (WlraOptions.WeightFloor), which bounds the amplification of tiny weights.
    | DivideByWeights of weights: Weights * floor: float
    /// The approximation is (P Q) o (Left Right), P Q a low-rank approximation of W^(o+) (Algorithm 2).
    | MultiplyBy of p: Matrix<float> * q: Matrix<float>

/// The result of a weighted low-rank approximation algorithm.
[<NoComparison; NoEquality>]
type WeightedApproximation = {
    /// The algorithm: "svd", "svd_w", "svd_w practical", "em", "em_w", "als", "adam", "greedy", "sample", "css".
    Method: string
    /// n x t left factor of the low-rank part.
    Left: Matrix<float>
    /// t x d right factor of the low-rank part.
    Right: Matrix<float>
    /// How Left Right becomes the approximation.
    Reweighting: Reweighting
    /// ||W o (A - approximation)||_F.
    Loss: float
    /// The numbers stored: (n + d) t for the low-rank part, plus the reweighting's own factors (Algorithm 2's P and Q).
    /// W, dense or factored, is the problem's input, which the caller holds, and is not counted (reconstructing a
    /// reweighted approximation reads it).
    Parameters: int
    /// Iterations run (1 for one-shot methods; the rank for greedy).
    Iterations: int
    /// Whether the stopping rule was met before the iteration limit (always true for one-shot methods).
    Converged: bool
    /// The loss after each iteration, for convergence plots; one entry for one-shot methods.
    LossHistory: float[]
    /// r, the weights' rank that svd_w and the methods built on it (practical svd_w, sample, css, em_w's start)
    /// multiplied k by; 0 for the other methods, and for a total rank given directly.
    WeightRank: int
    /// Why r (or the total rank) is what it is, in one sentence; empty for methods that do not choose one.
    RankChoice: string
    /// max |A~_ij| / max |A_ij|: how far the approximation's entries reach beyond A's (0 when both are 0). Dividing by
    /// tiny weights can make it large where those weights leave A~ unconstrained.
    Amplification: float
} with

    /// The rank t of the low-rank part.
    member this.Rank = this.Left.ColumnCount

    /// Forms the dense n x d approximation in O(n d t).
    member this.ToMatrix() : Matrix<float> =
        let product =
            if this.Rank = 0 then
                Matrix<float>.Build.Dense(this.Left.RowCount, this.Right.ColumnCount)
            else
                Dense.multiply this.Left this.Right

        match this.Reweighting with
        | Reweighting.None -> product
        | Reweighting.DivideByWeights(weights, floor) -> WeightColumns.divide floor weights product
        | Reweighting.MultiplyBy(p, q) -> product.PointwiseMultiply(Dense.multiply p q)

/// One iteration of an iterative weighted method (em, em_w, als, adam, greedy), reported to its progress argument.
[<NoComparison; NoEquality>]
type WlraProgress = {
    /// The method, as in WeightedApproximation.Method.
    Method: string
    /// Iterations done, from 1.
    Iteration: int
    /// The iteration limit.
    Limit: int
    /// The weighted loss after this iteration.
    Loss: float
}

/// Options of the weighted algorithms; each algorithm reads the fields it uses.
[<NoComparison; NoEquality>]
type WlraOptions = {
    /// Iteration limit of em, em_w and als (and of the als fit of 1/W in practical svd_w); adam uses AdamSteps.
    /// Default 25.
    MaxIterations: int
    /// Stop when the loss decreases by less than Tolerance times itself in one iteration. Default 1e-6.
    Tolerance: float
    /// als's ridge term lambda, relative to max W_ij^2. Default 1e-8.
    Ridge: float
    /// adam's learning rate, relative to the root-mean-square entry of A. Default 1e-2.
    LearningRate: float
    /// Seed of the randomised parts (sample, adam's noise-free start is deterministic). Default 0.
    Seed: int
    /// sample's number of sampled rows; 0 chooses 4 t log(t + 1) + 10 for total rank t. Default 0.
    Samples: int
    /// em's starting point (n x d); None starts from [A]_k (a zero matrix starts from 0). em_w sets it from svd_w.
    WarmStart: Matrix<float> option
    /// adam's number of steps (MaxIterations bounds em, em_w and als). Default 500.
    AdamSteps: int
    /// r for svd_w and the methods built on it: a given r sets the total rank t = r k (as Bicriteria, with this r);
    /// 0 chooses it when Bicriteria asks for r k (see EnergyFraction). Default 0.
    WeightRank: int
    /// When r is chosen and W's rank r_W has r_W k &lt;= min(n, d), r = r_W (Theorem 1.2 holds); otherwise r is the
    /// smallest whose rank-r approximation of W holds this fraction of ||W||_F^2, at most min(n, d) / k. Default 0.99.
    EnergyFraction: float
    /// svd_w's total rank t directly, overriding the budget and r k; 0 for neither. Default 0.
    TotalRank: int
    /// Positive weights below WeightFloor max W divide as if they were that large (0 = exact division). A floor f
    /// bounds |A~| by |W o A| / (f max W) where a weight is tiny, at the price of a higher loss there. Default 0.
    WeightFloor: float
    /// The storage budget, in numbers, of svd_w, practical svd_w and sample when neither TotalRank, WeightRank nor
    /// Bicriteria sets their total rank t: t is then the largest whose storage (WeightedApproximation.Parameters) fits
    /// it. 0 stands for k (n + d), what rank-k factors store, so that every method is compared at equal storage.
    /// Default 0.
    Parameters: int64
    /// svd_w, practical svd_w and sample at total rank t = r k, r chosen as WeightRank and EnergyFraction say: the
    /// bicriteria form of Theorem 1.2 (Woodruff and Yasuda 2024), whose loss is at most the best rank-k loss when W has
    /// rank r, at r times the storage of rank-k factors. Default false (the budget rule of Parameters).
    Bicriteria: bool
} with

    /// MaxIterations 25, Tolerance 1e-6, Ridge 1e-8, LearningRate 1e-2, Seed 0, Samples 0, no warm start (em starts
    /// from [A]_k), AdamSteps 500, r chosen with EnergyFraction 0.99 (when asked for), no total rank, no weight floor,
    /// the budget k (n + d), no bicriteria rank.
    static member Default = {
        MaxIterations = 25
        Tolerance = 1e-6
        Ridge = 1e-8
        LearningRate = 1e-2
        Seed = 0
        Samples = 0
        WarmStart = None
        AdamSteps = 500
        WeightRank = 0
        EnergyFraction = 0.99
        TotalRank = 0
        WeightFloor = 0.0
        Parameters = 0L
        Bicriteria = false
    }

/// Builds weights for weighted low-rank approximation.
[<RequireQualifiedAccess>]
module Weights =

    /// Rejects structured weights with a negative entry or with no positive one, reading W a column at a time
    /// (O(n d r) time, O(n) memory). `parameter` is the argument named in the message, `what` the expression shown.
    let private checkNonnegative (parameter: string) (what: string) (weights: Weights) =
        let n, d = WeightColumns.shape weights
        let column = Array.zeroCreate<float> n
        let mutable positive = false

        for j in 0 .. d - 1 do
            WeightColumns.into weights j column

            for i in 0 .. n - 1 do
                if column[i] < 0.0 then
                    raise (
                        ArgumentException(
                            $"Expected {what} to be nonnegative weights, but its entry [{i}, {j}] = {column[i]}.",
                            parameter
                        )
                    )

                if column[i] > 0.0 then
                    positive <- true

        if not positive then
            raise (ArgumentException($"Expected some positive weight, but {what} is all zero.", parameter))

    /// Rejects factors L (n x r), R (r x d) that are not finite or whose inner dimensions differ.
    let private checkFactors (left: Matrix<float>) (right: Matrix<float>) =
        Guard.finiteMatrix (nameof left) left
        Guard.finiteMatrix (nameof right) right

        if left.ColumnCount <> right.RowCount then
            raise (
                ArgumentException(
                    $"Expected right to have as many rows as left has columns ({left.ColumnCount}), but right is {Guard.shape right}.",
                    nameof right
                )
            )

    /// <summary>Dense weights.</summary>
    /// <param name="weights">W: finite and nonnegative, not all zero. It is copied.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="System.ArgumentNullException">weights is null.</exception>
    /// <exception cref="System.ArgumentException">weights is empty, all zero, or has a negative, NaN or infinite entry.</exception>
    [<CompiledName("FromMatrix")>]
    let ofMatrix (weights: Matrix<float>) =
        Guard.weights (nameof weights) weights (nameof weights) weights

        if Dense.storedValues weights |> Array.forall ((=) 0.0) then
            raise (ArgumentException("Expected some positive weight, but every entry of weights is 0.", nameof weights))

        DenseWeights(weights.Clone())

    /// <summary>Weights in low-rank factored form W = left right, which must be entrywise nonnegative; the rank-one
    /// w u^T is left = w as an n x 1 matrix and right = u^T as 1 x d.</summary>
    /// <param name="left">L (n x r), finite.</param>
    /// <param name="right">R (r x d), finite.</param>
    /// <returns>The weights; svd_w then uses r as the weights' rank without estimating it.</returns>
    /// <exception cref="System.ArgumentNullException">left or right is null.</exception>
    /// <exception cref="System.ArgumentException">the inner dimensions differ, an entry is not finite, or L R has a
    /// negative entry or is all zero.</exception>
    /// <remarks>O(n d r) time and O(n) memory once, to check nonnegativity a column at a time; W itself is never
    /// formed by svd_w, its budget form, sample, column subset selection or the losses, which read it column by column
    /// from the factors. The iterative baselines (em, em_w, als, adam, greedy) and practical svd_w form it once.</remarks>
    [<CompiledName("FromFactors")>]
    let ofFactors (left: Matrix<float>) (right: Matrix<float>) =
        checkFactors left right

        let weights = FactoredWeights(left.Clone(), right.Clone())
        checkNonnegative (nameof right) "left * right" weights
        weights

    /// <summary>The rank-one weights w u^T (for instance Fisher-weighted SVD), for which svd_w is the exact rank-k optimum.</summary>
    /// <param name="rowWeights">w (length n), finite and nonnegative.</param>
    /// <param name="columnWeights">u (length d), finite and nonnegative.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">an array is empty, has a negative or non-finite entry, or is all zero.</exception>
    [<CompiledName("RankOne")>]
    let rankOne (rowWeights: float[]) (columnWeights: float[]) =
        let check name (v: float[]) =
            Guard.notNull name v

            if
                v.Length = 0
                || Array.exists (fun x -> not (Double.IsFinite x) || x < 0.0) v
                || Array.forall ((=) 0.0) v
            then
                let shown =
                    String.Join(", ", Array.truncate 8 v) + (if v.Length > 8 then ", ..." else "")

                raise (
                    ArgumentException(
                        $"Expected {name} to be a nonempty array of finite, nonnegative numbers, not all zero, but it is [{shown}].",
                        name
                    )
                )

        check (nameof rowWeights) rowWeights
        check (nameof columnWeights) columnWeights

        ofFactors
            (Matrix<float>.Build.Dense(rowWeights.Length, 1, rowWeights))
            (Matrix<float>.Build.Dense(1, columnWeights.Length, columnWeights))

    /// <summary>A block-diagonal 0/1 mask: W is 1 on B diagonal blocks and 0 elsewhere, block b covering the next
    /// rowSizes[b] rows and the next columnSizes[b] columns (the first block starts at row 0 and column 0). The weighted
    /// problem then asks for A only on the blocks, for example when rows and columns come in groups that are observed
    /// only together.</summary>
    /// <param name="rowSizes">The blocks' row counts, each &gt;= 1, summing to n.</param>
    /// <param name="columnSizes">The blocks' column counts, each &gt;= 1, summing to d; as many as rowSizes.</param>
    /// <returns>The weights, of rank B. svd_w with them takes one SVD per block and keeps the largest B k singular
    /// triplets over all blocks, O(sum_b n_b d_b min(n_b, d_b)) instead of O(n d min(n, d)), with no n x d weights.
    /// </returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">the arrays are empty, differ in length, or have a size below 1.</exception>
    [<CompiledName("BlockMask")>]
    let blockMask (rowSizes: int[]) (columnSizes: int[]) =
        Guard.notNull (nameof rowSizes) rowSizes
        Guard.notNull (nameof columnSizes) columnSizes

        if rowSizes.Length = 0 || rowSizes.Length <> columnSizes.Length then
            raise (
                ArgumentException(
                    $"Expected as many column sizes as row sizes, at least one, but there are {rowSizes.Length} row sizes and {columnSizes.Length} column sizes.",
                    nameof columnSizes
                )
            )

        for name, sizes in [ nameof rowSizes, rowSizes; nameof columnSizes, columnSizes ] do
            match sizes |> Array.tryFindIndex (fun size -> size < 1) with
            | Some b ->
                raise (ArgumentException($"Expected every block size >= 1, but {name}[{b}] = {sizes[b]}.", name))
            | None -> ()

        let starts (sizes: int[]) = Array.scan (+) 0 sizes

        let rowStarts, columnStarts = starts rowSizes, starts columnSizes

        BlockMask(
            Array.sum rowSizes,
            Array.sum columnSizes,
            Array.init rowSizes.Length (fun b -> {
                RowStart = rowStarts[b]
                RowCount = rowSizes[b]
                ColumnStart = columnStarts[b]
                ColumnCount = columnSizes[b]
            })
        )

    /// <summary>Low rank plus sparse weights W = left right + sparse, for example smooth weights with a few entries
    /// raised or lowered; they must be entrywise nonnegative.</summary>
    /// <param name="left">L (n x r), finite.</param>
    /// <param name="right">R (r x d), finite.</param>
    /// <param name="sparse">S (n x d), finite; only its nonzeros are kept (a MathNet sparse matrix is read without
    /// densifying it).</param>
    /// <returns>The weights. Their rank for svd_w is the bound r + min(rows, columns of S with a nonzero) &gt;= rank(W),
    /// which keeps Theorem 1.2 valid (it needs r k &gt;= rank(W o A') for rank-k A'); use svdWBudget to choose the total
    /// rank directly.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">the shapes disagree, an entry is not finite, or W has a negative
    /// entry or is all zero.</exception>
    /// <remarks>Stores (n + d) r + nnz(S) numbers; checking nonnegativity costs O(n d r + nnz(S)) time and O(n) memory.
    /// </remarks>
    [<CompiledName("LowRankPlusSparse")>]
    let lowRankPlusSparse (left: Matrix<float>) (right: Matrix<float>) (sparse: Matrix<float>) =
        checkFactors left right
        Guard.notNull (nameof sparse) sparse

        if sparse.RowCount <> left.RowCount || sparse.ColumnCount <> right.ColumnCount then
            raise (
                ArgumentException(
                    $"Expected sparse to be {left.RowCount}x{right.ColumnCount} like left * right, but it is {Guard.shape sparse}.",
                    nameof sparse
                )
            )

        let entries =
            sparse.EnumerateIndexed(Zeros.AllowSkip)
            |> Seq.filter (fun struct (_, _, x) -> x <> 0.0)
            |> Seq.toArray
            |> Array.sortBy (fun struct (i, j, _) -> j, i)

        match entries |> Array.tryFind (fun struct (_, _, x) -> not (Double.IsFinite x)) with
        | Some(struct (i, j, x)) ->
            raise (
                ArgumentException($"Expected only finite entries in sparse, but sparse[{i}, {j}] = {x}.", nameof sparse)
            )
        | None -> ()

        let counts = Array.zeroCreate<int>(sparse.ColumnCount + 1)

        for struct (_, j, _) in entries do
            counts[j + 1] <- counts[j + 1] + 1

        let columns = {
            RowCount = sparse.RowCount
            ColumnStarts = Array.scan (+) 0 counts[1..]
            Rows = entries |> Array.map (fun struct (i, _, _) -> i)
            Values = entries |> Array.map (fun struct (_, _, x) -> x)
        }

        let weights = LowRankPlusSparse(left.Clone(), right.Clone(), columns)
        checkNonnegative (nameof sparse) "left * right + sparse" weights
        weights

    /// The dense n x d weights, formed column by column for structured ones: only the baselines that iterate on dense
    /// n x d matrices (em, em_w, als, adam, greedy, practical svd_w) and the protocol call it.
    let internal dense (weights: Weights) =
        match weights with
        | DenseWeights w -> w
        | _ ->
            let n, d = WeightColumns.shape weights
            let w = Matrix<float>.Build.Dense(n, d)
            let values = w.AsColumnMajorArray()
            let column = Array.zeroCreate<float> n

            for j in 0 .. d - 1 do
                WeightColumns.into weights j column
                Array.blit column 0 values (j * n) n

            w

    /// <summary>The rank r that svd_w uses: the factors' inner dimension for factored weights, the number of blocks for
    /// a block mask, the bound r + min(rows, columns of S with a nonzero) for low rank plus sparse, and the numerical
    /// rank of dense weights (Svd.numericalRank's threshold, max(n, d) 2^-52 sigma_1).</summary>
    /// <param name="weights">W.</param>
    /// <returns>r; O(n d min(n, d)) for dense weights, O(nnz) at most otherwise.</returns>
    /// <exception cref="System.ArgumentNullException">weights is null.</exception>
    [<CompiledName("Rank")>]
    let rank (weights: Weights) =
        Guard.notNull (nameof weights) weights

        match weights with
        | FactoredWeights(left, _) -> left.ColumnCount
        | BlockMask(_, _, blocks) -> blocks.Length
        | LowRankPlusSparse(left, _, sparse) ->
            let rows = sparse.Rows |> Array.distinct |> Array.length

            let columns =
                Seq.pairwise sparse.ColumnStarts
                |> Seq.filter (fun (start, stop) -> stop > start)
                |> Seq.length

            left.ColumnCount + min rows columns
        | DenseWeights w -> Dense.singularValues w |> Dense.numericalRankOf w.RowCount w.ColumnCount

/// The result of column subset selection on W o A (Woodruff and Yasuda 2024, Corollary 1.3).
[<NoComparison; NoEquality>]
type ColumnSubset = {
    /// The indices of the selected columns of W o A, in decreasing order of leverage.
    Columns: int[]
    /// Left = (W o A) restricted to Columns (n x c), Right = X (c x d) minimising ||W o A - Left X||_F, reweighted
    /// by W^(o+).
    Approximation: WeightedApproximation
    /// epsilon = t - (sum of the selected columns' rank-t leverage scores), t = r k: how much of the top-t right
    /// singular space the selection misses. When epsilon &lt; 1 the guarantee
    /// ||W o A - C C^+ (W o A)||_F^2 &lt;= (1 + 1/(1 - epsilon)) ||W o A - [W o A]_t||_F^2 holds.
    LeverageDeficit: float
}
