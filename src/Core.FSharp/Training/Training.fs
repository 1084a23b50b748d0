namespace LowRank.Core

open System
open System.Diagnostics
open System.IO
open System.Threading
open MathNet.Numerics.LinearAlgebra

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

    /// Reads matrix i of a stack: a compact stack is converted a matrix at a time into a buffer of the thread that uses
    /// it (every use of a loaded matrix ends within the task that loaded it, before the thread loads another); matrices
    /// in memory are used as they are; a matrix whose scale is far from 1 is read from its scaled copy.
    type private Loader(stack: MatrixStack) =
        let buffers =
            new ThreadLocal<float[]>(fun () -> Array.zeroCreate (stack.Rows * stack.Columns))

        member val ScaledCopies = Collections.Concurrent.ConcurrentDictionary<int, Matrix<float>>()

        member this.Load(i: int) =
            match this.ScaledCopies.TryGetValue i with
            | true, copy -> copy
            | _ ->
                match stack.Shared with
                | Some items -> items[i]
                | None ->
                    let buffer = buffers.Value
                    stack.Fill(i, buffer)
                    Matrix<float>.Build.Dense(stack.Rows, stack.Columns, buffer)

        interface IDisposable with
            member _.Dispose() = buffers.Dispose()

    /// Each matrix with the scale it is divided by, and its squared Frobenius norm after scaling, on every process.
    /// SCW(S, A / c) = SCW(S, A) / c and every loss here is homogeneous, so the loss and gradient of A / c are those of A
    /// divided by c: the training set is used as given instead of copied (a copy doubled the memory of a video's
    /// frames). Scales far from 1 are applied to a copy instead, so that S A stays within the range the overflow guard
    /// and the SVDs expect. One pass over every matrix: a stack's matrices are checked for finiteness here (matrices
    /// given as a sequence were checked before). A non-finite matrix is reported after the sums, by every process at
    /// once: one that raised alone would leave the others waiting in Sum.
    let private scalesAndNorms
        (sharding: Sharding)
        (options: TrainingOptions)
        (eachOf:
            int[]
                -> (int -> int * Result<float * float, int * int * float>)
                -> (int * Result<float * float, int * int * float>)[])
        (loader: Loader)
        (count: int)
        (checkFinite: bool)
        =
        let measured =
            eachOf (Array.init count id |> Array.filter sharding.Owns) (fun i ->
                let a = loader.Load i

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
                            loader.ScaledCopies[i] <- a / top
                            i, Ok(1.0, (norm / top) * (norm / top)))

        // Each process measured its own matrices; Sum adds them.
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

    /// The held-out matrices, evenly spaced through the set: (trained (index, scale), their squared norms, held out).
    let private holdOut (options: TrainingOptions) (data: (int * float)[]) (allNorms: float[]) =
        let held =
            let v = int (floor (float data.Length * options.ValidationFraction))

            if v >= 1 && data.Length - v >= 1 then
                StartingSketches.evenlySpaced v (Array.init data.Length id) |> Set.ofArray
            else
                Set.empty

        let keep (inside: bool) (items: 'T[]) =
            items
            |> Array.indexed
            |> Array.filter (fun (i, _) -> held.Contains i = inside)
            |> Array.map snd

        keep false data, keep false allNorms, keep true data

    /// One step's mean Frobenius error, whether the loss is finite, and the gradient, over the global batch: this process
    /// computes the matrices it holds (all of them when it is alone), side by side, summed in batch order so that the
    /// result does not depend on the scheduling, each divided by its matrix's scale; Sum adds the other processes' parts.
    let private batchStep
        (sharding: Sharding)
        (options: TrainingOptions)
        (eachOf: int[] -> (int -> float * float * float[]) -> (float * float * float[])[])
        (load: int -> Matrix<float>)
        (data: (int * float)[])
        (norms: float[])
        (hash: int[])
        (random: Sketch option)
        (state: TrainingState)
        =
        let step = state.Step
        let batch = batchOf options data.Length step
        let mine = batch |> Array.filter (fun i -> sharding.Owns(fst data[i]))

        let parts =
            eachOf mine (fun i ->
                LossGradient.lossAndGradientWith
                    options
                    hash
                    random
                    (mix options.Seed step i)
                    state.Values
                    (load (fst data[i]))
                    norms[i])

        let mutable loss, frobenius = 0.0, 0.0
        let gradient = Array.zeroCreate<float> hash.Length

        for q in 0 .. mine.Length - 1 do
            let _, scale = data[mine[q]]
            let l, f, g = parts[q]
            loss <- loss + l / scale
            frobenius <- frobenius + f / scale

            for j in 0 .. hash.Length - 1 do
                gradient[j] <- gradient[j] + g[j] / scale

        let totals = sharding.Sum(Array.append [| loss; frobenius |] gradient)
        Array.blit totals 2 gradient 0 gradient.Length
        let mean = totals[1] / float batch.Length
        mean, Double.IsFinite totals[0] && Double.IsFinite mean, gradient

    /// The result of a run from its final state; `validated` measures values on the held-out matrices.
    let private resultOf
        (options: TrainingOptions)
        (hash: int[])
        (random: Sketch option)
        (state: TrainingState)
        (validationMatrices: int)
        (validated: float[] -> float)
        = {
        Sketch = LossGradient.sketchOf options hash random state.Best
        Final = LossGradient.sketchOf options hash random state.Values
        BestLoss = state.BestLoss
        ValidationError = validated state.Best
        FinalValidationError = validated state.Values
        ValidationMatrices = validationMatrices
        LossHistory = state.History.ToArray()
        StepsCompleted = state.Step
        Cancelled = state.Step < options.Steps
        RejectedSteps = state.Rejected
    }

    /// The state of a run that starts afresh at the given values.
    let private freshState (options: TrainingOptions) (initial: float[]) = {
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

    /// The candidate update from the state's values by the optimizer: (values, Adam's m, v and step).
    let private candidate (options: TrainingOptions) (state: TrainingState) (gradient: float[]) =
        let values = Array.copy state.Values

        match options.Optimizer with
        | Optimizer.Sgd ->
            for j in 0 .. gradient.Length - 1 do
                values[j] <- values[j] - state.Rate * gradient[j]

            values, state.AdamM, state.AdamV, state.AdamStep
        | Optimizer.Adam ->
            let t = state.AdamStep + 1
            let m, v = Array.copy state.AdamM, Array.copy state.AdamV
            let correction1 = 1.0 - Math.Pow(0.9, float t)
            let correction2 = 1.0 - Math.Pow(0.999, float t)

            for j in 0 .. gradient.Length - 1 do
                m[j] <- 0.9 * m[j] + 0.1 * gradient[j]
                v[j] <- 0.999 * v[j] + 0.001 * gradient[j] * gradient[j]
                let step = (m[j] / correction1) / (sqrt (v[j] / correction2) + 1e-8)
                values[j] <- values[j] - state.Rate * step

            values, m, v, t

    /// Where a run starts: its checkpoint's positions and state when it resumes (a Principal start depends on rounding,
    /// so the positions are read rather than computed again), else the starting sketch and a fresh state. Returns the
    /// positions, the random rows of a mixed sketch, and the state.
    let private startOrResume
        (sharding: Sharding)
        (options: TrainingOptions)
        (workers: int)
        (load: int -> Matrix<float>)
        (data: (int * float)[])
        (n: int)
        (print: Lazy<(string * int)[]>)
        =
        match options.ResumeFrom with
        | Some path ->
            let stored, state =
                TrainingCheckpoint.readCheckpoint
                    path
                    print.Value
                    options.Steps
                    (n * TrainingShape.perColumn options)
                    (TrainingShape.trainedRows options)

            stored, StartingSketches.randomRows options n, state
        | None ->
            let _, hash, initial, random =
                StartingSketches.start sharding options workers load data n

            hash, random, freshState options initial

    /// Applies one step's outcome to the state: the candidate when its loss, gradient and update are finite (the best
    /// values follow the training loss when there is no validation), else a rejection that halves the rate; a
    /// non-finite loss or gradient at the current values also returns to the values before the last accepted update,
    /// since staying there would reject every later step (a candidate that is not finite from finite values only needs
    /// the lower rate). Then the step count and Sgd's decay. Returns whether the step was rejected.
    let private applyStep
        (options: TrainingOptions)
        (state: TrainingState)
        (validating: bool)
        (mean: float)
        (finiteLoss: bool)
        (gradient: float[])
        (values: float[], adamM: float[], adamV: float[], adamStep: int)
        =
        let rejected =
            not finiteLoss
            || not (Guard.allFinite gradient)
            || not (Guard.allFinite values && Guard.allFinite adamV)

        if rejected then
            state.Rejected <- state.Rejected + 1
            state.Rate <- state.Rate / 2.0
            state.History.Add nan

            match state.Previous with
            | Some(values, m, v, t) when not finiteLoss || not (Guard.allFinite gradient) ->
                state.Values <- values
                state.AdamM <- m
                state.AdamV <- v
                state.AdamStep <- t
            | _ -> ()
        else
            state.History.Add mean

            if not validating && mean < state.BestLoss then
                state.BestLoss <- mean
                state.Best <- state.Values

            state.Previous <- Some(state.Values, state.AdamM, state.AdamV, state.AdamStep)
            state.Values <- values
            state.AdamM <- adamM
            state.AdamV <- adamV
            state.AdamStep <- adamStep

        state.Step <- state.Step + 1

        if
            options.Optimizer = Optimizer.Sgd
            && state.Step % options.DecayEvery = 0
            && state.Rate > options.MinimumLearningRate
        then
            state.Rate <- state.Rate * options.DecayFactor

        rejected


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
        let n = stack.Rows
        use loader = new Loader(stack)
        let load = loader.Load

        let data, norms, validation =
            scalesAndNorms sharding options eachOf loader stack.Count checkFinite
            ||> holdOut options

        let validationEvery =
            if options.ValidationEvery > 0 then
                options.ValidationEvery
            else
                max 1 (options.Steps / 25)

        // Only a checkpoint needs the fingerprint, whose hash reads every entry of the training set once.
        let print = lazy (TrainingCheckpoint.fingerprint sharding options stack load)

        let hash, random, state = startOrResume sharding options workers load data n print

        // The mean SCW error of the sketch with these values over the validation matrices (forward only, no tape).
        let validate (values: float[]) =
            let sketch = LossGradient.sketchOf options hash random values

            let errors =
                eachOf (validation |> Array.filter (fst >> sharding.Owns)) (fun (i, scale) ->
                    let a = load i
                    Scw.residualNorm a (Scw.approximateUnchecked options.Rank sketch a) / scale)

            (sharding.Sum [| Array.sum errors |])[0] / float validation.Length

        let checkpoint () =
            options.CheckpointPath
            |> Option.iter (fun path ->
                // Every process computes the fingerprint (it is collective); the first writes the file.
                let print = print.Value

                if sharding.Writes then
                    TrainingCheckpoint.writeCheckpoint path print hash state)

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
            let mean, finiteLoss, gradient =
                batchStep sharding options eachOf load data norms hash random state

            let rejected =
                applyStep
                    options
                    state
                    (validation.Length > 0)
                    mean
                    finiteLoss
                    gradient
                    (candidate options state gradient)

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

        resultOf options hash random state validation.Length validated

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
    /// <example>
    /// <code lang="fsharp">
    /// let frames = Synthetic.videoLike 1 120 48 64 // seed, frames, height, width
    /// let options = { Training.defaults 10 20 with Steps = 200 } // k = 10, m = 20
    /// let result = Training.train options (fun p -> printfn "step %d: %g" p.Step p.Loss) CancellationToken.None frames
    /// SketchFile.save "learned.sketch" result.Sketch
    /// </code>
    /// </example>
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
                TrainingValidation.validateMatrices matrices
                MatrixStack.ofMatrices matrices, false

        TrainingValidation.validate options stack.Rows stack.Columns (fun () -> stack[0])
        Backend.sideBySide (fun workers -> run Sharding.whole options progress cancellation stack checkFinite workers)
