namespace LowRank.Core

open System
open System.IO
open System.Text

/// Framed binary files: an 8-byte ASCII magic, a little-endian uint16 version, the payload, and the CRC-32 (IEEE
/// 802.3, as zip and PNG) of everything before it. Readers check all three before parsing, so a truncated,
/// corrupted or foreign file is reported as such and never half-read.
module internal Framed =

    /// CRC-32 of bytes[0 .. count - 1] (System.IO.Hashing's, which is vectorised).
    let crc32 (bytes: byte[]) (count: int) =
        System.IO.Hashing.Crc32.HashToUInt32(ReadOnlySpan(bytes, 0, count))

    /// The framed bytes of a payload.
    let write (magic: string) (version: uint16) (payload: BinaryWriter -> unit) : byte[] =
        use stream = new MemoryStream()
        use writer = new BinaryWriter(stream, Encoding.ASCII, leaveOpen = true)
        writer.Write(Encoding.ASCII.GetBytes magic)
        writer.Write version
        payload writer
        writer.Flush()
        let body = stream.ToArray()
        writer.Write(crc32 body body.Length)
        writer.Flush()
        stream.ToArray()

    /// Writes bytes to `path` under a temporary name, then renames it over `path`, so an interrupted write never
    /// leaves a half-written file where a reader will look.
    /// Failures name `path`, the caller's file, not the temporary one.
    let writeFile (path: string) (bytes: byte[]) =
        let folder = Path.GetDirectoryName(Path.GetFullPath path)

        if not (Directory.Exists folder) then
            raise (DirectoryNotFoundException($"Cannot write '{path}': the folder '{folder}' does not exist."))

        let temporary = path + ".tmp"

        try
            File.WriteAllBytes(temporary, bytes)
            File.Move(temporary, path, overwrite = true)
        with
        | :? UnauthorizedAccessException
        | :? IOException as e ->
            (try
                File.Delete temporary
             with _ ->
                 ())

            raise (IOException($"Cannot write '{path}': {e.Message}", e))

    /// Parses framed bytes from `source` (a file name, for messages), requiring every payload byte to be consumed.
    /// Throws InvalidDataException naming the source and the problem.
    let read
        (source: string)
        (what: string)
        (magic: string)
        (version: uint16)
        (bytes: byte[])
        (parse: BinaryReader -> 'T)
        =
        let fail (problem: string) =
            raise (InvalidDataException($"{source}: {problem}"))

        let header = magic.Length + 2

        if
            bytes.Length < magic.Length
            || Encoding.ASCII.GetString(bytes, 0, magic.Length) <> magic
        then
            fail $"not a {what}: it does not start with '{magic}'."

        if bytes.Length < header + 4 then
            fail $"truncated: {bytes.Length} bytes is shorter than the {header + 4}-byte header and checksum."

        let found = BitConverter.ToUInt16(bytes, magic.Length)

        if found <> version then
            fail $"format version {found} is not supported; this library reads version {version}."

        let stored = BitConverter.ToUInt32(bytes, bytes.Length - 4)
        let computed = crc32 bytes (bytes.Length - 4)

        if stored <> computed then
            fail $"corrupted or truncated: its CRC-32 is {computed:X8} but the file records {stored:X8}."

        use reader =
            new BinaryReader(new MemoryStream(bytes, header, bytes.Length - 4 - header), Encoding.ASCII)

        let value =
            try
                parse reader
            with
            | :? EndOfStreamException -> fail "truncated: the payload ends early."
            | :? InvalidDataException as e -> fail $"invalid content: {e.Message}"
            | :? ArgumentException as e -> fail $"invalid content: {e.Message}"

        if reader.BaseStream.Position <> reader.BaseStream.Length then
            fail $"{reader.BaseStream.Length - reader.BaseStream.Position} unexpected bytes after the payload."

        value

    /// A count read from the payload, checked against [low, high] before it sizes an allocation.
    let count (reader: BinaryReader) (name: string) (low: int) (high: int64) =
        let value = reader.ReadInt32()

        if value < low || int64 value > high then
            raise (InvalidDataException($"{name} = {value} is outside [{low}, {high}]."))

        value

    /// `length` doubles.
    let doubles (reader: BinaryReader) (length: int) =
        let remaining = reader.BaseStream.Length - reader.BaseStream.Position

        if int64 length * 8L > remaining then
            raise (EndOfStreamException())

        Array.init length (fun _ -> reader.ReadDouble())

    /// `length` doubles that must all be finite: a checksum proves the bytes are the ones written, not that they hold
    /// numbers a computation can use. `name` names the field in the message.
    let finiteDoubles (reader: BinaryReader) (name: string) (length: int) =
        let values = doubles reader length

        match Array.tryFindIndex (fun x -> not (Double.IsFinite x)) values with
        | Some i -> raise (InvalidDataException($"{name}[{i}] = {values[i]} is not finite."))
        | None -> values

/// Saves and loads sketches of every kind in a documented, versioned binary format.
/// <remarks>Format, version 1, little-endian: the ASCII magic "LRSKETCH", uint16 version = 1, one sketch, and the
/// CRC-32 of all preceding bytes. A sketch is a kind byte then its data: 1 = CountSketch (int32 m, int32 n,
/// n int32 hashes in [0, m), n float64 values), 2 = dense (int32 m, int32 n, m n float64 entries in column-major
/// order), 3 = stacked (int32 count &gt;= 1, then that many sketches with one column count), nested at most 64 deep.</remarks>
[<RequireQualifiedAccess>]
module SketchFile =

    [<Literal>]
    let private Magic = "LRSKETCH"

    [<Literal>]
    let private Version = 1us

    let rec private writeSketch (writer: BinaryWriter) (sketch: Sketch) =
        match sketch with
        | CountSketch(m, hash, values) ->
            writer.Write 1uy
            writer.Write m
            writer.Write hash.Length
            hash |> Array.iter writer.Write
            values |> Array.iter writer.Write
        | DenseSketch s ->
            writer.Write 2uy
            writer.Write s.RowCount
            writer.Write s.ColumnCount
            s.ToColumnMajorArray() |> Array.iter writer.Write
        | Stacked parts ->
            writer.Write 3uy
            writer.Write parts.Length
            parts |> Array.iter (writeSketch writer)

    /// How deeply stacked sketches may nest in a file: far beyond any real use (a mixed sketch nests 2 deep), and shallow
    /// enough that a forged file cannot exhaust the reader's stack.
    [<Literal>]
    let private MaxDepth = 64

    let rec private readSketchAt (depth: int) (reader: BinaryReader) : Sketch =
        let remaining () =
            reader.BaseStream.Length - reader.BaseStream.Position

        match reader.ReadByte() with
        | 1uy ->
            // S A has m rows: beyond an array's length not even a one-column A can be sketched.
            let m = Framed.count reader "m" 1 (int64 Array.MaxLength)
            let n = Framed.count reader "n" 1 (remaining () / 12L)
            let hash = Array.init n (fun _ -> reader.ReadInt32())
            let values = Framed.doubles reader n
            Sketch.ofCountSketch m hash values
        | 2uy ->
            let m = Framed.count reader "m" 1 Int32.MaxValue
            let n = Framed.count reader "n" 1 (remaining () / 8L / int64 m)

            Sketch.ofMatrix (
                MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(m, n, Framed.doubles reader (m * n))
            )
        | 3uy ->
            if depth >= MaxDepth then
                raise (InvalidDataException($"stacked sketches nest deeper than {MaxDepth} levels."))

            let count = Framed.count reader "the number of stacked parts" 1 (remaining ())
            Sketch.stack (Array.init count (fun _ -> readSketchAt (depth + 1) reader))
        | kind -> raise (InvalidDataException($"unknown sketch kind {kind}; version 1 knows 1, 2 and 3."))

    /// <summary>The sketch in the version-1 format.</summary>
    /// <param name="sketch">Any sketch.</param>
    /// <returns>The bytes: 16 + 12 n bytes for an m x n CountSketch, 19 + 8 m n for a dense one.</returns>
    /// <exception cref="System.ArgumentNullException">sketch is null.</exception>
    [<CompiledName("ToBytes")>]
    let toBytes (sketch: Sketch) =
        Guard.notNull (nameof sketch) sketch
        Framed.write Magic Version (fun writer -> writeSketch writer sketch)

    let private parse (source: string) (bytes: byte[]) =
        Framed.read source "LowRank sketch file" Magic Version bytes (readSketchAt 0)

    /// <summary>Reads a sketch from bytes in the version-1 format.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The sketch, complete and validated (hashes in range, finite values).</returns>
    /// <exception cref="System.ArgumentNullException">bytes is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">the bytes are not a sketch file, have another version, are
    /// truncated or corrupted (CRC-32 mismatch), or hold invalid content; the message says which.</exception>
    [<CompiledName("FromBytes")>]
    let ofBytes (bytes: byte[]) =
        Guard.notNull (nameof bytes) bytes
        parse "bytes" bytes

    /// <summary>Writes a sketch to a file (replacing it) in the version-1 format. The file is written under a
    /// temporary name and then renamed, so an interrupted save never leaves a half-written file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="sketch">The sketch.</param>
    /// <exception cref="System.ArgumentNullException">path or sketch is null.</exception>
    [<CompiledName("Save")>]
    let save (path: string) (sketch: Sketch) =
        Guard.notNull (nameof path) path
        Framed.writeFile path (toBytes sketch)

    /// <summary>Reads a sketch file written by save.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="System.ArgumentNullException">path is null.</exception>
    /// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">as for ofBytes, with the path in the message.</exception>
    [<CompiledName("Load")>]
    let load (path: string) =
        Guard.notNull (nameof path) path
        parse path (File.ReadAllBytes path)
