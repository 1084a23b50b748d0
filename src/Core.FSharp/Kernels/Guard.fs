/// Argument checks shared by every public entry point. Each failure names the argument, says what was
/// expected and what was given, so that a C# caller reading only the exception knows what to fix.
module internal LowRank.Core.Guard

open System
open MathNet.Numerics.LinearAlgebra

let notNull (name: string) (value: 'T) =
    if isNull (box value) then
        raise (ArgumentNullException(name, $"Expected a value for {name}, but it was null."))

/// Rejects a null element of the array `name` (itself checked non-null by the caller), naming its index: `what` says
/// what an element is ("a sketch").
let noNullElement (name: string) (what: string) (values: 'T[]) =
    values
    |> Array.iteri (fun i value ->
        if isNull (box value) then
            raise (ArgumentNullException(name, $"Expected {what}, but {name}[{i}] is null.")))

let shape (m: Matrix<float>) = $"{m.RowCount}x{m.ColumnCount}"

/// An array's dimensions as NumPy prints a shape: "3, 4".
let dimensions (dims: int[]) = String.Join(", ", dims)

/// Rejects null and empty (0 x d or n x 0) matrices.
let nonEmpty (name: string) (m: Matrix<float>) =
    notNull name m

    if m.RowCount = 0 || m.ColumnCount = 0 then
        raise (
            ArgumentException($"Expected a matrix with at least one row and one column, but {name} is {shape m}.", name)
        )

/// Whether every entry of a span is finite: x - x is 0 for finite x and NaN for NaN or infinity, so a vector sum of
/// x - x stays 0 exactly when all are finite.
let private spanFinite (data: ReadOnlySpan<float>) =
    let width = Numerics.Vector<float>.Count
    let mutable acc = Numerics.Vector<float>.Zero
    let mutable i = 0

    while i <= data.Length - width do
        let v = Numerics.Vector<float>(data.Slice(i, width))
        acc <- acc + (v - v)
        i <- i + width

    let mutable tail = 0.0

    while i < data.Length do
        tail <- tail + (data[i] - data[i])
        i <- i + 1

    Numerics.Vector.EqualsAll(acc, Numerics.Vector<float>.Zero) && tail = 0.0

/// Entries per chunk when a long array is checked or summed on every core (2 MB), and the length from which it is.
let internal ParallelChunk = 1 <<< 18
let internal ParallelFrom = 1 <<< 21

/// Whether every entry is finite. One SIMD pass, so validation costs a fraction of any algorithm that reads A; on every
/// core for arrays of 2M entries or more (one core read an 80,000 x 768 matrix in 0.08 s, memory-bound).
let allFinite (data: float[]) =
    if data.Length < ParallelFrom then
        spanFinite (ReadOnlySpan data)
    else
        let chunks = (data.Length + ParallelChunk - 1) / ParallelChunk

        Threading.Tasks.Parallel
            .For(
                0,
                chunks,
                fun c (state: Threading.Tasks.ParallelLoopState) ->
                    let first = c * ParallelChunk

                    if not (spanFinite (ReadOnlySpan(data, first, min ParallelChunk (data.Length - first)))) then
                        state.Stop()
            )
            .IsCompleted

/// The first entry that is NaN or infinite, in column-major order, if any. O(nnz) for sparse storage.
let firstNonFinite (m: Matrix<float>) : (int * int * float) option =
    match m.AsColumnMajorArray() with
    | data when not (isNull data) && allFinite data -> None
    | null ->
        m.EnumerateIndexed(Zeros.AllowSkip)
        |> Seq.tryFind (fun struct (_, _, x) -> not (Double.IsFinite x))
        |> Option.map (fun struct (i, j, x) -> i, j, x)
    | data ->
        match Array.tryFindIndex (fun x -> not (Double.IsFinite x)) data with
        | Some p -> Some(p % m.RowCount, p / m.RowCount, data[p])
        | None -> None

/// The exception for the non-finite entry x at (i, j) of the matrix `name`.
let nonFinite (name: string) (i: int, j: int, x: float) =
    ArgumentException($"Expected only finite entries in {name}, but {name}[{i}, {j}] = {x}.", name)

/// Rejects null, empty and non-finite matrices: every algorithm's precondition on its data.
let finiteMatrix (name: string) (m: Matrix<float>) =
    nonEmpty name m

    match firstNonFinite m with
    | Some entry -> raise (nonFinite name entry)
    | None -> ()

/// Rejects a matrix `name` whose shape differs from `data`'s, naming the parameter `parameter` (which differs from
/// `name` when the matrix is a field of an options argument).
let sameShape (name: string) (m: Matrix<float>) (dataName: string) (data: Matrix<float>) (parameter: string) =
    if m.RowCount <> data.RowCount || m.ColumnCount <> data.ColumnCount then
        raise (
            ArgumentException(
                $"Expected {name} to have the shape of {dataName} ({shape data}), but {name} is {shape m}.",
                parameter
            )
        )

/// Rejects weights that are not a finite, nonnegative matrix of the data's shape.
let weights (name: string) (w: Matrix<float>) (dataName: string) (data: Matrix<float>) =
    finiteMatrix name w
    sameShape name w dataName data name

    match
        w.EnumerateIndexed(Zeros.AllowSkip)
        |> Seq.tryFind (fun struct (_, _, x) -> x < 0.0)
    with
    | Some(struct (i, j, x)) ->
        raise (ArgumentException($"Expected nonnegative weights, but {name}[{i}, {j}] = {x}.", name))
    | None -> ()

/// Throws ArgumentOutOfRangeException naming `name` unless value >= 0.
let nonNegative (name: string) (value: int) =
    if value < 0 then
        raise (ArgumentOutOfRangeException(name, value, $"Expected {name} >= 0, but it is {value}."))

let positive (name: string) (value: int) =
    if value < 1 then
        raise (ArgumentOutOfRangeException(name, value, $"Expected {name} >= 1, but {name} = {value}."))

/// Rejects an array named `name` (shown as `label`, e.g. "spectra[2]") with a negative, NaN or infinite entry: `what`
/// names its entries in the message ("row weights", "importances").
let nonNegativeFinite (name: string) (label: string) (what: string) (values: float[]) =
    match values |> Array.tryFindIndex (fun x -> not (x >= 0.0 && Double.IsFinite x)) with
    | Some i -> raise (ArgumentException($"Expected finite {what} >= 0, but {label}[{i}] is {values[i]}.", name))
    | None -> ()

/// Checks 1 <= rank <= min(rows, columns) of the matrix named `matrixName`.
let rank (name: string) (value: int) (matrixName: string) (m: Matrix<float>) =
    let limit = min m.RowCount m.ColumnCount

    if value < 1 || value > limit then
        raise (
            ArgumentOutOfRangeException(
                name,
                value,
                $"Expected 1 <= {name} <= min(rows, columns) = {limit} for the {shape m} {matrixName}, but {name} = {value}."
            )
        )
