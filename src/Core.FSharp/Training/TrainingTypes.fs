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

/// Shardings.
[<RequireQualifiedAccess>]
module internal Sharding =

    /// One process holding every matrix.
    let internal whole = {
        Owns = (fun _ -> true)
        Sum = id
        Stop = id
        Writes = true
    }

/// The rows a training run trains, and their nonzeros per column.
[<RequireQualifiedAccess>]
module internal TrainingShape =

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
