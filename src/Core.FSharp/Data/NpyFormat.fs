/// The .npy format's pieces: the header (magic, version, dict), element decoders for every supported dtype and order,
/// and the size checks; Npy reads and writes files with them.
module internal LowRank.Core.NpyFormat

open System
open System.IO
open System.Buffers.Binary
open System.Text
open System.Text.RegularExpressions
open MathNet.Numerics.LinearAlgebra

let internal magic = [| 0x93uy; byte 'N'; byte 'U'; byte 'M'; byte 'P'; byte 'Y' |]

type internal Header = {
    Descr: string
    Fortran: bool
    Shape: int[]
    DataOffset: int64
}

let internal invalid (path: string) (offset: int64) (what: string) =
    raise (InvalidDataException($"{path}: {what} (at byte {offset})."))

/// Element readers for the supported little-endian dtypes, with their sizes in bytes.
let internal elementReader (path: string) (offset: int64) (descr: string) : int * (BinaryReader -> float) =
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

let internal readHeader (path: string) (reader: BinaryReader) : Header =
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
/// `whole`: each matrix is read into one array, so it may not have more entries than an array holds; a matrix read in
/// row blocks (streaming) may.
let internal checkSizes (whole: bool) (path: string) (header: Header) count rows columns =
    if count < 1 || rows < 1 || columns < 1 then
        invalid
            path
            header.DataOffset
            $"the shape ({Guard.dimensions header.Shape}) has a zero dimension; matrices need at least one row and one column"

    if whole && int64 rows * int64 columns > int64 Array.MaxLength then
        invalid
            path
            header.DataOffset
            $"a {rows} x {columns} matrix has more entries than one array holds ({Array.MaxLength})"

/// target[offset + i + j ld] = values[i columns + j]: a C-order rows x columns block into rows offset.. of column-major
/// storage with leading dimension ld. It runs in strips of 8 columns: for each row, 8 adjacent values (one cache line
/// of float64) go to 8 target columns, so the writes are 8 sequential streams and the block is read 8 columns at a time
/// while it stays in cache. On an 80,000 x 768 float64 file the whole read took 0.34 s with 64 x 64 tiles (a new
/// page per write) and 0.20 s in strips, against 0.14 s for a plain copy of the bytes.
let internal transposeInto (values: ReadOnlySpan<float>) rows columns (ld: int) (offset: int) (target: float[]) =
    let strip = 8
    let whole = columns - columns % strip
    let t = Span<float>(target)

    for j0 in 0..strip .. whole - 1 do
        let o = offset + j0 * ld

        for i in 0 .. rows - 1 do
            let e = i * columns + j0
            let o = o + i
            t[o] <- values[e]
            t[o + ld] <- values[e + 1]
            t[o + 2 * ld] <- values[e + 2]
            t[o + 3 * ld] <- values[e + 3]
            t[o + 4 * ld] <- values[e + 4]
            t[o + 5 * ld] <- values[e + 5]
            t[o + 6 * ld] <- values[e + 6]
            t[o + 7 * ld] <- values[e + 7]

    for j in whole .. columns - 1 do
        for i in 0 .. rows - 1 do
            t[offset + i + j * ld] <- values[i * columns + j]

let inline internal span (bytes: byte[]) (e: int) (size: int) = ReadOnlySpan(bytes, e * size, size)

/// Converts `count` elements to float64 into a pooled buffer (one sequential pass, the buffer in cache) and transposes
/// that: one transposition loop for every dtype.
let inline private convertThenTranspose
    ([<InlineIfLambda>] value: int -> float)
    rows
    columns
    (ld: int)
    (offset: int)
    (target: float[])
    =
    let count = rows * columns
    let buffer = Buffers.ArrayPool<float>.Shared.Rent count

    try
        for e in 0 .. count - 1 do
            buffer[e] <- value e

        transposeInto (ReadOnlySpan(buffer, 0, count)) rows columns ld offset target
    finally
        Buffers.ArrayPool<float>.Shared.Return buffer

/// A decoder of one dtype from its element reader, inline so that each dtype's conversion is compiled into its own loop
/// instead of called through a closure per entry.
let inline private via ([<InlineIfLambda>] value: byte[] -> int -> float) =
    fun (bytes: byte[]) rows columns ld offset target ->
        convertThenTranspose (fun e -> value bytes e) rows columns ld offset target

/// Decodes a C-order rows x columns block of little-endian elements into rows offset .. offset + rows - 1 of
/// column-major `target` (leading dimension ld), one conversion loop per dtype (the dtype was validated by
/// elementReader). Little-endian float64 bytes are the values already and are transposed without a copy.
let internal decoderInto (descr: string) : byte[] -> int -> int -> int -> int -> float[] -> unit =
    let kind =
        if descr.Length > 0 && "<|=".Contains descr[0] then
            descr.Substring 1
        else
            descr

    match kind with
    | "f8" when BitConverter.IsLittleEndian ->
        fun bytes rows columns ld offset target ->
            let values =
                Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(ReadOnlySpan(bytes, 0, rows * columns * 8))

            transposeInto values rows columns ld offset target
    | "u1" -> via (fun bytes e -> float bytes[e])
    | "i1" -> via (fun bytes e -> float (sbyte bytes[e]))
    | "f8" -> via (fun bytes e -> BinaryPrimitives.ReadDoubleLittleEndian(span bytes e 8))
    | "f4" -> via (fun bytes e -> float (BinaryPrimitives.ReadSingleLittleEndian(span bytes e 4)))
    | "i8" -> via (fun bytes e -> float (BinaryPrimitives.ReadInt64LittleEndian(span bytes e 8)))
    | "i4" -> via (fun bytes e -> float (BinaryPrimitives.ReadInt32LittleEndian(span bytes e 4)))
    | "i2" -> via (fun bytes e -> float (BinaryPrimitives.ReadInt16LittleEndian(span bytes e 2)))
    | "u8" -> via (fun bytes e -> float (BinaryPrimitives.ReadUInt64LittleEndian(span bytes e 8)))
    | "u4" -> via (fun bytes e -> float (BinaryPrimitives.ReadUInt32LittleEndian(span bytes e 4)))
    | _ -> via (fun bytes e -> float (BinaryPrimitives.ReadUInt16LittleEndian(span bytes e 2)))

/// decoderInto for a whole matrix: target is rows x columns.
let internal blockDecoder (descr: string) : byte[] -> int -> int -> float[] -> unit =
    let decode = decoderInto descr
    fun bytes rows columns target -> decode bytes rows columns rows 0 target

/// Reads exactly target.Length bytes at `offset` of the file into `target` by positional reads (several threads may
/// read one handle at once); a file that ends first is reported with the offset.
let internal readSpanAt
    (file: Microsoft.Win32.SafeHandles.SafeFileHandle)
    (path: string)
    (offset: int64)
    (target: Span<byte>)
    =
    let mutable read = 0

    while read < target.Length do
        let got = RandomAccess.Read(file, target.Slice read, offset + int64 read)

        if got = 0 then
            invalid path (offset + int64 read) "the file ended before the data did"

        read <- read + got

/// readSpanAt into bytes[0 .. length - 1].
let internal readAt
    (file: Microsoft.Win32.SafeHandles.SafeFileHandle)
    (path: string)
    (offset: int64)
    (bytes: byte[])
    length
    =
    readSpanAt file path offset (Span(bytes, 0, length))

/// body c bytes for c in 0 .. count - 1, each worker with its own byte buffer of `length`: on every core when there are
/// several chunks of at least 4 MB in all, else on the calling thread. A matrix read on two threads also takes its
/// first-touch page faults on two (an 80,000 x 768 float64 array: 0.19 s on one thread, 0.10 s on two). The first
/// exception of a worker is rethrown as it was, not wrapped in an AggregateException.
let internal forChunks (count: int) (length: int) (body: int -> byte[] -> unit) =
    let pool = Buffers.ArrayPool<byte>.Shared

    if
        count < 2
        || int64 count * int64 length < (4L <<< 20)
        || Environment.ProcessorCount < 2
    then
        let bytes = pool.Rent length

        try
            for c in 0 .. count - 1 do
                body c bytes
        finally
            pool.Return bytes
    else
        try
            Threading.Tasks.Parallel.For(
                0,
                count,
                (fun () -> pool.Rent length),
                (fun c _ bytes ->
                    body c bytes
                    bytes),
                (fun bytes -> pool.Return bytes)
            )
            |> ignore
        with :? AggregateException as e ->
            Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw()

/// Rows of about 1 MB of a C-order matrix: the unit a reader decodes while the bytes are still in cache.
let internal chunkRowsOf (rows: int) (columns: int) (size: int) =
    int (max 1L (min (int64 rows) ((1L <<< 20) / max 1L (int64 columns * int64 size))))

/// Checks the shape's sizes (checkSizes whole) and that the file holds exactly the announced number of data bytes.
let internal checkLength (whole: bool) (path: string) (reader: BinaryReader) (header: Header) count rows columns size =
    checkSizes whole path header count rows columns
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

/// Reads the matrices `selected` (indices into the first axis, distinct) of a count x rows x columns array, after
/// checking that the file holds exactly the announced number of bytes, so a truncated file fails before anything is
/// returned. In C order each matrix is contiguous, so only the selected ones are read; in Fortran order the matrices
/// interleave, so the whole array is read and the others are dropped.
let internal readData (path: string) (reader: BinaryReader) (header: Header) count rows columns (selected: int[]) =
    let size, read = elementReader path header.DataOffset header.Descr
    checkLength true path reader header count rows columns size

    // Every entry is written below (the length was checked), so the storage need not be zeroed first: 0.05 s of an
    // 80,000 x 768 matrix's 0.25 s read.
    let data =
        Array.init selected.Length (fun _ -> GC.AllocateUninitializedArray<float>(rows * columns))

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
        let rowBytes = int64 columns * int64 size

        // Each matrix read in chunks of about 1 MB of rows, each decoded by a loop specialised to the dtype: reading
        // element by element through BinaryReader cost about 30 ns per entry (8 s for 600 video frames), a block read
        // and loop ~1 ns; a chunk (not the whole matrix) keeps the buffer in cache and out of the large-object heap.
        // Chunks write disjoint rows, so they are read and decoded on every core.
        let chunkRows = chunkRowsOf rows columns size
        let chunks = (rows + chunkRows - 1) / chunkRows
        let decode = decoderInto header.Descr
        let file = (reader.BaseStream :?> FileStream).SafeFileHandle

        forChunks (selected.Length * chunks) (chunkRows * columns * size) (fun item bytes ->
            let s, first = item / chunks, item % chunks * chunkRows
            let count = min chunkRows (rows - first)

            let offset =
                header.DataOffset + int64 selected[s] * matrixBytes + int64 first * rowBytes

            readAt file path offset bytes (count * columns * size)
            decode bytes count columns rows first data[s])

    data
    |> Array.map (fun values -> Matrix<float>.Build.Dense(rows, columns, values))

/// Rows first .. first + count - 1 of a C-order array with `columns` entries a row, in their own order (row after row)
/// into data[0 .. count columns - 1]: the column-major storage of their transpose. Read in chunks of about 1 MB on
/// every core and converted, not transposed; little-endian float64 is read straight into `data`, no copy through a
/// buffer (NumPy's np.load reads so).
let internal readRowsInOrder
    (file: Microsoft.Win32.SafeHandles.SafeFileHandle)
    (path: string)
    (header: Header)
    (size: int)
    (columns: int)
    (first: int)
    (count: int)
    (data: float[])
    =
    let chunkRows = chunkRowsOf count columns size
    let chunks = (count + chunkRows - 1) / chunkRows
    let decode = decoderInto header.Descr

    let little =
        BitConverter.IsLittleEndian && (header.Descr = "<f8" || header.Descr = "=f8")

    forChunks chunks (chunkRows * columns * size) (fun c bytes ->
        let start = c * chunkRows
        let entries = min chunkRows (count - start) * columns
        let offset = header.DataOffset + int64 (first + start) * int64 columns * int64 size

        if little then
            readSpanAt
                file
                path
                offset
                (Runtime.InteropServices.MemoryMarshal.AsBytes(Span(data, start * columns, entries)))
        else
            readAt file path offset bytes (entries * size)
            // As one column of `entries` entries: the decoder's transposition is then a conversion in order.
            decode bytes entries 1 data.Length (start * columns) data)

/// A C-order rows x columns array's values in their own order: the column-major storage of its transpose.
let internal readInOrder (path: string) (reader: BinaryReader) (header: Header) rows columns =
    let size, _ = elementReader path header.DataOffset header.Descr
    checkLength true path reader header 1 rows columns size
    // Every entry is written (the length was checked), so the storage need not be zeroed first.
    let data = GC.AllocateUninitializedArray<float>(rows * columns)
    readRowsInOrder (reader.BaseStream :?> FileStream).SafeFileHandle path header size columns 0 rows data
    data

/// Rejects an index outside [0, count) of a stack, naming it, the count and the file.
let internal checkIndices (path: string) (count: int) (indices: int[]) =
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

let internal open' (path: string) =
    Guard.notNull (nameof path) path
    new BinaryReader(File.OpenRead path)
