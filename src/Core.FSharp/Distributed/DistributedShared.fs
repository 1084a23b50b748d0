namespace LowRank.Core

open System
open System.Text
open MathNet.Numerics.LinearAlgebra

/// The checks and row offsets every distributed algorithm shares: errors found on any rank raised on every rank.
module internal DistributedShared =

    /// Runs this rank's checks, then raises on every rank the first failure of any rank: the failing rank rethrows its
    /// own exception, the others an ArgumentException naming that rank and its message.
    let internal agree (communicator: ICommunicator) (check: unit -> unit) =
        let failure =
            try
                check ()
                None
            with :? ArgumentException as e ->
                Some e

        let mine =
            match failure with
            | Some e ->
                let suffix = $" (Parameter '{e.ParamName}')"
                let message = e.Message.Split('\n')[0]

                let message =
                    if message.EndsWith suffix then
                        message[.. message.Length - suffix.Length - 1]
                    else
                        message

                Encoding.UTF8.GetBytes($"{e.ParamName}\n{message}")
            | None -> [||]

        let all = communicator.Allgather mine

        match failure, all |> Array.tryFindIndex (fun b -> b.Length > 0) with
        | Some e, Some first when first = communicator.Rank -> raise e
        | _, Some first ->
            let text = Encoding.UTF8.GetString all[first]
            let cut = text.IndexOf '\n'
            raise (ArgumentException($"rank {first}: {text[cut + 1 ..]}", text[.. cut - 1]))
        | _ -> ()

    /// This rank's row offset and the total row count.
    let internal rowOffsets (communicator: ICommunicator) (rows: int) =
        let counts = Communicator.allgatherInt64 communicator (int64 rows)
        Array.sum counts[.. communicator.Rank - 1], Array.sum counts

    let internal checkCommunicator (communicator: ICommunicator) =
        Guard.notNull (nameof communicator) communicator

    /// A local part: not null, finite, with at least one column (zero rows are allowed: a rank may hold none).
    let internal checkPart (name: string) (part: Matrix<float>) =
        Guard.notNull name part

        if part.ColumnCount < 1 then
            raise (ArgumentException($"Expected at least one column, but {name} is {Guard.shape part}.", name))

        match Guard.firstNonFinite part with
        | Some(i, j, x) -> raise (ArgumentException($"Expected finite entries, but {name}[{i}, {j}] is {x}.", name))
        | None -> ()

    /// The ranks' column counts must agree.
    let internal checkWidths (communicator: ICommunicator) (name: string) (part: Matrix<float>) =
        let widths = Communicator.allgatherInt64 communicator (int64 part.ColumnCount)

        if widths |> Array.exists ((<>) widths[0]) then
            let text = widths |> Array.map string |> String.concat ", "

            raise (
                ArgumentException($"Expected every rank's {name} to have the same columns, but they have {text}.", name)
            )

    /// S A with this rank's row offset and the total rows.
    let internal sketchWithOffsets (communicator: ICommunicator) (sketch: BlockSketch) (part: Matrix<float>) =
        checkCommunicator communicator

        agree communicator (fun () ->
            Guard.notNull (nameof sketch) sketch
            checkPart (nameof part) part)

        agree communicator (fun () -> checkWidths communicator (nameof part) part)
        let offset, total = rowOffsets communicator part.RowCount

        agree communicator (fun () ->
            match sketch with
            | BlockSketch.Given s when int64 (Sketch.columns s) <> total ->
                raise (
                    ArgumentException(
                        $"Expected a sketch with one column per row of A ({total} over all ranks), but it has {Sketch.columns s}.",
                        nameof sketch
                    )
                )
            | BlockSketch.Hashed(_, rows) -> Guard.positive "rows" rows
            | _ -> ())

        let m = RowBlocks.sketchRows sketch

        let local =
            if part.RowCount = 0 then
                Array.zeroCreate (m * part.ColumnCount)
            else
                (RowBlocks.apply sketch offset part).ToColumnMajorArray()

        Matrix<float>.Build.Dense(m, part.ColumnCount, communicator.AllreduceSum local), offset, total
