namespace LowRank.Core

open System
open System.Globalization
open System.IO
open System.IO.Compression
open MathNet.Numerics.LinearAlgebra

/// IDX files, the format of MNIST and Fashion-MNIST (LeCun et al.), plain or gzip-compressed: two zero bytes, a type
/// byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), a dimension count, the
/// dimensions as big-endian int32, then big-endian data in row-major order.
[<RequireQualifiedAccess>]
module Idx =

    let private invalid (path: string) (what: string) =
        raise (InvalidDataException($"{path}: {what}."))

    /// The dimensions and the values (row-major), reading the whole file; gzip is recognised by its 1F 8B signature.
    let private read (path: string) =
        Guard.notNull (nameof path) path
        let raw = File.ReadAllBytes path

        let bytes =
            if raw.Length >= 2 && raw[0] = 0x1Fuy && raw[1] = 0x8Buy then
                use gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress)
                use copy = new MemoryStream()

                try
                    gzip.CopyTo copy
                with :? InvalidDataException as e ->
                    invalid path $"the gzip stream is corrupt ({e.Message})"

                copy.ToArray()
            else
                raw

        if bytes.Length < 4 || bytes[0] <> 0uy || bytes[1] <> 0uy then
            invalid path "not an IDX file: it does not start with two zero bytes"

        let size, decode =
            match bytes[2] with
            | 0x08uy -> 1, fun (b: byte[]) p -> float b[p]
            | 0x09uy -> 1, fun (b: byte[]) p -> float (sbyte b[p])
            | 0x0Buy ->
                2,
                fun (b: byte[]) p -> float (Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(ReadOnlySpan(b, p, 2)))
            | 0x0Cuy ->
                4,
                fun (b: byte[]) p -> float (Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(ReadOnlySpan(b, p, 4)))
            | 0x0Duy ->
                4,
                fun (b: byte[]) p -> float (Buffers.Binary.BinaryPrimitives.ReadSingleBigEndian(ReadOnlySpan(b, p, 4)))
            | 0x0Euy ->
                8, fun (b: byte[]) p -> Buffers.Binary.BinaryPrimitives.ReadDoubleBigEndian(ReadOnlySpan(b, p, 8))
            | other -> invalid path $"data type 0x{other:X2} is not an IDX type (expected 08, 09, 0B, 0C, 0D or 0E)"

        let rank = int bytes[3]

        if rank < 1 || bytes.Length < 4 + 4 * rank then
            invalid path $"truncated or invalid dimensions ({rank} announced)"

        let dims =
            Array.init rank (fun d ->
                Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(ReadOnlySpan(bytes, 4 + 4 * d, 4)))

        if Array.exists (fun d -> d < 0) dims then
            invalid path $"negative dimension in ({Guard.dimensions dims})"

        let count = dims |> Array.fold (fun acc d -> acc * int64 d) 1L
        let start = 4 + 4 * rank
        let expected = int64 start + count * int64 size

        if int64 bytes.Length <> expected then
            invalid path $"dimensions ({Guard.dimensions dims}) need {expected} bytes, the file has {bytes.Length}"

        dims, Array.init (int count) (fun q -> decode bytes (start + q * size))

    let private matrixOf rows columns (values: float[]) offset =
        Matrix<float>.Build.Dense(rows, columns, fun i j -> values[offset + i * columns + j])

    /// <summary>Reads an IDX file as one matrix with a row per item: a (count, d1, d2, ...) array becomes count rows of
    /// d1 d2 ... entries (an image per row, as pixel vectors); a 1-D array (labels) becomes one column.</summary>
    /// <param name="path">The file, plain or gzip-compressed.</param>
    /// <returns>The matrix, in double precision.</returns>
    /// <exception cref="System.ArgumentNullException">path is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">not an IDX file, an unknown type, or a size that does not match the
    /// dimensions; the message names the file and the problem.</exception>
    [<CompiledName("ReadRows")>]
    let readRows (path: string) =
        let dims, values = read path
        let rows = dims[0]
        let columns = if dims.Length = 1 then 1 else Array.reduce (*) dims[1..]
        matrixOf rows columns values 0

    /// <summary>Reads a 3-D IDX file (count, rows, columns) as a stack of matrices, for example images.</summary>
    /// <param name="path">The file, plain or gzip-compressed.</param>
    /// <returns>count matrices.</returns>
    /// <exception cref="System.ArgumentNullException">path is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">as for readRows, or the array is not 3-D.</exception>
    [<CompiledName("ReadStack")>]
    let readStack (path: string) =
        match read path with
        | [| count; rows; columns |], values ->
            Array.init count (fun k -> matrixOf rows columns values (k * rows * columns))
        | dims, _ ->
            invalid
                path
                $"expected a 3-D array (count, rows, columns), but the dimensions are ({Guard.dimensions dims})"

/// Comma-separated numbers: one matrix row per line, invariant culture ("1.5e-3", "NaN", "-Infinity" as .NET parses
/// them), blank lines ignored, no header.
[<RequireQualifiedAccess>]
module Csv =

    /// <summary>Reads a CSV file of numbers as a matrix.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The matrix.</returns>
    /// <exception cref="System.ArgumentNullException">path is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">a field is not a number, the rows have different lengths, or the
    /// file has no rows; the message names the file, line and field.</exception>
    [<CompiledName("ReadMatrix")>]
    let readMatrix (path: string) =
        Guard.notNull (nameof path) path

        let rows =
            File.ReadLines path
            |> Seq.mapi (fun index line -> index + 1, line)
            |> Seq.filter (fun (_, line) -> not (String.IsNullOrWhiteSpace line))
            |> Seq.map (fun (number, line) ->
                line.Split ','
                |> Array.mapi (fun field text ->
                    match Double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) with
                    | true, value -> value
                    | _ ->
                        raise (
                            InvalidDataException(
                                $"{path}: line {number}, field {field + 1}: '{text.Trim()}' is not a number."
                            )
                        )),
                number)
            |> Seq.toArray

        if rows.Length = 0 then
            raise (InvalidDataException($"{path}: no rows of numbers."))

        let width = (fst rows[0]).Length

        match rows |> Array.tryFind (fun (row, _) -> row.Length <> width) with
        | Some(row, number) ->
            raise (
                InvalidDataException($"{path}: line {number} has {row.Length} fields, but the first row has {width}.")
            )
        | None -> Matrix<float>.Build.DenseOfRowArrays(Array.map fst rows)

    /// <summary>Writes a matrix as CSV, one row per line, with the shortest round-trip form of each number ("R"), so
    /// reading it back gives the same doubles.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="matrix">The matrix.</param>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    [<CompiledName("WriteMatrix")>]
    let writeMatrix (path: string) (matrix: Matrix<float>) =
        Guard.notNull (nameof path) path
        Guard.notNull (nameof matrix) matrix

        File.WriteAllLines(
            path,
            matrix.EnumerateRows()
            |> Seq.map (fun row ->
                row
                |> Seq.map (fun x -> x.ToString("R", CultureInfo.InvariantCulture))
                |> String.concat ",")
        )
