namespace LowRank.Core

open System
open System.Collections
open System.Collections.Generic
open MathNet.Numerics.LinearAlgebra

/// <summary>A read-only sequence of matrices of one shape, stored compactly and converted to double precision when
/// used: a .npy stack of uint8 video frames (MatrixStack.readNpy) takes one byte per entry instead of eight. Training
/// reads its matrices through one, a few at a time, so its memory is the stack's plus O(batch) frames.</summary>
/// <remarks>Indexing and enumeration return a new matrix each time (O(rows columns) time and memory): changing it does
/// not change the stack.</remarks>
[<Sealed>]
type MatrixStack
    internal (count: int, rows: int, columns: int, fill: int -> float[] -> unit, shared: Matrix<float>[] option) =

    /// The number of matrices.
    member _.Count = count

    /// The rows of every matrix.
    member _.Rows = rows

    /// The columns of every matrix.
    member _.Columns = columns

    /// Matrix `index` (from 0), as a new dense matrix.
    member _.Item
        with get (index: int) =
            if index < 0 || index >= count then
                raise (
                    ArgumentOutOfRangeException(
                        nameof index,
                        index,
                        $"Expected an index in [0, {count}) for a stack of {count} matrices, but it is {index}."
                    )
                )

            let values = Array.zeroCreate (rows * columns)
            fill index values
            Matrix<float>.Build.Dense(rows, columns, values)

    /// Writes matrix `index` into `target` (rows * columns entries, column-major).
    member internal _.Fill(index: int, target: float[]) = fill index target

    /// The matrices themselves, when the stack wraps matrices already in memory (read without a copy).
    member internal _.Shared = shared

    override _.ToString() =
        $"MatrixStack of {count} matrices of {rows} x {columns}"

    interface IReadOnlyList<Matrix<float>> with
        member this.Count = count

        member this.Item
            with get index = this[index]

        member this.GetEnumerator() : IEnumerator<Matrix<float>> =
            (Seq.init count (fun i -> this[i])).GetEnumerator()

        member this.GetEnumerator() : IEnumerator =
            (Seq.init count (fun i -> this[i]) :> IEnumerable).GetEnumerator()

/// Builds matrix stacks.
[<RequireQualifiedAccess>]
module MatrixStack =

    /// <summary>A stack over matrices already in memory, without copying them; the stack then reflects later changes
    /// to them.</summary>
    /// <param name="matrices">At least one matrix, none null, all of one shape.</param>
    /// <returns>The stack.</returns>
    /// <exception cref="System.ArgumentNullException">matrices or one of them is null.</exception>
    /// <exception cref="System.ArgumentException">matrices is empty or the shapes differ (the message names the
    /// index).</exception>
    [<CompiledName("OfMatrices")>]
    let ofMatrices (matrices: seq<Matrix<float>>) =
        Guard.notNull (nameof matrices) matrices

        match matrices with
        | :? MatrixStack as stack -> stack
        | _ ->
            let items = Seq.toArray matrices

            if items.Length = 0 then
                raise (ArgumentException("Expected at least one matrix, but matrices is empty.", nameof matrices))

            items |> Array.iteri (fun i a -> Guard.notNull $"{nameof matrices}[{i}]" a)
            let rows, columns = items[0].RowCount, items[0].ColumnCount

            match
                items
                |> Array.tryFindIndex (fun a -> a.RowCount <> rows || a.ColumnCount <> columns)
            with
            | Some i ->
                raise (
                    ArgumentException(
                        $"Expected every matrix to be {rows}x{columns} like matrices[0], but matrices[{i}] is {Guard.shape items[i]}.",
                        nameof matrices
                    )
                )
            | None -> ()

            let fill (index: int) (target: float[]) =
                match items[index].AsColumnMajorArray() with
                | null -> Array.blit (items[index].ToColumnMajorArray()) 0 target 0 target.Length
                | values -> Array.blit values 0 target 0 target.Length

            MatrixStack(items.Length, rows, columns, fill, Some items)

    /// <summary>The matrices `indices` of a 3-D .npy stack (count, rows, columns), kept in the file's own dtype (a uint8
    /// video: 1 byte per entry) and converted to double precision when used. A Fortran-order stack, whose matrices
    /// interleave in the file, is read and kept in double precision instead.</summary>
    /// <param name="indices">Indices into the first axis, each in [0, count); repeats are allowed and share storage.</param>
    /// <param name="path">The file, as for Npy.readStack.</param>
    /// <returns>The stack, in the order of indices.</returns>
    /// <exception cref="System.ArgumentNullException">indices or path is null.</exception>
    /// <exception cref="System.ArgumentException">indices is empty.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">an index is outside [0, count).</exception>
    /// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">as for Npy.readStack.</exception>
    [<CompiledName("ReadNpy")>]
    let readNpy (indices: int[]) (path: string) =
        Guard.notNull (nameof indices) indices

        if indices.Length = 0 then
            raise (ArgumentException("Expected at least one index, but indices is empty.", nameof indices))

        match Npy.readStackRaw indices path with
        | Choice1Of2(rows, columns, blocks, decode) ->
            MatrixStack(indices.Length, rows, columns, (fun i target -> decode blocks[i] rows columns target), None)
        | Choice2Of2() -> ofMatrices (Npy.readStackAt indices path)

    /// <summary>Matrices first .. first + count - 1 of a stack, as a stack sharing its storage (nothing is copied or
    /// converted): a rank's share of a training set in data-parallel training.</summary>
    /// <param name="first">The first index, 0 &lt;= first.</param>
    /// <param name="count">How many, 1 &lt;= count and first + count &lt;= the stack's count.</param>
    /// <param name="stack">The stack.</param>
    /// <returns>The slice.</returns>
    /// <exception cref="System.ArgumentNullException">stack is null.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">the range lies outside the stack or is empty.</exception>
    [<CompiledName("Slice")>]
    let slice (first: int) (count: int) (stack: MatrixStack) =
        Guard.notNull (nameof stack) stack

        if first < 0 || count < 1 || int64 first + int64 count > int64 stack.Count then
            raise (
                ArgumentOutOfRangeException(
                    nameof first,
                    first,
                    $"Expected 0 <= first and 1 <= count with first + count <= {stack.Count}, but first = {first} and count = {count}."
                )
            )

        MatrixStack(
            count,
            stack.Rows,
            stack.Columns,
            (fun i target -> stack.Fill(first + i, target)),
            stack.Shared |> Option.map (fun items -> items[first .. first + count - 1])
        )
