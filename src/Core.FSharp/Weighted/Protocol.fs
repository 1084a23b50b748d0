namespace LowRank.Core

open System
open System.IO
open System.Text
open MathNet.Numerics.LinearAlgebra

/// Alice's message in the communication protocol of Woodruff and Yasuda (2024, Theorem 3.1): the indices of the
/// selected columns, those columns of A stored sparsely, and X (c x d). Bob, who knows W, reconstructs
/// A~ = W^(o+) o ((W o A)|^S X) from it.
[<NoComparison; NoEquality>]
type ProtocolMessage = {
    /// n, the rows of A.
    Rows: int
    /// d, the columns of A.
    Columns: int
    /// S: the selected column indices.
    Selected: int[]
    /// For each selected column, the row indices of its nonzeros.
    RowIndices: int[][]
    /// For each selected column, the values of its nonzeros.
    Values: float[][]
    /// X (c x d).
    X: Matrix<float>
}

/// The protocol of Theorem 3.1 (Woodruff and Yasuda 2024) with its binary message format.
/// Format, little-endian: the 4 ASCII bytes "LRCP", a version byte (2), n, d and c as int32, c column indices as int32,
/// then for each selected column its nonzero count as int32 followed by that many (row int32, value float64) pairs,
/// then X as c d float64 in column-major order, then the CRC-32 (IEEE 802.3) of all preceding bytes. Nothing else
/// follows. Version 1 had no CRC-32, so a flipped bit in a value decoded to another reconstruction.
[<RequireQualifiedAccess>]
module Protocol =

    let private magic = Encoding.ASCII.GetBytes "LRCP"

    [<Literal>]
    let private Version = 2uy

    /// <summary>Alice's side: column subset selection on W o A (Wlra.columnSubset) and the message carrying the selected
    /// columns of A, sparsely, and X.</summary>
    /// <param name="columns">c, with r k &lt;= c &lt;= d.</param>
    /// <param name="rank">k.</param>
    /// <param name="weights">W, known to both parties.</param>
    /// <param name="matrix">A, known to Alice only.</param>
    /// <returns>The message.</returns>
    /// <exception cref="System.ArgumentException">as for Wlra.columnSubset.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">as for Wlra.columnSubset.</exception>
    [<CompiledName("Send")>]
    let send (columns: int) (rank: int) (weights: Weights) (matrix: Matrix<float>) =
        let css = Wlra.columnSubset columns rank weights matrix

        let sparse j =
            let column = matrix.Column j

            let rows = [|
                for i in 0 .. matrix.RowCount - 1 do
                    if column[i] <> 0.0 then
                        yield i
            |]

            rows, rows |> Array.map (fun i -> column[i])

        let parts = css.Columns |> Array.map sparse

        {
            Rows = matrix.RowCount
            Columns = matrix.ColumnCount
            Selected = Array.copy css.Columns
            RowIndices = parts |> Array.map fst
            Values = parts |> Array.map snd
            X = css.Approximation.Right.Clone()
        }

    /// <summary>Bob's side: A~ = W^(o+) o (C X) with C = W|^S o A|^S rebuilt from the message and his W.</summary>
    /// <param name="weights">W (n x d).</param>
    /// <param name="message">Alice's message.</param>
    /// <returns>The dense n x d reconstruction, equal to Alice's column-subset approximation up to rounding.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">the message's shape does not match W, a value is not finite, or the
    /// reconstruction overflows float64.</exception>
    [<CompiledName("Receive")>]
    let receive (weights: Weights) (message: ProtocolMessage) =
        Guard.notNull (nameof weights) weights
        Guard.notNull (nameof message) message
        let w = Weights.dense weights

        if w.RowCount <> message.Rows || w.ColumnCount <> message.Columns then
            raise (
                ArgumentException(
                    $"Expected a message for {Guard.shape w} weights, but it describes a {message.Rows}x{message.Columns} matrix.",
                    nameof message
                )
            )

        Guard.finiteMatrix "message.X" message.X

        if message.Values |> Array.exists (Array.exists (fun v -> not (Double.IsFinite v))) then
            raise (
                ArgumentException(
                    "Expected finite values in message.Values, but one is NaN or infinite.",
                    nameof message
                )
            )

        // The values and X are scaled by powers of two to a largest entry in [1, 2) and the product scaled back: entries
        // near 1e308 would overflow in C X even where A~ is representable, and a power of two scales exactly.
        let ev = Dense.largestExponent (Array.concat message.Values)
        let ex = Dense.largestExponent (Dense.storedValues message.X)
        let c = Matrix<float>.Build.Dense(message.Rows, message.Selected.Length)

        message.Selected
        |> Array.iteri (fun q j ->
            Array.iter2
                (fun i value -> c[i, q] <- w[i, j] * Math.ScaleB(value, -ev))
                message.RowIndices[q]
                message.Values[q])

        let x = message.X.Map(fun v -> Math.ScaleB(v, -ex))

        let result =
            Dense.multiply c x
            |> Dense.divideByWeights w
            |> fun m -> m.Map(fun v -> Math.ScaleB(v, ev + ex))

        match
            Dense.storedValues result
            |> Array.tryFindIndex (fun v -> not (Double.IsFinite v))
        with
        | Some p ->
            raise (
                ArgumentException(
                    $"Expected a message whose reconstruction is finite, but A~[{p % message.Rows}, {p / message.Rows}] overflows float64 (its values reach 2^{ev + 1} and X 2^{ex + 1}).",
                    nameof message
                )
            )
        | None -> result

    /// <summary>The message in the documented binary format.</summary>
    /// <param name="message">The message.</param>
    /// <returns>Its bytes; their count times 8 is Protocol.sizeInBits.</returns>
    /// <exception cref="System.ArgumentNullException">message is null.</exception>
    [<CompiledName("ToBytes")>]
    let toBytes (message: ProtocolMessage) =
        Guard.notNull (nameof message) message
        use stream = new MemoryStream()
        use writer = new BinaryWriter(stream)
        writer.Write magic
        writer.Write Version
        writer.Write message.Rows
        writer.Write message.Columns
        writer.Write message.Selected.Length
        message.Selected |> Array.iter writer.Write

        for q in 0 .. message.Selected.Length - 1 do
            writer.Write message.RowIndices[q].Length

            Array.iter2
                (fun (i: int) (value: float) ->
                    writer.Write i
                    writer.Write value)
                message.RowIndices[q]
                message.Values[q]

        message.X.ToColumnMajorArray() |> Array.iter writer.Write
        writer.Flush()
        let body = stream.ToArray()
        writer.Write(Framed.crc32 body body.Length)
        writer.Flush()
        stream.ToArray()

    /// <summary>The exact size of the message in bits: 8 times the length of toBytes.</summary>
    /// <param name="message">The message.</param>
    /// <returns>Bits, with indices as 32 and values as 64 bits, and the 32-bit CRC.</returns>
    /// <exception cref="System.ArgumentNullException">message is null.</exception>
    [<CompiledName("SizeInBits")>]
    let sizeInBits (message: ProtocolMessage) =
        Guard.notNull (nameof message) message
        let c = int64 message.Selected.Length
        let nonzeros = message.RowIndices |> Array.sumBy (fun r -> int64 r.Length)

        8L
        * (4L
           + 1L
           + 12L
           + 4L * c
           + 4L * c
           + 12L * nonzeros
           + 8L * c * int64 message.Columns
           + 4L)

    /// <summary>The Theorem 3.1 bound with constant 1, (s r k / eps + r k d) log2(n d) bits, with eps = r k / c for c
    /// selected columns, so it reads (s c + t d) log2(n d) for t = r k.</summary>
    /// <param name="nonzerosPerColumn">s, the most nonzeros of a column of A.</param>
    /// <param name="totalRank">t = r k.</param>
    /// <param name="columns">c.</param>
    /// <param name="rows">n.</param>
    /// <param name="matrixColumns">d.</param>
    /// <returns>The bound in bits, for comparison with sizeInBits; the theorem hides a constant and counts words of
    /// log(n d) bits where this format spends 64 bits a value.</returns>
    [<CompiledName("BoundInBits")>]
    let boundInBits (nonzerosPerColumn: int) (totalRank: int) (columns: int) (rows: int) (matrixColumns: int) =
        (float nonzerosPerColumn * float columns + float totalRank * float matrixColumns)
        * Math.Log2(float rows * float matrixColumns)

    /// <summary>Reads a message written by toBytes, checking every field; never returns a half-read message.</summary>
    /// <param name="bytes">The message's bytes.</param>
    /// <returns>The message.</returns>
    /// <exception cref="System.ArgumentNullException">bytes is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">the bytes are truncated, corrupted (CRC-32 mismatch), have
    /// trailing data, a wrong magic or version, an index or count out of range, or a value that is not finite; the
    /// message says which field and at which byte offset.</exception>
    [<CompiledName("FromBytes")>]
    let ofBytes (bytes: byte[]) =
        Guard.notNull (nameof bytes) bytes

        let fail what =
            raise (InvalidDataException($"Invalid protocol message: {what}."))

        if bytes.Length < 9 then
            fail $"truncated: {bytes.Length} bytes is shorter than the 5-byte header and the 4-byte CRC-32"

        if bytes[..3] <> magic then
            fail "the magic bytes are not \"LRCP\""

        if bytes[4] <> Version then
            fail $"version {bytes[4]} is not supported (expected {Version})"

        let stored = BitConverter.ToUInt32(bytes, bytes.Length - 4)
        let computed = Framed.crc32 bytes (bytes.Length - 4)

        if stored <> computed then
            fail $"corrupted, truncated or extended: its CRC-32 is {computed:X8} but the message records {stored:X8}"

        // The payload without its CRC-32; every field is still checked, as a CRC only catches accidents.
        use reader = new BinaryReader(new MemoryStream(bytes, 0, bytes.Length - 4))
        reader.BaseStream.Position <- 5L

        let fail what =
            raise (InvalidDataException($"Invalid protocol message at byte {reader.BaseStream.Position}: {what}."))

        let need count what =
            if reader.BaseStream.Length - reader.BaseStream.Position < count then
                fail
                    $"truncated while reading {what} ({count} bytes needed, {reader.BaseStream.Length - reader.BaseStream.Position} left)"

        let int32 what =
            need 4L what
            reader.ReadInt32()

        let inRange what low high value =
            if value < low || value > high then
                fail $"{what} = {value}, expected {low}..{high}"

            value

        let n = int32 "n" |> inRange "n" 1 Int32.MaxValue
        let d = int32 "d" |> inRange "d" 1 Int32.MaxValue
        let c = int32 "c" |> inRange "c" 1 d

        let selected =
            Array.init c (fun q -> int32 $"column index {q}" |> inRange $"column index {q}" 0 (d - 1))

        let rowIndices = Array.zeroCreate c
        let values = Array.zeroCreate c

        for q in 0 .. c - 1 do
            let count =
                int32 $"the nonzero count of column {q}"
                |> inRange $"nonzero count of column {q}" 0 n

            need (12L * int64 count) $"the nonzeros of column {q}"
            let rows = Array.zeroCreate count
            let vals = Array.zeroCreate count

            for p in 0 .. count - 1 do
                rows[p] <- reader.ReadInt32() |> inRange $"row index {p} of column {q}" 0 (n - 1)
                vals[p] <- reader.ReadDouble()

                if not (Double.IsFinite vals[p]) then
                    fail $"value {p} of column {q} is {vals[p]}, not finite"

            rowIndices[q] <- rows
            values[q] <- vals

        need (8L * int64 c * int64 d) "X"
        let x = Array.init (c * d) (fun _ -> reader.ReadDouble())

        match Array.tryFindIndex (fun v -> not (Double.IsFinite v)) x with
        | Some p -> fail $"X[{p % c}, {p / c}] is {x[p]}, not finite"
        | None -> ()

        if reader.BaseStream.Position <> reader.BaseStream.Length then
            fail $"{reader.BaseStream.Length - reader.BaseStream.Position} bytes of trailing data"

        {
            Rows = n
            Columns = d
            Selected = selected
            RowIndices = rowIndices
            Values = values
            X = Matrix<float>.Build.Dense(c, d, x)
        }
