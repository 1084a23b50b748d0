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

let private magic = [| 0x93uy; byte 'N'; byte 'U'; byte 'M'; byte 'P'; byte 'Y' |]

type private Header = {
    Descr: string
    Fortran: bool
    Shape: int[]
    DataOffset: int64
}

let private invalid (path: string) (offset: int64) (what: string) =
    raise (InvalidDataException($"{path}: {what} (at byte {offset})."))

/// Element readers for the supported little-endian dtypes, with their sizes in bytes.
let private elementReader (path: string) (offset: int64) (descr: string) : int * (BinaryReader -> float) =
    let kind =
        if descr.Length > 0 && "<|=".Contains descr[0] then
            descr.Substring 1
        else
            descr

    if descr.StartsWith ">" then
        invalid
            path
            offset
            $"big-endian data ('{descr}') is not supported; convert it in NumPy with a.astype('<{kind}')"

    match kind with
    | "f8" -> 8, fun r -> r.ReadDouble()
    | "f4" -> 4, fun r -> float (r.ReadSingle())
    | "i8" -> 8, fun r -> float (r.ReadInt64())
    | "i4" -> 4, fun r -> float (r.ReadInt32())
    | "i2" -> 2, fun r -> float (r.ReadInt16())
    | "i1" -> 1, fun r -> float (r.ReadSByte())
    | "u8" -> 8, fun r -> float (r.ReadUInt64())
    | "u4" -> 4, fun r -> float (r.ReadUInt32())
    | "u2" -> 2, fun r -> float (r.ReadUInt16())
    | "u1" -> 1, fun r -> float (r.ReadByte())
    | _ ->
        invalid
            path
            offset
            $"dtype '{descr}' is not supported (expected float64, float32, int8-64 or uint8-64, little-endian)"

let private readHeader (path: string) (reader: BinaryReader) : Header =
    let stream = reader.BaseStream

    if stream.Length < 10L || reader.ReadBytes 6 <> magic then
        invalid path 0L "not a .npy file: it does not start with the magic string \\x93NUMPY"

    let major = reader.ReadByte()
    reader.ReadByte() |> ignore

    let length =
        match major with
        | 1uy -> int64 (reader.ReadUInt16())
        | 2uy
        | 3uy ->
            if stream.Length < 12L then
                invalid path 8L "truncated in the header length"

            int64 (reader.ReadUInt32())
        | other -> invalid path 6L $"format version {other} is not supported (expected 1, 2 or 3)"

    let start = stream.Position

    if stream.Length - start < length then
        invalid path start $"truncated in the header: {length} bytes announced, {stream.Length - start} present"

    let bytes = reader.ReadBytes(int length)

    let text =
        if major = 3uy then
            Encoding.UTF8.GetString bytes
        else
            Encoding.Latin1.GetString bytes

    let field name pattern =
        let m = Regex.Match(text, $"'{name}'\\s*:\\s*{pattern}")

        if not m.Success then
            invalid path start $"the header has no valid '{name}' entry: {text.Trim()}"

        m.Groups[1].Value

    let shape =
        (field "shape" "\\(([^)]*)\\)")
            .Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
        |> Array.map (fun s ->
            match Int32.TryParse s with
            | true, v when v >= 0 -> v
            | _ -> invalid path start $"the shape entry '{s}' is not a nonnegative integer")

    {
        Descr = field "descr" "'([^']*)'"
        Fortran = field "fortran_order" "(True|False)" = "True"
        Shape = shape
        DataOffset = stream.Position
    }

/// Rejects dimensions that no matrix of LowRank's can have, before anything is allocated from the header's numbers: a
/// forged shape such as (2000000000, 0, 0) announces no data at all, yet would size index arrays by its first axis.
let private checkSizes (path: string) (header: Header) count rows columns =
    if count < 1 || rows < 1 || columns < 1 then
        invalid
            path
            header.DataOffset
            $"the shape ({Guard.dimensions header.Shape}) has a zero dimension; matrices need at least one row and one column"

    if int64 rows * int64 columns > int64 Array.MaxLength then
        invalid
            path
            header.DataOffset
            $"a {rows} x {columns} matrix has more entries than one array holds ({Array.MaxLength})"

/// target[offset + i + j ld] = value (i columns + j): a C-order rows x columns block into rows offset.. of column-major
/// storage with leading dimension ld, in 64 x 64 tiles so that the rows read and the columns written both stay in
/// cache.
let inline private transposeWith
    ([<InlineIfLambda>] value: int -> float)
    rows
    columns
    (ld: int)
    (offset: int)
    (target: float[])
    =
    let tile = 64

    for i0 in 0..tile .. rows - 1 do
        let i1 = min rows (i0 + tile)

        for j0 in 0..tile .. columns - 1 do
            let j1 = min columns (j0 + tile)

            for i in i0 .. i1 - 1 do
                let row = i * columns

                for j in j0 .. j1 - 1 do
                    target[offset + i + j * ld] <- value (row + j)

let inline private span (bytes: byte[]) (e: int) (size: int) = ReadOnlySpan(bytes, e * size, size)

/// Decodes a C-order rows x columns block of little-endian elements into rows offset .. offset + rows - 1 of
/// column-major `target` (leading dimension ld), one loop per dtype (the dtype was validated by elementReader).
let private decoderInto (descr: string) : byte[] -> int -> int -> int -> int -> float[] -> unit =
    let kind =
        if descr.Length > 0 && "<|=".Contains descr[0] then
            descr.Substring 1
        else
            descr

    match kind with
    | "u1" ->
        fun bytes rows columns ld offset target -> transposeWith (fun e -> float bytes[e]) rows columns ld offset target
    | "i1" ->
        fun bytes rows columns ld offset target ->
            transposeWith (fun e -> float (sbyte bytes[e])) rows columns ld offset target
    | "f8" ->
        fun bytes rows columns ld offset target ->
            transposeWith
                (fun e -> BinaryPrimitives.ReadDoubleLittleEndian(span bytes e 8))
                rows
                columns
                ld
                offset
                target
    | "f4" ->
        fun bytes rows columns ld offset target ->
            transposeWith
                (fun e -> float (BinaryPrimitives.ReadSingleLittleEndian(span bytes e 4)))
                rows
                columns
                ld
                offset
                target
    | "i8" ->
        fun bytes rows columns ld offset target ->
            transposeWith
                (fun e -> float (BinaryPrimitives.ReadInt64LittleEndian(span bytes e 8)))
                rows
                columns
                ld
                offset
                target
    | "i4" ->
        fun bytes rows columns ld offset target ->
            transposeWith
                (fun e -> float (BinaryPrimitives.ReadInt32LittleEndian(span bytes e 4)))
                rows
                columns
                ld
                offset
                target
    | "i2" ->
        fun bytes rows columns ld offset target ->
            transposeWith
                (fun e -> float (BinaryPrimitives.ReadInt16LittleEndian(span bytes e 2)))
                rows
                columns
                ld
                offset
                target
    | "u8" ->
        fun bytes rows columns ld offset target ->
            transposeWith
                (fun e -> float (BinaryPrimitives.ReadUInt64LittleEndian(span bytes e 8)))
                rows
                columns
                ld
                offset
                target
    | "u4" ->
        fun bytes rows columns ld offset target ->
            transposeWith
                (fun e -> float (BinaryPrimitives.ReadUInt32LittleEndian(span bytes e 4)))
                rows
                columns
                ld
                offset
                target
    | _ ->
        fun bytes rows columns ld offset target ->
            transposeWith
                (fun e -> float (BinaryPrimitives.ReadUInt16LittleEndian(span bytes e 2)))
                rows
                columns
                ld
                offset
                target

/// decoderInto for a whole matrix: target is rows x columns.
let private blockDecoder (descr: string) : byte[] -> int -> int -> float[] -> unit =
    let decode = decoderInto descr
    fun bytes rows columns target -> decode bytes rows columns rows 0 target

/// Reads the matrices `selected` (indices into the first axis, distinct) of a count x rows x columns array, after
/// checking that the file holds exactly the announced number of bytes, so a truncated file fails before anything is
/// returned. In C order each matrix is contiguous, so only the selected ones are read; in Fortran order the matrices
/// interleave, so the whole array is read and the others are dropped.
/// Checks the shape's sizes and that the file holds exactly the announced number of data bytes.
let private checkLength (path: string) (reader: BinaryReader) (header: Header) count rows columns size =
    checkSizes path header count rows columns
    let total = int64 count * int64 rows * int64 columns
    let expected = total * int64 size
    let present = reader.BaseStream.Length - header.DataOffset

    if present < expected then
        let shape = Guard.dimensions header.Shape

        invalid
            path
            header.DataOffset
            $"truncated: shape ({shape}) of '{header.Descr}' needs {expected} bytes of data, {present} are present"

    if present > expected then
        invalid path (header.DataOffset + expected) $"{present - expected} bytes of trailing data after the array"

let private readData (path: string) (reader: BinaryReader) (header: Header) count rows columns (selected: int[]) =
    let size, read = elementReader path header.DataOffset header.Descr
    checkLength path reader header count rows columns size

    let data =
        Array.init selected.Length (fun _ -> Array.zeroCreate<float>(rows * columns))

    // Column-major destination (MathNet's storage); C order runs j fastest, then i, then k; Fortran order the reverse.
    if header.Fortran then
        let slot = Array.create count -1
        selected |> Array.iteri (fun s k -> slot[k] <- s)

        for j in 0 .. columns - 1 do
            for i in 0 .. rows - 1 do
                for k in 0 .. count - 1 do
                    let value = read reader

                    if slot[k] >= 0 then
                        data[slot[k]][i + j * rows] <- value
    else
        let matrixBytes = int64 rows * int64 columns * int64 size

        // Each matrix read in chunks of about 1 MB of rows, each decoded by a loop specialised to the dtype: reading
        // element by element through BinaryReader cost about 30 ns per entry (8 s for 600 video frames), a block read
        // and loop ~1 ns; a chunk (not the whole matrix) keeps the buffer in cache and out of the large-object heap.
        let chunkRows =
            int (max 1L (min (int64 rows) ((1L <<< 20) / max 1L (int64 columns * int64 size))))

        let bytes = Array.zeroCreate<byte>(chunkRows * columns * size)
        let decode = decoderInto header.Descr

        selected
        |> Array.iteri (fun s k ->
            reader.BaseStream.Seek(header.DataOffset + int64 k * matrixBytes, SeekOrigin.Begin)
            |> ignore

            for first in 0..chunkRows .. rows - 1 do
                let count = min chunkRows (rows - first)
                reader.BaseStream.ReadExactly(bytes, 0, count * columns * size)
                decode bytes count columns rows first data[s])

    data
    |> Array.map (fun values -> Matrix<float>.Build.Dense(rows, columns, values))

/// Rejects an index outside [0, count) of a stack, naming it, the count and the file.
let private checkIndices (path: string) (count: int) (indices: int[]) =
    match indices |> Array.tryFind (fun k -> k < 0 || k >= count) with
    | Some k ->
        raise (
            ArgumentOutOfRangeException(
                nameof indices,
                k,
                $"Expected indices in [0, {count}) for the stack of {count} matrices in {path}, but one is {k}."
            )
        )
    | None -> ()

let private open' (path: string) =
    Guard.notNull (nameof path) path
    new BinaryReader(File.OpenRead path)

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
        checkSizes path header count rows columns
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
            checkLength path reader header count rows columns size
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

/// Row blocks of a 2-D .npy matrix read through a memory map, so that a matrix larger than memory is read one block at
/// a time (streaming SCW, and each MPI rank reading only its own rows). The header and the file's length are checked
/// when it opens. C order reads a block as one contiguous range; Fortran order as one range per column.
type internal RowBlockReader(path: string) =
    let header, size =
        use reader = open' path
        let header = readHeader path reader

        match header.Shape with
        | [| rows; columns |] ->
            let size, _ = elementReader path header.DataOffset header.Descr
            checkLength path reader header 1 rows columns size
            header, size
        | shape -> invalid path header.DataOffset $"expected a 2-D array, but the shape is ({Guard.dimensions shape})"

    let rows, columns = header.Shape[0], header.Shape[1]
    let decode = blockDecoder header.Descr

    let map =
        MemoryMappedFiles.MemoryMappedFile.CreateFromFile(
            path,
            FileMode.Open,
            null,
            0L,
            MemoryMappedFiles.MemoryMappedFileAccess.Read
        )

    let mutable scratch: byte[] = [||]

    member _.Rows = rows
    member _.Columns = columns

    /// Rows first .. first + count - 1 as a dense count x columns matrix.
    member this.Read(first: int, count: int) : Matrix<float> =
        let data = Array.zeroCreate<float>(count * columns)
        this.ReadInto(first, count, data)
        Matrix<float>.Build.Dense(count, columns, data)

    /// Rows first .. first + count - 1 into `data` (count x columns, column-major, every entry overwritten): a caller
    /// that consumes each block before the next reuses one buffer instead of allocating one per block.
    member _.ReadInto(first: int, count: int, data: float[]) =

        // One byte buffer for every block of this reader (blocks are read one at a time), grown when a block needs more.
        let bytesFor (length: int) =
            if scratch.Length < length then
                scratch <- Array.zeroCreate length

            scratch

        let readRange (offset: int64) (bytes: byte[]) (length: int) =
            use view =
                map.CreateViewStream(
                    header.DataOffset + offset,
                    int64 length,
                    MemoryMappedFiles.MemoryMappedFileAccess.Read
                )

            view.ReadExactly(bytes, 0, length)

        if header.Fortran then
            let bytes = bytesFor (count * size)
            let column = Array.zeroCreate<float> count

            for j in 0 .. columns - 1 do
                readRange ((int64 j * int64 rows + int64 first) * int64 size) bytes (count * size)
                decode bytes count 1 column
                Array.blit column 0 data (j * count) count
        else
            let bytes = bytesFor (count * columns * size)
            readRange (int64 first * int64 columns * int64 size) bytes (count * columns * size)
            decode bytes count columns data

    interface IDisposable with
        member _.Dispose() = map.Dispose()

/// A 2-D float64 .npy file written a block of rows at a time (C order), for results with as many rows as a matrix that
/// does not fit in memory. The header announces the final shape, so the file is complete once every row is written.
type internal RowBlockWriter(path: string, rows: int, columns: int) =
    let stream = new FileStream(path, FileMode.Create, FileAccess.Write)
    let writer = new BinaryWriter(stream)

    do writeHeader writer false [| rows; columns |]

    /// Appends a block's rows: transposed into C order in one buffer and written in one call (element by element
    /// through BinaryWriter cost about 30 ns an entry, as in reading). The bytes are the machine's doubles, which are
    /// little-endian ('<f8') on every platform .NET runs on.
    member _.Write(block: Matrix<float>) =
        let rows = block.RowCount
        let values = block.ToColumnMajorArray()
        let buffer = Array.zeroCreate<float>(rows * columns)

        for i in 0 .. rows - 1 do
            for j in 0 .. columns - 1 do
                buffer[i * columns + j] <- values[i + j * rows]

        writer.Write(Runtime.InteropServices.MemoryMarshal.AsBytes(ReadOnlySpan buffer))

    interface IDisposable with
        member _.Dispose() =
            writer.Dispose()
            stream.Dispose()

/// Writes a version 1.0 '<f8' array; `fortran` says the element order of `write`.
let private writeArray (path: string) (fortran: bool) (shape: int[]) (write: BinaryWriter -> unit) =
    use writer = new BinaryWriter(File.Create path)
    writeHeader writer fortran shape
    write writer

/// <summary>Rows first .. first + count - 1 of a 2-D .npy matrix, read through a memory map without reading the rest:
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
    use reader = new RowBlockReader(path)

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

/// <summary>Writes a matrix as a 2-D float64 .npy file (format 1.0, Fortran order: MathNet's storage, copied as is).</summary>
/// <param name="path">The file to create or overwrite.</param>
/// <param name="matrix">The matrix; NaN and infinities are written as they are.</param>
/// <exception cref="System.ArgumentNullException">path or matrix is null.</exception>
[<CompiledName("WriteMatrix")>]
let writeMatrix (path: string) (matrix: Matrix<float>) =
    Guard.notNull (nameof path) path
    Guard.notNull (nameof matrix) matrix
    let values = matrix.ToColumnMajorArray()
    writeArray path true [| matrix.RowCount; matrix.ColumnCount |] (fun w -> values |> Array.iter w.Write)

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
            for i in 0 .. rows - 1 do
                for j in 0 .. columns - 1 do
                    w.Write(m[i, j]))
