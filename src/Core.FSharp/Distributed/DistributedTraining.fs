namespace LowRank.Core

open System
open System.Text
open MathNet.Numerics.LinearAlgebra
open LowRank.Core.DistributedShared

/// Data-parallel training of a learned sketch over ranks (the implementation of Distributed.train).
[<RequireQualifiedAccess>]
module internal DistributedTraining =

    /// The implementation of Distributed.train.
    let internal train
        (communicator: ICommunicator)
        (options: TrainingOptions)
        (progress: TrainingProgress -> unit)
        (cancellation: Threading.CancellationToken)
        (part: seq<Matrix<float>>)
        =
        checkCommunicator communicator
        // This rank's matrices: a MatrixStack is kept as it is (a uint8 video stays 1 byte an entry and is converted a
        // matrix at a time), any other sequence is read into an array.
        let mutable local: MatrixStack option = None

        agree communicator (fun () ->
            Guard.notNull (nameof options) options
            Guard.notNull (nameof progress) progress
            Guard.notNull (nameof part) part

            local <-
                match part with
                // Its matrices are checked for finiteness by the run's first pass over them, on every rank together.
                | :? MatrixStack as stack -> Some stack
                | _ ->
                    let matrices = Seq.toArray part

                    if matrices.Length > 0 then
                        TrainingValidation.validateMatrices matrices
                        Some(MatrixStack.ofMatrices matrices)
                    else
                        None

            if options.Positions = SketchPositions.Greedy then
                raise (
                    ArgumentException(
                        "Expected Positions Random or Principal for distributed training: the greedy search reads every matrix.",
                        nameof options
                    )
                ))

        let count = local |> Option.map (fun s -> s.Count) |> Option.defaultValue 0
        let counts = Communicator.allgatherInt64 communicator (int64 count)

        let shapes =
            Communicator.allgatherValues
                communicator
                (match local with
                 | Some s -> [| float s.Rows; float s.Columns |]
                 | None -> [||])

        let offset = int (Array.sum counts[.. communicator.Rank - 1])
        let total = int (Array.sum counts)

        agree communicator (fun () ->
            if total = 0 then
                raise (
                    ArgumentException(
                        "Expected at least one training matrix on some rank, but no rank has one.",
                        nameof part
                    )
                )

            let present = shapes |> Array.filter (fun s -> s.Length = 2)

            if present |> Array.exists (fun s -> s <> present[0]) then
                let text =
                    shapes
                    |> Array.map (fun s -> if s.Length = 2 then $"{s[0]}x{s[1]}" else "-")
                    |> String.concat ", "

                raise (
                    ArgumentException(
                        $"Expected training matrices of one shape on every rank, but the ranks hold {text}.",
                        nameof part
                    )
                ))

        let shape = shapes |> Array.find (fun s -> s.Length = 2)
        let n, d = int shape[0], int shape[1]
        let owns (i: int) = i >= offset && i < offset + count

        agree communicator (fun () ->
            TrainingValidation.validate options n d (fun () ->
                match local with
                | Some s -> s[0]
                | None -> Matrix<float>.Build.Dense(n, d)))

        // The global stack: this rank's matrices at their global indices; the others are never loaded here.
        let stack =
            match local with
            | Some mine ->
                let fill (i: int) (target: float[]) =
                    if not (owns i) then
                        invalidOp $"Matrix {i} is held by another rank."

                    mine.Fill(i - offset, target)

                let shared =
                    mine.Shared
                    |> Option.map (fun items ->
                        let placeholder = Matrix<float>.Build.Dense(1, 1)
                        Array.init total (fun i -> if owns i then items[i - offset] else placeholder))

                MatrixStack(total, n, d, fill, shared)
            | None -> MatrixStack(total, n, d, (fun i _ -> invalidOp $"Matrix {i} is held by another rank."), None)

        let sharding: Sharding = {
            Owns = owns
            Sum = communicator.AllreduceSum
            Stop = fun stop -> (communicator.AllreduceSum [| (if stop then 1.0 else 0.0) |])[0] > 0.0
            Writes = communicator.Rank = 0
        }

        let checkFinite = part :? MatrixStack

        Backend.sideBySide (fun workers ->
            Training.run sharding options progress cancellation stack checkFinite workers)
