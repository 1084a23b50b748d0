/// NumPy .npy files (format versions 1.0, 2.0 and 3.0): 2-D matrices and 3-D stacks of matrices, the way users bring
/// data from Python. The format is NumPy's "NEP 1": the magic string \x93NUMPY, a version, a header length (2 bytes in
/// version 1, 4 in versions 2 and 3), a Python dict literal {'descr', 'fortran_order', 'shape'} padded with spaces to
/// a multiple of 64 bytes, then the raw data.
[<RequireQualifiedAccess>]
module LowRank.Core.Npy

open System
open System.IO
open System.Buffers.Binary
open System.Text
open System.Text.RegularExpressions
open MathNet.Numerics.LinearAlgebra

open LowRank.Core.NpyFormat

/// <summary>Reads a 2-D array from a .npy file as a matrix.</summary>
/// <param name="path">The file: format 1.0, 2.0 or 3.0; dtype float64, float32, int8-64 or uint8-64, little-endian;
/// C or Fortran order.</param>
/// <returns>The matrix, in double precision.</returns>
/// <exception cref="System.ArgumentNullException">path is null.</exception>
/// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">the file is not a .npy file, is truncated or has trailing data, has
/// an unsupported version or dtype, or is not 2-D; the message names the file, what is wrong and the byte offset.</exception>
[<CompiledName("ReadMatrix")>]
let readMatrix (path: string) =
    use reader = open' path
    let header = readHeader path reader

    match header.Shape with
    | [| rows; columns |] -> (readData path reader header 1 rows columns [| 0 |])[0]
    | shape ->
        let text = Guard.dimensions shape

        let hint =
            if shape.Length = 3 then
                "; read a 3-D stack with readStack"
            else
                ""

        invalid path header.DataOffset $"expected a 2-D array, but the shape is ({text}){hint}"

/// <summary>Reads a 2-D array from a .npy file as its transpose: for an n x d array, the d x n matrix A^T whose
/// column-major storage is the file's C-order data as it lies, so nothing is transposed (what
/// Scw.approximateTransposedWithPower takes). A Fortran-order file is read and transposed.</summary>
/// <param name="path">The file, as for readMatrix.</param>
/// <returns>A^T (d x n), in double precision.</returns>
/// <exception cref="System.ArgumentNullException">path is null.</exception>
/// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">as for readMatrix.</exception>
/// <remarks>O(n d) time and memory; a C-order float64 file is copied in 1 MB chunks on every core (an 80,000 x 768
/// file 0.1-0.2 s against readMatrix's 0.25-0.3 s, which transposes).</remarks>
[<CompiledName("ReadTransposed")>]
let readTransposed (path: string) =
    use reader = open' path
    let header = readHeader path reader

    match header.Shape with
    | [| rows; columns |] when not header.Fortran ->
        Matrix<float>.Build.Dense(columns, rows, readInOrder path reader header rows columns)
    | [| rows; columns |] -> ((readData path reader header 1 rows columns [| 0 |])[0]).Transpose()
    | _ -> readMatrix path

/// <summary>The shape of the array in a .npy file, read from its header alone (the data is not read), so a caller can
/// choose between readMatrix and readStack or check sizes before loading.</summary>
/// <param name="path">The file.</param>
/// <returns>The dimensions, outermost first, as the header states them (() for a scalar gives an empty array).</returns>
/// <exception cref="System.ArgumentNullException">path is null.</exception>
/// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">the header is not a valid .npy header; the message names the file
/// and the byte offset.</exception>
[<CompiledName("Shape")>]
let shape (path: string) : int[] =
    use reader = open' path
    (readHeader path reader).Shape |> Array.copy

/// <summary>Reads a 3-D array (count x rows x columns) from a .npy file as a stack of matrices, for example video frames.</summary>
/// <param name="path">The file, as for readMatrix.</param>
/// <returns>count matrices of rows x columns.</returns>
/// <exception cref="System.ArgumentNullException">path is null.</exception>
/// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">as for readMatrix, or the array is not 3-D.</exception>
[<CompiledName("ReadStack")>]
let readStack (path: string) =
    use reader = open' path
    let header = readHeader path reader

    match header.Shape with
    | [| count; rows; columns |] ->
        checkSizes true path header count rows columns
        readData path reader header count rows columns (Array.init count id)
    | shape ->
        let text = Guard.dimensions shape
        invalid path header.DataOffset $"expected a 3-D array (count, rows, columns), but the shape is ({text})"

/// <summary>Reads some matrices of a 3-D .npy stack: for a C-order file (NumPy's default) only those matrices' bytes
/// are read, so a few frames of a long video stack cost a few frames' time and memory.</summary>
/// <param name="indices">Indices into the stack's first axis, each in [0, count), in the order wanted; repeats give
/// separate copies.</param>
/// <param name="path">The file, as for readStack.</param>
/// <returns>One matrix of rows x columns per index.</returns>
/// <exception cref="System.ArgumentNullException">indices or path is null.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">an index is outside [0, count); the message gives it and
/// count.</exception>
/// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">as for readStack.</exception>
[<CompiledName("ReadStackAt")>]
let readStackAt (indices: int[]) (path: string) =
    Guard.notNull (nameof indices) indices
    use reader = open' path
    let header = readHeader path reader

    match header.Shape with
    | [| count; rows; columns |] ->
        checkIndices path count indices

        let distinct = Array.distinct indices
        let matrices = readData path reader header count rows columns distinct
        let position = distinct |> Array.mapi (fun s k -> k, s) |> dict
        let used = Collections.Generic.HashSet<int>()

        indices
        |> Array.map (fun k ->
            let matrix = matrices[position[k]]
            if used.Add k then matrix else matrix.Clone())
    | shape ->
        let text = Guard.dimensions shape
        invalid path header.DataOffset $"expected a 3-D array (count, rows, columns), but the shape is ({text})"

/// For MatrixStack.readNpy: the matrices `indices` of a C-order 3-D stack as their raw bytes (one array per distinct
/// index, shared by repeats) with the decoder into column-major doubles; a Fortran-order stack, whose matrices
/// interleave, is decoded by readStackAt instead (Choice2Of2).
let internal readStackRaw (indices: int[]) (path: string) =
    Guard.notNull (nameof indices) indices
    use reader = open' path
    let header = readHeader path reader

    match header.Shape with
    | [| count; rows; columns |] ->
        checkIndices path count indices

        if header.Fortran then
            Choice2Of2()
        else
            let size, _ = elementReader path header.DataOffset header.Descr
            checkLength true path reader header count rows columns size
            let matrixBytes = int64 rows * int64 columns * int64 size

            if matrixBytes > int64 Array.MaxLength then
                invalid
                    path
                    header.DataOffset
                    $"a {rows} x {columns} matrix of '{header.Descr}' has more bytes than one array holds"

            let blocks = Collections.Generic.Dictionary<int, byte[]>()

            for k in indices do
                if not (blocks.ContainsKey k) then
                    reader.BaseStream.Seek(header.DataOffset + int64 k * matrixBytes, SeekOrigin.Begin)
                    |> ignore

                    let bytes = Array.zeroCreate<byte>(int matrixBytes)
                    reader.BaseStream.ReadExactly(bytes, 0, bytes.Length)
                    blocks[k] <- bytes

            Choice1Of2(rows, columns, indices |> Array.map (fun k -> blocks[k]), blockDecoder header.Descr)
    | shape ->
        let text = Guard.dimensions shape
        invalid path header.DataOffset $"expected a 3-D array (count, rows, columns), but the shape is ({text})"

/// The header of a version 1.0 '<f8' array; `fortran` says the element order of the data that follows.
let private writeHeader (writer: BinaryWriter) (fortran: bool) (shape: int[]) =
    let dims = Guard.dimensions shape
    let order = if fortran then "True" else "False"
    let dict = $"{{'descr': '<f8', 'fortran_order': {order}, 'shape': ({dims}), }}"
    // magic (6) + version (2) + length (2) + dict + padding + '\n' is a multiple of 64.
    let padded = dict.PadRight(((10 + dict.Length + 1 + 63) / 64) * 64 - 10 - 1) + "\n"
    writer.Write magic
    writer.Write 1uy
    writer.Write 0uy
    writer.Write(uint16 padded.Length)
    writer.Write(Encoding.Latin1.GetBytes padded)

/// Row blocks of a 2-D .npy matrix read by positional reads, so that a matrix larger than memory is read one block at
/// a time (streaming SCW, and each MPI rank reading only its own rows). The header and the file's length are checked
/// when it opens. C order reads a block as one contiguous range; Fortran order as one range per column.
///
/// With `flatten`, any C-order array of one or more axes reads as (first axis) x (the product of the others): an example
/// per row, whatever its shape. A Fortran-order array of more than two axes is refused there, since its flattened rows
/// would come out in a permuted order.
type internal RowBlockReader(path: string, flatten: bool) =
    let header, size, rows, columns =
        use reader = open' path
        let header = readHeader path reader

        let rows, columns =
            match header.Shape with
            | [| rows; columns |] -> rows, columns
            | [| rows |] when flatten -> rows, 1
            | shape when flatten && shape.Length > 2 && not header.Fortran ->
                let product = shape |> Array.skip 1 |> Array.fold (fun p d -> p * int64 d) 1L

                if product > int64 Int32.MaxValue then
                    invalid
                        path
                        header.DataOffset
                        $"an example of shape ({Guard.dimensions shape[1..]}) has more than {Int32.MaxValue} numbers"

                shape[0], int product
            | shape when flatten && shape.Length > 2 ->
                invalid
                    path
                    header.DataOffset
                    $"expected C order for an array of {shape.Length} axes, but it is in Fortran order"
            | shape when flatten ->
                invalid
                    path
                    header.DataOffset
                    $"expected an array with at least one axis, but the shape is ({Guard.dimensions shape})"
            | shape ->
                invalid path header.DataOffset $"expected a 2-D array, but the shape is ({Guard.dimensions shape})"

        let size, _ = elementReader path header.DataOffset header.Descr
        // Read a block at a time: the matrix may have more entries than one array holds.
        checkLength false path reader header 1 rows columns size
        header, size, rows, columns

    let decode = decoderInto header.Descr

    // Positional reads (pread) of the file, not a memory map: mapping the page cache into the process costs a page fault
    // per 4 KB on every pass (a pass over an 80,000 x 768 float64 file took 0.2-0.35 s mapped, 0.07 s read).
    let file =
        File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess)

    new(path: string) = new RowBlockReader(path, false)

    member _.Rows = rows
    member _.Columns = columns

    /// Whether the file is in C order, so that ReadTransposedInto reads its rows as they lie.
    member _.ByRows = not header.Fortran

    /// Rows first .. first + count - 1 in their own order into data[0 .. count columns - 1] (every entry overwritten):
    /// the column-major storage of their transpose (columns x count), as the file holds them. C order only (ByRows).
    member _.ReadTransposedInto(first: int, count: int, data: float[]) =
        readRowsInOrder file path header size columns first count data

    /// Rows first .. first + count - 1 as a dense count x columns matrix.
    member this.Read(first: int, count: int) : Matrix<float> =
        let data = Array.zeroCreate<float>(count * columns)
        this.ReadInto(first, count, data)
        Matrix<float>.Build.Dense(count, columns, data)

    /// Rows first .. first + count - 1 into `data` (count x columns, column-major, every entry overwritten): a caller
    /// that consumes each block before the next reuses one buffer instead of allocating one per block.
    member _.ReadInto(first: int, count: int, data: float[]) =
        if header.Fortran then
            forChunks columns (count * size) (fun j bytes ->
                readAt
                    file
                    path
                    (header.DataOffset + (int64 j * int64 rows + int64 first) * int64 size)
                    bytes
                    (count * size)

                decode bytes count 1 count (j * count) data)
        else
            // About 1 MB of whole rows at a time, decoded straight into the block while the bytes are still in cache.
            let chunk = chunkRowsOf count columns size

            forChunks ((count + chunk - 1) / chunk) (chunk * columns * size) (fun c bytes ->
                let start = c * chunk
                let rowsNow = min chunk (count - start)
                let offset = header.DataOffset + int64 (first + start) * int64 columns * int64 size
                readAt file path offset bytes (rowsNow * columns * size)
                decode bytes rowsNow columns count start data)

    interface IDisposable with
        member _.Dispose() = file.Dispose()

/// Writes doubles as little-endian '<f8' bytes: in one call on little-endian machines (their doubles' bytes are the
/// file's; BinaryWriter's Write per entry cost about 30 ns, 0.05 s for an 80,000 x 20 factor), else entry by entry.
let private writeDoubles (writer: BinaryWriter) (values: ReadOnlySpan<float>) =
    if BitConverter.IsLittleEndian then
        writer.Write(Runtime.InteropServices.MemoryMarshal.AsBytes values)
    else
        for x in values do
            writer.Write x

/// Writes a matrix's rows in C order: transposed into one buffer, written in one call.
let private writeRowMajor (writer: BinaryWriter) (matrix: Matrix<float>) =
    let rows, columns = matrix.RowCount, matrix.ColumnCount
    let values = matrix.ToColumnMajorArray()
    let buffer = Array.zeroCreate<float>(rows * columns)

    for i in 0 .. rows - 1 do
        for j in 0 .. columns - 1 do
            buffer[i * columns + j] <- values[i + j * rows]

    writeDoubles writer (ReadOnlySpan buffer)

/// A 2-D float64 .npy file written a block of rows at a time (C order), for results with as many rows as a matrix that
/// does not fit in memory. The header announces the final shape, so the file is complete once every row is written.
type internal RowBlockWriter(path: string, rows: int, columns: int) =
    let stream = new FileStream(path, FileMode.Create, FileAccess.Write)
    let writer = new BinaryWriter(stream)

    do writeHeader writer false [| rows; columns |]

    /// Appends a block's rows (C order, written in one call).
    member _.Write(block: Matrix<float>) = writeRowMajor writer block

    interface IDisposable with
        member _.Dispose() =
            writer.Dispose()
            stream.Dispose()

/// Writes a version 1.0 '<f8' array; `fortran` says the element order of `write`.
let private writeArray (path: string) (fortran: bool) (shape: int[]) (write: BinaryWriter -> unit) =
    use writer = new BinaryWriter(File.Create path)
    writeHeader writer fortran shape
    write writer

/// Rows first .. first + count - 1 of a .npy file through RowBlockReader (`flatten` as there).
let private readBlock (flatten: bool) (first: int) (count: int) (path: string) =
    use reader = new RowBlockReader(path, flatten)

    if first < 0 || count < 0 || int64 first + int64 count > int64 reader.Rows then
        raise (
            ArgumentOutOfRangeException(
                nameof first,
                first,
                $"Expected rows within the {reader.Rows} rows of {path}, but first = {first} and count = {count}."
            )
        )

    if count = 0 then
        Matrix<float>.Build.Dense(0, reader.Columns)
    else
        reader.Read(first, count)

/// <summary>Rows first .. first + count - 1 of a 2-D .npy matrix, read by positional reads without reading the rest:
/// how each process of a cluster reads its own rows of a matrix no single process holds.</summary>
/// <param name="first">The first row, 0 &lt;= first &lt;= n.</param>
/// <param name="count">How many rows, 0 &lt;= count and first + count &lt;= n (0 gives a 0 x d matrix).</param>
/// <param name="path">The file, as for readMatrix.</param>
/// <returns>The rows as a dense count x d matrix, in double precision.</returns>
/// <exception cref="System.ArgumentNullException">path is null.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">the rows lie outside the matrix.</exception>
/// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">as for readMatrix.</exception>
/// <remarks>O(count d) time and memory; C order reads one contiguous range, Fortran order one range per column.</remarks>
[<CompiledName("ReadRows")>]
let readRows (first: int) (count: int) (path: string) =
    Guard.notNull (nameof path) path
    readBlock false first count path

/// <summary>Examples first .. first + count - 1 of a .npy array of any shape, one example per index of its first axis,
/// each flattened in C order to a row: a (N, 3, 224, 224) image stack reads as rows of 150,528, token ids (N, T) as
/// rows of T, a vector (N) as one column. Read like readRows, which it equals on a 2-D matrix.
/// </summary>
/// <param name="first">The first example, 0 &lt;= first &lt;= N.</param>
/// <param name="count">How many, 0 &lt;= count and first + count &lt;= N.</param>
/// <param name="path">The file: any numeric element type readMatrix reads; C order, or Fortran order for 1 or 2 axes.</param>
/// <returns>count x (product of the axes past the first), in double precision (integers up to 2^53 exactly).</returns>
/// <exception cref="System.ArgumentNullException">path is null.</exception>
/// <exception cref="System.ArgumentOutOfRangeException">the examples lie outside the array.</exception>
/// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">as for readMatrix; also a 0-D array, or more than 2 axes in Fortran
/// order.</exception>
/// <remarks>O(count d) time and memory.</remarks>
[<CompiledName("ReadExamples")>]
let readExamples (first: int) (count: int) (path: string) =
    Guard.notNull (nameof path) path
    readBlock true first count path

/// <summary>Writes a matrix as a 2-D float64 .npy file (format 1.0, Fortran order: MathNet's storage, copied as is).</summary>
/// <param name="path">The file to create or overwrite.</param>
/// <param name="matrix">The matrix; NaN and infinities are written as they are.</param>
/// <exception cref="System.ArgumentNullException">path or matrix is null.</exception>
[<CompiledName("WriteMatrix")>]
let writeMatrix (path: string) (matrix: Matrix<float>) =
    Guard.notNull (nameof path) path
    Guard.notNull (nameof matrix) matrix
    let values = matrix.ToColumnMajorArray()
    writeArray path true [| matrix.RowCount; matrix.ColumnCount |] (fun w -> writeDoubles w (ReadOnlySpan values))

/// <summary>Writes matrices of one shape as a 3-D float64 .npy file of shape (count, rows, columns), C order.</summary>
/// <param name="path">The file to create or overwrite.</param>
/// <param name="matrices">At least one matrix, all of the same shape.</param>
/// <exception cref="System.ArgumentNullException">path, matrices or one of them is null.</exception>
/// <exception cref="System.ArgumentException">matrices is empty or the shapes differ.</exception>
[<CompiledName("WriteStack")>]
let writeStack (path: string) (matrices: seq<Matrix<float>>) =
    Guard.notNull (nameof path) path
    Guard.notNull (nameof matrices) matrices
    let stack = Seq.toArray matrices

    if stack.Length = 0 then
        raise (ArgumentException("Expected at least one matrix, but matrices is empty.", nameof matrices))

    stack |> Array.iteri (fun k m -> Guard.notNull $"{nameof matrices}[{k}]" m)

    stack
    |> Array.iteri (fun k m -> Guard.sameShape $"{nameof matrices}[{k}]" m "matrices[0]" stack[0] (nameof matrices))

    let rows, columns = stack[0].RowCount, stack[0].ColumnCount

    writeArray path false [| stack.Length; rows; columns |] (fun w ->
        for m in stack do
            writeRowMajor w m)
