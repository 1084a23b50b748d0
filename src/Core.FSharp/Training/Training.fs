namespace LowRank.Core

open System
open System.Diagnostics
open System.IO
open System.Threading
open MathNet.Numerics.LinearAlgebra

/// The per-matrix loss minimised when a sketch is trained; summed over the mini-batch.
[<RequireQualifiedAccess>]
type TrainingLoss =
    /// ||A - SCW(S, A)||_F, the loss of Indyk, Vakilian and Yuan (NeurIPS 2019, Section 3).
    | Frobenius
    /// ||A - SCW(S, A)||_V = sum of the residual's row 2-norms (Norm.vNorm).
    | VNorm
    /// ||W o (A - SCW(S, A))||_F for an n x d weight matrix W of finite, nonnegative entries.
    | WeightedFrobenius of weights: Matrix<float>

/// The update rule of sketch training.
[<RequireQualifiedAccess>]
type Optimizer =
    /// Plain gradient descent with the step decay of Indyk, Vakilian and Yuan: the rate is multiplied by
    /// DecayFactor every DecayEvery steps while it is above MinimumLearningRate.
    | Sgd
    /// Adam (Kingma and Ba 2015) with beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, bias-corrected.
    | Adam

/// Which sketch training produces (Indyk, Vakilian and Yuan, NeurIPS 2019, Sections 3 and 4).
[<RequireQualifiedAccess>]
type LearnedSketchKind =
    /// All m rows are a CountSketch whose n values are trained; the positions stay those of the random start.
    | Learned
    /// Mixed (J): floor(m/2) trained rows stacked over m - floor(m/2) random CountSketch rows that stay fixed; the
    /// training sees the whole stacked sketch.
    | MixedJoint
    /// Mixed (S): floor(m/2) rows trained alone, then m - floor(m/2) random CountSketch rows appended.
    | MixedSeparate

/// Where the nonzeros of the trained rows sit, and what values training starts from.
[<RequireQualifiedAccess>]
type SketchPositions =
    /// The 2019 method: each column's nonzeros in seeded uniformly random rows with random signs +-1/sqrt(s) (for one
    /// nonzero per column exactly the CountSketch Sketch.countSketch draws from the seed); positions never change.
    | Random
    /// Learned positions by the inner-product initialisation (in the spirit of Li, Lin, Liu, Vakilian and Woodruff,
    /// "Learning the Positions in CountSketch", ICLR 2023): U (n x m'), the top m' left singular directions of the
    /// normalized training matrices side by side, is computed by randomized subspace iteration; column j of S gets its
    /// s nonzeros in the rows r with the largest |U[j, r]| (how strongly row j of A correlates with direction r),
    /// valued sqrt(n) U[j, r]. With s = m' the start is U^T itself: S A then spans the directions that hold most of
    /// the training matrices' energy, which is what SCW needs of its row space. Values are then trained from there.
    | Principal
    /// Learned positions by the greedy search of Li et al. (ICLR 2023), for one nonzero per column: from the Principal
    /// start, each column in turn moves its nonzero to the row that most lowers the summed SCW error of GreedyMatrices
    /// training matrices (every one of the m' rows is tried), then values are trained. The error of a trial is computed
    /// from m' x m' and m' x K quantities (K = k + 20 of each matrix's top right singular directions), so a pass costs
    /// O(n m' GreedyMatrices (m'^3 + m' K)) after one thin SVD per matrix.
    | Greedy

/// Options of Training.train; Training.defaults gives sensible values.
type TrainingOptions = {
    /// k, the target rank, 1 &lt;= k &lt;= min(n, d).
    Rank: int
    /// m, the sketch's rows; the trained rows (m, or floor(m/2) for mixed kinds) must be at least k.
    SketchRows: int
    /// The total number of steps (one mini-batch each); a resumed run continues up to this count.
    Steps: int
    /// The initial learning rate, positive.
    LearningRate: float
    Optimizer: Optimizer
    Loss: TrainingLoss
    Kind: LearnedSketchKind
    /// How the SVDs are differentiated.
    Svd: SvdMethod
    /// Matrices per step, drawn without replacement by a seeded shuffle; capped at the training set's size.
    BatchSize: int
    /// Seeds the random start (positions and signs), the random rows of mixed sketches, the batches and the power
    /// method's start vectors. The same seed, options and data give the same sketch.
    Seed: int
    /// Normalization.TopSingularValue scales every training matrix to sigma_1 = 1 first, as in the paper (sigma_1 by
    /// randomized subspace iteration, Dense.topSingularValues, not a full SVD per matrix).
    Normalization: Normalization
    /// Sgd's decay period in steps.
    DecayEvery: int
    /// Sgd's decay factor in (0, 1].
    DecayFactor: float
    /// Sgd decays only while the rate is above this.
    MinimumLearningRate: float
    /// A checkpoint file written every CheckpointEvery steps and when training stops; None writes none.
    CheckpointPath: string option
    /// The checkpoint period in steps, at least 1.
    CheckpointEvery: int
    /// A checkpoint to continue from; the run then ends as an uninterrupted run with the same options would.
    ResumeFrom: string option
    /// The fraction of the matrices held out for validation, in [0, 1): floor(count ValidationFraction) matrices,
    /// evenly spaced through the set (every (count / v)-th, so a video's held-out frames span its length), are not
    /// trained on, and the sketch returned is the one with the lowest mean validation error. 0, or a set too small to
    /// hold one out while training on another, selects by the batch loss instead.
    ValidationFraction: float
    /// Steps between validations (and one before the first step and one after the last); 0 chooses max(1, Steps / 25).
    ValidationEvery: int
    /// Where the trained rows' nonzeros sit and what they start from.
    Positions: SketchPositions
    /// s, the nonzeros in each column of the trained rows, in [0, m'] for m' trained rows; 0 means m' (a dense block).
    /// s = 1 is a CountSketch, applied in O(n d); s &gt; 1 is stored and applied densely, O(m' n d), which is the
    /// cost SCW's product A V has anyway.
    NonzerosPerColumn: int
    /// How many training matrices (evenly spaced, at least 1) the Principal start is computed from; 0 uses all of
    /// them. One matrix already gives a useful start (a few-shot sketch: train with Steps = 0).
    PrincipalMatrices: int
    /// How many training matrices (evenly spaced, at least 1) the Greedy search scores its trials on.
    GreedyMatrices: int
}

/// What training reports after every step.
type TrainingProgress = {
    /// Steps completed so far (1 after the first).
    Step: int
    /// The total number of steps.
    Steps: int
    /// The mean Frobenius loss ||A - SCW(S, A)||_F over this step's batch, measured before its update, whatever
    /// loss is optimised; NaN when the step was rejected.
    Loss: float
    /// The lowest Loss so far.
    BestLoss: float
    /// The rate used by the next step.
    LearningRate: float
    /// Time since this call started training.
    Elapsed: TimeSpan
    /// Whether this step's loss or gradient was not finite, so its update was discarded and the rate halved.
    Rejected: bool
    /// The mean ||A - SCW(S, A)||_F over the validation matrices after this step, NaN when none was measured.
    ValidationError: float
}

/// The outcome of Training.train.
type TrainingResult = {
    /// The selected sketch (random rows appended for mixed kinds): the one with the lowest validation error measured,
    /// or without validation, the one with the lowest batch loss.
    Sketch: Sketch
    /// The sketch after the last step.
    Final: Sketch
    /// Sketch's selection criterion: its mean validation error, or without validation its batch loss.
    BestLoss: float
    /// Sketch's mean ||A - SCW(S, A)||_F over the validation matrices; NaN without validation. Err(V, S) is this minus
    /// the mean optimal error, a constant of the validation set, so the selection is the same.
    ValidationError: float
    /// Final's mean validation error; NaN without validation.
    FinalValidationError: float
    /// How many matrices were held out for validation.
    ValidationMatrices: int
    /// The Frobenius batch loss of every step completed, NaN for rejected steps.
    LossHistory: float[]
    /// Steps completed, counting those of a resumed checkpoint.
    StepsCompleted: int
    /// Whether the cancellation token stopped training early.
    Cancelled: bool
    /// Steps whose loss or gradient was not finite.
    RejectedSteps: int
}

/// The mutable state of a run: everything a checkpoint holds.
type internal TrainingState = {
    mutable Step: int
    mutable Values: float[]
    mutable Rate: float
    mutable AdamM: float[]
    mutable AdamV: float[]
    mutable AdamStep: int
    mutable Best: float[]
    mutable BestLoss: float
    History: ResizeArray<float>
    mutable Rejected: int
    /// Values, Adam moments and Adam step from before the last accepted update: where a step whose loss or gradient
    /// is not finite returns to. A checkpoint holds it, so a resumed run reverts exactly as an uninterrupted one.
    mutable Previous: (float[] * float[] * float[] * int) option
}

/// Learned sketches (Indyk, Vakilian and Yuan, "Learning-Based Low-Rank Approximations", NeurIPS 2019): the n
/// values of a CountSketch-shaped S are trained by gradient descent on sum_i loss(A_i - SCW(S, A_i)) over matrices
/// from one distribution, differentiating through the SVDs inside SCW.
[<RequireQualifiedAccess>]
module Training =

    /// <summary>Options with the defaults: a Learned sketch started at the training matrices' principal directions
    /// (Positions = Principal from 32 matrices, a dense block: NonzerosPerColumn = 0), then 100 Adam steps at rate
    /// 0.01 on its values, Frobenius loss, Exact SVD, batches of 8, seed 0, sigma_1 normalisation, Sgd decay 0.3 every
    /// 1000 steps above 1e-6, no checkpoint, a tenth of the matrices held out for validation (checked 25 times). The
    /// 2019 method is Positions = Random, NonzerosPerColumn = 1, Steps = 500, LearningRate = 0.05.</summary>
    /// <param name="rank">k.</param>
    /// <param name="sketchRows">m.</param>
    /// <returns>The options.</returns>
    [<CompiledName("Defaults")>]
    let defaults (rank: int) (sketchRows: int) = {
        Rank = rank
        SketchRows = sketchRows
        Steps = 100
        LearningRate = 0.01
        Optimizer = Optimizer.Adam
        Loss = TrainingLoss.Frobenius
        Kind = LearnedSketchKind.Learned
        Svd = SvdMethod.Exact
        BatchSize = 8
        Seed = 0
        Normalization = Normalization.TopSingularValue
        DecayEvery = 1000
        DecayFactor = 0.3
        MinimumLearningRate = 1e-6
        CheckpointPath = None
        CheckpointEvery = 100
        ResumeFrom = None
        ValidationFraction = 0.1
        ValidationEvery = 0
        Positions = SketchPositions.Principal
        NonzerosPerColumn = 0
        PrincipalMatrices = 32
        GreedyMatrices = 4
    }

    /// The rows trained: m, or floor(m/2) for the mixed kinds.
    let internal trainedRows (options: TrainingOptions) =
        match options.Kind with
        | LearnedSketchKind.Learned -> options.SketchRows
        | _ -> options.SketchRows / 2

    /// s: the nonzeros per column of the trained rows.
    let internal perColumn (options: TrainingOptions) =
        if options.NonzerosPerColumn = 0 then
            trainedRows options
        else
            options.NonzerosPerColumn

    /// How a run's matrices are spread over processes (data-parallel training): Owns says which stack indices this
    /// process holds and computes, Sum adds an array over the processes (the same bits on every process), Stop agrees
    /// on cancellation. A single process owns everything, and Sum and Stop are the identity.
    type internal Sharding = {
        Owns: int -> bool
        Sum: float[] -> float[]
        Stop: bool -> bool
        /// Whether this process writes checkpoints (one process does).
        Writes: bool
    }

    /// One process holding every matrix.
    let internal whole = {
        Owns = (fun _ -> true)
        Sum = id
        Stop = id
        Writes = true
    }

    /// <summary>The top `count` left singular vectors (n x count, orthonormal columns) of the matrices A_i / c_i placed
    /// side by side, i.e. the top eigenvectors of sum_i A_i A_i^T / c_i^2, without forming that n x n sum when count is
    /// small: randomized subspace iteration (Halko, Martinsson and Tropp 2011, Algorithm 4.4) from a seeded Gaussian
    /// start with 10 extra columns and 4 products with the sum, then Rayleigh-Ritz on the (count + 10)-dimensional
    /// subspace. Cost: 5 passes of 4 n d (count + 10) flops per matrix.</summary>
    let internal principalDirections
        (sum: float[] -> float[])
        (workers: int)
        (load: int -> Matrix<float>)
        (n: int)
        (count: int)
        (seed: int)
        (data: (int * float)[])
        =
        let columns = min n (count + 10)

        // Y = sum_i A_i (A_i^T Q) / c_i^2, one pass over the matrices (side by side, summed in order).
        let product (q: Matrix<float>) =
            let y = Matrix<float>.Build.Dense(n, q.ColumnCount)

            // This process's matrices only; `sum` adds the other processes' parts (data-parallel training).
            for part in
                Backend.mapSideBySide
                    workers
                    (fun (i, scale) ->
                        let a = load i
                        Dense.gemm false a false (Dense.gemm true a false q) / (scale * scale))
                    data do
                y.Add(part, y)

            Matrix<float>.Build.Dense(n, q.ColumnCount, sum (y.AsColumnMajorArray()))

        let random = Random(seed)

        let mutable q =
            Matrix<float>.Build.Dense(n, columns, fun _ _ -> Dense.standardNormal random)

        for _ in 1..4 do
            q <- fst (Dense.qr (product q))

        // Rayleigh-Ritz: the eigenvectors of Q^T (sum A A^T) Q, largest first.
        let small = Dense.gemm true q false (product q)
        let values, vectors = Dense.symmetricEigen ((small + small.Transpose()) / 2.0)
        let order = Array.init values.Length id |> Array.sortBy (fun i -> -values[i])

        let top =
            Matrix<float>.Build.DenseOfColumnVectors(order[.. min count n - 1] |> Array.map vectors.Column)

        let u = Dense.multiply q top

        // More directions than R^n has (m' > n): the extra columns are zero, so those sketch rows start empty.
        if count <= n then
            u
        else
            u.Append(Matrix<float>.Build.Dense(n, count - n))

    /// sum of the top `rank` eigenvalues of D^(-1/2) W^T C C^T W D^(-1/2), with W D W^T the eigendecomposition of the
    /// Gram matrix S A (S A)^T (directions below 1e-12 of its largest eigenvalue dropped) and C = S A V_K Sigma_K: that
    /// is ||[A_K Q]_k||_F^2 for Q an orthonormal basis of S A's row space and A_K A's best rank-K approximation, and
    /// ||A - SCW(S, A)||_F^2 = ||A||_F^2 - ||[A Q]_k||_F^2, so maximising it minimises the SCW error (exactly when
    /// K = rank(A)).
    let private greedyObjective (rank: int) (gram: Matrix<float>) (c: Matrix<float>) =
        let values, vectors = Dense.symmetricEigen ((gram + gram.Transpose()) / 2.0)
        let top = Array.max values

        if not (top > 0.0) then
            0.0
        else
            let keep =
                Array.init values.Length id |> Array.filter (fun i -> values[i] > 1e-12 * top)

            let b =
                Matrix<float>
                    .Build.DenseOfRowVectors(
                        keep
                        |> Array.map (fun i -> c.TransposeThisAndMultiply(vectors.Column i) / sqrt values[i])
                    )

            let eigenvalues, _ = Dense.symmetricEigen (b * b.Transpose())
            eigenvalues |> Array.sortDescending |> Array.truncate rank |> Array.sum

    /// The greedy position search (Li, Lin, Liu, Vakilian and Woodruff, ICLR 2023) for a sketch with one nonzero per
    /// column (`hash`, `values`; hash is updated in place): for each column j in order, every row r of the m is tried
    /// for its nonzero, scored by the sum over `data` of ||[A_K Q]_k||_F^2 (greedyObjective; A normalized, K = k + 20),
    /// and the best row kept (the current one on ties). A trial changes two rows of S A, so its Gram matrix and
    /// S A V_K Sigma_K follow by rank-two updates without touching A: O(m^3 + m K) per trial and matrix.
    let internal greedyPositions
        (workers: int)
        (load: int -> Matrix<float>)
        (rank: int)
        (m: int)
        (hash: int[])
        (values: float[])
        (data: (int * float)[])
        =
        let states =
            data
            |> Array.map (fun (i, scale) ->
                let a = load i / scale
                let n, d = a.RowCount, a.ColumnCount
                let k = min (rank + 20) (min n d)
                let svd = Dense.thinSvd a
                let sigma = svd.S[.. k - 1]
                // V_K Sigma_K (d x K) and U_K Sigma_K^2 = A V_K Sigma_K (n x K): row j of the latter is what column j
                // adds to S A V_K Sigma_K.
                let vs =
                    Dense.scaleColumnsInPlace sigma (Dense.transpose (svd.Vt.SubMatrix(0, k, 0, d)))

                let us =
                    Dense.scaleColumnsInPlace (sigma |> Array.map (fun x -> x * x)) (svd.U.SubMatrix(0, n, 0, k))

                let sa = Sketch.applyUnchecked (CountSketch(m, hash, values)) 0 a
                a, vs, us, sa)

        let gramOf (sa: Matrix<float>) = Dense.gemm false sa true sa
        let mutable grams = states |> Array.map (fun (_, _, _, sa) -> gramOf sa)
        let mutable cs = states |> Array.map (fun (_, vs, _, sa) -> Dense.multiply sa vs)

        for j in 0 .. hash.Length - 1 do
            let v = values[j]
            let r0 = hash[j]

            if v <> 0.0 then
                // Per matrix: S A a_j (m), ||a_j||^2 and row j of U_K Sigma_K^2.
                let parts =
                    states
                    |> Array.map (fun (a, _, us, sa) ->
                        let aj = a.Row j
                        sa * aj, aj.DotProduct aj, us.Row j)

                let trial (r: int) =
                    let mutable total = 0.0

                    for g in 0 .. states.Length - 1 do
                        let sj, nj, pj = parts[g]
                        let gram = grams[g].Clone()
                        let c = cs[g].Clone()

                        if r <> r0 then
                            // S' A = S A + v (e_r - e_r0) a_j^T.
                            for q in 0 .. m - 1 do
                                let delta = v * sj[q]
                                gram[r, q] <- gram[r, q] + delta
                                gram[q, r] <- gram[q, r] + delta
                                gram[r0, q] <- gram[r0, q] - delta
                                gram[q, r0] <- gram[q, r0] - delta

                            let square = v * v * nj
                            gram[r, r] <- gram[r, r] + square
                            gram[r0, r0] <- gram[r0, r0] + square
                            gram[r, r0] <- gram[r, r0] - square
                            gram[r0, r] <- gram[r0, r] - square

                            for q in 0 .. pj.Count - 1 do
                                c[r, q] <- c[r, q] + v * pj[q]
                                c[r0, q] <- c[r0, q] - v * pj[q]

                        total <- total + greedyObjective rank gram c

                    total

                let scores = Backend.mapSideBySide workers trial (Array.init m id)
                // The current row unless another scores strictly higher (beyond rounding), then the lowest such row.
                let current = scores[r0]

                let best =
                    Array.init m id
                    |> Array.fold
                        (fun best r ->
                            if scores[r] > scores[best] + 1e-12 * abs current then
                                r
                            else
                                best)
                        r0

                if best <> r0 then
                    hash[j] <- best

                    states
                    |> Array.iter (fun (a, _, _, sa) ->
                        let aj = a.Row j
                        sa.SetRow(r0, sa.Row r0 - v * aj)
                        sa.SetRow(best, sa.Row best + v * aj))

                    grams <- states |> Array.map (fun (_, _, _, sa) -> gramOf sa)
                    cs <- states |> Array.map (fun (_, vs, _, sa) -> Dense.multiply sa vs)

    /// `count` of the items (1 &lt;= count &lt;= items.Length), evenly spaced from the first: the (q length / count)-th
    /// for q &lt; count, so that a video's chosen frames span its length (the held-out, principal and greedy matrices).
    let internal evenlySpaced (count: int) (items: 'T[]) =
        Array.init count (fun q -> items[q * items.Length / count])

    /// The fixed random rows of mixed kinds (None for Learned).
    let internal randomRows (options: TrainingOptions) (n: int) =
        match options.Kind with
        | LearnedSketchKind.Learned -> None
        | _ -> Some(Sketch.countSketch (options.Seed ^^^ 0x2545F491) (options.SketchRows - trainedRows options) n)

    /// The positions (n s entries: column j's rows at j s .. j s + s - 1, distinct) and starting values of the
    /// trained rows, and the fixed random rows of mixed kinds (None for Learned). `data` (the training matrices' indices
    /// for `load`, with their scales) is read only by the Principal start.
    let internal start
        (sharding: Sharding)
        (options: TrainingOptions)
        (workers: int)
        (load: int -> Matrix<float>)
        (data: (int * float)[])
        (n: int)
        =
        let m = trainedRows options
        let s = perColumn options
        let random = randomRows options n

        let positions, values =
            match options.Positions with
            | SketchPositions.Random when s = 1 ->
                match Sketch.countSketch options.Seed m n with
                | CountSketch(_, hash, values) -> hash, values
                | _ -> failwith "unreachable: countSketch builds a CountSketch"
            | SketchPositions.Random ->
                // s distinct rows per column by a partial Fisher-Yates shuffle, signs +-1/sqrt(s) (OSNAP's values).
                let random = Random(options.Seed)
                let rows = Array.init m id
                let positions = Array.zeroCreate (n * s)
                let values = Array.zeroCreate (n * s)

                for j in 0 .. n - 1 do
                    for t in 0 .. s - 1 do
                        let pick = t + random.Next(m - t)
                        let row = rows[pick]
                        rows[pick] <- rows[t]
                        rows[t] <- row
                        positions[j * s + t] <- row
                        values[j * s + t] <- (if random.Next 2 = 0 then -1.0 else 1.0) / sqrt (float s)

                positions, values
            | SketchPositions.Principal
            | SketchPositions.Greedy ->
                if data.Length = 0 then
                    invalidArg (nameof data) "The Principal start needs at least one training matrix."

                let chosen =
                    let c =
                        if options.PrincipalMatrices = 0 then
                            data.Length
                        else
                            min options.PrincipalMatrices data.Length

                    evenlySpaced c data

                let u =
                    principalDirections
                        sharding.Sum
                        workers
                        load
                        n
                        m
                        options.Seed
                        (chosen |> Array.filter (fst >> sharding.Owns))

                let scale = sqrt (float n)
                let positions = Array.zeroCreate (n * s)
                let values = Array.zeroCreate (n * s)

                for j in 0 .. n - 1 do
                    // The s rows with the largest |U[j, r]|, ties to the lower row; stable sort keeps that order.
                    let rows = Array.init m id |> Array.sortBy (fun r -> -abs u[j, r])

                    for t in 0 .. s - 1 do
                        positions[j * s + t] <- rows[t]
                        values[j * s + t] <- scale * u[j, rows[t]]

                if options.Positions = SketchPositions.Greedy then
                    let c = min options.GreedyMatrices data.Length
                    let scored = evenlySpaced c data
                    greedyPositions workers load options.Rank m positions values scored

                positions, values

        m, positions, values, random

    /// Z = V W, with V the right singular vectors of S A and W the top-k right singular vectors of A V, so that
    /// SCW(S, A) = [A V]_k V^T = A Z Z^T (differentiable). As in Scw.approximate, V keeps only the r directions above
    /// the numerical-rank threshold of S A (an empty sketch row or a value trained to 0 must not let arbitrary
    /// null-space vectors into the approximation); r = 0 gives None: the approximation is 0, with zero gradient.
    /// Also returns the value of A Z = (A V) W, formed from A V without another pass over A.
    let internal projection (svd: SvdMethod) (seed: int) (rank: int) (sa: Node) (a: Matrix<float>) =
        match DiffSvd.aboveRank svd seed sa with
        | None -> None
        | Some(_, _, v) ->
            let av = Diff.mul false (Diff.constant a) false v

            let _, _, w =
                DiffSvd.top svd (seed + 1) (min rank (min av.Value.RowCount av.Value.ColumnCount)) av

            Some(Diff.mul false v false w, Dense.multiply av.Value w.Value)

    /// The training loss of a residual node.
    let internal lossOf (loss: TrainingLoss) (residual: Node) =
        match loss with
        | TrainingLoss.Frobenius -> Diff.norm residual
        | TrainingLoss.VNorm -> Diff.sum (Diff.rowNorms residual)
        | TrainingLoss.WeightedFrobenius w -> Diff.norm (Diff.hadamard residual (Diff.constant w))

    /// For one matrix: the optimised loss, ||A - SCW(S, A)||_F, and the gradient of the loss in the trained
    /// values. Cost: one SCW forward and about twice that backward.
    let internal lossAndGradientWith
        (options: TrainingOptions)
        (hash: int[])
        (random: Sketch option)
        (seed: int)
        (values: float[])
        (a: Matrix<float>)
        (squaredNorm: float)
        =
        let tape = Tape()

        let parameters =
            Diff.variable tape (Matrix<float>.Build.Dense(values.Length, 1, values))

        let learned =
            if hash.Length = a.RowCount then
                Diff.countSketch (trainedRows options) hash parameters (Diff.constant a)
            else
                Diff.sparseSketch (trainedRows options) (hash.Length / a.RowCount) hash parameters (Diff.constant a)

        let sa =
            match options.Kind, random with
            | LearnedSketchKind.MixedJoint, Some r ->
                Diff.stackRows [ learned; Diff.constant (Sketch.applyUnchecked r 0 a) ]
            | _ -> learned

        // Values that overflow S A make the step non-finite: report NaN (the caller rejects the step) rather than
        // hand inf/NaN to an SVD, which may throw instead (MathNet's does not converge on them). Entries above 1e150
        // count as overflow too: their squares, which the SVD forms, overflow, and MathNet's managed SVD was seen to
        // loop without end on such input.
        let failed = nan, nan, Array.create values.Length nan
        // One pass: NaN fails the comparison, and infinities exceed the bound.
        if not (Diff.entries sa.Value |> Array.forall (fun x -> abs x <= 1e150)) then
            failed
        else
            try
                let z = projection options.Svd seed options.Rank sa a

                // The Frobenius loss without the n x d residual (and its adjoint): the step then allocates
                // O((n + d) m) instead of three n x d arrays, which on video frames made the garbage collector, not
                // the arithmetic, the step's cost.
                let direct =
                    match options.Loss, z with
                    | TrainingLoss.Frobenius, Some(z, az) -> Diff.projectionResidualNorm a squaredNorm az z
                    | _ -> None

                let loss, frobenius =
                    match direct with
                    | Some loss -> loss, loss.Value[0, 0]
                    | None ->
                        let r =
                            match z with
                            | None -> Diff.constant a
                            | Some(z, _) -> Diff.projectionResidual a z

                        lossOf options.Loss r, Dense.twoNorm (Dense.storedValues r.Value)

                tape.Backward loss

                let gradient =
                    match parameters.Adjoint with
                    | null -> Array.zeroCreate values.Length
                    | g -> g.ToColumnMajorArray()

                loss.Value[0, 0], frobenius, gradient
            with
            // An SVD that does not converge on extreme finite values: the same outcome as an overflow.
            | :? ArithmeticException
            | :? MathNet.Numerics.NonConvergenceException -> failed

    /// lossAndGradientWith, measuring ||A||_F^2 itself.
    let internal lossAndGradient
        (options: TrainingOptions)
        (hash: int[])
        (random: Sketch option)
        (seed: int)
        (values: float[])
        (a: Matrix<float>)
        =
        let norm = Dense.twoNorm (Dense.storedValues a)
        lossAndGradientWith options hash random seed values a (norm * norm)

    let internal sketchOf (options: TrainingOptions) (hash: int[]) (random: Sketch option) (values: float[]) =
        let m = trainedRows options
        let s = perColumn options

        let learned =
            if s = 1 then
                CountSketch(m, hash, Array.copy values)
            else
                DenseSketch(Sketch.denseOfPositions m s hash values)

        match random with
        | None -> learned
        | Some r -> Stacked [| learned; r |]

    /// A deterministic, well-spread seed for (run seed, step, index); HashCode.Combine is randomised per process,
    /// so it cannot be used where resumed runs must repeat the same draws.
    let private mix (seed: int) (step: int) (index: int) =
        let mutable x =
            uint64 (uint32 seed) * 0x9E3779B97F4A7C15UL
            + uint64 step * 0xBF58476D1CE4E5B9UL
            + uint64 index

        x <- (x ^^^ (x >>> 30)) * 0x94D049BB133111EBUL
        int (x ^^^ (x >>> 31))

    let private batchOf (options: TrainingOptions) (count: int) (step: int) =
        let order = Array.init count id
        Random(mix options.Seed step -1).Shuffle order
        order[.. min options.BatchSize count - 1]

    [<Literal>]
    let private CheckpointMagic = "LRCHECKP"

    /// Version 2 added the state before the last update (TrainingState.Previous); version 1 checkpoints lacked it.
    /// Version 3 added the loss, SVD method and normalization to the fingerprint, and a hash of the training data and
    /// of the real-valued options, so that a resume with other options or data is rejected, not run. Version 4 added
    /// the validation options (the fingerprint grew; the best values are then the best by validation). Version 5 added
    /// the positions options to the fingerprint and the positions themselves (n s row indices) after it: a Principal
    /// start depends on floating-point rounding, so a resume reads the positions instead of recomputing them. Version 6
    /// hashes the training data as a hash of each matrix's own hash, so that ranks holding different matrices compute
    /// it together (data-parallel training), and a checkpoint resumes on any number of processes.
    [<Literal>]
    let private CheckpointVersion = 6us

    /// FNV-1a over the bits of the training matrices (in order) and of the real-valued options, folded to 32 bits: a
    /// resume with other data of the same shape, another rate or other loss weights changes it. O(total entries), no
    /// allocation beyond the dense copy of a sparse matrix.
    /// FNV-1a over 64-bit words, from state h.
    let private fnvWords (h: uint64) (words: uint64[]) =
        let mutable h = h

        for w in words do
            h <- (h ^^^ w) * 1099511628211UL

        h

    /// FNV-1a over the bits of doubles, from state h.
    let private fnv (h: uint64) (values: float[]) =
        values |> Array.map (BitConverter.DoubleToInt64Bits >> uint64) |> fnvWords h

    [<Literal>]
    let private FnvStart = 14695981039346656037UL

    /// The hash of the training data and of the real-valued options: FNV-1a over each matrix's own FNV-1a hash, in order,
    /// then the options. Each process hashes the matrices it holds and `sum` adds the others' (a matrix's hash travels
    /// as two exact 32-bit halves, 0 from the processes that do not hold it).
    let private contentHash (sharding: Sharding) (options: TrainingOptions) (count: int) (load: int -> Matrix<float>) =
        let halves = Array.zeroCreate (2 * count)

        for i in 0 .. count - 1 do
            if sharding.Owns i then
                let a = load i

                let h =
                    match a.AsColumnMajorArray() with
                    | null -> fnv FnvStart (a.ToColumnMajorArray())
                    | values -> fnv FnvStart values

                halves[2 * i] <- float (h >>> 32)
                halves[2 * i + 1] <- float (h &&& 0xFFFFFFFFUL)

        let halves = sharding.Sum halves

        let perMatrix =
            Array.init count (fun i -> (uint64 halves[2 * i] <<< 32) ||| uint64 halves[2 * i + 1])

        let h = fnvWords FnvStart perMatrix

        let h =
            fnv h [|
                options.LearningRate
                options.DecayFactor
                float options.DecayEvery
                options.MinimumLearningRate
                options.ValidationFraction
            |]

        let h =
            match options.Loss with
            | TrainingLoss.WeightedFrobenius w -> fnv h (w.ToColumnMajorArray())
            | _ -> h

        int (h ^^^ (h >>> 32))

    let private fingerprint
        (sharding: Sharding)
        (options: TrainingOptions)
        (stack: MatrixStack)
        (load: int -> Matrix<float>)
        = [|
        let n, d, count = stack.Rows, stack.Columns, stack.Count
        "n", n
        "d", d
        "training matrices", count
        "Rank", options.Rank
        "SketchRows", options.SketchRows
        "Seed", options.Seed
        "BatchSize", options.BatchSize

        "Kind",
        (match options.Kind with
         | LearnedSketchKind.Learned -> 0
         | LearnedSketchKind.MixedJoint -> 1
         | LearnedSketchKind.MixedSeparate -> 2)

        "Optimizer",
        (match options.Optimizer with
         | Optimizer.Sgd -> 0
         | Optimizer.Adam -> 1)

        "Loss",
        (match options.Loss with
         | TrainingLoss.Frobenius -> 0
         | TrainingLoss.VNorm -> 1
         | TrainingLoss.WeightedFrobenius _ -> 2)

        "Svd",
        (match options.Svd with
         | SvdMethod.Exact -> 0
         | SvdMethod.PowerMethod t -> t)

        "Normalization",
        (match options.Normalization with
         | Normalization.None -> 0
         | Normalization.TopSingularValue -> 1)

        "ValidationEvery", options.ValidationEvery

        "Positions",
        (match options.Positions with
         | SketchPositions.Random -> 0
         | SketchPositions.Principal -> 1
         | SketchPositions.Greedy -> 2)

        "NonzerosPerColumn", perColumn options
        "PrincipalMatrices", options.PrincipalMatrices
        "GreedyMatrices", options.GreedyMatrices

        "the hash of the training data, LearningRate, the decay and validation options and the loss weights",
        contentHash sharding options count load
    |]

    let private writeCheckpoint (path: string) (print: (string * int)[]) (positions: int[]) (state: TrainingState) =
        let bytes =
            Framed.write CheckpointMagic CheckpointVersion (fun w ->
                print |> Array.iter (snd >> w.Write)
                w.Write positions.Length
                positions |> Array.iter w.Write
                w.Write state.Step
                w.Write state.Values.Length
                let doubles (xs: float[]) = xs |> Array.iter w.Write
                doubles state.Values
                w.Write state.Rate
                doubles state.AdamM
                doubles state.AdamV
                w.Write state.AdamStep
                doubles state.Best
                w.Write state.BestLoss
                w.Write state.History.Count
                state.History |> Seq.iter w.Write
                w.Write state.Rejected

                match state.Previous with
                | None -> w.Write false
                | Some(values, m, v, t) ->
                    w.Write true
                    doubles values
                    doubles m
                    doubles v
                    w.Write t)

        Framed.writeFile path bytes

    let private readCheckpoint (path: string) (print: (string * int)[]) (steps: int) (positions: int) (rows: int) =
        let found, stored, state =
            Framed.read
                path
                "LowRank training checkpoint"
                CheckpointMagic
                CheckpointVersion
                (File.ReadAllBytes path)
                (fun r ->
                    let found = print |> Array.map (fun _ -> r.ReadInt32())

                    let count =
                        Framed.count r "the number of positions" 1 ((r.BaseStream.Length - r.BaseStream.Position) / 4L)

                    let stored = Array.init count (fun _ -> r.ReadInt32())

                    let step = Framed.count r "the step" 0 Int32.MaxValue
                    let n = Framed.count r "the number of values" 1 Int32.MaxValue
                    // Every number is checked, not only the checksum: a resumed run would otherwise carry a NaN sketch
                    // (or a negative Adam second moment, a NaN step size) into training and out as its result.
                    let doubles name = Framed.finiteDoubles r name n

                    let positive name (value: float) =
                        if not (value > 0.0 && Double.IsFinite value) then
                            raise (InvalidDataException $"{name} = {value} is not finite and positive.")

                        value

                    let values = doubles "the sketch's values"
                    let rate = r.ReadDouble() |> positive "the step size"
                    let adamM = doubles "Adam's first moment"
                    let adamV = doubles "Adam's second moment"

                    match Array.tryFindIndex (fun x -> x < 0.0) adamV with
                    | Some i -> raise (InvalidDataException $"Adam's second moment[{i}] = {adamV[i]} is negative.")
                    | None -> ()

                    let adamStep = Framed.count r "Adam's step" 0 Int32.MaxValue
                    let best = doubles "the best sketch's values"
                    let bestLoss = r.ReadDouble()

                    // +infinity before the first evaluation, a loss >= 0 after it.
                    if Double.IsNaN bestLoss || bestLoss < 0.0 then
                        raise (InvalidDataException $"the best loss = {bestLoss} is not a loss.")

                    let historyCount = Framed.count r "the history length" 0 Int32.MaxValue
                    let history = ResizeArray(Framed.doubles r historyCount)

                    // NaN marks a rejected step; anything else is a loss.
                    match
                        history
                        |> Seq.tryFindIndex (fun x -> not (Double.IsNaN x || (x >= 0.0 && Double.IsFinite x)))
                    with
                    | Some i -> raise (InvalidDataException $"the loss history[{i}] = {history[i]} is not a loss.")
                    | None -> ()

                    let rejected = Framed.count r "the rejected steps" 0 Int32.MaxValue

                    let previous =
                        if r.ReadBoolean() then
                            let values = doubles "the previous sketch's values"
                            let m = doubles "the previous Adam first moment"
                            let v = doubles "the previous Adam second moment"
                            Some(values, m, v, Framed.count r "the previous Adam step" 0 Int32.MaxValue)
                        else
                            None

                    found,
                    stored,
                    {
                        Step = step
                        Values = values
                        Rate = rate
                        AdamM = adamM
                        AdamV = adamV
                        AdamStep = adamStep
                        Best = best
                        BestLoss = bestLoss
                        History = history
                        Rejected = rejected
                        Previous = previous
                    })

        for (name, expected), value in Array.zip print found do
            if value <> expected then
                raise (
                    ArgumentException(
                        $"The checkpoint {path} was written for {name} = {value}, but this run has {expected}.",
                        "options"
                    )
                )

        // Checked after the fingerprint, which names the option that differs; with equal options these hold for every
        // checkpoint this library wrote.
        let corrupted (what: string) =
            raise (InvalidDataException($"The LowRank training checkpoint {path} is corrupted: {what}."))

        if stored.Length <> positions || state.Values.Length <> positions then
            corrupted $"it holds {stored.Length} positions and {state.Values.Length} values, not {positions}"

        match stored |> Array.tryFind (fun row -> row < 0 || row >= rows) with
        | Some row -> corrupted $"a sketch position is {row}, outside [0, {rows})"
        | None -> ()

        if state.Step > steps then
            raise (
                ArgumentException(
                    $"The checkpoint {path} is at step {state.Step}, beyond this run's options.Steps = {steps}.",
                    "options"
                )
            )

        stored, state

    /// The checks of matrices given in memory: present, finite and of one shape.
    let internal validateMatrices (matrices: Matrix<float>[]) =
        if matrices.Length = 0 then
            raise (ArgumentException("Expected at least one training matrix, but matrices is empty.", nameof matrices))

        matrices
        |> Array.iteri (fun i a ->
            try
                Guard.notNull "matrix" a
                Guard.finiteMatrix "matrix" a
            with :? ArgumentException as e ->
                raise (ArgumentException($"matrices[{i}]: {e.Message}", nameof matrices, e)))

        let n, d = matrices[0].RowCount, matrices[0].ColumnCount

        match matrices |> Array.tryFindIndex (fun a -> a.RowCount <> n || a.ColumnCount <> d) with
        | Some i ->
            raise (
                ArgumentException(
                    $"Expected every training matrix to be {n}x{d} like matrices[0], but matrices[{i}] is {Guard.shape matrices[i]}.",
                    nameof matrices
                )
            )
        | None -> ()

    /// The checks of the options for n x d training matrices; `first` gives matrices[0] for the weights' check.
    let internal validate (options: TrainingOptions) (n: int) (d: int) (first: unit -> Matrix<float>) =
        let fail (name: string) (expected: string) (value: obj) =
            raise (
                ArgumentOutOfRangeException(
                    $"options.{name}",
                    value,
                    $"Expected {expected}, but options.{name} = {value}."
                )
            )

        if options.Rank < 1 || options.Rank > min n d then
            fail "Rank" $"1 <= Rank <= min(n, d) = {min n d}" options.Rank

        if trainedRows options < options.Rank then
            fail
                "SketchRows"
                $"at least Rank = {options.Rank} trained rows ({options.Kind} trains {trainedRows options} of SketchRows)"
                options.SketchRows

        if options.Steps < 0 then
            fail "Steps" "Steps >= 0" options.Steps

        if not (options.LearningRate > 0.0 && Double.IsFinite options.LearningRate) then
            fail "LearningRate" "a finite LearningRate > 0" options.LearningRate

        if options.BatchSize < 1 then
            fail "BatchSize" "BatchSize >= 1" options.BatchSize

        if options.DecayEvery < 1 then
            fail "DecayEvery" "DecayEvery >= 1" options.DecayEvery

        if not (options.DecayFactor > 0.0 && options.DecayFactor <= 1.0) then
            fail "DecayFactor" "0 < DecayFactor <= 1" options.DecayFactor

        if options.CheckpointEvery < 1 then
            fail "CheckpointEvery" "CheckpointEvery >= 1" options.CheckpointEvery

        if not (options.ValidationFraction >= 0.0 && options.ValidationFraction < 1.0) then
            fail "ValidationFraction" "0 <= ValidationFraction < 1" options.ValidationFraction

        if options.ValidationEvery < 0 then
            fail "ValidationEvery" "ValidationEvery >= 0 (0 chooses)" options.ValidationEvery

        if options.NonzerosPerColumn < 0 || options.NonzerosPerColumn > trainedRows options then
            fail
                "NonzerosPerColumn"
                $"0 <= NonzerosPerColumn <= the {trainedRows options} trained rows (0: all of them)"
                options.NonzerosPerColumn

        if options.Positions = SketchPositions.Greedy && perColumn options <> 1 then
            fail
                "NonzerosPerColumn"
                "NonzerosPerColumn = 1 with Positions = Greedy (the greedy search moves each column's one nonzero)"
                options.NonzerosPerColumn

        if options.GreedyMatrices < 1 then
            fail "GreedyMatrices" "GreedyMatrices >= 1" options.GreedyMatrices

        if options.PrincipalMatrices < 0 then
            fail "PrincipalMatrices" "PrincipalMatrices >= 0 (0: all training matrices)" options.PrincipalMatrices

        match options.Svd with
        | SvdMethod.PowerMethod t when t < 1 -> fail "Svd" "PowerMethod with at least 1 iteration" t
        | _ -> ()

        match options.Loss with
        | TrainingLoss.WeightedFrobenius w ->
            Guard.notNull "options.Loss" w
            Guard.weights "options.Loss" w "matrices[0]" (first ())
        | _ -> ()

    let internal run
        (sharding: Sharding)
        (options: TrainingOptions)
        (progress: TrainingProgress -> unit)
        (cancellation: CancellationToken)
        (stack: MatrixStack)
        (checkFinite: bool)
        (workers: int)
        =
        let eachOf items f = Backend.mapSideBySide workers f items
        let n, d = stack.Rows, stack.Columns

        // A compact stack is converted a matrix at a time into a buffer of the thread that uses it: every use of a
        // loaded matrix ends within the task that loaded it, before the thread loads another. Matrices in memory are
        // used as they are.
        use buffers = new ThreadLocal<float[]>(fun () -> Array.zeroCreate (n * d))
        let scaledCopies = Collections.Concurrent.ConcurrentDictionary<int, Matrix<float>>()

        let load (i: int) =
            match scaledCopies.TryGetValue i with
            | true, copy -> copy
            | _ ->
                match stack.Shared with
                | Some items -> items[i]
                | None ->
                    let buffer = buffers.Value
                    stack.Fill(i, buffer)
                    Matrix<float>.Build.Dense(n, d, buffer)

        // Each matrix with the scale it is divided by. SCW(S, A / c) = SCW(S, A) / c and every loss here is
        // homogeneous, so the loss and gradient of A / c are those of A divided by c: the training set is used as given
        // instead of copied (a copy doubled the memory of a video's frames). Scales far from 1 are applied to a copy
        // instead, so that S A stays within the range the overflow guard and the SVDs expect.
        // One pass over every matrix: a stack's matrices are checked for finiteness here (matrices given as a sequence
        // were checked before), scaled, and their squared norms measured (the Frobenius loss needs them). A non-finite
        // matrix is reported after the sums below, by every process at once: one that raised alone would leave the
        // others waiting in Sum.
        let measured =
            eachOf (Array.init stack.Count id |> Array.filter sharding.Owns) (fun i ->
                let a = load i

                match (if checkFinite then Guard.firstNonFinite a else None) with
                | Some entry -> i, Error entry
                | None ->
                    let norm = Dense.twoNorm (Dense.storedValues a)

                    match options.Normalization with
                    | Normalization.None -> i, Ok(1.0, norm * norm)
                    | Normalization.TopSingularValue ->
                        // sigma_1 by randomized subspace iteration, not a full SVD per matrix: the scale only has to be
                        // the same on every run, and this costs a few products (a full SVD of 480 frames took minutes).
                        let top = (Dense.topSingularValues 1 a)[0]

                        if top <= 0.0 then
                            i, Ok(1.0, norm * norm)
                        elif top > 1e-100 && top < 1e100 then
                            i, Ok(top, norm * norm)
                        else
                            scaledCopies[i] <- a / top
                            i, Ok(1.0, (norm / top) * (norm / top)))

        // Every matrix's scale, squared norm and finiteness on every process: each process measured its own, Sum adds
        // them.
        let data, allNorms =
            let count = stack.Count
            let packed = Array.zeroCreate (3 * count)

            for i, outcome in measured do
                match outcome with
                | Ok(scale, norm) ->
                    packed[i] <- scale
                    packed[count + i] <- norm
                | Error _ -> packed[2 * count + i] <- 1.0

            let summed = sharding.Sum packed

            // The lowest non-finite matrix, its entry sent by the process holding it (the others add zeros).
            match Array.tryFindIndex (fun flag -> flag > 0.0) summed[2 * count ..] with
            | Some bad ->
                let entry =
                    measured
                    |> Array.tryPick (function
                        | i, Error(r, c, x) when i = bad -> Some [| float r; float c; x |]
                        | _ -> None)
                    |> Option.defaultValue [| 0.0; 0.0; 0.0 |]
                    |> sharding.Sum

                let e = Guard.nonFinite "matrix" (int entry[0], int entry[1], entry[2])
                raise (ArgumentException($"matrices[{bad}]: {e.Message}", "matrices", e))
            | None -> Array.init count (fun i -> i, summed[i]), summed[count .. 2 * count - 1]

        // The held-out matrices, evenly spaced through the set, and the ones trained on.
        let held =
            let v = int (floor (float data.Length * options.ValidationFraction))

            if v >= 1 && data.Length - v >= 1 then
                evenlySpaced v (Array.init data.Length id) |> Set.ofArray
            else
                Set.empty

        let validation =
            data |> Array.indexed |> Array.filter (fst >> held.Contains) |> Array.map snd

        let norms =
            allNorms
            |> Array.indexed
            |> Array.filter (fst >> held.Contains >> not)
            |> Array.map snd

        let data =
            data
            |> Array.indexed
            |> Array.filter (fst >> held.Contains >> not)
            |> Array.map snd

        let validationEvery =
            if options.ValidationEvery > 0 then
                options.ValidationEvery
            else
                max 1 (options.Steps / 25)

        // Only a checkpoint needs the fingerprint, whose hash reads every entry of the training set once.
        let print = lazy (fingerprint sharding options stack load)

        let resumed =
            options.ResumeFrom
            |> Option.map (fun path ->
                readCheckpoint path print.Value options.Steps (n * perColumn options) (trainedRows options))

        // A resumed run reads its positions from the checkpoint instead of computing a Principal start again.
        let hash, initial, random =
            match resumed with
            | Some(stored, _) -> stored, [||], randomRows options n
            | None ->
                let _, hash, initial, random = start sharding options workers load data n
                hash, initial, random

        // The mean SCW error of the sketch with these values over the validation matrices (forward only, no tape).
        let validate (values: float[]) =
            let sketch = sketchOf options hash random values

            let errors =
                eachOf (validation |> Array.filter (fst >> sharding.Owns)) (fun (i, scale) ->
                    let a = load i
                    Scw.residualNorm a (Scw.approximateUnchecked options.Rank sketch a) / scale)

            (sharding.Sum [| Array.sum errors |])[0] / float validation.Length

        let state =
            match resumed with
            | Some(_, state) -> state
            | None -> {
                Step = 0
                Values = initial
                Rate = options.LearningRate
                AdamM = Array.zeroCreate initial.Length
                AdamV = Array.zeroCreate initial.Length
                AdamStep = 0
                Best = Array.copy initial
                BestLoss = Double.PositiveInfinity
                History = ResizeArray()
                Rejected = 0
                Previous = None
              }

        let checkpoint () =
            options.CheckpointPath
            |> Option.iter (fun path ->
                // Every process computes the fingerprint (it is collective); the first writes the file.
                let print = print.Value

                if sharding.Writes then
                    writeCheckpoint path print hash state)

        let clock = Stopwatch.StartNew()

        // With validation, the best values are the ones with the lowest validation error, measured before the first
        // step (so training never returns worse than its start), every validationEvery steps and after the last.
        // The values last validated and their error, so that the result does not measure them again.
        let mutable lastValidated = ([||]: float[]), nan

        let consider (values: float[]) =
            let error = validate values
            lastValidated <- values, error

            if error < state.BestLoss then
                state.BestLoss <- error
                state.Best <- values

            error

        if validation.Length > 0 && state.Step = 0 && options.Steps > 0 then
            consider state.Values |> ignore

        while state.Step < options.Steps
              && not (sharding.Stop cancellation.IsCancellationRequested) do
            let step = state.Step
            // The global batch; this process computes the matrices it holds (all of them when it is alone).
            let batch = batchOf options data.Length step
            let mine = batch |> Array.filter (fun i -> sharding.Owns(fst data[i]))
            let mutable loss, frobenius = 0.0, 0.0
            let gradient = Array.zeroCreate<float> hash.Length

            // The batch's matrices side by side, summed in batch order so that the result does not depend on the
            // scheduling.
            let parts =
                eachOf mine (fun i ->
                    lossAndGradientWith
                        options
                        hash
                        random
                        (mix options.Seed step i)
                        state.Values
                        (load (fst data[i]))
                        norms[i])

            for q in 0 .. mine.Length - 1 do
                let _, scale = data[mine[q]]
                let l, f, g = parts[q]
                loss <- loss + l / scale
                frobenius <- frobenius + f / scale

                for j in 0 .. hash.Length - 1 do
                    gradient[j] <- gradient[j] + g[j] / scale

            // The other processes' parts of the batch (nothing to add when this process holds every matrix).
            let totals = sharding.Sum(Array.append [| loss; frobenius |] gradient)
            loss <- totals[0]
            frobenius <- totals[1]
            Array.blit totals 2 gradient 0 gradient.Length

            let mean = frobenius / float batch.Length
            let finiteLoss = Double.IsFinite loss && Double.IsFinite mean

            // The candidate update, kept only when everything about it is finite.
            let values, adamM, adamV, adamStep =
                let values = Array.copy state.Values

                match options.Optimizer with
                | Optimizer.Sgd ->
                    for j in 0 .. hash.Length - 1 do
                        values[j] <- values[j] - state.Rate * gradient[j]

                    values, state.AdamM, state.AdamV, state.AdamStep
                | Optimizer.Adam ->
                    let t = state.AdamStep + 1
                    let m, v = Array.copy state.AdamM, Array.copy state.AdamV
                    let correction1 = 1.0 - Math.Pow(0.9, float t)
                    let correction2 = 1.0 - Math.Pow(0.999, float t)

                    for j in 0 .. hash.Length - 1 do
                        m[j] <- 0.9 * m[j] + 0.1 * gradient[j]
                        v[j] <- 0.999 * v[j] + 0.001 * gradient[j] * gradient[j]
                        let step = (m[j] / correction1) / (sqrt (v[j] / correction2) + 1e-8)
                        values[j] <- values[j] - state.Rate * step

                    values, m, v, t

            let rejected =
                not finiteLoss
                || not (Guard.allFinite gradient)
                || not (Guard.allFinite values && Guard.allFinite adamV)

            if rejected then
                state.Rejected <- state.Rejected + 1
                state.Rate <- state.Rate / 2.0
                state.History.Add nan

                // A non-finite loss or gradient at the current values means the last update went somewhere bad, and
                // staying there would reject every later step: return to the values before it. (A candidate that is
                // not finite from finite values only needs the lower rate.)
                match state.Previous with
                | Some(values, m, v, t) when not finiteLoss || not (Guard.allFinite gradient) ->
                    state.Values <- values
                    state.AdamM <- m
                    state.AdamV <- v
                    state.AdamStep <- t
                | _ -> ()
            else
                state.History.Add mean

                if validation.Length = 0 && mean < state.BestLoss then
                    state.BestLoss <- mean
                    state.Best <- state.Values

                state.Previous <- Some(state.Values, state.AdamM, state.AdamV, state.AdamStep)
                state.Values <- values
                state.AdamM <- adamM
                state.AdamV <- adamV
                state.AdamStep <- adamStep

            state.Step <- step + 1

            if
                options.Optimizer = Optimizer.Sgd
                && state.Step % options.DecayEvery = 0
                && state.Rate > options.MinimumLearningRate
            then
                state.Rate <- state.Rate * options.DecayFactor

            let validationError =
                if
                    validation.Length > 0
                    && (state.Step % validationEvery = 0 || state.Step = options.Steps)
                then
                    consider state.Values
                else
                    nan

            if state.Step % options.CheckpointEvery = 0 then
                checkpoint ()

            progress {
                Step = state.Step
                Steps = options.Steps
                Loss = (if rejected then nan else mean)
                BestLoss = state.BestLoss
                LearningRate = state.Rate
                Elapsed = clock.Elapsed
                Rejected = rejected
                ValidationError = validationError
            }

        checkpoint ()

        let validated (values: float[]) =
            match lastValidated with
            | _ when validation.Length = 0 -> nan
            | last, error when obj.ReferenceEquals(last, values) -> error
            | _ when obj.ReferenceEquals(values, state.Best) && Double.IsFinite state.BestLoss -> state.BestLoss
            | _ -> validate values

        {
            Sketch = sketchOf options hash random state.Best
            Final = sketchOf options hash random state.Values
            BestLoss = state.BestLoss
            ValidationError = validated state.Best
            FinalValidationError = validated state.Values
            ValidationMatrices = validation.Length
            LossHistory = state.History.ToArray()
            StepsCompleted = state.Step
            Cancelled = state.Step < options.Steps
            RejectedSteps = state.Rejected
        }

    /// <summary>Trains a sketch on matrices from one distribution (Indyk, Vakilian and Yuan, NeurIPS 2019,
    /// Algorithm 1 with the SCW loss of Section 3).</summary>
    /// <param name="options">The options; see TrainingOptions.</param>
    /// <param name="progress">Called after every step, on the training thread.</param>
    /// <param name="cancellation">Checked before every step: when set, training stops cleanly, writes the
    /// checkpoint (if any) and returns the best sketch so far with Cancelled = true.</param>
    /// <param name="matrices">The training set: at least one n x d matrix, all of one shape, finite. A MatrixStack (for
    /// instance MatrixStack.readNpy of a video's uint8 frames) is read a matrix at a time, so training holds the stack
    /// plus O(batch) matrices in double precision; any other sequence is read once into an array and used as is.</param>
    /// <returns>The best and final sketches, the loss history and counters.</returns>
    /// <exception cref="System.ArgumentNullException">matrices or one of them is null.</exception>
    /// <exception cref="System.ArgumentException">matrices is empty, of mixed shapes or not finite (the message
    /// names the index), weights differ in shape, or ResumeFrom was written for other options or data.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">an option is out of range (named in the message).</exception>
    /// <exception cref="System.IO.InvalidDataException">ResumeFrom is not a checkpoint, truncated or corrupted.</exception>
    /// <remarks>Each step draws a batch by a seeded shuffle, sums the loss over it, differentiates through S A (O(n d)
    /// per matrix: the gradient of value i is the inner product of row i of A with row h(i) of dL/d(SA)), the SVD of
    /// S A, A V and the top-k SVD of A V, then updates the values. With Exact SVDs a step costs about three SCW
    /// evaluations per matrix. A step whose loss, gradient or update is not finite is rejected: its update is
    /// discarded, the rate is halved, and the step is reported with Rejected = true and counted; when the loss or
    /// gradient at the current values is not finite, the values (and Adam's moments) also return to those before the
    /// last accepted update, which checkpoints keep, so a resumed run rejects and reverts exactly as an uninterrupted
    /// one. Positions never change after the start. The batch's matrices run side by side on single-threaded BLAS
    /// (Backend.sideBySide). SCW's factors of a video frame are just above .NET's 85,000-byte large-object threshold:
    /// a program that trains on large matrices should raise System.GC.LOHThreshold (the lowrank CLI sets 4 MiB; 100
    /// steps on 600 frames then took 5 s instead of 22 s, benchmarks/README.md).</remarks>
    [<CompiledName("Train")>]
    let train
        (options: TrainingOptions)
        (progress: TrainingProgress -> unit)
        (cancellation: CancellationToken)
        (matrices: seq<Matrix<float>>)
        =
        Guard.notNull (nameof matrices) matrices
        Guard.notNull (nameof progress) progress

        let stack, checkFinite =
            match matrices with
            | :? MatrixStack as stack -> stack, true
            | _ ->
                let matrices = Seq.toArray matrices
                validateMatrices matrices
                MatrixStack.ofMatrices matrices, false

        validate options stack.Rows stack.Columns (fun () -> stack[0])
        Backend.sideBySide (fun workers -> run whole options progress cancellation stack checkFinite workers)
