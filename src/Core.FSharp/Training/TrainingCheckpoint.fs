namespace LowRank.Core

open System
open System.Diagnostics
open System.IO
open System.Threading
open MathNet.Numerics.LinearAlgebra

/// The binary checkpoint of a training run: a fingerprint of the options and the data, the positions, and the state, so
/// that a resumed run continues exactly as an uninterrupted one and a resume with other options or data is rejected.
[<RequireQualifiedAccess>]
module internal TrainingCheckpoint =

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

    let internal fingerprint
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

        "NonzerosPerColumn", TrainingShape.perColumn options
        "PrincipalMatrices", options.PrincipalMatrices
        "GreedyMatrices", options.GreedyMatrices

        "the hash of the training data, LearningRate, the decay and validation options and the loss weights",
        contentHash sharding options count load
    |]

    let internal writeCheckpoint (path: string) (print: (string * int)[]) (positions: int[]) (state: TrainingState) =
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

    let internal readCheckpoint (path: string) (print: (string * int)[]) (steps: int) (positions: int) (rows: int) =
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
